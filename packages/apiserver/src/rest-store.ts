import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import {
  ApiError, apiVersionOf, errors, matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector,
  type FieldRequirement, type KubeObject, type LabelRequirement, type Logger, type ResourceDef,
} from '@k8ts/api';
import { unrecognized } from './http.js';
import { AdmissionChain, type AdmissionAttributes, type Operation } from './admission/chain.js';
import { fieldProblems, unknownFields, type FieldCheck } from './field-validation.js';
import { copyJson } from './copy.js';
import { isDryRun } from './dry-run.js';
import { strategicMergePatch } from './patch/strategic-merge.js';
import { mergePatch } from './patch/merge-patch.js';
import { validateObject } from './registry/index.js';
import { rfc3339, type Strategy, type VersionConversion } from './registry/strategy.js';
import { NO_CHANGE, ReservationTaken, type ListPage, type Storage, type StoredObject } from './storage.js';
import { checkDepth, depthExceeds, applyJsonPatch, MAX_DEPTH } from './limits.js';
import type { WatchCache } from './watch-cache.js';
import {
  applyManaged, baseManaged, checkApplyConfig, encodeManagedFields, managedFieldsType, toFieldSet, updateManaged,
  type FieldType, type Managed, type Writer,
} from './managed-fields/index.js';
import { stripMeta, STATUS_ONLY, type ResetFields } from './managed-fields/manager.js';

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

/**
 * The subresources a client writes the object through: `status` changes only the status; `ephemeralcontainers`
 * only the pod's spec.ephemeralContainers (upstream's EphemeralContainersREST and its strategy).
 */
export type WriteSubresource = 'status' | 'ephemeralcontainers';

export interface WriteOptions {
  dryRun?: boolean;
  /** Field validation of the body or patched object (?fieldValidation); none: not checked (the server's own writes). */
  fields?: FieldCheck;
  /**
   * The field manager of a client's write (?fieldManager, else the User-Agent's prefix): its metadata.managedFields
   * entry is updated. Undefined: the server's own write, managedFields left as they are.
   */
  manager?: string;
  /** The subresource the manager wrote through when it is not the store's own (`scale`). */
  managerSubresource?: string;
  /** ?force=true of an apply patch: take the conflicting fields from their managers. */
  force?: boolean;
  /** Set by an apply: the managedFields it computed, kept as they are (no Update entry on top). */
  applied?: boolean;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: string;
  /** Deprecated: true is propagationPolicy Orphan, false is Background. */
  orphanDependents?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: string[];
}

export interface ListQuery {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

/** A compiled label + field selector. */
export interface Selector { labels: LabelRequirement[]; fields: FieldRequirement[] }

const GENERATE_CHARS = 'bcdfghjklmnpqrstvwxz2456789';
/** Times a create or update picks again when a value the server allocated was taken by another apiserver meanwhile. */
const RESERVATION_RETRIES = 16;

/**
 * The generic REST logic of every resource, as upstream's registry Store: create/update/patch/delete with
 * defaults, validation, generation, status subresource rules, finalizers and graceful deletion. What differs by
 * kind is the strategy's; every write runs the admission chain.
 */
export class ResourceStore {
  /** The stored version's row: keys, kind, errors. */
  readonly def: ResourceDef;
  /** The version requests and answers are in: `def`, or the conversion's. */
  readonly served: ResourceDef;

  /**
   * With a `conversion`, the store serves another version of the stored kind (same objects, same cache): bodies are
   * decoded as that version and converted to the stored one, answers converted back, patches applied to the
   * served form.
   */
  constructor(readonly strategy: Strategy, private readonly storage: Storage, readonly cache: WatchCache,
    private readonly log: Logger, private readonly admission = new AdmissionChain(), readonly conversion?: VersionConversion) {
    this.def = strategy.def;
    this.served = conversion?.def ?? strategy.def;
  }

  key(namespace: string | undefined, name: string): string {
    return this.storage.key(this.def, namespace, name);
  }

  /** Compiles ?labelSelector= and ?fieldSelector=, refusing fields this resource cannot select on. */
  selector(query: { labelSelector?: string; fieldSelector?: string }): Selector {
    const labels = parseLabelSelector(query.labelSelector ?? '');
    const known = Object.keys(this.selectableFields({}));
    // A served version's labels are converted to the stored kind's (regarding.name → involvedObject.name).
    const fields = parseFieldSelector(query.fieldSelector ?? '').map((f) => {
      const field = this.conversion?.fieldLabel ? this.conversion.fieldLabel(f.field) : f.field;
      if (field === undefined || !known.includes(field)) throw errors.badRequest(`field label not supported: ${f.field}`);
      return field === f.field ? f : { ...f, field };
    });
    return { labels, fields };
  }

