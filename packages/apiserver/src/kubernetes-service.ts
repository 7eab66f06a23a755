import { isDeepStrictEqual } from 'node:util';
import { ApiError, ENDPOINTS, ENDPOINTSLICES, SERVICES, type KubeObject, type Logger, type ResourceDef } from '@k8ts/api';
import type { PostStartHook } from './bootstrap.js';
import type { ResourceStore } from './rest-store.js';
import type { CacheEvent } from './watch-cache.js';

/*
 * The `kubernetes` Service in `default` and its Endpoints and EndpointSlice, kept as upstream's controlplane
 * "bootstrap-controller" keeps them (pkg/controlplane/controller/kubernetesservice and the endpoint
 * reconciler): recreated when deleted, put back when changed, pointing at this apiserver's address and port.
 */

export const KUBERNETES_SERVICE = 'kubernetes';
const NAMESPACE = 'default';
/** The Service's port and cluster IP: upstream's defaults (443, the first address of 10.96.0.0/12). */
const SERVICE_PORT = 443;
const SERVICE_IP = '10.96.0.1';

export interface ServiceStores { services: ResourceStore; endpoints: ResourceStore; endpointSlices: ResourceStore }

/** Where clients reach this apiserver (upstream's --advertise-address and --secure-port). */
export interface ApiserverEndpoint { ip: string; port: number }

/**
 * A post-start hook (upstream's "bootstrap-controller") that keeps running until stop(): reconciles once when run,
 * then when the apiserver's endpoint becomes known, on every watch event about one of the three objects, and every
 * `intervalMs` (upstream's --endpoint-reconciler interval, 10 s). Runs never overlap.
 */
export class KubernetesServiceReconciler implements PostStartHook {
  readonly name = 'bootstrap-controller';
  private stores: ServiceStores | undefined;
  private endpoint: ApiserverEndpoint | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private subs: { close(): void }[] = [];

  constructor(private readonly log: Logger, private readonly defaultTargetPort = 6443, private readonly intervalMs = 10_000) {}

  /** The hook: reconciles once, then watches the three objects and reconciles periodically, until stop(). */
  async run(stores: ReadonlyMap<ResourceDef, ResourceStore>): Promise<void> {
    this.stores = { services: stores.get(SERVICES)!, endpoints: stores.get(ENDPOINTS)!, endpointSlices: stores.get(ENDPOINTSLICES)! };
    await this.reconcile();
    this.start();
  }

  /** Tells the reconciler where the apiserver listens, and reconciles. */
  setEndpoint(endpoint: ApiserverEndpoint): void {
    this.endpoint = endpoint;
    this.trigger();
  }

  private start(): void {
    const { services, endpoints, endpointSlices } = this.stores!;
    for (const store of [services, endpoints, endpointSlices]) this.watch(store);
    this.timer = setInterval(() => this.trigger(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    for (const s of this.subs) s.close();
  }

  /** Runs a reconcile soon; one asked for while another runs follows it. */
  trigger(): void {
    if (this.stopped || !this.stores) return;
    if (this.running) { this.again = true; return; }
    this.running = this.reconcile()
      .catch((err: unknown) => this.log.warn({ err }, 'reconciling the kubernetes service failed; retrying'))
      .finally(() => {
        this.running = undefined;
        if (this.again) { this.again = false; this.trigger(); }
      });
  }

  /** One pass: the Service, then (once the endpoint is known) its Endpoints and EndpointSlice. */
  async reconcile(): Promise<void> {
    const stores = this.stores;
    if (!stores) return;
    const port = this.endpoint?.port ?? this.defaultTargetPort;
    await this.ensure(stores.services, {
      metadata: { name: KUBERNETES_SERVICE, labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: { type: 'ClusterIP', clusterIP: SERVICE_IP, ports: [{ name: 'https', port: SERVICE_PORT, protocol: 'TCP', targetPort: port }], sessionAffinity: 'None' },
    // The cluster IP cannot change; an existing Service gets its type and ports back, as upstream.
    }, (svc) => ({ spec: { type: svc.spec.type, ports: svc.spec.ports } }));
    if (!this.endpoint) return;
    const { ip } = this.endpoint;
    const ports = [{ name: 'https', port, protocol: 'TCP' }];
    await this.ensure(stores.endpoints, {
      metadata: { name: KUBERNETES_SERVICE, labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
      subsets: [{ addresses: [{ ip }], ports }],
    }, (ep) => ({ metadata: { labels: ep.metadata.labels }, subsets: ep.subsets }));
    await this.ensure(stores.endpointSlices, {
      metadata: { name: KUBERNETES_SERVICE, labels: { 'kubernetes.io/service-name': KUBERNETES_SERVICE } },
      addressType: ip.includes(':') ? 'IPv6' : 'IPv4',
      endpoints: [{ addresses: [ip], conditions: { ready: true } }],
      ports,
    }, (slice) => ({ metadata: { labels: slice.metadata.labels }, addressType: slice.addressType, endpoints: slice.endpoints, ports: slice.ports }));
  }

  /**
   * Creates `wanted` when missing; otherwise, when the fields `owned` picks from it are not all in the stored
   * object (defaults may add more), writes them over it.
   */
  private async ensure(store: ResourceStore, wanted: any, owned: (obj: any) => any): Promise<void> {
    const current = await store.get(NAMESPACE, KUBERNETES_SERVICE).catch((err: unknown) => {
      if (err instanceof ApiError && err.isNotFound) return undefined;
      throw err;
    });
    if (!current) {
      await store.create(NAMESPACE, wanted).catch((err: unknown) => {
        if (!(err instanceof ApiError && err.isAlreadyExists)) throw err;
      });
      this.log.info({ resource: store.def.resource }, 'created the kubernetes service object');
      return;
    }
    const want = owned(wanted);
    if (contains(current, want)) return;
    await store.mutate(NAMESPACE, KUBERNETES_SERVICE, (obj: any) => mergeOwned(obj, want));
    this.log.info({ resource: store.def.resource }, 'reconciled the kubernetes service object');
  }

  private watch(store: ResourceStore): void {
    const subscribe = () => {
      if (this.stopped) return;
      const sub = store.cache.subscribe(store.cache.revision || undefined, (ev: CacheEvent) => {
        const meta = ev.object.metadata;
        if (meta?.namespace === NAMESPACE && meta.name === KUBERNETES_SERVICE) this.trigger();
      }, () => setTimeout(subscribe, 100).unref());
      this.subs.push(sub);
    };
    subscribe();
  }
}

/** Whether every field of `part` is in `whole` with the same value (arrays: same length, each element contained). */
function contains(whole: unknown, part: unknown): boolean {
  if (Array.isArray(part)) return Array.isArray(whole) && whole.length === part.length && part.every((p, i) => contains(whole[i], p));
  if (typeof part === 'object' && part !== null) {
    if (typeof whole !== 'object' || whole === null || Array.isArray(whole)) return false;
    return Object.entries(part).every(([k, v]) => contains((whole as Record<string, unknown>)[k], v));
  }
  return isDeepStrictEqual(whole, part);
}

/** The object with the owned fields written over it (maps merged, everything else replaced). */
function mergeOwned(obj: any, owned: any): KubeObject {
  for (const [k, v] of Object.entries(owned)) {
    if (k === 'metadata') obj.metadata = { ...obj.metadata, labels: { ...obj.metadata?.labels, ...(v as any).labels } };
    else if (k === 'spec') obj.spec = { ...obj.spec, ...(v as object) };
    else obj[k] = v;
  }
  return obj;
}
