import { describe, expect, it } from 'vitest';
import { FakeClock, realClock, sleep } from './clock.js';

describe('FakeClock', () => {
  it('fires due timers in time order on advance, including timers they set', () => {
    const clock = new FakeClock(1000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => {
      fired.push(`a@${clock.now()}`);
      clock.setTimeout(() => fired.push(`c@${clock.now()}`), 5);
    }, 10);
    const cancelled = clock.setTimeout(() => fired.push('never'), 15);
    clock.clearTimeout(cancelled);
    clock.advance(9);
    expect(fired).toEqual([]);
    clock.advance(100);
    expect(fired).toEqual(['a@1010', 'c@1015', 'b@1020']);
    expect(clock.now()).toBe(1109);
    expect(clock.pending()).toBe(0);
  });
});

describe('sleep', () => {
  it('resolves after the time on the given clock', async () => {
    const clock = new FakeClock();
    let done = false;
    const p = sleep(clock, 50).then(() => { done = true; });
    clock.advance(49);
    await Promise.resolve();
    expect(done).toBe(false);
    clock.advance(1);
    await p;
    expect(done).toBe(true);
  });

  it('resolves at once on abort and clears its timer', async () => {
    const clock = new FakeClock();
    const ctl = new AbortController();
    const p = sleep(clock, 1e9, ctl.signal);
    ctl.abort();
    await p;
    expect(clock.pending()).toBe(0);
    await sleep(realClock, 1e9, ctl.signal); // already aborted
  });
});
