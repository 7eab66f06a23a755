import {
  ApiError, isNamespaceTerminating, byOwnerUid, CONTROLLERREVISIONS, DAEMONSETS, EventRecorder, eventTarget, getControllerOf, labelSelectorRequirements,
  matchesLabels, newControllerRef, NODES, objectKey, PODS, realClock, runWorkers, silentLogger, WorkQueue,
  type ApiClient, type Clock, type DaemonSet, type InformerFactory, type LabelRequirement, type Logger, type Node, type Pod,
  type SharedInformer,
} from '@k8ts/api';
import { computeHash, semanticEqual } from '../deployment/util.js';
import { ControllerExpectations } from '../expectations.js';
import {
  ControllerHistory, maxRevision, POD_REVISION_LABEL, revisionMatches, sortControllerRevisions, templatePatch, type ControllerRevision,
} from '../history/controller-history.js';
import { isPodAvailable, isPodReady, podFromTemplate, slowStartBatch } from '../pods.js';
import { claim } from '../ref-manager.js';
import {
  addDaemonPodTolerations, allowsSurge, byCreationAndPhase, isPodUpdated, nodeShouldRunDaemonPod, replaceNodeNameAffinity, surgeCount,
  targetNodeName, TEMPLATE_GENERATION_KEY, templateGeneration, unavailableCount,
} from './util.js';

type Status = NonNullable<DaemonSet['status']>;

/** Most pods created or deleted by one sync (upstream's DaemonSet BurstReplicas). */
export const DAEMONSET_BURST_REPLICAS = 250;
/** Back-off between deletes of a failed daemon pod on one node: 1 s doubling to 15 min (failedPodsBackoff). */
const FAILED_POD_BACKOFF_MS = 1000;
const FAILED_POD_BACKOFF_MAX_MS = 15 * 60_000;

export interface DaemonSetControllerDeps {
  client: ApiClient;
  informers: InformerFactory;
  log?: Logger;
  clock?: Clock;
  burstReplicas?: number;
}

function selectorOf(ds: DaemonSet): LabelRequirement[] | null {
  const reqs = labelSelectorRequirements(ds.spec?.selector as never);
  return reqs && reqs.length ? reqs : null;
}

/**
 * Runs one pod of each DaemonSet on every node it should run on, as upstream's DaemonSetsController: eligibility by
 * nodeName, nodeSelector, node affinity and taints (with the daemon tolerations), pods pinned to their node by a
 * `metadata.name` node affinity term for the scheduler to bind, failed pods replaced with back-off, RollingUpdate
 * (maxUnavailable, or maxSurge) and OnDelete, ControllerRevisions `<name>-<hash>` labelled `controller-revision-hash`
 * with revision numbers and history limit, and the status `kubectl get ds` and `rollout status` read.
 */
export class DaemonSetController {
  readonly queue: WorkQueue<string>;
  readonly expectations: ControllerExpectations;
  private readonly sets: SharedInformer<DaemonSet>;
  private readonly pods: SharedInformer<Pod>;
  private readonly nodes: SharedInformer<Node>;
  private readonly revisions: SharedInformer<ControllerRevision>;
  private readonly history: ControllerHistory;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly events: EventRecorder;
  private readonly burst: number;
  private readonly failedBackoff = new Map<string, { delay: number; at: number }>();

