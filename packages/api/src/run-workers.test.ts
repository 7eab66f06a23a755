import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock } from './clock.js';
import { ApiError } from './errors.js';
import { runWorkers } from './run-workers.js';
import { WorkQueue } from './workqueue.js';

/** Lets the workers' promise chains run (they only await the queue and the sync). */
const settle = async (): Promise<void> => { for (let i = 0; i < 20; i++) await Promise.resolve(); };

describe('runWorkers', () => {
  it('syncs each key, forgets the backoff of those that succeed, and ends when the signal aborts', async () => {
    const queue = new WorkQueue<string>({ clock: new FakeClock() });
    const synced: string[] = [];
    const ac = new AbortController();
    const running = runWorkers(queue, async (key) => { synced.push(key); }, { workers: 2, signal: ac.signal });
    queue.add('a');
    queue.add('b');
    await settle();
    expect(synced.sort()).toEqual(['a', 'b']);
    expect(queue.numRequeues('a')).toBe(0);
    ac.abort();
    await running;
    expect(queue.isShuttingDown).toBe(true);
  });

  it('re-adds a failing key with exponential backoff on the clock, and forgets it once it succeeds', async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue<string>({ clock, baseDelayMs: 100, qps: 1000, burst: 1000 });
    let failuresLeft = 3;
    const at: number[] = [];
    const t0 = clock.now();
    const ac = new AbortController();
    const running = runWorkers(queue, async () => {
      at.push(clock.now() - t0);
      if (failuresLeft-- > 0) throw new Error('not yet');
    }, { signal: ac.signal });
    queue.add('k');
    await settle();
    expect(at).toEqual([0]);
    expect(queue.numRequeues('k')).toBe(1);
    for (const step of [99, 1, 199, 1, 399, 1]) { clock.advance(step); await settle(); }
    // 100, 200, 400 ms apart: 5 ms · 2^n as client-go, with base 100 here.
    expect(at).toEqual([0, 100, 300, 700]);
    expect(queue.numRequeues('k')).toBe(0);
    expect(clock.pending()).toBe(0);
    ac.abort();
    await running;
  });

  it('never runs one key on two workers at once; a key added meanwhile runs again after', async () => {
    const queue = new WorkQueue<string>({ clock: new FakeClock() });
    let inFlight = 0;
    let most = 0;
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const ac = new AbortController();
    const running = runWorkers(queue, async () => {
      runs++;
      most = Math.max(most, ++inFlight);
      if (runs === 1) await gate;
      inFlight--;
    }, { workers: 4, signal: ac.signal });
    queue.add('k');
    await settle();
    queue.add('k');
    queue.add('k');
    await settle();
    expect(runs).toBe(1);
    release();
    await settle();
    expect(runs).toBe(2);
    expect(most).toBe(1);
    ac.abort();
    await running;
  });

  it('drops a key after maxRetries failures in a row', async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue<string>({ clock, baseDelayMs: 10, qps: 1000, burst: 1000 });
    let runs = 0;
    const ac = new AbortController();
    const running = runWorkers(queue, async () => { runs++; throw new Error('never'); }, { signal: ac.signal, maxRetries: 2 });
    queue.add('k');
    for (let i = 0; i < 10; i++) { await settle(); clock.advance(1000); }
    expect(runs).toBe(3);
    expect(queue.numRequeues('k')).toBe(0);
    expect(clock.pending()).toBe(0);
    ac.abort();
    await running;
  });

  it('logs a lost optimistic-concurrency race (409 Conflict or AlreadyExists, also as a cause) at debug, as upstream\'s V(2)', async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue<string>({ clock, baseDelayMs: 10, qps: 1000, burst: 1000 });
    const lines: { level: number; msg: string; err?: unknown; reason?: string }[] = [];
    const log = pino({ level: 'debug' }, new Writable({ write(chunk, _enc, cb) { lines.push(JSON.parse(String(chunk))); cb(); } }));
    const conflict = new ApiError(409, 'Conflict', 'Operation cannot be fulfilled on jobs.batch "count": the object has been modified');
    const failures = [
      conflict,
      new Error(`updating the status of job default/count: ${conflict.message}`, { cause: conflict }),
      new ApiError(409, 'AlreadyExists', 'endpoints "web" already exists'),
      new ApiError(422, 'Invalid', 'spec.replicas: Invalid value'),
    ];
    let runs = 0;
    const ac = new AbortController();
    const running = runWorkers(queue, async () => { const f = failures[runs++]; if (f) throw f; }, { signal: ac.signal, log });
    queue.add('k');
    for (let i = 0; i < 10; i++) { await settle(); clock.advance(1000); }
    await new Promise((r) => setImmediate(r));
    expect(runs).toBe(5);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([[20, 'sync requeued'], [20, 'sync requeued'], [20, 'sync requeued'], [40, 'sync failed; retrying']]);
    ac.abort();
    await running;
  });

  it('retries an expected requeue like a failure but logs it at debug, without the error', async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue<string>({ clock, baseDelayMs: 10, qps: 1000, burst: 1000 });
    const lines: { level: number; msg: string; err?: unknown; reason?: string }[] = [];
    const log = pino({ level: 'debug' }, new Writable({ write(chunk, _enc, cb) { lines.push(JSON.parse(String(chunk))); cb(); } }));
    class Stale extends Error {}
    let runs = 0;
    const ac = new AbortController();
    const running = runWorkers(queue, async () => { if (++runs === 1) throw new Stale('cache is out of date'); if (runs === 2) throw new Error('boom'); }, {
      signal: ac.signal, log, isRequeue: (err) => err instanceof Stale,
    });
    queue.add('k');
    for (let i = 0; i < 5; i++) { await settle(); clock.advance(1000); }
    await new Promise((r) => setImmediate(r));
    expect(runs).toBe(3);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([[20, 'sync requeued'], [40, 'sync failed; retrying']]);
    expect(lines[0]).toMatchObject({ reason: 'cache is out of date' });
    expect(lines[0].err).toBeUndefined();
    ac.abort();
    await running;
  });

  it('returns at once for an already aborted signal', async () => {
    const queue = new WorkQueue<string>();
    await runWorkers(queue, async () => undefined, { signal: AbortSignal.abort() });
    expect(queue.isShuttingDown).toBe(true);
  });
});
