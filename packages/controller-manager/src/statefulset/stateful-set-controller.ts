import {
  ApiError, byOwnerUid, CONTROLLERREVISIONS, EventRecorder, eventTarget, getControllerOf, labelSelectorRequirements, matchesLabels,
  newControllerRef, objectKey, PERSISTENTVOLUMECLAIMS, PODS, realClock, runWorkers, silentLogger, STATEFULSETS, WorkQueue,
  type ApiClient, type Clock, type InformerFactory, type LabelRequirement, type Logger, type Pod, type SharedInformer, type StatefulSet,
} from '@k8ts/api';
import { semanticEqual } from '../deployment/util.js';
import {
  applyRevision, ControllerHistory, equalRevision, findEqualRevisions, newControllerRevision, nextRevision, sortControllerRevisions,
  templatePatch, type ControllerRevision,
} from '../history/controller-history.js';
import { isPodReady, slowStartBatch } from '../pods.js';
import { claim } from '../ref-manager.js';
import {
  allowsBurst, claimOwnerMatches, claimsFor, descendingOrdinal, endOrdinal, hasStaleOwnerRef, identityMatches, inOrdinalRange,
  isCreated, isFailed, isMemberOf, isPending, isRunningAndAvailable, isRunningAndReady, isSucceeded, isTerminating, isUnavailable,
  maxUnavailableOf, newStatefulSetPod, ordinalOf, podRevision, setPodRevision, startOrdinal, storageMatches, updateClaimOwners,
  updateIdentity, updateStorage, type PersistentVolumeClaim,
} from './util.js';

type Status = NonNullable<StatefulSet['status']>;

/** Most pod creates or deletes in flight at once in Parallel mode (upstream's MaxBatchSize). */
export const MAX_BATCH_SIZE = 500;

export interface StatefulSetControllerDeps {
  client: ApiClient;
  informers: InformerFactory;
  log?: Logger;
  clock?: Clock;
}

function selectorOf(set: StatefulSet): LabelRequirement[] | null {
  const reqs = labelSelectorRequirements(set.spec?.selector as never);
  return reqs && reqs.length ? reqs : null;
}

/**
 * Runs the pods `<name>-0 … <name>-N-1` of each StatefulSet with stable identities, as upstream's StatefulSetController:
 * hostname and subdomain (serviceName), the pod-name, pod-index and controller-revision-hash labels, claims
 * `<template>-<name>-<ordinal>` created before each pod and owned as persistentVolumeClaimRetentionPolicy says;
 * OrderedReady (one at a time: each Running and Ready before the next, deletes in reverse) or Parallel; RollingUpdate
 * in reverse ordinal order down to `partition` (maxUnavailable at once when set), OnDelete; ControllerRevisions named
 * `<name>-<hash>` for `kubectl rollout history|undo`, and the status `kubectl get sts` and `rollout status` read.
 */
export class StatefulSetController {
  readonly queue: WorkQueue<string>;
  private readonly sets: SharedInformer<StatefulSet>;
  private readonly pods: SharedInformer<Pod>;
  private readonly revisions: SharedInformer<ControllerRevision>;
  private readonly claims: SharedInformer<PersistentVolumeClaim>;
  private readonly history: ControllerHistory;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly events: EventRecorder;

  constructor(private readonly deps: StatefulSetControllerDeps) {
    this.clock = deps.clock ?? realClock;
    this.log = (deps.log ?? silentLogger).child({ controller: 'statefulset' });
    this.queue = new WorkQueue<string>({ clock: this.clock });
    this.events = new EventRecorder({ client: deps.client, component: 'statefulset-controller', log: this.log, now: () => this.clock.now() });
    this.sets = deps.informers.informerFor<StatefulSet>(STATEFULSETS);
    this.pods = deps.informers.informerFor<Pod>(PODS, { indexers: { byOwnerUid } });
    this.revisions = deps.informers.informerFor<ControllerRevision>(CONTROLLERREVISIONS);
    this.claims = deps.informers.informerFor<PersistentVolumeClaim>(PERSISTENTVOLUMECLAIMS);
    this.history = new ControllerHistory(deps.client, this.revisions);
    this.sets.addHandler({ onAdd: (s) => this.enqueue(s), onUpdate: (_o, s) => this.enqueue(s), onDelete: (s) => this.enqueue(s) });
    this.pods.addHandler({ onAdd: (p) => this.onPod(p, true), onUpdate: (o, p) => this.onPodUpdate(o, p), onDelete: (p) => this.onPod(p, false) });
  }

