import type { FieldError } from '@k8ts/api';
import { type JSONSchemaProps, type SchemaNode, buildNode, isObject } from './node.js';
import { checkRE2 } from './regex.js';
import { pruneValue } from './prune.js';
import { validateListsAndEmbedded, validateSchema } from './validate.js';
import { compileRules, unboundedCardinality } from './cel.js';
import { celValidate, markRules } from './rules.js';

/**
 * CRD-time checks of an `openAPIV3Schema`, as upstream's apiextensions validation
 * (pkg/apis/apiextensions/validation/validation.go validateCustomResourceDefinitionValidation and
 * ValidateCustomResourceDefinitionOpenAPISchema, pkg/apiserver/schema/validation.go ValidateStructural with its
 * completeness check, pkg/apiserver/schema/defaulting/validation.go ValidateDefaults): the schema is structural,
 * uses only the keywords CRDs allow, its defaults validate and are pruned, its CEL rules compile.
 */

const OPENAPI_V3_TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string'];
const META_FIELDS = new Set(['metadata', 'kind', 'apiVersion']);
const SUPPORTED_REASONS = ['FieldValueDuplicate', 'FieldValueForbidden', 'FieldValueInvalid', 'FieldValueRequired'];

const req = (field: string, message: string): FieldError => ({ field, type: 'FieldValueRequired', message });
const inv = (field: string, value: unknown, message: string): FieldError => ({ field, type: 'FieldValueInvalid', value, message });
const forb = (field: string, message: string): FieldError => ({ field, type: 'FieldValueForbidden', message });
const unsup = (field: string, value: unknown, supported: string[]): FieldError => ({
  field, type: 'FieldValueNotSupported', value, message: `supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`,
});

function key(p: string, k: string): string {
  return `${p}.properties[${k}]`;
}

type Level = 'root' | 'item' | 'field';

function str(s: JSONSchemaProps, k: string): string {
  return typeof s[k] === 'string' ? s[k] : '';
}

function sub(s: JSONSchemaProps, k: string): JSONSchemaProps | undefined {
  return isObject(s[k]) ? s[k] : undefined;
}

function props(s: JSONSchemaProps): [string, JSONSchemaProps][] {
  return isObject(s.properties) ? Object.entries(s.properties).filter((e): e is [string, JSONSchemaProps] => isObject(e[1])) : [];
}

function list(s: JSONSchemaProps, k: string): JSONSchemaProps[] {
  return Array.isArray(s[k]) ? (s[k] as unknown[]).map((x) => (isObject(x) ? x : {})) : [];
}

function isIntOrStringAnyOf(s: JSONSchemaProps | undefined): boolean {
  const a = s ? list(s, 'anyOf') : [];
  return a.length === 2 && isDeepTypeOnly(a[0], 'integer') && isDeepTypeOnly(a[1], 'string');
}

function isDeepTypeOnly(s: JSONSchemaProps, type: string): boolean {
  const keys = Object.keys(s);
  return keys.length === 1 && s.type === type;
}

// ---- structural invariants (schema/validation.go) ----

