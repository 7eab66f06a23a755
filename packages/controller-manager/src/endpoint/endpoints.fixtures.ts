import type { Pod, Service } from '@k8ts/api';

/** Fixtures of the endpoint and endpointslice controller tests (not built). */
const T0 = Date.parse('2026-12-01T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

/** A ClusterIP Service selecting app=web, port http 80 → 8080, created a minute before T0. */
export function service(name: string, spec: Service['spec'] = {}, labels?: Record<string, string>): Service {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name, namespace: 'default', uid: `svc-${name}`, resourceVersion: '5', creationTimestamp: iso(T0 - 60_000), ...(labels ? { labels } : {}) },
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], clusterIP: '10.96.0.20', ...spec },
  };
}

let seq = 0;
/** A pod of app=web on node-1, Running and Ready since 30 s before T0, with the next IP unless told. */
export function pod(name: string, o: {
  ip?: string | null; ready?: boolean; readyAt?: number; node?: string; labels?: Record<string, string>; phase?: string;
  deleting?: boolean; ports?: { name: string; containerPort: number; protocol?: string }[]; hostname?: string; subdomain?: string;
} = {}): Pod {
  const ready = o.ready ?? true;
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name, namespace: 'default', uid: `uid-${name}`, resourceVersion: String(++seq), labels: o.labels ?? { app: 'web' },
      ...(o.deleting ? { deletionTimestamp: iso(T0) } : {}),
    },
    spec: {
      containers: [{ name: 'app', image: 'x', ...(o.ports ? { ports: o.ports } : {}) }],
      ...(o.node === undefined ? { nodeName: 'node-1' } : o.node ? { nodeName: o.node } : {}),
      ...(o.hostname ? { hostname: o.hostname } : {}), ...(o.subdomain ? { subdomain: o.subdomain } : {}),
    },
    status: {
      phase: (o.phase ?? 'Running') as 'Running',
      ...(o.ip === null ? {} : { podIP: o.ip ?? `10.244.0.${seq}`, podIPs: [{ ip: o.ip ?? `10.244.0.${seq}` }] }),
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: iso(o.readyAt ?? T0 - 30_000) }],
    },
  };
}
