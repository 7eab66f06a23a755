import type { EndpointSlice, Service } from '@k8ts/api';

/** Upstream's default ClientIP affinity timeout (3 hours). */
export const DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10_800;

/** One endpoint of a service port: `ip:port`, as kube-proxy's endpointInfo. */
export interface EndpointInfo {
  ip: string;
  port: number;
  /** Ready (or, for a Service with publishNotReadyAddresses, any endpoint not terminating). */
  ready: boolean;
  nodeName?: string;
}

/** What the proxier needs of one Service port (upstream's ServicePort plus its endpoints). */
export interface ServicePortInfo {
  /** `namespace/name:portName` (`namespace/name` when the port has no name), as upstream's ServicePortName. */
  name: string;
  namespace: string;
  service: string;
  portName: string;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  clusterIP: string;
  port: number;
  /** 0 when the Service has none. */
  nodePort: number;
  type: string;
  /** 0 without ClientIP affinity. */
  affinityTimeoutSeconds: number;
  /** Every endpoint the slices list for this port (deduplicated by ip:port), sorted by ip then port. */
  endpoints: EndpointInfo[];
}

/** Service port name → info; iteration in sorted key order so that rule text is stable. */
export type ServiceMap = Map<string, ServicePortInfo>;

/** The ServicePortName string, as upstream's `ServicePortName.String()`. */
export function servicePortName(namespace: string, name: string, portName: string): string {
  return portName ? `${namespace}/${name}:${portName}` : `${namespace}/${name}`;
}

/** Whether a Service has a ClusterIP kube-proxy programs (not headless, not ExternalName). */
function proxiable(svc: Service): boolean {
  const ip = svc.spec?.clusterIP;
  return !!ip && ip !== 'None' && svc.spec?.type !== 'ExternalName';
}

function compareIp(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Builds the service map from Services and EndpointSlices (pure; upstream's ServiceChangeTracker and
 * EndpointsChangeTracker folded into one function). Slices are matched to their Service by the
 * `kubernetes.io/service-name` label; endpoint ports by port name and protocol. An endpoint listed by two slices
 * counts once (ready if either says so). A slice endpoint is ready when `conditions.ready` is not false (unset means
 * ready, as upstream); with `publishNotReadyAddresses` every non-terminating endpoint is used.
 */
export function buildServiceMap(services: readonly Service[], slices: readonly EndpointSlice[]): ServiceMap {
  const slicesByService = new Map<string, EndpointSlice[]>();
  for (const slice of slices) {
    const svcName = slice.metadata?.labels?.['kubernetes.io/service-name'];
    if (!svcName || slice.addressType !== 'IPv4') continue;
    const key = `${slice.metadata?.namespace ?? ''}/${svcName}`;
    let list = slicesByService.get(key);
    if (!list) slicesByService.set(key, list = []);
    list.push(slice);
  }
  const entries: ServicePortInfo[] = [];
  for (const svc of services) {
    if (!proxiable(svc)) continue;
    const namespace = svc.metadata?.namespace ?? '';
    const name = svc.metadata?.name ?? '';
    const publishNotReady = svc.spec?.publishNotReadyAddresses === true;
    const affinity = svc.spec?.sessionAffinity === 'ClientIP'
      ? svc.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_TIMEOUT_SECONDS : 0;
    const svcSlices = slicesByService.get(`${namespace}/${name}`) ?? [];
    for (const port of svc.spec?.ports ?? []) {
      const portName = port.name ?? '';
      const protocol = (port.protocol ?? 'TCP') as ServicePortInfo['protocol'];
      const byAddr = new Map<string, EndpointInfo>();
      for (const slice of svcSlices) {
        const slicePort = (slice.ports ?? []).find((p) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === protocol);
        if (!slicePort?.port) continue;
        for (const ep of slice.endpoints ?? []) {
          const terminating = ep.conditions?.terminating === true;
          const ready = publishNotReady ? !terminating : ep.conditions?.ready !== false;
          const ip = ep.addresses?.[0];
          if (!ip) continue;
          const key = `${ip}:${slicePort.port}`;
          const seen = byAddr.get(key);
          if (seen) { seen.ready ||= ready; continue; }
          byAddr.set(key, { ip, port: slicePort.port, ready, ...(ep.nodeName ? { nodeName: ep.nodeName } : {}) });
        }
      }
      const endpoints = [...byAddr.values()].sort((a, b) => compareIp(a.ip, b.ip) || a.port - b.port);
      entries.push({
        name: servicePortName(namespace, name, portName), namespace, service: name, portName, protocol,
        clusterIP: svc.spec!.clusterIP!, port: port.port, nodePort: port.nodePort ?? 0, type: svc.spec?.type ?? 'ClusterIP',
        affinityTimeoutSeconds: affinity, endpoints,
      });
    }
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.protocol < b.protocol ? -1 : 1));
  return new Map(entries.map((e) => [`${e.name}/${e.protocol}`, e]));
}

/** The ready endpoints of a service port. */
export function readyEndpoints(sp: ServicePortInfo): EndpointInfo[] {
  return sp.endpoints.filter((e) => e.ready);
}
