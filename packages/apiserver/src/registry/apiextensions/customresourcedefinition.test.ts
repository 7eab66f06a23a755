import { describe, expect, it } from 'vitest';
import type { KubeObject } from '@k8ts/api';
import { validateObject } from '../index.js';
import { customResourceDefinitionStrategy as strategy, isSimpleJsonPath } from './customresourcedefinition.js';

/* CRD validation and defaults as upstream's pkg/apis/apiextensions/validation and v1 defaults.go. */

const schema = { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { replicas: { type: 'integer' } } } } } };
function crd(edit: (c: any) => void = () => undefined): KubeObject {
  const c: any = {
    apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'widgets.example.com' },
    spec: { group: 'example.com', scope: 'Namespaced', names: { plural: 'widgets', kind: 'Widget' }, versions: [{ name: 'v1', served: true, storage: true, schema }] },
  };
  edit(c);
  strategy.defaults(c);
  return c;
}
const errs = (c: KubeObject, old?: KubeObject) => validateObject(strategy, c, old).map((e) => `${e.field}: ${e.message}`);

describe('CustomResourceDefinition defaults', () => {
  it('singular and listKind from the kind, conversion None, served/storage false', () => {
    const c: any = crd((x) => x.spec.versions.push({ name: 'v2', schema }));
    expect(c.spec.names).toEqual({ plural: 'widgets', kind: 'Widget', singular: 'widget', listKind: 'WidgetList' });
    expect(c.spec.conversion).toEqual({ strategy: 'None' });
    expect(c.spec.versions[1]).toMatchObject({ served: false, storage: false });
  });
});

describe('CustomResourceDefinition validation', () => {
  it('accepts a plain CRD', () => {
    expect(errs(crd())).toEqual([]);
  });

  it.each([
    ['a name other than <plural>.<group>', (c: any) => { c.metadata.name = 'gadgets.example.com'; }, 'metadata.name: must be spec.names.plural+"."+spec.group'],
    ['a group without a dot', (c: any) => { c.spec.group = 'example'; c.metadata.name = 'widgets.example'; }, 'spec.group: should be a domain with at least one dot'],
    ['an unknown scope', (c: any) => { c.spec.scope = 'Global'; }, 'spec.scope: supported values: "Cluster", "Namespaced"'],
    ['two storage versions', (c: any) => { c.spec.versions.push({ name: 'v2', served: true, storage: true, schema }); }, 'spec.versions: must have exactly one version marked as storage version'],
    ['no storage version', (c: any) => { c.spec.versions[0].storage = false; }, 'spec.versions: must have exactly one version marked as storage version'],
    ['no served version', (c: any) => { c.spec.versions[0].served = false; }, 'spec.versions: must have at least one version marked as served'],
    ['a duplicate version', (c: any) => { c.spec.versions.push({ name: 'v1', served: true, storage: false, schema }); }, 'spec.versions[1].name: '],
    ['no schema', (c: any) => { delete c.spec.versions[0].schema; }, 'spec.versions[0].schema.openAPIV3Schema: schemas are required'],
    ['a kind equal to listKind', (c: any) => { c.spec.names.listKind = 'Widget'; }, 'spec.names.listKind: kind and listKind may not be the same'],
    ['a plural that is not a DNS label', (c: any) => { c.spec.names.plural = 'Widgets'; c.metadata.name = 'Widgets.example.com'; }, 'spec.names.plural: a DNS-1035 label must consist of lower case'],
    ['a webhook conversion', (c: any) => { c.spec.conversion = { strategy: 'Webhook' }; }, 'spec.conversion.strategy: supported values: "None"'],
    ['a printer column of an unknown type', (c: any) => { c.spec.versions[0].additionalPrinterColumns = [{ name: 'R', type: 'int', jsonPath: '.spec.replicas' }]; }, 'spec.versions[0].additionalPrinterColumns[0].type: supported values: "boolean", "date"'],
    ['a printer column without a simple path', (c: any) => { c.spec.versions[0].additionalPrinterColumns = [{ name: 'R', type: 'integer', jsonPath: '{.spec}' }]; }, 'spec.versions[0].additionalPrinterColumns[0].jsonPath: must be a simple json path'],
    ['a scale path outside .spec', (c: any) => { c.spec.versions[0].subresources = { scale: { specReplicasPath: '.status.replicas', statusReplicasPath: '.status.replicas' } }; }, 'spec.versions[0].subresources.scale.specReplicasPath: should be a json path under .spec.'],
    ['a selectable field under .metadata', (c: any) => { c.spec.versions[0].selectableFields = [{ jsonPath: '.metadata.name' }]; }, 'spec.versions[0].selectableFields[0].jsonPath: must be a simple json path to a field of the schema'],
    ['nine selectable fields', (c: any) => { c.spec.versions[0].selectableFields = Array.from({ length: 9 }, (_, i) => ({ jsonPath: `.spec.f${i}` })); }, 'spec.versions[0].selectableFields: must have at most 8 items'],
    ['a deprecationWarning on a version not deprecated', (c: any) => { c.spec.versions[0].deprecationWarning = 'old'; }, 'spec.versions[0].deprecationWarning: can only be set for deprecated versions'],
  ])('refuses %s', (_what, edit, message) => {
    expect(errs(crd(edit)).join('\n')).toContain(message);
  });

  it('keeps group, scope and plural on update, and the stored versions in spec', () => {
    const old = crd();
    const moved = crd((c) => { c.spec.scope = 'Cluster'; });
    expect(errs(moved, old)).toContain('spec.scope: field is immutable');
    const dropped: any = crd((c) => { c.spec.versions[0].name = 'v2'; c.status = { storedVersions: ['v1'] }; });
    expect(errs(dropped, old)).toContain('status.storedVersions[0]: must appear in spec.versions');
  });
});

