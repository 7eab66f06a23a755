import { realClock, sleep, type Clock } from './clock.js';

/**
 * A token bucket (client-go's flowcontrol.NewTokenBucketRateLimiter): holds up to `burst` tokens, refilled at
 * `qps` per second; each request takes one. Reservations may run the balance negative: each caller is told how
 * long to wait for its own token, so waiters are served in order and the long-run rate stays at `qps`.
 */
export class TokenBucketRateLimiter {
  readonly qps: number;
  readonly burst: number;
  private readonly clock: Clock;
  private tokens: number;
  private tokensAt: number;

  constructor(opts: { qps: number; burst: number; clock?: Clock }) {
    if (!(opts.qps > 0)) throw new Error(`rate limiter qps must be positive, got ${opts.qps}`);
    if (!(opts.burst >= 1)) throw new Error(`rate limiter burst must be at least 1, got ${opts.burst}`);
    this.qps = opts.qps;
    this.burst = opts.burst;
    this.clock = opts.clock ?? realClock;
    this.tokens = this.burst;
    this.tokensAt = this.clock.now();
  }

  /** Takes a token now if one is there (client-go's TryAccept); never waits. */
  tryAccept(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Takes a token (the balance may go negative) and returns how many ms until it would have been there. */
  reserve(): number {
    this.refill();
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }

  /**
   * Waits for a token on the clock (client-go's Wait). If `signal` aborts first, rejects with its reason and
   * gives the token back.
   */
  async wait(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw signal.reason;
    const ms = this.reserve();
    if (ms === 0) return;
    await sleep(this.clock, ms, signal);
    if (signal?.aborted) {
      this.tokens = Math.min(this.burst, this.tokens + 1);
      throw signal.reason;
    }
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.tokensAt) * this.qps) / 1000);
    this.tokensAt = now;
  }
}
