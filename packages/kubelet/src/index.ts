export { Kubelet } from './kubelet.js';
export type { KubeletOptions } from './kubelet.js';
export { PodSyncer, containerHash, gracePeriod } from './pod-sync.js';
export { computePodStatus, instancesOf } from './pod-status.js';
export { buildKubeletServer } from './server.js';
export { LABELS, ImagePullError } from './runtime.js';
export type { ContainerRuntime, RuntimeContainer, ContainerConfig, SandboxConfig } from './runtime.js';
export { DockerRuntime } from './docker/docker-runtime.js';
export { StatsCollector } from './stats.js';
