import { isDeepStrictEqual } from 'node:util';
import { isDNS1035Label, isDNS1123Label, type FieldError } from '@k8ts/api';
import { type SchemaNode, isObject } from './node.js';
import { validateFormat } from './formats.js';
import { validateAnnotations, validateLabels } from '../../registry/shared/validation.js';

/**
 * Value validation as upstream's kube-openapi SchemaValidator (k8s.io/kube-openapi/pkg/validation/validate) and
 * its conversion to field errors (apiextensions-apiserver pkg/apiserver/validation/validation.go
 * kubeOpenAPIResultToFieldErrors): each check's message names the value by kube-openapi's path
 * (`spec.replicas in body should be less than or equal to 10`), the error's field is that path. Errors that are
 * not a kube-openapi Validation (anyOf/oneOf/allOf/not) have no field: upstream prints `<nil>`.
 */

interface Result { errors: FieldError[]; matches: number }

/** kube-openapi's path as the field error's field (upstream trims a leading `.`; an empty path prints `<nil>`). */
function fieldOf(name: string): string {
  const f = name.startsWith('.') ? name.slice(1) : name;
  return f === '' ? '<nil>' : f;
}

function jsonType(x: unknown): string {
  if (x === null || x === undefined) return 'null';
  if (typeof x === 'string') return 'string';
  if (typeof x === 'boolean') return 'boolean';
  if (typeof x === 'number') return Number.isInteger(x) ? 'integer' : 'number';
  if (Array.isArray(x)) return 'array';
  return 'object';
}

/** Go's %v of a float64 limit (10 → 10, 0.5 → 0.5, 1e21 → 1e+21). */
function goNum(n: number): string {
  return String(n);
}

function isJSONInteger(f: number): boolean {
  if (Number.isInteger(f)) return true;
  const diff = Math.abs(f - Math.round(f));
  return diff < 1e-9;
}

function equalJSON(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  return isDeepStrictEqual(a, b);
}

/** No old value correlates with this one (a create, a new field, an item of an atomic list). */
export const NO_OLD: unique symbol = Symbol('no old value');
type Old = unknown;

/**
 * The old value correlated with a field/item, as upstream's ratcheting (CRDValidationRatcheting, on in 1.32):
 * object fields by name (not in atomic maps), map-list items by their keys, set items by value.
 */
function oldField(old: Old, s: SchemaNode, key: string): Old {
  if (old === NO_OLD || !isObject(old) || s.mapType === 'atomic' || !(key in old)) return NO_OLD;
  return old[key];
}

function oldItems(old: Old, s: SchemaNode, x: unknown[]): Old[] | undefined {
  if (old === NO_OLD || !Array.isArray(old)) return undefined;
  if (s.listType === 'map' && s.listMapKeys.length > 0) {
    const byKey = new Map<string, unknown>();
    for (const e of old) if (isObject(e)) byKey.set(JSON.stringify(s.listMapKeys.map((k) => e[k])), e);
    return x.map((e) => (isObject(e) ? byKey.get(JSON.stringify(s.listMapKeys.map((k) => e[k]))) ?? NO_OLD : NO_OLD));
  }
  if (s.listType === 'set') return x.map((e) => (old.some((o) => equalJSON(o, e)) ? e : NO_OLD));
  return undefined;
}

/**
 * Validates `x` against `s` at kube-openapi path `path`; appends to `res`. On update, `old` is the correlated old
 * value: an unchanged value is not validated again (upstream's validation ratcheting), so objects stored under an
 * older schema can still be updated elsewhere.
 */