describe('CustomResourceDefinition strategy', () => {
  it('starts status with the storage version; an update adds a new storage version to storedVersions and keeps status', () => {
    const c: any = crd();
    expect(strategy.initialStatus(c)).toEqual({ acceptedNames: { plural: '', kind: '' }, storedVersions: ['v1'] });
    const old: any = { ...crd(), status: { storedVersions: ['v1'], conditions: [{ type: 'Established', status: 'True' }] } };
    const next: any = crd((x) => { x.spec.versions = [{ name: 'v1', served: true, storage: false, schema }, { name: 'v2', served: true, storage: true, schema }]; x.status = {}; });
    strategy.prepareForUpdate(next, old);
    expect(next.status).toEqual({ storedVersions: ['v1', 'v2'], conditions: [{ type: 'Established', status: 'True' }] });
  });

  it('the first delete adds the cleanup finalizer and Terminating; later ones keep it while finalizers remain', () => {
    const c: any = crd();
    const marked: any = strategy.markForDeletion!(c, Date.parse('2026-01-01T00:00:00Z'));
    expect(marked.metadata).toMatchObject({ deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['customresourcecleanup.apiextensions.k8s.io'] });
    expect(marked.status.conditions[0]).toMatchObject({ type: 'Terminating', status: 'True', reason: 'InstanceDeletionPending' });
    expect(strategy.markForDeletion!(marked, Date.now())).toBe(marked);
    marked.metadata.finalizers = [];
    expect(strategy.markForDeletion!(marked, Date.now())).toBeNull();
  });
});

describe('isSimpleJsonPath', () => {
  it.each([['.spec.replicas', true], ['.status.conditions[0].type', true], [".metadata.labels['app.kubernetes.io/name']", true],
    ['spec.replicas', false], ['{.spec}', false], ['.spec[*].x', false], ['.', false]])('%s: %s', (path, ok) => {
    expect(isSimpleJsonPath(path)).toBe(ok);
  });
});
