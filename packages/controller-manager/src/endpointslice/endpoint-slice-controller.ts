import {
  ApiError, isNamespaceTerminating, ENDPOINTSLICES, NODES, PODS, realClock, runWorkers, SERVICES, silentLogger, WorkQueue,
  type ApiClient, type Clock, type EndpointSlice, type InformerFactory, type Logger, type Node, type Pod, type Service,
  type SharedInformer,
} from '@k8ts/api';
import {
  enqueueServicesAndTheirPods, LAST_CHANGE_TRIGGER_TIME, rfc3339Nano, serviceSelector,
  TriggerTimeTracker,
} from '../endpoint-util.js';
import {
  CONTROLLER_NAME, DEFAULT_MAX_ENDPOINTS_PER_SLICE, LABEL_MANAGED_BY, LABEL_SERVICE_NAME, reconcileSlices,
} from './reconciler.js';

export interface EndpointSliceControllerDeps {
  client: ApiClient;
  informers: InformerFactory;
  log?: Logger;
  clock?: Clock;
  /** `--max-endpoints-per-slice` (default 100). */
  maxEndpointsPerSlice?: number;
}

/** Thrown when the slice cache has not yet seen this controller's own writes: the sync is retried (StaleInformerCache). */
export class StaleInformerCacheError extends Error {}

const serviceKeyOf = (slice: EndpointSlice) => {
  const name = slice.metadata?.labels?.[LABEL_SERVICE_NAME];
  return name && slice.metadata?.labels?.[LABEL_MANAGED_BY] === CONTROLLER_NAME ? `${slice.metadata!.namespace}/${name}` : undefined;
};
const rv = (s: EndpointSlice) => { const v = s.metadata?.resourceVersion ?? ''; return /^\d+$/.test(v) ? BigInt(v) : 0n; };

/**
 * Keeps the EndpointSlices of each Service with a selector (upstream's endpointslice controller): one endpoint per
 * pod with an IP, conditions ready/serving/terminating, at most `--max-endpoints-per-slice` per slice, labelled
 * with the service name and this controller as manager and owned by the Service.
 */
export class EndpointSliceController {
  readonly queue: WorkQueue<string>;
  private readonly services: SharedInformer<Service>;
  private readonly pods: SharedInformer<Pod>;
  private readonly nodes: SharedInformer<Node>;
  private readonly slices: SharedInformer<EndpointSlice>;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly triggerTimes = new TriggerTimeTracker();
  private readonly max: number;
  /** Per Service key, the slices written and not yet seen in the cache: name → resourceVersion, or null when deleted. */
  private readonly written = new Map<string, Map<string, bigint | null>>();

  constructor(private readonly deps: EndpointSliceControllerDeps) {
    this.clock = deps.clock ?? realClock;
    this.log = (deps.log ?? silentLogger).child({ controller: 'endpointslice' });
    this.max = deps.maxEndpointsPerSlice ?? DEFAULT_MAX_ENDPOINTS_PER_SLICE;
    this.queue = new WorkQueue<string>({ clock: this.clock });
    this.services = deps.informers.informerFor<Service>(SERVICES);
    this.pods = deps.informers.informerFor<Pod>(PODS);
    this.nodes = deps.informers.informerFor<Node>(NODES);
    this.slices = deps.informers.informerFor<EndpointSlice>(ENDPOINTSLICES);
    enqueueServicesAndTheirPods(this.services, this.pods, this.queue);
    // A managed slice changed or went: its Service is synced again (it puts back what someone else changed).
    const onSlice = (slice: EndpointSlice) => { const k = serviceKeyOf(slice); if (k) this.queue.add(k); };
    this.slices.addHandler({
      onAdd: onSlice,
      onUpdate: (_o, s) => onSlice(s),
      // A deletion supersedes whatever we wrote to that slice: stop waiting to see it.
      onDelete: (s) => { const k = serviceKeyOf(s); if (k) this.written.get(k)?.delete(s.metadata!.name!); onSlice(s); },
    });
  }

