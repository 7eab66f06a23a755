import { describe, expect, it } from 'vitest';
import { applyDefaults, compileSchema, type JSONSchemaProps } from './index.js';
import { buildNode } from './node.js';
import { defaultValue } from './defaults.js';

function run(json: string, schema: JSONSchemaProps | undefined): unknown {
  const obj: unknown = JSON.parse(json);
  defaultValue(obj, schema ? buildNode(schema) : undefined);
  return obj;
}

// Cases of upstream's TestDefault (apiextensions-apiserver pkg/apiserver/schema/defaulting/algorithm_test.go).
describe('applyDefaults: upstream TestDefault', () => {
  const ab = { properties: { a: { default: 'A' }, b: { default: 'B' }, c: { default: 'C' } } };
  const cases: [string, string, JSONSchemaProps | undefined, string][] = [
    ['empty', 'null', undefined, 'null'],
    ['scalar', '4', { default: 'foo' }, '4'],
    ['scalar array', '[1,2]', { items: { default: 'foo' } }, '[1,2]'],
    ['object array', '[{"a":1},{"b":1},{"c":1}]', { items: ab },
      '[{"a":1,"b":"B","c":"C"},{"a":"A","b":1,"c":"C"},{"a":"A","b":"B","c":1}]'],
    ['object array object', '{"array":[{"a":1},{"b":2}],"object":{"a":1},"additionalProperties":{"x":{"a":1},"y":{"b":2}}}', {
      properties: {
        array: { items: { properties: { a: { default: 'A' }, b: { default: 'B' } } } },
        object: { properties: { a: { default: 'N' }, b: { default: 'O' } } },
        additionalProperties: { additionalProperties: { properties: { a: { default: 'alpha' }, b: { default: 'beta' } } } },
        foo: { default: 'bar' },
      },
    }, '{"array":[{"a":1,"b":"B"},{"a":"A","b":2}],"object":{"a":1,"b":"O"},"additionalProperties":{"x":{"a":1,"b":"beta"},"y":{"a":"alpha","b":2}},"foo":"bar"}'],
    ['empty and null', '[{},{"a":1},{"a":0},{"a":0.0},{"a":""},{"a":null},{"a":[]},{"a":{}}]', { items: { properties: { a: { default: 'A' } } } },
      '[{"a":"A"},{"a":1},{"a":0},{"a":0.0},{"a":""},{"a":"A"},{"a":[]},{"a":{}}]'],
    ['null in nullable list', '[null]', { nullable: true, items: { properties: { a: { default: 'A' } } } }, '[null]'],
    ['null in non-nullable list', '[null]', { items: { default: 'A' } }, '["A"]'],
    ['null in nullable object', '{"a": null}', { properties: { a: { nullable: true, default: 'A' } } }, '{"a": null}'],
    ['null in non-nullable object', '{"a": null}', { properties: { a: { default: 'A' } } }, '{"a": "A"}'],
    ['null in nullable object with additionalProperties', '{"a": null}', { additionalProperties: { nullable: true, default: 'A' } }, '{"a": null}'],
    ['null in non-nullable object with additionalProperties', '{"a": null}', { additionalProperties: { default: 'A' } }, '{"a": "A"}'],
    ['null unknown field', '{"a": null}', { additionalProperties: true }, '{"a": null}'],
  ];
  for (const [name, json, schema, want] of cases) {
    it(name, () => expect(run(json, schema)).toEqual(JSON.parse(want)));
  }
});

// kubernetes.io "Extend the Kubernetes API with CustomResourceDefinitions", sections Defaulting and
// "Defaulting and Nullable".
describe('applyDefaults: the documented examples', () => {
  const cronTab = compileSchema({
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          cronSpec: { type: 'string', pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$', default: '5 0 * * *' },
          image: { type: 'string' },
          replicas: { type: 'integer', minimum: 1, maximum: 10, default: 1 },
        },
      },
    },
  });

  it('fills cronSpec and replicas', () => {
    const obj = { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'my-new-cron-object' }, spec: { image: 'my-awesome-cron-image' } };
    applyDefaults(cronTab, obj);
    expect(obj.spec).toEqual({ cronSpec: '5 0 * * *', image: 'my-awesome-cron-image', replicas: 1 });
  });

  it('nullable: null stays where nullable, is defaulted where not', () => {
    const s = compileSchema({
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            foo: { type: 'string', nullable: false, default: 'default' },
            bar: { type: 'string', nullable: true },
            baz: { type: 'string' },
          },
        },
      },
    });
    const obj = { spec: { foo: null, bar: null, baz: null } };
    applyDefaults(s, obj);
    // "null values for fields that either do not specify the nullable flag, or give it a false value, will be
    // pruned before defaulting happens" (upstream's PruneNonNullableNullsWithoutDefaults).
    expect(obj).toEqual({ spec: { foo: 'default', bar: null } });
  });

  it('defaults apply inside a defaulted object (default: {} on a parent)', () => {
    const s = compileSchema({
      type: 'object',
      properties: {
        spec: {
          type: 'object', default: {},
          properties: { replicas: { type: 'integer', default: 1 }, strategy: { type: 'object', default: {}, properties: { type: { type: 'string', default: 'Rolling' } } } },
        },
      },
    });
    const obj: Record<string, unknown> = {};
    applyDefaults(s, obj);
    expect(obj).toEqual({ spec: { replicas: 1, strategy: { type: 'Rolling' } } });
  });

  it('a default is copied, never shared between objects', () => {
    const s = compileSchema({ type: 'object', properties: { list: { type: 'array', items: { type: 'string' }, default: ['a'] } } });
    const one: { list?: string[] } = {};
    const two: { list?: string[] } = {};
    applyDefaults(s, one);
    one.list!.push('b');
    applyDefaults(s, two);
    expect(two.list).toEqual(['a']);
  });

  it('defaults are pruned when compiled (upstream PruneDefaults): a default never adds unknown fields', () => {
    const s = compileSchema({
      type: 'object',
      properties: { spec: { type: 'object', default: { known: 1, unknown: 2 }, properties: { known: { type: 'integer' } } } },
    });
    const obj: Record<string, unknown> = {};
    applyDefaults(s, obj);
    expect(obj).toEqual({ spec: { known: 1 } });
  });

  it('map-list items get their key defaults', () => {
    const s = compileSchema({
      type: 'object',
      properties: {
        ports: {
          type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['port', 'protocol'],
          items: { type: 'object', required: ['port'], properties: { port: { type: 'integer' }, protocol: { type: 'string', default: 'TCP' } } },
        },
      },
    });
    const obj = { ports: [{ port: 80 }, { port: 53, protocol: 'UDP' }] };
    applyDefaults(s, obj);
    expect(obj.ports).toEqual([{ port: 80, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }]);
  });
});
