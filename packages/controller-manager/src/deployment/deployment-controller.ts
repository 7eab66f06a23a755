import {
  ApiError, DEPLOYMENTS, EventRecorder, eventTarget, getControllerOf, labelSelectorRequirements, matchesLabels, newControllerRef,
  objectKey, PODS, realClock, REPLICASETS, runWorkers, silentLogger, WorkQueue,
  type ApiClient, type Clock, type Deployment, type InformerFactory, type LabelRequirement, type Logger, type Pod, type ReplicaSet,
  type SharedInformer,
} from '@k8ts/api';
import { claim } from '../ref-manager.js';
import {
  activeOnly, byCreation, byRevision, bySize, computeHash, condition, deploymentComplete, deploymentProgressing, deploymentTimedOut,
  desiredOf, equalIgnoreHash, hasProgressDeadline, isRollingUpdate, maxSurge, maxUnavailable, newRSNewReplicas, POD_TEMPLATE_HASH,
  proportion, REASONS, replicasAnnotationsNeedUpdate, replicasOf, REVISION, revisionOf, setCondition, setNewReplicaSetAnnotations,
  setReplicasAnnotations, sumSpec, sumStatus, type DeploymentCondition,
} from './util.js';

type Status = NonNullable<Deployment['status']>;

export interface DeploymentControllerDeps {
  client: ApiClient;
  informers: InformerFactory;
  log?: Logger;
  clock?: Clock;
}

/**
 * Rolls Deployments out through ReplicaSets, as upstream's DeploymentController: one ReplicaSet per pod template
 * (`<name>-<pod-template-hash>`), RollingUpdate within maxSurge/maxUnavailable or Recreate, proportional scaling
 * of several live ReplicaSets, revisions and their history, paused Deployments, progress deadlines, and the
 * status `kubectl rollout status` reads.
 */
export class DeploymentController {
  readonly queue: WorkQueue<string>;
  private readonly deployments: SharedInformer<Deployment>;
  private readonly replicaSets: SharedInformer<ReplicaSet>;
  private readonly pods: SharedInformer<Pod>;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly events: EventRecorder;

  constructor(private readonly deps: DeploymentControllerDeps) {
    this.clock = deps.clock ?? realClock;
    this.log = (deps.log ?? silentLogger).child({ controller: 'deployment' });
    this.queue = new WorkQueue<string>({ clock: this.clock });
    this.events = new EventRecorder({ client: deps.client, component: 'deployment-controller', log: this.log, now: () => this.clock.now() });
    this.deployments = deps.informers.informerFor<Deployment>(DEPLOYMENTS);
    this.replicaSets = deps.informers.informerFor<ReplicaSet>(REPLICASETS);
    this.pods = deps.informers.informerFor<Pod>(PODS);
    this.deployments.addHandler({ onAdd: (d) => this.enqueue(d), onUpdate: (_o, d) => this.enqueue(d), onDelete: (d) => this.enqueue(d) });
    this.replicaSets.addHandler({
      onAdd: (rs) => this.onReplicaSet(rs),
      onUpdate: (old, rs) => {
        if (old.metadata?.resourceVersion === rs.metadata?.resourceVersion) return;
        const oldRef = getControllerOf(old);
        if (oldRef && oldRef.uid !== getControllerOf(rs)?.uid) this.onReplicaSet(old);
        this.onReplicaSet(rs, JSON.stringify(old.metadata?.labels) !== JSON.stringify(rs.metadata?.labels));
      },
      onDelete: (rs) => { const d = this.resolve(rs); if (d) this.enqueue(d); },
    });
    // Recreate waits for the old pods to be gone: their deletion is what lets it go on.
    this.pods.addHandler({
      onDelete: (pod) => {
        const rsRef = getControllerOf(pod);
        const rs = rsRef?.kind === 'ReplicaSet' ? this.replicaSets.get(`${pod.metadata?.namespace}/${rsRef.name}`) : undefined;
        const d = rs && this.resolve(rs);
        if (d && d.spec?.strategy?.type === 'Recreate') this.enqueue(d);
      },
    });
  }

  async run(signal: AbortSignal, workers = 5): Promise<void> {
    await Promise.all([this.deployments, this.replicaSets, this.pods].map((i) => i.waitForSync(signal))).catch(() => undefined);
    if (signal.aborted) return;
    await runWorkers(this.queue, (key) => this.sync(key), { workers, log: this.log, signal, keyField: 'deployment' });
  }