function invariants(s: JSONSchemaProps, lvl: Level, p: string, errs: FieldError[]): void {
  const type = str(s, 'type');
  const items = sub(s, 'items');
  if (type === 'array' && !items) errs.push(req(`${p}.items`, 'must be specified'));
  if (items) invariants(items, 'item', `${p}.items`, errs);
  for (const [k, v] of props(s)) invariants(v, 'field', key(p, k), errs);
  if (s.additionalProperties !== undefined && s.additionalProperties !== null) {
    if (lvl === 'root') errs.push(forb(`${p}.additionalProperties`, 'must not be used at the root'));
    const ap = sub(s, 'additionalProperties');
    if (ap) invariants(ap, 'field', `${p}.additionalProperties`, errs);
  }
  const intOrString = s['x-kubernetes-int-or-string'] === true;
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  const embedded = s['x-kubernetes-embedded-resource'] === true;
  if (intOrString && preserve) errs.push(inv(`${p}.x-kubernetes-preserve-unknown-fields`, true, 'must be false if x-kubernetes-int-or-string is true'));
  if (intOrString && embedded) errs.push(inv(`${p}.x-kubernetes-embedded-resource`, true, 'must be false if x-kubernetes-int-or-string is true'));

  const skipAnyOf = isIntOrStringAnyOf(s);
  const allOf = list(s, 'allOf');
  const skipFirstAllOfAnyOf = allOf.length >= 1 && isIntOrStringAnyOf(allOf[0]);
  valueValidation(s, skipAnyOf, skipFirstAllOfAnyOf, lvl, p, errs);

  const checkMetadata = lvl === 'root' || embedded;
  if (embedded && type !== 'object') {
    if (type === '') errs.push(req(`${p}.type`, 'must be object if x-kubernetes-embedded-resource is true'));
    else errs.push(inv(`${p}.type`, type, 'must be object if x-kubernetes-embedded-resource is true'));
  } else if (type === '' && !intOrString && !preserve) {
    const why = lvl === 'root' ? 'must not be empty at the root' : lvl === 'item' ? 'must not be empty for specified array items' : 'must not be empty for specified object fields';
    errs.push(req(`${p}.type`, why));
  }
  if (embedded && s.additionalProperties !== undefined) errs.push(forb(`${p}.additionalProperties`, 'must not be used if x-kubernetes-embedded-resource is set'));
  if (lvl === 'root' && type !== '' && type !== 'object') errs.push(inv(`${p}.type`, type, 'must be object at the root'));

  const properties = isObject(s.properties) ? s.properties : {};
  for (const f of ['kind', 'apiVersion']) {
    if (checkMetadata && isObject(properties[f]) && str(properties[f], 'type') !== 'string') {
      errs.push(inv(`${key(p, f)}.type`, str(properties[f], 'type'), 'must be string'));
    }
  }
  if (isObject(properties.metadata)) {
    const m = properties.metadata;
    const mp = key(p, 'metadata');
    if (checkMetadata && str(m, 'type') !== 'object') errs.push(inv(`${mp}.type`, str(m, 'type'), 'must be object'));
    if (lvl === 'root') {
      // Only type, default (checked elsewhere) and properties name/generateName may be given.
      const names = Object.keys(isObject(m.properties) ? m.properties : {});
      const onlyNames = names.every((n) => n === 'name' || n === 'generateName');
      const others = Object.keys(m).filter((k) => k !== 'type' && k !== 'default' && !(k === 'properties' && onlyNames));
      if (others.length > 0) errs.push(forb(mp, 'must not specify anything other than name and generateName, but metadata is implicitly specified'));
    }
  }
  if (embedded && !preserve && props(s).length === 0) {
    errs.push(req(`${p}.properties`, 'must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields'));
  }
}

function valueValidation(s: JSONSchemaProps, skipAnyOf: boolean, skipFirstAllOfAnyOf: boolean, lvl: Level, p: string, errs: FieldError[], allowXValidations = false): void {
  if (!skipAnyOf) list(s, 'anyOf').forEach((v, i) => nested(v, false, lvl, `${p}.anyOf[${i}]`, errs, false));
  list(s, 'allOf').forEach((v, i) => nested(v, skipFirstAllOfAnyOf && i === 0, lvl, `${p}.allOf[${i}]`, errs, allowXValidations));
  list(s, 'oneOf').forEach((v, i) => nested(v, false, lvl, `${p}.oneOf[${i}]`, errs, false));
  const not = sub(s, 'not');
  if (not) nested(not, false, lvl, `${p}.not`, errs, false);
  if (typeof s.pattern === 'string' && s.pattern !== '') {
    try { checkRE2(s.pattern); } catch (err) {
      errs.push(inv(`${p}.pattern`, s.pattern, `must be a valid regular expression, but isn't: ${(err as Error).message}`));
    }
  }
}

