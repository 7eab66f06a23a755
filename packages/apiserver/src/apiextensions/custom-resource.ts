import { isDeepStrictEqual } from 'node:util';
import {
  compilePatchMeta, errors, groupVersion, isDNS1123Subdomain, type FieldError, type KubeObject, type ResourceDef, type SubresourceDef,
} from '@k8ts/api';
import type { CustomResourceColumnDefinition, CustomResourceDefinitionVersion } from 'kubernetes-types/apiextensions/v1.js';
import { storageVersionOf, type CRD } from '../registry/apiextensions/customresourcedefinition.js';
import { age, humanDuration, NAME, nameOf, type ColumnDefinition, type Printer } from '../registry/shared/printing.js';
import type { ScaleFields, Strategy, VersionConversion } from '../registry/strategy.js';
import { checkTypes } from '../type-check.js';
import { applyDefaults, compileSchema, prune, validateObject, type CompiledSchema } from './crd-schema.js';

/*
 * What a CustomResourceDefinition serves, per version (upstream's crdHandler.getOrCreateServingInfoFor and
 * pkg/registry/customresource): the registry row, the strategy (schema pruning, defaulting, validation, status and
 * scale subresources, generation) and the Table columns (tableconvertor).
 */

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** One served version of a CRD: its row, store strategy, conversion (other than the storage version) and printer. */
export interface ServedVersion {
  def: ResourceDef;
  strategy: Strategy;
  conversion?: VersionConversion;
  printer: Printer;
  schema: CompiledSchema;
  /** The Warning header of a deprecated version. */
  warning?: string;
}

/** Per served row of a custom resource: what the routes, Tables and discovery need beyond the row. */
export interface CustomInfo {
  crdName: string;
  printer: Printer;
  schema: CompiledSchema;
  warning?: string;
  /** Whether the CRD is being deleted (new objects are refused). */
  terminating: boolean;
}

/** Custom resources have no strategic-merge metadata: upstream refuses the patch type with this 415. */
export const CUSTOM_SMP_REFUSED = () => errors.unsupportedMediaType(
  'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml');

/** The rows this apiserver serves for CRDs, keyed by the row object (each apiserver builds its own). */
export const CUSTOM_INFO = new WeakMap<ResourceDef, CustomInfo>();

function subresourcesOf(group: string, version: string, kind: string, v: CustomResourceDefinitionVersion): SubresourceDef[] {
  const out: SubresourceDef[] = [];
  if (v.subresources?.status) out.push({ name: 'status', group, version, kind, verbs: ['get', 'patch', 'update'] });
  if (v.subresources?.scale) out.push({ name: 'scale', group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] });
  return out;
}

