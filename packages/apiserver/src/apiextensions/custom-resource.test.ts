import { describe, expect, it } from 'vitest';
import type { KubeObject } from '@k8ts/api';
import type { CRD } from '../registry/apiextensions/customresourcedefinition.js';
import { customPrinter, parseSimplePath, servedVersions, valueAt } from './custom-resource.js';

/* What a CRD serves per version: rows, conversion None, Table cells, generation and scale (upstream's crdHandler, tableconvertor, strategy). */

const schema = { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } };
const CRONTABS = {
  apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'crontabs.example.com' },
  spec: {
    group: 'example.com', scope: 'Namespaced',
    names: { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', listKind: 'CronTabList', shortNames: ['ct'] },
    versions: [
      { name: 'v1beta1', served: true, storage: false, deprecated: true, schema },
      { name: 'v1', served: true, storage: true, schema, subresources: { status: {}, scale: { specReplicasPath: '.spec.size', statusReplicasPath: '.status.size', labelSelectorPath: '.status.selector' } } },
      { name: 'v0', served: false, storage: false, schema },
    ],
  },
  status: { acceptedNames: { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', listKind: 'CronTabList', shortNames: ['ct'] }, storedVersions: ['v1'] },
} as unknown as CRD;

describe('servedVersions', () => {
  it('the storage version first, no unserved version, a conversion None for the others, the deprecation warning', () => {
    const vs = servedVersions(CRONTABS);
    expect(vs.map((v) => v.def.version)).toEqual(['v1', 'v1beta1']);
    expect(vs[0].def).toMatchObject({ group: 'example.com', resource: 'crontabs', kind: 'CronTab', namespaced: true, shortNames: ['ct'] });
    expect(vs[0].def.subresources.map((s) => s.name)).toEqual(['status', 'scale']);
    expect(vs[1].def.storageVersion).toBe('v1');
    expect(vs[1].strategy.def).toBe(vs[0].def);
    expect(vs[1].warning).toBe('example.com/v1beta1 CronTab is deprecated');
    const stored = vs[1].conversion!.toStorage({ apiVersion: 'example.com/v1beta1', kind: 'CronTab' } as KubeObject);
    expect(stored.apiVersion).toBe('example.com/v1');
    expect(vs[1].conversion!.fromStorage(stored).apiVersion).toBe('example.com/v1beta1');
  });

  it('generation: with /status every change but metadata and status; without, every change but metadata', () => {
    const [v1, v1beta1] = servedVersions(CRONTABS);
    const old = { metadata: { name: 'a' }, spec: { size: 1 }, status: { size: 1 } } as unknown as KubeObject;
    const statusOnly = { ...old, status: { size: 2 } } as unknown as KubeObject;
    const labels = { ...old, metadata: { name: 'a', labels: { x: 'y' } } } as unknown as KubeObject;
    const other = { ...old, extra: 1 } as unknown as KubeObject;
    expect(v1.strategy.generationChanged!(statusOnly, old)).toBe(false);
    expect(v1.strategy.generationChanged!(labels, old)).toBe(false);
    expect(v1.strategy.generationChanged!(other, old)).toBe(true);
    expect(v1beta1.strategy.generationChanged!(statusOnly, old)).toBe(true);
  });

  it('/status: create drops status, update keeps the old one; /scale reads and writes its paths', () => {
    const [v1] = servedVersions(CRONTABS);
    expect(v1.strategy.initialStatus({ status: { size: 3 } } as unknown as KubeObject)).toBeUndefined();
    const next = { spec: { size: 2 }, status: { size: 9 } } as unknown as KubeObject;
    v1.strategy.prepareForUpdate(next, { status: { size: 1 } } as unknown as KubeObject);
    expect(next.status).toEqual({ size: 1 });
    const scale = v1.strategy.scale!;
    const obj = { spec: { size: 2 }, status: { size: 1, selector: 'app=x' } } as unknown as KubeObject;
    expect([scale.specReplicas(obj), scale.statusReplicas(obj), scale.selector(obj)]).toEqual([2, 1, 'app=x']);
    const empty = {} as KubeObject;
    scale.setSpecReplicas(empty, 4);
    expect(empty).toEqual({ spec: { size: 4 } });
    expect(v1.strategy.validate({ metadata: { name: 'a' }, spec: { size: -1 } } as unknown as KubeObject).map((e) => `${e.field}: ${e.message}`))
      .toContain('spec.size: should be a non-negative integer');
  });
});

describe('selectableFields', () => {
  it('select as their path without the leading dot; unset is the empty string', () => {
    const crd = structuredClone(CRONTABS) as any;
    crd.spec.versions[1].selectableFields = [{ jsonPath: '.spec.color' }, { jsonPath: '.spec.size' }];
    const [v1, v1beta1] = servedVersions(crd);
    expect(v1.strategy.fields({ spec: { color: 'red', size: 3 } } as unknown as KubeObject)).toEqual({ 'spec.color': 'red', 'spec.size': '3' });
    expect(v1.strategy.fields({} as KubeObject)).toEqual({ 'spec.color': '', 'spec.size': '' });
    expect(v1beta1.strategy.fields({ spec: { color: 'red' } } as unknown as KubeObject)).toEqual({});
  });
});

describe('simple JSONPaths', () => {
  it('parses and reads dotted, indexed and quoted segments', () => {
    expect(parseSimplePath(".metadata.labels['app.kubernetes.io/name']")).toEqual(['metadata', 'labels', 'app.kubernetes.io/name']);
    expect(parseSimplePath('.status.conditions[1].type')).toEqual(['status', 'conditions', 1, 'type']);
    expect(parseSimplePath('spec')).toBeUndefined();
    expect(valueAt({ status: { conditions: [{ type: 'A' }, { type: 'B' }] } }, ['status', 'conditions', 1, 'type'])).toBe('B');
    expect(valueAt({ spec: 'x' }, ['spec', 'y'])).toBeUndefined();
  });
});

describe('customPrinter (tableconvertor)', () => {
  const now = new Date('2026-01-01T01:00:00Z');
  it('NAME and Age when no columns are given', () => {
    const p = customPrinter(undefined);
    expect(p.columns.map((c) => c.name)).toEqual(['Name', 'Age']);
    expect(p.row({ metadata: { name: 'a', creationTimestamp: '2026-01-01T00:00:00Z' } } as KubeObject, now)).toEqual(['a', '60m']);
  });

  it('cells of each type as cellForJSONValue: a value of another type is none; strings print anything', () => {
    const p = customPrinter([
      { name: 'Int', type: 'integer', jsonPath: '.spec.i' }, { name: 'Num', type: 'number', jsonPath: '.spec.n' },
      { name: 'Bool', type: 'boolean', jsonPath: '.spec.b' }, { name: 'Str', type: 'string', jsonPath: '.spec.s', priority: 1 },
      { name: 'When', type: 'date', jsonPath: '.spec.t' }, { name: 'Missing', type: 'string', jsonPath: '.spec.none' },
      { name: 'Bad', type: 'integer', jsonPath: '.spec.s' },
    ]);
    expect(p.columns.map((c) => [c.name, c.type, c.priority])).toEqual([
      ['Name', 'string', 0], ['Int', 'integer', 0], ['Num', 'number', 0], ['Bool', 'boolean', 0], ['Str', 'string', 1], ['When', 'date', 0], ['Missing', 'string', 0], ['Bad', 'integer', 0],
    ]);
    const obj = { metadata: { name: 'a' }, spec: { i: 3.7, n: 2, b: true, s: { x: 1 }, t: '2025-12-31T23:00:00Z' } } as unknown as KubeObject;
    expect(p.row(obj, now)).toEqual(['a', 3, 2, true, '{"x":1}', '120m', null, null]);
    expect(customPrinter([{ name: 'T', type: 'date', jsonPath: '.spec.t' }]).row({ metadata: { name: 'a' }, spec: { t: 'yesterday' } } as unknown as KubeObject, now)).toEqual(['a', '<invalid>']);
  });
});
