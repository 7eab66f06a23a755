import { describe, expect, it } from 'vitest';
import { ApiError, byKey, compilePatchMeta } from '@k8ts/api';
import { managedFieldsType } from './index.js';
import {
  applyManaged, baseManaged, capManagers, decodeManagedFields, encodeManagedFields, managerFromUserAgent, updateManaged,
  type Managed, type Writer,
} from './manager.js';
import { DEDUCED, typeFromOpenApi } from './schema.js';
import { FieldSet, keyEl, pathString } from './set.js';
import { compare, merge, removeItems, toFieldSet } from './typed.js';

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-01T00:00:01Z';
const deploymentType = managedFieldsType({ group: 'apps', version: 'v1', kind: 'Deployment' },
  compilePatchMeta({ 'spec.template.spec.containers': byKey('name'), 'spec.template.spec.containers[].env': byKey('name'),
    'spec.template.spec.containers[].ports': byKey('containerPort') }));
const cmType = managedFieldsType({ group: '', version: 'v1', kind: 'ConfigMap' });
const w = (manager: string, apiVersion = 'apps/v1', subresource?: string): Writer => ({ manager, apiVersion, ...(subresource ? { subresource } : {}) });
const fields = (m: Managed) => Object.fromEntries(encodeManagedFields(m).map((e) => [`${e.manager as string}/${e.operation as string}${e.subresource ? `/${e.subresource as string}` : ''}`, e.fieldsV1]));

function deployment(replicas: number, image: string, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', labels: { app: 'd' } },
    spec: { replicas, selector: { matchLabels: { app: 'd' } }, template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'app', image, ...extra }] } } },
  };
}

describe('FieldSet and FieldsV1', () => {
  it('round-trips FieldsV1 with members that have children (.), keys, values and indexes', () => {
    const json = { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } }, 'f:spec': { 'f:list': { [keyEl({ name: 'a' })]: { '.': {}, 'f:x': {} } }, 'f:set': { 'v:"a"': {} }, 'f:i': { 'i:0': {} } } };
    expect(FieldSet.fromFieldsV1(json).toFieldsV1()).toStrictEqual(json);
    expect(() => FieldSet.fromFieldsV1({ 'x:bad': {} })).toThrow(/unexpected key/);
  });
  it('union, difference, intersection, recursive difference and ancestors', () => {
    const a = FieldSet.of(['f:a', 'f:b'], ['f:c']);
    const b = FieldSet.of(['f:a', 'f:b'], ['f:d']);
    expect(a.union(b).paths()).toStrictEqual([['f:a', 'f:b'], ['f:c'], ['f:d']]);
    expect(a.difference(b).paths()).toStrictEqual([['f:c']]);
    expect(a.intersection(b).paths()).toStrictEqual([['f:a', 'f:b']]);
    expect(a.recursiveDifference(FieldSet.of(['f:a'])).paths()).toStrictEqual([['f:c']]);
    expect(FieldSet.of(['f:a', 'f:b']).withAncestors().paths()).toStrictEqual([['f:a'], ['f:a', 'f:b']]);
  });
  it('prints paths as structured-merge-diff does', () => {
    expect(pathString(['f:spec', 'f:containers', keyEl({ name: 'app' }), 'f:image'])).toBe('.spec.containers[name="app"].image');
    expect(pathString(['f:ports', keyEl({ protocol: 'TCP', containerPort: 80 })])).toBe('.ports[containerPort=80,protocol="TCP"]');
    expect(pathString(['f:finalizers', 'v:"x"'])).toBe('.finalizers[="x"]');
  });
});