/** The registry row of one version of a CRD, under its accepted names. */
export function customResourceDef(crd: CRD, v: CustomResourceDefinitionVersion): ResourceDef {
  const names = crd.status?.acceptedNames ?? crd.spec.names;
  const group = crd.spec.group;
  const storage = storageVersionOf(crd);
  return {
    group, version: v.name, resource: names.plural, singular: names.singular || names.kind.toLowerCase(), kind: names.kind,
    listKind: names.listKind || `${names.kind}List`, namespaced: crd.spec.scope === 'Namespaced',
    shortNames: names.shortNames ?? [], categories: names.categories ?? [], verbs: ALL_VERBS,
    subresources: subresourcesOf(group, v.name, names.kind, v),
    ...(storage && storage !== v.name ? { storageVersion: storage } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Simple JSONPaths (.spec.replicas, .status.conditions[0].type, .metadata.labels['app.kubernetes.io/name'])

type Segment = string | number;

/** The segments of a simple JSONPath, or undefined when it is not one. */
export function parseSimplePath(path: string): Segment[] | undefined {
  const out: Segment[] = [];
  const re = /\.([A-Za-z0-9_$-]+)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\]/y;
  let i = 0;
  while (i < path.length) {
    re.lastIndex = i;
    const m = re.exec(path);
    if (!m) return undefined;
    out.push(m[1] ?? (m[2] !== undefined ? Number(m[2]) : (m[3] ?? m[4])));
    i = re.lastIndex;
  }
  return out;
}

/** The value at a simple JSONPath, or undefined. */
export function valueAt(obj: unknown, segments: Segment[]): unknown {
  let cur = obj;
  for (const s of segments) {
    if (typeof s === 'number' ? !Array.isArray(cur) : (typeof cur !== 'object' || cur === null || Array.isArray(cur))) return undefined;
    cur = (cur as Record<string | number, unknown>)[s];
  }
  return cur;
}

/** Sets the value at a simple JSONPath of object keys, creating objects on the way. */
function setAt(obj: Record<string, unknown>, segments: Segment[], value: unknown): void {
  let cur = obj;
  for (const s of segments.slice(0, -1)) {
    const next = cur[String(s)];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) cur[String(s)] = {};
    cur = cur[String(s)] as Record<string, unknown>;
  }
  cur[String(segments[segments.length - 1])] = value;
}

// ---------------------------------------------------------------------------------------------------------------
// Table columns (tableconvertor)

const AGE_COLUMN: CustomResourceColumnDefinition = {
  name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp',
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
};

/** A cell as upstream's cellForJSONValue: the column's type, or none (`<none>`) when the value has another. */
function cell(type: string, value: unknown, now: Date): unknown {
  if (value === undefined || value === null) return null;
  switch (type) {
    case 'integer': return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number': return typeof value === 'number' ? value : null;
    case 'boolean': return typeof value === 'boolean' ? value : null;
    case 'date': {
      if (typeof value !== 'string') return null;
      const t = Date.parse(value);
      return Number.isNaN(t) ? '<invalid>' : humanDuration(now.getTime() - t);
    }
    default:
      // A string column prints any value as the JSONPath printer does: strings as they are, the rest as JSON.
      return typeof value === 'string' ? value : JSON.stringify(value);
  }
}

/** The Table printer of a version: NAME and the additionalPrinterColumns (Age when there are none). */
export function customPrinter(columns: readonly CustomResourceColumnDefinition[] | undefined): Printer {
  const cols = columns?.length ? columns : [AGE_COLUMN];
  const paths = cols.map((c) => parseSimplePath(c.jsonPath) ?? []);
  const defs: ColumnDefinition[] = [NAME, ...cols.map((c) => ({
    name: c.name, type: c.type as ColumnDefinition['type'], format: c.format ?? '', description: c.description ?? '', priority: c.priority ?? 0,
  }))];
  return {
    columns: defs,
    row: (obj, now) => [nameOf(obj), ...cols.map((c, i) => {
      if (c.jsonPath === '.metadata.creationTimestamp' && c.type === 'date') return age(obj, now);
      return cell(c.type, valueAt(obj, paths[i]), now);
    })],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The strategy of one version

function withoutKeys(obj: KubeObject, keys: string[]): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...obj };
  for (const k of keys) delete copy[k];
  return copy;
}

function scaleFields(scale: NonNullable<NonNullable<CustomResourceDefinitionVersion['subresources']>['scale']>): ScaleFields {
  const spec = parseSimplePath(scale.specReplicasPath) ?? [];
  const status = parseSimplePath(scale.statusReplicasPath) ?? [];
  const selector = scale.labelSelectorPath ? parseSimplePath(scale.labelSelectorPath) : undefined;
  const int = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) ? v : 0);
  return {
    specReplicas: (obj) => int(valueAt(obj, spec)),
    statusReplicas: (obj) => int(valueAt(obj, status)),
    selector: (obj) => { const s = selector ? valueAt(obj, selector) : undefined; return typeof s === 'string' ? s : ''; },
    setSpecReplicas: (obj, replicas) => setAt(obj as unknown as Record<string, unknown>, spec, replicas),
  };
}

/** The replicas at the scale paths must be int32s >= 0 (upstream's customresource validator, validateScale*). */
function validateScale(obj: KubeObject, scale: NonNullable<NonNullable<CustomResourceDefinitionVersion['subresources']>['scale']>): FieldError[] {
  const errs: FieldError[] = [];
  for (const path of [scale.specReplicasPath, scale.statusReplicasPath]) {
    const v = valueAt(obj, parseSimplePath(path) ?? []);
    if (v === undefined || v === null) continue;
    const field = path.slice(1);
    if (typeof v !== 'number' || !Number.isInteger(v)) errs.push({ field, type: 'FieldValueInvalid', value: v, message: 'must be an integer' });
    else if (v < 0) errs.push({ field, type: 'FieldValueInvalid', value: v, message: 'should be a non-negative integer' });
    else if (v > 2147483647) errs.push({ field, type: 'FieldValueInvalid', value: v, message: 'should be less than or equal to 2147483647' });
  }
  if (scale.labelSelectorPath) {
    const v = valueAt(obj, parseSimplePath(scale.labelSelectorPath) ?? []);
    if (v !== undefined && v !== null && typeof v !== 'string') {
      errs.push({ field: scale.labelSelectorPath.slice(1), type: 'FieldValueInvalid', value: v, message: 'must be a string' });
    }
  }
  return errs;
}