function nested(v: JSONSchemaProps, skipAnyOf: boolean, lvl: Level, p: string, errs: FieldError[], allowXValidations: boolean): void {
  valueValidation(v, skipAnyOf, false, lvl, p, errs, allowXValidations);
  const items = sub(v, 'items');
  if (items) nested(items, false, lvl, `${p}.items`, errs, allowXValidations);
  for (const [k, f] of props(v)) nested(f, false, 'field', key(p, k), errs, allowXValidations);
  if (str(v, 'type') !== '') errs.push(forb(`${p}.type`, 'must be empty to be structural'));
  if (v.additionalProperties !== undefined) errs.push(forb(`${p}.additionalProperties`, 'must be undefined to be structural'));
  if (v.default !== undefined) errs.push(forb(`${p}.default`, 'must be undefined to be structural'));
  if (str(v, 'title') !== '') errs.push(forb(`${p}.title`, 'must be empty to be structural'));
  if (str(v, 'description') !== '') errs.push(forb(`${p}.description`, 'must be empty to be structural'));
  if (v.nullable === true) errs.push(forb(`${p}.nullable`, 'must be false to be structural'));
  if (v.externalDocs !== undefined) errs.push(forb(`${p}.externalDocs`, 'must be undefined to be structural'));
  for (const x of ['x-kubernetes-preserve-unknown-fields', 'x-kubernetes-embedded-resource', 'x-kubernetes-int-or-string']) {
    if (v[x] === true) errs.push(forb(`${p}.${x}`, 'must be false to be structural'));
  }
  if (Array.isArray(v['x-kubernetes-list-map-keys']) && v['x-kubernetes-list-map-keys'].length > 0) {
    errs.push(forb(`${p}.x-kubernetes-list-map-keys`, 'must be empty to be structural'));
  }
  if (v['x-kubernetes-list-type'] !== undefined) errs.push(forb(`${p}.x-kubernetes-list-type`, 'must be undefined to be structural'));
  if (v['x-kubernetes-map-type'] !== undefined) errs.push(forb(`${p}.x-kubernetes-map-type`, 'must be undefined to be structural'));
  if (Array.isArray(v['x-kubernetes-validations']) && v['x-kubernetes-validations'].length > 0 && !allowXValidations) {
    errs.push(forb(`${p}.x-kubernetes-validations`, 'must be empty to be structural'));
  }
  if (isObject(v.properties) && 'metadata' in v.properties) errs.push(forb(key(p, 'metadata'), 'must not be specified in a nested context'));
}

// ---- completeness: everything a junctor mentions is specified outside of it ----

function completeness(s: JSONSchemaProps, p: string, errs: FieldError[]): void {
  valueCompleteness(s, s, p, p, errs);
  const items = sub(s, 'items');
  if (items) completeness(items, `${p}.items`, errs);
  for (const [k, v] of props(s)) completeness(v, key(p, k), errs);
  const ap = sub(s, 'additionalProperties');
  if (ap) completeness(ap, `${p}.additionalProperties`, errs);
}

function valueCompleteness(v: JSONSchemaProps, s: JSONSchemaProps, sPath: string, vPath: string, errs: FieldError[]): void {
  const not = sub(v, 'not');
  if (not) nestedCompleteness(not, s, sPath, `${vPath}.not`, errs);
  for (const j of ['allOf', 'anyOf', 'oneOf']) list(v, j).forEach((n, i) => nestedCompleteness(n, s, sPath, `${vPath}.${j}[${i}]`, errs));
}

