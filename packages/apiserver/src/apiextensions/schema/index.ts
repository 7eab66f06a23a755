import type { FieldError } from '@k8ts/api';
import { type JSONSchemaProps, type SchemaNode, buildNode, isObject } from './node.js';
import { pruneValue } from './prune.js';
import { defaultValue, pruneDefaults, pruneNulls } from './defaults.js';
import { NO_OLD, validateListsAndEmbedded, validateSchema } from './validate.js';
import { celValidate, markRules } from './rules.js';

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

const BLOCKING = new Set<FieldError['type']>(['FieldValueNotSupported', 'FieldValueRequired', 'FieldValueTooLong', 'FieldValueTooMany', 'FieldValueTypeInvalid']);
const NOT_CHECKED = 'some validation rules were not checked because the object was invalid; correct the existing errors to complete validation';

/**
 * Validates a custom object: kube-openapi's checks with upstream's messages, then list-type uniqueness and
 * embedded resources, then the x-kubernetes-validations rules (skipped, with upstream's note, when a value has
 * the wrong type, is missing, not in its enum or too long/many). `old` (on update) enables transition rules (`oldSelf`) where old and new correlate.
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
    // upstream's hasBlockingErr: a wrong type, a missing field, an enum or size violation means the object does not
    // have the shape the rules were written for.
    if (errs.some((e) => BLOCKING.has(e.type))) {
      errs.push({ field: '<nil>', type: 'FieldValueInvalid', value: 'null', message: NOT_CHECKED });
    } else {
      celValidate(c.root, obj, old, '', errs);
    }
  }
  return errs;
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