export function validateValue(x: unknown, s: SchemaNode, path: string, res: Result, old: Old = NO_OLD): void {
  if (old !== NO_OLD && equalJSON(x, old)) return;
  const inv = (value: unknown, message: string) => res.errors.push({ field: fieldOf(path), type: 'FieldValueInvalid', value, message });
  const named = path;
  // type
  if (s.types.length > 0) {
    if (x === null || x === undefined) {
      if (!s.nullable) {
        res.errors.push({ field: fieldOf(path), type: 'FieldValueTypeInvalid', value: 'null', message: `${named} in body must be of type ${s.types.join(',')}: "null"` });
      }
    } else {
      const t = jsonType(x);
      const ok = s.types.includes(t) || (t === 'integer' && s.types.includes('number'));
      if (!ok) res.errors.push({ field: fieldOf(path), type: 'FieldValueTypeInvalid', value: t, message: `${named} in body must be of type ${s.types.join(',')}: "${t}"` });
      else res.matches++;
    }
  }
  if (x === null || x === undefined) {
    if (s.enum && !(s.nullable && x === null) && !s.enum.some((e) => e === null)) enumFail(x, s, path, res);
    return;
  }
  // allOf / anyOf / oneOf / not
  if (s.anyOf.length > 0) {
    let best: Result | undefined;
    let ok = false;
    for (const sub of s.anyOf) {
      const r: Result = { errors: [], matches: 0 };
      validateValue(x, sub, path, r, old);
      if (r.errors.length === 0) { ok = true; best = undefined; break; }
      if (!best || r.matches > best.matches) best = r;
    }
    if (!ok) res.errors.push({ field: '<nil>', type: 'FieldValueInvalid', value: '', message: `"${path}" must validate at least one schema (anyOf)` });
    if (best) res.errors.push(...best.errors);
  }
  if (s.oneOf.length > 0) {
    let best: Result | undefined;
    let valid = 0;
    for (const sub of s.oneOf) {
      const r: Result = { errors: [], matches: 0 };
      validateValue(x, sub, path, r, old);
      if (r.errors.length === 0) { valid++; best = undefined; continue; }
      if (valid === 0 && (!best || r.matches > best.matches)) best = r;
    }
    if (valid !== 1) {
      res.errors.push({
        field: '<nil>', type: 'FieldValueInvalid', value: '',
        message: `"${path}" must validate one and only one schema (oneOf). ${valid === 0 ? 'Found none valid' : `Found ${valid} valid alternatives`}`,
      });
      if (best) res.errors.push(...best.errors);
    }
  }
  if (s.allOf.length > 0) {
    let valid = 0;
    for (const sub of s.allOf) {
      const r: Result = { errors: [], matches: 0 };
      validateValue(x, sub, path, r, old);
      if (r.errors.length === 0) valid++;
      res.errors.push(...r.errors);
      res.matches += r.matches;
    }
    if (valid !== s.allOf.length) {
      res.errors.push({ field: '<nil>', type: 'FieldValueInvalid', value: '', message: `"${path}" must validate all the schemas (allOf)${valid === 0 ? '. None validated' : ''}` });
    }
  }
  if (s.not) {
    const r: Result = { errors: [], matches: 0 };
    validateValue(x, s.not, path, r, old);
    if (r.errors.length === 0) res.errors.push({ field: '<nil>', type: 'FieldValueInvalid', value: '', message: `"${path}" must not validate the schema (not)` });
  }
  if (typeof x === 'string') {
    const len = s.maxLength !== undefined || s.minLength !== undefined ? [...x].length : 0;
    if (s.maxLength !== undefined && len > s.maxLength) {
      res.errors.push({ field: fieldOf(path), type: 'FieldValueTooLong', value: x, message: `may not be longer than ${s.maxLength}` });
    }
    if (s.minLength !== undefined && len < s.minLength) inv(x, `${named} in body should be at least ${s.minLength} chars long`);
    if (s.pattern && !s.pattern.test(x)) inv(x, `${named} in body should match '${s.patternSource}'`);
    else if (s.patternError) inv(x, `${named} in body should match '${s.patternSource}, but pattern is invalid: error parsing regexp: ${s.patternError}'`);
    if (s.format) {
      const bad = validateFormat(s.format, x);
      if (bad) res.errors.push({ field: fieldOf(path), type: 'FieldValueTypeInvalid', value: x, message: `${named} in body must be of type ${s.format}: "${x}"` });
    }
    res.matches++;
  }
  if (typeof x === 'number') {
    if (s.multipleOf !== undefined && s.multipleOf > 0) {
      const mult = s.multipleOf < 1 ? (1 / s.multipleOf) * x : x / s.multipleOf;
      if (!isJSONInteger(mult)) inv(x, `${named} in body should be a multiple of ${goNum(s.multipleOf)}`);
    }
    if (s.maximum !== undefined && (s.exclusiveMaximum ? x >= s.maximum : x > s.maximum)) {
      inv(x, `${named} in body should be less than ${s.exclusiveMaximum ? '' : 'or equal to '}${goNum(s.maximum)}`);
    }
    if (s.minimum !== undefined && (s.exclusiveMinimum ? x <= s.minimum : x < s.minimum)) {
      inv(x, `${named} in body should be greater than ${s.exclusiveMinimum ? '' : 'or equal to '}${goNum(s.minimum)}`);
    }
    res.matches++;
  }
  if (Array.isArray(x)) {
    if (s.items) {
      const olds = oldItems(old, s, x);
      for (let i = 0; i < x.length; i++) validateValue(x[i], s.items, `${path}[${i}]`, res, olds ? olds[i] : NO_OLD);
    }
    if (s.minItems !== undefined && x.length < s.minItems) inv(x.length, `${named} in body should have at least ${s.minItems} items`);
    if (s.maxItems !== undefined && x.length > s.maxItems) {
      res.errors.push({ field: fieldOf(path), type: 'FieldValueTooMany', value: x.length, message: `must have at most ${s.maxItems} items` });
    }
    if (s.uniqueItems) {
      const seen = new Set<string>();
      for (const e of x) {
        const k = JSON.stringify(e);
        if (seen.has(k)) { inv('', `${named} in body shouldn't contain duplicates`); break; }
        seen.add(k);
      }
    }
    res.matches++;
  }
  if (s.enum && !s.enum.some((e) => equalJSON(e, x))) enumFail(x, s, path, res);
  if (isObject(x)) validateObjectValue(x, s, path, res, old);
}

