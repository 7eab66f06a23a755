import {
  ApiError, discoverResources, findKind, parseApiVersion, RESOURCES, storedResources, realClock, runWorkers, silentLogger, sleep, WorkQueue,
  type ApiClient, type Clock, type InformerFactory, type KubeObjectLike, type Logger, type OwnerReference, type ResourceDef,
} from '@k8ts/api';
import {
  AbsentOwnerCache, FINALIZER_FOREGROUND, FINALIZER_ORPHAN, GraphNode, hasFinalizer, identityOf, referencesDiffs,
  startsWaitingForDependentsDeleted, startsWaitingForDependentsOrphaned, type ObjectIdentity,
} from './graph.js';

/** Resources the garbage collector never watches (upstream's DefaultIgnoredResources: events churn and own nothing). */
export const IGNORED_RESOURCES: readonly string[] = ['/events', 'events.k8s.io/events'];

/** Every resource of the registry the collector watches: deletable, listable, watchable, not ignored. */
export function monitoredResources(all: readonly ResourceDef[] = RESOURCES): ResourceDef[] {
  return storedResources(all).filter((d) => ['delete', 'list', 'watch'].every((v) => d.verbs.includes(v)) && !IGNORED_RESOURCES.includes(`${d.group}/${d.resource}`));
}

export interface GarbageCollectorDeps {
  client: ApiClient;
  informers: InformerFactory;
  log?: Logger;
  clock?: Clock;
  /** The resources whose objects make up the graph (default: monitoredResources()). */
  resources?: readonly ResourceDef[];
  /**
   * The resources served beyond the registry (custom resources), looked up every `resyncMs` and monitored from
   * then on (upstream's GarbageCollector.Sync over discovery). Default: aggregated discovery through the client;
   * null: none.
   */
  discover?: ((signal: AbortSignal) => Promise<ResourceDef[]>) | null;
  /** How often discovery is read again (upstream: 30 s). */
  resyncMs?: number;
}

type DeletionPolicy = 'Orphan' | 'Foreground' | 'Background';
/** One change to an ownerReferences list, as a strategic merge patch element (merge key uid). */
type OwnerRefPatch = { uid: string; $patch: 'delete' } | { uid: string; blockOwnerDeletion: boolean };

/** Thrown to look at a key again later, with backoff (upstream's requeueItem). */
class Requeue extends Error {}

/**
 * The garbage collector, as upstream's pkg/controller/garbagecollector: a graph of ownerReferences built from an
 * informer on every resource (the GraphBuilder, fed synchronously by the informers' handlers, as upstream's single
 * processGraphChanges goroutine), and workers on two kinds of keys: `delete/<uid>` (attemptToDeleteItem: delete an
 * object whose owners are all gone, confirmed by a live GET; finish foreground deletions) and `orphan/<uid>`
 * (attemptToOrphan: strip an owner's references from its dependents, then drop its `orphan` finalizer).
 */
export class GarbageCollector {
  readonly queue: WorkQueue<string>;
  private readonly uidToNode = new Map<string, GraphNode>();
  private readonly absentOwners = new AbsentOwnerCache();
  private readonly log: Logger;
  private readonly informers: { def: ResourceDef; informer: ReturnType<InformerFactory['informerFor']> }[] = [];
  /** Discovered rows (every version) by group/version/kind, for owner references to custom kinds. */
  private readonly discovered = new Map<string, ResourceDef>();
  private readonly clock: Clock;

  constructor(private readonly deps: GarbageCollectorDeps) {
    this.log = (deps.log ?? silentLogger).child({ controller: 'garbagecollector' });
    this.clock = deps.clock ?? realClock;
    this.queue = new WorkQueue<string>({ clock: this.clock });
    for (const def of deps.resources ?? monitoredResources()) this.monitor(def);
  }

  private monitor(def: ResourceDef): void {
    const informer = this.deps.informers.informerFor<KubeObjectLike>(def);
    this.informers.push({ def, informer });
    informer.addHandler({
      onAdd: (obj) => this.processGraphChange('add', withKind(def, obj)),
      onUpdate: (old, obj) => this.processGraphChange('update', withKind(def, obj), withKind(def, old)),
      onDelete: (obj) => this.processGraphChange('delete', withKind(def, obj)),
    });
  }