  matches(sel: Selector, obj: KubeObject): boolean {
    return matchesLabels(sel.labels, obj.metadata?.labels) &&
      (sel.fields.length === 0 || matchesFields(sel.fields, this.selectableFields(obj)));
  }

  /** The fields a field selector may use, with their values for one object. */
  private selectableFields(obj: KubeObject): Record<string, string> {
    return { 'metadata.name': obj.metadata?.name ?? '', 'metadata.namespace': obj.metadata?.namespace ?? '', ...this.strategy.fields(obj) };
  }

  async get(namespace: string | undefined, name: string): Promise<KubeObject> {
    const found = await this.storage.get(this.key(namespace, name));
    if (!found) throw this.notFound(name);
    return this.withType(found.object);
  }

  /** Lists from etcd (consistent, paged), or from the watch cache when resourceVersion=0 and no limit asks for paging. */
  async list(namespace: string | undefined, query: ListQuery): Promise<ListPage> {
    const sel = this.selector(query);
    const filter = (o: KubeObject) => this.matches(sel, o);
    if (query.resourceVersion === '0' && !query.continue) {
      await this.cache.ready;
      const items = [...this.cache.objects.values()]
        .filter((o) => (!namespace || o.metadata?.namespace === namespace) && filter(o))
        .sort((a, b) => keyCompare(a, b));
      return { items: items.map((o) => this.withType(o)), revision: this.cache.revision, continue: '' };
    }
    const page = await this.storage.list(this.storage.prefix(this.def, namespace), { limit: query.limit, continue: query.continue, filter });
    page.items = page.items.map((o) => this.withType(o));
    return page;
  }

