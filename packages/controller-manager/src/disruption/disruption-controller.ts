import {
  ApiError, byOwnerUid, DEPLOYMENTS, EventRecorder, eventTarget, getControllerOf, labelSelectorRequirements, matchesLabels, objectKey,
  PODDISRUPTIONBUDGETS, PODS, realClock, REPLICASETS, REPLICATIONCONTROLLERS, rfc3339, runWorkers, silentLogger, STATEFULSETS,
  WorkQueue, type ApiClient, type Clock, type Deployment, type InformerFactory, type KubeObject, type Logger, type Pod,
  type PodDisruptionBudget, type ReplicaSet, type SharedInformer, type StatefulSet,
} from '@k8ts/api';
import { isPodReady } from '../pods.js';

/** How long an eviction recorded in status.disruptedPods waits for its pod to go (upstream's DeletionTimeout). */
export const DELETION_TIMEOUT_MS = 2 * 60_000;

type IntOrString = number | string;
/** PodDisruptionBudgetStatus as written here (every field optional while it is built). */
type Status = Record<string, any>;
type Scaled = { metadata?: KubeObject['metadata']; spec?: { replicas?: number } };

/**
 * An int, or a percentage of `total` rounded up or down (upstream's intstr.GetScaledValueFromIntOrPercent).
 * Throws on a malformed percentage.
 */
export function scaledValue(v: IntOrString, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) throw new Error(`invalid value for IntOrString: invalid value ${JSON.stringify(v)}`);
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

/**
 * The numbers a budget is kept by (upstream's getExpectedPodCount): `expectedCount` is the pods the owning
 * controllers want (their scale; for an integer minAvailable, simply the matching pods) and `desiredHealthy` the
 * ready pods the budget insists on. `scale` gives the summed scale of the pods' controllers, or throws.
 */
export function expectedPodCount(spec: NonNullable<PodDisruptionBudget['spec']>, pods: readonly Pod[], scale: () => number):
  { expectedCount: number; desiredHealthy: number } {
  if (spec.maxUnavailable !== undefined && spec.maxUnavailable !== null) {
    const expectedCount = scale();
    const maxUnavailable = scaledValue(spec.maxUnavailable, expectedCount, true);
    return { expectedCount, desiredHealthy: Math.max(0, expectedCount - maxUnavailable) };
  }
  if (spec.minAvailable !== undefined && spec.minAvailable !== null) {
    if (typeof spec.minAvailable === 'number') return { expectedCount: pods.length, desiredHealthy: spec.minAvailable };
    const expectedCount = scale();
    return { expectedCount, desiredHealthy: scaledValue(spec.minAvailable, expectedCount, true) };
  }
  return { expectedCount: 0, desiredHealthy: 0 };
}

/**
 * The evictions still in flight (upstream's buildDisruptedPodMap): entries of status.disruptedPods whose pod
 * exists, is not yet being deleted and is within DELETION_TIMEOUT_MS; `expired` names the pods that outlived it,
 * `recheckAt` the earliest time an entry will.
 */
export function disruptedPodMap(pods: readonly Pod[], recorded: Record<string, string> | undefined, now: number):
  { disrupted: Record<string, string>; expired: string[]; recheckAt?: number } {
  const disrupted: Record<string, string> = {};
  const expired: string[] = [];
  let recheckAt: number | undefined;
  if (!recorded) return { disrupted, expired };
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    const at = recorded[pod.metadata!.name!];
    if (at === undefined) continue;
    const deadline = Date.parse(at) + DELETION_TIMEOUT_MS;
    if (deadline < now) { expired.push(pod.metadata!.name!); continue; }
    recheckAt = recheckAt === undefined ? deadline : Math.min(recheckAt, deadline);
    disrupted[pod.metadata!.name!] = at;
  }
  return { disrupted, expired, recheckAt };
}

/** Ready pods not being deleted nor recently evicted (upstream's countHealthyPods). */
export function countHealthyPods(pods: readonly Pod[], disrupted: Record<string, string>, now: number): number {
  let healthy = 0;
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    const at = disrupted[pod.metadata!.name!];
    if (at !== undefined && Date.parse(at) + DELETION_TIMEOUT_MS > now) continue;
    if (isPodReady(pod)) healthy++;
  }
  return healthy;
}