  /** Waits for the caches, then syncs with `workers` workers until the signal aborts. */
  async run(signal: AbortSignal, workers = 5): Promise<void> {
    await Promise.all([this.sets, this.pods, this.revisions, this.claims].map((i) => i.waitForSync(signal))).catch(() => undefined);
    if (signal.aborted) return;
    await runWorkers(this.queue, (key) => this.sync(key), { workers, log: this.log, signal, keyField: 'statefulset' });
  }

  private enqueue(set: StatefulSet, afterMs?: number): void {
    if (afterMs) this.queue.addAfter(objectKey(set), afterMs);
    else this.queue.add(objectKey(set));
  }

  private resolve(pod: Pod, ref = getControllerOf(pod)): StatefulSet | undefined {
    if (!ref || ref.kind !== 'StatefulSet') return undefined;
    const set = this.sets.get(`${pod.metadata?.namespace}/${ref.name}`);
    return set?.metadata?.uid === ref.uid ? set : undefined;
  }

  private matching(pod: Pod): StatefulSet[] {
    return this.sets.lister().listNamespace(pod.metadata?.namespace ?? '').filter((s) => {
      const sel = selectorOf(s);
      return sel !== null && matchesLabels(sel, pod.metadata?.labels);
    });
  }

  private onPod(pod: Pod, added: boolean): void {
    const set = this.resolve(pod);
    if (set) { this.enqueue(set); return; }
    if (added && !getControllerOf(pod) && !pod.metadata?.deletionTimestamp) for (const s of this.matching(pod)) this.enqueue(s);
  }

  private onPodUpdate(old: Pod, pod: Pod): void {
    if (old.metadata?.resourceVersion === pod.metadata?.resourceVersion) return;
    const oldRef = getControllerOf(old);
    const ref = getControllerOf(pod);
    if (oldRef && oldRef.uid !== ref?.uid) { const prev = this.resolve(old, oldRef); if (prev) this.enqueue(prev); }
    if (ref) {
      const set = this.resolve(pod, ref);
      if (!set) return;
      this.enqueue(set);
      const minReady = set.spec?.minReadySeconds ?? 0;
      // Available only minReadySeconds after Ready: look again then (+1 s, as upstream).
      if (minReady > 0 && !isPodReady(old) && isPodReady(pod)) this.enqueue(set, (minReady + 1) * 1000);
      return;
    }
    if (!semanticEqual(old.metadata?.labels, pod.metadata?.labels) || oldRef) for (const s of this.matching(pod)) this.enqueue(s);
  }

  /** Converges one StatefulSet by key. Idempotent; never called concurrently for the same key. */
  async sync(key: string): Promise<void> {
    const cached = this.sets.get(key);
    if (!cached) return;
    const set = structuredClone(cached);
    const selector = selectorOf(set);
    if (!selector) {
      void this.events.record(eventTarget(set), 'Warning', 'SelectingAll', 'This statefulset is selecting all pods. A non-empty selector is required.');
      return;
    }
    await this.adoptOrphanRevisions(set, selector);
    const candidates = this.pods.lister().listNamespace(set.metadata!.namespace!).filter((p) => isMemberOf(set, p));
    const pods = await claim({ client: this.deps.client, owner: set, ownerDef: STATEFULSETS, dependentDef: PODS, selector }, candidates);
    const status = await this.updateStatefulSet(set, pods, selector);
    const minReady = set.spec?.minReadySeconds ?? 0;
    if (status && minReady > 0 && (status.availableReplicas ?? 0) !== (set.spec?.replicas ?? 1)) this.enqueue(set, minReady * 1000);
  }