  /** Waits for every monitored informer, then runs `workers` workers until the signal aborts; resyncs discovery meanwhile. */
  async run(signal: AbortSignal, workers = 20): Promise<void> {
    await this.resync(signal);
    await Promise.all(this.informers.map(({ informer }) => informer.waitForSync(signal))).catch(() => undefined);
    if (signal.aborted) return;
    this.log.info({ resources: this.informers.length, objects: this.uidToNode.size }, 'garbage collector synced');
    await Promise.all([
      runWorkers(this.queue, (key) => this.sync(key), { workers, log: this.log, signal, keyField: 'item' }),
      this.resyncLoop(signal),
    ]);
  }

  private async resyncLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await sleep(this.clock, this.deps.resyncMs ?? 30_000, signal).catch(() => undefined);
      if (!signal.aborted) await this.resync(signal);
    }
  }

  /**
   * Monitors the deletable resources discovery shows that are not monitored yet (a CRD's preferred version).
   * Informers of resources that went away stay (retrying quietly): their objects left the graph as they were deleted.
   */
  async resync(signal: AbortSignal): Promise<void> {
    const discover = this.deps.discover === undefined ? (sig: AbortSignal) => discoverResources(this.deps.client, sig) : this.deps.discover;
    if (!discover) return;
    let defs: ResourceDef[];
    try {
      defs = await discover(signal);
    } catch (err) {
      if (!signal.aborted) this.log.warn({ err }, 'discovery failed; monitoring the resources known so far');
      return;
    }
    for (const def of defs) this.discovered.set(`${def.group}/${def.version}/${def.kind}`, def);
    const added = monitoredResources(defs).filter((d) => !this.informers.some(({ def }) => def.group === d.group && def.resource === d.resource));
    if (!added.length) return;
    for (const def of added) this.monitor(def);
    this.deps.informers.start(signal);
    this.log.info({ resources: added.map((d) => `${d.resource}.${d.group}`) }, 'monitoring resources found by discovery');
  }

  /** The row of an apiVersion and kind: the registry's, or a discovered one. */
  private kindOf(apiVersion: string, kind: string): ResourceDef | undefined {
    const { group, version } = parseApiVersion(apiVersion);
    return findKind(apiVersion, kind) ?? this.discovered.get(`${group}/${version}/${kind}`);
  }

  /** The graph node of a uid (for tests and debugging). */
  node(uid: string): GraphNode | undefined {
    return this.uidToNode.get(uid);
  }

  /** Handles `delete/<uid>` or `orphan/<uid>`. Idempotent: re-reads the graph and the live objects. */
  async sync(key: string): Promise<void> {
    const slash = key.indexOf('/');
    const [what, uid] = [key.slice(0, slash), key.slice(slash + 1)];
    const node = this.uidToNode.get(uid);
    if (!node) return;
    if (what === 'orphan') await this.attemptToOrphan(node);
    else await this.attemptToDelete(node);
  }

  // -------------------------------------------------------------------------------------------------------------
  // The graph builder

  private enqueueDelete(node: GraphNode): void {
    this.queue.add(`delete/${node.identity.uid}`);
  }

  private processGraphChange(type: 'add' | 'update' | 'delete', obj: KubeObjectLike, old?: KubeObjectLike): void {
    const uid = obj.metadata?.uid;
    if (!uid) return;
    const existing = this.uidToNode.get(uid);
    if (type === 'delete') {
      if (existing) this.removeAndNotify(existing);
      return;
    }
    const owners = structuredClone(obj.metadata?.ownerReferences ?? []);
    if (!existing) {
      const node = new GraphNode(identityOf(obj), owners);
      node.beingDeleted = !!obj.metadata?.deletionTimestamp;
      this.uidToNode.set(uid, node);
      this.addDependentToOwners(node, owners);
      this.processTransitions(old, obj, node);
      return;
    }
    if (existing.virtual) {
      // A virtual owner is now observed. Dependents that named it by other coordinates get re-checked.
      const seen = identityOf(obj);
      const was = existing.identity;
      const mismatched = seen.apiVersion !== was.apiVersion || seen.kind !== was.kind || seen.name !== was.name || seen.namespace !== was.namespace;
      existing.virtual = false;
      existing.identity = seen;
      if (mismatched) for (const dep of existing.dependents) this.enqueueDelete(dep);
    }
    const { added, removed, changed } = referencesDiffs(existing.owners, owners);
    if (added.length || removed.length || changed.length) {
      this.addUnblockedOwnersToDeleteQueue(removed, changed);
      existing.owners = owners;
      this.addDependentToOwners(existing, added);
      for (const ref of removed) this.uidToNode.get(ref.uid)?.dependents.delete(existing);
    }
    if (obj.metadata?.deletionTimestamp) existing.beingDeleted = true;
    this.processTransitions(old, obj, existing);
  }

  /** Links a node to its owners, making virtual nodes for owners not seen yet and checking those (upstream's addDependentToOwners). */
  private addDependentToOwners(node: GraphNode, owners: readonly OwnerReference[]): void {
    for (const ref of owners) {
      let owner = this.uidToNode.get(ref.uid);
      if (!owner) {
        owner = new GraphNode({ apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, uid: ref.uid, namespace: node.identity.namespace }, [], true);
        this.uidToNode.set(ref.uid, owner);
        this.enqueueDelete(owner);
      }
      owner.dependents.add(node);
    }
  }

  /** An owner waiting on its dependents is looked at again when a dependent stops blocking it. */
  private addUnblockedOwnersToDeleteQueue(removed: OwnerReference[], changed: { old: OwnerReference; now: OwnerReference }[]): void {
    const unblocked = [...removed.filter((r) => r.blockOwnerDeletion), ...changed.filter((c) => c.old.blockOwnerDeletion && !c.now.blockOwnerDeletion).map((c) => c.now)];
    for (const ref of unblocked) {
      const owner = this.uidToNode.get(ref.uid);
      if (owner?.deletingDependents) this.enqueueDelete(owner);
    }
  }

  private processTransitions(old: KubeObjectLike | undefined, obj: KubeObjectLike, node: GraphNode): void {
    if (startsWaitingForDependentsOrphaned(old, obj)) {
      this.queue.add(`orphan/${node.identity.uid}`);
      return;
    }
    if (startsWaitingForDependentsDeleted(old, obj)) {
      node.deletingDependents = true;
      for (const dep of node.dependents) this.enqueueDelete(dep);
      this.enqueueDelete(node);
    }
  }

  /** Removes a node that is gone; its dependents are checked, and owners waiting on it are looked at again. */
  private removeAndNotify(node: GraphNode): void {
    this.uidToNode.delete(node.identity.uid);
    for (const ref of node.owners) this.uidToNode.get(ref.uid)?.dependents.delete(node);
    if (node.dependents.size > 0) this.absentOwners.add(node.identity.uid);
    for (const dep of node.dependents) this.enqueueDelete(dep);
    for (const ref of node.owners) {
      const owner = this.uidToNode.get(ref.uid);
      if (owner?.deletingDependents) this.enqueueDelete(owner);
    }
  }

  /** A delete the collector found out about by a live GET, not from an informer: only virtual nodes go. */
  private virtualDelete(node: GraphNode): void {
    if (node.virtual && this.uidToNode.get(node.identity.uid) === node) this.removeAndNotify(node);
  }

  // -------------------------------------------------------------------------------------------------------------
  // The workers

  /** upstream's attemptToDeleteItem. */
  private async attemptToDelete(item: GraphNode): Promise<void> {
    if (item.beingDeleted && !item.deletingDependents) return;
    const latest = await this.getObject(item.identity);
    if (!latest || latest.metadata?.uid !== item.identity.uid) {
      // Gone, or replaced by another object of the same name: a virtual node can go, and its dependents are checked.
      this.virtualDelete(item);
      return;
    }
    if (item.virtual) {
      // It exists but no informer has shown it yet: look again later, when the graph knows it.
      throw new Requeue(`${describe(item.identity)} exists but is not observed yet`);
    }
    if (item.deletingDependents) {
      await this.processDeletingDependents(item);
      return;
    }
    const refs = latest.metadata?.ownerReferences ?? [];
    if (refs.length === 0) return;
    const { solid, dangling, waiting } = await this.classifyReferences(item, refs);
    if (solid.length) {
      if (dangling.length === 0 && waiting.length === 0) return;
      // Some owners live: only the references to gone owners (and to owners deleting in the foreground) are dropped.
      const uids = [...dangling, ...waiting].map((r) => r.uid);
      this.log.info({ item: describe(item.identity), owners: uids }, 'removing references to absent owners');
      await this.patchOwnerRefs(item.identity, uids.map((uid) => ({ $patch: 'delete', uid })));
      return;
    }
    if (waiting.length && item.dependents.size) {
      // An owner deletes in the foreground and this item has dependents of its own: delete it in the foreground
      // too. A dependent already deleting its dependents means a cycle: unblock our owners first so none waits forever.
      if ([...item.dependents].some((d) => d.deletingDependents)) {
        const blocking = refs.filter((r) => r.blockOwnerDeletion);
        if (blocking.length) await this.patchOwnerRefs(item.identity, blocking.map((r) => ({ uid: r.uid, blockOwnerDeletion: false })));
      }
      await this.deleteObject(item.identity, 'Foreground');
      return;
    }
    // No owner is left: collect the item, keeping a deletion mode it was already given.
    const policy: DeletionPolicy = hasFinalizer(latest, FINALIZER_ORPHAN) ? 'Orphan' : hasFinalizer(latest, FINALIZER_FOREGROUND) ? 'Foreground' : 'Background';
    await this.deleteObject(item.identity, policy);
  }

  /** An owner deleting in the foreground: done once no dependent blocks it; else its blocking dependents are pushed. */
  private async processDeletingDependents(item: GraphNode): Promise<void> {
    const blocking = item.blockingDependents();
    if (blocking.length === 0) {
      await this.removeFinalizer(item.identity, FINALIZER_FOREGROUND);
      return;
    }
    for (const dep of blocking) if (!dep.deletingDependents) this.enqueueDelete(dep);
  }

  /** Sorts an item's owner references into live owners, gone ones, and ones deleting in the foreground. */
  private async classifyReferences(item: GraphNode, refs: readonly OwnerReference[]): Promise<{ solid: OwnerReference[]; dangling: OwnerReference[]; waiting: OwnerReference[] }> {
    const solid: OwnerReference[] = [];
    const dangling: OwnerReference[] = [];
    const waiting: OwnerReference[] = [];
    for (const ref of refs) {
      const { isDangling, owner } = await this.isDangling(ref, item);
      if (isDangling) dangling.push(ref);
      else if (owner?.metadata?.deletionTimestamp && hasFinalizer(owner, FINALIZER_FOREGROUND)) waiting.push(ref);
      else solid.push(ref);
    }
    return { solid, dangling, waiting };
  }

  /** Whether an owner is gone: absent before, or a live GET finds nothing or another uid (upstream's isDangling). */
  private async isDangling(ref: OwnerReference, item: GraphNode): Promise<{ isDangling: boolean; owner?: KubeObjectLike }> {
    if (this.absentOwners.has(ref.uid)) return { isDangling: true };
    const def = this.kindOf(ref.apiVersion, ref.kind);
    // An owner of a kind this cluster does not serve cannot be checked: try again later, as upstream's restMappingError.
    if (!def) throw new Error(`${describe(item.identity)} has an owner of unknown kind ${ref.apiVersion}/${ref.kind}`);
    if (def.namespaced && !item.identity.namespace) {
      // A cluster-scoped object cannot be owned by a namespaced one: leave it alone (upstream's namespacedOwnerOfClusterScopedObjectErr).
      this.log.warn({ item: describe(item.identity), owner: `${ref.kind}/${ref.name}` }, 'cluster-scoped object refers to a namespaced owner; ignored');
      return { isDangling: false };
    }
    const owner = await this.getObject({ apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, uid: ref.uid, namespace: def.namespaced ? item.identity.namespace : '' });
    if (!owner || owner.metadata?.uid !== ref.uid) {
      this.absentOwners.add(ref.uid);
      return { isDangling: true };
    }
    return { isDangling: false, owner };
  }

  /** upstream's attemptToOrphanWorker: strips the owner from every dependent, then drops the `orphan` finalizer. */
  private async attemptToOrphan(owner: GraphNode): Promise<void> {
    const results = await Promise.allSettled([...owner.dependents].map((dep) =>
      this.patchOwnerRefs(dep.identity, [{ $patch: 'delete', uid: owner.identity.uid }])));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    if (owner.dependents.size) this.log.info({ owner: describe(owner.identity), dependents: owner.dependents.size }, 'orphaned dependents');
    await this.removeFinalizer(owner.identity, FINALIZER_ORPHAN);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Writes

  private defOf(id: ObjectIdentity): ResourceDef {
    const def = this.kindOf(id.apiVersion, id.kind);
    if (!def) throw new Error(`${describe(id)} is of unknown kind ${id.apiVersion}/${id.kind}`);
    return def;
  }

  /** The live object, or undefined when it is not there. */
  private async getObject(id: ObjectIdentity): Promise<KubeObjectLike | undefined> {
    const def = this.defOf(id);
    try {
      return await this.deps.client.get<KubeObjectLike>(def, def.namespaced ? id.namespace : undefined, id.name);
    } catch (e) {
      if (e instanceof ApiError && e.isNotFound) return undefined;
      throw e;
    }
  }

  private async deleteObject(id: ObjectIdentity, propagationPolicy: DeletionPolicy): Promise<void> {
    const def = this.defOf(id);
    this.log.info({ item: describe(id), propagationPolicy }, 'deleting object whose owners are gone');
    try {
      await this.deps.client.delete(def, def.namespaced ? id.namespace : undefined, id.name, { preconditions: { uid: id.uid }, propagationPolicy });
    } catch (e) {
      if (e instanceof ApiError && e.isNotFound) return;
      throw e;
    }
  }

  /** A strategic merge patch of an object's ownerReferences (merge key uid); a missing object is fine. */
  private async patchOwnerRefs(id: ObjectIdentity, refs: OwnerRefPatch[]): Promise<void> {
    const def = this.defOf(id);
    if (!findKind(id.apiVersion, id.kind)) {
      await this.mergeOwnerRefs(def, id, refs);
      return;
    }
    try {
      await this.deps.client.patch(def, def.namespaced ? id.namespace : undefined, id.name, { metadata: { ownerReferences: refs, uid: id.uid } }, 'strategic');
    } catch (e) {
      if (e instanceof ApiError && e.isNotFound) return;
      throw e;
    }
  }

  /**
   * The same change for a custom resource, which takes no strategic merge patch (upstream's JSON merge patch
   * fallback): the whole list, computed from the live object, guarded by its uid and resourceVersion.
   */
  private async mergeOwnerRefs(def: ResourceDef, id: ObjectIdentity, changes: OwnerRefPatch[]): Promise<void> {
    const ns = def.namespaced ? id.namespace : undefined;
    for (let attempt = 0; ; attempt++) {
      const obj = await this.getObject(id);
      if (!obj || obj.metadata?.uid !== id.uid) return;
      let refs = [...(obj.metadata?.ownerReferences ?? [])];
      for (const c of changes) {
        if ('$patch' in c) refs = refs.filter((r) => r.uid !== c.uid);
        else refs = refs.map((r) => (r.uid === c.uid ? { ...r, blockOwnerDeletion: c.blockOwnerDeletion } : r));
      }
      try {
        await this.deps.client.patch(def, ns, id.name, {
          metadata: { ownerReferences: refs.length ? refs : null, uid: id.uid, resourceVersion: obj.metadata!.resourceVersion },
        }, 'merge');
        return;
      } catch (e) {
        if (e instanceof ApiError && e.isNotFound) return;
        if (!(e instanceof ApiError && e.isConflict) || attempt >= 4) throw e;
      }
    }
  }

  /** Removes one finalizer, guarded by resourceVersion and retried on a conflict (upstream's removeFinalizer). */
  private async removeFinalizer(id: ObjectIdentity, finalizer: string): Promise<void> {
    const def = this.defOf(id);
    const ns = def.namespaced ? id.namespace : undefined;
    for (let attempt = 0; ; attempt++) {
      const obj = await this.getObject(id);
      if (!obj || obj.metadata?.uid !== id.uid || !hasFinalizer(obj, finalizer)) return;
      const rest = obj.metadata!.finalizers!.filter((f) => f !== finalizer);
      try {
        await this.deps.client.patch(def, ns, id.name, { metadata: { finalizers: rest.length ? rest : null, resourceVersion: obj.metadata!.resourceVersion } }, 'merge');
        this.log.info({ item: describe(id), finalizer }, 'removed finalizer');
        return;
      } catch (e) {
        if (e instanceof ApiError && e.isNotFound) return;
        if (!(e instanceof ApiError && e.isConflict) || attempt >= 4) throw e;
      }
    }
  }
}

/** Informer objects of one resource may lack kind/apiVersion (list items): the graph needs both. */
function withKind(def: ResourceDef, obj: KubeObjectLike): KubeObjectLike {
  if (obj.kind && obj.apiVersion) return obj;
  return { ...obj, apiVersion: def.group ? `${def.group}/${def.version}` : def.version, kind: def.kind };
}

function describe(id: ObjectIdentity): string {
  return `${id.kind} ${id.namespace ? `${id.namespace}/` : ''}${id.name} (${id.uid})`;
}
