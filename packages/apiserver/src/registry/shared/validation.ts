import { isDeepStrictEqual } from 'node:util';
import {
  isDNS1123Label, isQualifiedName, isValidLabelValue, labelSelectorRequirements, matchesLabels, maxLenError, regexError,
} from '@k8ts/api';
import type { FieldError, KubeObject, LabelSelector } from '@k8ts/api';
import type { NameCheck } from '../strategy.js';

/*
 * Shared validation (apimachinery util/validation, pkg/apis/core/validation's ObjectMeta, label and selector rules):
 * field.Error constructors and the checks several kinds use, with upstream's field paths and messages.
 */

export type Obj = Record<string, any>;
export type Errors = FieldError[];

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
export const asObj = (v: unknown): Obj => (isObj(v) ? v : {});
export const asList = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(asObj) : []);
export const isSet = (v: unknown): boolean => v !== undefined && v !== null;

// ---------------------------------------------------------------------------------------------------------------
// field.Error constructors

export const required = (field: string, message = ''): FieldError => ({ field, type: 'FieldValueRequired', message });
export const invalid = (field: string, value: unknown, message: string): FieldError => ({ field, type: 'FieldValueInvalid', message, value });
export const duplicate = (field: string, value: unknown): FieldError => ({ field, type: 'FieldValueDuplicate', message: '', value });
export const forbidden = (field: string, message: string): FieldError => ({ field, type: 'FieldValueForbidden', message });
export const tooLong = (field: string, max: number): FieldError => ({ field, type: 'FieldValueTooLong', message: `may not be more than ${max} bytes` });
export const notSupported = (field: string, value: unknown, supported: string[]): FieldError => ({
  field, type: 'FieldValueNotSupported', value, message: `supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`,
});
export const immutable = (field: string, value: unknown): FieldError => invalid(field, value, 'field is immutable');
export const invalidEach = (field: string, value: unknown, msgs: string[]): Errors => msgs.map((m) => invalid(field, value, m));

export function nonNegative(field: string, value: unknown): Errors {
  return typeof value === 'number' && value < 0 ? [invalid(field, value, 'must be greater than or equal to 0')] : [];
}

// ---------------------------------------------------------------------------------------------------------------
// String formats (apimachinery util/validation), with upstream's messages; the name and label checks are @k8ts/api's

const CONFIG_KEY_FMT = '[-._a-zA-Z0-9]+';
const CONFIG_KEY_RE = new RegExp(`^${CONFIG_KEY_FMT}$`);

export function isConfigMapKey(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 253) errs.push(maxLenError(253));
  if (!CONFIG_KEY_RE.test(v)) errs.push(regexError("a valid config key must consist of alphanumeric characters, '-', '_' or '.'", CONFIG_KEY_FMT, 'key.name', 'KEY_NAME', 'key-name'));
  if (v === '.') errs.push("must not be '.'");
  else if (v === '..') errs.push("must not be '..'");
  else if (v.startsWith('..')) errs.push("must not start with '..'");
  return errs;
}

export const isValidPortNum = (p: unknown): string[] =>
  (typeof p === 'number' && Number.isInteger(p) && p >= 1 && p <= 65535 ? [] : ['must be between 1 and 65535, inclusive']);

export function isValidPortName(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 15) errs.push(maxLenError(15));
  if (!/^[-a-z0-9]+$/.test(v)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(v)) errs.push('must contain at least one letter (a-z)');
  if (v.includes('--')) errs.push('must not contain consecutive hyphens');
  if (v.startsWith('-') || v.endsWith('-')) errs.push('must not begin or end with a hyphen');
  return errs;
}

// ---------------------------------------------------------------------------------------------------------------
// Metadata, labels, selectors

/** Label keys must be qualified names and values valid label values; errors are reported at `path`, as upstream. */
export function validateLabels(labels: unknown, path: string): FieldError[] {
  if (!isSet(labels)) return [];
  if (!isObj(labels)) return [invalid(path, labels, 'must be a map of string keys to string values')];
  const errs: Errors = [];
  for (const [k, v] of Object.entries(labels)) {
    errs.push(...invalidEach(path, k, isQualifiedName(k)));
    if (typeof v !== 'string') errs.push(invalid(path, v, 'must be a string'));
    else errs.push(...invalidEach(path, v, isValidLabelValue(v)));
  }
  return errs;
}

