import { type SchemaNode, isObject } from './node.js';

/**
 * Pruning as upstream's structural pruning (k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning/algorithm.go)
 * plus the ObjectMeta coercion of objectmeta/coerce.go: fields the schema does not specify are removed, except
 * under `x-kubernetes-preserve-unknown-fields`; at the resource root and in `x-kubernetes-embedded-resource`
 * objects `apiVersion`, `kind` and `metadata` stay, and `metadata` keeps only ObjectMeta's fields.
 */

const META_FIELDS = new Set(['apiVersion', 'kind', 'metadata']);

/** The fields of metav1.ObjectMeta; anything else in `metadata` is dropped as upstream's decoding into ObjectMeta does. */
const OBJECT_META_FIELDS = new Set([
  'name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp',
  'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers',
  'managedFields',
]);

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** Prunes `x` in place against `s`; the removed fields' paths (`spec.foo`, `spec.items[0].bar`) go to `out`. */
export function pruneValue(x: unknown, s: SchemaNode | undefined, isResourceRoot: boolean, path: string, out: string[] | undefined): void {
  if (s?.preserveUnknownFields) {
    skipPrune(x, s, isResourceRoot, path, out);
    return;
  }
  if (Array.isArray(x)) {
    for (let i = 0; i < x.length; i++) pruneValue(x[i], s?.items, s?.items?.embeddedResource ?? false, `${path}[${i}]`, out);
    return;
  }
  if (!isObject(x)) return;
  if (!s) {
    for (const k of Object.keys(x)) {
      out?.push(join(path, k));
      delete x[k];
    }
    return;
  }
  for (const k of Object.keys(x)) {
    if (isResourceRoot && META_FIELDS.has(k)) {
      if (k === 'metadata') coerceObjectMeta(x[k], join(path, k), out);
      continue;
    }
    const prop = s.properties?.get(k);
    if (prop) {
      pruneValue(x[k], prop, prop.embeddedResource, join(path, k), out);
    } else if (s.additionalProperties !== undefined) {
      // `additionalProperties: true|false` keeps the key but prunes its value as unspecified (upstream: a nil schema).
      const ap = typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined;
      pruneValue(x[k], ap, ap?.embeddedResource ?? false, join(path, k), out);
    } else {
      out?.push(join(path, k));
      delete x[k];
    }
  }
}

/** Under x-kubernetes-preserve-unknown-fields: unknown fields stay, the specified ones are still pruned below. */
function skipPrune(x: unknown, s: SchemaNode, isResourceRoot: boolean, path: string, out: string[] | undefined): void {
  if (Array.isArray(x)) {
    // Items of a preserved array are preserved too (upstream's skipPrune recurses with skipPrune).
    if (s.items) for (let i = 0; i < x.length; i++) skipPrune(x[i], s.items, s.items.embeddedResource, `${path}[${i}]`, out);
    return;
  }
  if (!isObject(x)) return;
  for (const k of Object.keys(x)) {
    if (isResourceRoot && META_FIELDS.has(k)) {
      if (k === 'metadata') coerceObjectMeta(x[k], join(path, k), out);
      continue;
    }
    const prop = s.properties?.get(k);
    if (prop) pruneValue(x[k], prop, prop.embeddedResource, join(path, k), out);
    else if (s.additionalProperties !== undefined) {
      const ap = typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined;
      pruneValue(x[k], ap, ap?.embeddedResource ?? false, join(path, k), out);
    }
  }
}

function coerceObjectMeta(meta: unknown, path: string, out: string[] | undefined): void {
  if (!isObject(meta)) return;
  for (const k of Object.keys(meta)) {
    if (!OBJECT_META_FIELDS.has(k)) {
      out?.push(join(path, k));
      delete meta[k];
    }
  }
}
