import type { ApiClient, KubeObjectLike } from './client.js';
import { realClock, sleep, type Clock } from './clock.js';
import { ApiError } from './errors.js';
import { Indexer, Lister, type Indexers } from './indexer.js';
import { silentLogger, type Logger } from './logger.js';
import type { ResourceDef } from './registry.js';
import type { KubeObject } from './types.js';

/** Callbacks for cache changes. Objects are the cache's own: `structuredClone` before mutating. */
export interface InformerHandler<T> {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T): void;
}

export interface InformerOptions<T extends KubeObjectLike = KubeObject> {
  client: ApiClient;
  def: ResourceDef;
  /** Watch one namespace; all namespaces when omitted. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  log?: Logger;
  clock?: Clock;
  /** Re-watch backoff: doubles from minBackoffMs to maxBackoffMs, each wait jittered up to 2×. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Page size of lists (0: unpaged). */
  pageSize?: number;
  random?: () => number;
  /** Indexes kept beside the namespace index (see `addIndexers`). */
  indexers?: Indexers<T>;
}

/** The cache key of an object: `namespace/name`, or `name` for cluster-scoped objects. */
export function objectKey(obj: KubeObjectLike): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  return ns ? `${ns}/${name}` : name;
}

/**
 * What a controller sees of an informer (client-go's SharedIndexInformer): handlers, the cache and its indexes,
 * whether it has synced. The real one is `Informer`; tests use `FakeInformer` from `@k8ts/api/testing`.
 */
export interface SharedInformer<T extends KubeObjectLike = KubeObject> {
  /** Registers handlers; objects already cached are replayed to `onAdd` at once. Returns an unregister function. */
  addHandler(handler: InformerHandler<T>): () => void;
  /** The cached object under `key` (`ns/name`, or `name` when cluster-scoped). */
  get(key: string): T | undefined;
  /** Every cached object. */
  list(): T[];
  /** The cached objects indexed under `value` by the index `name` (`namespace` always exists). */
  byIndex(name: string, value: string): T[];
  /** Adds indexes over the cache (the same function under the same name again is a no-op). */
  addIndexers(indexers: Indexers<T>): void;
  /** Namespace, name, label selector and index reads over the cache. */
  lister(): Lister<T>;
  /** True once the first list has been applied to the cache. */
  hasSynced(): boolean;
  /** Resolves once synced; rejects with the signal's reason if it aborts first. */
  waitForSync(signal: AbortSignal): Promise<void>;
  /** Fills the cache until `signal` aborts; never rejects. */
  run(signal: AbortSignal): Promise<void>;
}

/**
 * The cache half of an informer: an indexed store, handlers called in order one at a time, and the synced
 * flag. Subclasses fill it through `upsert`, `remove` and `markSynced`.
 */
export abstract class InformerCache<T extends KubeObjectLike = KubeObject> implements SharedInformer<T> {
  protected readonly cache: Indexer<T>;
  protected readonly log: Logger;
  private readonly handlers = new Set<InformerHandler<T>>();
  private readonly syncWaiters = new Set<() => void>();
  private synced = false;
  private cachedLister: Lister<T> | undefined;

  constructor(log: Logger, indexers?: Indexers<T>) {
    this.log = log;
    this.cache = new Indexer<T>(indexers);
  }

  abstract run(signal: AbortSignal): Promise<void>;

  addHandler(handler: InformerHandler<T>): () => void {
    this.handlers.add(handler);
    for (const obj of this.cache.list()) this.call(handler, 'onAdd', obj);
    return () => this.handlers.delete(handler);
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  list(): T[] {
    return this.cache.list();
  }

  byIndex(name: string, value: string): T[] {
    return this.cache.byIndex(name, value);
  }

  addIndexers(indexers: Indexers<T>): void {
    this.cache.addIndexers(indexers);
  }

  lister(): Lister<T> {
    return (this.cachedLister ??= new Lister(this.cache));
  }

  hasSynced(): boolean {
    return this.synced;
  }

  waitForSync(signal: AbortSignal): Promise<void> {
    if (this.synced) return Promise.resolve();
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.syncWaiters.delete(done);
        reject(signal.reason as Error);
      };
      const done = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      this.syncWaiters.add(done);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Marks the cache synced (once) and wakes `waitForSync` callers. */
  protected markSynced(): void {
    if (this.synced) return;
    this.synced = true;
    for (const done of this.syncWaiters) done();
    this.syncWaiters.clear();
  }

  /** Adds or replaces an object; an unchanged resourceVersion is a replay and emits nothing. */
  protected upsert(key: string, obj: T): void {
    const old = this.cache.get(key);
    this.cache.set(key, obj);
    if (!old) this.emit('onAdd', obj);
    else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion || !obj.metadata?.resourceVersion) this.emit('onUpdate', old, obj);
  }

  /** Removes `key` and emits `onDelete` with `obj` (the final state), or with the cached one; nothing if absent. */
  protected remove(key: string, obj?: T): void {
    const old = this.cache.delete(key);
    // Deleting what we never had (a replay) would only be noise.
    if (old) this.emit('onDelete', obj ?? old);
  }

  private emit(kind: 'onAdd' | 'onDelete', obj: T): void;
  private emit(kind: 'onUpdate', old: T, obj: T): void;
  private emit(kind: keyof InformerHandler<T>, a: T, b?: T): void {
    for (const handler of this.handlers) this.call(handler, kind, a, b);
  }

  /** Handlers are a boundary: one that throws is logged and the others still run. */
  private call(handler: InformerHandler<T>, kind: keyof InformerHandler<T>, a: T, b?: T): void {
    try {
      if (kind === 'onUpdate') handler.onUpdate?.(a, b as T);
      else handler[kind]?.(a);
    } catch (err) {
      this.log.error({ err, handler: kind, key: objectKey(b ?? a) }, 'informer handler failed');
    }
  }
}

