import { describe, expect, it } from 'vitest';
import { camelSplit, humanDuration, rfc1123z, selectorString, smartLabelFor } from './format.js';
import { goTabwrite } from './tabwriter.js';

describe('describe formatting', () => {
  it('aligns columns per block as Go tabwriter does', () => {
    expect(goTabwrite('Name:\tx\nNamespace:\tdefault\n\nEvents:\t<none>\n')).toBe('Name:       x\nNamespace:  default\n\nEvents:  <none>\n');
    expect(goTabwrite('a:\t1\n  long-cell:\t2\n')).toBe('a:            1\n  long-cell:  2\n');
    // A nested column aligns only within the lines that have it.
    expect(goTabwrite('Port:\t<unset>\t80/TCP\nIP:\t1\n')).toBe('Port:  <unset>  80/TCP\nIP:    1\n');
  });

  it('formats durations, timestamps, selectors and labels as kubectl', () => {
    expect([5_000, 125_000, 600_000, 3 * 3600_000 + 60_000, 50 * 3600_000, 400 * 86400_000].map(humanDuration)).toEqual(['5s', '2m5s', '10m', '3h1m', '2d2h', '400d']);
    expect(rfc1123z('2026-12-02T05:53:36Z')).toBe('Wed, 02 Dec 2026 05:53:36 +0000');
    expect(selectorString({ matchLabels: { b: '1', a: '2' }, matchExpressions: [{ key: 'c', operator: 'NotIn', values: ['y', 'x'] }] })).toBe('a=2,b=1,c notin (x,y)');
    expect(camelSplit('HTTPServerURL')).toEqual(['HTTP', 'Server', 'URL']);
    expect(['apiVersion', 'creationTimestamp', 'uid', 'holder1'].map(smartLabelFor)).toEqual(['API Version', 'Creation Timestamp', 'UID', 'holder1']);
  });
});