  async create(namespace: string | undefined, body: unknown, opts: WriteOptions = {}): Promise<KubeObject> {
    // A reservation the server picked (a random cluster IP) that another apiserver took meanwhile: pick again.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.createOnce(namespace, body, opts);
      } catch (err) {
        if (!(err instanceof ReservationTaken) || attempt >= RESERVATION_RETRIES) throw err;
        this.log.debug({ resource: this.def.resource, reservation: err.reservation, attempt }, 'allocated value taken meanwhile; allocating again');
      }
    }
  }

  private async createOnce(namespace: string | undefined, body: unknown, opts: WriteOptions): Promise<KubeObject> {
    const obj = this.checkBody(body, namespace, { fields: opts.fields });
    const meta = obj.metadata!;
    if (!meta.name && meta.generateName) {
      meta.name = meta.generateName + Array.from({ length: 5 }, () => GENERATE_CHARS[Math.floor(Math.random() * GENERATE_CHARS.length)]).join('');
    }
    for (const f of ['resourceVersion', 'deletionTimestamp', 'deletionGracePeriodSeconds'] as const) delete meta[f];
    meta.uid = randomUUID();
    meta.creationTimestamp = rfc3339();
    if (this.strategy.tracksGeneration) meta.generation = 1; else delete meta.generation;
    this.strategy.defaults(obj);
    const status = this.strategy.initialStatus(obj);
    if (status === undefined) delete obj.status; else obj.status = status;
    if (opts.manager !== undefined && !opts.applied) {
      this.setManaged(obj, updateManaged(undefined, this.asServed(obj), baseManaged(undefined, meta.managedFields, undefined), this.writer(opts), this.fieldType(), this.resetFields()));
    }
    // What the client asked for itself: taken by someone else, it is the client's error, not ours to retry.
    const requested = this.strategy.reservations?.(obj) ?? [];
    const attrs = this.attributes('CREATE', meta.namespace, meta.name ?? '', opts, obj);
    await this.admission.mutate(attrs);
    this.validate(obj);
    await this.admission.validate(attrs);
    if (opts.dryRun) {
      // A dry run takes nothing, but says what the real create would: a requested value someone holds is a 422.
      const held = await this.storage.takenOf(requested);
      if (held) throw this.reservationError(obj, held);
      return obj;
    }
    const reservations = this.strategy.reservations?.(obj) ?? [];
    try {
      const created = await this.storage.create(this.key(namespace, meta.name!), obj, () => this.alreadyExists(meta.name!), reservations);
      return this.withType(created);
    } catch (err) {
      if (err instanceof ReservationTaken && requested.includes(err.reservation)) throw this.reservationError(obj, err.reservation);
      throw err;
    }
  }

  /**
   * Takes the reservations stored objects hold but etcd does not record (objects written before their kind had
   * reservations); one already held by another object is logged, as upstream's repair loops report a collision.
   * Returns how many were taken.
   */
  async repairReservations(): Promise<number> {
    const reservations = this.strategy.reservations;
    if (!reservations) return 0;
    let taken = 0;
    for (let page = await this.storage.list(this.storage.prefix(this.def)); ; page = await this.storage.list(this.storage.prefix(this.def), { continue: page.continue })) {
      for (const obj of page.items) {
        const key = this.key(obj.metadata?.namespace, obj.metadata!.name!);
        for (const r of reservations(obj)) {
          const holder = await this.storage.reserve(r, key);
          if (holder === key) continue;
          if (holder === null) taken++;
          else this.log.warn({ object: key, reservation: r, holder }, 'value held by two objects; left with its first holder');
        }
      }
      if (!page.continue) return taken;
    }
  }

  /** The 422 for a reservation the client asked for that another object holds. */
  private reservationError(obj: KubeObject, reservation: string): ApiError {
    const cause = this.strategy.reservationTaken?.(obj, reservation)
      ?? { type: 'FieldValueInvalid', field: 'metadata', value: reservation, message: 'is already allocated' };
    return errors.invalid(this.def.kind, this.def.group, obj.metadata?.name ?? '', [cause]);
  }

  /** PUT of the object (`subresource` undefined), of its status or of its ephemeral containers. */
  async update(namespace: string | undefined, name: string, body: unknown, opts: WriteOptions & { subresource?: WriteSubresource } = {}): Promise<KubeObject> {
    const obj = this.checkBody(body, namespace, { fields: opts.fields });
    if (obj.metadata?.name !== name) {
      throw errors.badRequest(`the name of the object (${obj.metadata?.name ?? ''}) does not match the name on the URL (${name})`);
    }
    return this.write(namespace, name, opts, (current) => {
      if (!current) throw this.notFound(name);
      const rv = obj.metadata?.resourceVersion;
      if (rv && rv !== current.object.metadata?.resourceVersion) throw this.conflict(name);
      return obj;
    }, opts.subresource);
  }

  /** PATCH of the object or of its status; apply patches create a missing object. */
  async patch(namespace: string | undefined, name: string, type: PatchType, patch: unknown,
    opts: WriteOptions & { subresource?: WriteSubresource } = {}): Promise<{ object: KubeObject; created: boolean }> {
    if (type === 'apply') return this.apply(namespace, name, patch, opts);
    const object = await this.write(namespace, name, opts, (current) => {
      if (!current) throw this.notFound(name);
      const patched = this.checkBody(this.applyPatch(this.conversion ? this.withType(current.object) : current.object, type, patch), namespace, { patch, fields: opts.fields });
      const rv = patched.metadata?.resourceVersion;
      if (rv && rv !== current.object.metadata?.resourceVersion) throw this.conflict(name);
      return patched;
    }, opts.subresource);
    return { object, created: false };
  }

  /**
   * Server-side apply (structured-merge-diff's Apply through upstream's field manager): the configuration merged into
   * the live object by the kind's schema, its manager owning exactly its fields, conflicts with other managers' fields
   * a 409 unless forced, fields it applied before and nobody owns any more removed. Creates a missing object.
   */
  private async apply(namespace: string | undefined, name: string, patch: unknown, opts: WriteOptions & { subresource?: WriteSubresource }): Promise<{ object: KubeObject; created: boolean }> {
    if (!isObject(patch)) throw errors.badRequest('error decoding YAML: the apply patch must be an object');
    checkApplyConfig(patch);
    // The configuration decodes as the kind (400 as upstream's decoder) before it is merged.
    const config = this.checkBody(patch, namespace);
    if (config.metadata?.name !== name) throw errors.badRequest(`the name of the object (${config.metadata?.name ?? ''}) does not match the name on the URL (${name})`);
    const raw = copyJson(patch);
    const writer = this.writer(opts);
    const type = this.fieldType();
    const reset = this.resetFields(opts.subresource);
    const exists = await this.storage.get(this.key(namespace, name));
    if (!exists) {
      if (opts.subresource) throw this.notFound(name);
      const { managed } = applyManaged(undefined, raw, new Map(), writer, type, !!opts.force, reset);
      this.setManaged(config, managed);
      // create decodes its body as the served version again: a converted configuration goes back to that form.
      return { object: await this.create(namespace, this.asServed(config), { ...opts, applied: true }), created: true };
    }
    const object = await this.write(namespace, name, { ...opts, applied: true }, (current) => {
      if (!current) throw this.notFound(name);
      const live = (this.conversion ? this.withType(current.object) : current.object) as Record<string, unknown>;
      let base = baseManaged(current.object, undefined, 'apply');
      // An object written before it had managedFields: its fields are owned by `before-first-apply` (upstream's field manager).
      if (base.size === 0) base = this.beforeFirstApply(live, type, reset);
      const applied = applyManaged(live, raw, base, writer, type, !!opts.force, reset);
      const merged = applied.object as KubeObject;
      this.setManaged(merged, applied.managed);
      const result = this.checkBody(merged, namespace, { patch });
      const rv = (raw.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
      if (rv && rv !== current.object.metadata?.resourceVersion) throw this.conflict(name);
      return result;
    }, opts.subresource);
    return { object, created: false };
  }

  private beforeFirstApply(live: unknown, type: FieldType, reset: ResetFields): Managed {
    const m: Managed = new Map();
    let set = toFieldSet(stripMeta(live), type);
    if (reset.ignored) set = set.recursiveDifference(reset.ignored);
    if (!set.empty()) m.set('before-first-apply', { manager: 'before-first-apply', operation: 'Update', apiVersion: apiVersionOf(this.served), set });
    return m;
  }

  /** The schema the kind's managed fields are computed with (per group/version/kind; CRDs register theirs). */
  fieldType(): FieldType {
    return managedFieldsType(this.served, this.conversion ? undefined : this.strategy.patchMeta);
  }

  private writer(opts: WriteOptions & { subresource?: string }): Writer {
    const subresource = opts.managerSubresource ?? (opts.subresource === 'status' || opts.subresource === 'ephemeralcontainers' ? opts.subresource : undefined);
    return { manager: opts.manager ?? '', apiVersion: apiVersionOf(this.served), ...(subresource ? { subresource } : {}) };
  }

  /** Upstream's reset fields: with a /status subresource, the status is owned through it only, and only it is. */
  private resetFields(subresource?: string): ResetFields {
    if (!this.def.subresources.some((s) => s.name === 'status')) return {};
    return subresource === 'status' ? { only: 'status' } : { ignored: STATUS_ONLY };
  }

  private setManaged(obj: KubeObject, managed: Managed): void {
    const meta = (obj.metadata ??= {});
    const encoded = encodeManagedFields(managed);
    if (encoded.length) meta.managedFields = encoded as never; else delete meta.managedFields;
  }

  /**
   * A server-side read-modify-write (binding, scale, namespace finalization): `fn` gets a copy of the current
   * object and returns the new one. 'internal' writes skip update validation, as upstream's direct storage updates.
   * `owned`: what `fn` returns shares nothing with the caller's data (only the copy it got and new values), so the
   * write path need not copy it again.
   */
  async mutate(namespace: string | undefined, name: string, fn: (obj: KubeObject) => KubeObject,
    opts: WriteOptions & { subresource?: WriteSubresource | 'internal'; fromCache?: boolean; owned?: boolean } = {}): Promise<KubeObject> {
    return this.write(namespace, name, { ...opts, fromCache: opts.fromCache }, (current) => {
      if (!current) throw this.notFound(name);
      return fn(copyJson(current.object));
    }, opts.subresource);
  }

  /** Applies a patch document to an object, as the patch type's rules say. */
  applyPatch(original: KubeObject, type: PatchType, patch: unknown): unknown {
    const doc = copyJson(original);
    switch (type) {
      case 'merge':
        if (!isObject(patch)) throw errors.badRequest('a merge patch must be a JSON object');
        return mergePatch(doc, patch);
      case 'json':
        return applyJsonPatch(doc, patch);
      case 'strategic':
      case 'apply': {
        if (!isObject(patch)) throw errors.badRequest('a strategic merge patch must be a JSON object');
        return strategicMergePatch(doc, patch, this.strategy.patchMeta);
      }
    }
  }

  /**
   * The shared update path: `produce` returns the wanted object from the current one; this keeps what the
   * client may not change (identity, status or spec depending on the subresource), bumps generation, validates,
   * and finishes a deletion when the last finalizer goes.
   */
  private async write(namespace: string | undefined, name: string, opts: WriteOptions & { fromCache?: boolean; owned?: boolean },
    produce: (current: StoredObject | undefined) => KubeObject, subresource?: WriteSubresource | 'internal'): Promise<KubeObject> {
    for (let attempt = 0; ; attempt++) {
      let requested: string[] = [];
      let wantedObj: KubeObject | undefined;
      try {
        return await this.writeOnce(namespace, name, opts, produce, subresource, (obj, r) => { wantedObj = obj; requested = r; });
      } catch (err) {
        if (!(err instanceof ReservationTaken)) throw err;
        if (requested.includes(err.reservation) || attempt >= RESERVATION_RETRIES) throw this.reservationError(wantedObj!, err.reservation);
      }
    }
  }

  private async writeOnce(namespace: string | undefined, name: string, opts: WriteOptions & { fromCache?: boolean; owned?: boolean },
    produce: (current: StoredObject | undefined) => KubeObject, subresource: WriteSubresource | 'internal' | undefined,
    onRequested: (obj: KubeObject, reservations: string[]) => void): Promise<KubeObject> {
    const key = this.key(namespace, name);
    let result: KubeObject | undefined;
    const reservations = this.strategy.reservations;
    const { object, deleted } = await this.storage.guaranteedUpdate(key, async (current) => {
      // `produce` may hand back the same object on every attempt (an update's body), which the merge below changes.
      const produced = produce(current);
      const wanted = opts.owned ? produced : copyJson(produced);
      const old = current!.object;
      const next = this.merge(old, wanted, subresource);
      if (opts.applied) {
        if (wanted.metadata?.managedFields) next.metadata!.managedFields = wanted.metadata.managedFields; else delete next.metadata!.managedFields;
      } else if (opts.manager !== undefined && subresource !== 'internal') {
        const base = baseManaged(old, subresource ? undefined : next.metadata?.managedFields, subresource ?? opts.managerSubresource);
        this.setManaged(next, updateManaged(this.asServed(old), this.asServed(next), base, this.writer({ ...opts, subresource }), this.fieldType(), this.resetFields(subresource)));
      }
      if (reservations) {
        // Held already or asked for by the client (not by the allocation admission): a conflict is the client's.
        const held = reservations(old);
        onRequested(next, reservations(next).filter((r) => !held.includes(r)));
      }
      // Internal writes (binding, finalization) are the server's own, as upstream's direct storage updates.
      const attrs = subresource === 'internal' ? undefined : this.attributes('UPDATE', namespace, name, opts, next, old, subresource ?? '');
      // Mutating admission first (it may put back what the client left out), then: nothing changed, nothing written.
      if (attrs) await this.admission.mutate(attrs);
      if (isDeepStrictEqual(stripRv(next), stripRv(old))) { result = old; throw NO_CHANGE; }
      if (attrs) {
        this.validate(next, old, subresource);
        await this.admission.validate(attrs);
      }
      const finished = next.metadata?.deletionTimestamp && !(next.metadata.finalizers?.length) && !this.strategy.deletionBlocked?.(next);
      if (opts.dryRun) { result = next; throw NO_CHANGE; }
      return finished ? null : next;
    }, { reservations, cached: opts.fromCache ? this.cachedCurrent(namespace, name) : undefined });
    if (result) return this.withType(result);
    if (deleted) this.log.debug({ key }, 'last finalizer removed; object deleted');
    return this.withType(object!);
  }

  /**
   * The watch cache's copy of an object as the stored state to start an update from (upstream's Cacher passes it to
   * GuaranteedUpdate): saves a read from etcd; a stale copy only costs a retry with the live value.
   */
  private cachedCurrent(namespace: string | undefined, name: string): StoredObject | undefined {
    const object = this.cache.objects.get(`${namespace ?? ''}/${name}`);
    const rv = Number(object?.metadata?.resourceVersion);
    return object && Number.isSafeInteger(rv) && rv > 0 ? { key: this.key(namespace, name), object, modRevision: rv } : undefined;
  }

  private merge(old: KubeObject, wanted: KubeObject, subresource?: WriteSubresource | 'internal'): KubeObject {
    const def = this.def;
    let next: KubeObject;
    if (subresource === 'internal') {
      next = wanted;
    } else if (subresource === 'status') {
      // Status writes change status only (upstream's status strategies keep spec and metadata).
      next = { ...copyJson(old), status: wanted.status };
    } else if (subresource === 'ephemeralcontainers') {
      // Only spec.ephemeralContainers is taken (upstream's dropNonEphemeralContainerUpdates): the rest of the
      // spec, the status and the metadata stay as they are; the new containers get their defaults.
      next = copyJson(old);
      const spec = (next.spec ?? {}) as Record<string, unknown>;
      const containers = (wanted.spec as Record<string, unknown> | undefined)?.ephemeralContainers;
      if (containers === undefined || containers === null) delete spec.ephemeralContainers; else spec.ephemeralContainers = containers;
      next.spec = spec;
      this.strategy.defaults(next);
    } else {
      next = wanted;
      this.strategy.defaults(next);
      this.strategy.prepareForUpdate(next, old);
    }
    if (subresource !== 'internal') this.conversion?.restore?.(next, old);
    next.apiVersion = apiVersionOf(def);
    next.kind = def.kind;
    const meta = (next.metadata ??= {});
    const o = old.metadata ?? {};
    meta.name = o.name;
    if (def.namespaced) meta.namespace = o.namespace; else delete meta.namespace;
    meta.uid = o.uid;
    meta.creationTimestamp = o.creationTimestamp;
    meta.resourceVersion = o.resourceVersion;
    if (o.deletionTimestamp) {
      meta.deletionTimestamp = o.deletionTimestamp;
      meta.deletionGracePeriodSeconds = o.deletionGracePeriodSeconds;
    } else {
      delete meta.deletionTimestamp;
      delete meta.deletionGracePeriodSeconds;
    }
    if (this.strategy.tracksGeneration) {
      const changed = this.strategy.generationChanged ? this.strategy.generationChanged(next, old) : !isDeepStrictEqual(next.spec, old.spec);
      meta.generation = (o.generation ?? 1) + (changed ? 1 : 0);
    } else if (o.generation !== undefined) meta.generation = o.generation; else delete meta.generation;
    return next;
  }

  /**
   * DELETE: checks preconditions, then removes the object, or marks it (deletionTimestamp) when finalizers or
   * a pod's grace period must run first. Returns the object as it was last seen and whether it is gone.
   */
  async delete(namespace: string | undefined, name: string, options: DeleteOptions = {}, opts: WriteOptions = {}): Promise<{ object: KubeObject; deleted: boolean }> {
    if (options.propagationPolicy && !['Orphan', 'Background', 'Foreground'].includes(options.propagationPolicy)) {
      throw errors.badRequest(`propagationPolicy: Unsupported value: "${options.propagationPolicy}": supported values: "Foreground", "Background", "Orphan"`);
    }
    if (options.orphanDependents !== undefined && options.propagationPolicy) {
      // As upstream's ValidateDeleteOptions.
      throw errors.invalid('DeleteOptions', '', '', [{ type: 'FieldValueInvalid', field: 'propagationPolicy', value: options.propagationPolicy, message: 'orphanDependents and deletionPropagation cannot be both set' }]);
    }
    if (options.gracePeriodSeconds !== undefined && (!Number.isInteger(options.gracePeriodSeconds) || options.gracePeriodSeconds < 0)) {
      throw errors.badRequest('gracePeriodSeconds: must be a non-negative integer');
    }
    // dryRun: ["All"] in the DeleteOptions is as good as ?dryRun=All: nothing is written.
    const dryRun = isDryRun('DeleteOptions', options.dryRun) || !!opts.dryRun;
    let dry: KubeObject | undefined;
    const { object, deleted } = await this.storage.guaranteedUpdate(this.key(namespace, name), async (current) => {
      if (!current) throw this.notFound(name);
      const obj = copyJson(current.object);
      const meta = obj.metadata ?? {};
      const pre = options.preconditions;
      if (pre?.uid && pre.uid !== meta.uid) {
        throw this.conflict(name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${meta.uid ?? ''}`);
      }
      if (pre?.resourceVersion && pre.resourceVersion !== meta.resourceVersion) {
        throw this.conflict(name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${meta.resourceVersion ?? ''}`);
      }
      const attrs = this.attributes('DELETE', namespace, name, { dryRun }, undefined, current.object);
      await this.admission.mutate(attrs);
      await this.admission.validate(attrs);
      const next = this.markForDeletion(obj, options);
      if (dryRun) { dry = next ?? obj; throw NO_CHANGE; }
      if (next && isDeepStrictEqual(next, current.object)) throw NO_CHANGE;
      return next;
    }, { reservations: this.strategy.reservations });
    if (dry) return { object: this.withType(dry), deleted: false };
    return { object: this.withType(object!), deleted };
  }

  /** The object with its deletion marks, or null when it can go now. */
  private markForDeletion(obj: KubeObject, options: DeleteOptions): KubeObject | null {
    const meta = obj.metadata!;
    const now = Date.now();
    // The garbage collector's `orphan` / `foregroundDeletion` finalizers from DeleteOptions (upstream's
    // deletionFinalizersForGarbageCollection); the controller-manager removes them. A graceful deletion already
    // under way takes no new finalizers unless this request shortens it (upstream's BeforeDelete).
    const pendingGraceful = !!meta.deletionTimestamp && (meta.deletionGracePeriodSeconds ?? 0) > 0 &&
      (options.gracePeriodSeconds === undefined || options.gracePeriodSeconds >= meta.deletionGracePeriodSeconds!);
    if (!pendingGraceful) {
      const finalizers = gcFinalizers(this.def, meta.finalizers ?? [], options);
      if (finalizers.length) meta.finalizers = finalizers; else delete meta.finalizers;
    }
    if (this.strategy.markForDeletion) return this.strategy.markForDeletion(obj, now);
    const grace = this.strategy.gracePeriod(obj, options);
    if (grace > 0) {
      const deadline = now + grace * 1000;
      // A second delete may shorten the grace period, never lengthen it.
      if (meta.deletionTimestamp && Date.parse(meta.deletionTimestamp) <= deadline) return obj;
      meta.deletionTimestamp = rfc3339(new Date(deadline));
      meta.deletionGracePeriodSeconds = grace;
      if (meta.generation !== undefined) meta.generation += 1;
      return obj;
    }
    if (meta.finalizers?.length) {
      if (!meta.deletionTimestamp) {
        meta.deletionTimestamp = rfc3339(new Date(now));
        meta.deletionGracePeriodSeconds = 0;
        if (meta.generation !== undefined) meta.generation += 1;
      }
      return obj;
    }
    return null;
  }

  /** DELETE on a collection: deletes every object the selectors match, one by one, as upstream. */
  async deleteCollection(namespace: string | undefined, query: ListQuery, options: DeleteOptions, opts: WriteOptions = {}): Promise<ListPage> {
    const page = await this.list(namespace, { labelSelector: query.labelSelector, fieldSelector: query.fieldSelector });
    const items: KubeObject[] = [];
    for (const item of page.items) {
      try {
        items.push((await this.delete(item.metadata?.namespace, item.metadata!.name!, options, opts)).object);
      } catch (err) {
        if (!(err instanceof ApiError && err.isNotFound)) throw err;
      }
    }
    return { ...page, items, continue: '' };
  }

  /**
   * Decodes a request body (or a patched object, `from.patch` set) as this resource's kind: an object of the
   * right kind and apiVersion whose fields have their Go types (the strategy's checkTypes), then sets kind,
   * apiVersion and namespace. A body that fails is a 400 as upstream's decoder says; a patched object a 422 on `patch`.
   */
  checkBody(body: unknown, namespace: string | undefined, from: { patch?: unknown; fields?: FieldCheck } = {}): KubeObject {
    const want = apiVersionOf(this.served);
    if (!isObject(body)) {
      throw unrecognized(this.def.kind, `couldn't get version/kind; json parse error: expected an object, got ${Array.isArray(body) ? 'an array' : typeof body}`, JSON.stringify(body) ?? '');
    }
    const patched = 'patch' in from;
    if (patched && depthExceeds(body)) throw patchInvalid(from.patch, `json: exceeded max depth of ${MAX_DEPTH}`);
    if (!patched) checkDepth(body);
    let obj = copyJson(body) as KubeObject;
    if (obj.kind !== undefined && obj.kind !== this.def.kind) {
      throw unrecognized(this.def.kind, `converting (${String(obj.apiVersion ?? '')}.${String(obj.kind)}) to (${want}.${this.def.kind}): unknown conversion`, JSON.stringify(body));
    }
    if (obj.apiVersion !== undefined && obj.apiVersion !== want) {
      throw errors.badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${want})`);
    }
    // The kind's structural type check, before conversion, defaults, admission and validation see the object.
    const typeErrors = (this.conversion ?? this.strategy).checkTypes(obj);
    if (typeErrors.length) {
      if (patched) throw patchInvalid(from.patch, typeErrors[0].message);
      throw errors.badRequest(`${this.def.kind} in version "${this.served.version}" cannot be handled as a ${this.def.kind}: ${typeErrors[0].message}`);
    }
    if (obj.metadata !== undefined && !isObject(obj.metadata)) throw errors.badRequest('metadata must be an object');
    if (from.fields) {
      // Unknown fields are dropped (upstream's decode into the Go type does); Strict refuses them, Warn says so.
      // Checked against the version the client sent (a v1 HPA's fields are not v2's), before conversion to storage.
      const unknown = this.strategy.pruneUnknown ? this.strategy.pruneUnknown(obj) : unknownFields(this.served, obj, true);
      const problems = from.fields.directive === 'Ignore' ? [] : fieldProblems(from.fields, unknown);
      if (problems.length && from.fields.directive === 'Strict') {
        const why = `strict decoding error: ${problems.join(', ')}`;
        if (patched) throw patchInvalid(from.patch, why);
        throw errors.badRequest(`${this.def.kind} in version "${this.served.version}" cannot be handled as a ${this.def.kind}: ${why}`);
      }
      from.fields.warnings = problems;
    } else if (this.strategy.pruneUnknown) {
      // A custom resource's schema prunes every decoded body, the server's own writes and /status included.
      this.strategy.pruneUnknown(obj);
    }
    obj.kind = this.def.kind;
    obj.apiVersion = want;
    if (this.conversion) {
      obj = this.conversion.toStorage(obj);
      obj.apiVersion = apiVersionOf(this.def);
    }
    this.strategy.convert(obj);
    const meta = (obj.metadata ??= {});
    if (this.def.namespaced) {
      if (meta.namespace && namespace && meta.namespace !== namespace) {
        throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      meta.namespace = namespace ?? meta.namespace;
    } else {
      delete meta.namespace;
    }
    return obj;
  }

  private validate(obj: KubeObject, old?: KubeObject, subresource?: string): void {
    const causes = validateObject(this.strategy, obj, old, subresource);
    if (this.conversion?.validate) causes.push(...this.conversion.validate(obj, old));
    if (causes.length) throw errors.invalid(this.def.kind, this.def.group, obj.metadata?.name ?? '', causes);
  }

  private attributes(operation: Operation, namespace: string | undefined, name: string, opts: WriteOptions,
    object?: KubeObject, oldObject?: KubeObject, subresource = ''): AdmissionAttributes {
    return { operation, def: this.def, namespace: this.def.namespaced ? namespace : undefined, name, subresource, object, oldObject, dryRun: !!opts.dryRun };
  }

  /**
   * A stored object in the served version, for what is computed in the version the client wrote (its managed
   * fields: a write through events.k8s.io owns `f:regarding`, not `f:involvedObject`).
   */
  private asServed(obj: KubeObject): KubeObject {
    return this.conversion ? this.conversion.fromStorage(obj) : obj;
  }

  /** An answer: the object with its apiVersion and kind, in the served version. */
  withType(obj: KubeObject): KubeObject {
    const typed = { apiVersion: apiVersionOf(this.def), kind: this.def.kind, ...obj };
    return this.conversion ? this.conversion.fromStorage(typed) : typed;
  }

  // Named by the group asked for (`events.events.k8s.io "x" not found`), as upstream's store names its errors.
  notFound(name: string): ApiError { return errors.notFound(this.served.resource, this.served.group, name); }
  alreadyExists(name: string): ApiError { return errors.alreadyExists(this.served.resource, this.served.group, name); }
  conflict(name: string, why?: string): ApiError { return errors.conflict(this.served.resource, this.served.group, name, why); }
}

/** Upstream's 422 for a patch whose result does not decode: `patch: Invalid value: "<patch>": <why>`. */
export function patchInvalid(patch: unknown, why: string): ApiError {
  let text = JSON.stringify(patch) ?? '';
  if (text.length > 256) text = `${text.slice(0, 256)}...`;
  return errors.invalid('', '', '', [{ field: 'patch', type: 'FieldValueInvalid', value: text, message: why }]);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stripRv(obj: KubeObject): KubeObject {
  const { resourceVersion: _rv, ...metadata } = obj.metadata ?? {};
  return { ...obj, metadata };
}

function keyCompare(a: KubeObject, b: KubeObject): number {
  const ka = `${a.metadata?.namespace ?? ''}/${a.metadata?.name ?? ''}`;
  const kb = `${b.metadata?.namespace ?? ''}/${b.metadata?.name ?? ''}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** The garbage collector's finalizers (metav1.FinalizerOrphanDependents, metav1.FinalizerDeleteDependents). */
export const FINALIZER_ORPHAN = 'orphan';
export const FINALIZER_FOREGROUND = 'foregroundDeletion';

/**
 * Upstream's DefaultGarbageCollectionPolicy: core/v1 ReplicationControllers and batch/v1 Jobs orphan their
 * dependents when DeleteOptions say nothing (kept for backwards compatibility); every other resource does not.
 */
function orphansByDefault(def: ResourceDef): boolean {
  return (def.group === '' && def.resource === 'replicationcontrollers') || (def.group === 'batch' && def.resource === 'jobs');
}

/**
 * The finalizers an object gets when deleted with these options (upstream's deletionFinalizersForGarbageCollection,
 * shouldOrphanDependents, shouldDeleteDependents): explicit options win, then the finalizers it already has, then
 * the resource's default.
 */
export function gcFinalizers(def: ResourceDef, finalizers: readonly string[], options: DeleteOptions): string[] {
  const policy = options.orphanDependents !== undefined ? (options.orphanDependents ? 'Orphan' : 'Background') : options.propagationPolicy;
  const existing = finalizers.find((f) => f === FINALIZER_ORPHAN || f === FINALIZER_FOREGROUND);
  const orphan = policy ? policy === 'Orphan' : existing ? existing === FINALIZER_ORPHAN : orphansByDefault(def);
  const foreground = policy ? policy === 'Foreground' : existing === FINALIZER_FOREGROUND;
  const next = finalizers.filter((f) => f !== FINALIZER_ORPHAN && f !== FINALIZER_FOREGROUND);
  if (orphan) next.push(FINALIZER_ORPHAN);
  if (foreground) next.push(FINALIZER_FOREGROUND);
  const same = next.length === finalizers.length && next.every((f) => finalizers.includes(f));
  return same ? [...finalizers] : next;
}
