import { describe, expect, it } from 'vitest';
import { FakeClock } from '@k8ts/api';
import { SyncRunner } from './sync-runner.js';

const flush = () => new Promise((r) => setImmediate(r));

describe('SyncRunner', () => {
  it('runs at once, then at most once per min interval, and at least once per max interval', async () => {
    const clock = new FakeClock();
    const runs: number[] = [];
    const t0 = clock.now();
    const runner = new SyncRunner(async () => { runs.push(clock.now() - t0); }, { minIntervalMs: 1000, maxIntervalMs: 30_000, clock });
    runner.start();
    clock.advance(0); await flush();
    expect(runs).toEqual([0]);
    clock.advance(200); runner.run(); runner.run(); runner.run();
    clock.advance(799); await flush();
    expect(runs).toEqual([0]);
    clock.advance(1); await flush();
    expect(runs).toEqual([0, 1000]);
    clock.advance(29_999); await flush();
    expect(runs).toEqual([0, 1000]);
    clock.advance(1); await flush();
    expect(runs).toEqual([0, 1000, 31_000]);
    runner.stop();
    expect(clock.pending()).toBe(0);
  });

  it('a request during a run gives one more run after it', async () => {
    const clock = new FakeClock();
    let release!: () => void;
    let n = 0;
    const runner = new SyncRunner(() => { n++; return n === 1 ? new Promise<void>((r) => { release = r; }) : Promise.resolve(); },
      { minIntervalMs: 0, maxIntervalMs: 30_000, clock });
    runner.start();
    clock.advance(0); await flush();
    runner.run(); runner.run();
    release(); await flush();
    clock.advance(0); await flush();
    expect(n).toBe(2);
    runner.stop();
  });

  it('retries a failed run with backoff from the min interval', async () => {
    const clock = new FakeClock();
    const t0 = clock.now();
    const runs: number[] = [];
    const runner = new SyncRunner(async () => { runs.push(clock.now() - t0); if (runs.length <= 3) throw new Error('iptables-restore failed'); },
      { minIntervalMs: 1000, maxIntervalMs: 30_000, clock });
    runner.start();
    clock.advance(0); await flush();
    for (let i = 0; i < 20; i++) { clock.advance(500); await flush(); }
    expect(runs).toEqual([0, 1000, 3000, 7000]);
    runner.stop();
  });
});

describe('SyncRunner, requests around start', () => {
  it('never overlaps runs when requests come before start (informer handlers during the initial list)', async () => {
    const clock = new FakeClock();
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const releases: (() => void)[] = [];
    const runner = new SyncRunner(() => {
      runs++; active++; maxActive = Math.max(maxActive, active);
      return new Promise<void>((r) => releases.push(() => { active--; r(); }));
    }, { minIntervalMs: 0, maxIntervalMs: 30_000, clock });
    runner.run(); runner.run();
    clock.advance(0); await flush();
    expect(runs).toBe(0);
    runner.start();
    clock.advance(0); await flush();
    runner.start(); runner.run();
    clock.advance(0); await flush();
    expect([runs, maxActive]).toEqual([1, 1]);
    // The request made during the first run is served right after it, not at the next full sync.
    releases.shift()!(); await flush();
    clock.advance(0); await flush();
    expect([runs, maxActive]).toEqual([2, 1]);
    releases.shift()!(); await flush();
    runner.stop();
  });
});
