import type { Pod, PodTemplateSpec, OwnerReference } from '@k8ts/api';

/** Not finished and not being deleted (upstream's controller.IsPodActive). */
export function isPodActive(pod: Pod): boolean {
  return pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed' && !pod.metadata?.deletionTimestamp;
}

function readyCondition(pod: Pod) {
  return pod.status?.conditions?.find((c) => c.type === 'Ready');
}

/** The Ready condition is True (podutil.IsPodReady). */
export function isPodReady(pod: Pod): boolean {
  return readyCondition(pod)?.status === 'True';
}

/** When the pod became ready (epoch ms), 0 when it is not ready or the time is unknown. */
export function podReadyTime(pod: Pod): number {
  const c = readyCondition(pod);
  return c?.status === 'True' && c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : 0;
}

/** Ready for at least minReadySeconds (podutil.IsPodAvailable). */
export function isPodAvailable(pod: Pod, minReadySeconds: number, now: number): boolean {
  if (!isPodReady(pod)) return false;
  if (!minReadySeconds) return true;
  const since = podReadyTime(pod);
  return since > 0 && since + minReadySeconds * 1000 < now;
}

/** A new pod from a controller's template (upstream's GetPodFromTemplate): labels, annotations, finalizers, spec. */
export function podFromTemplate(template: PodTemplateSpec | undefined, controllerName: string, controllerRef: OwnerReference): Pod {
  const meta = template?.metadata ?? {};
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      generateName: `${controllerName}-`,
      ...(meta.labels ? { labels: { ...meta.labels } } : {}),
      ...(meta.annotations ? { annotations: { ...meta.annotations } } : {}),
      ...(meta.finalizers ? { finalizers: [...meta.finalizers] } : {}),
      ownerReferences: [controllerRef],
    },
    spec: structuredClone(template?.spec) ?? { containers: [] },
  };
}

const PHASE_ORDINAL: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

function deletionCost(pod: Pod): number {
  const v = Number(pod.metadata?.annotations?.['controller.kubernetes.io/pod-deletion-cost']);
  return Number.isFinite(v) ? v : 0;
}

function maxRestarts(pod: Pod): number {
  return Math.max(0, ...(pod.status?.containerStatuses ?? []).map((s) => s.restartCount ?? 0));
}

/** Upstream's LogarithmicScaleDown: times that are within the same power of two of their age rank alike. */
function logRank(t: number, now: number): number {
  const d = (now - t) * 1e6; // Go compares durations in nanoseconds
  return d > 0 ? Math.floor(Math.log2(d)) : -1;
}

/** `a` goes before `b` when it is newer, or has no time at all (upstream's afterOrZero, logarithmic when `now` is known). */
function newerFirst(a: number, b: number, now: number, uidA: string, uidB: string): number | undefined {
  if (a === b) return undefined;
  if (!a || !b) return a ? 1 : -1;
  const diff = logRank(a, now) - logRank(b, now);
  if (diff === 0) return uidA < uidB ? -1 : uidA > uidB ? 1 : 0;
  return diff < 0 ? -1 : 1;
}

/**
 * Sorts pods in the order a controller deletes them when scaling down (upstream's ActivePodsWithRanks): unassigned
 * before assigned, Pending < Unknown < Running, not ready before ready, lower pod-deletion-cost first, more
 * related pods on the same node first (`rank`), more recently ready first, more container restarts first, newer first.
 */
export function deletionOrder(pods: readonly Pod[], rank: ReadonlyMap<Pod, number>, now: number): Pod[] {
  return [...pods].sort((a, b) => {
    const na = a.spec?.nodeName ?? ''; const nb = b.spec?.nodeName ?? '';
    if (na !== nb && (!na || !nb)) return na ? 1 : -1;
    const pa = PHASE_ORDINAL[a.status?.phase ?? ''] ?? 0; const pb = PHASE_ORDINAL[b.status?.phase ?? ''] ?? 0;
    if (pa !== pb) return pa - pb;
    const ra = isPodReady(a); const rb = isPodReady(b);
    if (ra !== rb) return ra ? 1 : -1;
    const ca = deletionCost(a); const cb = deletionCost(b);
    if (ca !== cb) return ca - cb;
    const ka = rank.get(a) ?? 0; const kb = rank.get(b) ?? 0;
    if (ka !== kb) return kb - ka;
    const ua = a.metadata?.uid ?? ''; const ub = b.metadata?.uid ?? '';
    if (ra && rb) {
      const byReady = newerFirst(podReadyTime(a), podReadyTime(b), now, ua, ub);
      if (byReady) return byReady;
    }
    const restarts = maxRestarts(b) - maxRestarts(a);
    if (restarts) return restarts;
    const created = (p: Pod) => (p.metadata?.creationTimestamp ? Date.parse(p.metadata.creationTimestamp) : 0);
    return newerFirst(created(a), created(b), now, ua, ub) ?? 0;
  });
}

/** How many of `related` run on each pod's node: pods doubled up on a node go first (getPodsRankedByRelatedPodsOnSameNode). */
export function rankByRelatedOnSameNode(pods: readonly Pod[], related: readonly Pod[]): Map<Pod, number> {
  const onNode = new Map<string, number>();
  for (const p of related) {
    if (!isPodActive(p) || !p.spec?.nodeName) continue;
    onNode.set(p.spec.nodeName, (onNode.get(p.spec.nodeName) ?? 0) + 1);
  }
  return new Map(pods.map((p) => [p, p.spec?.nodeName ? onNode.get(p.spec.nodeName) ?? 0 : 0]));
}

/**
 * Runs `fn` `count` times in batches of 1, 2, 4, … (upstream's slowStartBatch), stopping after the first batch with
 * a failure, so that a template the apiserver refuses costs one request, not hundreds. Returns the successes and
 * the first error.
 */
export async function slowStartBatch(count: number, fn: () => Promise<void>, initial = 1): Promise<{ successes: number; error?: unknown }> {
  let remaining = count;
  let successes = 0;
  for (let batch = Math.min(remaining, initial); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    successes += results.filter((r) => r.status === 'fulfilled').length;
    if (failed) return { successes, error: failed.reason };
    remaining -= batch;
  }
  return { successes };
}
