import { describe, expect, it } from 'vitest';
import { FakeClock } from './clock.js';
import { WorkQueue } from './workqueue.js';

/** Resolves with the promise's value, or 'pending' if it has not settled after the microtask queue drains. */
async function peek<T>(p: Promise<T>): Promise<T | 'pending'> {
  return Promise.race([p, new Promise<'pending'>((r) => setImmediate(() => r('pending')))]);
}

describe('WorkQueue', () => {
  it('hands keys out in FIFO order, each once however often added', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('b');
    q.add('a');
    q.add('c');
    q.add('b');
    expect(q.len()).toBe(3);
    expect([await q.get(), await q.get(), await q.get()]).toEqual(['a', 'b', 'c']);
    expect(q.len()).toBe(0);
  });

  it('never hands an in-flight key to a second worker; re-queues it on done', async () => {
    const q = new WorkQueue();
    q.add('a');
    expect(await q.get()).toBe('a');
    q.add('a');
    q.add('a');
    expect(q.len()).toBe(0);
    const second = q.get();
    expect(await peek(second)).toBe('pending');
    q.done('a');
    expect(await second).toBe('a');
    q.done('a');
    expect(q.len()).toBe(0);
    expect(await peek(q.get())).toBe('pending');
  });

  it('wakes a waiting worker on add', async () => {
    const q = new WorkQueue();
    const w1 = q.get();
    const w2 = q.get();
    q.add('x');
    q.add('y');
    expect(await w1).toBe('x');
    expect(await w2).toBe('y');
  });

  it('does not re-queue a finished key that was not added again', async () => {
    const q = new WorkQueue();
    q.add('a');
    await q.get();
    q.done('a');
    expect(q.len()).toBe(0);
  });

  it('supports non-string keys', async () => {
    const q = new WorkQueue<number>();
    q.add(1);
    q.add(1);
    expect(await q.get()).toBe(1);
    expect(q.len()).toBe(0);
  });

  it('addAfter delays on the injected clock and keeps the earliest time per key', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.addAfter('a', 100);
    q.addAfter('a', 500);
    q.addAfter('b', 50);
    q.addAfter('c', 0);
    expect(q.len()).toBe(1);
    expect(await q.get()).toBe('c');
    clock.advance(49);
    expect(q.len()).toBe(0);
    clock.advance(1);
    expect(await q.get()).toBe('b');
    clock.advance(50);
    expect(await q.get()).toBe('a');
    clock.advance(1000);
    expect(q.len()).toBe(0); // the later addAfter of 'a' was merged into the earlier one
    q.addAfter('d', 300);
    q.addAfter('d', 100); // earlier wins
    clock.advance(100);
    expect(q.len()).toBe(1);
    expect(clock.pending()).toBe(0);
  });

  it('addRateLimited backs off exponentially per key from 5 ms, capped, and forget resets it', () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, qps: 1e9, burst: 1e9, maxDelayMs: 1_000_000 });
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      q.addRateLimited('a');
      // Measure by advancing until the key shows up.
      let waited = 0;
      while (q.len() === 0 && waited < 10_000) {
        clock.advance(1);
        waited++;
      }
      delays.push(waited);
      void q.get();
      q.done('a');
    }
    expect(delays).toEqual([5, 10, 20, 40, 80]);
    expect(q.numRequeues('a')).toBe(5);
    expect(q.numRequeues('b')).toBe(0);
    q.forget('a');
    expect(q.numRequeues('a')).toBe(0);
  });

  it('caps per-key backoff at maxDelayMs (default 1000 s)', () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    for (let i = 0; i < 80; i++) {
      q.addRateLimited('a');
      clock.advance(1_000_000);
      void q.get();
      q.done('a');
    }
    expect(q.numRequeues('a')).toBe(80);
    q.addRateLimited('a');
    clock.advance(1_000_000 - 1);
    expect(q.len()).toBe(0);
    clock.advance(1);
    expect(q.len()).toBe(1);
  });

  it('applies the overall token bucket (qps 10, burst 100) across keys', () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, baseDelayMs: 0 });
    for (let i = 0; i < 100; i++) q.addRateLimited(`k${i}`);
    expect(q.len()).toBe(100); // the burst goes through at once
    q.addRateLimited('late1');
    q.addRateLimited('late2');
    expect(q.len()).toBe(100);
    clock.advance(99);
    expect(q.len()).toBe(100);
    clock.advance(1);
    expect(q.len()).toBe(101); // one token per 100 ms
    clock.advance(100);
    expect(q.len()).toBe(102);
  });

  it('takes the larger of the two limiters, and both are configurable', () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, baseDelayMs: 1000, qps: 1, burst: 1 });
    q.addRateLimited('a'); // bucket: 0, per-key: 1000
    q.addRateLimited('b'); // bucket: 1000 (token debt), per-key: 1000
    q.addRateLimited('c'); // bucket: 2000
    clock.advance(1000);
    expect(q.len()).toBe(2);
    clock.advance(1000);
    expect(q.len()).toBe(3);
  });

  it('shutDown resolves waiting and future gets with undefined and ignores later adds', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    const waiting = q.get();
    q.addAfter('later', 10);
    q.shutDown();
    expect(await waiting).toBeUndefined();
    expect(await q.get()).toBeUndefined();
    q.add('x');
    q.addRateLimited('y');
    expect(q.len()).toBe(0);
    expect(clock.pending()).toBe(0);
    expect(q.isShuttingDown).toBe(true);
    q.shutDown(); // idempotent
  });

  it('lets a worker finish its in-flight key after shutDown without re-queueing it', async () => {
    const q = new WorkQueue();
    q.add('a');
    const key = await q.get();
    q.add('a');
    q.shutDown();
    q.done(key!);
    expect(q.len()).toBe(0);
  });

  it('keeps FIFO order across many keys', async () => {
    const q = new WorkQueue<number>();
    for (let i = 0; i < 3000; i++) q.add(i);
    const out: number[] = [];
    for (let i = 0; i < 3000; i++) out.push((await q.get())!);
    expect(out).toEqual([...Array(3000).keys()]);
  });
});
