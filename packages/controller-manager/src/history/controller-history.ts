import {
  ApiError, CONTROLLERREVISIONS, matchesLabels, newControllerRef, getControllerOf,
  type ApiClient, type KubeObject, type KubeObjectLike, type LabelRequirement, type OwnerReference, type PodTemplateSpec,
  type ResourceDef, type SharedInformer,
} from '@k8ts/api';

/** apps/v1 ControllerRevision: a snapshot of a DaemonSet's or StatefulSet's template, numbered. */
export interface ControllerRevision extends KubeObject {
  data?: unknown;
  revision?: number;
}

/** The label holding the hash of a ControllerRevision's data (upstream's ControllerRevisionHashLabel). */
export const CONTROLLER_REVISION_HASH_LABEL = 'controller.kubernetes.io/hash';
/** The label on DaemonSet and StatefulSet pods naming their revision (apps/v1 ControllerRevisionHashLabelKey). */
export const POD_REVISION_LABEL = 'controller-revision-hash';

/** `<prefix>-<hash>`, the prefix cut to 223 characters so the name stays within 253 (ControllerRevisionName). */
export function controllerRevisionName(prefix: string, hash: string): string {
  return `${prefix.length > 223 ? prefix.slice(0, 223) : prefix}-${hash}`;
}

/** JSON with every object's keys sorted, as Go writes a map[string]interface{}: the same data always gives the same bytes. */
export function canonicalJSON(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJSON).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJSON((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

/** A deep copy with every object's keys sorted (so that JSON.stringify of it is canonicalJSON). */
function sortedCopy<T>(v: T): T {
  if (Array.isArray(v)) return v.map(sortedCopy) as T;
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => [k, sortedCopy((v as Record<string, unknown>)[k])])) as T;
  }
  return v;
}

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** apimachinery's rand.SafeEncodeString: each character mapped onto an alphabet without vowels (no words by chance). */
export function safeEncodeString(s: string): string {
  return [...s].map((c) => SAFE_ALPHABET[c.charCodeAt(0) % SAFE_ALPHABET.length]).join('');
}

/** FNV-1 32-bit (Go's hash/fnv New32) over the bytes. */
function fnv1(h: number, bytes: Uint8Array): number {
  for (const b of bytes) { h = Math.imul(h, 0x01000193) >>> 0; h = (h ^ b) >>> 0; }
  return h;
}

/**
 * The hash of a revision's data (HashControllerRevision): FNV-1 32 over the data's JSON, then the collision count in
 * decimal when given, safe-encoded.
 */
export function hashControllerRevision(data: unknown, probe?: number): string {
  const enc = new TextEncoder();
  let h = fnv1(0x811c9dc5, enc.encode(canonicalJSON(data)));
  if (probe !== undefined && probe !== null) h = fnv1(h, enc.encode(String(probe)));
  return safeEncodeString(String(h >>> 0));
}

/**
 * The pod template as Go's encoding/json writes a typed PodTemplateSpec: `metadata.creationTimestamp: null` and each
 * container's `resources: {}` are always there, so that kubectl's own patch of the object (it decodes into Go types and
 * encodes again) has the same bytes as the revision's.
 */
function goTemplate(template: PodTemplateSpec | undefined): Record<string, unknown> {
  const t = structuredClone(template ?? {}) as Record<string, any>;
  t.metadata = { creationTimestamp: null, ...(t.metadata ?? {}) };
  t.spec ??= {};
  for (const list of ['initContainers', 'containers']) {
    for (const c of t.spec[list] ?? []) c.resources ??= {};
  }
  t.spec.containers ??= [];
  return t;
}

/**
 * The strategic merge patch that restores an object's pod template (both controllers' getPatch, and kubectl's):
 * `{"spec":{"template":{…,"$patch":"replace"}}}`, keys sorted as Go's encoder writes them.
 */
export function templatePatch(obj: { spec?: { template?: PodTemplateSpec } }): Record<string, unknown> {
  return sortedCopy({ spec: { template: { ...goTemplate(obj.spec?.template), $patch: 'replace' } } });
}