/** disruptionsAllowed: the healthy pods beyond the desired ones, never negative, 0 without expected pods. */
export function disruptionsAllowed(currentHealthy: number, desiredHealthy: number, expectedCount: number): number {
  const allowed = currentHealthy - desiredHealthy;
  return expectedCount <= 0 || allowed <= 0 ? 0 : allowed;
}

export interface DisruptionControllerDeps {
  client: ApiClient;
  informers: InformerFactory;
  log?: Logger;
  clock?: Clock;
}

/**
 * The PodDisruptionBudget controller (upstream's pkg/controller/disruption): for every budget, counts the ready
 * pods its selector picks (less those just evicted), works out how many must stay from minAvailable or
 * maxUnavailable against the scale of the pods' controllers (ReplicaSet, Deployment, ReplicationController,
 * StatefulSet), and writes currentHealthy, desiredHealthy, expectedPods, disruptionsAllowed, disruptedPods,
 * observedGeneration and the DisruptionAllowed condition (SufficientPods / InsufficientPods / SyncFailed). The
 * eviction subresource spends what this allows.
 */
export class DisruptionController {
  readonly queue: WorkQueue<string>;
  private readonly pdbs: SharedInformer<PodDisruptionBudget>;
  private readonly pods: SharedInformer<Pod>;
  private readonly replicaSets: SharedInformer<ReplicaSet>;
  private readonly deployments: SharedInformer<Deployment>;
  private readonly controllers: SharedInformer<Scaled>;
  private readonly statefulSets: SharedInformer<StatefulSet>;
  private readonly events: EventRecorder;
  private readonly log: Logger;
  private readonly clock: Clock;

  constructor(private readonly deps: DisruptionControllerDeps) {
    this.clock = deps.clock ?? realClock;
    this.log = (deps.log ?? silentLogger).child({ controller: 'disruption' });
    this.queue = new WorkQueue<string>({ clock: this.clock });
    this.pdbs = deps.informers.informerFor<PodDisruptionBudget>(PODDISRUPTIONBUDGETS);
    this.pods = deps.informers.informerFor<Pod>(PODS, { indexers: { byOwnerUid } });
    this.replicaSets = deps.informers.informerFor<ReplicaSet>(REPLICASETS, { indexers: { byOwnerUid } });
    this.deployments = deps.informers.informerFor<Deployment>(DEPLOYMENTS);
    this.controllers = deps.informers.informerFor<Scaled>(REPLICATIONCONTROLLERS);
    this.statefulSets = deps.informers.informerFor<StatefulSet>(STATEFULSETS);
    this.events = new EventRecorder({ client: deps.client, component: 'controllermanager', log: this.log, now: () => this.clock.now() });
    const enqueue = (p: PodDisruptionBudget) => this.queue.add(objectKey(p));
    this.pdbs.addHandler({ onAdd: enqueue, onUpdate: (_o, p) => enqueue(p), onDelete: enqueue });
    const forPod = (pod: Pod) => { for (const pdb of this.budgetsFor(pod)) enqueue(pdb); };
    this.pods.addHandler({
      onAdd: forPod,
      onUpdate: (o, p) => { forPod(p); if (JSON.stringify(o.metadata?.labels) !== JSON.stringify(p.metadata?.labels)) forPod(o); },
      onDelete: forPod,
    });
    // A controller's scale is a budget's expected count: budgets over its pods recompute when it changes.
    const forController = (o: Scaled) => {
      for (const pod of this.pods.byIndex('byOwnerUid', o.metadata?.uid ?? '')) forPod(pod);
    };
    const scaleChanged = { onUpdate: (o: Scaled, n: Scaled) => { if (o.spec?.replicas !== n.spec?.replicas) forController(n); } };
    this.replicaSets.addHandler(scaleChanged);
    this.controllers.addHandler(scaleChanged);
    this.statefulSets.addHandler(scaleChanged);
    this.deployments.addHandler({
      onUpdate: (o, n) => {
        if (o.spec?.replicas === n.spec?.replicas) return;
        for (const rs of this.replicaSets.byIndex('byOwnerUid', n.metadata?.uid ?? '')) forController(rs);
      },
    });
  }

