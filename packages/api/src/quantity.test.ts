import { describe, expect, it } from 'vitest';
import { ApiError } from './errors.js';
import { compareQuantities, cpuMillis, formatQuantity, parseQuantity, quantityValue } from './quantity.js';

describe('parseQuantity', () => {
  it.each([
    ['100m', 0.1],
    ['1', 1],
    ['1.5', 1.5],
    ['.5', 0.5],
    ['1.', 1],
    ['+2', 2],
    ['-2', -2],
    ['0', 0],
    ['128Mi', 134_217_728],
    ['1Ki', 1024],
    ['1Gi', 1_073_741_824],
    ['1.5Gi', 1_610_612_736],
    ['1G', 1e9],
    ['1k', 1000],
    ['2M', 2e6],
    ['1T', 1e12],
    ['1E', 1e18],
    ['1Ei', 2 ** 60],
    ['1e3', 1000],
    ['1E3', 1000],
    ['1e-3', 0.001],
    ['5e+2', 500],
    ['250u', 0.00025],
    ['10n', 1e-8],
    [' 2 ', 2],
  ])('%j → %d', (s, want) => {
    expect(parseQuantity(s)).toBe(want);
  });

  it.each(['', 'abc', '1.2.3', '1Kb', '1K', '1e', '1Mi3', '--1', 'm', '1 Gi', '0x10', 'Infinity'])('rejects %j with 400', (s) => {
    try {
      parseQuantity(s);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).code).toBe(400);
    }
  });
});

describe('exact conversions', () => {
  it('cpuMillis rounds up to whole millicores exactly', () => {
    expect(cpuMillis('100m')).toBe(100);
    expect(cpuMillis('1')).toBe(1000);
    expect(cpuMillis('1.5')).toBe(1500);
    expect(cpuMillis('0.0001')).toBe(1);
    expect(cpuMillis('1500u')).toBe(2);
    expect(cpuMillis('0.7')).toBe(700);
    expect(cpuMillis(0.7)).toBe(700);
    expect(cpuMillis(0.1 + 0.2)).toBe(300); // float noise below a nanocore is not a millicore more
    expect(cpuMillis(0.3000001)).toBe(301);
    expect(cpuMillis('2e-3')).toBe(2);
  });

  it('quantityValue rounds up to whole units', () => {
    expect(quantityValue('128Mi')).toBe(134_217_728);
    expect(quantityValue('1.5')).toBe(2);
    expect(quantityValue('100m')).toBe(1);
    expect(quantityValue('-1.5')).toBe(-1);
  });

  it('compareQuantities compares exactly across suffixes', () => {
    expect(compareQuantities('1Gi', '1073741824')).toBe(0);
    expect(compareQuantities('1G', '1Gi')).toBe(-1);
    expect(compareQuantities('1001m', '1')).toBe(1);
    expect(compareQuantities('0.1', '100m')).toBe(0);
    expect(compareQuantities(0.5, '500m')).toBe(0);
    expect(compareQuantities('1e3', '1k')).toBe(0);
    expect(compareQuantities('-1', '0')).toBe(-1);
  });
});

describe('formatQuantity', () => {
  it.each([
    [2, 'cpu', '2'],
    [0.25, 'cpu', '250m'],
    [0.1, 'cpu', '100m'],
    [1.5, 'cpu', '1500m'],
    [0, 'cpu', '0'],
    [134_217_728, 'bytes', '128Mi'],
    [1_073_741_824, 'bytes', '1Gi'],
    [1536, 'bytes', '1536'],
    [1e9, 'bytes', '1G'],
    [1000, 'bytes', '1k'],
    [1500, 'bytes', '1500'],
    [1024 * 1000, 'bytes', '1000Ki'],
    [0, 'bytes', '0'],
    [10.2, 'bytes', '11'],
  ] as const)('%d %s → %s', (n, kind, want) => {
    expect(formatQuantity(n, kind)).toBe(want);
  });

  it('round-trips through parseQuantity', () => {
    for (const s of ['128Mi', '250m', '3', '5G', '7Ki']) {
      const kind = s.endsWith('m') || /^\d+$/.test(s) ? 'cpu' : 'bytes';
      expect(formatQuantity(parseQuantity(s), kind)).toBe(s);
    }
  });
});