  constructor(private readonly deps: DaemonSetControllerDeps) {
    this.clock = deps.clock ?? realClock;
    this.log = (deps.log ?? silentLogger).child({ controller: 'daemonset' });
    this.queue = new WorkQueue<string>({ clock: this.clock });
    this.expectations = new ControllerExpectations(this.clock);
    this.burst = deps.burstReplicas ?? DAEMONSET_BURST_REPLICAS;
    this.events = new EventRecorder({ client: deps.client, component: 'daemonset-controller', log: this.log, now: () => this.clock.now() });
    this.sets = deps.informers.informerFor<DaemonSet>(DAEMONSETS);
    this.pods = deps.informers.informerFor<Pod>(PODS, { indexers: { byOwnerUid } });
    this.nodes = deps.informers.informerFor<Node>(NODES);
    this.revisions = deps.informers.informerFor<ControllerRevision>(CONTROLLERREVISIONS);
    this.history = new ControllerHistory(deps.client, this.revisions);
    this.sets.addHandler({
      onAdd: (ds) => this.enqueue(ds),
      onUpdate: (_o, ds) => this.enqueue(ds),
      onDelete: (ds) => { this.expectations.delete(objectKey(ds)); this.enqueue(ds); },
    });
    this.revisions.addHandler({
      onAdd: (r) => this.onOwned(r, true),
      onUpdate: (o, r) => { if (o.metadata?.resourceVersion !== r.metadata?.resourceVersion) this.onOwned(r, !semanticEqual(o.metadata?.labels, r.metadata?.labels), o); },
      onDelete: (r) => { const ds = this.resolve(r); if (ds) this.enqueue(ds); },
    });
    this.pods.addHandler({ onAdd: (p) => this.addPod(p), onUpdate: (o, p) => this.updatePod(o, p), onDelete: (p) => this.deletePod(p) });
    this.nodes.addHandler({ onAdd: (n) => this.addNode(n), onUpdate: (o, n) => this.updateNode(o, n) });
  }

  /** Waits for the caches, then syncs with `workers` workers until the signal aborts. */
  async run(signal: AbortSignal, workers = 2): Promise<void> {
    await Promise.all([this.sets, this.pods, this.nodes, this.revisions].map((i) => i.waitForSync(signal))).catch(() => undefined);
    if (signal.aborted) return;
    await runWorkers(this.queue, (key) => this.sync(key), { workers, log: this.log, signal, keyField: 'daemonset' });
  }

  private enqueue(ds: DaemonSet, afterMs?: number): void {
    if (afterMs) this.queue.addAfter(objectKey(ds), afterMs);
    else this.queue.add(objectKey(ds));
  }

  private resolve(obj: { metadata?: { namespace?: string; ownerReferences?: unknown } }, ref = getControllerOf(obj as Pod)): DaemonSet | undefined {
    if (!ref || ref.kind !== 'DaemonSet') return undefined;
    const ds = this.sets.get(`${obj.metadata?.namespace}/${ref.name}`);
    return ds?.metadata?.uid === ref.uid ? ds : undefined;
  }

  private matching(obj: { metadata?: { namespace?: string; labels?: Record<string, string> } }): DaemonSet[] {
    return this.sets.lister().listNamespace(obj.metadata?.namespace ?? '').filter((ds) => {
      const sel = selectorOf(ds);
      return sel !== null && matchesLabels(sel, obj.metadata?.labels);
    });
  }

  /** A pod or revision changed: its controller, or for an orphan whose labels changed, every DaemonSet selecting it. */
  private onOwned(obj: Pod | ControllerRevision, labelsChanged: boolean, old?: Pod | ControllerRevision): void {
    const oldRef = old && getControllerOf(old);
    const ref = getControllerOf(obj);
    if (oldRef && oldRef.uid !== ref?.uid) { const prev = this.resolve(old!, oldRef); if (prev) this.enqueue(prev); }
    if (ref) { const ds = this.resolve(obj, ref); if (ds) this.enqueue(ds); return; }
    if (labelsChanged || oldRef) for (const ds of this.matching(obj)) this.enqueue(ds);
  }

  private addPod(pod: Pod): void {
    if (pod.metadata?.deletionTimestamp) { this.deletePod(pod); return; }
    const ds = this.resolve(pod);
    if (ds) { this.expectations.creationObserved(objectKey(ds)); this.enqueue(ds); return; }
    if (!getControllerOf(pod)) for (const m of this.matching(pod)) this.enqueue(m);
  }

  private updatePod(old: Pod, pod: Pod): void {
    if (old.metadata?.resourceVersion === pod.metadata?.resourceVersion) return;
    if (pod.metadata?.deletionTimestamp) { this.deletePod(pod); return; }
    this.onOwned(pod, !semanticEqual(old.metadata?.labels, pod.metadata?.labels), old);
    const ds = this.resolve(pod);
    const minReady = ds?.spec?.minReadySeconds ?? 0;
    // Available only minReadySeconds after Ready: look again then (+1 s, as upstream).
    if (ds && minReady > 0 && !isPodReady(old) && isPodReady(pod)) this.enqueue(ds, (minReady + 1) * 1000);
  }