  /** The budgets of the pod's namespace whose selector picks it. */
  private budgetsFor(pod: Pod): PodDisruptionBudget[] {
    return this.pdbs.lister().listNamespace(pod.metadata?.namespace ?? '').filter((pdb) => {
      try {
        const reqs = labelSelectorRequirements(pdb.spec?.selector);
        return reqs !== null && matchesLabels(reqs, pod.metadata?.labels);
      } catch { return false; }
    });
  }

  async run(signal: AbortSignal, workers = 1): Promise<void> {
    await Promise.all([this.pdbs, this.pods, this.replicaSets, this.deployments, this.controllers, this.statefulSets]
      .map((i) => i.waitForSync(signal))).catch(() => undefined);
    if (signal.aborted) return;
    await runWorkers(this.queue, (key) => this.sync(key), { workers, log: this.log, signal, keyField: 'pdb' });
  }

  /** Recomputes one budget's status and writes it when it changed. Idempotent. */
  async sync(key: string): Promise<void> {
    const cached = this.pdbs.get(key);
    if (!cached) return;
    const pdb = structuredClone(cached);
    const now = this.clock.now();
    let pods: Pod[];
    let expected: { expectedCount: number; desiredHealthy: number };
    try {
      const reqs = labelSelectorRequirements(pdb.spec?.selector);
      pods = reqs === null ? [] : this.pods.lister().listNamespace(pdb.metadata!.namespace!).filter((p) => matchesLabels(reqs, p.metadata?.labels));
      if (pods.length === 0) void this.event(pdb, 'Warning', 'NoPods', 'No matching pods found');
      expected = expectedPodCount(pdb.spec ?? {}, pods, () => this.expectedScale(pods));
    } catch (err) {
      void this.event(pdb, 'Warning', 'CalculateExpectedPodCountFailed', `Failed to calculate the number of expected pods: ${(err as Error).message}`);
      return this.failSafe(pdb, (err as Error).message, now);
    }
    const { disrupted, expired, recheckAt } = disruptedPodMap(pods, pdb.status?.disruptedPods as Record<string, string> | undefined, now);
    for (const name of expired) {
      void this.event(pdb, 'Warning', 'NotDeleted', `Pod was expected by PDB ${key} to be deleted but it wasn't`);
      this.log.info({ pdb: key, pod: name }, 'evicted pod was not deleted in time');
    }
    const currentHealthy = countHealthyPods(pods, disrupted, now);
    await this.writeStatus(pdb, {
      currentHealthy, desiredHealthy: expected.desiredHealthy, expectedPods: expected.expectedCount,
      disruptionsAllowed: disruptionsAllowed(currentHealthy, expected.desiredHealthy, expected.expectedCount),
      ...(Object.keys(disrupted).length ? { disruptedPods: disrupted } : {}),
    }, now);
    if (recheckAt !== undefined) this.queue.addAfter(key, Math.max(0, recheckAt - now) + 1);
  }

  /**
   * The summed scale of the pods' controllers, each counted once (upstream's getExpectedScale): a ReplicaSet a
   * Deployment owns counts as the Deployment. Throws for a pod without a controller or one k8ts cannot scale.
   */
  private expectedScale(pods: readonly Pod[]): number {
    const byController = new Map<string, number>();
    for (const pod of pods) {
      const ref = getControllerOf(pod);
      if (!ref) throw new Error(`found no controller ref for pod "${pod.metadata!.name}"`);
      const found = this.scaleOf(pod.metadata!.namespace!, ref);
      if (!found) throw new Error(`found no controllers for pod "${pod.metadata!.name}"`);
      byController.set(found.uid, found.replicas);
    }
    return [...byController.values()].reduce((a, b) => a + b, 0);
  }

