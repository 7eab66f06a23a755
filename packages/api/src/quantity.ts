import { errors } from './errors.js';

/** A quantity as an exact fraction (den > 0): `100m` is 100/1000, `1.5Gi` is 3·2^29/1. */
interface Exact { num: bigint; den: bigint }

const FORMAT_WRONG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };

function parseExact(input: string): Exact {
  const m = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(.*)$/.exec(input);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw errors.badRequest(FORMAT_WRONG);
  const [, sign, int, frac = '', suffix] = m;
  let num = BigInt(int + frac || '0') * (sign === '-' ? -1n : 1n);
  let den = 10n ** BigInt(frac.length);
  let exp10: number;
  if (suffix in BINARY) {
    num *= 2n ** BigInt(BINARY[suffix]);
    exp10 = 0;
  } else if (suffix in DECIMAL) {
    exp10 = DECIMAL[suffix];
  } else if (/^[eE][-+]?[0-9]+$/.test(suffix)) {
    exp10 = Number(suffix.slice(1));
    // Upstream caps exponents far below this; it keeps BigInt from allocating absurd numbers.
    if (Math.abs(exp10) > 400) throw errors.badRequest("unable to parse quantity's suffix");
  } else if (/^[eEinumkKMGTP]*[-+]?[0-9]*$/.test(suffix)) {
    throw errors.badRequest("unable to parse quantity's suffix");
  } else {
    throw errors.badRequest(FORMAT_WRONG);
  }
  if (exp10 > 0) num *= 10n ** BigInt(exp10);
  else if (exp10 < 0) den *= 10n ** BigInt(-exp10);
  return { num, den };
}

function toExact(q: string | number): Exact {
  if (typeof q === 'string') return parseExact(q.trim());
  if (!Number.isFinite(q)) throw errors.badRequest(`invalid quantity: ${q}`);
  // Numbers come from float arithmetic (0.1 + 0.2); nanounits are the finest a quantity holds, so round there.
  return parseExact(Number.isInteger(q) || Math.abs(q) >= 1e21 ? String(q) : q.toFixed(9));
}

/** Rounds toward +∞. */
function ceilDiv(num: bigint, den: bigint): bigint {
  const q = num / den;
  return num % den > 0n ? q + 1n : q;
}

/** A quantity string as an exact fraction `num/den` in lowest terms (den > 0). Throws ApiError 400 on garbage. */
export function parseQuantityExact(s: string): { num: bigint; den: bigint } {
  const { num, den } = parseExact(s.trim());
  let a = num < 0n ? -num : num;
  let b = den;
  while (b !== 0n) [a, b] = [b, a % b];
  const g = a === 0n ? den : a;
  return { num: num / g, den: den / g };
}

/** `100m` → 0.1, `128Mi` → 134217728, `1G` → 1e9, `1e3` → 1000, `1.5` → 1.5. Throws ApiError 400 on garbage. */
export function parseQuantity(s: string): number {
  const { num, den } = parseExact(s.trim());
  return Number(num) / Number(den);
}

/** Millicores, rounded up as upstream's MilliValue: `100m` → 100, `1` → 1000, `0.0001` → 1. Exact for strings. */
export function cpuMillis(q: string | number): number {
  const { num, den } = toExact(q);
  return Number(ceilDiv(num * 1000n, den));
}

/** Whole base units rounded up, as upstream's Value(): bytes for memory. Exact for strings. */
export function quantityValue(q: string | number): number {
  const { num, den } = toExact(q);
  return Number(ceilDiv(num, den));
}

const BINARY_DESC = Object.entries(BINARY).sort((a, b) => b[1] - a[1]);
const DECIMAL_DESC = Object.entries(DECIMAL).filter(([, e]) => e > 0).sort((a, b) => b[1] - a[1]);

/**
 * The canonical string of a number of cores (`2`, `250m`) or bytes (`128Mi`, `1G`, `1500`): cpu rounds up to
 * whole millicores, bytes up to whole bytes; bytes take the largest binary suffix that divides them exactly,
 * else the largest decimal one.
 */
export function formatQuantity(n: number, kind: 'cpu' | 'bytes'): string {
  if (kind === 'cpu') {
    const millis = BigInt(cpuMillis(n));
    return millis % 1000n === 0n ? String(millis / 1000n) : `${millis}m`;
  }
  const v = BigInt(quantityValue(n));
  if (v === 0n) return '0';
  for (const [suffix, bits] of BINARY_DESC) {
    const unit = 1n << BigInt(bits);
    if (v % unit === 0n) return `${v / unit}${suffix}`;
  }
  for (const [suffix, exp] of DECIMAL_DESC) {
    const unit = 10n ** BigInt(exp);
    if (v % unit === 0n) return `${v / unit}${suffix}`;
  }
  return String(v);
}

/** -1, 0 or 1 as `a` is less than, equal to or greater than `b`; exact for strings (`1Gi` vs `1073741824`). */
export function compareQuantities(a: string | number, b: string | number): -1 | 0 | 1 {
  const x = toExact(a);
  const y = toExact(b);
  const l = x.num * y.den;
  const r = y.num * x.den;
  return l < r ? -1 : l > r ? 1 : 0;
}