  private deletePod(pod: Pod): void {
    const ds = this.resolve(pod);
    if (!ds) return;
    this.expectations.deletionObserved(objectKey(ds), objectKey(pod));
    this.enqueue(ds);
  }

  private addNode(node: Node): void {
    for (const ds of this.sets.lister().list()) if (nodeShouldRunDaemonPod(node, ds).shouldRun) this.enqueue(ds);
  }

  private updateNode(old: Node, node: Node): void {
    if (shouldIgnoreNodeUpdate(old, node)) return;
    for (const ds of this.sets.lister().list()) {
      const a = nodeShouldRunDaemonPod(old, ds);
      const b = nodeShouldRunDaemonPod(node, ds);
      if (a.shouldRun !== b.shouldRun || a.shouldContinueRunning !== b.shouldContinueRunning) this.enqueue(ds);
    }
  }

  /** Converges one DaemonSet by key. Idempotent; never called concurrently for the same key. */
  async sync(key: string): Promise<void> {
    const cached = this.sets.get(key);
    if (!cached) { this.expectations.delete(key); return; }
    const ds = structuredClone(cached);
    const nodes = this.nodes.lister().list();
    const selector = selectorOf(ds);
    if (!selector) {
      void this.events.record(eventTarget(ds), 'Warning', 'SelectingAll', 'This daemon set is selecting all pods. A non-empty selector is required.');
      return;
    }
    // Being deleted: its revisions may be going too; its status can't be trusted (upstream returns here too).
    if (ds.metadata?.deletionTimestamp) return;
    const { cur, old } = await this.constructHistory(ds, selector);
    const hash = cur.metadata?.labels?.[POD_REVISION_LABEL] ?? '';
    if (!this.expectations.satisfied(key)) {
      await this.updateStatus(ds, nodes, hash, selector, false);
      return;
    }
    let err: unknown;
    try {
      await this.manage(ds, nodes, hash, selector);
      if (this.expectations.satisfied(key) && (ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
        await this.rollingUpdate(ds, nodes, hash, selector);
      }
      await this.cleanupHistory(ds, old, selector);
    } catch (e) {
      err = e;
    }
    try {
      await this.updateStatus(ds, nodes, hash, selector, true);
    } catch (e) {
      if (!err) throw e;
      this.log.error({ err: e, daemonset: key }, 'failed to update status');
    }
    if (err) throw err;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Pods per node

  /** The DaemonSet's pods after adoption and release, by the node each is for (getNodesToDaemonPods). */
  private async nodesToDaemonPods(ds: DaemonSet, selector: LabelRequirement[], includeDeletedTerminal = false): Promise<Map<string, Pod[]>> {
    const candidates = this.pods.lister().listNamespace(ds.metadata!.namespace!).filter((p) => includeDeletedTerminal
      || !(p.metadata?.deletionTimestamp && (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed')));
    const pods = await claim({ client: this.deps.client, owner: ds, ownerDef: DAEMONSETS, dependentDef: PODS, selector }, candidates);
    const byNode = new Map<string, Pod[]>();
    for (const pod of pods) {
      const node = targetNodeName(pod);
      if (!node) continue;
      const list = byNode.get(node);
      if (list) list.push(pod); else byNode.set(node, [pod]);
    }
    return byNode;
  }

  private inBackoff(key: string, now: number): boolean {
    const b = this.failedBackoff.get(key);
    return !!b && now - b.at < b.delay;
  }

  private nextBackoff(key: string, now: number): void {
    const b = this.failedBackoff.get(key);
    const delay = !b || now - b.at > 2 * FAILED_POD_BACKOFF_MAX_MS ? FAILED_POD_BACKOFF_MS : Math.min(b.delay * 2, FAILED_POD_BACKOFF_MAX_MS);
    this.failedBackoff.set(key, { delay, at: now });
  }

  /** What to create and delete on one node (podsShouldBeOnNode). */
  private podsShouldBeOnNode(node: Node, byNode: Map<string, Pod[]>, ds: DaemonSet, hash: string): { create: string[]; remove: Pod[] } {
    const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(node, ds);
    const nodeName = node.metadata!.name!;
    const pods = byNode.get(nodeName);
    const create: string[] = [];
    const remove: Pod[] = [];
    if (shouldRun && !pods) {
      create.push(nodeName);
    } else if (shouldContinueRunning && pods) {
      const running: Pod[] = [];
      const now = this.clock.now();
      for (const pod of pods) {
        if (pod.metadata?.deletionTimestamp) continue;
        if (pod.status?.phase === 'Failed') {
          // The kubelet may keep refusing a pod (the DaemonSet and the kubelet fighting): back off per node.
          const backoffKey = `${ds.metadata!.uid}/${ds.status?.observedGeneration ?? 0}/${nodeName}`;
          if (this.inBackoff(backoffKey, now)) {
            const b = this.failedBackoff.get(backoffKey)!;
            this.enqueue(ds, b.delay - (now - b.at));
            continue;
          }
          this.nextBackoff(backoffKey, now);
          void this.events.record(eventTarget(ds), 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${pod.metadata!.namespace}/${pod.metadata!.name} on node ${nodeName}, will try to kill it`);
          remove.push(pod);
        } else if (pod.status?.phase === 'Succeeded') {
          void this.events.record(eventTarget(ds), 'Normal', 'SucceededDaemonPod', `Found succeeded daemon pod ${pod.metadata!.namespace}/${pod.metadata!.name} on node ${nodeName}, will try to delete it`);
          remove.push(pod);
        } else {
          running.push(pod);
        }
      }
      running.sort(byCreationAndPhase);
      if (!allowsSurge(ds)) {
        // More than one pod on the node: keep the oldest.
        remove.push(...running.slice(1));
      } else if (running.length === 0) {
        if (shouldRun) create.push(nodeName);
      } else if (running.length > 1) {
        // Surging: keep the oldest new pod, and the oldest old one while the new one is not yet available.
        const generation = templateGeneration(ds);
        let oldestNew: Pod | undefined;
        let oldestOld: Pod | undefined;
        for (const pod of running) {
          if (isPodUpdated(pod, hash, generation)) { if (!oldestNew) { oldestNew = pod; continue; } } else if (!oldestOld) { oldestOld = pod; continue; }
          remove.push(pod);
        }
        if (oldestNew && oldestOld && (!isPodReady(oldestOld) || isPodAvailable(oldestNew, ds.spec?.minReadySeconds ?? 0, this.clock.now()))) {
          remove.push(oldestOld);
        }
      }
    } else if (!shouldContinueRunning && pods) {
      for (const pod of pods) if (!pod.metadata?.deletionTimestamp) remove.push(pod);
    }
    return { create, remove };
  }

  /** Creates pods on the nodes that need one and deletes those that must go (manage). */
  private async manage(ds: DaemonSet, nodes: Node[], hash: string, selector: LabelRequirement[]): Promise<void> {
    const byNode = await this.nodesToDaemonPods(ds, selector);
    const create: string[] = [];
    const remove: Pod[] = [];
    for (const node of nodes) {
      const r = this.podsShouldBeOnNode(node, byNode, ds, hash);
      create.push(...r.create);
      remove.push(...r.remove);
    }
    // Pods for nodes that are gone and never scheduled: the pod GC can't delete them, so the controller does.
    const existing = new Set(nodes.map((n) => n.metadata!.name!));
    for (const [node, pods] of byNode) {
      if (!existing.has(node)) remove.push(...pods.filter((p) => !p.spec?.nodeName));
    }
    await this.syncNodes(ds, remove, create, hash);
  }

  /** Deletes the pods and creates one pod per node, at most burstReplicas of each, in slow-start batches (syncNodes). */
  private async syncNodes(ds: DaemonSet, remove: Pod[], create: string[], hash: string): Promise<void> {
    const key = objectKey(ds);
    const creates = create.slice(0, this.burst);
    const deletes = remove.slice(0, this.burst);
    if (!creates.length && !deletes.length) return;
    this.expectations.expect(key, creates.length, deletes.map(objectKey));
    const template = structuredClone(ds.spec?.template ?? {});
    template.spec ??= { containers: [] };
    addDaemonPodTolerations(template.spec);
    template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels } };
    const generation = templateGeneration(ds);
    if (generation !== undefined) template.metadata.labels![TEMPLATE_GENERATION_KEY] = generation;
    if (hash) template.metadata.labels![POD_REVISION_LABEL] = hash;
    const ref = newControllerRef(ds, DAEMONSETS);
    const errors: unknown[] = [];
    let next = 0;
    const { successes, error } = await slowStartBatch(creates.length, async () => {
      const node = creates[next++];
      const pod = podFromTemplate(template, ds.metadata!.name!, ref);
      pod.spec!.affinity = replaceNodeNameAffinity(pod.spec!.affinity, node);
      try {
        const created = await this.deps.client.create<Pod>(PODS, ds.metadata!.namespace, pod);
        void this.events.record(eventTarget(ds), 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata!.name}`);
      } catch (e) {
        // The namespace is being deleted: every create would fail, nothing to report or retry (as upstream).
        if (isNamespaceTerminating(e)) return;
        void this.events.record(eventTarget(ds), 'Warning', 'FailedCreate', `Error creating: ${(e as Error).message}`);
        throw e;
      }
    });
    // Creates that failed or were skipped will never be seen: stop waiting for them.
    for (let i = successes; i < creates.length; i++) this.expectations.creationObserved(key);
    if (error) errors.push(error);
    const results = await Promise.allSettled(deletes.map(async (pod) => {
      try {
        await this.deps.client.delete(PODS, pod.metadata!.namespace, pod.metadata!.name!);
        void this.events.record(eventTarget(ds), 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata!.name}`);
      } catch (e) {
        this.expectations.deletionObserved(key, objectKey(pod));
        if (e instanceof ApiError && e.isNotFound) return;
        void this.events.record(eventTarget(ds), 'Warning', 'FailedDelete', `Error deleting: ${(e as Error).message}`);
        throw e;
      }
    }));
    for (const r of results) if (r.status === 'rejected') errors.push(r.reason);
    if (errors.length) throw errors[0];
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Rolling update

  /** maxSurge, maxUnavailable and desiredNumberScheduled; every wanted node gets an entry (updatedDesiredNodeCounts). */
  private desiredCounts(ds: DaemonSet, nodes: Node[], byNode: Map<string, Pod[]>): { maxSurge: number; maxUnavailable: number; desired: number } {
    let desired = 0;
    for (const node of nodes) {
      if (!nodeShouldRunDaemonPod(node, ds).shouldRun) continue;
      desired++;
      if (!byNode.has(node.metadata!.name!)) byNode.set(node.metadata!.name!, []);
    }
    let maxUnavailable = unavailableCount(ds, desired);
    const maxSurge = surgeCount(ds, desired);
    // Neither surge nor unavailability configured: accept one unavailable, as upstream.
    if (desired > 0 && maxUnavailable === 0 && maxSurge === 0) maxUnavailable = 1;
    return { maxSurge, maxUnavailable, desired };
  }

  /** Deletes old pods within maxUnavailable, or creates new ones beside them within maxSurge (rollingUpdate). */
  private async rollingUpdate(ds: DaemonSet, nodes: Node[], hash: string, selector: LabelRequirement[]): Promise<void> {
    const byNode = await this.nodesToDaemonPods(ds, selector);
    const { maxSurge, maxUnavailable, desired } = this.desiredCounts(ds, nodes, byNode);
    const now = this.clock.now();
    const minReady = ds.spec?.minReadySeconds ?? 0;
    const available = (p: Pod) => isPodAvailable(p, minReady, now);
    const generation = templateGeneration(ds);
    const split = (pods: Pod[]) => {
      let newPod: Pod | undefined; let oldPod: Pod | undefined;
      for (const pod of pods) {
        if (pod.metadata?.deletionTimestamp) continue;
        if (isPodUpdated(pod, hash, generation)) { if (newPod) return undefined; newPod = pod; } else { if (oldPod) return undefined; oldPod = pod; }
      }
      return { newPod, oldPod };
    };
    const nodeByName = new Map(nodes.map((n) => [n.metadata!.name!, n]));
    if (maxSurge === 0) {
      let unavailable = 0;
      const replacements: Pod[] = [];
      const candidates: Pod[] = [];
      for (const pods of byNode.values()) {
        const s = split(pods);
        // Excess pods on the node: the manage loop cleans up; count it unavailable.
        if (!s) { unavailable++; continue; }
        const { newPod, oldPod } = s;
        if ((!oldPod && !newPod) || (oldPod && newPod)) { unavailable++; continue; }
        if (newPod) { if (!available(newPod)) unavailable++; continue; }
        if (!available(oldPod!)) { replacements.push(oldPod!); unavailable++; continue; }
        if (unavailable >= maxUnavailable) continue;
        candidates.push(oldPod!);
      }
      const remaining = Math.max(0, Math.min(maxUnavailable - unavailable, candidates.length));
      await this.syncNodes(ds, [...replacements, ...candidates.slice(0, remaining)], [], hash);
      return;
    }
    const remove: Pod[] = [];
    const shouldNotRun: Pod[] = [];
    const candidateNodes: string[] = [];
    const allowedNodes: string[] = [];
    let surging = 0;
    let numAvailable = 0;
    for (const [nodeName, pods] of byNode) {
      const s = split(pods);
      if (!s) { surging++; continue; }
      const { newPod, oldPod } = s;
      if (oldPod ? available(oldPod) : newPod && available(newPod)) numAvailable++;
      if (!oldPod) continue;
      const node = nodeByName.get(nodeName);
      const shouldRun = !!node && nodeShouldRunDaemonPod(node, ds).shouldRun;
      if (!newPod) {
        if (!available(oldPod)) {
          if (!shouldRun) { remove.push(oldPod); continue; }
          allowedNodes.push(nodeName);
        } else {
          if (!shouldRun) { shouldNotRun.push(oldPod); continue; }
          if (surging >= maxSurge) continue;
          candidateNodes.push(nodeName);
        }
        continue;
      }
      if (!available(newPod)) { surging++; continue; }
      remove.push(oldPod);
    }
    // With surge the owner expects full availability: a pod on a node it no longer fits goes only when enough others are up.
    const deletable = Math.min(numAvailable - desired, shouldNotRun.length);
    if (deletable > 0) remove.push(...shouldNotRun.slice(0, deletable));
    const remaining = Math.max(0, Math.min(maxSurge - surging, candidateNodes.length));
    await this.syncNodes(ds, remove, [...allowedNodes, ...candidateNodes.slice(0, remaining)], hash);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // History

  /**
   * The DaemonSet's current revision (created, or renumbered above the others, as needed) and its old ones; duplicates
   * of the current one are merged into the newest (constructHistory).
   */
  private async constructHistory(ds: DaemonSet, selector: LabelRequirement[]): Promise<{ cur: ControllerRevision; old: ControllerRevision[] }> {
    const candidates = this.revisions.lister().listNamespace(ds.metadata!.namespace!).map((r) => structuredClone(r));
    const histories = await claim({ client: this.deps.client, owner: ds, ownerDef: DAEMONSETS, dependentDef: CONTROLLERREVISIONS, selector }, candidates);
    const current: ControllerRevision[] = [];
    const old: ControllerRevision[] = [];
    for (let h of histories) {
      if (!h.metadata?.labels?.[POD_REVISION_LABEL]) {
        // Name instead of a recomputed hash: no collision to worry about (as upstream).
        const labelled = { ...h, metadata: { ...h.metadata, labels: { ...h.metadata?.labels, [POD_REVISION_LABEL]: h.metadata!.name! } } };
        h = await this.deps.client.update<ControllerRevision>(CONTROLLERREVISIONS, ds.metadata!.namespace, labelled);
      }
      (revisionMatches(ds, h) ? current : old).push(h);
    }
    const currRevision = maxRevision(old) + 1;
    let cur: ControllerRevision;
    if (current.length === 0) {
      cur = await this.snapshot(ds, currRevision);
    } else {
      cur = await this.dedupCurrent(ds, current, selector);
      if ((cur.revision ?? 0) < currRevision) cur = await this.history.update(cur, currRevision);
    }
    return { cur, old };
  }

  /** Keeps the newest of several revisions matching the template, relabelling pods onto it (dedupCurHistories). */
  private async dedupCurrent(ds: DaemonSet, current: ControllerRevision[], selector: LabelRequirement[]): Promise<ControllerRevision> {
    if (current.length === 1) return current[0];
    let keep = current[0];
    for (const c of current) if ((c.revision ?? 0) >= (keep.revision ?? 0)) keep = c;
    const keepHash = keep.metadata!.labels![POD_REVISION_LABEL];
    const byNode = await this.nodesToDaemonPods(ds, selector);
    for (const pods of byNode.values()) {
      for (const pod of pods) {
        if (pod.metadata?.labels?.[POD_REVISION_LABEL] === keepHash) continue;
        await this.deps.client.patch(PODS, pod.metadata!.namespace, pod.metadata!.name!, { metadata: { labels: { [POD_REVISION_LABEL]: keepHash } } }, 'merge');
      }
    }
    for (const c of current) if (c.metadata!.name !== keep.metadata!.name) await this.history.delete(c);
    return keep;
  }

  /**
   * Records the template as revision `revision`, named `<ds>-<hash of the template and collisionCount>`; a name taken
   * by another template bumps status.collisionCount and fails the sync so it retries (snapshot).
   */
  private async snapshot(ds: DaemonSet, revision: number): Promise<ControllerRevision> {
    const hash = computeHash(ds.spec?.template, ds.status?.collisionCount);
    const name = `${ds.metadata!.name}-${hash}`;
    const rev: ControllerRevision = {
      apiVersion: 'apps/v1', kind: 'ControllerRevision',
      metadata: {
        name, namespace: ds.metadata!.namespace,
        labels: { ...ds.spec?.template?.metadata?.labels, [POD_REVISION_LABEL]: hash },
        ...(ds.metadata?.annotations ? { annotations: { ...ds.metadata.annotations } } : {}),
        ownerReferences: [newControllerRef(ds, DAEMONSETS)],
      },
      data: templatePatch(ds),
      revision,
    };
    try {
      return await this.deps.client.create<ControllerRevision>(CONTROLLERREVISIONS, ds.metadata!.namespace, rev);
    } catch (e) {
      if (!(e instanceof ApiError && e.isAlreadyExists)) throw e;
      const existing = await this.deps.client.get<ControllerRevision>(CONTROLLERREVISIONS, ds.metadata!.namespace, name);
      if (revisionMatches(ds, existing)) return existing;
      const fresh = await this.deps.client.get<DaemonSet>(DAEMONSETS, ds.metadata!.namespace, ds.metadata!.name!);
      if ((fresh.status?.collisionCount ?? undefined) !== (ds.status?.collisionCount ?? undefined)) {
        throw new Error(`found a stale collision count (${ds.status?.collisionCount}, expected ${fresh.status?.collisionCount}) of DaemonSet "${ds.metadata!.name}" while processing; will retry until it is updated`, { cause: e });
      }
      const bumped = { ...fresh, status: { ...fresh.status, collisionCount: (fresh.status?.collisionCount ?? 0) + 1 } };
      await this.deps.client.update(DAEMONSETS, ds.metadata!.namespace, bumped, { subresource: 'status' });
      this.log.info({ daemonset: objectKey(ds), collisionCount: bumped.status.collisionCount }, 'hash collision: bumped collisionCount');
      throw e;
    }
  }

  /** Deletes the oldest revisions no pod runs, beyond revisionHistoryLimit (cleanupHistory). */
  private async cleanupHistory(ds: DaemonSet, old: ControllerRevision[], selector: LabelRequirement[]): Promise<void> {
    let toKill = old.length - (ds.spec?.revisionHistoryLimit ?? 10);
    if (toKill <= 0) return;
    const live = new Set<string>();
    for (const pods of (await this.nodesToDaemonPods(ds, selector, true)).values()) {
      for (const pod of pods) { const h = pod.metadata?.labels?.[POD_REVISION_LABEL]; if (h) live.add(h); }
    }
    for (const h of sortControllerRevisions([...old])) {
      if (toKill <= 0) break;
      if (live.has(h.metadata?.labels?.[POD_REVISION_LABEL] ?? '')) continue;
      await this.history.delete(h);
      toKill--;
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Status

  /** Counts per node (the oldest pod of each) and writes status when it changed (updateDaemonSetStatus). */
  private async updateStatus(ds: DaemonSet, nodes: Node[], hash: string, selector: LabelRequirement[], observe: boolean): Promise<void> {
    const byNode = await this.nodesToDaemonPods(ds, selector);
    const now = this.clock.now();
    const minReady = ds.spec?.minReadySeconds ?? 0;
    const generation = templateGeneration(ds);
    let desired = 0; let current = 0; let misscheduled = 0; let ready = 0; let updated = 0; let available = 0;
    for (const node of nodes) {
      const { shouldRun } = nodeShouldRunDaemonPod(node, ds);
      const pods = byNode.get(node.metadata!.name!) ?? [];
      if (!shouldRun) { if (pods.length) misscheduled++; continue; }
      desired++;
      if (!pods.length) continue;
      current++;
      const pod = [...pods].sort(byCreationAndPhase)[0];
      if (isPodReady(pod)) {
        ready++;
        if (isPodAvailable(pod, minReady, now)) available++;
      }
      if (isPodUpdated(pod, hash, generation)) updated++;
    }
    const next: Status = {
      desiredNumberScheduled: desired, currentNumberScheduled: current, numberMisscheduled: misscheduled, numberReady: ready,
      updatedNumberScheduled: updated, numberAvailable: available, numberUnavailable: desired - available,
    };
    const st = ds.status ?? {} as Status;
    const same = (Object.keys(next) as (keyof Status)[]).every((k) => (st[k] ?? 0) === next[k])
      && (st.observedGeneration ?? 0) >= (ds.metadata?.generation ?? 0);
    if (!same) await this.storeStatus(ds, next, observe);
    // A last look after minReadySeconds, against clock skew (as upstream).
    if (minReady > 0 && ready !== available) this.enqueue(ds, minReady * 1000);
  }

  private async storeStatus(ds: DaemonSet, counts: Status, observe: boolean): Promise<void> {
    let target = ds;
    for (let attempt = 0; ; attempt++) {
      const status: Status = { ...target.status, ...counts };
      if (observe) status.observedGeneration = ds.metadata?.generation;
      if (!status.numberUnavailable) delete status.numberUnavailable;
      try {
        await this.deps.client.update<DaemonSet>(DAEMONSETS, ds.metadata!.namespace, { ...target, status }, { subresource: 'status' });
        return;
      } catch (e) {
        if (e instanceof ApiError && e.isNotFound) return;
        if (!(e instanceof ApiError && e.isConflict) || attempt >= 1) throw e;
        target = await this.deps.client.get<DaemonSet>(DAEMONSETS, ds.metadata!.namespace, ds.metadata!.name!);
      }
    }
  }
}

/** The node changed only in conditions that are not True, heartbeat times or resourceVersion (shouldIgnoreNodeUpdate). */
export function shouldIgnoreNodeUpdate(old: Node, cur: Node): boolean {
  const trueTypes = (n: Node) => (n.status?.conditions ?? []).filter((c) => c.status === 'True').map((c) => c.type).sort().join(',');
  if (trueTypes(old) !== trueTypes(cur)) return false;
  const strip = (n: Node) => ({ ...n, metadata: { ...n.metadata, resourceVersion: undefined, managedFields: undefined }, status: { ...n.status, conditions: undefined } });
  return semanticEqual(strip(old), strip(cur));
}