describe('typed values', () => {
  it('field sets: leaves, associative list items (also their keys), atomic structs, map entries; status is not special here', () => {
    const s = toFieldSet(deployment(2, 'nginx'), deploymentType).toFieldsV1();
    expect(s).toStrictEqual({
      'f:apiVersion': {}, 'f:kind': {},
      'f:metadata': { 'f:labels': { 'f:app': {} }, 'f:name': {} },
      'f:spec': {
        'f:replicas': {}, 'f:selector': {},
        'f:template': { 'f:metadata': { 'f:labels': { 'f:app': {} } }, 'f:spec': { 'f:containers': { 'k:{"name":"app"}': { '.': {}, 'f:image': {}, 'f:name': {} } } } },
      },
    });
  });
  it('lists without a list type are atomic; sets by value; unknown schemas deduced (maps granular, lists atomic)', () => {
    const withArgs = deployment(1, 'x', { args: ['a', 'b'] });
    const s = toFieldSet(withArgs, deploymentType);
    expect(s.has(['f:spec', 'f:template', 'f:spec', 'f:containers', keyEl({ name: 'app' }), 'f:args'])).toBe(true);
    const setType = typeFromOpenApi({ definitions: {}, root: { type: 'object', properties: { fin: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } } } } });
    expect(toFieldSet({ fin: ['a', 'b'] }, setType).toFieldsV1()).toStrictEqual({ 'f:fin': { 'v:"a"': {}, 'v:"b"': {} } });
    expect(toFieldSet({ a: { b: 1 }, l: [1, 2] }, DEDUCED).toFieldsV1()).toStrictEqual({ 'f:a': { '.': {}, 'f:b': {} }, 'f:l': {} });
  });
  it('compare: added, modified and removed', () => {
    const c = compare(deployment(1, 'a'), deployment(2, 'a', { env: [{ name: 'X', value: '1' }] }), deploymentType);
    expect(c.modified.paths()).toStrictEqual([['f:spec', 'f:replicas']]);
    const env = ['f:spec', 'f:template', 'f:spec', 'f:containers', keyEl({ name: 'app' }), 'f:env'];
    expect(c.added.paths()).toStrictEqual([env, [...env, keyEl({ name: 'X' })], [...env, keyEl({ name: 'X' }), 'f:name'], [...env, keyEl({ name: 'X' }), 'f:value']]);
    const back = compare(deployment(2, 'a', { env: [{ name: 'X', value: '1' }] }), deployment(2, 'a'), deploymentType);
    expect(back.removed.has(env)).toBe(true);
  });
  it('merge: associative lists by key, atomic replaced; removeItems drops members with their subtrees', () => {
    const live = deployment(1, 'a', { env: [{ name: 'X', value: '1' }] });
    (live.spec.template.spec.containers as unknown[]).push({ name: 'side', image: 's' });
    const merged = merge(live, deployment(3, 'b'), deploymentType) as ReturnType<typeof deployment>;
    expect(merged.spec.replicas).toBe(3);
    expect(merged.spec.template.spec.containers).toStrictEqual([{ name: 'app', image: 'b', env: [{ name: 'X', value: '1' }] }, { name: 'side', image: 's' }]);
    const pruned = removeItems(merged, FieldSet.of(['f:spec', 'f:template', 'f:spec', 'f:containers', keyEl({ name: 'side' })]), deploymentType) as typeof merged;
    expect(pruned.spec.template.spec.containers.map((c) => c.name)).toStrictEqual(['app']);
  });
});

