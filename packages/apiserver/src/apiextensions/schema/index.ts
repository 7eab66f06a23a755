import type { FieldError } from '@k8ts/api';
import { type JSONSchemaProps, type SchemaNode, buildNode, isObject } from './node.js';
import { pruneValue } from './prune.js';
import { defaultValue, pruneDefaults, pruneNulls } from './defaults.js';
import { NO_OLD, validateListsAndEmbedded, validateSchema } from './validate.js';
import { isDeepStrictEqual } from 'node:util';
import { type CompiledRule, compileRules, evalRule, toCel } from './cel.js';

/**
 * Structural schemas of CustomResourceDefinitions (upstream's k8s.io/apiextensions-apiserver/pkg/apiserver/schema):
 * CRD-time checks, and per custom object write pruning, defaulting, validation (OpenAPI keywords, list types,
 * embedded resources, CEL rules) and the OpenAPI schema to publish. Pure: no storage, no HTTP.
 */

export type { JSONSchemaProps } from './node.js';
export { validateStructuralSchema } from './structural.js';

/** A schema compiled for repeated use: the node tree, defaults pruned, CEL rules planned once. */
export interface CompiledSchema { readonly schema: JSONSchemaProps }

interface Compiled extends CompiledSchema {
  readonly root: SchemaNode;
  readonly hasRules: boolean;
}

