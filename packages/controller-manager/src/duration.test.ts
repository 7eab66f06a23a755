import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([['40s', 40_000], ['1m0s', 60_000], ['500ms', 500], ['1h2m3.5s', 3_723_500], ['0', 0]])('%s is %d ms', (s, ms) => {
    expect(parseDuration(s)).toBe(ms);
  });
  it.each(['', '40', '4x', 's', '-5s', '5s '])('refuses %j', (s) => {
    expect(() => parseDuration(s)).toThrow(/invalid duration/);
  });
});
