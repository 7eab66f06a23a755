import { errors, type KubeObject, type Logger, type ResourceDef } from '@k8ts/api';
import type { Storage, StorageEvent, StorageWatch } from './storage.js';

/** One change to a resource as the watch cache saw it from etcd. */
export interface CacheEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
  /** The object before this change (MODIFIED and DELETED), used to tell selector enter/leave; decoded on first use. */
  readonly prev?: KubeObject;
  revision: number;
  /** `object` as JSON, made by the first watcher that sends it and reused by the others (upstream's cachingObject). */
  json?: string;
}

/** A live subscription; `close()` detaches it. `onClose` runs when the cache drops it (re-sync, shutdown). */
export interface Subscription { close(): void }

interface Subscriber { send(ev: CacheEvent): void; onClose(): void }

/**
 * Upstream's watch cache, small: one etcd watch per resource prefix, the current objects, and a bounded ring of
 * recent events. HTTP watchers subscribe here (fan-out), replaying from any resourceVersion still in the ring.
 */
export class WatchCache {
  readonly objects = new Map<string, KubeObject>();
  /** Events with revision > `oldest` are all in `ring`. */
  private oldest = 0;
  /** Recent events, oldest first from `head`; bounded by count (`capacity`) and by bytes (`maxBytes`). */
  private ring: CacheEvent[] = [];
  private sizes: number[] = [];
  private head = 0;
  private ringBytes = 0;
  private subscribers = new Set<Subscriber>();
  private watcher: StorageWatch | undefined;
  private stopped = false;
  private waiters: { revision: number; resolve: () => void }[] = [];
  /** The newest revision the cache has applied. */
  revision = 0;
  ready: Promise<void>;

  constructor(readonly def: ResourceDef, private readonly storage: Storage, private readonly log: Logger,
    private readonly capacity = 10_000, private readonly maxBytes = 64 * 1024 * 1024) {
    this.ready = Promise.resolve();
  }

  /** Lists the prefix and starts the etcd watch right after the list's revision. */
  async start(): Promise<void> {
    this.ready = this.sync();
    await this.ready;
  }

  private async sync(): Promise<void> {
    const prefix = this.storage.prefix(this.def);
    const page = await this.storage.list(prefix);
    this.objects.clear();
    for (const obj of page.items) this.objects.set(this.keyOf(obj), obj);
    this.ring = [];
    this.sizes = [];
    this.head = 0;
    this.ringBytes = 0;
    this.oldest = page.revision;
    this.setRevision(page.revision);
    const watcher = await this.storage.watch(prefix, page.revision + 1, (ev) => this.apply(ev), (err) => {
      // Unrecoverable (e.g. our start revision was compacted away): drop every watcher, they relist and re-watch.
      this.log.warn({ err, resource: this.def.resource }, 'etcd watch failed; resyncing the watch cache');
      this.resync();
    });
    if (this.stopped) { await watcher.cancel(); return; }
    this.watcher = watcher;
  }

  private resync(): void {
    const old = this.watcher;
    this.watcher = undefined;
    void old?.cancel().catch(() => undefined);
    this.dropSubscribers();
    if (this.stopped) return;
    this.ready = this.sync().catch((err: unknown) => {
      this.log.error({ err, resource: this.def.resource }, 'watch cache resync failed; retrying');
      setTimeout(() => this.resync(), 1000).unref();
    });
  }

  private keyOf(obj: KubeObject): string {
    return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
  }

  private apply(ev: StorageEvent): void {
    const { object, revision } = ev;
    let type: CacheEvent['type'];
    if (ev.type === 'delete') {
      this.objects.delete(this.keyOf(object));
      type = 'DELETED';
    } else {
      this.objects.set(this.keyOf(object), object);
      type = ev.hasPrev ? 'MODIFIED' : 'ADDED';
    }
    const event: CacheEvent = { type, object, get prev() { return ev.prev; }, revision };
    this.push(event, ev.bytes);
    this.setRevision(revision);
    for (const s of this.subscribers) s.send(event);
  }

  private push(ev: CacheEvent, size: number): void {
    this.ring.push(ev);
    this.sizes.push(size);
    this.ringBytes += size;
    // Big objects make the ring hold less history rather than hold memory: the oldest events go first (410 to a replay from there).
    while (this.ring.length - this.head > this.capacity || (this.ringBytes > this.maxBytes && this.ring.length - this.head > 1)) {
      this.oldest = this.ring[this.head].revision;
      this.ringBytes -= this.sizes[this.head];
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.ring.length) {
      this.ring = this.ring.slice(this.head);
      this.sizes = this.sizes.slice(this.head);
      this.head = 0;
    }
  }

  private setRevision(revision: number): void {
    this.revision = revision;
    if (!this.waiters.length) return;
    const due = this.waiters.filter((w) => w.revision <= revision);
    this.waiters = this.waiters.filter((w) => w.revision > revision);
    for (const w of due) w.resolve();
  }

  /** Resolves once the cache has applied `revision` (or after timeoutMs, whichever comes first). */
  waitForRevision(revision: number, timeoutMs: number): Promise<void> {
    if (this.revision >= revision) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.waiters.push({ revision, resolve: () => { clearTimeout(timer); resolve(); } });
    });
  }

  /** Buffered events newer than `revision`, oldest first. */
  private since(revision: number): CacheEvent[] {
    let lo = this.head;
    let hi = this.ring.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (this.ring[mid].revision <= revision) lo = mid + 1; else hi = mid; }
    return this.ring.slice(lo);
  }

  /**
   * Subscribes from a resourceVersion: replays buffered events newer than it, then live ones. With no
   * resourceVersion (or 0), first sends ADDED for every current object. Throws 410 Expired when the
   * resourceVersion is older than the buffer.
   */
  subscribe(fromRevision: number | undefined, send: (ev: CacheEvent) => void, onClose: () => void): Subscription {
    let replay: CacheEvent[];
    let after: number;
    if (!fromRevision) {
      after = this.revision;
      replay = [...this.objects.values()].map((object) => ({ type: 'ADDED' as const, object, revision: this.revision }));
    } else {
      if (fromRevision < this.oldest) throw errors.gone(`too old resource version: ${fromRevision} (${this.oldest})`);
      after = fromRevision;
      replay = this.since(fromRevision);
    }
    for (const ev of replay) send(ev);
    const sub: Subscriber = { send: (ev) => { if (ev.revision > after) send(ev); }, onClose };
    this.subscribers.add(sub);
    return { close: () => { this.subscribers.delete(sub); } };
  }

  /** Forgets events at or before a compacted revision: watches from there get 410, as after etcd compaction. */
  compacted(revision: number): void {
    if (revision <= this.oldest) return;
    while (this.head < this.ring.length && this.ring[this.head].revision <= revision) {
      this.ringBytes -= this.sizes[this.head];
      this.head++;
    }
    this.ring = this.ring.slice(this.head);
    this.sizes = this.sizes.slice(this.head);
    this.head = 0;
    this.oldest = revision;
  }

  private dropSubscribers(): void {
    const subs = [...this.subscribers];
    this.subscribers.clear();
    for (const s of subs) s.onClose();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.dropSubscribers();
    await this.watcher?.cancel().catch(() => undefined);
  }
}
