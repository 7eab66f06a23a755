export { Scheduler, fitErrorMessage } from './scheduler.js';
export type { SchedulerOptions, ScheduleResult } from './scheduler.js';
export { SchedulingQueue } from './queue.js';
export { SchedulerCache } from './cache.js';
export { REGISTRY, defaultProfile, loadProfile } from './plugins/registry.js';
export type { Profile } from './plugins/registry.js';
export type { NodeInfo, Status, CycleState, FilterPlugin, ScorePlugin, PreFilterPlugin } from './types.js';
