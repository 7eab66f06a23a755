/**
 * The compiled form of an `openAPIV3Schema`: one `SchemaNode` per schema object, with the keywords read once
 * (regular expressions built, required lists as sets) so that pruning, defaulting and validation of every custom
 * object write walk plain fields. The structure follows upstream's structural schema
 * (k8s.io/apiextensions-apiserver/pkg/apiserver/schema/structural.go): `properties`, `items`, `additionalProperties`
 * describe the shape; `allOf`/`anyOf`/`oneOf`/`not` only validate values.
 */

import { type Matcher, compileRE2 } from './regex.js';

export type JSONSchemaProps = Record<string, unknown>;

export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?: string;
  fieldPath?: string;
  optionalOldSelf?: boolean;
}

export interface SchemaNode {
  readonly raw: JSONSchemaProps;
  type: string;
  /** kube-openapi's type list: `x-kubernetes-int-or-string` validates as `integer,string`. */
  types: string[];
  format: string;
  nullable: boolean;
  properties: Map<string, SchemaNode> | undefined;
  /** A schema, `true` (any value, not pruned) or `false` (no other field). */
  additionalProperties: SchemaNode | boolean | undefined;
  items: SchemaNode | undefined;
  required: string[];
  enum: unknown[] | undefined;
  pattern: Matcher | undefined;
  patternSource: string | undefined;
  /** Why `pattern` does not compile (CRD validation refuses such a schema; validation then reports it per value). */
  patternError: string | undefined;
  maximum: number | undefined;
  exclusiveMaximum: boolean;
  minimum: number | undefined;
  exclusiveMinimum: boolean;
  multipleOf: number | undefined;
  maxLength: number | undefined;
  minLength: number | undefined;
  maxItems: number | undefined;
  minItems: number | undefined;
  uniqueItems: boolean;
  maxProperties: number | undefined;
  minProperties: number | undefined;
  allOf: SchemaNode[];
  anyOf: SchemaNode[];
  oneOf: SchemaNode[];
  not: SchemaNode | undefined;
  hasDefault: boolean;
  default: unknown;
  preserveUnknownFields: boolean;
  embeddedResource: boolean;
  intOrString: boolean;
  listType: string | undefined;
  listMapKeys: string[];
  mapType: string | undefined;
  validations: ValidationRule[];
  /** Set by the CEL compiler: this node or one below it carries x-kubernetes-validations. */
  hasRulesBelow: boolean;
  /** The compiled rules of this node (filled by compileSchema). */
  compiledRules: unknown[] | undefined;
  /** Rules of this node that do not compile (a schema stored before they were checked): reported per object. */
  ruleCompileErrors: string[];
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads a schema object into its node (and its children's). Unknown or malformed keywords read as absent. */
export function buildNode(raw: JSONSchemaProps): SchemaNode {
  const type = typeof raw.type === 'string' ? raw.type : '';
  const intOrString = raw['x-kubernetes-int-or-string'] === true;
  let pattern: Matcher | undefined;
  let patternError: string | undefined;
  if (typeof raw.pattern === 'string' && raw.pattern !== '') {
    try { pattern = compileRE2(raw.pattern); } catch (err) { patternError = (err as Error).message.replace(/^error parsing regexp: /, ''); }
  }
  let properties: Map<string, SchemaNode> | undefined;
  if (isObject(raw.properties)) {
    properties = new Map();
    for (const [k, v] of Object.entries(raw.properties)) if (isObject(v)) properties.set(k, buildNode(v));
  }
  let additionalProperties: SchemaNode | boolean | undefined;
  if (typeof raw.additionalProperties === 'boolean') additionalProperties = raw.additionalProperties;
  else if (isObject(raw.additionalProperties)) additionalProperties = buildNode(raw.additionalProperties);
  const list = (v: unknown): SchemaNode[] => Array.isArray(v) ? v.filter(isObject).map(buildNode) : [];
  const validations: ValidationRule[] = Array.isArray(raw['x-kubernetes-validations'])
    ? (raw['x-kubernetes-validations'] as unknown[]).filter(isObject).map((r) => ({
      rule: typeof r.rule === 'string' ? r.rule : '',
      ...(typeof r.message === 'string' ? { message: r.message } : {}),
      ...(typeof r.messageExpression === 'string' ? { messageExpression: r.messageExpression } : {}),
      ...(typeof r.reason === 'string' ? { reason: r.reason } : {}),
      ...(typeof r.fieldPath === 'string' ? { fieldPath: r.fieldPath } : {}),
      ...(typeof r.optionalOldSelf === 'boolean' ? { optionalOldSelf: r.optionalOldSelf } : {}),
    }))
    : [];
  return {
    raw,
    type,
    types: intOrString ? ['integer', 'string'] : type ? [type] : [],
    format: typeof raw.format === 'string' ? raw.format : '',
    nullable: raw.nullable === true,
    properties,
    additionalProperties,
    items: isObject(raw.items) ? buildNode(raw.items) : undefined,
    required: Array.isArray(raw.required) ? raw.required.filter((r): r is string => typeof r === 'string') : [],
    enum: Array.isArray(raw.enum) ? raw.enum : undefined,
    pattern,
    patternError,
    patternSource: typeof raw.pattern === 'string' && raw.pattern !== '' ? raw.pattern : undefined,
    maximum: num(raw.maximum),
    exclusiveMaximum: raw.exclusiveMaximum === true,
    minimum: num(raw.minimum),
    exclusiveMinimum: raw.exclusiveMinimum === true,
    multipleOf: num(raw.multipleOf),
    maxLength: num(raw.maxLength),
    minLength: num(raw.minLength),
    maxItems: num(raw.maxItems),
    minItems: num(raw.minItems),
    uniqueItems: raw.uniqueItems === true,
    maxProperties: num(raw.maxProperties),
    minProperties: num(raw.minProperties),
    allOf: list(raw.allOf),
    anyOf: list(raw.anyOf),
    oneOf: list(raw.oneOf),
    not: isObject(raw.not) ? buildNode(raw.not) : undefined,
    hasDefault: 'default' in raw && raw.default !== undefined,
    default: raw.default,
    preserveUnknownFields: raw['x-kubernetes-preserve-unknown-fields'] === true,
    embeddedResource: raw['x-kubernetes-embedded-resource'] === true,
    intOrString,
    listType: typeof raw['x-kubernetes-list-type'] === 'string' ? raw['x-kubernetes-list-type'] : undefined,
    listMapKeys: Array.isArray(raw['x-kubernetes-list-map-keys'])
      ? (raw['x-kubernetes-list-map-keys'] as unknown[]).filter((k): k is string => typeof k === 'string') : [],
    mapType: typeof raw['x-kubernetes-map-type'] === 'string' ? raw['x-kubernetes-map-type'] : undefined,
    validations,
    hasRulesBelow: false,
    compiledRules: undefined,
    ruleCompileErrors: [],
  };
}

/** The schema of a field of an object node: its property, else its additionalProperties schema. */
export function fieldSchema(n: SchemaNode, key: string): SchemaNode | undefined {
  const p = n.properties?.get(key);
  if (p) return p;
  return typeof n.additionalProperties === 'object' ? n.additionalProperties : undefined;
}

export { isObject };