/** The pod template a revision's data holds (what applying the patch to the object gives its spec.template). */
export function revisionTemplate(rev: ControllerRevision): PodTemplateSpec | undefined {
  const t = (rev.data as { spec?: { template?: Record<string, unknown> } } | undefined)?.spec?.template;
  if (!t || typeof t !== 'object') return undefined;
  const { $patch: _ignored, ...rest } = t;
  const out = structuredClone(rest) as Record<string, any>;
  if (out.metadata && out.metadata.creationTimestamp === null) delete out.metadata.creationTimestamp;
  return out as PodTemplateSpec;
}

/** The object with its template restored from the revision (ApplyRevision); undefined when the data holds none. */
export function applyRevision<T extends { spec?: { template?: PodTemplateSpec } }>(obj: T, rev: ControllerRevision): T {
  const template = revisionTemplate(rev);
  const clone = structuredClone(obj);
  if (template) clone.spec = { ...clone.spec, template };
  return clone;
}

/** Whether the revision's data is the object's template patch (DaemonSet's Match). */
export function revisionMatches(obj: { spec?: { template?: PodTemplateSpec } }, rev: ControllerRevision): boolean {
  return canonicalJSON(rev.data) === canonicalJSON(templatePatch(obj));
}

/**
 * A new, unnamed-yet revision owned by `parent` (NewControllerRevision): the template's labels plus the hash label,
 * the data, the revision number; its name is `<parent>-<hash>`.
 */
export function newControllerRevision(parent: KubeObjectLike, parentDef: ResourceDef, templateLabels: Record<string, string> | undefined,
  data: unknown, revision: number, collisionCount?: number): ControllerRevision {
  const hash = hashControllerRevision(data, collisionCount);
  return {
    apiVersion: 'apps/v1', kind: 'ControllerRevision',
    metadata: {
      name: controllerRevisionName(parent.metadata!.name!, hash),
      namespace: parent.metadata!.namespace,
      labels: { ...(templateLabels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: hash },
      ownerReferences: [newControllerRef(parent, parentDef)],
    },
    data,
    revision,
  };
}

/** Same data, and the same hash label when both have one (EqualRevision). */
export function equalRevision(a: ControllerRevision | undefined, b: ControllerRevision | undefined): boolean {
  if (!a || !b) return a === b;
  const ha = a.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL];
  const hb = b.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL];
  if (ha && hb && ha !== hb) return false;
  return canonicalJSON(a.data) === canonicalJSON(b.data);
}

/** The revisions equal to `needle`, in the order given (FindEqualRevisions). */
export function findEqualRevisions(revisions: readonly ControllerRevision[], needle: ControllerRevision): ControllerRevision[] {
  return revisions.filter((r) => equalRevision(r, needle));
}

const created = (r: ControllerRevision) => (r.metadata?.creationTimestamp ? Date.parse(r.metadata.creationTimestamp) : 0);

/** Lowest revision first; ties by creation time, then name (SortControllerRevisions, stable). */
export function sortControllerRevisions(revisions: ControllerRevision[]): ControllerRevision[] {
  return revisions.sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0) || created(a) - created(b)
    || ((a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : (a.metadata?.name ?? '') > (b.metadata?.name ?? '') ? 1 : 0));
}

/** One more than the highest revision of a sorted list; 1 for none (nextRevision). */
export function nextRevision(sorted: readonly ControllerRevision[]): number {
  return sorted.length ? (sorted[sorted.length - 1].revision ?? 0) + 1 : 1;
}

/** The highest revision number, 0 for none (maxRevision). */
export function maxRevision(revisions: readonly ControllerRevision[]): number {
  return revisions.reduce((m, r) => Math.max(m, r.revision ?? 0), 0);
}

/**
 * A controller's history as realized by ControllerRevisions (upstream's history.Interface, realHistory): listed from
 * the informer, written through the client.
 */
export class ControllerHistory {
  constructor(private readonly client: ApiClient, private readonly revisions: SharedInformer<ControllerRevision>) {}

