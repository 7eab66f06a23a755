import { describe, expect, it } from 'vitest';
import { BackgroundWrites } from './background.js';

describe('BackgroundWrites', () => {
  it('sends at most `concurrency` at once, in order, drops what overflows the queue, and says when it is idle', async () => {
    const bg = new BackgroundWrites({ concurrency: 2, maxQueued: 3 });
    const started: number[] = [];
    const release: (() => void)[] = [];
    const write = (i: number) => () => { started.push(i); return new Promise<void>((r) => release.push(r)); };
    const accepted = [0, 1, 2, 3, 4, 5, 6].map((i) => bg.add(write(i)));
    // Two in flight, three queued: the sixth and seventh are dropped.
    expect(accepted).toEqual([true, true, true, true, true, false, false]);
    expect(bg.dropped).toBe(2);
    expect(started).toEqual([0, 1]);
    expect(bg.pending).toBe(5);
    const idle = bg.idle();
    while (release.length) {
      release.shift()!();
      await new Promise((r) => setImmediate(r));
    }
    await idle;
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(bg.pending).toBe(0);
  });

  it('keeps going after a write fails', async () => {
    const bg = new BackgroundWrites({ concurrency: 1 });
    const done: string[] = [];
    bg.add(() => Promise.reject(new Error('boom')));
    bg.add(async () => { done.push('second'); });
    await bg.idle();
    expect(done).toEqual(['second']);
  });
});