  private async adoptOrphanRevisions(set: StatefulSet, selector: LabelRequirement[]): Promise<void> {
    const orphans = this.history.list(set, selector).filter((r) => !getControllerOf(r));
    if (!orphans.length) return;
    const fresh = await this.deps.client.get<StatefulSet>(STATEFULSETS, set.metadata!.namespace, set.metadata!.name!);
    if (fresh.metadata?.uid !== set.metadata?.uid) throw new Error(`original StatefulSet ${objectKey(set)} is gone: got uid ${fresh.metadata?.uid}, wanted ${set.metadata?.uid}`);
    for (const r of orphans) await this.history.adopt(set, STATEFULSETS, r);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // The control loop (defaultStatefulSetControl)

  /** Revisions, pods, status and history of one set (UpdateStatefulSet). Returns the status written (or that was current). */
  private async updateStatefulSet(set: StatefulSet, pods: Pod[], selector: LabelRequirement[]): Promise<Status | undefined> {
    const revisions = sortControllerRevisions(this.history.list(set, selector));
    let current: ControllerRevision | undefined;
    let update: ControllerRevision | undefined;
    let err: unknown;
    let status: Status | undefined;
    try {
      const revs = await this.revisionsOf(set, revisions);
      current = revs.current.rev;
      update = revs.update;
      const { status: computed, err: updateErr } = await this.updatePods(set, current, update, revs.current.collisionCount, pods);
      status = computed;
      err = updateErr;
      await this.writeStatus(set, status);
    } catch (e) {
      err ??= e;
    }
    try {
      await this.truncateHistory(set, pods, revisions, current, update);
    } catch (e) {
      err ??= e;
    }
    if (err) throw err;
    return status;
  }

  /** The current and update revisions; a new template gets a new revision, a template seen before gets its revision renumbered (getStatefulSetRevisions). */
  private async revisionsOf(set: StatefulSet, revisions: ControllerRevision[]): Promise<{ current: { rev: ControllerRevision; collisionCount: number }; update: ControllerRevision }> {
    const collisionCount = { value: set.status?.collisionCount ?? 0 };
    const candidate = newControllerRevision(set, STATEFULSETS, set.spec?.template?.metadata?.labels, templatePatch(set), nextRevision(revisions), collisionCount.value);
    if (set.metadata?.annotations) candidate.metadata!.annotations = { ...set.metadata.annotations };
    const equal = findEqualRevisions(revisions, candidate);
    let update: ControllerRevision;
    if (equal.length && equalRevision(revisions[revisions.length - 1], equal[equal.length - 1])) {
      update = revisions[revisions.length - 1];
    } else if (equal.length) {
      // A template seen before (a rollback): renumber that revision rather than record it again.
      update = await this.history.update(equal[equal.length - 1], candidate.revision!);
    } else {
      update = await this.history.create(set, candidate, collisionCount);
    }
    const current = revisions.find((r) => r.metadata?.name === set.status?.currentRevision) ?? update;
    return { current: { rev: current, collisionCount: collisionCount.value }, update };
  }

  /** Counts replicas, ready, available, current and updated pods (updateStatus / computeReplicaStatus). */
  private countInto(status: Status, set: StatefulSet, current: ControllerRevision, update: ControllerRevision, ...lists: (Pod | undefined)[][]): void {
    const now = this.clock.now();
    const minReady = set.spec?.minReadySeconds ?? 0;
    let replicas = 0; let ready = 0; let available = 0; let cur = 0; let upd = 0;
    for (const list of lists) {
      for (const pod of list) {
        if (!pod) continue;
        if (isCreated(pod)) replicas++;
        if (isRunningAndReady(pod)) { ready++; if (isRunningAndAvailable(pod, minReady, now)) available++; }
        if (isCreated(pod) && !isTerminating(pod)) {
          if (podRevision(pod) === current.metadata?.name) cur++;
          if (podRevision(pod) === update.metadata?.name) upd++;
        }
      }
    }
    Object.assign(status, { replicas, readyReplicas: ready, availableReplicas: available, currentReplicas: cur, updatedReplicas: upd });
  }

  /**
   * Creates, deletes and updates pods towards the target state (updateStatefulSet): every ordinal in range has a pod,
   * condemned pods (out of range) go highest first, and pods not at the update revision are replaced from the top
   * down to `partition`. OrderedReady stops at the first pod that is not yet Running, Ready and available.
   */
  private async updatePods(set: StatefulSet, currentRev: ControllerRevision, updateRev: ControllerRevision, collisionCount: number, pods: Pod[]): Promise<{ status: Status; err?: unknown }> {
    const currentSet = applyRevision(set, currentRev);
    const updateSet = applyRevision(set, updateRev);
    const status: Status = {
      observedGeneration: set.metadata?.generation, currentRevision: currentRev.metadata!.name, updateRevision: updateRev.metadata!.name,
      collisionCount, replicas: 0,
    };
    this.countInto(status, set, currentRev, updateRev, pods);
    const start = startOrdinal(set);
    const end = endOrdinal(set);
    const replicas: Pod[] = new Array(Math.max(0, end - start + 1));
    const condemned: Pod[] = [];
    for (const pod of pods) {
      if (inOrdinalRange(pod, set)) replicas[ordinalOf(pod) - start] = pod;
      else if (ordinalOf(pod) >= 0) condemned.push(pod);
    }
    const ref = newControllerRef(set, STATEFULSETS);
    for (let ord = start; ord <= end; ord++) {
      if (replicas[ord - start]) continue;
      replicas[ord - start] = this.newVersionedPod(currentSet, updateSet, currentRev.metadata!.name!, updateRev.metadata!.name!, ord, ref);
    }
    condemned.sort(descendingOrdinal);
    const now = this.clock.now();
    const minReady = set.spec?.minReadySeconds ?? 0;
    let firstUnavailable: Pod | undefined;
    for (const p of replicas) if (isUnavailable(p, minReady, now)) { firstUnavailable ??= p; }
    for (let i = condemned.length - 1; i >= 0; i--) if (isUnavailable(condemned[i], minReady, now)) { firstUnavailable ??= condemned[i]; }
    if (set.metadata?.deletionTimestamp) return { status };

    const monotonic = !allowsBurst(set);
    const finish = (err?: unknown) => { this.countInto(status, set, currentRev, updateRev, replicas, condemned); return { status, err }; };
    try {
      if (await this.runForAll(replicas, (i) => this.processReplica(set, updateSet, monotonic, replicas, i), monotonic)) return finish();
      if (await this.runForAll(condemned, (i) => this.fixClaimOwners(updateSet, condemned[i]), monotonic)) return finish();
      if (await this.runForAll(condemned, (i) => this.processCondemned(set, firstUnavailable, monotonic, condemned, i), monotonic)) return finish();
    } catch (e) {
      return finish(e);
    }
    this.countInto(status, set, currentRev, updateRev, replicas, condemned);
    if (set.spec?.updateStrategy?.type === 'OnDelete') return { status };
    const partition = set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
    try {
      if (set.spec?.updateStrategy?.rollingUpdate?.maxUnavailable !== undefined) {
        await this.updateWithMaxUnavailable(set, replicas, updateRev, status, partition);
        return { status };
      }
      // Replace the highest pod not at the update revision; wait for an unavailable one first.
      for (let target = replicas.length - 1; target >= partition && target >= 0; target--) {
        const pod = replicas[target];
        if (podRevision(pod) !== updateRev.metadata!.name && !isTerminating(pod)) {
          this.log.info({ statefulset: objectKey(set), pod: pod.metadata!.name }, 'terminating pod for update');
          await this.deletePod(set, pod);
          status.currentReplicas = (status.currentReplicas ?? 0) - 1;
          return { status };
        }
        if (isUnavailable(pod, minReady, now)) return { status };
      }
    } catch (e) {
      return { status, err: e };
    }
    return { status };
  }

  /** With maxUnavailable: deletes up to maxUnavailable minus the unavailable pods at once, highest first (updateStatefulSetAfterInvariantEstablished). */
  private async updateWithMaxUnavailable(set: StatefulSet, replicas: Pod[], updateRev: ControllerRevision, status: Status, partition: number): Promise<void> {
    const now = this.clock.now();
    const minReady = set.spec?.minReadySeconds ?? 0;
    const maxUnavailable = maxUnavailableOf(set);
    const unavailable = replicas.filter((p) => isUnavailable(p, minReady, now)).length;
    if (unavailable > maxUnavailable) return;
    let toDelete = maxUnavailable - unavailable;
    for (let target = replicas.length - 1; target >= partition && target >= 0 && toDelete > 0; target--) {
      const pod = replicas[target];
      if (podRevision(pod) === updateRev.metadata!.name || isTerminating(pod)) continue;
      await this.deletePod(set, pod);
      toDelete--;
      status.currentReplicas = (status.currentReplicas ?? 0) - 1;
    }
  }

  /** Below the partition (or the current count without a rollingUpdate) from the current revision, else from the update one (newVersionedStatefulSetPod). */
  private newVersionedPod(currentSet: StatefulSet, updateSet: StatefulSet, current: string, update: string, ordinal: number, ref: ReturnType<typeof newControllerRef>): Pod {
    const strategy = currentSet.spec?.updateStrategy;
    const start = startOrdinal(currentSet);
    const useCurrent = (strategy?.type ?? 'RollingUpdate') === 'RollingUpdate'
      && ((!strategy?.rollingUpdate && ordinal < start + (currentSet.status?.currentReplicas ?? 0))
        || (!!strategy?.rollingUpdate && ordinal < start + (strategy.rollingUpdate.partition ?? 0)));
    const pod = newStatefulSetPod(useCurrent ? currentSet : updateSet, ordinal, ref);
    setPodRevision(pod, useCurrent ? current : update);
    return pod;
  }

  /** Runs fn over the pods: one at a time, stopping when fn says so (monotonic), or all in slow-start batches (runForAll). True: stop here. */
  private async runForAll(pods: Pod[], fn: (i: number) => Promise<boolean>, monotonic: boolean): Promise<boolean> {
    if (monotonic) {
      for (let i = 0; i < pods.length; i++) if (await fn(i)) return true;
      return false;
    }
    let next = 0;
    let done = 0;
    while (done < pods.length) {
      const chunk = Math.min(MAX_BATCH_SIZE, pods.length - done);
      const { error } = await slowStartBatch(chunk, async () => { await fn(next++); });
      if (error) throw error;
      done += chunk;
    }
    return false;
  }

  /** One pod in range: replace failed or succeeded pods, create missing ones (claims first), fix identity and storage (processReplica). True: stop here. */
  private async processReplica(set: StatefulSet, updateSet: StatefulSet, monotonic: boolean, replicas: Pod[], i: number): Promise<boolean> {
    const pod = replicas[i];
    // A finished pod (evicted, or stopped on a node reboot) is replaced whatever its exit code.
    if (isFailed(pod) || isSucceeded(pod)) {
      if (!pod.metadata?.deletionTimestamp) await this.deletePod(set, pod);
      return true;
    }
    if (!isCreated(pod)) {
      if (this.claimIsStale(set, pod)) return true;
      await this.createPod(set, pod);
      if (monotonic) return true;
      return false;
    }
    if (isPending(pod)) await this.createMissingClaims(set, pod);
    if (isTerminating(pod) && monotonic) return true;
    if (!isRunningAndReady(pod) && monotonic) return true;
    if (!isRunningAndAvailable(pod, set.spec?.minReadySeconds ?? 0, this.clock.now()) && monotonic) return true;
    let retentionMatch = true;
    try { retentionMatch = this.claimsMatchRetention(updateSet, pod); } catch { retentionMatch = true; }
    if (identityMatches(set, pod) && storageMatches(set, pod) && retentionMatch) return false;
    await this.updatePod(updateSet, structuredClone(pod));
    return false;
  }

  /** One pod out of range: deleted highest first; OrderedReady waits for the others to be healthy (processCondemned). True: stop here. */
  private async processCondemned(set: StatefulSet, firstUnavailable: Pod | undefined, monotonic: boolean, condemned: Pod[], i: number): Promise<boolean> {
    const pod = condemned[i];
    if (isTerminating(pod)) return monotonic;
    const now = this.clock.now();
    if (monotonic && pod !== firstUnavailable && (!isRunningAndReady(pod) || !isRunningAndAvailable(pod, set.spec?.minReadySeconds ?? 0, now))) return true;
    this.log.info({ statefulset: objectKey(set), pod: pod.metadata!.name }, 'terminating pod for scale down');
    await this.deletePod(set, pod);
    return true;
  }

  private async fixClaimOwners(set: StatefulSet, pod: Pod): Promise<boolean> {
    if (!this.claimsMatchRetention(set, pod, true)) await this.updateClaimsForRetention(set, pod);
    return false;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Pods and claims (StatefulPodControl)

  private async createPod(set: StatefulSet, pod: Pod): Promise<void> {
    await this.createMissingClaims(set, pod);
    try {
      await this.deps.client.create<Pod>(PODS, set.metadata!.namespace, pod);
    } catch (e) {
      // Already there: the cache is behind; the next sync sees it.
      if (e instanceof ApiError && e.isAlreadyExists) throw e;
      this.podEvent('create', set, pod, e);
      throw e;
    }
    this.podEvent('create', set, pod);
  }

  private async deletePod(set: StatefulSet, pod: Pod): Promise<void> {
    try {
      await this.deps.client.delete(PODS, set.metadata!.namespace, pod.metadata!.name!);
    } catch (e) {
      if (e instanceof ApiError && e.isNotFound) return;
      this.podEvent('delete', set, pod, e);
      throw e;
    }
    this.podEvent('delete', set, pod);
  }

  /** Identity, storage and claim owners made to conform, the pod written back; retried on conflicts (UpdateStatefulPod). */
  private async updatePod(set: StatefulSet, pod: Pod): Promise<void> {
    let copy = pod;
    for (let attempt = 0; attempt < 10; attempt++) {
      let consistent = true;
      if (!identityMatches(set, copy)) { updateIdentity(set, copy); consistent = false; }
      if (!storageMatches(set, copy)) { updateStorage(set, copy); consistent = false; await this.createMissingClaims(set, copy); }
      if (!this.claimsMatchRetention(set, copy, true)) await this.updateClaimsForRetention(set, copy);
      if (consistent) return;
      try {
        await this.deps.client.update(PODS, set.metadata!.namespace, copy);
        this.podEvent('update', set, copy);
        return;
      } catch (e) {
        if (!(e instanceof ApiError && e.isConflict)) { this.podEvent('update', set, copy, e); throw e; }
        copy = await this.deps.client.get<Pod>(PODS, set.metadata!.namespace, copy.metadata!.name!);
      }
    }
    const err = new Error('aborting update after 10 attempts');
    this.podEvent('update', set, pod, err);
    throw err;
  }

  private claimFromCache(ns: string, name: string): PersistentVolumeClaim | undefined {
    return this.claims.get(`${ns}/${name}`);
  }

  /** Creates the pod's claims that do not exist yet, owned as the retention policy says (createPersistentVolumeClaims). */
  private async createMissingClaims(set: StatefulSet, pod: Pod): Promise<void> {
    const errors: Error[] = [];
    for (const c of claimsFor(set, pod).values()) {
      const existing = this.claimFromCache(set.metadata!.namespace!, c.metadata!.name!);
      if (existing) {
        if (existing.metadata?.deletionTimestamp) errors.push(new Error(`pvc ${c.metadata!.name} is being deleted`));
        continue;
      }
      updateClaimOwners(c, set, pod);
      try {
        await this.deps.client.create(PERSISTENTVOLUMECLAIMS, set.metadata!.namespace, c);
        void this.events.record(eventTarget(set), 'Normal', 'SuccessfulCreate', `create Claim ${c.metadata!.name} Pod ${pod.metadata!.name} in StatefulSet ${set.metadata!.name} success`);
      } catch (e) {
        if (e instanceof ApiError && e.isAlreadyExists) continue;
        void this.events.record(eventTarget(set), 'Warning', 'FailedCreate', `create Claim ${c.metadata!.name} for Pod ${pod.metadata!.name} in StatefulSet ${set.metadata!.name} failed error: ${(e as Error).message}`);
        errors.push(new Error(`failed to create PVC ${c.metadata!.name}: ${(e as Error).message}`, { cause: e }));
      }
    }
    if (errors.length) throw errors[0];
  }

  /** A claim still owned by an earlier pod of this name (it is about to be deleted with it): wait (PodClaimIsStale). */
  private claimIsStale(set: StatefulSet, pod: Pod): boolean {
    for (const c of claimsFor(set, pod).values()) {
      const existing = this.claimFromCache(set.metadata!.namespace!, c.metadata!.name!);
      if (existing && (hasStaleOwnerRef(existing, pod) || existing.metadata?.deletionTimestamp)) return true;
    }
    return false;
  }

  /** Every existing claim of the pod is owned as the policy says; a missing claim throws unless `skipMissing` (ClaimsMatchRetentionPolicy). */
  private claimsMatchRetention(set: StatefulSet, pod: Pod, skipMissing = false): boolean {
    for (const c of claimsFor(set, pod).values()) {
      const existing = this.claimFromCache(set.metadata!.namespace!, c.metadata!.name!);
      if (!existing) {
        if (skipMissing) continue;
        throw new Error(`could not retrieve claim ${c.metadata!.name} for ${pod.metadata!.name}`);
      }
      if (!claimOwnerMatches(existing, set, pod)) return false;
    }
    return true;
  }

  private async updateClaimsForRetention(set: StatefulSet, pod: Pod): Promise<void> {
    for (const c of claimsFor(set, pod).values()) {
      const existing = this.claimFromCache(set.metadata!.namespace!, c.metadata!.name!);
      if (!existing) continue;
      const next = structuredClone(existing);
      if (!updateClaimOwners(next, set, pod)) continue;
      try {
        await this.deps.client.update(PERSISTENTVOLUMECLAIMS, set.metadata!.namespace, next);
      } catch (e) {
        if (!(e instanceof ApiError && e.isNotFound)) throw e;
      }
    }
  }

  private podEvent(verb: 'create' | 'update' | 'delete', set: StatefulSet, pod: Pod, err?: unknown): void {
    const Verb = verb[0].toUpperCase() + verb.slice(1);
    if (!err) {
      void this.events.record(eventTarget(set), 'Normal', `Successful${Verb}`, `${verb} Pod ${pod.metadata!.name} in StatefulSet ${set.metadata!.name} successful`);
    } else {
      void this.events.record(eventTarget(set), 'Warning', `Failed${Verb}`, `${verb} Pod ${pod.metadata!.name} in StatefulSet ${set.metadata!.name} failed error: ${(err as Error).message}`);
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Status and history

  /** Completes a finished rolling update and writes status when it differs (updateStatefulSetStatus). */
  private async writeStatus(set: StatefulSet, status: Status): Promise<void> {
    const want = set.spec?.replicas ?? 1;
    if ((set.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate' && status.updatedReplicas === want && status.readyReplicas === want && status.replicas === want) {
      status.currentReplicas = status.updatedReplicas;
      status.currentRevision = status.updateRevision;
    }
    const st = set.status ?? { replicas: 0 };
    const fields = ['replicas', 'currentReplicas', 'readyReplicas', 'updatedReplicas', 'availableReplicas'] as const;
    const inconsistent = (status.observedGeneration ?? 0) > (st.observedGeneration ?? 0)
      || fields.some((f) => (status[f] ?? 0) !== (st[f] ?? 0))
      || status.currentRevision !== st.currentRevision || status.updateRevision !== st.updateRevision
      || (status.collisionCount ?? 0) !== (st.collisionCount ?? 0);
    if (!inconsistent) return;
    let target = set;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.deps.client.update(STATEFULSETS, set.metadata!.namespace, { ...target, status: { ...target.status, ...status } }, { subresource: 'status' });
        return;
      } catch (e) {
        if (e instanceof ApiError && e.isNotFound) return;
        if (!(e instanceof ApiError && e.isConflict) || attempt >= 9) throw e;
        target = await this.deps.client.get<StatefulSet>(STATEFULSETS, set.metadata!.namespace, set.metadata!.name!);
      }
    }
  }

  /** Deletes the oldest revisions no pod runs and that are neither current nor update, beyond revisionHistoryLimit (truncateHistory). */
  private async truncateHistory(set: StatefulSet, pods: Pod[], revisions: ControllerRevision[], current?: ControllerRevision, update?: ControllerRevision): Promise<void> {
    const live = new Set<string>();
    if (current) live.add(current.metadata!.name!);
    if (update) live.add(update.metadata!.name!);
    for (const p of pods) live.add(podRevision(p));
    const historic = revisions.filter((r) => !live.has(r.metadata!.name!));
    const limit = set.spec?.revisionHistoryLimit ?? 10;
    if (limit < 0 || historic.length <= limit) return;
    for (const r of historic.slice(0, historic.length - limit)) await this.history.delete(r);
  }
}
