import { realClock, type Clock } from '@k8ts/api';

export interface SyncRunnerOptions {
  /** At most one run per this many ms (upstream's --iptables-min-sync-period). */
  minIntervalMs: number;
  /** A run at least this often even when nothing asked (--sync-period). */
  maxIntervalMs: number;
  clock?: Clock;
}

/**
 * Runs `fn` when asked, never more often than minIntervalMs and at least every maxIntervalMs, one run at a time
 * (upstream's async.BoundedFrequencyRunner). Requests while a run is in flight coalesce into one more run. A run
 * that throws is retried after the min interval (at least 100 ms), doubling up to maxIntervalMs.
 */
export class SyncRunner {
  private readonly clock: Clock;
  private lastRun = -Infinity;
  private timer: unknown;
  private running = false;
  private pending = false;
  private started = false;
  private stopped = false;
  private failures = 0;

  constructor(private readonly fn: () => Promise<void>, private readonly opts: SyncRunnerOptions) {
    this.clock = opts.clock ?? realClock;
  }

  /** Starts the periodic runs: the first one at once. Requests before this are covered by that first run. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.schedule(0);
  }

  /** Asks for a run: at once if the last one is older than minIntervalMs, else when it will be. */
  run(): void {
    if (this.stopped || !this.started) return;
    if (this.running) { this.pending = true; return; }
    this.schedule(Math.max(0, this.lastRun + this.opts.minIntervalMs - this.clock.now()));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => { this.timer = undefined; void this.tick(); }, delay);
  }

  private async tick(): Promise<void> {
    // Only a timer starts a run, and no timer is set while one is in flight; this keeps it so.
    if (this.running) { this.pending = true; return; }
    this.running = true;
    this.lastRun = this.clock.now();
    let failed = false;
    try {
      await this.fn();
      this.failures = 0;
    } catch {
      // fn logs its own failures; retried with backoff from the min interval, not only at the next full sync.
      failed = true;
      this.failures++;
    } finally {
      this.running = false;
      const retryMs = Math.min(this.opts.maxIntervalMs, Math.max(this.opts.minIntervalMs, 100) * 2 ** (this.failures - 1));
      if (this.pending) { this.pending = false; this.run(); } else this.schedule(failed ? retryMs : this.opts.maxIntervalMs);
    }
  }
}