  private enqueue(d: Deployment, afterMs?: number): void {
    if (afterMs) this.queue.addAfter(objectKey(d), afterMs);
    else this.queue.add(objectKey(d));
  }

  private resolve(rs: ReplicaSet): Deployment | undefined {
    const ref = getControllerOf(rs);
    if (!ref || ref.kind !== 'Deployment') return undefined;
    const d = this.deployments.get(`${rs.metadata?.namespace}/${ref.name}`);
    return d?.metadata?.uid === ref.uid ? d : undefined;
  }

  private onReplicaSet(rs: ReplicaSet, labelsChanged = true): void {
    if (getControllerOf(rs)) {
      const d = this.resolve(rs);
      if (d) this.enqueue(d);
      return;
    }
    if (!labelsChanged) return;
    // An orphan: every Deployment that selects it may adopt it.
    for (const d of this.deployments.lister().listNamespace(rs.metadata?.namespace ?? '')) {
      const sel = selectorOf(d);
      if (sel && matchesLabels(sel, rs.metadata?.labels)) this.enqueue(d);
    }
  }

  /** Converges one Deployment by key. Idempotent; never called concurrently for the same key. */
  async sync(key: string): Promise<void> {
    const cached = this.deployments.get(key);
    if (!cached) return;
    const d = structuredClone(cached);
    const selector = selectorOf(d);
    if (!selector) {
      void this.events.record(eventTarget(d), 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      if ((d.status?.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) {
        await this.writeStatus(d, { ...d.status, observedGeneration: d.metadata?.generation });
      }
      return;
    }
    const candidates = this.replicaSets.lister().listNamespace(d.metadata!.namespace!).map((rs) => structuredClone(rs));
    const rsList = await claim({ client: this.deps.client, owner: d, ownerDef: DEPLOYMENTS, dependentDef: REPLICASETS, selector }, candidates);
    if (d.metadata?.deletionTimestamp) { await this.syncStatusOnly(d, rsList); return; }
    await this.checkPausedConditions(d);
    if (d.spec?.paused) { await this.syncScaling(d, rsList); return; }
    if (this.isScalingEvent(d, rsList)) { await this.syncScaling(d, rsList); return; }
    if (d.spec?.strategy?.type === 'Recreate') await this.rolloutRecreate(d, rsList, selector);
    else await this.rolloutRolling(d, rsList);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // ReplicaSets of a Deployment

  /** The ReplicaSet whose template is the Deployment's (the oldest if several), and the others. */
  private split(d: Deployment, rsList: ReplicaSet[]): { newRS?: ReplicaSet; old: ReplicaSet[] } {
    const newRS = [...rsList].sort(byCreation).find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
    return { newRS, old: rsList.filter((rs) => rs !== newRS) };
  }

  /**
   * The new ReplicaSet (created when `create` and missing, with its revision one above every old one's) and the
   * old ones; keeps the Deployment's revision annotation in step (getAllReplicaSetsAndSyncRevision).
   */
  private async newAndOld(d: Deployment, rsList: ReplicaSet[], create: boolean): Promise<{ newRS?: ReplicaSet; old: ReplicaSet[] }> {
    const { newRS: existing, old } = this.split(d, rsList);
    const newRevision = Math.max(0, ...old.map(revisionOf)) + 1;
    if (existing) {
      const copy = structuredClone(existing);
      const annotationsChanged = setNewReplicaSetAnnotations(d, copy, newRevision, true);
      if (annotationsChanged || (copy.spec!.minReadySeconds ?? 0) !== (d.spec?.minReadySeconds ?? 0)) {
        copy.spec!.minReadySeconds = d.spec?.minReadySeconds ?? 0;
        return { newRS: await this.deps.client.update<ReplicaSet>(REPLICASETS, copy.metadata!.namespace, copy), old };
      }
      let statusChanged = false;
      const conditions = d.status?.conditions ?? [];
      if (hasProgressDeadline(d) && !conditions.some((c) => c.type === 'Progressing')) {
        d.status = { ...d.status, conditions: setCondition(conditions, condition('Progressing', 'True', REASONS.foundNewRS, `Found new replica set "${copy.metadata!.name}"`, this.clock.now())) };
        statusChanged = true;
      }
      await this.syncRevision(d, copy.metadata?.annotations?.[REVISION] ?? '');
      if (statusChanged) await this.writeStatus(d, d.status!);
      return { newRS: copy, old };
    }
    if (!create) return { old };
    const collisionCount = d.status?.collisionCount;
    const hash = computeHash(d.spec?.template, collisionCount);
    const template = structuredClone(d.spec!.template!);
    template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, [POD_TEMPLATE_HASH]: hash } };
    const selector = structuredClone(d.spec!.selector!);
    selector.matchLabels = { ...selector.matchLabels, [POD_TEMPLATE_HASH]: hash };
    const rs: ReplicaSet = {
      apiVersion: 'apps/v1', kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata!.name}-${hash}`, namespace: d.metadata!.namespace, labels: template.metadata.labels,
        ownerReferences: [newControllerRef(d, DEPLOYMENTS)],
      },
      spec: { replicas: 0, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
    };
    rs.spec!.replicas = newRSNewReplicas(d, [...old, rs], rs);
    setNewReplicaSetAnnotations(d, rs, newRevision, false);
    let created: ReplicaSet;
    let alreadyExisted = false;
    try {
      created = await this.deps.client.create<ReplicaSet>(REPLICASETS, d.metadata!.namespace, rs);
    } catch (e) {
      if (e instanceof ApiError && e.isAlreadyExists) {
        const found = this.replicaSets.get(`${d.metadata!.namespace}/${rs.metadata!.name}`)
          ?? await this.deps.client.get<ReplicaSet>(REPLICASETS, d.metadata!.namespace, rs.metadata!.name!);
        if (getControllerOf(found)?.uid === d.metadata?.uid && equalIgnoreHash(found.spec?.template, d.spec?.template)) {
          created = found;
          alreadyExisted = true;
        } else {
          // Another ReplicaSet holds the name: count a collision, so the next hash differs (upstream's collisionCount).
          await this.writeStatus(d, { ...d.status, collisionCount: (collisionCount ?? 0) + 1 });
          throw e;
        }
      } else {
        const msg = `Failed to create new replica set "${rs.metadata!.name}": ${(e as Error).message}`;
        if (hasProgressDeadline(d)) {
          await this.writeStatus(d, { ...d.status, conditions: setCondition(d.status?.conditions ?? [], condition('Progressing', 'False', REASONS.failedRSCreate, msg, this.clock.now())) });
        }
        void this.events.record(eventTarget(d), 'Warning', REASONS.failedRSCreate, msg);
        throw e;
      }
    }
    if (!alreadyExisted && replicasOf(created) > 0) {
      void this.events.record(eventTarget(d), 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${created.metadata!.name} from 0 to ${replicasOf(created)}`);
    }
    await this.syncRevision(d, String(newRevision));
    if (!alreadyExisted && hasProgressDeadline(d)) {
      d.status = { ...d.status, conditions: setCondition(d.status?.conditions ?? [], condition('Progressing', 'True', REASONS.newRSCreated, `Created new replica set "${created.metadata!.name}"`, this.clock.now())) };
      await this.writeStatus(d, d.status);
    }
    return { newRS: created, old };
  }

  /** The Deployment's revision annotation follows its new ReplicaSet's (SetDeploymentRevision). */
  private async syncRevision(d: Deployment, revision: string): Promise<void> {
    if (!revision || d.metadata?.annotations?.[REVISION] === revision) return;
    const updated = await this.deps.client.patch<Deployment>(DEPLOYMENTS, d.metadata!.namespace, d.metadata!.name!,
      { metadata: { annotations: { [REVISION]: revision } } }, 'merge');
    d.metadata = { ...d.metadata, annotations: { ...d.metadata?.annotations, [REVISION]: revision }, resourceVersion: updated.metadata?.resourceVersion };
  }

  /** Sets the ReplicaSet's size (and its desired/max annotations); an Event when the size changed. */
  private async scaleReplicaSet(rs: ReplicaSet, size: number, d: Deployment, op?: 'up' | 'down'): Promise<{ scaled: boolean; rs: ReplicaSet }> {
    const sizeChanged = replicasOf(rs) !== size;
    const desired = desiredOf(d);
    const max = desired + maxSurge(d);
    if (!sizeChanged && !replicasAnnotationsNeedUpdate(rs, desired, max)) return { scaled: false, rs };
    const from = replicasOf(rs);
    const copy = structuredClone(rs);
    copy.spec!.replicas = size;
    setReplicasAnnotations(copy, desired, max);
    const updated = await this.deps.client.update<ReplicaSet>(REPLICASETS, copy.metadata!.namespace, copy);
    if (sizeChanged) {
      const dir = op ?? (size > from ? 'up' : 'down');
      void this.events.record(eventTarget(d), 'Normal', 'ScalingReplicaSet', `Scaled ${dir} replica set ${rs.metadata!.name} from ${from} to ${size}`);
    }
    return { scaled: sizeChanged, rs: updated };
  }

  private async scaleAndRecord(rs: ReplicaSet, size: number, d: Deployment): Promise<{ scaled: boolean; rs: ReplicaSet }> {
    if (replicasOf(rs) === size) return { scaled: false, rs };
    return this.scaleReplicaSet(rs, size, d, size > replicasOf(rs) ? 'up' : 'down');
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Scaling (a changed spec.replicas, or a paused Deployment)

  /** A live ReplicaSet was sized for another replica count than the Deployment's (isScalingEvent). */
  private isScalingEvent(d: Deployment, rsList: ReplicaSet[]): boolean {
    const { newRS, old } = this.split(d, rsList);
    for (const rs of activeOnly([...old, newRS])) {
      const desired = rs.metadata?.annotations?.['deployment.kubernetes.io/desired-replicas'];
      if (desired !== undefined && Number(desired) !== desiredOf(d)) return true;
    }
    return false;
  }

  private async syncScaling(d: Deployment, rsList: ReplicaSet[]): Promise<void> {
    const { newRS, old } = await this.newAndOld(d, rsList, false);
    const scaled = await this.scale(d, newRS, old);
    if (d.spec?.paused) await this.cleanup(scaled.old, d);
    await this.syncDeploymentStatus([...scaled.old, scaled.newRS], scaled.newRS, d);
  }

  /** Scales the live ReplicaSets to the Deployment's size, proportionally when several are live (upstream's scale). */
  private async scale(d: Deployment, newRS: ReplicaSet | undefined, old: ReplicaSet[]): Promise<{ newRS?: ReplicaSet; old: ReplicaSet[] }> {
    const replace = (rs: ReplicaSet) => {
      if (newRS && rs.metadata?.uid === newRS.metadata?.uid) newRS = rs;
      else old = old.map((o) => (o.metadata?.uid === rs.metadata?.uid ? rs : o));
    };
    const activeOrLatest = (() => {
      if (!newRS && old.length === 0) return undefined;
      const sortedOld = [...old].sort(byCreation).reverse();
      const active = activeOnly([...sortedOld, newRS]);
      if (active.length === 0) return newRS ?? sortedOld[0];
      return active.length === 1 ? active[0] : undefined;
    })();
    if (activeOrLatest) {
      if (replicasOf(activeOrLatest) !== desiredOf(d)) replace((await this.scaleAndRecord(activeOrLatest, desiredOf(d), d)).rs);
      return { newRS, old };
    }
    if (isSaturated(d, newRS)) {
      for (const rs of activeOnly(old)) replace((await this.scaleAndRecord(rs, 0, d)).rs);
      return { newRS, old };
    }
    if (!isRollingUpdate(d)) return { newRS, old };
    const all = activeOnly([...old, newRS]);
    const allowed = desiredOf(d) > 0 ? desiredOf(d) + maxSurge(d) : 0;
    const toAdd = allowed - sumSpec(all);
    let op: 'up' | 'down' | undefined;
    if (toAdd > 0) { all.sort(bySize(true)); op = 'up'; }
    if (toAdd < 0) { all.sort(bySize(false)); op = 'down'; }
    let added = 0;
    const sizes = new Map<ReplicaSet, number>();
    for (const rs of all) {
      if (toAdd !== 0) {
        const p = proportion(rs, d, toAdd, added);
        sizes.set(rs, replicasOf(rs) + p);
        added += p;
      } else sizes.set(rs, replicasOf(rs));
    }
    for (const [i, rs] of all.entries()) {
      // Leftovers go to the largest ReplicaSet.
      if (i === 0 && toAdd !== 0) sizes.set(rs, Math.max(0, sizes.get(rs)! + toAdd - added));
      replace((await this.scaleReplicaSet(rs, sizes.get(rs)!, d, op)).rs);
    }
    return { newRS, old };
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Rollouts

  private async rolloutRolling(d: Deployment, rsList: ReplicaSet[]): Promise<void> {
    const { newRS, old } = await this.newAndOld(d, rsList, true);
    const target = newRS!;
    let all: ReplicaSet[] = [...old, target];
    // Scale up the new ReplicaSet as far as maxSurge allows.
    if (replicasOf(target) !== desiredOf(d)) {
      const size = replicasOf(target) > desiredOf(d) ? desiredOf(d) : newRSNewReplicas(d, all, target);
      const r = await this.scaleAndRecord(target, size, d);
      if (r.scaled) { all = [...old, r.rs]; await this.syncRolloutStatus(all, r.rs, d); return; }
    }
    // Scale down old ReplicaSets as far as maxUnavailable allows.
    const scaledDown = await this.reconcileOld(all, activeOnly(old), target, d);
    if (scaledDown.count > 0) { await this.syncRolloutStatus([...scaledDown.old, target], target, d); return; }
    if (deploymentComplete(d, d.status ?? {})) await this.cleanup(old, d);
    await this.syncRolloutStatus(all, target, d);
  }

  /** Old ReplicaSets scaled down: unhealthy replicas first, then within maxUnavailable (reconcileOldReplicaSets). */
  private async reconcileOld(all: ReplicaSet[], old: ReplicaSet[], newRS: ReplicaSet, d: Deployment): Promise<{ count: number; old: ReplicaSet[] }> {
    if (sumSpec(old) === 0) return { count: 0, old };
    const minAvailable = desiredOf(d) - maxUnavailable(d);
    const newUnavailable = replicasOf(newRS) - (newRS.status?.availableReplicas ?? 0);
    const maxScaledDown = sumSpec(all) - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return { count: 0, old };
    let count = 0;
    // Unhealthy replicas first: they would otherwise block the rollout until it times out.
    old = [...old].sort(byCreation);
    for (const [i, rs] of old.entries()) {
      if (count >= maxScaledDown) break;
      const unhealthy = replicasOf(rs) - (rs.status?.availableReplicas ?? 0);
      if (replicasOf(rs) === 0 || unhealthy <= 0) continue;
      const n = Math.min(maxScaledDown - count, unhealthy);
      old[i] = (await this.scaleAndRecord(rs, replicasOf(rs) - n, d)).rs;
      count += n;
    }
    // Then healthy ones, as long as enough stay available. A ReplicaSet never counts more available pods than its
    // size: one just scaled down still reports the pods it is deleting until its controller syncs again, and counting
    // those would let a second pass scale below maxUnavailable (a guard upstream does not have).
    const available = [...old, newRS].reduce((n, rs) => n + Math.min(rs.status?.availableReplicas ?? 0, replicasOf(rs)), 0);
    const total = available - minAvailable;
    let down = 0;
    if (total > 0) {
      for (const [i, rs] of old.entries()) {
        if (down >= total) break;
        if (replicasOf(rs) === 0) continue;
        const n = Math.min(replicasOf(rs), total - down);
        old[i] = (await this.scaleAndRecord(rs, replicasOf(rs) - n, d)).rs;
        down += n;
      }
    }
    return { count: count + down, old };
  }

  private async rolloutRecreate(d: Deployment, rsList: ReplicaSet[], selector: LabelRequirement[]): Promise<void> {
    let { newRS, old } = await this.newAndOld(d, rsList, false);
    let scaledDown = false;
    for (const [i, rs] of old.entries()) {
      if (replicasOf(rs) === 0) continue;
      const r = await this.scaleAndRecord(rs, 0, d);
      old[i] = r.rs;
      if (r.scaled) scaledDown = true;
    }
    if (scaledDown) { await this.syncRolloutStatus([...old, newRS], newRS, d); return; }
    // Never overlap: wait until no pod of an old ReplicaSet runs (oldPodsRunning).
    if (this.oldPodsRunning(d, newRS, old, selector)) { await this.syncRolloutStatus([...old, newRS], newRS, d); return; }
    if (!newRS) ({ newRS, old } = await this.newAndOld(d, rsList, true));
    const r = await this.scaleAndRecord(newRS!, desiredOf(d), d);
    newRS = r.rs;
    if (deploymentComplete(d, d.status ?? {})) await this.cleanup(old, d);
    await this.syncRolloutStatus([...old, newRS], newRS, d);
  }

  private oldPodsRunning(d: Deployment, newRS: ReplicaSet | undefined, old: ReplicaSet[], selector: LabelRequirement[]): boolean {
    if (sumStatus(old, 'replicas') > 0) return true;
    const owners = new Set(old.map((rs) => rs.metadata!.uid));
    return this.pods.lister().listNamespace(d.metadata!.namespace!, selector).some((p) => {
      const ref = getControllerOf(p);
      if (!ref || !owners.has(ref.uid) || ref.uid === newRS?.metadata?.uid) return false;
      return p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded';
    });
  }

  /** Deletes the oldest empty old ReplicaSets beyond revisionHistoryLimit (cleanupDeployment). */
  private async cleanup(old: ReplicaSet[], d: Deployment): Promise<void> {
    const limit = d.spec?.revisionHistoryLimit;
    if (limit === undefined || limit === null) return;
    const alive = old.filter((rs) => !rs.metadata?.deletionTimestamp).sort(byRevision);
    const diff = alive.length - limit;
    for (const rs of alive.slice(0, Math.max(0, diff))) {
      if ((rs.status?.replicas ?? 0) !== 0 || replicasOf(rs) !== 0 || (rs.metadata?.generation ?? 0) > (rs.status?.observedGeneration ?? 0)) continue;
      try {
        await this.deps.client.delete(REPLICASETS, rs.metadata!.namespace, rs.metadata!.name!);
      } catch (e) {
        if (!(e instanceof ApiError && e.isNotFound)) throw e;
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Status

  private async checkPausedConditions(d: Deployment): Promise<void> {
    if (!hasProgressDeadline(d)) return;
    const cond = d.status?.conditions?.find((c) => c.type === 'Progressing');
    const pausedCond = cond?.reason === REASONS.paused;
    let next: DeploymentCondition | undefined;
    if (d.spec?.paused && !pausedCond) next = condition('Progressing', 'Unknown', REASONS.paused, 'Deployment is paused', this.clock.now());
    else if (!d.spec?.paused && pausedCond) next = condition('Progressing', 'Unknown', REASONS.resumed, 'Deployment is resumed', this.clock.now());
    if (!next) return;
    await this.writeStatus(d, { ...d.status, conditions: setCondition(d.status?.conditions ?? [], next) });
  }

  private calculateStatus(all: (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined, d: Deployment): Status {
    const available = sumStatus(all, 'availableReplicas');
    const status: Status = {
      observedGeneration: d.metadata?.generation,
      replicas: sumStatus(all, 'replicas'),
      updatedReplicas: sumStatus([newRS], 'replicas'),
      readyReplicas: sumStatus(all, 'readyReplicas'),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, sumSpec(all) - available),
      ...(d.status?.collisionCount !== undefined ? { collisionCount: d.status.collisionCount } : {}),
      conditions: [...(d.status?.conditions ?? [])],
    };
    const now = this.clock.now();
    status.conditions = setCondition(status.conditions!, available >= desiredOf(d) - maxUnavailable(d)
      ? condition('Available', 'True', REASONS.minimumAvailable, 'Deployment has minimum availability.', now)
      : condition('Available', 'False', REASONS.minimumUnavailable, 'Deployment does not have minimum availability.', now));
    return status;
  }

  private async syncStatusOnly(d: Deployment, rsList: ReplicaSet[]): Promise<void> {
    const { newRS, old } = await this.newAndOld(d, rsList, false);
    await this.syncDeploymentStatus([...old, newRS], newRS, d);
  }

  private async syncDeploymentStatus(all: (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined, d: Deployment): Promise<void> {
    const status = this.calculateStatus(all, newRS, d);
    if (!sameStatus(d.status, status)) await this.writeStatus(d, status);
  }

  /** Status with the Progressing condition as upstream's syncRolloutStatus computes it; requeues a stuck rollout. */
  private async syncRolloutStatus(all: (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined, d: Deployment): Promise<void> {
    const status = this.calculateStatus(all, newRS, d);
    const now = this.clock.now();
    if (!hasProgressDeadline(d)) status.conditions = status.conditions!.filter((c) => c.type !== 'Progressing');
    const current = d.status?.conditions?.find((c) => c.type === 'Progressing');
    const complete = status.replicas === status.updatedReplicas && current?.reason === REASONS.newRSAvailable;
    const name = newRS ? `ReplicaSet "${newRS.metadata!.name}"` : `Deployment "${d.metadata!.name}"`;
    if (hasProgressDeadline(d) && !complete) {
      if (deploymentComplete(d, status)) {
        status.conditions = setCondition(status.conditions!, condition('Progressing', 'True', REASONS.newRSAvailable, `${name} has successfully progressed.`, now));
      } else if (deploymentProgressing(d, status)) {
        const c = condition('Progressing', 'True', REASONS.rsUpdated, `${name} is progressing.`, now);
        if (current?.status === 'True') c.lastTransitionTime = current.lastTransitionTime;
        status.conditions = [...status.conditions!.filter((x) => x.type !== 'Progressing'), c];
      } else if (deploymentTimedOut(d, status, now)) {
        status.conditions = setCondition(status.conditions!, condition('Progressing', 'False', REASONS.timedOut, `${name} has timed out progressing.`, now));
      }
    }
    const failure = [newRS, ...all.filter((rs) => rs !== newRS)].map((rs) => rs?.status?.conditions?.find((c) => c.type === 'ReplicaFailure')).find(Boolean);
    if (failure) {
      status.conditions = setCondition(status.conditions!, { type: 'ReplicaFailure', status: failure.status, reason: failure.reason, message: failure.message, lastUpdateTime: failure.lastTransitionTime, lastTransitionTime: failure.lastTransitionTime });
    } else {
      status.conditions = status.conditions!.filter((c) => c.type !== 'ReplicaFailure');
    }
    if (!sameStatus(d.status, status)) await this.writeStatus(d, status);
    this.requeueStuck(d, status, now);
  }

  /** A rollout in progress is looked at again when its progress deadline would pass (requeueStuckDeployment). */
  private requeueStuck(d: Deployment, status: Status, now: number): void {
    const c = status.conditions?.find((x) => x.type === 'Progressing');
    if (!hasProgressDeadline(d) || !c || deploymentComplete(d, status) || c.reason === REASONS.timedOut) return;
    const after = Date.parse(c.lastUpdateTime ?? '') + d.spec!.progressDeadlineSeconds! * 1000 - now;
    if (after < 1000) this.queue.addRateLimited(objectKey(d));
    else this.enqueue(d, after + 1000);
  }

  private async writeStatus(d: Deployment, status: Status): Promise<void> {
    try {
      const updated = await this.deps.client.update<Deployment>(DEPLOYMENTS, d.metadata!.namespace, { ...d, status }, { subresource: 'status' });
      d.metadata = updated.metadata;
      d.status = updated.status;
    } catch (e) {
      // A conflict or a deleted Deployment: the informer brings the news, and the next sync starts from it.
      if (e instanceof ApiError && (e.isConflict || e.isNotFound)) { this.queue.addRateLimited(objectKey(d)); return; }
      throw e;
    }
  }
}

/** The Deployment's selector; null for a missing or empty one (which would select every pod). */
export function selectorOf(d: Deployment): LabelRequirement[] | null {
  const reqs = labelSelectorRequirements(d.spec?.selector);
  return reqs && reqs.length ? reqs : null;
}

/** The new ReplicaSet has every replica the Deployment wants, available (IsSaturated). */
function isSaturated(d: Deployment, rs: ReplicaSet | undefined): boolean {
  if (!rs) return false;
  const desired = Number(rs.metadata?.annotations?.['deployment.kubernetes.io/desired-replicas']);
  return replicasOf(rs) === desiredOf(d) && desired === desiredOf(d) && (rs.status?.availableReplicas ?? 0) === desiredOf(d);
}

/** Equal statuses, ignoring condition timestamps only where nothing else about the condition changed. */
function sameStatus(a: Status | undefined, b: Status): boolean {
  return JSON.stringify(normalize(a ?? {})) === JSON.stringify(normalize(b));
}

function normalize(s: Status): unknown {
  const { conditions, ...rest } = s;
  const clean = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined && v !== 0).sort(([x], [y]) => (x < y ? -1 : 1)));
  return { ...clean, conditions: [...(conditions ?? [])].sort((x, y) => (x.type < y.type ? -1 : 1)).map((c) => ({ ...c })) };
}
