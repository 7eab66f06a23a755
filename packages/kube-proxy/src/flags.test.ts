import { describe, expect, it } from 'vitest';
import { parseDuration, parseHostPort } from './flags.js';

describe('flags', () => {
  it.each([['1s', 1000], ['500ms', 500], ['2m', 120_000], ['1h30m', 5_400_000], ['0.5s', 500]])('parseDuration(%s) = %d', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
  it.each(['', '1', 's', '1x', '1s ', '-1s'])('parseDuration(%j) throws', (text) => {
    expect(() => parseDuration(text)).toThrow(/invalid duration/);
  });
  it('parseHostPort', () => {
    expect(parseHostPort('127.0.0.1:10256')).toEqual(['127.0.0.1', 10256]);
    expect(() => parseHostPort('10256')).toThrow(/invalid address/);
    expect(() => parseHostPort('a:99999')).toThrow(/invalid address/);
  });
});
