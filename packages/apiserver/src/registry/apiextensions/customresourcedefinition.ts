import { isDNS1035Label, isDNS1123Subdomain, type KubeObject } from '@k8ts/api';
import type { CustomResourceDefinition, CustomResourceDefinitionCondition } from 'kubernetes-types/apiextensions/v1.js';
import { validateStructuralSchema } from '../../apiextensions/crd-schema.js';
import { defineStrategy, rfc3339 } from '../strategy.js';
import { column, NAME, nameOf, type Printer } from '../shared/printing.js';
import { asList, asObj, duplicate, immutable, invalid, isObj, notSupported, required, type Errors, type Obj } from '../shared/validation.js';

/*
 * apiextensions.k8s.io/v1 CustomResourceDefinition: upstream's pkg/apis/apiextensions/validation (the CRD's own
 * rules), v1 defaults.go, and pkg/registry/customresourcedefinition (strategy and the Delete that adds the cleanup
 * finalizer). Serving the custom resources it defines is apiextensions/crd-controller.ts's.
 */

/** The finalizer the apiserver puts on a CRD being deleted; removed once every custom object is gone. */
export const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

export type CRD = CustomResourceDefinition;
export type CRDCondition = CustomResourceDefinitionCondition;

/** The condition of a type, or undefined. */
export function crdCondition(crd: CRD, type: string): CRDCondition | undefined {
  return crd.status?.conditions?.find((c) => c.type === type);
}

/** Whether the CRD's condition of this type is True. */
export function crdConditionTrue(crd: CRD, type: string): boolean {
  return crdCondition(crd, type)?.status === 'True';
}

/** Sets a condition (keeping lastTransitionTime when the status stays), as upstream's SetCRDCondition. */
export function setCrdCondition(crd: CRD, cond: Omit<CRDCondition, 'lastTransitionTime'>): void {
  const status = (crd.status ??= { acceptedNames: { plural: '', kind: '' }, storedVersions: [] } as NonNullable<CRD['status']>);
  const conditions = (status.conditions ??= []);
  const existing = conditions.find((c) => c.type === cond.type);
  if (!existing) { conditions.push({ ...cond, lastTransitionTime: rfc3339() }); return; }
  if (existing.status !== cond.status) existing.lastTransitionTime = rfc3339();
  existing.status = cond.status;
  existing.reason = cond.reason;
  existing.message = cond.message;
}

/** The version objects are stored in (the one with `storage: true`). */
export function storageVersionOf(crd: CRD): string | undefined {
  return crd.spec?.versions?.find((v) => v.storage)?.name;
}

function setDefaults(obj: KubeObject): void {
  const spec = asObj((obj as Obj).spec);
  if (!isObj((obj as Obj).spec)) return;
  const names = asObj(spec.names);
  if (isObj(spec.names)) {
    if (!names.singular && typeof names.kind === 'string') names.singular = names.kind.toLowerCase();
    if (!names.listKind && typeof names.kind === 'string' && names.kind) names.listKind = `${names.kind}List`;
  }
  if (!isObj(spec.conversion)) spec.conversion = { strategy: 'None' };
  else if (!spec.conversion.strategy) spec.conversion.strategy = 'None';
  for (const v of asList(spec.versions)) {
    if (v.served === undefined) v.served = false;
    if (v.storage === undefined) v.storage = false;
  }
}

const COLUMN_TYPES = ['boolean', 'date', 'integer', 'number', 'string'];
const COLUMN_FORMATS = ['byte', 'date', 'date-time', 'double', 'float', 'int32', 'int64', 'name', 'password'];

