import {
  ApiError, ENDPOINTS, ENDPOINTSLICES, SERVICES, type ApiClient, type EndpointSlice, type Endpoints, type KubeObjectLike, type ResourceDef, type Service,
} from '@k8ts/api';
import { SERVICE_NAME_LABEL } from './zone.js';

/** Where the DNS server is served from, and the Service that fronts it. */
export interface KubeDnsOptions {
  /** The address pods reach the server on (its bind address, or the one advertised for a wildcard bind). */
  address: string;
  /** The server's port (53 when root, else 10053): the target port of the Service's ports. */
  port: number;
  /** The Service's ClusterIP (upstream's kubeadm: the tenth address of the service range). */
  clusterIP: string;
  namespace?: string;
  name?: string;
}

/** The manager label value of the EndpointSlice this process writes (not the endpointslice controller's). */
export const MANAGED_BY = 'k8ts-dns';

/** The kube-dns Service (no selector, ports dns/UDP and dns-tcp/TCP on 53), as kubeadm's CoreDNS addon. */
export function kubeDnsService(o: KubeDnsOptions): Service {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: o.name ?? 'kube-dns', namespace: o.namespace ?? 'kube-system', labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/name': 'CoreDNS' } },
    spec: {
      type: 'ClusterIP', clusterIP: o.clusterIP,
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: o.port },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: o.port },
      ],
    },
  };
}

/** Its Endpoints, written by hand as for any Service without a selector (and not to be mirrored: we write the slice). */
export function kubeDnsEndpoints(o: KubeDnsOptions): Endpoints {
  return {
    apiVersion: 'v1', kind: 'Endpoints',
    metadata: { name: o.name ?? 'kube-dns', namespace: o.namespace ?? 'kube-system', labels: { 'k8s-app': 'kube-dns', 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
    subsets: [{ addresses: [{ ip: o.address }], ports: [{ name: 'dns', port: o.port, protocol: 'UDP' }, { name: 'dns-tcp', port: o.port, protocol: 'TCP' }] }],
  };
}

/** Its EndpointSlice, the one kube-proxy reads. */
export function kubeDnsEndpointSlice(o: KubeDnsOptions): EndpointSlice {
  const name = o.name ?? 'kube-dns';
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: `${name}-${MANAGED_BY}`, namespace: o.namespace ?? 'kube-system', labels: { [SERVICE_NAME_LABEL]: name, 'endpointslice.kubernetes.io/managed-by': MANAGED_BY, 'k8s-app': 'kube-dns' } },
    addressType: o.address.includes(':') ? 'IPv6' : 'IPv4',
    endpoints: [{ addresses: [o.address], conditions: { ready: true, serving: true, terminating: false } }],
    ports: [{ name: 'dns', port: o.port, protocol: 'UDP' }, { name: 'dns-tcp', port: o.port, protocol: 'TCP' }],
  };
}

/**
 * Makes kube-system/kube-dns and its endpoints point at this server: the Service is created when missing (kept
 * as it is otherwise), the Endpoints and EndpointSlice are created or overwritten with this address and port.
 */
export async function registerKubeDns(client: ApiClient, o: KubeDnsOptions): Promise<void> {
  const ns = o.namespace ?? 'kube-system';
  await createIfMissing(client, SERVICES, ns, kubeDnsService(o));
  await upsert(client, ENDPOINTS, ns, kubeDnsEndpoints(o), (cur, want) => ({ ...cur, metadata: { ...cur.metadata, labels: { ...cur.metadata?.labels, ...want.metadata?.labels } }, subsets: want.subsets }));
  await upsert(client, ENDPOINTSLICES, ns, kubeDnsEndpointSlice(o), (cur, want) => ({ ...cur, addressType: want.addressType, endpoints: want.endpoints, ports: want.ports }));
}

async function createIfMissing(client: ApiClient, def: ResourceDef, ns: string, obj: KubeObjectLike): Promise<void> {
  try {
    await client.create(def, ns, obj);
  } catch (err) {
    if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) throw err;
  }
}

async function upsert<T extends KubeObjectLike>(client: ApiClient, def: ResourceDef, ns: string, want: T, merge: (cur: T, want: T) => T): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    let cur: T;
    try {
      cur = await client.get<T>(def, ns, want.metadata!.name!);
    } catch (err) {
      if (!(err instanceof ApiError && err.isNotFound)) throw err;
      try {
        await client.create(def, ns, want);
        return;
      } catch (e) {
        if (e instanceof ApiError && e.reason === 'AlreadyExists' && attempt < 3) continue;
        throw e;
      }
    }
    try {
      await client.update(def, ns, merge(structuredClone(cur), want));
      return;
    } catch (err) {
      if (err instanceof ApiError && err.reason === 'Conflict' && attempt < 3) continue;
      throw err;
    }
  }
}
