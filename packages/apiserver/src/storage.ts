import { circuitBreaker, ConsecutiveBreaker, handleWhen, retry } from 'cockatiel';
import { Etcd3, EtcdError, isRecoverableError } from 'etcd3';
import { ApiError, errors, type KubeObject, type Logger, type ResourceDef } from '@k8ts/api';
import { checkObjectSize, isEtcdTooLarge, objectTooLarge } from './limits.js';

/**
 * The etcd client, with etcd3's default fault handling (retry, and a per-host circuit breaker opened by 3
 * consecutive failures for 5 s) narrowed to real outages: a request etcd refuses as too large is the
 * client's fault and must neither be retried nor open the breaker for every other request.
 */
export function connectEtcd(hosts: string[]): Etcd3 {
  const outage = (err: Error) => isRecoverableError(err) && !isEtcdTooLarge(err);
  return new Etcd3({
    hosts, dialTimeout: 5000,
    faultHandling: {
      host: () => circuitBreaker(handleWhen(outage), { halfOpenAfter: 5000, breaker: new ConsecutiveBreaker(3) }),
      global: retry(handleWhen(outage), { maxAttempts: 3 }),
    },
  });
}

/** One stored object as etcd holds it. */
export interface StoredObject {
  key: string;
  object: KubeObject;
  modRevision: number;
}

/** A page of a list, read at one etcd revision. */
export interface ListPage {
  items: KubeObject[];
  revision: number;
  /** Opaque token for the next page, '' when this was the last. */
  continue: string;
  remainingItemCount?: number;
}

export interface ListOptions {
  limit?: number;
  continue?: string;
  filter?: (obj: KubeObject) => boolean;
}

/** One change under a watched prefix, decoded: `object` is the new state (the last state for a delete). */
export interface StorageEvent {
  type: 'put' | 'delete';
  object: KubeObject;
  /** Whether there was a state before this change (a put of an existing key, every delete). */
  hasPrev: boolean;
  /** The state before this change, when there was one: decoded on first use (most watchers never look). */
  readonly prev?: KubeObject;
  revision: number;
  /** The stored bytes this event holds (its value and the previous one), for the watch cache's byte cap. */
  bytes: number;
}

/** A running etcd watch. */
export interface StorageWatch { cancel(): Promise<void> }

/** Thrown by an update function to leave the object as it is (no write, no new revision). */
export const NO_CHANGE = Symbol('no-change');

/** Where reservations live: outside every resource's prefix, so no watch or list sees them. */
const RESERVATIONS = '/registry/reservations/';

/** A reservation (a Service's cluster IP or node port) another object holds. */
export class ReservationTaken extends Error {
  constructor(readonly reservation: string) {
    super(`reservation ${reservation || '(released meanwhile)'} is held by another object`);
  }
}

const enc = (s: string) => Buffer.from(s);
/** The first key after every key with this prefix. */
function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix);
  b[b.length - 1]++;
  return b;
}

/**
 * The only module that knows etcd. Keys are `/registry/{resource}/{ns}/{name}` (core) and
 * `/registry/{group}/{resource}/...`; values are JSON without resourceVersion, which is the etcd mod revision.
 */
export class Storage {
  constructor(private readonly etcd: Etcd3, private readonly log: Logger) {}

  /** Closes the etcd client. */
  close(): void {
    this.etcd.close();
  }

  /** The etcd prefix of a resource, or of one namespace of it. */
  prefix(def: ResourceDef, namespace?: string): string {
    const base = def.group ? `/registry/${def.group}/${def.resource}/` : `/registry/${def.resource}/`;
    return def.namespaced && namespace ? `${base}${namespace}/` : base;
  }

  key(def: ResourceDef, namespace: string | undefined, name: string): string {
    return def.namespaced ? `${this.prefix(def, namespace ?? '')}${name}` : `${this.prefix(def)}${name}`;
  }

  /** Decodes a stored value, setting metadata.resourceVersion from its mod revision. */
  decode(value: Buffer, modRevision: number | string): KubeObject {
    const obj = JSON.parse(value.toString('utf8')) as KubeObject;
    obj.metadata = { ...obj.metadata, resourceVersion: String(modRevision) };
    return obj;
  }

