import { isDeepStrictEqual } from 'node:util';
import type { FieldError } from '@k8ts/api';
import { type SchemaNode, isObject } from './node.js';
import { type CompiledRule, compileRules, evalRule, toCel } from './cel.js';

/**
 * Running x-kubernetes-validations over a value, as upstream's apiextensions-apiserver schema/cel/validation.go:
 * rules at each node with `self` the node's value, `oldSelf` the correlated old value (objects by field, map-lists
 * by key), errors as upstream's field errors.
 */

/** Compiles the rules of every node below `n`; marks the nodes that have rules below them. */
export function markRules(n: SchemaNode, isResourceRoot: boolean): boolean {
  let below = false;
  if (n.validations.length > 0) {
    const { rules, errors } = compileRules(n, isResourceRoot);
    n.compiledRules = rules;
    n.ruleCompileErrors = errors.map((e) => e.error.detail);
    below = true;
  }
  if (n.properties) for (const p of n.properties.values()) below = markRules(p, p.embeddedResource) || below;
  if (n.items) below = markRules(n.items, n.items.embeddedResource) || below;
  if (typeof n.additionalProperties === 'object') below = markRules(n.additionalProperties, n.additionalProperties.embeddedResource) || below;
  n.hasRulesBelow = below;
  return below;
}

function childField(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** upstream's cel/validation.go walk: rules at each node, old values correlated through objects and map-lists. */
export function celValidate(n: SchemaNode, x: unknown, old: unknown, path: string, errs: FieldError[], ratchet = true): void {
  if (!n.hasRulesBelow || x === null || x === undefined) return;
  for (const e of n.ruleCompileErrors) errs.push({ field: path || '<nil>', type: 'FieldValueInvalid', value: n.type, message: `rule compile error: ${e}` });
  if (n.compiledRules && n.compiledRules.length > 0) runRules(n, x, old, path, errs, ratchet);
  if (Array.isArray(x)) {
    if (!n.items) return;
    const oldByKey = n.listType === 'map' && Array.isArray(old) ? indexByKeys(old, n.listMapKeys) : undefined;
    x.forEach((e, i) => {
      const oldE = oldByKey && isObject(e) ? oldByKey.get(mapKey(e, n.listMapKeys)) : undefined;
      celValidate(n.items!, e, oldE, `${path}[${i}]`, errs, ratchet);
    });
    return;
  }
  if (!isObject(x)) return;
  const oldObj = isObject(old) && n.mapType !== 'atomic' ? old : undefined;
  for (const [k, v] of Object.entries(x)) {
    const p = n.properties?.get(k);
    if (p) celValidate(p, v, oldObj?.[k], childField(path, k), errs, ratchet);
    else if (typeof n.additionalProperties === 'object') celValidate(n.additionalProperties, v, oldObj?.[k], `${path}[${k}]`, errs, ratchet);
  }
}

function mapKey(e: Record<string, unknown>, keys: string[]): string {
  return JSON.stringify(keys.map((k) => e[k]));
}

function indexByKeys(list: unknown[], keys: string[]): Map<string, unknown> {
  const m = new Map<string, unknown>();
  for (const e of list) if (isObject(e)) m.set(mapKey(e, keys), e);
  return m;
}

function ruleErrorString(r: CompiledRule): string {
  return r.spec.message && r.spec.message.trim() !== '' ? r.spec.message.trim() : r.spec.rule.trim();
}

function joinFieldPath(path: string, fieldPath: string): string {
  // `.spec.foo` / `['a.b']` relative to the rule's node, as upstream's ValidFieldPath renders it.
  let out = path;
  const re = /\.([A-Za-z_$][A-Za-z0-9_$-]*)|\['([^']*)'\]|\[(\d+)\]/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(fieldPath.trim())) !== null) {
    if (m[1] !== undefined) out = childField(out, m[1]);
    else if (m[2] !== undefined) out = /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(m[2]) ? childField(out, m[2]) : `${out}[${m[2]}]`;
    else out = `${out}[${m[3]}]`;
  }
  return out;
}

function runRules(n: SchemaNode, x: unknown, old: unknown, path: string, errs: FieldError[], ratchet: boolean): void {
  const self = toCel(x, n);
  let oldSelf: unknown;
  // Ratcheting: a rule without oldSelf failing on a value that did not change is not an error (upstream makes it
  // a warning), so objects stored before a rule was added stay updatable.
  let unchanged: boolean | undefined;
  for (const r of n.compiledRules as CompiledRule[]) {
    if (r.usesOldSelf && (old === undefined || old === null) && r.spec.optionalOldSelf !== true) continue;
    if (r.usesOldSelf && oldSelf === undefined) oldSelf = toCel(old, n);
    const out = evalRule(r, self, r.usesOldSelf ? oldSelf ?? null : null);
    if ('ok' in out && out.ok) continue;
    if (ratchet && !r.usesOldSelf && 'ok' in out) {
      unchanged ??= old !== undefined && isDeepStrictEqual(x, old);
      if (unchanged) continue;
    }
    const field = (r.spec.fieldPath ? joinFieldPath(path, r.spec.fieldPath) : path) || '<nil>';
    if ('error' in out) {
      const typeName = n.type;
      const detail = out.error.startsWith('no such overload')
        ? `'${out.error}': call arguments did not match a supported operator, function or macro signature for rule: ${ruleErrorString(r)}`
        : `${out.error} evaluating rule: ${ruleErrorString(r)}`;
      errs.push({ field, type: 'FieldValueInvalid', value: typeName, message: detail });
      continue;
    }
    // upstream leaves objects and arrays out of the message (field.OmitValueType) and shows scalars.
    const value = n.type === 'object' || n.type === 'array' ? undefined : x;
    const detail = out.message ?? (r.spec.message && r.spec.message.trim() !== '' ? r.spec.message.trim() : `failed rule: ${ruleErrorString(r)}`);
    switch (r.spec.reason) {
      case 'FieldValueForbidden': errs.push({ field, type: 'FieldValueForbidden', message: detail }); break;
      case 'FieldValueRequired': errs.push({ field, type: 'FieldValueRequired', message: detail }); break;
      case 'FieldValueDuplicate': errs.push({ field, type: 'FieldValueDuplicate', value, message: '' }); break;
      default: errs.push({ field, type: 'FieldValueInvalid', value, message: detail });
    }
  }
}

