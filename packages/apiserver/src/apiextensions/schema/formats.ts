import { isIP } from 'node:net';

/**
 * The string formats upstream validates in custom resources (apiextensions-apiserver's
 * StripUnsupportedFormatsPostProcess keeps these; kube-openapi's strfmt registry checks them). Any other format
 * is documentation only, as upstream.
 */

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const UUID3 = /^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const UUID4 = /^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$/i;
const UUID5 = /^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$/i;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const HOSTNAME_LABEL = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;
const MAC = /^(?:[0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$|^(?:[0-9a-fA-F]{2}[:-]){7}[0-9a-fA-F]{2}$|^(?:[0-9a-fA-F]{4}\.){2}[0-9a-fA-F]{4}$/;
const EMAIL = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+$/;
const BSON = /^[0-9a-fA-F]{24}$/;
const HEXCOLOR = /^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;
const RGBCOLOR = /^rgb\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*\)$/;
const SSN = /^\d{3}[- ]?\d{2}[- ]?\d{4}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const DURATION = /^(?:[-+]?(?:\d+(?:\.\d*)?|\.\d+)\s*(?:ns|us|µs|ms|s|m|h|d|w|(?:sec|second|min|minute|hour|day|week)s?)\s*)+$/;

function validDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return d <= days;
}

function hostname(s: string): boolean {
  if (s.length === 0 || s.length > 255) return false;
  const h = s.endsWith('.') ? s.slice(0, -1) : s;
  return h.split('.').every((l) => HOSTNAME_LABEL.test(l));
}

function luhn(s: string): boolean {
  const digits = s.replace(/[\s-]/g, '');
  if (!/^\d{12,19}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
  }
  return sum % 10 === 0;
}

function isbn10(s: string): boolean {
  const c = s.replace(/[\s-]/g, '');
  if (!/^\d{9}[\dX]$/.test(c)) return false;
  let sum = 0;
  for (let i = 0; i < 10; i++) sum += (c[i] === 'X' ? 10 : Number(c[i])) * (10 - i);
  return sum % 11 === 0;
}

function isbn13(s: string): boolean {
  const c = s.replace(/[\s-]/g, '');
  if (!/^\d{13}$/.test(c)) return false;
  let sum = 0;
  for (let i = 0; i < 13; i++) sum += Number(c[i]) * (i % 2 === 0 ? 1 : 3);
  return sum % 10 === 0;
}

const CHECKS: Record<string, (s: string) => boolean> = {
  'bsonobjectid': (s) => BSON.test(s),
  'uri': (s) => { try { return new URL(s).protocol !== ''; } catch { return false; } },
  'email': (s) => EMAIL.test(s),
  'hostname': hostname,
  'ipv4': (s) => isIP(s) === 4,
  'ipv6': (s) => isIP(s) === 6,
  'cidr': (s) => {
    const i = s.lastIndexOf('/');
    if (i < 0) return false;
    const ip = s.slice(0, i), bits = s.slice(i + 1);
    const v = isIP(ip);
    return v !== 0 && /^\d+$/.test(bits) && Number(bits) <= (v === 4 ? 32 : 128);
  },
  'mac': (s) => MAC.test(s),
  'uuid': (s) => UUID.test(s),
  'uuid3': (s) => UUID3.test(s),
  'uuid4': (s) => UUID4.test(s),
  'uuid5': (s) => UUID5.test(s),
  'isbn': (s) => isbn10(s) || isbn13(s),
  'isbn10': isbn10,
  'isbn13': isbn13,
  'creditcard': luhn,
  'ssn': (s) => SSN.test(s),
  'hexcolor': (s) => HEXCOLOR.test(s),
  'rgbcolor': (s) => {
    const m = RGBCOLOR.exec(s);
    return !!m && [m[1], m[2], m[3]].every((c) => Number(c) <= 255);
  },
  'byte': (s) => BASE64.test(s),
  'password': () => true,
  'date': (s) => {
    const m = DATE.exec(s);
    return !!m && validDate(Number(m[1]), Number(m[2]), Number(m[3]));
  },
  'duration': (s) => DURATION.test(s),
  'datetime': (s) => {
    const m = DATE_TIME.exec(s);
    return !!m && validDate(Number(m[1]), Number(m[2]), Number(m[3])) && Number(m[4]) < 24 && Number(m[5]) < 60 && Number(m[6]) < 61;
  },
};

/** True when a format is one upstream validates for custom resources. */
export function isSupportedFormat(format: string): boolean {
  return format.replace(/-/g, '').toLowerCase() in CHECKS;
}

/** Whether `value` fails `format` (false for formats upstream does not check). */
export function validateFormat(format: string, value: string): boolean {
  const check = CHECKS[format.replace(/-/g, '').toLowerCase()];
  return check ? !check(value) : false;
}
