export { buildApp } from './app.js';
export type { AppOptions } from './app.js';
export { Storage } from './storage.js';
export { WatchCache } from './watch-cache.js';
export { strategicMergePatch } from './patch/strategic-merge.js';
export { patchMetaFor } from './registry/index.js';
export { mergePatch } from './patch/merge-patch.js';
export { admit as admitDefaultTolerationSeconds, DEFAULT_TOLERATION_SECONDS } from './admission/default-toleration-seconds.js';
export type { DefaultTolerationSecondsOptions } from './admission/default-toleration-seconds.js';
