import { realClock, type Clock } from './clock.js';
import { TokenBucketRateLimiter } from './rate-limiter.js';

/** Tuning of a WorkQueue's rate limiter; the defaults are client-go's DefaultControllerRateLimiter. */
export interface WorkQueueOptions {
  clock?: Clock;
  /** Per-key exponential backoff: baseDelayMs · 2^failures, capped at maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Overall token bucket shared by all keys. */
  qps?: number;
  burst?: number;
}

/**
 * A de-duplicating, rate-limited work queue (client-go's workqueue): a key is queued once however often it is
 * added; it is never handed to two workers at once; a key added while in flight is queued again on `done`.
 * After `shutDown`, `get` resolves undefined and adds are ignored.
 */
export class WorkQueue<K = string> {
  private readonly clock: Clock;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly bucket: TokenBucketRateLimiter;

  private readonly queue: K[] = [];
  private head = 0;
  /** Keys that need processing: queued, or added again while in flight. */
  private readonly dirty = new Set<K>();
  private readonly processing = new Set<K>();
  private readonly waiters: ((key: K | undefined) => void)[] = [];
  private readonly delayed = new Map<K, { at: number; handle: unknown }>();
  private readonly failures = new Map<K, number>();
  private shuttingDown = false;

  constructor(opts: WorkQueueOptions = {}) {
    this.clock = opts.clock ?? realClock;
    this.baseDelayMs = opts.baseDelayMs ?? 5;
    this.maxDelayMs = opts.maxDelayMs ?? 1_000_000;
    this.bucket = new TokenBucketRateLimiter({ qps: opts.qps ?? 10, burst: opts.burst ?? 100, clock: this.clock });
  }

  /** Queues `key` unless it is already waiting; if it is in flight, it is queued again when `done`. */
  add(key: K): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter) this.handOut(key, waiter);
    else this.queue.push(key);
  }

  /** Adds `key` after `ms`; a key already waiting keeps the earlier of its two times. */
  addAfter(key: K, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const at = this.clock.now() + ms;
    const pending = this.delayed.get(key);
    if (pending) {
      if (pending.at <= at) return;
      this.clock.clearTimeout(pending.handle);
    }
    const handle = this.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { at, handle });
  }

  /** Adds `key` after the longer of its exponential backoff and the overall token bucket's delay. */
  addRateLimited(key: K): void {
    this.addAfter(key, this.when(key));
  }

  /** Clears `key`'s failure count: the next addRateLimited starts from the base delay. */
  forget(key: K): void {
    this.failures.delete(key);
  }

  /** How many times `key` has been rate-limited since it was last forgotten. */
  numRequeues(key: K): number {
    return this.failures.get(key) ?? 0;
  }

  /** The next key to work on, marked in flight until `done(key)`; undefined once the queue is shut down. */
  get(): Promise<K | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    if (this.head < this.queue.length) {
      const key = this.queue[this.head++];
      this.compact();
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks `key` finished; if it was added meanwhile, queues it again. */
  done(key: K): void {
    this.processing.delete(key);
    if (!this.dirty.has(key) || this.shuttingDown) return;
    const waiter = this.waiters.shift();
    if (waiter) this.handOut(key, waiter);
    else this.queue.push(key);
  }

  /** Stops the queue: pending and future `get`s resolve undefined, delayed adds are dropped. */
  shutDown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const { handle } of this.delayed.values()) this.clock.clearTimeout(handle);
    this.delayed.clear();
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }

  /** True once `shutDown` was called. */
  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Keys waiting to be handed out (not counting in-flight or delayed ones). */
  len(): number {
    return this.queue.length - this.head;
  }

  private handOut(key: K, waiter: (key: K) => void): void {
    this.dirty.delete(key);
    this.processing.add(key);
    waiter(key);
  }

  /** Drops consumed entries now and then so `get` stays O(1) amortised. */
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  /** client-go's MaxOf(ItemExponentialFailure, Bucket) rate limiter. */
  private when(key: K): number {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    const backoff = failures >= 60 ? this.maxDelayMs : Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** failures);
    return Math.max(backoff, this.bucket.reserve());
  }
}
