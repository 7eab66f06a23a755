import { isDeepStrictEqual } from 'node:util';
import { realClock, silentLogger, type Clock, type Logger, type Pod } from '@k8ts/api';

/** A pending pod with its scheduling bookkeeping (upstream's QueuedPodInfo). Owned by the queue. */
export interface QueuedPod {
  pod: Pod;
  /** Attempts so far: incremented by each pop. */
  attempts: number;
  /** When the pod last entered the queue: on arrival, then at the end of each failed attempt. */
  timestamp: number;
  /** When the pod first entered the queue. */
  initialAttemptTimestamp: number;
}

/** Dependencies and tuning of a SchedulingQueue; the defaults are upstream's, but for the 60 s leftover timeout. */
export interface SchedulingQueueOptions {
  clock?: Clock;
  log?: Logger;
  /** Backoff after a failed attempt: initialBackoffMs · 2^(attempts−1), capped at maxBackoffMs. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** An unschedulable pod no event has moved is retried after this long (upstream: 5 min)... */
  maxUnschedulableMs?: number;
  /** ...checked this often. */
  flushIntervalMs?: number;
}

type Where = 'active' | 'backoff' | 'unschedulable';

/**
 * kube-scheduler's PriorityQueue: activeQ (ready to schedule: higher spec.priority first, then earlier timestamp,
 * then FIFO), backoffQ (waiting out a per-pod backoff, flushed to activeQ when due) and unschedulablePods (failed;
 * waiting for a cluster event or the leftover timeout). Pods are keyed by uid; a pod is in at most one of the
 * three, and not in any while popped (in flight) until addUnschedulable, addBackoff, done or delete. Bound
 * (spec.nodeName) or finished pods are never queued: an update that binds one removes it.
 */
export class SchedulingQueue {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxUnschedulableMs: number;
  private readonly flushIntervalMs: number;

  private readonly queued = new Map<string, { qp: QueuedPod; where: Where }>();
  private readonly activeQ = new OrderedList<QueuedPod>((a, b) => {
    const pa = a.pod.spec?.priority ?? 0;
    const pb = b.pod.spec?.priority ?? 0;
    return pa > pb || (pa === pb && a.timestamp < b.timestamp);
  });
  private readonly backoffQ = new OrderedList<QueuedPod>((a, b) => this.backoffExpiry(a) < this.backoffExpiry(b));
  private readonly unschedulable = new Map<string, QueuedPod>();
  /** Popped pods, by uid; `moved` records a move event (or spec change) during the attempt (upstream's moveRequestCycle). */
  private readonly inFlight = new Map<string, { qp: QueuedPod; moved: boolean }>();
  private readonly waiters = new Set<() => void>();
  private backoffTimer: { at: number; handle: unknown } | undefined;
  /** The leftover check; started by the first pop, as only popped pods can become unschedulable. */
  private flushTimer: unknown;
  private closed = false;

  constructor(opts: SchedulingQueueOptions = {}) {
    this.clock = opts.clock ?? realClock;
    this.log = opts.log ?? silentLogger;
    this.initialBackoffMs = opts.initialBackoffMs ?? 1_000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 10_000;
    this.maxUnschedulableMs = opts.maxUnschedulableMs ?? 60_000;
    this.flushIntervalMs = opts.flushIntervalMs ?? 30_000;
  }

  /** A new pending pod goes to activeQ; a pod already known is updated instead. */
  add(pod: Pod): void {
    const uid = podUid(pod);
    const known = this.queued.get(uid)?.qp ?? this.inFlight.get(uid)?.qp;
    this.update(known?.pod ?? pod, pod);
  }

  /**
   * Replaces the pod where it is. An unschedulable pod whose spec or metadata changed may now fit, so it moves
   * to activeQ (backoffQ while still backing off); an unknown pod is added; a bound or finished one is removed.
   */
  update(old: Pod, pod: Pod): void {
    const uid = podUid(pod);
    if (pod.spec?.nodeName || isTerminated(pod)) return this.delete(pod);
    const flight = this.inFlight.get(uid);
    if (flight) {
      // The attempt's outcome decides where it goes; a relevant change must not be lost if the attempt fails.
      flight.qp.pod = pod;
      if (schedulingRelevantChange(old, pod)) flight.moved = true;
      return;
    }
    const entry = this.queued.get(uid);
    if (!entry) return this.enqueue({ pod, attempts: 0, timestamp: this.clock.now(), initialAttemptTimestamp: this.clock.now() }, 'active');
    if (entry.where === 'unschedulable' && schedulingRelevantChange(old, pod)) {
      this.dequeue(uid);
      entry.qp.pod = pod;
      return this.enqueue(entry.qp, this.isBackingOff(entry.qp) ? 'backoff' : 'active');
    }
    // In place: the sort keys are unchanged (spec.priority is immutable; timestamp and attempts are ours).
    entry.qp.pod = pod;
  }

