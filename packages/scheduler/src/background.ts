import { silentLogger, type Logger } from '@k8ts/api';

/**
 * Writes the scheduling loop must not wait for (Events, PodScheduled=False status patches): queued and sent a few
 * at a time in the background, as client-go's event broadcaster does (a bounded queue; when it is full, new
 * writes are dropped and counted, never blocking a scheduling cycle). Under a burst they yield the apiserver to
 * bindings; once it is over they catch up.
 */
export class BackgroundWrites {
  private readonly queue: (() => Promise<unknown>)[] = [];
  private head = 0;
  private inFlight = 0;
  private readonly idleWaiters = new Set<() => void>();
  /** Writes dropped because the queue was full. */
  dropped = 0;

  constructor(private readonly opts: { concurrency?: number; maxQueued?: number; log?: Logger } = {}) {}

  /** Queues a write; returns false (and drops it) when `maxQueued` writes are already waiting. */
  add(write: () => Promise<unknown>): boolean {
    if (this.queue.length - this.head >= (this.opts.maxQueued ?? 1000)) {
      if (this.dropped++ % 100 === 0) (this.opts.log ?? silentLogger).warn({ dropped: this.dropped }, 'background write queue full; dropping writes');
      return false;
    }
    this.queue.push(write);
    this.pump();
    return true;
  }

  /** Writes queued or in flight. */
  get pending(): number {
    return this.queue.length - this.head + this.inFlight;
  }

  /** Resolves once nothing is queued or in flight. */
  async idle(): Promise<void> {
    if (this.pending === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.add(resolve));
  }

  private pump(): void {
    while (this.inFlight < (this.opts.concurrency ?? 4) && this.head < this.queue.length) {
      const write = this.queue[this.head++];
      if (this.head > 1024 && this.head * 2 > this.queue.length) { this.queue.splice(0, this.head); this.head = 0; }
      this.inFlight++;
      void write().catch((err: unknown) => (this.opts.log ?? silentLogger).debug({ err }, 'background write failed')).finally(() => {
        this.inFlight--;
        this.pump();
        if (this.pending === 0) { for (const w of this.idleWaiters) w(); this.idleWaiters.clear(); }
      });
    }
  }
}
