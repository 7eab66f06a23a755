import type { KubeObjectLike } from './client.js';
import { matchesLabels, parseLabelSelector, type LabelRequirement } from './selectors.js';

/** The values an object is indexed under (client-go's cache.IndexFunc); none leaves it out of the index. */
export type IndexFunc<T> = (obj: T) => readonly string[];
/** Named index functions (client-go's cache.Indexers). */
export type Indexers<T> = Record<string, IndexFunc<T>>;

/** The name of the index every indexer has (client-go's cache.NamespaceIndex). */
export const NAMESPACE_INDEX = 'namespace';

/** Indexes an object by its namespace (client-go's MetaNamespaceIndexFunc). */
export const byNamespace: IndexFunc<KubeObjectLike> = (obj) => [obj.metadata?.namespace ?? ''];

/** Indexes an object by the uids of its owners, so "the pods of this ReplicaSet" is one lookup. */
export const byOwnerUid: IndexFunc<KubeObjectLike> = (obj) => (obj.metadata?.ownerReferences ?? []).map((r) => r.uid);

/** Indexes a pod by `spec.nodeName` (unscheduled pods are left out). */
export const byNodeName: IndexFunc<KubeObjectLike & { spec?: { nodeName?: string } }> = (obj) => (obj.spec?.nodeName ? [obj.spec.nodeName] : []);

/**
 * A keyed store with indexes kept up to date on every write (client-go's cache.Indexer / threadSafeStore):
 * `byIndex` answers from the index, never by scanning. Always indexed by namespace.
 */
export class Indexer<T extends KubeObjectLike> {
  private readonly items = new Map<string, T>();
  private readonly funcs = new Map<string, IndexFunc<T>>();
  /** index name → indexed value → keys. */
  private readonly indices = new Map<string, Map<string, Set<string>>>();

  constructor(indexers: Indexers<T> = {}) {
    this.addIndexers({ [NAMESPACE_INDEX]: byNamespace, ...indexers });
  }

  /**
   * Adds indexes, built at once over what is stored. Asking again for an index with the same function is a
   * no-op (several controllers may ask for `byOwnerUid`); another function under a taken name throws.
   */
  addIndexers(indexers: Indexers<T>): void {
    for (const [name, fn] of Object.entries(indexers)) {
      const existing = this.funcs.get(name);
      if (existing === fn) continue;
      if (existing) throw new Error(`an index named ${JSON.stringify(name)} already exists with another function`);
      this.funcs.set(name, fn);
      const index = new Map<string, Set<string>>();
      this.indices.set(name, index);
      for (const [key, obj] of this.items) for (const value of fn(obj)) addTo(index, value, key);
    }
  }

  /** The names of the indexes kept. */
  indexNames(): string[] {
    return [...this.funcs.keys()];
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  has(key: string): boolean {
    return this.items.has(key);
  }

  list(): T[] {
    return [...this.items.values()];
  }

  keys(): string[] {
    return [...this.items.keys()];
  }

  entries(): IterableIterator<[string, T]> {
    return this.items.entries();
  }

  get size(): number {
    return this.items.size;
  }

  /** Stores `obj` under `key`, moving it between index values as its indexed fields changed. */
  set(key: string, obj: T): void {
    const old = this.items.get(key);
    this.items.set(key, obj);
    this.reindex(key, old, obj);
  }

  /** Removes `key`; returns what was stored. */
  delete(key: string): T | undefined {
    const old = this.items.get(key);
    if (!old) return undefined;
    this.items.delete(key);
    this.reindex(key, old, undefined);
    return old;
  }

  /** The keys indexed under `value` by the index `name`. */
  indexKeys(name: string, value: string): string[] {
    return [...(this.index(name).get(value) ?? [])];
  }

  /** The objects indexed under `value` by the index `name` (client-go's ByIndex). */
  byIndex(name: string, value: string): T[] {
    const keys = this.index(name).get(value);
    return keys ? [...keys].map((k) => this.items.get(k)!) : [];
  }

  private index(name: string): Map<string, Set<string>> {
    const index = this.indices.get(name);
    if (!index) throw new Error(`no index named ${JSON.stringify(name)} (have: ${this.indexNames().join(', ')})`);
    return index;
  }

  private reindex(key: string, old: T | undefined, obj: T | undefined): void {
    for (const [name, fn] of this.funcs) {
      const index = this.indices.get(name)!;
      const before = old ? fn(old) : [];
      const after = obj ? fn(obj) : [];
      // The common case (nothing indexed changed) costs one comparison per index.
      if (before.length === after.length && before.every((v, i) => v === after[i])) continue;
      for (const value of before) if (!after.includes(value)) removeFrom(index, value, key);
      for (const value of after) addTo(index, value, key);
    }
  }
}

function addTo(index: Map<string, Set<string>>, value: string, key: string): void {
  let keys = index.get(value);
  if (!keys) index.set(value, (keys = new Set()));
  keys.add(key);
}

function removeFrom(index: Map<string, Set<string>>, value: string, key: string): void {
  const keys = index.get(value);
  if (!keys) return;
  keys.delete(key);
  if (keys.size === 0) index.delete(value);
}

/**
 * Read access to an informer's cache as client-go's generated listers give it: by namespace and name, by
 * label selector, by index. Objects are the cache's own: `structuredClone` before mutating.
 */
export class Lister<T extends KubeObjectLike> {
  constructor(private readonly indexer: Indexer<T>) {}

  /** Every object, or those matching a label selector (`app=web,tier!=db` or parsed requirements). */
  list(selector?: string | readonly LabelRequirement[]): T[] {
    return filterLabels(this.indexer.list(), selector);
  }

  /** The objects of one namespace, from the namespace index. */
  listNamespace(namespace: string, selector?: string | readonly LabelRequirement[]): T[] {
    return filterLabels(this.indexer.byIndex(NAMESPACE_INDEX, namespace), selector);
  }

  /** One object by namespace (undefined for cluster-scoped) and name. */
  get(namespace: string | undefined, name: string): T | undefined {
    return this.indexer.get(namespace ? `${namespace}/${name}` : name);
  }

  /** The objects indexed under `value` by the index `name`. */
  byIndex(name: string, value: string): T[] {
    return this.indexer.byIndex(name, value);
  }
}

function filterLabels<T extends KubeObjectLike>(items: T[], selector: string | readonly LabelRequirement[] | undefined): T[] {
  if (selector === undefined || selector === '') return items;
  const reqs = typeof selector === 'string' ? parseLabelSelector(selector) : selector;
  return reqs.length ? items.filter((o) => matchesLabels(reqs, o.metadata?.labels)) : items;
}
