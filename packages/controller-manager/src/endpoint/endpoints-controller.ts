import {
  ApiError, isNamespaceTerminating, ENDPOINTS, objectKey, PODS, realClock, runWorkers, SERVICES, silentLogger, WorkQueue,
  type ApiClient, type Clock, type Endpoints, type InformerFactory, type Logger, type Pod, type Service, type SharedInformer,
} from '@k8ts/api';
import {
  findPort, HEADLESS_LABEL, LAST_CHANGE_TRIGGER_TIME, enqueueServicesAndTheirPods, podHostname, podIPv4, rfc3339Nano,
  serviceSelector, shouldPodBeInEndpoints, TriggerTimeTracker,
} from '../endpoint-util.js';
import { isPodReady } from '../pods.js';

type Subset = NonNullable<Endpoints['subsets']>[number];
type Address = NonNullable<Subset['addresses']>[number];
type Port = NonNullable<Subset['ports']>[number];

/** Most addresses one Endpoints object carries; more are truncated and flagged (upstream's maxCapacity). */
export const MAX_ENDPOINTS_CAPACITY = 1000;
/** The annotation on an Endpoints object whose addresses were truncated. */
export const OVER_CAPACITY = 'endpoints.kubernetes.io/over-capacity';

export interface EndpointsControllerDeps {
  client: ApiClient;
  informers: InformerFactory;
  log?: Logger;
  clock?: Clock;
}

const portKey = (p: Port) => `${p.name ?? ''}/${p.port}/${p.protocol ?? 'TCP'}/${p.appProtocol ?? ''}`;
const addressKey = (a: Address) => `${a.ip}/${a.targetRef?.uid ?? ''}`;

/**
 * Groups (address, port) pairs into canonical subsets: one subset per distinct port set, addresses and ports
 * sorted, so that equal content compares equal (upstream's endpoints.RepackSubsets).
 */
export function repackSubsets(entries: readonly { address: Address; ready: boolean; port?: Port }[]): Subset[] {
  const byAddress = new Map<string, { address: Address; ready: boolean; ports: Map<string, Port> }>();
  for (const e of entries) {
    const k = `${e.ready}/${addressKey(e.address)}`;
    let a = byAddress.get(k);
    if (!a) byAddress.set(k, a = { address: e.address, ready: e.ready, ports: new Map() });
    if (e.port) a.ports.set(portKey(e.port), e.port);
  }
  const bySet = new Map<string, Subset & { ports: Port[] }>();
  for (const a of byAddress.values()) {
    const ports = [...a.ports.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([, p]) => p);
    const k = ports.map(portKey).join(',');
    let s = bySet.get(k);
    if (!s) bySet.set(k, s = { ports });
    if (a.ready) (s.addresses ??= []).push(a.address); else (s.notReadyAddresses ??= []).push(a.address);
  }
  const byIP = (x: Address, y: Address) => (addressKey(x) < addressKey(y) ? -1 : addressKey(x) > addressKey(y) ? 1 : 0);
  const subsets = [...bySet.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([, s]) => {
    s.addresses?.sort(byIP);
    s.notReadyAddresses?.sort(byIP);
    return s.ports.length ? s : { ...s, ports: undefined };
  });
  return subsets.map((s) => Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)) as Subset);
}

/**
 * Keeps one Endpoints object per Service with a selector (upstream's endpoint controller): the IPs of the pods
 * it selects, ready ones in `addresses` and the others in `notReadyAddresses` (all ready with
 * publishNotReadyAddresses), one subset per set of ports the pods resolve the service ports to.
 * Services without a selector (the `kubernetes` Service among them) keep whatever Endpoints they are given.
 */
export class EndpointsController {
  readonly queue: WorkQueue<string>;
  private readonly services: SharedInformer<Service>;
  private readonly pods: SharedInformer<Pod>;
  private readonly endpoints: SharedInformer<Endpoints>;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly triggerTimes = new TriggerTimeTracker();

  constructor(private readonly deps: EndpointsControllerDeps) {
    this.clock = deps.clock ?? realClock;
    this.log = (deps.log ?? silentLogger).child({ controller: 'endpoint' });
    this.queue = new WorkQueue<string>({ clock: this.clock });
    this.services = deps.informers.informerFor<Service>(SERVICES);
    this.pods = deps.informers.informerFor<Pod>(PODS);
    this.endpoints = deps.informers.informerFor<Endpoints>(ENDPOINTS);
    enqueueServicesAndTheirPods(this.services, this.pods, this.queue);
    // Someone deleted Endpoints we manage: put them back (onEndpointsDelete).
    this.endpoints.addHandler({ onDelete: (ep) => { if (this.services.get(objectKey(ep))) this.queue.add(objectKey(ep)); } });
  }

  /** Waits for the caches, looks at leftover Endpoints of deleted Services, then syncs until the signal aborts. */
  async run(signal: AbortSignal, workers = 5): Promise<void> {
    await Promise.all([this.services.waitForSync(signal), this.pods.waitForSync(signal), this.endpoints.waitForSync(signal)]).catch(() => undefined);
    if (signal.aborted) return;
    // checkLeftoverEndpoints: Endpoints whose Service went while we were down are deleted by their sync.
    for (const ep of this.endpoints.list()) if (!this.services.get(objectKey(ep))) this.queue.add(objectKey(ep));
    await runWorkers(this.queue, (key) => this.sync(key), { workers, log: this.log, signal, keyField: 'service' });
  }