/** A JSONPath as printer columns and /scale take it: `.a.b`, `.a[0]`, `.a['x.y']` (upstream's "simple" paths). */
export function isSimpleJsonPath(path: string): boolean {
  return /^(\.[A-Za-z0-9_$-]+|\[(\d+|'[^']*'|"[^"]*")\])+$/.test(path);
}

function validateNames(names: Obj, path: string): Errors {
  const errs: Errors = [];
  const dns = (field: string, v: unknown) => {
    if (typeof v === 'string' && v !== '') for (const m of isDNS1035Label(v)) errs.push(invalid(`${path}.${field}`, v, m));
  };
  if (!names.plural) errs.push(required(`${path}.plural`)); else dns('plural', names.plural);
  if (!names.singular) errs.push(required(`${path}.singular`)); else dns('singular', names.singular);
  if (!names.kind) errs.push(required(`${path}.kind`));
  else for (const m of isDNS1035Label(String(names.kind).toLowerCase())) errs.push(invalid(`${path}.kind`, names.kind, m));
  if (!names.listKind) errs.push(required(`${path}.listKind`));
  else for (const m of isDNS1035Label(String(names.listKind).toLowerCase())) errs.push(invalid(`${path}.listKind`, names.listKind, m));
  if (names.kind && names.kind === names.listKind) errs.push(invalid(`${path}.listKind`, names.listKind, 'kind and listKind may not be the same'));
  for (const [i, s] of (Array.isArray(names.shortNames) ? names.shortNames : []).entries()) {
    for (const m of isDNS1035Label(String(s))) errs.push(invalid(`${path}.shortNames[${i}]`, s, m));
  }
  for (const [i, c] of (Array.isArray(names.categories) ? names.categories : []).entries()) {
    for (const m of isDNS1035Label(String(c))) errs.push(invalid(`${path}.categories[${i}]`, c, m));
  }
  return errs;
}

function validateVersion(v: Obj, path: string): Errors {
  const errs: Errors = [];
  if (!v.name) errs.push(required(`${path}.name`));
  else for (const m of isDNS1035Label(String(v.name))) errs.push(invalid(`${path}.name`, v.name, m));
  const schema = asObj(v.schema).openAPIV3Schema;
  if (!isObj(schema)) errs.push(required(`${path}.schema.openAPIV3Schema`, 'schemas are required'));
  else errs.push(...validateStructuralSchema(schema, `${path}.schema.openAPIV3Schema`));
  if (v.deprecationWarning !== undefined && !v.deprecated) errs.push(invalid(`${path}.deprecationWarning`, v.deprecationWarning, 'can only be set for deprecated versions'));
  if (typeof v.deprecationWarning === 'string' && v.deprecationWarning.length > 256) errs.push(invalid(`${path}.deprecationWarning`, v.deprecationWarning, 'must be <= 256 characters long'));
  const subresources = asObj(v.subresources);
  if (isObj(subresources.scale)) {
    const scale = subresources.scale;
    const p = `${path}.subresources.scale`;
    const under = (field: string, value: unknown, prefixes: string[]) => {
      if (typeof value !== 'string' || !isSimpleJsonPath(value) || !prefixes.some((x) => value.startsWith(x))) {
        errs.push(invalid(`${p}.${field}`, value, `should be a json path under ${prefixes.join(' or ')}`));
      }
    };
    if (!scale.specReplicasPath) errs.push(required(`${p}.specReplicasPath`)); else under('specReplicasPath', scale.specReplicasPath, ['.spec.']);
    if (!scale.statusReplicasPath) errs.push(required(`${p}.statusReplicasPath`)); else under('statusReplicasPath', scale.statusReplicasPath, ['.status.']);
    if (scale.labelSelectorPath !== undefined) under('labelSelectorPath', scale.labelSelectorPath, ['.spec.', '.status.']);
  }
  const selectable = asList(v.selectableFields);
  if (selectable.length > 8) errs.push({ field: `${path}.selectableFields`, type: 'FieldValueTooMany', message: 'must have at most 8 items', value: selectable.length });
  const paths = new Set<string>();
  for (const [i, f] of selectable.entries()) {
    const p = `${path}.selectableFields[${i}].jsonPath`;
    if (!f.jsonPath) errs.push(required(p));
    else if (!isSimpleJsonPath(f.jsonPath) || String(f.jsonPath).startsWith('.metadata')) errs.push(invalid(p, f.jsonPath, 'must be a simple json path to a field of the schema (not under .metadata)'));
    else if (paths.has(f.jsonPath)) errs.push(duplicate(p, f.jsonPath));
    paths.add(f.jsonPath);
  }
  for (const [i, c] of asList(v.additionalPrinterColumns).entries()) {
    const p = `${path}.additionalPrinterColumns[${i}]`;
    if (!c.name) errs.push(required(`${p}.name`));
    if (!c.type) errs.push(required(`${p}.type`)); else if (!COLUMN_TYPES.includes(c.type)) errs.push(notSupported(`${p}.type`, c.type, COLUMN_TYPES));
    if (c.format && !COLUMN_FORMATS.includes(c.format)) errs.push(notSupported(`${p}.format`, c.format, COLUMN_FORMATS));
    if (c.priority !== undefined && (!Number.isInteger(c.priority) || c.priority < 0)) errs.push(invalid(`${p}.priority`, c.priority, 'must be greater than or equal to 0'));
    if (!c.jsonPath) errs.push(required(`${p}.jsonPath`));
    else if (!isSimpleJsonPath(c.jsonPath)) errs.push(invalid(`${p}.jsonPath`, c.jsonPath, 'must be a simple json path'));
  }
  return errs;
}

/** ValidateCustomResourceDefinition (create) and ...Update: names, group, scope, versions and their schemas. */
function validateCrd(obj: KubeObject, old?: KubeObject): Errors {
  const crd = obj as Obj;
  const errs: Errors = [];
  const spec = asObj(crd.spec);
  const names = asObj(spec.names);
  const name = String(asObj(crd.metadata).name ?? '');
  if (name !== `${names.plural ?? ''}.${spec.group ?? ''}`) errs.push(invalid('metadata.name', name, 'must be spec.names.plural+"."+spec.group'));
  if (!spec.group) errs.push(required('spec.group'));
  else {
    for (const m of isDNS1123Subdomain(String(spec.group))) errs.push(invalid('spec.group', spec.group, m));
    if (!String(spec.group).includes('.')) errs.push(invalid('spec.group', spec.group, 'should be a domain with at least one dot'));
  }
  const scopes = ['Cluster', 'Namespaced'];
  if (!spec.scope) errs.push(required('spec.scope'));
  else if (!scopes.includes(spec.scope)) errs.push(notSupported('spec.scope', spec.scope, scopes));
  errs.push(...validateNames(names, 'spec.names'));
  const versions = asList(spec.versions);
  if (!versions.length) errs.push(required('spec.versions', 'must have exactly one version marked as storage version'));
  const seen = new Set<string>();
  for (const [i, v] of versions.entries()) {
    if (seen.has(v.name)) errs.push(duplicate(`spec.versions[${i}].name`, v.name));
    seen.add(v.name);
    errs.push(...validateVersion(v, `spec.versions[${i}]`));
  }
  const storage = versions.filter((v) => v.storage === true).length;
  if (versions.length && storage !== 1) errs.push(invalid('spec.versions', spec.versions, 'must have exactly one version marked as storage version'));
  if (versions.length && !versions.some((v) => v.served === true)) errs.push(invalid('spec.versions', spec.versions, 'must have at least one version marked as served'));
  const conversion = asObj(spec.conversion);
  if (conversion.strategy !== 'None') {
    // Conversion webhooks are not implemented: refused rather than accepted and never called.
    errs.push(notSupported('spec.conversion.strategy', conversion.strategy, ['None']));
  }
  if (spec.preserveUnknownFields === true) errs.push(invalid('spec.preserveUnknownFields', true, 'cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead'));
  const stored = Array.isArray(asObj(crd.status).storedVersions) ? (crd.status.storedVersions as string[]) : [];
  for (const [i, v] of stored.entries()) {
    if (!seen.has(v)) errs.push(invalid(`status.storedVersions[${i}]`, v, 'must appear in spec.versions'));
  }
  if (old) {
    const o = asObj((old as Obj).spec);
    if (o.group !== spec.group) errs.push(immutable('spec.group', spec.group));
    if (o.scope !== spec.scope) errs.push(immutable('spec.scope', spec.scope));
    if (asObj(o.names).plural !== names.plural) errs.push(immutable('spec.names.plural', names.plural));
  }
  return errs;
}

function initialStatus(obj: KubeObject): unknown {
  const storage = storageVersionOf(obj as unknown as CRD);
  return { acceptedNames: { plural: '', kind: '' }, storedVersions: storage ? [storage] : [] };
}

/** Keeps the status on a main-resource update, and records a new storage version in status.storedVersions. */
function prepareForUpdate(next: KubeObject, old: KubeObject): void {
  next.status = structuredClone(old.status) ?? initialStatus(next);
  const storage = storageVersionOf(next as unknown as CRD);
  const status = next.status as NonNullable<CRD['status']>;
  status.storedVersions ??= [];
  if (storage && !status.storedVersions.includes(storage)) status.storedVersions.push(storage);
}

/**
 * Upstream's CRD REST Delete: the first delete sets deletionTimestamp, adds the cleanup finalizer and the
 * Terminating condition; the CRD goes when the finalizer is removed (every custom object deleted).
 */
function markForDeletion(obj: KubeObject, now: number): KubeObject | null {
  const meta = obj.metadata!;
  if (meta.deletionTimestamp) return meta.finalizers?.length ? obj : null;
  meta.deletionTimestamp = rfc3339(new Date(now));
  meta.deletionGracePeriodSeconds = 0;
  if (!meta.finalizers?.includes(CRD_CLEANUP_FINALIZER)) meta.finalizers = [...(meta.finalizers ?? []), CRD_CLEANUP_FINALIZER];
  setCrdCondition(obj as unknown as CRD, {
    type: 'Terminating', status: 'True', reason: 'InstanceDeletionPending',
    message: 'CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon',
  });
  return obj;
}

const printer: Printer = {
  columns: [NAME, { ...column('Created At', 'CreationTimestamp is a timestamp representing the server time when this object was created.', 0, 'date') }],
  row: (obj) => [nameOf(obj), obj.metadata?.creationTimestamp ?? ''],
};

/** CustomResourceDefinitions; serving what they define is the CRD controller's (apiextensions/crd-controller.ts). */
export const customResourceDefinitionStrategy = defineStrategy('apiextensions.k8s.io', 'v1', 'customresourcedefinitions', {
  tracksGeneration: true,
  defaults: setDefaults,
  validate: validateCrd,
  initialStatus,
  prepareForUpdate,
  markForDeletion,
  printer,
});
