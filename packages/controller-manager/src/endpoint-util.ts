import { matchesLabels, objectKey, type LabelRequirement, type Pod, type Service, type SharedInformer, type WorkQueue } from '@k8ts/api';
import { isPodReady } from './pods.js';

/** The annotation on Endpoints and EndpointSlices: when the change they carry happened (v1.EndpointsLastChangeTriggerTime). */
export const LAST_CHANGE_TRIGGER_TIME = 'endpoints.kubernetes.io/last-change-trigger-time';
/** The label a headless Service's Endpoints and EndpointSlices carry (v1.IsHeadlessService). */
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';

type ServicePort = NonNullable<NonNullable<Service['spec']>['ports']>[number];

/** The selector of a Service as requirements; null when it has none (its endpoints are the user's to manage). */
export function serviceSelector(svc: Service): LabelRequirement[] | null {
  const sel = svc.spec?.selector;
  if (sel === undefined || sel === null) return null;
  return Object.entries(sel).map(([key, value]) => ({ key, operator: '=', values: [value] }) as LabelRequirement);
}

/** The pod port a service port targets: a number as is, a name looked up in the pod's containers (podutil.FindPort). */
export function findPort(pod: Pod, port: ServicePort): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = port.protocol ?? 'TCP';
  // Sidecars (init containers that keep running) serve ports too, as upstream.
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always')];
  for (const c of containers) {
    for (const p of c.ports ?? []) if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
  }
  return undefined;
}

/** Terminal pods and pods without an IP never get an endpoint; terminating ones only when asked (ShouldPodBeInEndpoints). */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return false;
  if (!pod.status?.podIP && !pod.status?.podIPs?.length) return false;
  return includeTerminating || !pod.metadata?.deletionTimestamp;
}

/** The pod's IPv4 address (the one address type k8ts' Services have). */
export function podIPv4(pod: Pod): string | undefined {
  const ips = [pod.status?.podIP, ...(pod.status?.podIPs ?? []).map((p) => p.ip)].filter((ip): ip is string => !!ip);
  return ips.find((ip) => !ip.includes(':'));
}

/** The hostname a pod publishes under a Service: its spec.hostname when its spec.subdomain is that Service. */
export function podHostname(pod: Pod, svc: Service): string | undefined {
  const h = pod.spec?.hostname;
  return h && pod.spec?.subdomain === svc.metadata?.name && pod.metadata?.namespace === svc.metadata?.namespace ? h : undefined;
}

/** What of a pod its endpoints are made of, to tell whether an update matters (podEndpointsChanged). */
function endpointFields(pod: Pod): string {
  return JSON.stringify([
    pod.status?.podIP, pod.status?.podIPs, isPodReady(pod), !!pod.metadata?.deletionTimestamp, pod.status?.phase,
    pod.spec?.hostname, pod.spec?.subdomain, pod.spec?.nodeName,
  ]);
}

/** The Services of the pod's namespace whose selector matches it (GetPodServiceMemberships). */
export function podServiceMemberships(services: SharedInformer<Service>, pod: Pod): Service[] {
  return services.lister().listNamespace(pod.metadata?.namespace ?? '').filter((svc) => {
    const sel = serviceSelector(svc);
    return sel !== null && matchesLabels(sel, pod.metadata?.labels);
  });
}

/** The Services to sync after a pod update: none when nothing endpoints show changed (GetServicesToUpdateOnPodChange). */
export function servicesToUpdateOnPodChange(services: SharedInformer<Service>, old: Pod, pod: Pod): Service[] {
  if (old.metadata?.resourceVersion === pod.metadata?.resourceVersion) return [];
  const labelsChanged = JSON.stringify(old.metadata?.labels ?? {}) !== JSON.stringify(pod.metadata?.labels ?? {});
  const podChanged = endpointFields(old) !== endpointFields(pod);
  if (!podChanged && !labelsChanged) return [];
  const now = podServiceMemberships(services, pod);
  if (!labelsChanged) return now;
  const before = podServiceMemberships(services, old);
  const uid = (s: Service) => s.metadata?.uid;
  // Labels changed: services it joined or left always; the ones it stays in only if its endpoint changed too.
  const joined = now.filter((s) => podChanged || !before.some((b) => uid(b) === uid(s)));
  const left = before.filter((b) => !now.some((s) => uid(s) === uid(b)));
  return [...joined, ...left];
}

/**
 * When the change an endpoints write carries was triggered (upstream's TriggerTimeTracker): the earliest Ready
 * transition among pods that changed since the service's last successful write, or the Service's creation if it is
 * new. Unlike upstream, the state moves on only when the write succeeded, so a retried write keeps its trigger time.
 */
export class TriggerTimeTracker {
  private readonly states = new Map<string, { pods: Map<string, number>; service: number }>();

  /** The trigger time (epoch ms) for a write of `key` now, 0 when nothing has a known trigger time; and how to record it. */
  compute(key: string, svc: Service, pods: readonly Pod[]): { time: number; commit(): void } {
    const prev = this.states.get(key);
    let min = 0;
    const take = (t: number) => { if (!min || t < min) min = t; };
    const podTimes = new Map<string, number>();
    for (const pod of pods) {
      const ready = pod.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime;
      const t = ready ? Date.parse(ready) : NaN;
      if (Number.isNaN(t)) continue;
      podTimes.set(pod.metadata!.name!, t);
      if (t > (prev?.pods.get(pod.metadata!.name!) ?? 0)) take(t);
    }
    const created = svc.metadata?.creationTimestamp ? Date.parse(svc.metadata.creationTimestamp) : 0;
    if (created > (prev?.service ?? 0)) take(created);
    return { time: min, commit: () => { this.states.set(key, { pods: podTimes, service: created }); } };
  }

  /** Forgets a deleted service. */
  delete(key: string): void {
    this.states.delete(key);
  }
}

/** RFC 3339 with nanoseconds, as upstream writes the trigger time (time.RFC3339Nano, trailing zeros dropped). */
export function rfc3339Nano(ms: number): string {
  return new Date(ms).toISOString().replace(/\.?0+Z$/, 'Z');
}

/**
 * The handlers both endpoint controllers register: a Service queues itself; a pod queues the Services that select
 * it (before and after a change that matters to its endpoints).
 */
export function enqueueServicesAndTheirPods(services: SharedInformer<Service>, pods: SharedInformer<Pod>, queue: WorkQueue<string>): void {
  services.addHandler({
    onAdd: (s) => queue.add(objectKey(s)),
    onUpdate: (_o, s) => queue.add(objectKey(s)),
    onDelete: (s) => queue.add(objectKey(s)),
  });
  pods.addHandler({
    onAdd: (p) => { for (const s of podServiceMemberships(services, p)) queue.add(objectKey(s)); },
    onUpdate: (o, p) => { for (const s of servicesToUpdateOnPodChange(services, o, p)) queue.add(objectKey(s)); },
    onDelete: (p) => { for (const s of podServiceMemberships(services, p)) queue.add(objectKey(s)); },
  });
}
