/**
 * Test doubles for controllers, as client-go's `fake` packages and `cache.NewIndexer`: seed the informers, call
 * `sync(key)`, assert the writes the recording client saw. Imported as `@k8ts/api/testing`, never by main code.
 */
import type { Dispatcher } from 'undici';
import fastJsonPatch from 'fast-json-patch';
import {
  ApiClient, type DeleteOptions, type KubeObjectLike, type ListOptions, type PatchType, type RequestOptions, type WatchOptions,
  type WriteOptions,
} from './client.js';
import { FakeClock, realClock, type Clock } from './clock.js';
import { errors } from './errors.js';
import type { Indexers } from './indexer.js';
import { informerKey, type InformerFactory, type InformerRequest, type InformerSelectors } from './informer-factory.js';
import { InformerCache, objectKey, type SharedInformer } from './informer.js';
import { silentLogger } from './logger.js';
import { apiVersionOf, findKind, findResource, type ResourceDef } from './registry.js';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors.js';
import { rfc3339 } from './time.js';
import type { KubeList, KubeObject, WatchEvent } from './types.js';

export { FakeClock };

// ---------------------------------------------------------------------------------------------------------------
// Informers

/** The value of a dotted field path (`spec.nodeName`) as a field selector compares it: '' when absent. */
function fieldValue(obj: unknown, path: string): string {
  let v: unknown = obj;
  for (const part of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
  return v === undefined || v === null ? '' : String(v);
}

/** Whether an object belongs in an informer made for `request` (namespace, label and field selectors). */
function matchesRequest(obj: KubeObjectLike, request: InformerSelectors): boolean {
  if (request.namespace && obj.metadata?.namespace !== request.namespace) return false;
  if (request.labelSelector && !matchesLabels(parseLabelSelector(request.labelSelector), obj.metadata?.labels)) return false;
  if (request.fieldSelector) {
    const reqs = parseFieldSelector(request.fieldSelector);
    return matchesFields(reqs, Object.fromEntries(reqs.map((r) => [r.field, fieldValue(obj, r.field)])));
  }
  return true;
}

/**
 * An informer whose cache a test fills, synced from the start: `seed` (or the constructor) puts objects in, `add`,
 * `update` and `delete` change it and call the handlers as a watch event would. It never lists or watches.
 */
export class FakeInformer<T extends KubeObjectLike = KubeObject> extends InformerCache<T> {
  constructor(objects: readonly T[] = [], indexers?: Indexers<T>) {
    super(silentLogger, indexers);
    this.seed(objects);
  }

  /** Puts objects in the cache (handlers see adds or updates) and marks the informer synced. */
  seed(objects: readonly T[]): this {
    for (const obj of objects) this.upsert(objectKey(obj), obj);
    this.markSynced();
    return this;
  }

  /** As an ADDED or MODIFIED watch event. */
  add(obj: T): void {
    this.upsert(objectKey(obj), obj);
  }

  /** As a MODIFIED watch event (give the object a new resourceVersion, or none, for handlers to see it). */
  update(obj: T): void {
    this.upsert(objectKey(obj), obj);
  }

  /** As a DELETED watch event. */
  delete(obj: T): void {
    this.remove(objectKey(obj), obj);
  }

  /** Marks the informer synced and resolves when `signal` aborts: there is nothing to watch. */
  async run(signal: AbortSignal): Promise<void> {
    this.markSynced();
    if (signal.aborted) return;
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  }
}

interface FakeEntry { def: ResourceDef; request: InformerSelectors; informer: FakeInformer<KubeObjectLike> }

/**
 * An InformerFactory of FakeInformers, deduplicated by (resource, namespace, selectors) as the real one. Objects
 * seeded by kind go to every informer of their resource whose namespace and selectors they match, including
 * informers asked for later. `start` only marks informers synced.
 */
export class FakeInformerFactory implements InformerFactory {
  private readonly entries = new Map<string, FakeEntry>();
  private readonly seeded: KubeObjectLike[] = [];
  /** Informers handed out, in the order first asked for (to assert what a component watches). */
  readonly requests: { def: ResourceDef; request: InformerSelectors }[] = [];

  constructor(objects: readonly KubeObjectLike[] = []) {
    this.seed(...objects);
  }

  /** Adds objects (each needs apiVersion and kind) to the matching informers, present and future. */
  seed(...objects: KubeObjectLike[]): this {
    for (const obj of objects) {
      const def = defOf(obj);
      this.seeded.push(obj);
      for (const e of this.entries.values()) if (e.def === def && matchesRequest(obj, e.request)) e.informer.add(obj);
    }
    for (const e of this.entries.values()) e.informer.seed([]);
    return this;
  }

  informerFor<T extends KubeObjectLike>(def: ResourceDef, request: InformerRequest<T> = {}): FakeInformer<T> & SharedInformer<T> {
    const { indexers, ...selectors } = request;
    const key = informerKey(def, selectors);
    let entry = this.entries.get(key);
    if (!entry) {
      const objects = this.seeded.filter((o) => defOf(o) === def && matchesRequest(o, selectors));
      entry = { def, request: selectors, informer: new FakeInformer<KubeObjectLike>(objects) };
      this.entries.set(key, entry);
      this.requests.push({ def, request: selectors });
    }
    if (indexers) entry.informer.addIndexers(indexers as Indexers<KubeObjectLike>);
    return entry.informer as unknown as FakeInformer<T>;
  }

  start(): void {
    for (const e of this.entries.values()) e.informer.seed([]);
  }

  waitForCacheSync(signal: AbortSignal): Promise<boolean> {
    return Promise.resolve(!signal.aborted);
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

function defOf(obj: KubeObjectLike): ResourceDef {
  const def = obj.apiVersion && obj.kind ? findKind(obj.apiVersion, obj.kind) : undefined;
  if (!def) throw new Error(`cannot seed ${objectKey(obj)}: apiVersion ${String(obj.apiVersion)} kind ${String(obj.kind)} is not a served kind`);
  return def;
}

// ---------------------------------------------------------------------------------------------------------------
// The recording client

/** One call a component made, as client-go's testing.Action: verb, resource, namespace, name, what it sent. */
export interface ClientAction {
  verb: 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** The body of a create or update (or a POSTed subresource such as a Binding). */
  object?: unknown;
  patch?: unknown;
  patchType?: PatchType;
  /** DeleteOptions, list options or selectors. */
  options?: unknown;
}

/** Handles an action before the client's own store: return a result, throw an error, or undefined to pass it on. */
export type Reactor = (action: ClientAction) => unknown;

const READS = new Set<ClientAction['verb']>(['get', 'list', 'watch']);

/**
 * An ApiClient that sends nothing: it records every call in order (`actions`, `writes()`) and answers from an
 * in-memory store as the apiserver would in the common cases (404 for a missing object, 409 on a taken name or a
 * failed precondition, uids and resourceVersions assigned, patches applied — strategic merge as a JSON merge
 * patch). Reactors (`prependReactor`) script failures or special answers, as client-go's fake clientset.
 */
export class RecordingClient extends ApiClient {
  readonly actions: ClientAction[] = [];
  private readonly store = new Map<string, Map<string, KubeObject>>();
  private readonly reactors: { verb: string; resource: string; fn: Reactor }[] = [];
  private readonly now: Clock;
  private revision = 0;
  private uids = 0;

  constructor(opts: { objects?: readonly KubeObjectLike[]; clock?: Clock } = {}) {
    // Never used to connect: every public method is answered here.
    super({ server: 'http://127.0.0.1:9', userAgent: 'k8ts-recording-client' });
    this.now = opts.clock ?? realClock;
    for (const obj of opts.objects ?? []) this.seed(obj);
  }

  /** Puts objects in the store without recording an action (each needs apiVersion and kind). */
  seed(...objects: KubeObjectLike[]): this {
    for (const obj of objects) {
      const def = defOf(obj);
      const copy = structuredClone(obj) as KubeObject;
      copy.metadata = { ...copy.metadata };
      copy.metadata.resourceVersion ??= String(++this.revision);
      this.bucket(def).set(objectKey(copy), copy);
    }
    return this;
  }

  /** The actions that change something (creates, updates, patches, deletes), in order. */
  writes(): ClientAction[] {
    return this.actions.filter((a) => !READS.has(a.verb));
  }

  /** Forgets the actions recorded so far (the store stays). */
  clearActions(): void {
    this.actions.length = 0;
  }

  /** The stored object, as the apiserver has it now (a copy). */
  stored<T extends KubeObjectLike = KubeObject>(def: ResourceDef, namespace: string | undefined, name: string): T | undefined {
    const obj = this.bucket(def).get(namespace && def.namespaced ? `${namespace}/${name}` : name);
    return obj ? structuredClone(obj) as unknown as T : undefined;
  }

  /** Runs `fn` before the store for actions of `verb` on `resource` (`*` matches any); the last added runs first. */
  prependReactor(verb: ClientAction['verb'] | '*', resource: string, fn: Reactor): this {
    this.reactors.unshift({ verb, resource, fn });
    return this;
  }

  override async close(): Promise<void> {
    await super.close();
  }

  override get<T extends KubeObjectLike = KubeObject>(def: ResourceDef, ns: string | undefined, name: string): Promise<T> {
    return this.handle({ verb: 'get', ...where(def, ns), name }, () => this.must(def, ns, name) as unknown as T);
  }

  override list<T extends KubeObjectLike = KubeObject>(def: ResourceDef, ns?: string, opts: ListOptions = {}): Promise<KubeList<T>> {
    const { signal: _signal, ...options } = opts;
    return this.handle({ verb: 'list', ...where(def, ns), options }, () => ({
      apiVersion: apiVersionOf(def), kind: def.listKind, metadata: { resourceVersion: String(this.revision) },
      items: this.matching(def, ns, opts) as unknown as T[],
    }));
  }

  override create<T extends KubeObjectLike = KubeObject>(def: ResourceDef, ns: string | undefined, obj: T, opts: WriteOptions = {}): Promise<T> {
    const namespace = def.namespaced ? ns ?? obj.metadata?.namespace : undefined;
    return this.handle({ verb: 'create', ...where(def, namespace), name: obj.metadata?.name, object: structuredClone(obj) }, () => {
      const copy = structuredClone(obj) as unknown as KubeObject;
      const meta = (copy.metadata = { ...copy.metadata });
      if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${(++this.uids).toString(36).padStart(5, '0')}`;
      if (!meta.name) throw errors.invalid(def.kind, def.group, '', [{ type: 'FieldValueRequired', field: 'metadata.name', message: 'name or generateName is required' }]);
      if (namespace) meta.namespace = namespace;
      const key = objectKey(copy);
      if (this.bucket(def).has(key)) throw errors.alreadyExists(def.resource, def.group, meta.name);
      meta.uid ??= `00000000-0000-4000-8000-${String(++this.uids).padStart(12, '0')}`;
      meta.creationTimestamp ??= rfc3339(this.now.now());
      return this.put(def, { ...copy, apiVersion: apiVersionOf(def), kind: def.kind }, opts) as unknown as T;
    });
  }

  override update<T extends KubeObjectLike = KubeObject>(def: ResourceDef, ns: string | undefined, obj: T, opts: WriteOptions & { subresource?: string } = {}): Promise<T> {
    const namespace = def.namespaced ? ns ?? obj.metadata?.namespace : undefined;
    const name = obj.metadata?.name ?? '';
    return this.handle({ verb: 'update', ...where(def, namespace), subresource: opts.subresource, name, object: structuredClone(obj) }, () => {
      const old = this.must(def, namespace, name);
      const rv = obj.metadata?.resourceVersion;
      if (rv && rv !== old.metadata?.resourceVersion) throw errors.conflict(def.resource, def.group, name);
      const body = structuredClone(obj) as unknown as KubeObject;
      const next = opts.subresource === 'status' ? { ...old, status: body.status } : { ...body, metadata: { ...old.metadata, ...body.metadata } };
      return this.put(def, next, opts) as unknown as T;
    });
  }

  override patch<T extends KubeObjectLike = KubeObject>(def: ResourceDef, ns: string | undefined, name: string, body: unknown, type: PatchType,
    opts: WriteOptions & { subresource?: string; force?: boolean } = {}): Promise<T> {
    return this.handle({ verb: 'patch', ...where(def, ns), subresource: opts.subresource, name, patch: structuredClone(body), patchType: type }, () => {
      const old = this.must(def, ns, name);
      let patched: KubeObject;
      if (type === 'json') {
        try {
          patched = fastJsonPatch.applyPatch(structuredClone(old), body as fastJsonPatch.Operation[], true, false).newDocument;
        } catch (err) {
          throw errors.invalid(def.kind, def.group, name, [{ type: 'FieldValueInvalid', field: 'patch', value: body, message: (err as Error).message }]);
        }
      } else {
        patched = mergePatch(old, body) as KubeObject;
      }
      const next = opts.subresource === 'status' ? { ...old, status: patched.status } : patched;
      return this.put(def, next, opts) as unknown as T;
    });
  }

  override delete<T extends KubeObjectLike = KubeObject>(def: ResourceDef, ns: string | undefined, name: string, opts?: DeleteOptions & { signal?: AbortSignal }): Promise<T> {
    const { signal: _signal, ...options } = opts ?? {};
    return this.handle({ verb: 'delete', ...where(def, ns), name, ...(opts ? { options } : {}) }, () => {
      const old = this.must(def, ns, name);
      const pre = options.preconditions;
      if ((pre?.uid && pre.uid !== old.metadata?.uid) || (pre?.resourceVersion && pre.resourceVersion !== old.metadata?.resourceVersion)) {
        throw errors.conflict(def.resource, def.group, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata?.uid}`);
      }
      this.bucket(def).delete(objectKey(old));
      ++this.revision;
      return old as unknown as T;
    });
  }

  override deleteCollection<T extends KubeObjectLike = KubeObject>(def: ResourceDef, ns: string | undefined,
    opts: { labelSelector?: string; fieldSelector?: string; signal?: AbortSignal } & DeleteOptions = {}): Promise<KubeList<T>> {
    const { signal: _signal, ...options } = opts;
    return this.handle({ verb: 'deletecollection', ...where(def, ns), options }, () => {
      const items = this.matching(def, ns, opts);
      for (const obj of items) this.bucket(def).delete(objectKey(obj));
      ++this.revision;
      return { apiVersion: apiVersionOf(def), kind: def.listKind, metadata: { resourceVersion: String(this.revision) }, items: items as unknown as T[] };
    });
  }

  /** Records the watch and yields nothing until `signal` aborts (informers under test are fakes). */
  // eslint-disable-next-line require-yield -- a watch on which nothing ever happens
  override async *watch<T extends KubeObjectLike = KubeObject>(def: ResourceDef, ns: string | undefined, opts: WatchOptions = {}): AsyncGenerator<WatchEvent<T>> {
    const { signal, ...options } = opts;
    await this.handle({ verb: 'watch', ...where(def, ns), options }, () => null);
    if (!signal || signal.aborted) return;
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  }

  /**
   * A request by path: recorded as the action it is (`POST …/pods/p/binding` is a create of pods/binding). A
   * Binding sets the stored pod's spec.nodeName; a GET of a known resource reads the store.
   */
  override request<T = unknown>(method: Dispatcher.HttpMethod, path: string, opts: RequestOptions = {}): Promise<T> {
    const target = parsePath(path);
    const verb: ClientAction['verb'] = method === 'GET' ? (target.name ? 'get' : 'list') : method === 'POST' ? 'create' : method === 'PUT' ? 'update'
      : method === 'PATCH' ? 'patch' : target.name ? 'delete' : 'deletecollection';
    const action: ClientAction = {
      verb, group: target.group, resource: target.resource,
      ...(target.subresource ? { subresource: target.subresource } : {}),
      ...(target.namespace ? { namespace: target.namespace } : {}),
      ...(target.name ? { name: target.name } : {}),
      ...(opts.body !== undefined ? (verb === 'patch' ? { patch: opts.body } : { object: structuredClone(opts.body) }) : {}),
    };
    return this.handle(action, () => {
      const def = findResource(target.group, target.version, target.resource);
      if (def && target.subresource === 'binding' && verb === 'create') {
        const pod = this.must(def, target.namespace, target.name ?? '');
        const nodeName = (opts.body as { target?: { name?: string } } | undefined)?.target?.name;
        this.put(def, { ...pod, spec: { ...(pod.spec as object), nodeName } }, {});
        return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 } as T;
      }
      if (def && verb === 'get' && !target.subresource) return this.must(def, target.namespace, target.name!) as T;
      return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 200 } as T;
    });
  }

  private async handle<R>(action: ClientAction, fallback: () => R): Promise<R> {
    this.actions.push(action);
    for (const r of this.reactors) {
      if ((r.verb !== '*' && r.verb !== action.verb) || (r.resource !== '*' && r.resource !== action.resource &&
        r.resource !== `${action.resource}/${action.subresource ?? ''}`)) continue;
      const result = r.fn(action);
      if (result !== undefined) return result as R;
    }
    return fallback();
  }

  private bucket(def: ResourceDef): Map<string, KubeObject> {
    const key = `${def.group}/${def.resource}`;
    let b = this.store.get(key);
    if (!b) this.store.set(key, (b = new Map()));
    return b;
  }

  private must(def: ResourceDef, ns: string | undefined, name: string): KubeObject {
    const obj = this.bucket(def).get(ns && def.namespaced ? `${ns}/${name}` : name);
    if (!obj) throw errors.notFound(def.resource, def.group, name);
    return structuredClone(obj);
  }

  private matching(def: ResourceDef, ns: string | undefined, opts: { labelSelector?: string; fieldSelector?: string }): KubeObject[] {
    return [...this.bucket(def).values()]
      .filter((o) => matchesRequest(o, { namespace: def.namespaced ? ns : undefined, labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector }))
      .map((o) => structuredClone(o));
  }

  /** Stores a write with a new resourceVersion, unless it is a dry run; returns a copy. */
  private put(def: ResourceDef, obj: KubeObject, opts: WriteOptions): KubeObject {
    const next = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(this.revision + 1) } };
    if (!opts.dryRun) {
      this.revision++;
      this.bucket(def).set(objectKey(next), next);
    }
    return structuredClone(next);
  }
}

