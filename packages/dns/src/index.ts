export { ClusterZone, isHeadless, INDEX, SERVICE_NAME_LABEL, podIndexers, serviceIndexers, sliceIndexers } from './zone.js';
export type { ZoneAnswer, ZoneOptions, ZoneRecord } from './zone.js';
export { DnsServer, Forwarder, hostNameservers, resolvConfNameservers } from './server.js';
export type { DnsServerOptions, DnsStats, ForwarderOptions } from './server.js';
export { registerKubeDns, kubeDnsService, kubeDnsEndpoints, kubeDnsEndpointSlice, MANAGED_BY } from './register.js';
export type { KubeDnsOptions } from './register.js';