function markRules(n: SchemaNode, isResourceRoot: boolean): boolean {
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

/** Compiles a schema that validateStructuralSchema accepted (rules that fail to compile are left out, never thrown). */
export function compileSchema(schema: JSONSchemaProps): CompiledSchema {
  const root = buildNode(isObject(schema) ? schema : {});
  pruneDefaults(root);
  const hasRules = markRules(root, true);
  const c: Compiled = { schema, root, hasRules };
  return c;
}

function inner(s: CompiledSchema): Compiled {
  return s as Compiled;
}

/**
 * Removes the fields the schema does not specify, in place (see prune.ts), and returns their paths as upstream's
 * strict field validation names them (`spec.foo`, `spec.items[0].bar`, `metadata.foo`), in document order.
 */
export function prune(s: CompiledSchema, obj: unknown): string[] {
  const out: string[] = [];
  pruneValue(obj, inner(s).root, true, '', out);
  return out;
}

/**
 * Applies the schema's defaults in place, as upstream's structural defaulting (see defaults.ts), after removing
 * the `null`s of fields that are neither nullable nor defaulted (as upstream does right before defaulting).
 */
export function applyDefaults(s: CompiledSchema, obj: unknown): void {
  pruneNulls(obj, inner(s).root);
  defaultValue(obj, inner(s).root);
}

const NOT_CHECKED = 'some validation rules were not checked because the object was invalid; correct the existing errors to complete validation';

/**
 * Validates a custom object: kube-openapi's checks with upstream's messages, then list-type uniqueness and
 * embedded resources, then the x-kubernetes-validations rules (skipped, with upstream's note, when a value has
 * the wrong type). `old` (on update) enables transition rules (`oldSelf`) where old and new correlate.
 */
export function validateObject(s: CompiledSchema, obj: unknown, old?: unknown): FieldError[] {
  const c = inner(s);
  const errs = validateSchema(obj, c.root, old === undefined ? NO_OLD : old);
  validateListsAndEmbedded(obj, c.root, '', errs, 'embedded');
  // List-type invariants ratchet as a whole: on update upstream checks them only if the old object satisfied them.
  const oldListErrs: FieldError[] = [];
  if (old !== undefined) validateListsAndEmbedded(old, c.root, '', oldListErrs, 'lists');
  if (oldListErrs.length === 0) validateListsAndEmbedded(obj, c.root, '', errs, 'lists');
  if (c.hasRules) {
    if (errs.some((e) => e.type === 'FieldValueTypeInvalid')) {
      errs.push({ field: '<nil>', type: 'FieldValueInvalid', value: 'null', message: NOT_CHECKED });
    } else {
      celValidate(c.root, obj, old, '', errs);
    }
  }
  return errs;
}

function childField(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** upstream's cel/validation.go walk: rules at each node, old values correlated through objects and map-lists. */
function celValidate(n: SchemaNode, x: unknown, old: unknown, path: string, errs: FieldError[]): void {
  if (!n.hasRulesBelow || x === null || x === undefined) return;
  for (const e of n.ruleCompileErrors) errs.push({ field: path || '<nil>', type: 'FieldValueInvalid', value: n.type, message: `rule compile error: ${e}` });
  if (n.compiledRules && n.compiledRules.length > 0) runRules(n, x, old, path, errs);
  if (Array.isArray(x)) {
    if (!n.items) return;
    const oldByKey = n.listType === 'map' && Array.isArray(old) ? indexByKeys(old, n.listMapKeys) : undefined;
    x.forEach((e, i) => {
      const oldE = oldByKey && isObject(e) ? oldByKey.get(mapKey(e, n.listMapKeys)) : undefined;
      celValidate(n.items!, e, oldE, `${path}[${i}]`, errs);
    });
    return;
  }
  if (!isObject(x)) return;
  const oldObj = isObject(old) && n.mapType !== 'atomic' ? old : undefined;
  for (const [k, v] of Object.entries(x)) {
    const p = n.properties?.get(k);
    if (p) celValidate(p, v, oldObj?.[k], childField(path, k), errs);
    else if (typeof n.additionalProperties === 'object') celValidate(n.additionalProperties, v, oldObj?.[k], `${path}[${k}]`, errs);
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

function runRules(n: SchemaNode, x: unknown, old: unknown, path: string, errs: FieldError[]): void {
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
    if (!r.usesOldSelf && 'ok' in out) {
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

const OBJECT_META_REF = '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';
const METADATA = {
  description: "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
  allOf: [{ $ref: OBJECT_META_REF }],
};

/** upstream's addEmbeddedProperties: embedded resources are published with apiVersion, kind (required) and ObjectMeta. */
function addEmbeddedProperties(s: JSONSchemaProps): void {
  if (isObject(s.properties)) for (const v of Object.values(s.properties)) if (isObject(v)) addEmbeddedProperties(v);
  if (isObject(s.items)) addEmbeddedProperties(s.items);
  if (isObject(s.additionalProperties)) addEmbeddedProperties(s.additionalProperties);
  if (s['x-kubernetes-embedded-resource'] !== true) return;
  s.properties = {
    ...(isObject(s.properties) ? s.properties : {}),
    apiVersion: { description: 'apiVersion defines the versioned schema of this representation of an object. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources', type: 'string' },
    kind: { description: 'kind is a string value representing the type of this object. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds', type: 'string' },
    metadata: structuredClone(METADATA),
  };
  const required = Array.isArray(s.required) ? [...(s.required as unknown[])] : [];
  for (const k of ['kind', 'apiVersion']) if (!required.includes(k)) required.push(k);
  s.required = required;
}

/**
 * The OpenAPI v3 schema published for a version's kind, as upstream's controller/openapi/builder: the CRD's
 * schema with `metadata` a reference to ObjectMeta, `apiVersion` and `kind` described, and
 * `x-kubernetes-group-version-kind`.
 */
export function publishedSchema(s: CompiledSchema, gvk: { group: string; version: string; kind: string }): JSONSchemaProps {
  const out = structuredClone(isObject(s.schema) ? s.schema : {}) as JSONSchemaProps;
  addEmbeddedProperties(out);
  const properties = isObject(out.properties) ? out.properties : {};
  out.properties = {
    ...properties,
    apiVersion: {
      description: 'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources',
      type: 'string',
    },
    kind: {
      description: 'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds',
      type: 'string',
    },
    metadata: structuredClone(METADATA),
  };
  if (out.type === undefined) out.type = 'object';
  out['x-kubernetes-group-version-kind'] = [{ group: gvk.group, kind: gvk.kind, version: gvk.version }];
  return out;
}
