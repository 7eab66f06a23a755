import { ApiError, labelSelectorRequirements, matchesLabels, realClock, sleep, type KubeObject } from '@k8ts/api';
import { rfc3339 } from '../registry/strategy.js';
import type { DeleteOptions, ResourceStore } from '../rest-store.js';

/** The message of a refusal for the budget's sake (upstream's eviction.go). */
export const EVICTION_REFUSED = "Cannot evict pod as it would violate the pod's disruption budget.";
/** policyv1.DisruptionBudgetCause: the cause type a refusal carries. */
export const DISRUPTION_BUDGET_CAUSE = 'DisruptionBudget';
/** Upstream's MaxDisruptedPodSize: evictions the disruption controller has not yet seen, per budget. */
export const MAX_DISRUPTED_POD_SIZE = 2000;
/** Upstream's EvictionsRetry: 20 tries, 10 ms apart, when the budget changed under us. */
const RETRY_STEPS = 20;
const RETRY_DELAY_MS = 10;

type Obj = Record<string, any>;

/** A pod whose eviction needs no budget: already going, finished, or never started (upstream's canIgnorePDB). */
function canIgnorePDB(pod: Obj): boolean {
  return !!pod.metadata?.deletionTimestamp || ['Succeeded', 'Failed', 'Pending'].includes(pod.status?.phase);
}

const isReady = (pod: Obj) => (pod.status?.conditions ?? []).some((c: Obj) => c.type === 'Ready' && c.status === 'True');

/** The budgets whose selector picks the pod (a nil selector picks none, `{}` every pod, as policy/v1). */
export function budgetsFor(pod: KubeObject, pdbs: readonly KubeObject[]): KubeObject[] {
  return pdbs.filter((pdb) => {
    const reqs = labelSelectorRequirements((pdb as Obj).spec?.selector);
    return reqs !== null && matchesLabels(reqs, pod.metadata?.labels);
  });
}

function tooManyRequests(cause: string, retryAfterSeconds: number): ApiError {
  return new ApiError(429, 'TooManyRequests', EVICTION_REFUSED, {
    causes: [{ reason: DISRUPTION_BUDGET_CAUSE, message: cause }], ...(retryAfterSeconds ? { retryAfterSeconds } : {}),
  });
}

/**
 * pods/{name}/eviction (upstream's EvictionREST.Create): a pod covered by a PodDisruptionBudget is deleted only
 * when the budget allows a disruption; the budget's disruptionsAllowed is decremented and the pod recorded in
 * status.disruptedPods in one resourceVersion-checked write before the pod is deleted, so two evictions can never
 * spend the same disruption. A spent budget refuses with 429 TooManyRequests; a pod under two budgets is refused
 * as upstream does (500, the eviction subresource does not support it). Terminal, pending and terminating pods
 * go without a budget check.
 */
export async function evictPod(pods: ResourceStore, pdbs: ResourceStore, namespace: string, name: string,
  options: DeleteOptions, now: () => number = Date.now): Promise<void> {
  const dryRun = !!options.dryRun?.length;
  const remove = async (opts: DeleteOptions) => { await pods.delete(namespace, name, opts, { dryRun }); };
  for (let attempt = 1; ; attempt++) {
    const pod = await pods.get(namespace, name) as Obj;
    if (canIgnorePDB(pod)) return remove(options);
    const matching = budgetsFor(pod, (await pdbs.list(namespace, {})).items);
    if (matching.length > 1) {
      throw new ApiError(500, 'InternalError', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
    }
    if (matching.length === 0) return remove(options);
    const pdb = structuredClone(matching[0]) as Obj;
    const pdbName = String(pdb.metadata.name);
    const status = (pdb.status ??= {});
    // An unready pod does not count towards the budget: evicting it spends nothing when the policy says so, or
    // while the budget is met without it. The pod's resourceVersion pins the state this was decided on.
    const pinned: DeleteOptions = { ...options, preconditions: { ...options.preconditions, resourceVersion: options.preconditions?.resourceVersion ?? pod.metadata.resourceVersion } };
    if (!isReady(pod)) {
      if (pdb.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow') return remove(pinned);
      if ((status.currentHealthy ?? 0) >= (status.desiredHealthy ?? 0) && (status.desiredHealthy ?? 0) > 0) return remove(pinned);
    }
    if ((status.observedGeneration ?? 0) < (pdb.metadata.generation ?? 0)) {
      throw tooManyRequests(`The disruption budget ${pdbName} is still being processed by the server.`, 10);
    }
    const allowed = status.disruptionsAllowed ?? 0;
    if (allowed < 0) throw forbiddenBudget(pdbName, 'pdb disruptions allowed is negative');
    if (Object.keys(status.disruptedPods ?? {}).length > MAX_DISRUPTED_POD_SIZE) {
      throw forbiddenBudget(pdbName, 'DisruptedPods map too big - too many evictions not confirmed by PDB controller');
    }
    if (allowed === 0) {
      throw tooManyRequests(`The disruption budget ${pdbName} needs ${status.desiredHealthy ?? 0} healthy pods and has ${status.currentHealthy ?? 0} currently`, 0);
    }
    status.disruptionsAllowed = allowed - 1;
    if (status.disruptionsAllowed === 0) setCondition(status, 'False', 'InsufficientPods', now);
    status.disruptedPods = { ...status.disruptedPods, [name]: rfc3339(new Date(now())) };
    if (!dryRun) {
      try {
        await pdbs.update(namespace, pdbName, pdb, { subresource: 'status' });
      } catch (err) {
        // Someone else spent or recomputed the budget since we read it: decide again on the new state.
        if (err instanceof ApiError && err.isConflict && attempt < RETRY_STEPS) { await sleep(realClock, RETRY_DELAY_MS); continue; }
        throw err;
      }
    }
    return remove(options);
  }
}

function forbiddenBudget(name: string, why: string): ApiError {
  return new ApiError(403, 'Forbidden', `poddisruptionbudgets.policy "${name}" is forbidden: ${why}`, { name, group: 'policy', kind: 'poddisruptionbudgets' });
}

/** The DisruptionAllowed condition, its transition time kept when the status does not change. */
function setCondition(status: Obj, value: 'True' | 'False', reason: string, now: () => number): void {
  const conditions: Obj[] = status.conditions ?? [];
  const prev = conditions.find((c) => c.type === 'DisruptionAllowed');
  const next = {
    type: 'DisruptionAllowed', status: value, reason, message: '', observedGeneration: status.observedGeneration ?? 0,
    lastTransitionTime: prev && prev.status === value ? prev.lastTransitionTime : rfc3339(new Date(now())),
  };
  status.conditions = [...conditions.filter((c) => c.type !== 'DisruptionAllowed'), next];
}
