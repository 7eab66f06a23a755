import {
  ApiError, isNamespaceTerminating, byOwnerUid, EventRecorder, eventTarget, getControllerOf, labelSelectorRequirements, matchesLabels, newControllerRef,
  objectKey, PODS, realClock, REPLICASETS, runWorkers, silentLogger, WorkQueue,
  type ApiClient, type Clock, type Condition, type InformerFactory, type KubeObject, type LabelRequirement, type Logger, type Pod,
  type PodTemplateSpec, type ResourceDef, type SharedInformer,
} from '@k8ts/api';
import { ControllerExpectations } from '../expectations.js';
import { claim } from '../ref-manager.js';
import {
  deletionOrder, isPodActive, isPodAvailable, isPodReady, podFromTemplate, rankByRelatedOnSameNode, slowStartBatch,
} from '../pods.js';

/** The fields ReplicaSets and ReplicationControllers share, as this controller reads them. */
export interface ReplicatedObject extends KubeObject {
  spec?: { replicas?: number; minReadySeconds?: number; selector?: unknown; template?: PodTemplateSpec };
  status?: {
    replicas?: number; fullyLabeledReplicas?: number; readyReplicas?: number; availableReplicas?: number;
    observedGeneration?: number; conditions?: Condition[];
  };
}

/** Most pods created or deleted by one sync (upstream's BurstReplicas). */
export const BURST_REPLICAS = 500;

export interface ReplicaSetControllerDeps {
  client: ApiClient;
  informers: InformerFactory;
  log?: Logger;
  clock?: Clock;
  /** REPLICASETS (default) or REPLICATIONCONTROLLERS: one implementation for both, as upstream. */
  def?: ResourceDef;
  burstReplicas?: number;
}

/** The selector of a ReplicaSet (metav1.LabelSelector) or a ReplicationController (a plain map). Null matches nothing. */
export function selectorOf(def: ResourceDef, obj: ReplicatedObject): LabelRequirement[] | null {
  const sel = obj.spec?.selector;
  if (def.kind === 'ReplicationController') {
    const map = (sel ?? obj.spec?.template?.metadata?.labels) as Record<string, string> | undefined;
    if (!map || Object.keys(map).length === 0) return null;
    return Object.entries(map).map(([key, value]) => ({ key, operator: '=', values: [value] }) as LabelRequirement);
  }
  const reqs = labelSelectorRequirements(sel as never);
  // An empty selector would match every pod of the namespace: upstream's validation refuses it; match nothing.
  return reqs && reqs.length ? reqs : null;
}

/**
 * Keeps `spec.replicas` pods of each ReplicaSet (or ReplicationController) running, as upstream's ReplicaSetController:
 * adopts matching orphans and releases pods that stop matching, creates in slow-start batches and deletes in
 * upstream's order with expectations, and writes status (replicas, fullyLabeled, ready, available, ReplicaFailure).
 */
export class ReplicaSetController {
  readonly queue: WorkQueue<string>;
  readonly expectations: ControllerExpectations;
  private readonly def: ResourceDef;
  private readonly sets: SharedInformer<ReplicatedObject>;
  private readonly pods: SharedInformer<Pod>;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly events: EventRecorder;
  private readonly burst: number;

  constructor(private readonly deps: ReplicaSetControllerDeps) {
    this.def = deps.def ?? REPLICASETS;
    this.clock = deps.clock ?? realClock;
    this.log = (deps.log ?? silentLogger).child({ controller: this.def.resource === 'replicasets' ? 'replicaset' : 'replicationcontroller' });
    this.queue = new WorkQueue<string>({ clock: this.clock });
    this.expectations = new ControllerExpectations(this.clock);
    this.burst = deps.burstReplicas ?? BURST_REPLICAS;
    this.events = new EventRecorder({ client: deps.client, component: `${this.def.kind.toLowerCase()}-controller`, log: this.log, now: () => this.clock.now() });
    this.sets = deps.informers.informerFor<ReplicatedObject>(this.def);
    this.pods = deps.informers.informerFor<Pod>(PODS, { indexers: { byOwnerUid } });
    this.sets.addHandler({
      onAdd: (rs) => this.enqueue(rs),
      onUpdate: (_old, rs) => this.enqueue(rs),
      onDelete: (rs) => { this.expectations.delete(objectKey(rs)); this.enqueue(rs); },
    });
    this.pods.addHandler({ onAdd: (p) => this.addPod(p), onUpdate: (o, p) => this.updatePod(o, p), onDelete: (p) => this.deletePod(p) });
  }

  /** Waits for the caches, then syncs with `workers` workers until the signal aborts. */
  async run(signal: AbortSignal, workers = 5): Promise<void> {
    await Promise.all([this.sets.waitForSync(signal), this.pods.waitForSync(signal)]).catch(() => undefined);
    if (signal.aborted) return;
    await runWorkers(this.queue, (key) => this.sync(key), { workers, log: this.log, signal, keyField: this.def.kind.toLowerCase() });
  }