function enumFail(x: unknown, s: SchemaNode, path: string, res: Result): void {
  res.errors.push({
    field: fieldOf(path), type: 'FieldValueNotSupported', value: x ?? null,
    message: `supported values: ${(s.enum ?? []).map((v) => JSON.stringify(typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}`,
  });
}

function validateObjectValue(x: Record<string, unknown>, s: SchemaNode, path: string, res: Result, old: Old): void {
  const keys = Object.keys(x);
  const n = keys.length;
  if (s.minProperties !== undefined && n < s.minProperties) {
    res.errors.push({ field: fieldOf(path), type: 'FieldValueInvalid', value: n, message: `${path} in body should have at least ${s.minProperties} properties` });
    return;
  }
  if (s.maxProperties !== undefined && n > s.maxProperties) {
    res.errors.push({ field: fieldOf(path), type: 'FieldValueTooMany', value: n, message: `must have at most ${s.maxProperties} items` });
    return;
  }
  if (s.additionalProperties === false) {
    for (const k of keys) {
      if (!s.properties?.has(k)) {
        res.errors.push({ field: fieldOf(path), type: 'FieldValueInvalid', value: k, message: `${path}.${k} in body is a forbidden property` });
      }
    }
  } else if (typeof s.additionalProperties === 'object') {
    for (const k of keys) {
      if (!s.properties?.has(k)) validateValue(x[k], s.additionalProperties, `${path}.${k}`, res, oldField(old, s, k));
    }
  }
  if (s.properties) {
    for (const [k, p] of s.properties) {
      if (k in x) validateValue(x[k], p, path ? `${path}.${k}` : k, res, oldField(old, s, k));
    }
  }
  for (const k of s.required) {
    if (!(k in x)) res.errors.push({ field: fieldOf(`${path}.${k}`), type: 'FieldValueRequired', message: '' });
  }
  res.matches++;
}

/**
 * The kube-openapi validation of a whole object: errors in upstream's order (type, junctors, values, fields);
 * with `old` (an update), unchanged values are ratcheted.
 */
export function validateSchema(x: unknown, s: SchemaNode, old: Old = NO_OLD): FieldError[] {
  const res: Result = { errors: [], matches: 0 };
  validateValue(x, s, '', res, old);
  return res.errors;
}

