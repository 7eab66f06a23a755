import { describe, expect, it } from 'vitest';
import { FakeClock } from './clock.js';
import { TokenBucketRateLimiter } from './rate-limiter.js';

describe('TokenBucketRateLimiter', () => {
  it('lets a burst through, then one token per 1/qps seconds', () => {
    const clock = new FakeClock();
    const rl = new TokenBucketRateLimiter({ qps: 10, burst: 3, clock });
    expect([rl.tryAccept(), rl.tryAccept(), rl.tryAccept(), rl.tryAccept()]).toEqual([true, true, true, false]);
    clock.advance(99);
    expect(rl.tryAccept()).toBe(false);
    clock.advance(1);
    expect(rl.tryAccept()).toBe(true);
    // Idle time refills up to the burst, no more.
    clock.advance(60_000);
    expect([rl.tryAccept(), rl.tryAccept(), rl.tryAccept(), rl.tryAccept()]).toEqual([true, true, true, false]);
  });

  it('reserve queues callers: each waits for its own token', () => {
    const rl = new TokenBucketRateLimiter({ qps: 5, burst: 1, clock: new FakeClock() });
    expect([rl.reserve(), rl.reserve(), rl.reserve()]).toEqual([0, 200, 400]);
  });

  it('wait resolves on the clock, in order', async () => {
    const clock = new FakeClock();
    const rl = new TokenBucketRateLimiter({ qps: 2, burst: 1, clock });
    const done: number[] = [];
    await rl.wait();
    const waits = [1, 2].map((i) => rl.wait().then(() => done.push(i)));
    await Promise.resolve();
    expect(done).toEqual([]);
    clock.advance(500);
    await waits[0];
    expect(done).toEqual([1]);
    clock.advance(500);
    await waits[1];
    expect(done).toEqual([1, 2]);
  });

  it('wait rejects when its signal aborts, and gives the token back', async () => {
    const clock = new FakeClock();
    const rl = new TokenBucketRateLimiter({ qps: 1, burst: 1, clock });
    rl.reserve();
    const ac = new AbortController();
    const waiting = rl.wait(ac.signal);
    ac.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    clock.advance(1000);
    expect(rl.tryAccept()).toBe(true);
  });

  it('refuses nonsense settings', () => {
    expect(() => new TokenBucketRateLimiter({ qps: 0, burst: 1 })).toThrow(/qps must be positive/);
    expect(() => new TokenBucketRateLimiter({ qps: 1, burst: 0 })).toThrow(/burst must be at least 1/);
  });
});