function nestedCompleteness(v: JSONSchemaProps, s: JSONSchemaProps | undefined, sPath: string, vPath: string, errs: FieldError[]): void {
  const sc = s ?? {};
  valueCompleteness(v, sc, sPath, vPath, errs);
  const vItems = sub(v, 'items');
  const sItems = sub(sc, 'items');
  if (vItems && !sItems) errs.push(req(`${sPath}.items`, `because it is defined in ${vPath}.items`));
  else if (vItems) nestedCompleteness(vItems, sItems, `${sPath}.items`, `${vPath}.items`, errs);
  const sProps = isObject(sc.properties) ? sc.properties : {};
  for (const [k, f] of props(v)) {
    if (!isObject(sProps[k])) errs.push(req(key(sPath, k), `because it is defined in ${key(vPath, k)}`));
    else nestedCompleteness(f, sProps[k], key(sPath, k), key(vPath, k), errs);
  }
}

// ---- the OpenAPI schema checks of apiextensions validation ----

interface Ssv {
  allowDefaults: boolean;
  disallowDefaultsReason: string;
  insideResourceMeta: boolean;
  uncorrelatablePath: string | undefined;
  /** How many times a rule here can run per object: the product of the enclosing lists' and maps' sizes. */
  cardinality: number;
}

function standard(s: JSONSchemaProps, p: string, ssv: Ssv, errs: FieldError[]): void {
  const type = str(s, 'type');
  if (type !== '' && !OPENAPI_V3_TYPES.includes(type)) errs.push(unsup(`${p}.type`, type, OPENAPI_V3_TYPES));
  if (s.default !== undefined && !ssv.allowDefaults) {
    errs.push(forb(`${p}.default`, `must not be set${ssv.disallowDefaultsReason ? ` ${ssv.disallowDefaultsReason}` : ''}`));
  }
  if (str(s, 'id') !== '') errs.push(forb(`${p}.id`, 'id is not supported'));
  if (s.additionalItems !== undefined) errs.push(forb(`${p}.additionalItems`, 'additionalItems is not supported'));
  if (isObject(s.patternProperties) && Object.keys(s.patternProperties).length > 0) errs.push(forb(`${p}.patternProperties`, 'patternProperties is not supported'));
  if (isObject(s.definitions) && Object.keys(s.definitions).length > 0) errs.push(forb(`${p}.definitions`, 'definitions is not supported'));
  if (s.dependencies !== undefined) errs.push(forb(`${p}.dependencies`, 'dependencies is not supported'));
  if (s.$ref !== undefined) errs.push(forb(`${p}.$ref`, '$ref is not supported'));
  if (type === 'null') errs.push(forb(`${p}.type`, 'type cannot be set to null, use nullable as an alternative'));
  if (Array.isArray(s.items)) errs.push(forb(`${p}.items`, 'items must be a schema object and not an array'));
  if (ssv.insideResourceMeta && s['x-kubernetes-embedded-resource'] === true) {
    errs.push(forb(`${p}.x-kubernetes-embedded-resource`, 'must not be used inside of resource meta'));
  }
}