  /** Converges the Endpoints of one Service by key. Idempotent; never called concurrently for the same key. */
  async sync(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    const svc = this.services.get(key);
    if (!svc) {
      this.triggerTimes.delete(key);
      try {
        await this.deps.client.delete(ENDPOINTS, namespace, name);
        this.log.info({ service: key }, 'deleted endpoints of deleted service');
      } catch (e) {
        if (!(e instanceof ApiError && e.isNotFound)) throw e;
      }
      return;
    }
    // ExternalName services receive no endpoints; selector-less ones have user-managed endpoints.
    if (svc.spec?.type === 'ExternalName') return;
    const selector = serviceSelector(svc);
    if (!selector) return;

    const pods = this.pods.lister().listNamespace(namespace, selector);
    const trigger = this.triggerTimes.compute(key, svc, pods);
    const triggerTime = trigger.time;
    const publishNotReady = svc.spec?.publishNotReadyAddresses === true;
    const headless = svc.spec?.clusterIP === 'None';
    const entries: { address: Address; ready: boolean; port?: Port }[] = [];
    for (const pod of pods) {
      if (!shouldPodBeInEndpoints(pod, publishNotReady)) continue;
      const ip = podIPv4(pod);
      if (!ip) continue;
      const hostname = podHostname(pod, svc);
      const address: Address = {
        ip, ...(hostname ? { hostname } : {}), ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
        targetRef: { kind: 'Pod', namespace: pod.metadata!.namespace, name: pod.metadata!.name, uid: pod.metadata!.uid },
      };
      const ready = publishNotReady || isPodReady(pod);
      const ports = svc.spec?.ports ?? [];
      // A headless service without ports still lists its pods (for DNS).
      if (ports.length === 0) { if (headless) entries.push({ address, ready }); continue; }
      for (const sp of ports) {
        const port = findPort(pod, sp);
        if (port === undefined) continue;
        entries.push({
          address, ready,
          port: { ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol ?? 'TCP', ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) },
        });
      }
    }
    let subsets = repackSubsets(entries);
    const { truncated, subsets: capped } = capSubsets(subsets);
    subsets = capped;

    const current = this.endpoints.get(key);
    const labels: Record<string, string> = { ...(svc.metadata?.labels ?? {}) };
    if (headless) labels[HEADLESS_LABEL] = ''; else delete labels[HEADLESS_LABEL];
    const overCapacity = current?.metadata?.annotations?.[OVER_CAPACITY];
    if (current && JSON.stringify(current.subsets ?? []) === JSON.stringify(subsets)
      && JSON.stringify(current.metadata?.labels ?? {}) === JSON.stringify(labels) && (overCapacity !== undefined) === truncated) {
      trigger.commit();
      return;
    }
    const annotations: Record<string, string> = { ...(current?.metadata?.annotations ?? {}) };
    if (triggerTime) annotations[LAST_CHANGE_TRIGGER_TIME] = rfc3339Nano(triggerTime); else delete annotations[LAST_CHANGE_TRIGGER_TIME];
    if (truncated) annotations[OVER_CAPACITY] = 'truncated'; else delete annotations[OVER_CAPACITY];
    const next: Endpoints = current ? structuredClone(current) : { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace } };
    next.subsets = subsets;
    next.metadata!.labels = labels;
    if (Object.keys(annotations).length) next.metadata!.annotations = annotations; else delete next.metadata!.annotations;
    const ready = subsets.reduce((n, s) => n + (s.addresses?.length ?? 0), 0);
    const notReady = subsets.reduce((n, s) => n + (s.notReadyAddresses?.length ?? 0), 0);
    try {
      if (current) await this.deps.client.update(ENDPOINTS, namespace, next);
      else await this.deps.client.create(ENDPOINTS, namespace, next);
    } catch (e) {
      // The namespace is going away: nothing to write, and nothing to retry.
      if (!current && isNamespaceTerminating(e)) return;
      throw e;
    }
    trigger.commit();
    this.log.debug({ service: key, ready, notReady }, current ? 'updated endpoints' : 'created endpoints');
  }
}

/** At most MAX_ENDPOINTS_CAPACITY addresses, ready ones kept first (upstream's truncateEndpoints). */
function capSubsets(subsets: Subset[]): { truncated: boolean; subsets: Subset[] } {
  const total = subsets.reduce((n, s) => n + (s.addresses?.length ?? 0) + (s.notReadyAddresses?.length ?? 0), 0);
  if (total <= MAX_ENDPOINTS_CAPACITY) return { truncated: false, subsets };
  let room = MAX_ENDPOINTS_CAPACITY;
  const out = subsets.map((s) => ({ ...s }));
  for (const s of out) {
    const keep = Math.min(room, s.addresses?.length ?? 0);
    if (s.addresses) s.addresses = s.addresses.slice(0, keep);
    room -= keep;
  }
  for (const s of out) {
    const keep = Math.min(room, s.notReadyAddresses?.length ?? 0);
    if (s.notReadyAddresses) s.notReadyAddresses = s.notReadyAddresses.slice(0, keep);
    room -= keep;
  }
  return {
    truncated: true,
    subsets: out.map((s) => Object.fromEntries(Object.entries(s).filter(([, v]) => !(Array.isArray(v) && v.length === 0))) as Subset)
      .filter((s) => s.addresses?.length || s.notReadyAddresses?.length),
  };
}