const ANNOTATIONS_MAX_BYTES = 256 * 1024;

export function validateAnnotations(annotations: unknown, path: string): Errors {
  if (!isObj(annotations)) return [];
  const errs: Errors = [];
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) {
    errs.push(...invalidEach(path, k, isQualifiedName(k.toLowerCase())));
    size += Buffer.byteLength(k) + Buffer.byteLength(String(v ?? ''));
  }
  if (size > ANNOTATIONS_MAX_BYTES) errs.push(tooLong(path, ANNOTATIONS_MAX_BYTES));
  return errs;
}

export function validateObjectMeta(obj: KubeObject, namespaced: boolean, nameCheck: NameCheck): Errors {
  const meta = asObj(obj.metadata);
  const errs: Errors = [];
  if (!meta.name) errs.push(required('metadata.name', 'name or generateName is required'));
  else errs.push(...invalidEach('metadata.name', meta.name, nameCheck(String(meta.name))));
  if (namespaced) {
    if (!meta.namespace) errs.push(required('metadata.namespace'));
    else errs.push(...invalidEach('metadata.namespace', meta.namespace, isDNS1123Label(String(meta.namespace))));
  } else if (meta.namespace) {
    errs.push(forbidden('metadata.namespace', 'not allowed on this type'));
  }
  errs.push(...validateLabels(meta.labels, 'metadata.labels'));
  errs.push(...validateAnnotations(meta.annotations, 'metadata.annotations'));
  return errs;
}

export function validateLabelSelector(sel: Obj, path: string): Errors {
  const errs = validateLabels(sel.matchLabels, `${path}.matchLabels`);
  asList(sel.matchExpressions).forEach((e, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    const values = Array.isArray(e.values) ? e.values : [];
    switch (e.operator) {
      case 'In':
      case 'NotIn':
        if (!values.length) errs.push(required(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length) errs.push(forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        errs.push(invalid(`${p}.operator`, e.operator, 'not a valid selector operator'));
    }
    errs.push(...invalidEach(`${p}.key`, e.key, isQualifiedName(String(e.key ?? ''))));
    values.forEach((v: unknown, j: number) => errs.push(...invalidEach(`${p}.values[${j}]`, v, isValidLabelValue(String(v)))));
  });
  return errs;
}

/** Whether a (valid, non-empty) selector matches the labels; true when it cannot be evaluated (reported elsewhere). */
export function selectorMatches(sel: Obj, labels: unknown): boolean {
  try {
    const reqs = labelSelectorRequirements(sel as LabelSelector);
    return !reqs?.length || matchesLabels(reqs, isObj(labels) ? labels as Record<string, string> : undefined);
  } catch {
    return true;
  }
}

/** JSON equality where absent, undefined and null are the same, as they are after Go decodes them. */
export function sameJSON(a: unknown, b: unknown): boolean {
  const norm = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(norm);
    if (!isObj(v)) return v;
    return Object.fromEntries(Object.entries(v).filter(([, x]) => isSet(x)).map(([k, x]) => [k, norm(x)]));
  };
  return isDeepStrictEqual(norm(a), norm(b));
}

/** The protocols a port may name. */
export const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

// ---------------------------------------------------------------------------------------------------------------
// ConfigMap and Secret data

export const MAX_DATA_BYTES = 1024 * 1024;

/** ConfigMap and Secret keys: `[-._a-zA-Z0-9]+`, reported at `<map>[<key>]`. */
export function validateKeys(path: string, map: Obj): Errors {
  return Object.keys(map).flatMap((k) => invalidEach(`${path}[${k}]`, k, isConfigMapKey(k)));
}

export const base64Bytes = (v: unknown): number => Buffer.from(String(v ?? ''), 'base64').length;

export const utf8Bytes = (v: unknown): number => Buffer.byteLength(String(v ?? ''));

export const sum = (values: unknown[], size: (v: unknown) => number): number => values.reduce((n: number, v) => n + size(v), 0);

export function immutableData(obj: Obj, old: Obj | undefined, fields: string[]): Errors {
  if (old?.immutable !== true) return [];
  const errs: Errors = [];
  if (obj.immutable !== true) errs.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
  for (const f of fields) if (!sameJSON(obj[f] ?? {}, old[f] ?? {})) errs.push(forbidden(f, 'field is immutable when `immutable` is set'));
  return errs;
}