  private enqueue(rs: ReplicatedObject, afterMs?: number): void {
    const key = objectKey(rs);
    if (afterMs) this.queue.addAfter(key, afterMs);
    else this.queue.add(key);
  }

  /** The controller a pod's controllerRef names, when it is one of ours and the uid matches. */
  private resolve(pod: Pod, ref = getControllerOf(pod)): ReplicatedObject | undefined {
    if (!ref || ref.kind !== this.def.kind) return undefined;
    const rs = this.sets.get(`${pod.metadata!.namespace}/${ref.name}`);
    return rs?.metadata?.uid === ref.uid ? rs : undefined;
  }

  /** The controllers of the pod's namespace whose selector matches it (for orphans). */
  private matching(pod: Pod): ReplicatedObject[] {
    return this.sets.lister().listNamespace(pod.metadata?.namespace ?? '').filter((rs) => {
      const sel = selectorOf(this.def, rs);
      return sel !== null && matchesLabels(sel, pod.metadata?.labels);
    });
  }

  private addPod(pod: Pod): void {
    if (pod.metadata?.deletionTimestamp) { this.deletePod(pod); return; }
    const ref = getControllerOf(pod);
    if (ref) {
      const rs = this.resolve(pod, ref);
      if (!rs) return;
      this.expectations.creationObserved(objectKey(rs));
      this.enqueue(rs);
      return;
    }
    for (const rs of this.matching(pod)) this.enqueue(rs);
  }

  private updatePod(old: Pod, pod: Pod): void {
    if (old.metadata?.resourceVersion === pod.metadata?.resourceVersion) return;
    const labelsChanged = JSON.stringify(old.metadata?.labels ?? {}) !== JSON.stringify(pod.metadata?.labels ?? {});
    if (pod.metadata?.deletionTimestamp) {
      // A pod being deleted is as good as gone: expectations count it now, not when its grace period ends.
      this.deletePod(pod);
      if (labelsChanged) this.deletePod(old);
      return;
    }
    const oldRef = getControllerOf(old);
    const ref = getControllerOf(pod);
    const refChanged = oldRef?.uid !== ref?.uid;
    if (refChanged && oldRef) { const prev = this.resolve(old, oldRef); if (prev) this.enqueue(prev); }
    if (ref) {
      const rs = this.resolve(pod, ref);
      if (!rs) return;
      this.enqueue(rs);
      const minReady = rs.spec?.minReadySeconds ?? 0;
      // Available only minReadySeconds after Ready: look again then (+1 s, as upstream).
      if (!isPodReady(old) && isPodReady(pod) && minReady > 0) this.enqueue(rs, (minReady + 1) * 1000);
      return;
    }
    if (labelsChanged || refChanged) for (const rs of this.matching(pod)) this.enqueue(rs);
  }

  private deletePod(pod: Pod): void {
    const rs = this.resolve(pod);
    if (!rs) return;
    this.expectations.deletionObserved(objectKey(rs), objectKey(pod));
    this.enqueue(rs);
  }

  /** Converges one ReplicaSet by key. Idempotent; never called concurrently for the same key. */
  async sync(key: string): Promise<void> {
    const cached = this.sets.get(key);
    if (!cached) { this.expectations.delete(key); return; }
    const rs = structuredClone(cached);
    const selector = selectorOf(this.def, rs);
    if (!selector) {
      this.log.warn({ [this.def.kind.toLowerCase()]: key }, 'invalid selector: matches no pods');
      return;
    }
    const needsSync = this.expectations.satisfied(key) && !rs.metadata?.deletionTimestamp;
    const all = this.pods.lister().listNamespace(rs.metadata!.namespace!).filter(isPodActive);
    const pods = await claim({ client: this.deps.client, owner: rs, ownerDef: this.def, dependentDef: PODS, selector }, all);
    let err: unknown;
    if (needsSync) {
      try {
        await this.manageReplicas(rs, pods);
      } catch (e) {
        err = e;
      }
    }
    const status = this.calculateStatus(rs, pods, err);
    const updated = await this.updateStatus(rs, status);
    if (err) throw err;
    const minReady = rs.spec?.minReadySeconds ?? 0;
    const want = rs.spec?.replicas ?? 1;
    if (updated && minReady > 0 && updated.status?.readyReplicas === want && updated.status?.availableReplicas !== want) {
      this.enqueue(rs, minReady * 1000);
    }
  }