  /** decode(), put off until first asked for and done once; holds a copy of the bytes (not the etcd message's) till then. */
  private lazyDecode(value: Buffer, modRevision: number | string): () => KubeObject {
    let bytes: Buffer | undefined = Buffer.from(value);
    let obj: KubeObject | undefined;
    return () => {
      if (bytes) { obj = this.decode(bytes, modRevision); bytes = undefined; }
      return obj!;
    };
  }

  /** The stored bytes of an object; 413 when etcd would refuse them (checked here, before etcd is asked). */
  private encode(obj: KubeObject): Buffer {
    const { resourceVersion: _rv, ...metadata } = obj.metadata ?? {};
    const value = Buffer.from(JSON.stringify({ ...obj, metadata }));
    checkObjectSize(value);
    return value;
  }

  async get(key: string): Promise<StoredObject | undefined> {
    const res = await this.call(() => this.etcd.kv.range({ key: enc(key) }));
    const kv = res.kvs[0];
    if (!kv) return undefined;
    return { key, object: this.decode(kv.value, kv.mod_revision), modRevision: Number(kv.mod_revision) };
  }

  /** The current etcd revision. */
  async revision(): Promise<number> {
    const res = await this.call(() => this.etcd.kv.range({ key: enc('/registry/'), range_end: prefixEnd('/registry/'), count_only: true }));
    return Number(res.header.revision);
  }

  /** Reads a page of objects under a prefix at one revision, filtering as it goes (like upstream's storage list). */
  async list(prefix: string, opts: ListOptions = {}): Promise<ListPage> {
    let start = prefix;
    let revision = 0;
    if (opts.continue) ({ start, revision } = decodeContinue(opts.continue, prefix));
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    const items: KubeObject[] = [];
    const end = prefixEnd(prefix);
    // Filtering can drop items, so read batches until the page is full or the range is exhausted.
    const batch = limit ? Math.max(limit, 100) : 0;
    for (;;) {
      const res = await this.call(() => this.etcd.kv.range({ key: enc(start), range_end: end, limit: batch, revision }),
        () => errors.gone('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.'));
      if (!revision) revision = Number(res.header.revision);
      for (let i = 0; i < res.kvs.length; i++) {
        const kv = res.kvs[i];
        const obj = this.decode(kv.value, kv.mod_revision);
        if (opts.filter && !opts.filter(obj)) continue;
        items.push(obj);
        if (limit && items.length === limit) {
          const more = i < res.kvs.length - 1 || res.more;
          const next = `${kv.key.toString('utf8')}\x00`;
          return { items, revision, continue: more ? encodeContinue(next, revision, prefix) : '' };
        }
      }
      if (!res.more || res.kvs.length === 0) return { items, revision, continue: '' };
      start = `${res.kvs[res.kvs.length - 1].key.toString('utf8')}\x00`;
    }
  }

  /** The etcd key of a reservation (`serviceips/10.96.0.7`): held by one object, written in that object's transactions. */
  reservationKey(name: string): string {
    return `${RESERVATIONS}${name}`;
  }

  /** Takes a reservation for `holder` if nobody has it: null when taken now, else the key of whoever holds it. */
  async reserve(name: string, holder: string): Promise<string | null> {
    const key = enc(this.reservationKey(name));
    const res = await this.call(() => this.etcd.kv.txn({
      compare: [{ key, target: 'Create', result: 'Equal', create_revision: 0 }],
      success: [{ request_put: { key, value: enc(holder) } }],
      failure: [{ request_range: { key } }],
    }));
    if (res.succeeded) return null;
    return res.responses[0]?.response_range?.kvs[0]?.value.toString('utf8') ?? '';
  }

  /**
   * Creates the key if absent; AlreadyExists otherwise. `reservations` are taken in the same transaction, so two
   * objects never hold one (ReservationTaken names the one that was held). Returns the stored object.
   */
  async create(key: string, obj: KubeObject, onExists: () => ApiError, reservations: readonly string[] = []): Promise<KubeObject> {
    const value = this.encode(obj);
    const res = await this.call(() => this.etcd.kv.txn({
      compare: [key, ...reservations.map((r) => this.reservationKey(r))].map((k) => ({ key: enc(k), target: 'Create' as const, result: 'Equal' as const, create_revision: 0 })),
      success: [{ request_put: { key: enc(key), value } }, ...reservations.map((r) => ({ request_put: { key: enc(this.reservationKey(r)), value: enc(key) } }))],
      failure: [],
    }));
    if (!res.succeeded) {
      if (await this.get(key)) throw onExists();
      throw new ReservationTaken(await this.takenOf(reservations));
    }
    return this.decode(value, res.header.revision);
  }

