import type { EndpointSlice, Service } from '@k8ts/api';
import type { Backend } from './routes.js';

/** An address requests for a backend go to. */
export interface Upstream {
  ip: string;
  port: number;
}

/** Why a backend has no upstream: the Service or its port is missing, or no endpoint is ready. */
export type Resolution = { upstreams: Upstream[] } | { error: string };

export const backendKey = (b: Backend): string => `${b.namespace}/${b.service}:${b.port.name ?? b.port.number}`;

/**
 * The ready endpoints of a backend, straight from the Service's EndpointSlices (as ingress-nginx, not through the
 * ClusterIP): the Service port by number or name, then the slice port of the same name and TCP. Headless Services
 * work too. Ready means `conditions.ready` is not false; terminating endpoints are left out.
 */
export function resolveBackend(b: Backend, service: Service | undefined, slices: readonly EndpointSlice[]): Resolution {
  if (!service) return { error: `service "${b.namespace}/${b.service}" not found` };
  if (service.spec?.type === 'ExternalName') return { error: `service "${b.namespace}/${b.service}" is ExternalName, which is not served` };
  const port = (service.spec?.ports ?? []).find((p) => (b.port.name ? p.name === b.port.name : p.port === b.port.number));
  if (!port) return { error: `service "${b.namespace}/${b.service}" has no port ${b.port.name ?? b.port.number}` };
  if ((port.protocol ?? 'TCP') !== 'TCP') return { error: `service "${b.namespace}/${b.service}" port ${port.port} is not TCP` };
  const seen = new Set<string>();
  const upstreams: Upstream[] = [];
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4') continue;
    const sp = (slice.ports ?? []).find((p) => (p.name ?? '') === (port.name ?? '') && (p.protocol ?? 'TCP') === 'TCP');
    if (!sp?.port) continue;
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready === false || ep.conditions?.terminating === true) continue;
      const ip = ep.addresses?.[0];
      if (!ip || seen.has(`${ip}:${sp.port}`)) continue;
      seen.add(`${ip}:${sp.port}`);
      upstreams.push({ ip, port: sp.port });
    }
  }
  upstreams.sort((x, y) => (x.ip < y.ip ? -1 : x.ip > y.ip ? 1 : x.port - y.port));
  if (!upstreams.length) return { error: `service "${b.namespace}/${b.service}" has no ready endpoint` };
  return { upstreams };
}