const metadataOnly = compilePatchMeta({});

/** The field-selector fields a version declares (`selectableFields`, beta in 1.32): `.spec.color` selects as `spec.color`. */
function selectableFields(v: CustomResourceDefinitionVersion): (obj: KubeObject) => Record<string, string> {
  const fields = (v.selectableFields ?? []).map((f) => ({ name: f.jsonPath.slice(1), path: parseSimplePath(f.jsonPath) ?? [] }));
  if (!fields.length) return () => ({});
  return (obj) => Object.fromEntries(fields.map((f) => {
    const value = valueAt(obj, f.path);
    return [f.name, value === undefined || value === null ? '' : String(value)];
  }));
}

/**
 * The strategy of one served version (upstream's customResourceStrategy): the version's schema prunes, defaults
 * and validates; with /status, create drops status and updates keep it; generation counts every change but
 * metadata (and status, with /status). `storageDef` is the row objects are stored under (keys, apiVersion).
 */
export function customStrategy(storageDef: ResourceDef, v: CustomResourceDefinitionVersion, schema: CompiledSchema, printer: Printer): Strategy {
  const status = !!v.subresources?.status;
  const scale = v.subresources?.scale;
  const ignored = status ? ['metadata', 'status'] : ['metadata'];
  return {
    def: storageDef,
    nameCheck: isDNS1123Subdomain,
    tracksGeneration: true,
    checkTypes: (obj) => checkTypes({ kind: 'CustomResource' }, obj),
    convert: () => undefined,
    defaults: (obj) => applyDefaults(schema, obj),
    initialStatus: (obj) => (status ? undefined : obj.status),
    prepareForUpdate: (next, old) => {
      if (!status) return;
      if (old.status === undefined) delete next.status; else next.status = structuredClone(old.status);
    },
    validate: (obj, old) => [...validateObject(schema, obj, old), ...(scale ? validateScale(obj, scale) : [])],
    fields: selectableFields(v),
    printer,
    patchMeta: metadataOnly,
    gracePeriod: () => 0,
    ...(scale ? { scale: scaleFields(scale) } : {}),
    pruneUnknown: (obj) => prune(schema, obj),
    generationChanged: (next, old) => !isDeepStrictEqual(withoutKeys(next, ignored), withoutKeys(old, ignored)),
  };
}

/** Conversion `None` between a served version and the storage version: only apiVersion changes. */
function noneConversion(def: ResourceDef, storageApiVersion: string): VersionConversion {
  const served = groupVersion(def.group, def.version);
  return {
    def,
    checkTypes: (obj) => checkTypes({ kind: 'CustomResource' }, obj),
    toStorage: (obj) => ({ ...obj, apiVersion: storageApiVersion }),
    fromStorage: (obj) => ({ ...obj, apiVersion: served }),
  };
}

/** The served versions of a CRD, each with what serving it takes; the storage version first. */
export function servedVersions(crd: CRD): ServedVersion[] {
  const storage = crd.spec.versions.find((v) => v.storage);
  if (!storage) return [];
  const storageDef = customResourceDef(crd, storage);
  const out: ServedVersion[] = [];
  for (const v of crd.spec.versions) {
    if (!v.served) continue;
    const def = v === storage ? storageDef : customResourceDef(crd, v);
    const schema = compileSchema((v.schema?.openAPIV3Schema ?? { type: 'object' }) as Record<string, unknown>);
    const printer = customPrinter(v.additionalPrinterColumns);
    const warning = v.deprecated ? (v.deprecationWarning ?? `${crd.spec.group}/${v.name} ${def.kind} is deprecated`) : undefined;
    out.push({
      def, schema, printer, warning,
      strategy: customStrategy(storageDef, v, schema, printer),
      ...(v === storage ? {} : { conversion: noneConversion(def, groupVersion(storageDef.group, storageDef.version)) }),
    });
  }
  return out.sort((a, b) => (a.conversion ? 1 : 0) - (b.conversion ? 1 : 0));
}