function where(def: ResourceDef, ns: string | undefined): Pick<ClientAction, 'group' | 'resource' | 'namespace'> {
  return { group: def.group, resource: def.resource, ...(def.namespaced && ns ? { namespace: ns } : {}) };
}

/** `/api/v1/namespaces/ns/pods/name/binding` → its parts (`/apis/group/version/...` likewise). */
function parsePath(path: string): { group: string; version: string; namespace?: string; resource: string; name?: string; subresource?: string } {
  const parts = path.split('?')[0].split('/').filter(Boolean).map(decodeURIComponent);
  const [group, version, rest] = parts[0] === 'api' ? ['', parts[1], parts.slice(2)] : [parts[1], parts[2], parts.slice(3)];
  let namespace: string | undefined;
  let tail = rest;
  // `namespaces/ns/pods/...` is inside a namespace; `namespaces/ns/finalize` is a subresource of the Namespace.
  if (tail[0] === 'namespaces' && tail.length >= 3 && findResource(group ?? '', version ?? '', tail[2])?.namespaced) {
    namespace = tail[1];
    tail = tail.slice(2);
  }
  return { group: group ?? '', version: version ?? '', namespace, resource: tail[0] ?? '', name: tail[1], subresource: tail[2] };
}

/** RFC 7386 JSON merge patch: objects merge, null deletes, anything else replaces. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}
