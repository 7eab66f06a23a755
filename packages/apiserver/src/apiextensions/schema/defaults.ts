import { type SchemaNode, isObject } from './node.js';
import { pruneValue } from './prune.js';

/**
 * Defaulting as upstream's structural defaulting (k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting/
 * algorithm.go): a missing field with a `default` gets a copy of it, and so does a `null` where the schema is not
 * `nullable`; list items and map values that are `null` get their schema's default. Defaults are applied top-down,
 * so a defaulted object gets the defaults of its own fields too.
 */
export function defaultValue(x: unknown, s: SchemaNode | undefined): void {
  if (!s) return;
  if (Array.isArray(x)) {
    const items = s.items;
    if (!items) return;
    for (let i = 0; i < x.length; i++) {
      if (x[i] === null && !items.nullable && items.hasDefault) x[i] = structuredClone(items.default);
      defaultValue(x[i], items);
    }
    return;
  }
  if (!isObject(x)) return;
  if (s.properties) {
    for (const [k, prop] of s.properties) {
      if (!prop.hasDefault) continue;
      if (!(k in x) || (x[k] === null && !prop.nullable)) x[k] = structuredClone(prop.default);
    }
  }
  const ap = typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined;
  for (const k of Object.keys(x)) {
    const prop = s.properties?.get(k);
    if (prop) defaultValue(x[k], prop);
    else if (ap) {
      if (x[k] === null && !ap.nullable && ap.hasDefault) x[k] = structuredClone(ap.default);
      defaultValue(x[k], ap);
    }
  }
}

/**
 * Removes `null`s the schema neither allows (`nullable`) nor defaults, as upstream's
 * PruneNonNullableNullsWithoutDefaults (defaulting/prunenulls.go), which runs right before defaulting.
 */
export function pruneNulls(x: unknown, s: SchemaNode | undefined): void {
  // Without a schema nothing below can be a non-nullable field (upstream recurses anyway, to no effect).
  if (!s) return;
  if (Array.isArray(x)) {
    for (const e of x) pruneNulls(e, s?.items);
    return;
  }
  if (!isObject(x)) return;
  for (const k of Object.keys(x)) {
    const f = s?.properties?.get(k) ?? (typeof s?.additionalProperties === 'object' ? s.additionalProperties : undefined);
    if (x[k] === null && f && !f.nullable && !f.hasDefault) delete x[k];
    else pruneNulls(x[k], f);
  }
}

/**
 * Prunes every `default` of the tree against its own schema, as upstream's PruneDefaults does when the CRD is
 * stored, so that applying a default never adds fields the schema would prune. Returns the nodes whose default
 * changed (the CRD-time check "must not have unknown fields" reports them).
 */
export function pruneDefaults(s: SchemaNode, changed: SchemaNode[] = []): SchemaNode[] {
  if (s.hasDefault && typeof s.default === 'object' && s.default !== null) {
    const copy = structuredClone(s.default);
    const pruned: string[] = [];
    pruneValue(copy, s, s.embeddedResource, '', pruned);
    if (pruned.length > 0) {
      changed.push(s);
      s.default = copy;
    }
  }
  if (s.properties) for (const p of s.properties.values()) pruneDefaults(p, changed);
  if (s.items) pruneDefaults(s.items, changed);
  if (typeof s.additionalProperties === 'object') pruneDefaults(s.additionalProperties, changed);
  return changed;
}