function childPath(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/**
 * x-kubernetes-list-type set/map uniqueness (upstream's listtype/validation.go) and x-kubernetes-embedded-resource
 * checks (objectmeta/validation.go): apiVersion and kind present, well-formed; metadata's labels and annotations.
 */
export function validateListsAndEmbedded(x: unknown, s: SchemaNode | undefined, path: string, errs: FieldError[], what: 'all' | 'lists' | 'embedded' = 'all'): void {
  if (!s) return;
  if (Array.isArray(x)) {
    if (what === 'embedded') {
      // only the walk below
    } else if (s.listType === 'set') {
      for (const i of nonUnique(x)) errs.push({ field: `${path}[${i}]`, type: 'FieldValueDuplicate', value: x[i], message: '' });
    } else if (s.listType === 'map' && s.listMapKeys.length > 0) {
      const bad = x.findIndex((e) => e !== null && !isObject(e));
      if (bad >= 0) {
        errs.push({ field: `${path}[${bad}]`, type: 'FieldValueInvalid', value: x[bad], message: 'must be an object for an array of list-type map' });
      } else {
        // The key of each item: its key fields that are set (a null item or an unset key is the empty key).
        const keys = x.map((e) => {
          const k: Record<string, unknown> = {};
          if (isObject(e)) for (const f of s.listMapKeys) if (f in e) k[f] = e[f];
          return k;
        });
        for (const i of nonUnique(keys)) errs.push({ field: `${path}[${i}]`, type: 'FieldValueDuplicate', value: keys[i], message: '' });
      }
    }
    if (s.items) x.forEach((e, i) => validateListsAndEmbedded(e, s.items, `${path}[${i}]`, errs, what));
    return;
  }
  if (!isObject(x)) return;
  if (s.embeddedResource && what !== 'lists') validateEmbeddedResource(x, path, errs);
  for (const [k, v] of Object.entries(x)) {
    const p = s.properties?.get(k) ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
    if (p) validateListsAndEmbedded(v, p, s.properties?.has(k) ? childPath(path, k) : `${path}[${k}]`, errs, what);
  }
}

/** JSON with object keys sorted, as Go's json.Marshal of a map: equal values give equal text. */
function canonical(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(canonical).join(',')}]`;
  if (isObject(x)) return `{${Object.keys(x).sort().map((k) => `${JSON.stringify(k)}:${canonical(x[k])}`).join(',')}}`;
  return JSON.stringify(x) ?? 'null';
}

/** upstream's validateListSet: the index of the second appearance of each repeated value (later ones are not reported). */
function nonUnique(xs: unknown[]): number[] {
  const seen = new Map<string, number>();
  const out: number[] = [];
  xs.forEach((x, i) => {
    const k = canonical(x);
    const times = seen.get(k) ?? 0;
    if (times === 1) out.push(i);
    seen.set(k, times + 1);
  });
  return out;
}

const GROUP_VERSION = /^([^/]+\/)?[^/]+$/;

function validateEmbeddedResource(x: Record<string, unknown>, path: string, errs: FieldError[]): void {
  if (!('apiVersion' in x)) errs.push({ field: childPath(path, 'apiVersion'), type: 'FieldValueRequired', message: '' });
  if (!('kind' in x)) errs.push({ field: childPath(path, 'kind'), type: 'FieldValueRequired', message: '' });
  for (const [k, v] of Object.entries(x)) {
    const f = childPath(path, k);
    if (k === 'apiVersion') {
      if (typeof v !== 'string') errs.push({ field: f, type: 'FieldValueInvalid', value: v, message: 'must be a string' });
      else if (v === '') errs.push({ field: f, type: 'FieldValueRequired', message: '' });
      else if (!GROUP_VERSION.test(v)) errs.push({ field: f, type: 'FieldValueInvalid', value: v, message: `unexpected GroupVersion string: ${v}` });
    } else if (k === 'kind') {
      if (typeof v !== 'string') errs.push({ field: f, type: 'FieldValueInvalid', value: v, message: 'must be a string' });
      else if (v === '') errs.push({ field: f, type: 'FieldValueRequired', message: '' });
      else {
        const msgs = isDNS1035Label(v.toLowerCase());
        if (msgs.length > 0) errs.push({ field: f, type: 'FieldValueInvalid', value: v, message: `may have mixed case, but should otherwise match: ${msgs.join(',')}` });
      }
    } else if (k === 'metadata') {
      if (!isObject(v)) {
        errs.push({ field: f, type: 'FieldValueInvalid', value: v, message: 'must be an object' });
        continue;
      }
      if (v.name !== undefined && typeof v.name !== 'string') errs.push({ field: `${f}.name`, type: 'FieldValueInvalid', value: v.name, message: 'must be a string' });
      else if (typeof v.name === 'string' && v.name !== '') {
        for (const bad of ['.', '..']) if (v.name === bad) errs.push({ field: `${f}.name`, type: 'FieldValueInvalid', value: v.name, message: `may not be '${bad}'` });
        for (const bad of ['/', '%']) if (v.name.includes(bad)) errs.push({ field: `${f}.name`, type: 'FieldValueInvalid', value: v.name, message: `may not contain '${bad}'` });
      }
      if (typeof v.namespace === 'string' && v.namespace !== '') {
        for (const m of isDNS1123Label(v.namespace)) errs.push({ field: `${f}.namespace`, type: 'FieldValueInvalid', value: v.namespace, message: m });
      }
      errs.push(...validateLabels(v.labels, `${f}.labels`));
      errs.push(...validateAnnotations(v.annotations, `${f}.annotations`));
    }
  }
}
