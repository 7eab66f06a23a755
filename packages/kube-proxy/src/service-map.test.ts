import { describe, expect, it } from 'vitest';
import type { EndpointSlice, Service } from '@k8ts/api';
import { buildServiceMap, readyEndpoints } from './service-map.js';

const svc = (name: string, spec: Service['spec'], ns = 'default'): Service => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec });
const slice = (svcName: string, name: string, ports: { name?: string; port: number; protocol?: string }[],
  endpoints: { ip: string; ready?: boolean; terminating?: boolean }[], ns = 'default', addressType = 'IPv4'): EndpointSlice => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType,
  metadata: { name, namespace: ns, labels: { 'kubernetes.io/service-name': svcName } },
  ports,
  endpoints: endpoints.map((e) => ({ addresses: [e.ip], conditions: { ...(e.ready === undefined ? {} : { ready: e.ready }), ...(e.terminating ? { terminating: true } : {}) } })),
});

const summary = (services: Service[], slices: EndpointSlice[]) =>
  [...buildServiceMap(services, slices).values()].map((sp) => ({
    name: sp.name, vip: `${sp.clusterIP}:${sp.port}/${sp.protocol}`, nodePort: sp.nodePort, affinity: sp.affinityTimeoutSeconds,
    ready: readyEndpoints(sp).map((e) => `${e.ip}:${e.port}`), all: sp.endpoints.length,
  }));

describe('buildServiceMap', () => {
  const web = svc('web', { clusterIP: '10.96.0.20', type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080, protocol: 'TCP' }] });
  const cases: { what: string; services: Service[]; slices: EndpointSlice[]; want: ReturnType<typeof summary> }[] = [
    { what: 'a service without slices has no endpoints', services: [web], slices: [],
      want: [{ name: 'default/web:http', vip: '10.96.0.20:80/TCP', nodePort: 30080, affinity: 0, ready: [], all: 0 }] },
    { what: 'ready endpoints from two slices, sorted and deduplicated; unset ready counts as ready', services: [web],
      slices: [slice('web', 'web-a', [{ name: 'http', port: 8080 }], [{ ip: '10.1.0.10', ready: true }, { ip: '10.1.0.9' }]),
        slice('web', 'web-b', [{ name: 'http', port: 8080 }], [{ ip: '10.1.0.10', ready: false }, { ip: '10.1.0.2', ready: false }])],
      want: [{ name: 'default/web:http', vip: '10.96.0.20:80/TCP', nodePort: 30080, affinity: 0, ready: ['10.1.0.9:8080', '10.1.0.10:8080'], all: 3 }] },
    { what: 'publishNotReadyAddresses uses unready but not terminating endpoints',
      services: [svc('db', { clusterIP: '10.96.0.30', publishNotReadyAddresses: true, ports: [{ port: 5432 }] })],
      slices: [slice('db', 'db-a', [{ port: 5432 }], [{ ip: '10.1.0.3', ready: false }, { ip: '10.1.0.4', ready: false, terminating: true }])],
      want: [{ name: 'default/db', vip: '10.96.0.30:5432/TCP', nodePort: 0, affinity: 0, ready: ['10.1.0.3:5432'], all: 2 }] },
    { what: 'multi-port: endpoint ports matched by name and protocol',
      services: [svc('dns', { clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] }, 'kube-system')],
      slices: [slice('dns', 'dns-a', [{ name: 'dns', port: 1053, protocol: 'UDP' }, { name: 'dns-tcp', port: 1054, protocol: 'TCP' }], [{ ip: '10.1.0.5' }], 'kube-system')],
      want: [
        { name: 'kube-system/dns:dns', vip: '10.96.0.10:53/UDP', nodePort: 0, affinity: 0, ready: ['10.1.0.5:1053'], all: 1 },
        { name: 'kube-system/dns:dns-tcp', vip: '10.96.0.10:53/TCP', nodePort: 0, affinity: 0, ready: ['10.1.0.5:1054'], all: 1 },
      ] },
    { what: 'ClientIP affinity: default timeout and a given one',
      services: [svc('a', { clusterIP: '10.96.0.40', sessionAffinity: 'ClientIP', ports: [{ port: 80 }] }),
        svc('b', { clusterIP: '10.96.0.41', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } }, ports: [{ port: 80 }] })],
      slices: [],
      want: [
        { name: 'default/a', vip: '10.96.0.40:80/TCP', nodePort: 0, affinity: 10800, ready: [], all: 0 },
        { name: 'default/b', vip: '10.96.0.41:80/TCP', nodePort: 0, affinity: 60, ready: [], all: 0 },
      ] },
    { what: 'headless and ExternalName services are not proxied; slices of other services, namespaces and IPv6 ignored',
      services: [svc('headless', { clusterIP: 'None', ports: [{ port: 80 }] }), svc('ext', { type: 'ExternalName', externalName: 'example.com' }), web],
      slices: [slice('web', 'other-ns', [{ name: 'http', port: 8080 }], [{ ip: '10.1.0.7' }], 'other'),
        slice('web', 'v6', [{ name: 'http', port: 8080 }], [{ ip: 'fd00::1' }], 'default', 'IPv6'),
        slice('headless', 'h', [{ port: 80 }], [{ ip: '10.1.0.8' }])],
      want: [{ name: 'default/web:http', vip: '10.96.0.20:80/TCP', nodePort: 30080, affinity: 0, ready: [], all: 0 }] },
    { what: 'a slice port without a matching service port name is ignored', services: [web],
      slices: [slice('web', 'w', [{ name: 'https', port: 8443 }], [{ ip: '10.1.0.11' }])],
      want: [{ name: 'default/web:http', vip: '10.96.0.20:80/TCP', nodePort: 30080, affinity: 0, ready: [], all: 0 }] },
  ];
  it.each(cases)('$what', ({ services, slices, want }) => {
    expect(summary(services, slices)).toEqual(want);
  });
});
