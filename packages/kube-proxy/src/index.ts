export { buildServiceMap, readyEndpoints, servicePortName, DEFAULT_AFFINITY_TIMEOUT_SECONDS } from './service-map.js';
export type { ServiceMap, ServicePortInfo, EndpointInfo } from './service-map.js';
export type { Proxier, SyncResult } from './proxier.js';
export { SyncRunner } from './sync-runner.js';
export type { SyncRunnerOptions } from './sync-runner.js';
export { RoundRobinLoadBalancer } from './load-balancer.js';
export { UserspaceProxier } from './userspace.js';
export type { UserspaceProxierOptions } from './userspace.js';
export {
  renderRules, renderCleanup, parseExisting, svcChain, sepChain, extChain, JUMP_RULES, DEFAULT_SERVICE_CIDR, MASQ_MARK,
} from './iptables-rules.js';
export type { RuleOptions, ExistingRules, JumpRule } from './iptables-rules.js';
export { IptablesProxier, checkIptables } from './iptables.js';
export type { IptablesProxierOptions } from './iptables.js';
export { KubeProxy } from './kube-proxy.js';
export type { KubeProxyOptions, ProxyMetrics } from './kube-proxy.js';
export { acquireIptablesLock, IPTABLES_LOCK } from './host-lock.js';