  /** Revisions of the parent's namespace matching the selector and owned by the parent or by no controller. */
  list(parent: KubeObjectLike, selector: readonly LabelRequirement[]): ControllerRevision[] {
    return this.revisions.lister().listNamespace(parent.metadata!.namespace!).filter((r) => {
      if (!matchesLabels(selector, r.metadata?.labels)) return false;
      const ref = getControllerOf(r);
      return !ref || ref.uid === parent.metadata!.uid;
    });
  }

  /**
   * Creates the revision under `<parent>-<hash>`; a name taken by different data bumps `collisionCount.value` and
   * tries the next name (CreateControllerRevision). Returns the existing revision when it already holds this data.
   */
  async create(parent: KubeObjectLike, revision: ControllerRevision, collisionCount: { value: number }): Promise<ControllerRevision> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const hash = hashControllerRevision(revision.data, collisionCount.value);
      const clone = structuredClone(revision);
      clone.metadata!.name = controllerRevisionName(parent.metadata!.name!, hash);
      clone.metadata!.labels = { ...clone.metadata!.labels, [CONTROLLER_REVISION_HASH_LABEL]: hash };
      try {
        return await this.client.create<ControllerRevision>(CONTROLLERREVISIONS, parent.metadata!.namespace, clone);
      } catch (e) {
        if (!(e instanceof ApiError && e.isAlreadyExists)) throw e;
        const exists = await this.client.get<ControllerRevision>(CONTROLLERREVISIONS, parent.metadata!.namespace, clone.metadata!.name!);
        if (canonicalJSON(exists.data) === canonicalJSON(clone.data)) return exists;
        collisionCount.value++;
      }
    }
    throw new Error(`could not find a free ControllerRevision name for ${parent.metadata!.name} after 100 collisions`);
  }

  /** Sets the revision number, retrying on conflicts with the latest copy (UpdateControllerRevision). */
  async update(revision: ControllerRevision, newRevision: number): Promise<ControllerRevision> {
    let clone = structuredClone(revision);
    for (let attempt = 0; ; attempt++) {
      if (clone.revision === newRevision) return clone;
      clone.revision = newRevision;
      try {
        return await this.client.update<ControllerRevision>(CONTROLLERREVISIONS, clone.metadata!.namespace, clone);
      } catch (e) {
        if (!(e instanceof ApiError && e.isConflict) || attempt >= 4) throw e;
        clone = await this.client.get<ControllerRevision>(CONTROLLERREVISIONS, clone.metadata!.namespace, clone.metadata!.name!);
      }
    }
  }

  /** Deletes the revision; one already gone is fine. */
  async delete(revision: ControllerRevision): Promise<void> {
    try {
      await this.client.delete(CONTROLLERREVISIONS, revision.metadata!.namespace, revision.metadata!.name!);
    } catch (e) {
      if (!(e instanceof ApiError && e.isNotFound)) throw e;
    }
  }

  /** Makes the parent the revision's controller; refuses a revision another controller owns (AdoptControllerRevision). */
  async adopt(parent: KubeObjectLike, parentDef: ResourceDef, revision: ControllerRevision): Promise<ControllerRevision> {
    const owner = getControllerOf(revision);
    if (owner) throw new Error(`attempt to adopt revision owned by ${owner.kind}/${owner.name}`);
    const ref: OwnerReference = newControllerRef(parent, parentDef);
    return this.client.patch<ControllerRevision>(CONTROLLERREVISIONS, revision.metadata!.namespace, revision.metadata!.name!,
      { metadata: { ownerReferences: [ref], uid: revision.metadata!.uid } }, 'strategic');
  }

  /** Removes the parent from the revision's owners; a revision gone or no longer owned is fine (ReleaseControllerRevision). */
  async release(parent: KubeObjectLike, revision: ControllerRevision): Promise<ControllerRevision | undefined> {
    try {
      return await this.client.patch<ControllerRevision>(CONTROLLERREVISIONS, revision.metadata!.namespace, revision.metadata!.name!,
        { metadata: { ownerReferences: [{ $patch: 'delete', uid: parent.metadata!.uid }], uid: revision.metadata!.uid } }, 'strategic');
    } catch (e) {
      if (e instanceof ApiError && (e.isNotFound || e.code === 422)) return undefined;
      throw e;
    }
  }
}