describe('managers', () => {
  it('an update owns what it adds or changes and takes it from the others; the time moves only on a change', () => {
    let m = updateManaged(undefined, deployment(1, 'a'), new Map(), w('kubectl-create'), deploymentType, {}, T0);
    const created = fields(m)['kubectl-create/Update'] as any;
    expect(created['f:metadata']['f:labels']).toStrictEqual({ '.': {}, 'f:app': {} });
    expect(created['f:spec']['f:template']['f:spec']['f:containers']).toStrictEqual({ 'k:{"name":"app"}': { '.': {}, 'f:image': {}, 'f:name': {} } });
    m = updateManaged(deployment(1, 'a'), deployment(1, 'b'), m, w('kubectl-set'), deploymentType, {}, T1);
    expect(fields(m)['kubectl-set/Update']).toStrictEqual({ 'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"app"}': { 'f:image': {} } } } } } });
    expect((fields(m)['kubectl-create/Update'] as any)['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"app"}']['f:image']).toBeUndefined();
    const same = updateManaged(deployment(1, 'b'), deployment(1, 'b'), m, w('kubectl-set'), deploymentType, {}, '2030-01-01T00:00:00Z');
    expect(encodeManagedFields(same).find((e) => e.manager === 'kubectl-set')!.time).toBe(T1);
  });
  it('entries are per manager, operation, subresource, and apiVersion for updates; a status write owns only status', () => {
    const withStatus = { ...deployment(1, 'a'), status: { replicas: 1 } };
    let m = updateManaged(undefined, withStatus, new Map(), w('c'), deploymentType, { ignored: FieldSet.of(['f:status']) }, T0);
    expect(fields(m)['c/Update']).not.toHaveProperty('f:status');
    m = updateManaged(withStatus, { ...withStatus, status: { replicas: 2 } }, m, w('ctrl', 'apps/v1', 'status'), deploymentType, { only: 'status' }, T1);
    expect(fields(m)['ctrl/Update/status']).toStrictEqual({ 'f:status': { 'f:replicas': {} } });
    m = updateManaged(deployment(1, 'a'), deployment(4, 'a'), m, w('c', 'apps/v1beta2'), deploymentType, {}, T1);
    expect(encodeManagedFields(m).filter((e) => e.manager === 'c').map((e) => e.apiVersion)).toStrictEqual(['apps/v1', 'apps/v1beta2']);
  });
  it('apply owns exactly its configuration; a field another manager owns conflicts (409) unless forced', () => {
    const live = deployment(1, 'a');
    const m = updateManaged(undefined, live, new Map(), w('kubectl-client-side-apply'), deploymentType, {}, T0);
    let err: unknown;
    try { applyManaged(live, deployment(5, 'a'), m, w('deployer'), deploymentType, false, {}, T1); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(409);
    expect((err as ApiError).message).toBe('Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');
    expect((err as ApiError).details?.causes).toStrictEqual([{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl-client-side-apply" using apps/v1', field: '.spec.replicas' }]);
    try { applyManaged(live, deployment(5, 'z'), m, w('deployer'), deploymentType, false, {}, T1); } catch (e) { err = e; }
    expect((err as ApiError).message).toBe('Apply failed with 2 conflicts: conflicts with "kubectl-client-side-apply" using apps/v1:\n- .spec.replicas\n- .spec.template.spec.containers[name="app"].image');
    // Same values: no conflict, shared ownership.
    const shared = applyManaged(live, deployment(1, 'a'), m, w('deployer'), deploymentType, false, {}, T1);
    expect(shared.changed).toBe(false);
    expect((fields(shared.managed)['kubectl-client-side-apply/Update'] as any)['f:spec']['f:replicas']).toStrictEqual({});
    expect((fields(shared.managed)['deployer/Apply'] as any)['f:spec']['f:replicas']).toStrictEqual({});
    const forced = applyManaged(live, deployment(5, 'a'), m, w('deployer'), deploymentType, true, {}, T1);
    expect((forced.object as any).spec.replicas).toBe(5);
    expect((fields(forced.managed)['kubectl-client-side-apply/Update'] as any)['f:spec']['f:replicas']).toBeUndefined();
  });
  it('fields dropped from an applied configuration go unless another manager owns them', () => {
    const a1 = applyManaged(undefined, deployment(1, 'a', { env: [{ name: 'X', value: '1' }], args: ['x'] }), new Map(), w('me'), deploymentType, false, {}, T0);
    const live = a1.object;
    const a2 = applyManaged(live, deployment(1, 'a'), a1.managed, w('me'), deploymentType, false, {}, T1);
    const c = (a2.object as any).spec.template.spec.containers[0];
    expect(c.env).toBeUndefined();
    expect(c.args).toBeUndefined();
    // Another applier also owning args keeps them.
    const other = applyManaged(live, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { template: { spec: { containers: [{ name: 'app', args: ['x'] }] } } } },
      a1.managed, w('other'), deploymentType, false, {}, T1);
    const a3 = applyManaged(other.object as Record<string, unknown>, deployment(1, 'a'), other.managed, w('me'), deploymentType, false, {}, T1);
    expect((a3.object as any).spec.template.spec.containers[0].args).toStrictEqual(['x']);
    expect((a3.object as any).spec.template.spec.containers[0].env).toBeUndefined();
  });
  it('kubectl takes over fields of the last-applied annotation that still hold their values (CSA to SSA)', () => {
    const cfg = deployment(1, 'a');
    const live = { ...cfg, metadata: { ...cfg.metadata, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(cfg) } } };
    const m = updateManaged(undefined, live, new Map(), w('kubectl-client-side-apply'), deploymentType, {}, T0);
    const r = applyManaged(live, deployment(1, 'b'), m, w('kubectl'), deploymentType, false, {}, T1);
    expect((r.object as any).spec.template.spec.containers[0].image).toBe('b');
    // A field changed since the last apply by someone else is still a conflict.
    const changed = { ...live, spec: { ...live.spec, replicas: 9 } };
    const m2 = updateManaged(live, changed, m, w('kubectl-scale'), deploymentType, {}, T1);
    expect(() => applyManaged(changed, deployment(1, 'a'), m2, w('kubectl'), deploymentType, false, {}, T1)).toThrow(/conflict with "kubectl-scale"/);
    expect(() => applyManaged(live, deployment(1, 'b'), m, w('someone'), deploymentType, false, {}, T1)).toThrow(/conflict/);
  });
  it('at most 10 update entries: the oldest merge into ancient-changes', () => {
    let m: Managed = new Map();
    let obj: Record<string, unknown> = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: {} };
    for (let i = 0; i < 12; i++) {
      const next = { ...obj, data: { ...(obj.data as object), [`k${i}`]: 'v' } };
      m = updateManaged(obj, next, m, w(`m${i}`, 'v1'), cmType, {}, `2026-01-01T00:00:${String(i).padStart(2, '0')}Z`);
      obj = next;
    }
    const managers = encodeManagedFields(m).map((e) => e.manager);
    expect(managers).toHaveLength(10);
    expect(managers).toContain('ancient-changes');
    expect(managers).not.toContain('m0');
    expect(managers).not.toContain('m2');
    expect(managers).toContain('m3');
    const ancient = encodeManagedFields(m).find((e) => e.manager === 'ancient-changes')!;
    expect(ancient.fieldsV1).toStrictEqual({ 'f:data': { 'f:k0': {}, 'f:k1': {}, 'f:k2': {} } });
    expect(capManagers(new Map(m)).size).toBe(10);
  });
  it('decodes and encodes metadata.managedFields; the request\'s own kept when valid, [] resets, subresources use the live ones', () => {
    const list = [{ manager: 'a', operation: 'Update', apiVersion: 'v1', time: T0, fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:x': {} } } }];
    expect(encodeManagedFields(decodeManagedFields(list))).toStrictEqual(list);
    expect(() => decodeManagedFields([{ manager: 'a', operation: 'Patch' }])).toThrow(/invalid operation/);
    const live = { metadata: { managedFields: list } } as never;
    expect(baseManaged(live, [], undefined).size).toBe(0);
    expect(baseManaged(live, undefined, undefined).size).toBe(1);
    expect(baseManaged(live, [{ ...list[0], manager: 'b' }], undefined).get(JSON.stringify(['b', 'Update', 'v1', '']))).toBeDefined();
    expect(baseManaged(live, [{ ...list[0], manager: 'b' }], 'status').get(JSON.stringify(['a', 'Update', 'v1', '']))).toBeDefined();
    expect(baseManaged(live, [{ manager: 'bad', operation: 'nope' }], undefined).size).toBe(1);
  });
  it('the default manager is the User-Agent up to the first /', () => {
    expect(managerFromUserAgent('kubectl/v1.32.4 (linux/amd64) kubernetes/abc')).toBe('kubectl');
    expect(managerFromUserAgent(undefined)).toBe('');
  });
  it('sets (finalizers) are owned by value', () => {
    const t = managedFieldsType({ group: '', version: 'v1', kind: 'ConfigMap' }, compilePatchMeta({}));
    const m = updateManaged(undefined, { metadata: { name: 'c', finalizers: ['a', 'b'] } }, new Map(), w('x', 'v1'), t, {}, T0);
    expect(fields(m)['x/Update']).toStrictEqual({ 'f:metadata': { 'f:finalizers': { '.': {}, 'v:"a"': {}, 'v:"b"': {} } } });
  });
  it('values nested deeper than any schema are tracked as one value, and deep FieldsV1 is refused, never a stack overflow', () => {
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 9_900; i++) { deep.a = {}; deep = deep.a as Record<string, unknown>; }
    const t = managedFieldsType({ group: 'example.com', version: 'v1', kind: 'Deep' });
    const m = updateManaged(undefined, { metadata: { name: 'x' }, spec: root }, new Map(), w('x', 'example.com/v1'), t, {}, T0);
    expect(encodeManagedFields(m)).toHaveLength(1);
    const r = applyManaged({ metadata: { name: 'x' }, spec: root }, { metadata: { name: 'x' }, spec: root }, m, w('y', 'example.com/v1'), t, true, {}, T1);
    expect(r.changed).toBe(false);
    let fv: Record<string, unknown> = {};
    const fvRoot = fv;
    for (let i = 0; i < 20_000; i++) { fv['f:a'] = {}; fv = fv['f:a'] as Record<string, unknown>; }
    expect(() => FieldSet.fromFieldsV1(fvRoot)).toThrow(/nested too deeply/);
  });
});