function openAPISchema(s: JSONSchemaProps, p: string, ssv: Ssv, isRoot: boolean, errs: FieldError[], celErrs: FieldError[], celOk: { ok: boolean }): void {
  const before = errs.length;
  standard(s, p, ssv, errs);
  if (s.uniqueItems === true) errs.push(forb(`${p}.uniqueItems`, 'uniqueItems cannot be set to true since the runtime complexity becomes quadratic'));
  const properties = props(s);
  if (s.additionalProperties !== undefined) {
    if (properties.length > 0 && (s.additionalProperties === false || isObject(s.additionalProperties))) {
      errs.push(forb(`${p}.additionalProperties`, 'additionalProperties and properties are mutual exclusive'));
    }
    const ap = sub(s, 'additionalProperties');
    if (ap) {
      const card = typeof s.maxProperties === 'number' ? s.maxProperties : unboundedCardinality(buildNode(ap), 3);
      const subSsv = { ...ssv, cardinality: ssv.cardinality * card, ...(ssv.insideResourceMeta ? { allowDefaults: false, disallowDefaultsReason: 'inside additionalProperties applying to object metadata' } : {}) };
      openAPISchema(ap, `${p}.additionalProperties`, subSsv, false, errs, celErrs, celOk);
    }
  }
  const embedded = s['x-kubernetes-embedded-resource'] === true;
  const mapType = str(s, 'x-kubernetes-map-type');
  for (const [k, v] of properties) {
    let subSsv = ssv;
    // upstream's MapIsCorrelatable: only granular (the default) maps correlate old and new fields.
    if (mapType === 'atomic' && !subSsv.uncorrelatablePath) subSsv = { ...subSsv, uncorrelatablePath: p };
    if ((isRoot || embedded) && META_FIELDS.has(k)) {
      subSsv = { ...subSsv, insideResourceMeta: true };
      if (isRoot) subSsv = { ...subSsv, allowDefaults: false, disallowDefaultsReason: `in top-level ${k}` };
    }
    openAPISchema(v, key(p, k), subSsv, false, errs, celErrs, celOk);
  }
  const not = sub(s, 'not');
  if (not) openAPISchema(not, `${p}.not`, ssv, false, errs, celErrs, { ok: false });
  for (const j of ['allOf', 'oneOf', 'anyOf']) list(s, j).forEach((v, i) => openAPISchema(v, `${p}.${j}[${i}]`, ssv, false, errs, celErrs, { ok: false }));
  const listType = s['x-kubernetes-list-type'];
  const items = sub(s, 'items');
  if (items) {
    let subSsv = { ...ssv, cardinality: ssv.cardinality * (typeof s.maxItems === 'number' ? s.maxItems : unboundedCardinality(buildNode(items))) };
    if (listType !== 'map' && !subSsv.uncorrelatablePath) subSsv = { ...subSsv, uncorrelatablePath: p };
    openAPISchema(items, `${p}.items`, subSsv, false, errs, celErrs, celOk);
  }
  if (s['x-kubernetes-preserve-unknown-fields'] === false) errs.push(inv(`${p}.x-kubernetes-preserve-unknown-fields`, false, 'must be true or undefined'));
  const type = str(s, 'type');
  if (s['x-kubernetes-map-type'] !== undefined) {
    if (type !== 'object') {
      if (type === '') errs.push(req(`${p}.type`, 'must be object if x-kubernetes-map-type is specified'));
      else errs.push(inv(`${p}.type`, type, 'must be object if x-kubernetes-map-type is specified'));
    }
    if (mapType !== 'atomic' && mapType !== 'granular') errs.push(unsup(`${p}.x-kubernetes-map-type`, s['x-kubernetes-map-type'], ['atomic', 'granular']));
  }
  if (listType !== undefined && type !== 'array') {
    if (type === '') errs.push(req(`${p}.type`, 'must be array if x-kubernetes-list-type is specified'));
    else errs.push(inv(`${p}.type`, type, 'must be array if x-kubernetes-list-type is specified'));
  } else if (listType === 'set' && items) {
    const it = str(items, 'type');
    if (it === 'array' && items['x-kubernetes-list-type'] !== undefined && items['x-kubernetes-list-type'] !== 'atomic') {
      errs.push(inv(`${p}.items.x-kubernetes-list-type`, items['x-kubernetes-list-type'], 'must be atomic as item of a list with x-kubernetes-list-type=set'));
    }
    if (it === 'object' && items['x-kubernetes-map-type'] !== 'atomic') {
      errs.push(inv(`${p}.items.x-kubernetes-map-type`, items['x-kubernetes-list-type'] ?? null, 'must be atomic as item of a list with x-kubernetes-list-type=set'));
    }
  }
  if (listType !== undefined && listType !== 'atomic' && listType !== 'set' && listType !== 'map') {
    errs.push(unsup(`${p}.x-kubernetes-list-type`, listType, ['atomic', 'set', 'map']));
  }
  const mapKeys = Array.isArray(s['x-kubernetes-list-map-keys']) ? (s['x-kubernetes-list-map-keys'] as unknown[]).map(String) : [];
  if (mapKeys.length > 0) {
    if (listType === undefined) errs.push(req(`${p}.x-kubernetes-list-type`, 'must be map if x-kubernetes-list-map-keys is non-empty'));
    else if (listType !== 'map') errs.push(inv(`${p}.x-kubernetes-list-type`, listType, 'must be map if x-kubernetes-list-map-keys is non-empty'));
  }
  if (listType === 'map') {
    if (mapKeys.length === 0) errs.push(req(`${p}.x-kubernetes-list-map-keys`, 'must not be empty if x-kubernetes-list-type is map'));
    if (s.items === undefined) errs.push(req(`${p}.items`, 'must have a schema if x-kubernetes-list-type is map'));
    if (items && str(items, 'type') !== 'object') errs.push(inv(`${p}.items.type`, str(items, 'type'), "must be object if parent array's x-kubernetes-list-type is map"));
    if (items && str(items, 'type') === 'object') {
      const seen = new Set<string>();
      const itemProps = isObject(items.properties) ? items.properties : {};
      for (const k of mapKeys) {
        const ks = itemProps[k];
        if (isObject(ks)) {
          if (ks.type === 'array' || ks.type === 'object') {
            errs.push(inv(`${key(`${p}.items`, k)}.type`, str(items, 'type'), "must be a scalar type if parent array's x-kubernetes-list-type is map"));
          }
        } else {
          errs.push(inv(`${p}.x-kubernetes-list-map-keys`, mapKeys, 'entries must all be names of item properties'));
        }
        if (seen.has(k)) errs.push(inv(`${p}.x-kubernetes-list-map-keys`, mapKeys, 'must not contain duplicate entries'));
        seen.add(k);
      }
    }
  }
  // validateMapListKeysMapSet (required for CRDs created now)
  if (items && (listType === 'set' || listType === 'map')) {
    if (items.nullable === true) errs.push(forb(`${p}.items.nullable`, `cannot be nullable when x-kubernetes-list-type is ${String(listType)}`));
    if (listType === 'map') {
      const required = new Set(Array.isArray(items.required) ? items.required.map(String) : []);
      const itemProps = isObject(items.properties) ? items.properties : {};
      for (const k of mapKeys) {
        const ks = itemProps[k];
        if (!isObject(ks)) continue;
        if (!required.has(k) && ks.default === undefined) {
          errs.push(req(`${key(`${p}.items`, k)}.default`, 'this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property'));
        }
        if (ks.nullable === true) errs.push(forb(`${key(`${p}.items`, k)}.nullable`, 'this property is in x-kubernetes-list-map-keys, so it cannot be nullable'));
      }
    }
  }
  const rules = Array.isArray(s['x-kubernetes-validations']) ? (s['x-kubernetes-validations'] as unknown[]) : [];
  if (rules.length > 0) {
    rules.forEach((raw, i) => {
      const r = isObject(raw) ? raw : {};
      const rp = `${p}.x-kubernetes-validations[${i}]`;
      const rule = typeof r.rule === 'string' ? r.rule : '';
      const message = typeof r.message === 'string' ? r.message : '';
      const trimmedRule = rule.trim();
      const trimmedMsg = message.trim();
      if (trimmedRule === '') errs.push(req(`${rp}.rule`, 'rule is not specified'));
      else if (message.length > 0 && trimmedMsg === '') errs.push(inv(`${rp}.message`, message, 'message must be non-empty if specified'));
      else if (/[\n\r]/.test(trimmedMsg)) errs.push(inv(`${rp}.message`, message, 'message must not contain line breaks'));
      else if (/[\n\r]/.test(trimmedRule) && trimmedMsg === '') errs.push(req(`${rp}.message`, 'message must be specified if rule contains line breaks'));
      if (typeof r.messageExpression === 'string' && r.messageExpression.length > 0 && r.messageExpression.trim() === '') {
        errs.push(req(`${rp}.messageExpression`, 'messageExpression must be non-empty if specified'));
      }
      if (r.reason !== undefined && !SUPPORTED_REASONS.includes(String(r.reason))) errs.push(unsup(`${rp}.reason`, r.reason, SUPPORTED_REASONS));
      const fieldPath = typeof r.fieldPath === 'string' ? r.fieldPath : '';
      if (fieldPath.length > 0 && fieldPath.trim() === '') errs.push(inv(`${rp}.fieldPath`, fieldPath, 'fieldPath must be non-empty if specified'));
      if (/[\n\r]/.test(fieldPath)) errs.push(inv(`${rp}.fieldPath`, fieldPath, 'fieldPath must not contain line breaks'));
      if (fieldPath.trim().length > 0 && !validFieldPath(s, fieldPath)) errs.push(inv(`${rp}.fieldPath`, fieldPath, 'fieldPath must be a valid path'));
    });
    // CEL compiles only once the schema itself is sound here and below (upstream's SchemaErrors gate).
    if (errs.length === before && celOk.ok) {
      const node = buildNode(s);
      const { rules: compiled, errors } = compileRules(node, isRoot || node.embeddedResource);
      for (const { index, error } of errors) {
        celErrs.push(inv(`${p}.x-kubernetes-validations[${index}].${error.field}`, rules[index], error.detail));
      }
      compiled.forEach((c) => {
        const index = node.validations.indexOf(c.spec);
        const cost = c.cost * ssv.cardinality;
        if (cost > STATIC_COST_LIMIT) celErrs.push(forb(`${p}.x-kubernetes-validations[${index}].rule`, costMessage('estimated rule cost', cost)));
        if (c.usesOldSelf && ssv.uncorrelatablePath !== undefined) {
          celErrs.push(inv(`${p}.x-kubernetes-validations[${index}].rule`, c.spec.rule, `oldSelf cannot be used on the uncorrelatable portion of the schema within ${ssv.uncorrelatablePath}`));
        } else if (!c.usesOldSelf && c.spec.optionalOldSelf !== undefined) {
          celErrs.push(inv(`${p}.x-kubernetes-validations[${index}].optionalOldSelf`, c.spec.optionalOldSelf, 'may not be set if oldSelf is not used in rule'));
        }
      });
    }
  }
}

