import { describe, expect, it } from 'vitest';
import { compileSchema, prune, type JSONSchemaProps } from './index.js';
import { buildNode } from './node.js';
import { pruneValue } from './prune.js';

/** Prunes a copy of `json` against `schema` as upstream's PruneWithOptions(…, isResourceRoot, ReturnPruned). */
function run(json: string, schema: JSONSchemaProps | undefined, isResourceRoot = false): { obj: unknown; pruned: string[] } {
  const obj: unknown = JSON.parse(json);
  const pruned: string[] = [];
  pruneValue(obj, schema ? buildNode(schema) : undefined, isResourceRoot, '', pruned);
  return { obj, pruned: pruned.sort() };
}

// Cases of upstream's TestPrune (apiextensions-apiserver pkg/apiserver/schema/pruning/algorithm_test.go); upstream
// sorts the pruned paths before comparing, and so do these.
describe('prune: upstream TestPrune', () => {
  it('empty, scalar, scalar array', () => {
    expect(run('null', undefined)).toEqual({ obj: null, pruned: [] });
    expect(run('4', {})).toEqual({ obj: 4, pruned: [] });
    expect(run('[1,2]', { items: {} })).toEqual({ obj: [1, 2], pruned: [] });
  });

  it('object array', () => {
    expect(run('[{"a":1},{"b":1},{"a":1,"b":2,"c":3}]', { items: { properties: { a: {}, c: {} } } })).toEqual({
      obj: [{ a: 1 }, {}, { a: 1, c: 3 }], pruned: ['[1].b', '[2].b'],
    });
  });

  it('object array with nil schema', () => {
    expect(run('[{"a":1},{"b":1},{"a":1,"b":2,"c":3}]', undefined)).toEqual({
      obj: [{}, {}, {}], pruned: ['[0].a', '[1].b', '[2].a', '[2].b', '[2].c'],
    });
  });

  it('object array object', () => {
    const schema = { properties: { array: { items: { properties: { a: {}, c: {} } } }, specified: { properties: { a: {}, c: {} } } } };
    expect(run('{"array":[{"a":1},{"b":1},{"a":1,"b":2,"c":3}],"unspecified":{"a":1},"specified":{"a":1,"b":2,"c":3}}', schema)).toEqual({
      obj: { array: [{ a: 1 }, {}, { a: 1, c: 3 }], specified: { a: 1, c: 3 } },
      pruned: ['array[1].b', 'array[2].b', 'specified.b', 'unspecified'],
    });
  });

  it('nested x-kubernetes-preserve-unknown-fields', () => {
    const preserve = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
    const schema: JSONSchemaProps = {
      ...preserve,
      properties: {
        alpha: { type: 'string' },
        beta: { type: 'number' },
        pruning: { type: 'object', properties: { preserving: preserve, pruning: { type: 'object' } } },
        preserving: { ...preserve, properties: { preserving: preserve, pruning: { type: 'object' } } },
        preservingAdditionalPropertiesNotInheritingXPreserveUnknownFields: {
          ...preserve, additionalProperties: { type: 'object', properties: { specified: { type: 'object' } } },
        },
        preservingAdditionalPropertiesKeyPruneValues: {
          type: 'object', additionalProperties: { type: 'object', properties: { specified: { type: 'object' } } },
        },
      },
    };
    const json = JSON.stringify({
      unspecified: 'bar', alpha: 'abc', beta: 42.0, unspecifiedObject: { unspecified: 'bar' },
      pruning: { unspecified: 'bar', unspecifiedObject: { unspecified: 'bar' }, pruning: { unspecified: 'bar' }, apiVersion: 'unknown', preserving: { unspecified: 'bar' } },
      preserving: { unspecified: 'bar', unspecifiedObject: { unspecified: 'bar' }, pruning: { unspecified: 'bar' }, preserving: { unspecified: 'bar' } },
      preservingAdditionalPropertiesNotInheritingXPreserveUnknownFields: { foo: { specified: { unspecified: 'bar' }, unspecified: 'bar' } },
      preservingAdditionalPropertiesKeyPruneValues: { foo: { specified: { unspecified: 'bar' }, unspecified: 'bar' } },
    });
    expect(run(json, schema)).toEqual({
      obj: {
        unspecified: 'bar', alpha: 'abc', beta: 42.0, unspecifiedObject: { unspecified: 'bar' },
        pruning: { pruning: {}, preserving: { unspecified: 'bar' } },
        preserving: { unspecified: 'bar', unspecifiedObject: { unspecified: 'bar' }, pruning: {}, preserving: { unspecified: 'bar' } },
        preservingAdditionalPropertiesNotInheritingXPreserveUnknownFields: { foo: { specified: {} } },
        preservingAdditionalPropertiesKeyPruneValues: { foo: { specified: {} } },
      },
      pruned: [
        'preserving.pruning.unspecified',
        'preservingAdditionalPropertiesKeyPruneValues.foo.specified.unspecified',
        'preservingAdditionalPropertiesKeyPruneValues.foo.unspecified',
        'preservingAdditionalPropertiesNotInheritingXPreserveUnknownFields.foo.specified.unspecified',
        'preservingAdditionalPropertiesNotInheritingXPreserveUnknownFields.foo.unspecified',
        'pruning.apiVersion', 'pruning.pruning.unspecified', 'pruning.unspecified', 'pruning.unspecifiedObject',
      ],
    });
  });

  it('additionalProperties with schema', () => {
    expect(run('{"a":1,"b":1,"c":{"a":1,"b":2,"c":{"a":1}}}', { properties: { a: {}, c: { additionalProperties: { type: 'integer' } } } })).toEqual({
      obj: { a: 1, c: { a: 1, b: 2, c: {} } }, pruned: ['b', 'c.c.a'],
    });
  });

  it('additionalProperties with bool: keys stay, their values are pruned as unspecified', () => {
    expect(run('{"a":1,"b":1,"c":{"a":1,"b":2,"c":{"a":1, "apiVersion": "unknown"}}}', { properties: { a: {}, c: { additionalProperties: false } } })).toEqual({
      obj: { a: 1, c: { a: 1, b: 2, c: {} } }, pruned: ['b', 'c.c.a', 'c.c.apiVersion'],
    });
  });

  // Upstream's case "x-kubernetes-embedded-resource, with root=true". Here pruning also coerces metadata to
  // ObjectMeta (upstream does that right after, in objectmeta.Coerce, reporting the same paths as unknown fields),
  // so `metadata.unspecified` goes too.
  it('x-kubernetes-embedded-resource, with root=true', () => {
    const embedded = (props: JSONSchemaProps) => ({ type: 'object', 'x-kubernetes-embedded-resource': true, properties: props });
    const schema: JSONSchemaProps = {
      type: 'object',
      properties: {
        pruned: embedded({ spec: { type: 'object' } }),
        preserving: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true },
        nested: embedded({ spec: { type: 'object', properties: { embedded: embedded({ spec: { type: 'object' } }) } } }),
      },
    };
    const resource = (extra: Record<string, unknown> = {}) => ({
      apiVersion: 'foo/v1', kind: 'Foo', unspecified: 'bar', metadata: { name: 'instance', unspecified: 'bar' }, spec: { unspecified: 'bar', ...extra },
    });
    const json = JSON.stringify({
      apiVersion: 'foo/v1', kind: 'Foo', metadata: { name: 'instance', unspecified: 'bar' }, unspecified: 'bar',
      pruned: resource(), preserving: resource(), nested: resource({ embedded: resource() }),
    });
    const kept = (spec: Record<string, unknown> = {}) => ({ apiVersion: 'foo/v1', kind: 'Foo', metadata: { name: 'instance' }, spec });
    expect(run(json, schema, true)).toEqual({
      obj: {
        apiVersion: 'foo/v1', kind: 'Foo', metadata: { name: 'instance' },
        pruned: kept(),
        preserving: { apiVersion: 'foo/v1', kind: 'Foo', unspecified: 'bar', metadata: { name: 'instance' }, spec: { unspecified: 'bar' } },
        nested: kept({ embedded: kept() }),
      },
      pruned: [
        'metadata.unspecified',
        'nested.metadata.unspecified', 'nested.spec.embedded.metadata.unspecified',
        'nested.spec.embedded.spec.unspecified', 'nested.spec.embedded.unspecified', 'nested.spec.unspecified', 'nested.unspecified',
        'preserving.metadata.unspecified',
        'pruned.metadata.unspecified', 'pruned.spec.unspecified', 'pruned.unspecified', 'unspecified',
      ],
    });
  });
});

