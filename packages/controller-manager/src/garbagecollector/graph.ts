import type { KubeObjectLike, OwnerReference } from '@k8ts/api';

/** The garbage collector's finalizers (metav1.FinalizerOrphanDependents, metav1.FinalizerDeleteDependents). */
export const FINALIZER_ORPHAN = 'orphan';
export const FINALIZER_FOREGROUND = 'foregroundDeletion';

/** Where an object is and which one it is: an owner reference's coordinates plus the namespace (upstream's objectReference). */
export interface ObjectIdentity {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid: string;
}

/** One object of the ownership graph (upstream's garbagecollector node): its owners and the objects that name it as one. */
export class GraphNode {
  readonly dependents = new Set<GraphNode>();
  /** Built from a dependent's owner reference, not yet seen by an informer. */
  virtual: boolean;
  /** Seen with metadata.deletionTimestamp. */
  beingDeleted = false;
  /** Being deleted with the foregroundDeletion finalizer: waits for its blocking dependents. */
  deletingDependents = false;

  constructor(public identity: ObjectIdentity, public owners: OwnerReference[], virtual = false) {
    this.virtual = virtual;
  }

  /** Dependents whose reference to this node has blockOwnerDeletion: a foreground deletion waits for them. */
  blockingDependents(): GraphNode[] {
    return [...this.dependents].filter((d) => d.owners.some((o) => o.uid === this.identity.uid && o.blockOwnerDeletion === true));
  }
}

/** The identity of an observed object. */
export function identityOf(obj: KubeObjectLike): ObjectIdentity {
  const m = obj.metadata ?? {};
  return { apiVersion: String(obj.apiVersion ?? ''), kind: String(obj.kind ?? ''), namespace: m.namespace ?? '', name: m.name ?? '', uid: m.uid ?? '' };
}

export function hasFinalizer(obj: KubeObjectLike | undefined, finalizer: string): boolean {
  return obj?.metadata?.finalizers?.includes(finalizer) ?? false;
}

/** Being deleted and held by `finalizer` (upstream's deletionStartsWithFinalizer). */
function deletingWith(obj: KubeObjectLike | undefined, finalizer: string): boolean {
  return !!obj?.metadata?.deletionTimestamp && hasFinalizer(obj, finalizer);
}

/** True when this change is the one that started an orphaning deletion (upstream's startsWaitingForDependentsOrphaned). */
export function startsWaitingForDependentsOrphaned(old: KubeObjectLike | undefined, obj: KubeObjectLike): boolean {
  return deletingWith(obj, FINALIZER_ORPHAN) && !deletingWith(old, FINALIZER_ORPHAN);
}

/** True when this change is the one that started a foreground deletion (upstream's startsWaitingForDependentsDeleted). */
export function startsWaitingForDependentsDeleted(old: KubeObjectLike | undefined, obj: KubeObjectLike): boolean {
  return deletingWith(obj, FINALIZER_FOREGROUND) && !deletingWith(old, FINALIZER_FOREGROUND);
}

/** Owner references added, removed, or changed (same uid, other fields) between two lists (upstream's referencesDiffs). */
export function referencesDiffs(old: readonly OwnerReference[], now: readonly OwnerReference[]): {
  added: OwnerReference[]; removed: OwnerReference[]; changed: { old: OwnerReference; now: OwnerReference }[];
} {
  const oldByUid = new Map(old.map((r) => [r.uid, r]));
  const nowByUid = new Map(now.map((r) => [r.uid, r]));
  const added = now.filter((r) => !oldByUid.has(r.uid));
  const removed = old.filter((r) => !nowByUid.has(r.uid));
  const changed = now.filter((r) => oldByUid.has(r.uid) && JSON.stringify(sortKeys(r)) !== JSON.stringify(sortKeys(oldByUid.get(r.uid)!)))
    .map((r) => ({ old: oldByUid.get(r.uid)!, now: r }));
  return { added, removed, changed };
}

function sortKeys(r: OwnerReference): [string, unknown][] {
  return Object.entries(r).sort(([a], [b]) => (a < b ? -1 : 1));
}

/** A bounded set of uids known to be absent, oldest dropped first (upstream's ReferenceCache of absent owners). */
export class AbsentOwnerCache {
  private readonly uids = new Map<string, true>();
  constructor(private readonly size = 500) {}
  add(uid: string): void {
    this.uids.delete(uid);
    this.uids.set(uid, true);
    if (this.uids.size > this.size) this.uids.delete(this.uids.keys().next().value!);
  }
  has(uid: string): boolean {
    return this.uids.has(uid);
  }
}