  /** The first of these reservations someone holds ('' when none is). */
  async takenOf(reservations: readonly string[]): Promise<string> {
    for (const r of reservations) {
      const res = await this.call(() => this.etcd.kv.range({ key: enc(this.reservationKey(r)), count_only: true }));
      if (Number(res.count) > 0) return r;
    }
    return '';
  }

  /**
   * Read-modify-write with optimistic concurrency, as upstream's GuaranteedUpdate: `update` gets the current
   * object (undefined when absent) and returns the new one, `null` to delete it, or throws NO_CHANGE.
   * A concurrent write makes it re-read and call `update` again. With `reservations`, the reservations the new
   * object holds and the old one did not are taken, and those it gave up released, in the same transaction.
   */
  async guaranteedUpdate(key: string, update: (current: StoredObject | undefined) => KubeObject | null | Promise<KubeObject | null>,
    opts: { maxRetries?: number; reservations?: (obj: KubeObject) => string[]; cached?: StoredObject } = {}): Promise<{ object: KubeObject | undefined; deleted: boolean; changed: boolean }> {
    // As upstream's etcd3 store: a cached copy (the watch cache's) may stand for the current state, saving a read;
    // if it was stale, the transaction's failure branch returns the live value to retry with. An error or "no
    // change" computed from the cached copy is not trusted: it is computed again from the live value.
    let current = opts.cached ?? await this.get(key);
    let live = opts.cached === undefined;
    for (let attempt = 0; ; attempt++) {
      let next: KubeObject | null;
      try {
        next = await update(current);
      } catch (err) {
        if (!live) { current = await this.get(key); live = true; continue; }
        if (err === NO_CHANGE) return { object: current?.object, deleted: false, changed: false };
        throw err;
      }
      const held = current && opts.reservations ? opts.reservations(current.object) : [];
      const wanted = next && opts.reservations ? opts.reservations(next) : [];
      const take = wanted.filter((r) => !held.includes(r));
      const release = held.filter((r) => !wanted.includes(r));
      const compare = [current
        ? { key: enc(key), target: 'Mod' as const, result: 'Equal' as const, mod_revision: current.modRevision }
        : { key: enc(key), target: 'Create' as const, result: 'Equal' as const, create_revision: 0 },
      ...take.map((r) => ({ key: enc(this.reservationKey(r)), target: 'Create' as const, result: 'Equal' as const, create_revision: 0 }))];
      const value = next ? this.encode(next) : undefined;
      const res = await this.call(() => this.etcd.kv.txn({
        compare,
        success: [
          value ? { request_put: { key: enc(key), value } } : { request_delete_range: { key: enc(key) } },
          ...take.map((r) => ({ request_put: { key: enc(this.reservationKey(r)), value: enc(key) } })),
          ...release.map((r) => ({ request_delete_range: { key: enc(this.reservationKey(r)) } })),
        ],
        failure: [{ request_range: { key: enc(key) } }],
      }));
      if (res.succeeded) {
        const object = value ? this.decode(value, res.header.revision) : current?.object;
        if (!value && object) object.metadata = { ...object.metadata, resourceVersion: String(res.header.revision) };
        return { object, deleted: !value, changed: true };
      }
      const before = current;
      const kv = res.responses[0]?.response_range?.kvs[0];
      current = kv ? { key, object: this.decode(kv.value, kv.mod_revision), modRevision: Number(kv.mod_revision) } : undefined;
      live = true;
      if (take.length) {
        // The object did not change under us: one of the reservations is someone else's.
        if (current?.modRevision === before?.modRevision) {
          const taken = await this.takenOf(take);
          if (taken) throw new ReservationTaken(taken);
        }
      }
      if (attempt >= (opts.maxRetries ?? 20)) throw errors.internal(`too many concurrent writes to ${key}`);
      this.log.debug({ key, attempt }, 'optimistic update raced; retrying');
    }
  }