  /** The controller whose scale counts for a pod's controllerRef (finders as upstream's, in its order). */
  private scaleOf(namespace: string, ref: { kind: string; name: string; uid: string; apiVersion: string }): { uid: string; replicas: number } | undefined {
    const matches = <T extends Scaled>(o: T | undefined) => (o && o.metadata?.uid === ref.uid ? o : undefined);
    const group = ref.apiVersion.includes('/') ? ref.apiVersion.split('/')[0] : '';
    if (group === 'apps' && ref.kind === 'ReplicaSet') {
      const rs = matches(this.replicaSets.lister().get(namespace, ref.name));
      if (!rs) return undefined;
      const owner = getControllerOf(rs);
      if (owner?.kind === 'Deployment' && owner.apiVersion.startsWith('apps/')) {
        const d = this.deployments.lister().get(namespace, owner.name);
        if (d && d.metadata?.uid === owner.uid) return { uid: owner.uid, replicas: d.spec?.replicas ?? 1 };
      }
      return { uid: ref.uid, replicas: rs.spec?.replicas ?? 1 };
    }
    if (group === '' && ref.kind === 'ReplicationController') {
      const rc = matches(this.controllers.lister().get(namespace, ref.name));
      return rc ? { uid: ref.uid, replicas: rc.spec?.replicas ?? 1 } : undefined;
    }
    if (group === 'apps' && ref.kind === 'StatefulSet') {
      const sts = matches(this.statefulSets.lister().get(namespace, ref.name));
      return sts ? { uid: ref.uid, replicas: sts.spec?.replicas ?? 1 } : undefined;
    }
    return undefined;
  }

  /** Upstream's failSafe: no disruptions while the numbers cannot be computed, and the reason in SyncFailed. */
  private async failSafe(pdb: PodDisruptionBudget, message: string, now: number): Promise<void> {
    const status = { ...pdb.status, disruptionsAllowed: 0 } as Status;
    await this.write(pdb, status, { status: 'False', reason: 'SyncFailed', message }, now);
  }

  private async writeStatus(pdb: PodDisruptionBudget, next: Status, now: number): Promise<void> {
    const allowed = (next.disruptionsAllowed ?? 0) > 0;
    await this.write(pdb, next, { status: allowed ? 'True' : 'False', reason: allowed ? 'SufficientPods' : 'InsufficientPods', message: '' }, now);
  }

  /** Writes the status with its DisruptionAllowed condition when anything differs (upstream's SetStatusCondition). */
  private async write(pdb: PodDisruptionBudget, next: Status, cond: { status: 'True' | 'False'; reason: string; message: string }, now: number): Promise<void> {
    const old: Status = pdb.status ?? {};
    const generation = pdb.metadata?.generation ?? 0;
    const prev = (old.conditions as Status[] | undefined)?.find((c) => c.type === 'DisruptionAllowed');
    const condition = {
      type: 'DisruptionAllowed', status: cond.status, reason: cond.reason, message: cond.message, observedGeneration: generation,
      lastTransitionTime: prev && prev.status === cond.status ? prev.lastTransitionTime : rfc3339(new Date(now)),
    };
    const status: Status = {
      ...next, observedGeneration: generation,
      conditions: [...((old.conditions ?? []) as Status[]).filter((c) => c.type !== 'DisruptionAllowed'), condition],
    };
    if (!status.disruptedPods) delete status.disruptedPods;
    const comparable = (s: Status) => JSON.stringify({ ...s, conditions: (s.conditions as Status[] | undefined)?.map((c) => ({ ...c, lastTransitionTime: undefined })) });
    if (comparable(sortKeys(status)) === comparable(sortKeys({ ...old, disruptedPods: old.disruptedPods && Object.keys(old.disruptedPods).length ? old.disruptedPods : undefined }))) return;
    try {
      await this.deps.client.update(PODDISRUPTIONBUDGETS, pdb.metadata!.namespace, { ...pdb, status } as PodDisruptionBudget, { subresource: 'status' });
    } catch (err) {
      if (err instanceof ApiError && err.isNotFound) return;
      throw err;
    }
    this.log.info({ pdb: objectKey(pdb), ...status, conditions: undefined }, 'updated disruption budget status');
  }

  private event(pdb: PodDisruptionBudget, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    return this.events.record(eventTarget({ ...pdb, apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' }), type, reason, message);
  }
}

function sortKeys(s: Status): Status {
  const keys = ['currentHealthy', 'desiredHealthy', 'expectedPods', 'disruptionsAllowed', 'disruptedPods', 'observedGeneration', 'conditions'] as const;
  const out: Record<string, unknown> = {};
  for (const k of keys) if (s[k] !== undefined) out[k] = s[k];
  return out;
}