  /** Waits for the caches, then syncs with `workers` workers until the signal aborts. */
  async run(signal: AbortSignal, workers = 5): Promise<void> {
    await Promise.all([this.services, this.pods, this.nodes, this.slices].map((i) => i.waitForSync(signal))).catch(() => undefined);
    if (signal.aborted) return;
    await runWorkers(this.queue, (key) => this.sync(key), {
      workers, log: this.log, signal, keyField: 'service', isRequeue: (err) => err instanceof StaleInformerCacheError,
    });
  }

  /** Converges the slices of one Service by key. Idempotent; never called concurrently for the same key. */
  async sync(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    const svc = this.services.get(key);
    if (!svc) {
      // Its slices are owned by it: the garbage collector deletes them.
      this.triggerTimes.delete(key);
      this.written.delete(key);
      return;
    }
    if (svc.spec?.type === 'ExternalName') return;
    const selector = serviceSelector(svc);
    if (!selector) return;

    const existing = this.slices.lister().listNamespace(namespace, `${LABEL_SERVICE_NAME}=${name},${LABEL_MANAGED_BY}=${CONTROLLER_NAME}`);
    if (this.stale(key, existing)) throw new StaleInformerCacheError(`EndpointSlice informer cache is out of date for service ${key}`);
    const live = existing.filter((s) => !s.metadata?.deletionTimestamp);
    const pods = this.pods.lister().listNamespace(namespace, selector);
    const trigger = this.triggerTimes.compute(key, svc, pods);
    const triggerTime = trigger.time;
    const changes = reconcileSlices(svc, pods, live, (n) => this.nodes.get(n), this.max);
    if (!changes.create.length && !changes.update.length && !changes.delete.length) { trigger.commit(); return; }

    const stamp = (s: EndpointSlice) => {
      const annotations = { ...(s.metadata!.annotations ?? {}) };
      if (triggerTime) annotations[LAST_CHANGE_TRIGGER_TIME] = rfc3339Nano(triggerTime); else delete annotations[LAST_CHANGE_TRIGGER_TIME];
      if (Object.keys(annotations).length) s.metadata!.annotations = annotations; else delete s.metadata!.annotations;
      return s;
    };
    const track = this.written.get(key) ?? new Map<string, bigint | null>();
    this.written.set(key, track);
    try {
      for (const s of changes.create) {
        const made = await this.deps.client.create<EndpointSlice>(ENDPOINTSLICES, namespace, stamp(s));
        track.set(made.metadata!.name!, rv(made));
      }
      for (const s of changes.update) {
        const made = await this.deps.client.update<EndpointSlice>(ENDPOINTSLICES, namespace, stamp(s));
        track.set(made.metadata!.name!, rv(made));
      }
      for (const s of changes.delete) {
        try {
          await this.deps.client.delete(ENDPOINTSLICES, namespace, s.metadata!.name!);
        } catch (e) {
          if (!(e instanceof ApiError && e.isNotFound)) throw e;
        }
        track.set(s.metadata!.name!, null);
      }
    } catch (e) {
      // The namespace is going away: nothing to write, and nothing to retry.
      if (isNamespaceTerminating(e)) return;
      throw e;
    }
    trigger.commit();
    this.log.debug({ service: key, created: changes.create.length, updated: changes.update.length, deleted: changes.delete.length }, 'reconciled endpoint slices');
  }

  /** Whether the cache still misses a write of ours; forgets the writes it has caught up with (EndpointSliceTracker). */
  private stale(key: string, cached: readonly EndpointSlice[]): boolean {
    const track = this.written.get(key);
    if (!track) return false;
    const byName = new Map(cached.map((s) => [s.metadata!.name!, s]));
    let stale = false;
    for (const [name, want] of track) {
      const got = byName.get(name);
      const caughtUp = want === null ? !got || !!got.metadata?.deletionTimestamp : !!got && rv(got) >= want;
      if (caughtUp) track.delete(name); else stale = true;
    }
    if (!track.size) this.written.delete(key);
    return stale;
  }
}