  /** Forgets the pod, wherever it is (including in flight: a later addUnschedulable or addBackoff is ignored). */
  delete(pod: Pod): void {
    const uid = podUid(pod);
    this.dequeue(uid);
    this.inFlight.delete(uid);
  }

  /** Waits for the next pod in activeQ, marks it in flight and counts the attempt; undefined once closed or aborted. */
  async pop(signal?: AbortSignal): Promise<QueuedPod | undefined> {
    if (this.flushTimer === undefined && !this.closed) this.scheduleLeftoverFlush();
    for (;;) {
      if (this.closed || signal?.aborted) return undefined;
      const qp = this.activeQ.pop();
      if (qp) {
        const uid = podUid(qp.pod);
        this.queued.delete(uid);
        qp.attempts++;
        this.inFlight.set(uid, { qp, moved: false });
        return qp;
      }
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          this.waiters.delete(wake);
          signal?.removeEventListener('abort', wake);
          resolve();
        };
        this.waiters.add(wake);
        signal?.addEventListener('abort', wake, { once: true });
      });
    }
  }

  /**
   * Ends a failed attempt: to unschedulablePods, waiting for an event; or to backoffQ if an event arrived during
   * the attempt (it may have made the pod fit) or `backoff` is set (the failure may clear by itself).
   * Ignored unless the pod is in flight (it may have been deleted meanwhile).
   */
  addUnschedulable(qp: QueuedPod, opts: { backoff?: boolean } = {}): void {
    const flight = this.endAttempt(qp);
    if (flight) this.enqueue(flight.qp, opts.backoff || flight.moved ? 'backoff' : 'unschedulable');
  }

  /** Ends an attempt that failed with an error (e.g. binding): retried after its backoff. Ignored unless in flight. */
  addBackoff(qp: QueuedPod): void {
    const flight = this.endAttempt(qp);
    if (flight) this.enqueue(flight.qp, 'backoff');
  }

  /** Ends a successful attempt (the pod is bound, or being bound). */
  done(pod: Pod): void {
    this.inFlight.delete(podUid(pod));
  }

  /** A cluster event that may make pods fit: every unschedulable pod goes to backoffQ if still backing off, else activeQ. */
  moveAllToActiveOrBackoff(reason: string): void {
    for (const flight of this.inFlight.values()) flight.moved = true;
    this.move([...this.unschedulable.values()], reason);
  }

  /** Retries pods that have been unschedulable for maxUnschedulableMs without an event moving them. Runs on a timer. */
  flushUnschedulableLeftover(): void {
    const now = this.clock.now();
    this.move([...this.unschedulable.values()].filter((qp) => now - qp.timestamp >= this.maxUnschedulableMs), 'UnschedulableTimeout');
  }

  /** Pods waiting in the three sub-queues (in flight not included). */
  len(): number {
    return this.queued.size;
  }

  /** The waiting pods: activeQ in pop order, backoffQ by expiry, unschedulablePods by arrival. For tests and metrics. */
  pendingPods(): { active: Pod[]; backoff: Pod[]; unschedulable: Pod[] } {
    return {
      active: this.activeQ.inOrder().map((qp) => qp.pod),
      backoff: this.backoffQ.inOrder().map((qp) => qp.pod),
      unschedulable: [...this.unschedulable.values()].map((qp) => qp.pod),
    };
  }

  /** Stops the timers and wakes every pop, which resolves undefined from now on. */
  close(): void {
    this.closed = true;
    if (this.flushTimer !== undefined) this.clock.clearTimeout(this.flushTimer);
    if (this.backoffTimer) this.clock.clearTimeout(this.backoffTimer.handle);
    this.backoffTimer = undefined;
    for (const wake of [...this.waiters]) wake();
  }

  private scheduleLeftoverFlush(): void {
    this.flushTimer = this.clock.setTimeout(() => {
      this.flushUnschedulableLeftover();
      if (!this.closed) this.scheduleLeftoverFlush();
    }, this.flushIntervalMs);
  }

  private endAttempt(qp: QueuedPod): { qp: QueuedPod; moved: boolean } | undefined {
    const uid = podUid(qp.pod);
    const flight = this.inFlight.get(uid);
    this.inFlight.delete(uid);
    if (flight) flight.qp.timestamp = this.clock.now();
    return flight;
  }

  private move(qps: QueuedPod[], reason: string): void {
    for (const qp of qps) {
      this.dequeue(podUid(qp.pod));
      this.enqueue(qp, this.isBackingOff(qp) ? 'backoff' : 'active');
    }
    if (qps.length) this.log.debug({ reason, pods: qps.length }, 'moved unschedulable pods');
  }

  private backoffExpiry(qp: QueuedPod): number {
    const ms = this.initialBackoffMs * 2 ** Math.max(0, qp.attempts - 1);
    return qp.timestamp + Math.min(ms, this.maxBackoffMs);
  }

  private isBackingOff(qp: QueuedPod): boolean {
    return this.backoffExpiry(qp) > this.clock.now();
  }

  private enqueue(qp: QueuedPod, where: Where): void {
    if (this.closed) return;
    const uid = podUid(qp.pod);
    this.queued.set(uid, { qp, where });
    if (where === 'unschedulable') this.unschedulable.set(uid, qp);
    else if (where === 'backoff') {
      this.backoffQ.insert(qp);
      this.armBackoffTimer();
    } else {
      this.activeQ.insert(qp);
      for (const wake of [...this.waiters]) wake();
    }
  }

  private dequeue(uid: string): void {
    const entry = this.queued.get(uid);
    if (!entry) return;
    this.queued.delete(uid);
    if (entry.where === 'unschedulable') this.unschedulable.delete(uid);
    else if (entry.where === 'active') this.activeQ.remove(entry.qp);
    else {
      this.backoffQ.remove(entry.qp);
      this.armBackoffTimer();
    }
  }

  /** Keeps one timer, set for the head of backoffQ. */
  private armBackoffTimer(): void {
    const head = this.backoffQ.peek();
    const at = head && this.backoffExpiry(head);
    if (this.backoffTimer?.at === at) return;
    if (this.backoffTimer) this.clock.clearTimeout(this.backoffTimer.handle);
    this.backoffTimer = undefined;
    if (at === undefined || this.closed) return;
    const handle = this.clock.setTimeout(() => {
      this.backoffTimer = undefined;
      this.flushBackoffCompleted();
    }, at - this.clock.now());
    this.backoffTimer = { at, handle };
  }

  private flushBackoffCompleted(): void {
    const now = this.clock.now();
    for (let head = this.backoffQ.peek(); head && this.backoffExpiry(head) <= now; head = this.backoffQ.peek()) {
      this.backoffQ.pop();
      this.enqueue(head, 'active');
    }
    this.armBackoffTimer();
  }
}