  /** Creates or deletes pods towards `spec.replicas` (upstream's manageReplicas). */
  private async manageReplicas(rs: ReplicatedObject, pods: Pod[]): Promise<void> {
    const key = objectKey(rs);
    const want = rs.spec?.replicas ?? 1;
    const diff = pods.length - want;
    if (diff < 0) {
      const n = Math.min(-diff, this.burst);
      this.expectations.expect(key, n);
      const ref = newControllerRef(rs, this.def);
      const { successes, error } = await slowStartBatch(n, async () => {
        const pod = podFromTemplate(rs.spec?.template, rs.metadata!.name!, ref);
        try {
          const created = await this.deps.client.create<Pod>(PODS, rs.metadata!.namespace, pod);
          void this.events.record(eventTarget(rs), 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata!.name}`);
        } catch (e) {
          // The namespace is being deleted: every create would fail, nothing to report or retry (as upstream).
          if (isNamespaceTerminating(e)) return;
          void this.events.record(eventTarget(rs), 'Warning', 'FailedCreate', `Error creating: ${(e as Error).message}`);
          throw e;
        }
      });
      this.log.debug({ [this.def.kind.toLowerCase()]: key, created: successes, wanted: n }, 'created pods');
      // Creates that failed or were skipped after a failed batch will never be seen: stop waiting for them.
      for (let i = successes; i < n; i++) this.expectations.creationObserved(key);
      if (error) throw error;
      return;
    }
    if (diff > 0) {
      const n = Math.min(diff, this.burst);
      const victims = this.podsToDelete(rs, pods, n);
      this.expectations.expect(key, 0, victims.map(objectKey));
      const results = await Promise.allSettled(victims.map(async (pod) => {
        try {
          await this.deps.client.delete(PODS, pod.metadata!.namespace, pod.metadata!.name!);
          void this.events.record(eventTarget(rs), 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata!.name}`);
        } catch (e) {
          this.expectations.deletionObserved(key, objectKey(pod));
          if (e instanceof ApiError && e.isNotFound) return;
          void this.events.record(eventTarget(rs), 'Warning', 'FailedDelete', `Error deleting: ${(e as Error).message}`);
          throw e;
        }
      }));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    }
  }

  /** The `n` pods to delete first; pods doubled up with pods of the same controller on a node go before others. */
  private podsToDelete(rs: ReplicatedObject, pods: Pod[], n: number): Pod[] {
    if (n >= pods.length) return pods;
    const related = this.pods.byIndex('byOwnerUid', rs.metadata!.uid!);
    return deletionOrder(pods, rankByRelatedOnSameNode(pods, related), this.clock.now()).slice(0, n);
  }

  private calculateStatus(rs: ReplicatedObject, pods: Pod[], err: unknown): NonNullable<ReplicatedObject['status']> {
    const templateLabels = rs.spec?.template?.metadata?.labels ?? {};
    const now = this.clock.now();
    const minReady = rs.spec?.minReadySeconds ?? 0;
    const fullyLabeled = pods.filter((p) => Object.entries(templateLabels).every(([k, v]) => p.metadata?.labels?.[k] === v)).length;
    const ready = pods.filter(isPodReady);
    const status = structuredClone(rs.status ?? {});
    let conditions = (status.conditions ?? []).filter((c) => c.type !== 'ReplicaFailure');
    const failure = rs.status?.conditions?.find((c) => c.type === 'ReplicaFailure');
    if (err && !failure) {
      const diff = pods.length - (rs.spec?.replicas ?? 1);
      const reason = diff < 0 ? 'FailedCreate' : diff > 0 ? 'FailedDelete' : '';
      conditions.push({ type: 'ReplicaFailure', status: 'True', lastTransitionTime: new Date(now).toISOString().replace(/\.\d+Z$/, 'Z'), reason, message: (err as Error).message });
    } else if (err && failure) {
      conditions = status.conditions ?? [];
    }
    return {
      ...status,
      replicas: pods.length,
      fullyLabeledReplicas: fullyLabeled,
      readyReplicas: ready.length,
      availableReplicas: ready.filter((p) => isPodAvailable(p, minReady, now)).length,
      observedGeneration: rs.metadata?.generation ?? status.observedGeneration,
      ...(conditions.length ? { conditions } : { conditions: undefined }),
    };
  }

  /** Writes status through `/status` when it changed; one retry on a conflict, as upstream. */
  private async updateStatus(rs: ReplicatedObject, status: NonNullable<ReplicatedObject['status']>): Promise<ReplicatedObject | undefined> {
    const clean = (s: object) => JSON.stringify(Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined && v !== 0)));
    if (clean(rs.status ?? {}) === clean(status)) return rs;
    let target = rs;
    for (let attempt = 0; ; attempt++) {
      try {
        const { conditions, ...rest } = status;
        return await this.deps.client.update<ReplicatedObject>(this.def, rs.metadata!.namespace, { ...target, status: { ...rest, ...(conditions ? { conditions } : {}) } }, { subresource: 'status' });
      } catch (e) {
        if (e instanceof ApiError && e.isNotFound) return undefined;
        if (!(e instanceof ApiError && e.isConflict) || attempt >= 1) throw e;
        target = await this.deps.client.get<ReplicatedObject>(this.def, rs.metadata!.namespace, rs.metadata!.name!);
      }
    }
  }
}