describe('prune (compiled schema, as the custom resource handler calls it)', () => {
  const s = compileSchema({
    type: 'object',
    properties: {
      spec: { type: 'object', properties: { image: { type: 'string' }, ports: { type: 'array', items: { type: 'object', properties: { port: { type: 'integer' } } } } } },
      status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    },
  });

  it('returns the strict-decoding paths in document order and keeps what the schema specifies', () => {
    const obj = {
      apiVersion: 'stable.example.com/v1', kind: 'CronTab',
      metadata: { name: 'x', namespace: 'default', labels: { a: 'b' }, annotations: { c: 'd' }, finalizers: ['f'], bogus: 1 },
      spec: { image: 'nginx', foo: 'bar', ports: [{ port: 80, name: 'http' }] },
      status: { anything: { goes: true } },
      extra: 1,
    };
    expect(prune(s, obj)).toEqual(['metadata.bogus', 'spec.foo', 'spec.ports[0].name', 'extra']);
    expect(obj).toEqual({
      apiVersion: 'stable.example.com/v1', kind: 'CronTab',
      metadata: { name: 'x', namespace: 'default', labels: { a: 'b' }, annotations: { c: 'd' }, finalizers: ['f'] },
      spec: { image: 'nginx', ports: [{ port: 80 }] },
      status: { anything: { goes: true } },
    });
  });

  it('is a no-op on a pruned object', () => {
    const obj = { apiVersion: 'a/v1', kind: 'K', metadata: { name: 'x' }, spec: { image: 'i' } };
    expect(prune(s, obj)).toEqual([]);
    expect(obj).toEqual({ apiVersion: 'a/v1', kind: 'K', metadata: { name: 'x' }, spec: { image: 'i' } });
  });
});