/** upstream's ValidFieldPath: `.a.b`, `['a.b']`, `[0]`-free paths through properties and additionalProperties. */
export function validFieldPath(s: JSONSchemaProps, path: string): boolean {
  let cur: JSONSchemaProps | undefined = s;
  let i = 0;
  const t = path.trim();
  while (i < t.length) {
    let name: string;
    if (t[i] === '.') {
      const m = /^\.([A-Za-z_$][A-Za-z0-9_$-]*)/.exec(t.slice(i));
      if (!m) return false;
      name = m[1];
      i += m[0].length;
    } else if (t.startsWith("['", i)) {
      const end = t.indexOf("']", i + 2);
      if (end < 0) return false;
      name = t.slice(i + 2, end);
      i = end + 2;
    } else return false;
    if (!cur) return false;
    const ps: Record<string, unknown> = isObject(cur.properties) ? cur.properties : {};
    const next: unknown = isObject(ps[name]) ? ps[name] : cur.additionalProperties;
    if (isObject(next)) cur = next;
    else return false;
  }
  return true;
}

/** upstream's StaticEstimatedCostLimit for one rule. */
const STATIC_COST_LIMIT = 10_000_000;

function costMessage(what: string, cost: number): string {
  const factor = cost / STATIC_COST_LIMIT;
  const f = factor > 100 ? 'more than 100x' : factor < 1.5 ? `${factor.toFixed(6)}x` : `${factor.toFixed(1)}x`;
  return `${what} exceeds budget by factor of ${f} (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)`;
}