  /** Deletes the key only if it still has this mod revision. Returns the delete's revision, or 0 when it raced. */
  async deleteIfUnchanged(key: string, modRevision: number): Promise<number> {
    const res = await this.call(() => this.etcd.kv.txn({
      compare: [{ key: enc(key), target: 'Mod', result: 'Equal', mod_revision: modRevision }],
      success: [{ request_delete_range: { key: enc(key) } }],
      failure: [],
    }));
    return res.succeeded ? Number(res.header.revision) : 0;
  }

  /** Compacts etcd history up to a revision (watches and continues older than it get 410). */
  async compact(revision: number): Promise<void> {
    await this.call(() => this.etcd.kv.compact({ revision, physical: false }), () => errors.gone('already compacted'));
  }

  /**
   * Watches a prefix from a revision (inclusive), decoding every change; `onError` gets what ends the watch for
   * good (e.g. the revision was compacted away), after which the caller lists and watches again.
   */
  async watch(prefix: string, fromRevision: number, onEvent: (ev: StorageEvent) => void, onError: (err: unknown) => void): Promise<StorageWatch> {
    const watcher = await this.etcd.watch().prefix(prefix).startRevision(String(fromRevision)).withPreviousKV().create();
    watcher.on('data', (res) => {
      for (const ev of res.events) {
        const revision = Number(ev.kv.mod_revision);
        const bytes = (ev.kv.value?.length ?? 0) + (ev.prev_kv?.value.length ?? 0);
        if (ev.type === 'Delete' && !ev.prev_kv) continue; // nothing to report: history gone
        const object = this.decode(ev.type === 'Delete' ? ev.prev_kv!.value : ev.kv.value, revision);
        const prev = ev.prev_kv ? this.lazyDecode(ev.prev_kv.value, ev.prev_kv.mod_revision) : undefined;
        onEvent({ type: ev.type === 'Delete' ? 'delete' : 'put', object, hasPrev: !!prev, get prev() { return prev?.(); }, revision, bytes });
      }
    });
    watcher.on('error', onError);
    return { cancel: () => watcher.cancel() };
  }

  /**
   * Compacts etcd every interval to the revision seen one interval earlier, as upstream's compactor, and reports
   * each compaction (the watch caches forget what etcd no longer has). Returns the stop function; 0 disables.
   */
  startCompaction(intervalMs: number, onCompacted: (revision: number) => void): () => void {
    let previous = 0;
    const timer = setInterval(() => {
      void (async () => {
        const current = await this.revision();
        if (previous > 0) {
          await this.compact(previous);
          onCompacted(previous);
          this.log.info({ revision: previous }, 'compacted etcd');
        }
        previous = current;
      })().catch((err: unknown) => this.log.warn({ err }, 'compaction failed'));
    }, intervalMs || 2 ** 31 - 1);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** Runs an etcd call, turning etcd failures into API errors that never leak internals. */
  private async call<T>(fn: () => Promise<T>, onCompacted?: () => ApiError): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ApiError) throw err;
      const message = err instanceof Error ? err.message : String(err);
      if (onCompacted && /compacted/i.test(message)) throw onCompacted();
      // Not an outage: etcd refusing a too-large request is the client's 413 (storage.ts checks first, this is the backstop).
      if (isEtcdTooLarge(err)) throw objectTooLarge();
      // A continue token (or resourceVersion) naming a revision etcd has not reached yet: the client's error.
      if (/future revision/i.test(message)) throw errors.badRequest('continue key is not valid: the continue token names a revision newer than the current one');
      this.log.error({ err }, 'etcd request failed');
      if (err instanceof EtcdError || err instanceof Error) throw errors.unavailable('etcd is unavailable: the storage backend did not answer; try again', err);
      throw errors.internal('storage error');
    }
  }
}

/** Continue tokens as upstream encodes them: base64 of {"v":"meta.k8s.io/v1","rv":N,"start":"<key after prefix>"}. */
export function encodeContinue(nextKey: string, revision: number, prefix: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: revision, start: nextKey.slice(prefix.length) })).toString('base64url');
}

function decodeContinue(token: string, prefix: string): { start: string; revision: number } {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { v?: string; rv?: number; start?: string };
    if (parsed.v !== 'meta.k8s.io/v1' || typeof parsed.rv !== 'number' || typeof parsed.start !== 'string' || parsed.start.includes('/..')) {
      throw new Error('bad token');
    }
    return { start: prefix + parsed.start, revision: parsed.rv };
  } catch {
    throw errors.badRequest('continue key is not valid: the continue token could not be decoded');
  }
}