/**
 * Items kept sorted, the next one at the end; equal items leave in insertion order. Finding a place is O(log n),
 * inserting and removing O(n): a few microseconds for thousands of pods, and simpler than an indexed heap.
 */
class OrderedList<T> {
  private readonly items: T[] = [];
  constructor(private readonly before: (a: T, b: T) => boolean) {}

  insert(item: T): void {
    // Everything `item` goes before sits after it; equal items (which came earlier) stay nearer the end.
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.before(item, this.items[mid])) lo = mid + 1;
      else hi = mid;
    }
    this.items.splice(lo, 0, item);
  }

  remove(item: T): void {
    const i = this.items.lastIndexOf(item);
    if (i >= 0) this.items.splice(i, 1);
  }

  peek(): T | undefined {
    return this.items.at(-1);
  }

  pop(): T | undefined {
    return this.items.pop();
  }

  inOrder(): T[] {
    return [...this.items].reverse();
  }
}

function podUid(pod: Pod): string {
  return pod.metadata?.uid ?? `${pod.metadata?.namespace}/${pod.metadata?.name}`;
}

function isTerminated(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** Upstream's isPodUpdated: anything but status and bookkeeping metadata changed. */
function schedulingRelevantChange(old: Pod, pod: Pod): boolean {
  const strip = ({ status: _status, metadata, ...rest }: Pod) => ({
    ...rest,
    metadata: { ...metadata, resourceVersion: undefined, generation: undefined, managedFields: undefined, finalizers: undefined },
  });
  return !isDeepStrictEqual(strip(old), strip(pod));
}