// ---- defaults (defaulting/validation.go) ----

function validateDefaults(s: SchemaNode, p: string, insideMeta: boolean, errs: FieldError[]): void {
  if (s.hasDefault && !insideMeta) {
    const dp = `${p}.default`;
    if (typeof s.default === 'object' && s.default !== null) {
      const copy = structuredClone(s.default);
      const pruned: string[] = [];
      pruneValue(copy, s, s.embeddedResource, '', pruned);
      if (pruned.length > 0) errs.push(inv(dp, s.default, 'must not have unknown fields'));
    }
    // upstream's order: embedded TypeMeta/ObjectMeta first, then the schema, then list types (each only if clean).
    const eerrs: FieldError[] = [];
    validateListsAndEmbedded(s.default, s, dp, eerrs, 'embedded');
    const verrs = eerrs.length > 0 ? []
      : validateSchema(s.default, s).map((e): FieldError => ({ ...e, field: e.field === '<nil>' ? dp : `${dp}.${e.field}` }));
    errs.push(...eerrs, ...verrs);
    if (eerrs.length === 0 && verrs.length === 0) validateListsAndEmbedded(s.default, s, dp, errs, 'lists');
  }
  if (s.properties) for (const [k, v] of s.properties) validateDefaults(v, key(p, k), insideMeta, errs);
  if (s.items) validateDefaults(s.items, `${p}.items`, insideMeta, errs);
  if (typeof s.additionalProperties === 'object') validateDefaults(s.additionalProperties, `${p}.additionalProperties`, insideMeta, errs);
}