/**
 * A list-watch cache of one resource (client-go's reflector + shared informer): lists, then watches from the
 * list's resourceVersion; on a dropped or ended stream it re-watches from the last resourceVersion seen (jittered
 * backoff); on 410 it relists and reconciles the cache, emitting adds, updates and deletes for what changed.
 * Handlers run in event order, one at a time; the cache holds exactly what the server sent.
 */
export class Informer<T extends KubeObjectLike = KubeObject> extends InformerCache<T> {
  private readonly opts: InformerOptions<T>;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private lastResourceVersion = '';

  constructor(opts: InformerOptions<T>) {
    super((opts.log ?? silentLogger).child({ resource: opts.def.resource, ...(opts.namespace ? { namespace: opts.namespace } : {}) }), opts.indexers);
    this.opts = opts;
    this.clock = opts.clock ?? realClock;
    this.random = opts.random ?? Math.random;
    this.minBackoffMs = opts.minBackoffMs ?? 100;
    this.maxBackoffMs = opts.maxBackoffMs ?? 30_000;
  }

  /** The resourceVersion the informer would resume watching from. */
  lastSyncResourceVersion(): string {
    return this.lastResourceVersion;
  }

  /** Lists and watches until `signal` aborts; never rejects (failures are logged and retried). */
  async run(signal: AbortSignal): Promise<void> {
    let needList = true;
    let backoffMs = this.minBackoffMs;
    while (!signal.aborted) {
      // Set when this round got anywhere (a list, or any watch event): then the next wait starts small again.
      const round = { progressed: false };
      let listed = false;
      try {
        if (needList) {
          await this.relist(signal);
          needList = false;
          listed = round.progressed = true;
        }
        await this.watch(signal, round);
        // A normal end (the server's timeout) after events: resume at once.
        if (round.progressed) {
          backoffMs = this.minBackoffMs;
          continue;
        }
        this.log.debug({ resourceVersion: this.lastResourceVersion }, 'watch ended without events');
      } catch (err) {
        if (signal.aborted) break;
        // 410 from a watch: relist, at once unless this round's fresh list already expired (a server in trouble).
        if (err instanceof ApiError && err.code === 410 && !needList) {
          this.log.info({ resourceVersion: this.lastResourceVersion }, 'watch expired, relisting');
          needList = true;
          if (!listed) continue;
        } else this.log.warn({ err, resourceVersion: this.lastResourceVersion }, needList ? 'list failed' : 'watch failed');
      }
      if (round.progressed && !listed) backoffMs = this.minBackoffMs;
      await sleep(this.clock, Math.min(this.maxBackoffMs, backoffMs * (1 + this.random())), signal);
      backoffMs = Math.min(this.maxBackoffMs, backoffMs * 2);
    }
  }

  /** Lists everything and reconciles the cache with it. */
  private async relist(signal: AbortSignal): Promise<void> {
    const { client, def, namespace, labelSelector, fieldSelector } = this.opts;
    const pageSize = this.opts.pageSize ?? 500;
    const items: T[] = [];
    let resourceVersion = '';
    let cont: string | undefined;
    do {
      let page;
      try {
        page = await client.list<T>(def, namespace, { labelSelector, fieldSelector, limit: pageSize || undefined, continue: cont, signal });
      } catch (err) {
        // An expired continue token: start over with one unpaged list.
        if (!(cont && err instanceof ApiError && err.code === 410)) throw err;
        items.length = 0;
        page = await client.list<T>(def, namespace, { labelSelector, fieldSelector, signal });
        resourceVersion = '';
      }
      if (!resourceVersion) resourceVersion = page.metadata?.resourceVersion ?? '';
      items.push(...page.items);
      cont = page.metadata?.continue || undefined;
    } while (cont);
    if (signal.aborted) return;

    // Lists omit kind/apiVersion on items; restore them so cached objects look like watched ones.
    const kind = def.kind;
    const apiVersion = def.group ? `${def.group}/${def.version}` : def.version;
    const fresh = new Map<string, T>();
    for (const item of items) fresh.set(objectKey(item), item.kind ? item : { apiVersion, kind, ...item });
    for (const key of this.cache.keys()) if (!fresh.has(key)) this.remove(key);
    for (const [key, obj] of fresh) this.upsert(key, obj);
    this.lastResourceVersion = resourceVersion;
    this.log.debug({ resourceVersion, count: fresh.size }, 'listed');
    this.markSynced();
  }

  /** One watch from the last resourceVersion, until the stream ends; marks `round` on the first event. */
  private async watch(signal: AbortSignal, round: { progressed: boolean }): Promise<void> {
    const { client, def, namespace, labelSelector, fieldSelector } = this.opts;
    const events = client.watch<T>(def, namespace, {
      resourceVersion: this.lastResourceVersion, labelSelector, fieldSelector, allowWatchBookmarks: true,
      // Like client-go: a random server-side timeout spreads re-watches of many clients.
      timeoutSeconds: Math.floor(300 + this.random() * 300), signal,
    });
    for await (const ev of events) {
      round.progressed = true;
      const obj = ev.object;
      const rv = obj.metadata?.resourceVersion;
      if (ev.type === 'BOOKMARK') {
        if (rv) this.lastResourceVersion = rv;
        continue;
      }
      const key = objectKey(obj);
      if (ev.type === 'DELETED') this.remove(key, obj);
      else this.upsert(key, obj);
      if (rv) this.lastResourceVersion = rv;
    }
  }
}