/**
 * Defaults must also satisfy the x-kubernetes-validations rules of their subtree (upstream runs them with the
 * default as both self and oldSelf).
 */
function celDefaults(s: SchemaNode, p: string, errs: FieldError[]): void {
  if (s.hasDefault && s.hasRulesBelow) celValidate(s, s.default, s.default, `${p}.default`, errs, false);
  if (s.properties) for (const [k, v] of s.properties) celDefaults(v, key(p, k), errs);
  if (s.items) celDefaults(s.items, `${p}.items`, errs);
  if (typeof s.additionalProperties === 'object') celDefaults(s.additionalProperties, `${p}.additionalProperties`, errs);
}

/** All CRD-time errors of one version's `openAPIV3Schema`; `path` is that schema's field path. */
export function validateStructuralSchema(schema: JSONSchemaProps, path: string): FieldError[] {
  if (!isObject(schema)) return [req(path, '')];
  const errs: FieldError[] = [];
  if (schema.nullable === true) errs.push(forb(`${path}.nullable`, 'nullable cannot be true at the root'));
  const structural: FieldError[] = [];
  invariants(schema, 'root', path, structural);
  completeness(schema, path, structural);
  structural.sort((a, b) => (formatKey(a) < formatKey(b) ? -1 : formatKey(a) > formatKey(b) ? 1 : 0));
  errs.push(...structural);
  const celErrs: FieldError[] = [];
  const celOk = { ok: structural.length === 0 };
  if (structural.length === 0) {
    const defaultErrs: FieldError[] = [];
    validateDefaults(buildNode(schema), path, false, defaultErrs);
    errs.push(...defaultErrs);
    if (defaultErrs.length > 0) celOk.ok = false;
  }
  const schemaErrs: FieldError[] = [];
  openAPISchema(schema, path, { allowDefaults: true, disallowDefaultsReason: '', insideResourceMeta: false, uncorrelatablePath: undefined, cardinality: 1 }, true, schemaErrs, celErrs, celOk);
  errs.push(...schemaErrs, ...celErrs);
  if (errs.length === 0) {
    const root = buildNode(schema);
    markRules(root, true);
    celDefaults(root, path, errs);
  }
  return errs;
}

function formatKey(e: FieldError): string {
  return `${e.field}: ${e.type} ${e.message}`;
}
