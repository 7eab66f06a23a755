import { describe, expect, it } from 'vitest';
import { formatFieldError } from '@k8ts/api';
import { compileSchema, validateObject, type JSONSchemaProps } from './index.js';

const errorsOf = (schema: JSONSchemaProps, obj: unknown, old?: unknown): string[] =>
  validateObject(compileSchema(schema), obj, old).map(formatFieldError);
const sorted = (a: string[]) => [...a].sort();

// The CronTab of kubernetes.io "Extend the Kubernetes API with CustomResourceDefinitions", section Validation.
const cronTab: JSONSchemaProps = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      properties: {
        cronSpec: { type: 'string', pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$' },
        image: { type: 'string' },
        replicas: { type: 'integer', minimum: 1, maximum: 10 },
      },
    },
  },
};

describe('validateObject: the documented CronTab', () => {
  it('accepts a valid object and reports the pattern and maximum as upstream', () => {
    expect(errorsOf(cronTab, { spec: { cronSpec: '* * * * */5', image: 'my-awesome-cron-image', replicas: 5 } })).toEqual([]);
    expect(errorsOf(cronTab, { spec: { cronSpec: '* * * *', image: 'my-awesome-cron-image', replicas: 15 } })).toEqual([
      "spec.cronSpec: Invalid value: \"* * * *\": spec.cronSpec in body should match '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$'",
      'spec.replicas: Invalid value: 15: spec.replicas in body should be less than or equal to 10',
    ]);
  });

  it('reports a wrong type with the detected type as the value', () => {
    expect(errorsOf(cronTab, { spec: { replicas: 'three' } })).toEqual([
      'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"',
    ]);
    expect(validateObject(compileSchema(cronTab), { spec: { replicas: 'x' } })[0].type).toBe('FieldValueTypeInvalid');
  });

  it('reports the minimum, and exclusive bounds with "less than"/"greater than"', () => {
    expect(errorsOf(cronTab, { spec: { replicas: 0 } })).toEqual([
      'spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1',
    ]);
    const s = { type: 'object', properties: { n: { type: 'number', minimum: 0, exclusiveMinimum: true, maximum: 1.5, exclusiveMaximum: true } } };
    expect(errorsOf(s, { n: 0 })).toEqual(['n: Invalid value: 0: n in body should be greater than 0']);
    expect(errorsOf(s, { n: 1.5 })).toEqual(['n: Invalid value: 1.5: n in body should be less than 1.5']);
    expect(errorsOf(s, { n: 1 })).toEqual([]);
  });
});

// Cases of upstream's TestValidateCustomResource (apiextensions-apiserver pkg/apiserver/validation/validation_test.go),
// compared as sets as there.
describe('validateObject: upstream TestValidateCustomResource', () => {
  const field = (f: JSONSchemaProps): JSONSchemaProps => ({ type: 'object', properties: { field: f } });
  const cases: { name: string; schema: JSONSchemaProps; ok: unknown[]; bad: [unknown, string[]][] }[] = [
    {
      name: 'map', schema: field({ type: 'object', additionalProperties: { type: 'string' } }),
      ok: [{}, { field: { a: 'b' } }],
      bad: [[{ field: { a: 1 } }, ['field.a: Invalid value: "integer": field.a in body must be of type string: "integer"']]],
    },
    {
      name: '!nullable', schema: field({ type: 'object' }),
      ok: [{}, { field: {} }],
      bad: [
        [{ field: 'foo' }, ['field: Invalid value: "string": field in body must be of type object: "string"']],
        [{ field: 42 }, ['field: Invalid value: "integer": field in body must be of type object: "integer"']],
        [{ field: true }, ['field: Invalid value: "boolean": field in body must be of type object: "boolean"']],
        [{ field: 1.2 }, ['field: Invalid value: "number": field in body must be of type object: "number"']],
        [{ field: [] }, ['field: Invalid value: "array": field in body must be of type object: "array"']],
        [{ field: null }, ['field: Invalid value: "null": field in body must be of type object: "null"']],
      ],
    },
    {
      name: 'nullable', schema: field({ type: 'object', nullable: true }),
      ok: [{}, { field: {} }, { field: null }],
      bad: [[{ field: 'foo' }, ['field: Invalid value: "string": field in body must be of type object: "string"']]],
    },
    {
      name: 'nullable and no type', schema: field({ nullable: true }),
      ok: [{}, { field: {} }, { field: null }, { field: 'foo' }, { field: 42 }, { field: true }, { field: 1.2 }, { field: [] }],
      bad: [],
    },
    {
      name: 'x-kubernetes-int-or-string', schema: field({ 'x-kubernetes-int-or-string': true }),
      ok: [{}, { field: 42 }, { field: 'foo' }],
      bad: [
        [{ field: null }, ['field: Invalid value: "null": field in body must be of type integer,string: "null"']],
        [{ field: true }, ['field: Invalid value: "boolean": field in body must be of type integer,string: "boolean"']],
        [{ field: 1.2 }, ['field: Invalid value: "number": field in body must be of type integer,string: "number"']],
        [{ field: {} }, ['field: Invalid value: "object": field in body must be of type integer,string: "object"']],
        [{ field: [] }, ['field: Invalid value: "array": field in body must be of type integer,string: "array"']],
      ],
    },
    {
      name: 'nullable, x-kubernetes-int-or-string and user-provided anyOf',
      schema: field({ nullable: true, 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] }),
      ok: [{}, { field: null }, { field: 42 }, { field: 'foo' }],
      bad: [
        [{ field: true }, [
          '<nil>: Invalid value: "": "field" must validate at least one schema (anyOf)',
          'field: Invalid value: "boolean": field in body must be of type integer,string: "boolean"',
          'field: Invalid value: "boolean": field in body must be of type integer: "boolean"',
        ]],
        [{ field: [] }, [
          '<nil>: Invalid value: "": "field" must validate at least one schema (anyOf)',
          'field: Invalid value: "array": field in body must be of type integer,string: "array"',
          'field: Invalid value: "array": field in body must be of type integer: "array"',
        ]],
      ],
    },
    {
      name: 'nullable, x-kubernetes-int-or-string and user-provider allOf',
      schema: field({ nullable: true, 'x-kubernetes-int-or-string': true, allOf: [{ anyOf: [{ type: 'integer' }, { type: 'string' }] }] }),
      ok: [{}, { field: null }, { field: 42 }, { field: 'foo' }],
      bad: [
        [{ field: 1.2 }, [
          '<nil>: Invalid value: "": "field" must validate all the schemas (allOf). None validated',
          '<nil>: Invalid value: "": "field" must validate at least one schema (anyOf)',
          'field: Invalid value: "number": field in body must be of type integer,string: "number"',
          'field: Invalid value: "number": field in body must be of type integer: "number"',
        ]],
      ],
    },
    {
      name: 'required field',
      schema: { type: 'object', required: ['field'], properties: { field: { type: 'object', required: ['nested'], properties: { nested: {} } } } },
      ok: [],
      bad: [
        [{ test: 'a' }, ['field: Required value']],
        [{ field: {} }, ['field.nested: Required value']],
      ],
    },
    {
      name: 'enum',
      schema: field({
        type: 'object', required: ['nestedint', 'nestedstring'],
        properties: { nestedint: { type: 'integer', enum: [1, 2] }, nestedstring: { type: 'string', enum: ['a', 'b'] } },
      }),
      ok: [{ field: { nestedint: 1, nestedstring: 'b' } }],
      bad: [
        [{ field: {} }, ['field.nestedint: Required value', 'field.nestedstring: Required value']],
        [{ field: { nestedint: 'x', nestedstring: true } }, [
          'field.nestedint: Invalid value: "string": field.nestedint in body must be of type integer: "string"',
          'field.nestedint: Unsupported value: "x": supported values: "1", "2"',
          'field.nestedstring: Invalid value: "boolean": field.nestedstring in body must be of type string: "boolean"',
          'field.nestedstring: Unsupported value: true: supported values: "a", "b"',
        ]],
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      for (const o of c.ok) expect(errorsOf(c.schema, o), JSON.stringify(o)).toEqual([]);
      for (const [o, want] of c.bad) expect(sorted(errorsOf(c.schema, o)), JSON.stringify(o)).toEqual(sorted(want));
    });
  }

  it('invalid regex: reported per value (the CRD itself is refused by validateStructuralSchema)', () => {
    expect(errorsOf(field({ type: 'string', pattern: '+' }), { field: 'foo' })).toEqual([
      "field: Invalid value: \"foo\": field in body should match '+, but pattern is invalid: error parsing regexp: missing argument to repetition operator: `+`'",
    ]);
  });
});

describe('validateObject: the other kube-openapi keywords', () => {
  it('string lengths, multipleOf, items and properties counts', () => {
    const s: JSONSchemaProps = {
      type: 'object',
      properties: {
        name: { type: 'string', minLength: 2, maxLength: 5 },
        step: { type: 'integer', multipleOf: 5 },
        ratio: { type: 'number', multipleOf: 0.5 },
        list: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 2 },
        map: { type: 'object', additionalProperties: { type: 'string' }, minProperties: 1, maxProperties: 2 },
      },
    };
    expect(errorsOf(s, { name: 'ab', step: 10, ratio: 1.5, list: ['a'], map: { a: 'b' } })).toEqual([]);
    expect(errorsOf(s, { name: 'a', step: 7, ratio: 1.2, list: [], map: {} })).toEqual([
      'name: Invalid value: "a": name in body should be at least 2 chars long',
      'step: Invalid value: 7: step in body should be a multiple of 5',
      'ratio: Invalid value: 1.2: ratio in body should be a multiple of 0.5',
      'list: Invalid value: 0: list in body should have at least 1 items',
      'map: Invalid value: 0: map in body should have at least 1 properties',
    ]);
    expect(errorsOf(s, { name: 'abcdef', list: ['a', 'b', 'c'], map: { a: 'a', b: 'b', c: 'c' } })).toEqual([
      'name: Too long: may not be longer than 5',
      'list: Too many: 3: must have at most 2 items',
      'map: Too many: 3: must have at most 2 items',
    ]);
  });

  it('patterns are RE2: (?i) flags, classes; backreferences and lookaheads are refused as by Go', () => {
    const s: JSONSchemaProps = { type: 'object', properties: { a: { type: 'string', pattern: '(?i)^abc$' }, b: { type: 'string', pattern: '^[[:alpha:]]+$' }, c: { type: 'string', pattern: '^(?:x|y)+$' } } };
    expect(errorsOf(s, { a: 'ABC', b: 'xyz', c: 'xyx' })).toEqual([]);
    expect(errorsOf(s, { a: 'abcd', b: 'x1', c: 'z' })).toEqual([
      "a: Invalid value: \"abcd\": a in body should match '(?i)^abc$'",
      "b: Invalid value: \"x1\": b in body should match '^[[:alpha:]]+$'",
      "c: Invalid value: \"z\": c in body should match '^(?:x|y)+$'",
    ]);
  });

  it('counts characters, not UTF-16 units, for lengths (Go counts runes)', () => {
    expect(errorsOf({ type: 'object', properties: { s: { type: 'string', maxLength: 2 } } }, { s: 'ü😀' })).toEqual([]);
  });

  it('items errors name the index; nested objects name the path', () => {
    const s: JSONSchemaProps = {
      type: 'object',
      properties: { spec: { type: 'object', properties: { ports: { type: 'array', items: { type: 'object', required: ['port'], properties: { port: { type: 'integer', maximum: 65535 } } } } } } },
    };
    expect(errorsOf(s, { spec: { ports: [{ port: 80 }, { port: 70000 }, {}] } })).toEqual([
      'spec.ports[1].port: Invalid value: 70000: spec.ports[1].port in body should be less than or equal to 65535',
      'spec.ports[2].port: Required value',
    ]);
  });

  it('oneOf and not', () => {
    const s: JSONSchemaProps = {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: { a: { type: 'string' }, b: { type: 'string' } },
          oneOf: [{ required: ['a'] }, { required: ['b'] }],
          not: { required: ['c'] },
        },
      },
    };
    expect(errorsOf(s, { spec: { a: 'x' } })).toEqual([]);
    expect(sorted(errorsOf(s, { spec: {} }))).toEqual(sorted([
      '<nil>: Invalid value: "": "spec" must validate one and only one schema (oneOf). Found none valid',
      'spec.a: Required value',
    ]));
    expect(errorsOf(s, { spec: { a: 'x', b: 'y' } })).toEqual([
      '<nil>: Invalid value: "": "spec" must validate one and only one schema (oneOf). Found 2 valid alternatives',
    ]);
    expect(errorsOf(s, { spec: { a: 'x', c: 'z' } })).toEqual(['<nil>: Invalid value: "": "spec" must not validate the schema (not)']);
  });

  it('formats upstream checks: date-time, uuid, ipv4, byte; unknown formats are documentation', () => {
    const s: JSONSchemaProps = {
      type: 'object',
      properties: {
        t: { type: 'string', format: 'date-time' }, u: { type: 'string', format: 'uuid' },
        ip: { type: 'string', format: 'ipv4' }, b: { type: 'string', format: 'byte' }, x: { type: 'string', format: 'my-own' },
      },
    };
    expect(errorsOf(s, { t: '2024-01-02T03:04:05Z', u: '123e4567-e89b-12d3-a456-426614174000', ip: '10.0.0.1', b: 'aGk=', x: 'anything' })).toEqual([]);
    expect(errorsOf(s, { t: 'yesterday', u: 'nope', ip: '300.1.1.1', b: '!!' })).toEqual([
      't: Invalid value: "yesterday": t in body must be of type date-time: "yesterday"',
      'u: Invalid value: "nope": u in body must be of type uuid: "nope"',
      'ip: Invalid value: "300.1.1.1": ip in body must be of type ipv4: "300.1.1.1"',
      'b: Invalid value: "!!": b in body must be of type byte: "!!"',
    ]);
  });

  it('integers validate as numbers (upstream isIntFloat), floats with integral value as integers', () => {
    const s: JSONSchemaProps = { type: 'object', properties: { n: { type: 'number' }, i: { type: 'integer' } } };
    expect(errorsOf(s, { n: 3, i: 4.0 })).toEqual([]);
  });
});

// upstream listtype/validation_test.go: set and map lists report the duplicate item by index.
describe('validateObject: x-kubernetes-list-type', () => {
  const s: JSONSchemaProps = {
    type: 'object',
    properties: {
      set: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
      map: {
        type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name', 'protocol'],
        items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, protocol: { type: 'string', default: 'TCP' }, port: { type: 'integer' } } },
      },
      atomic: { type: 'array', items: { type: 'string' } },
    },
  };
  it('set: the second appearance of a repeated value; objects compare whatever their key order', () => {
    expect(errorsOf(s, { set: ['a', 'b', 'a', 'a'], atomic: ['a', 'a'] })).toEqual(['set[2]: Duplicate value: "a"']);
    const objs: JSONSchemaProps = { type: 'object', properties: { set: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'object', 'x-kubernetes-map-type': 'atomic', 'x-kubernetes-preserve-unknown-fields': true } } } };
    expect(errorsOf(objs, { set: [{ a: 1, b: 2 }, { b: 2, a: 1 }] })).toEqual(['set[1]: Duplicate value: {"b":2,"a":1}']);
  });
  it('map: duplicate keys, reported with the key', () => {
    // (defaults for keys are applied before validation; here `protocol` differs or is unset)
    expect(errorsOf(s, { map: [{ name: 'a', port: 1 }, { name: 'a', protocol: 'UDP' }] })).toEqual([]);
    expect(errorsOf(s, { map: [{ name: 'a', protocol: 'TCP', port: 1 }, { name: 'a', protocol: 'TCP', port: 2 }] })).toEqual([
      'map[1]: Duplicate value: {"name":"a","protocol":"TCP"}',
    ]);
    expect(errorsOf(s, { map: [{ name: 'a' }, 'x'] })).toEqual([
      'map[1]: Invalid value: "string": map[1] in body must be of type object: "string"',
      'map[1]: Invalid value: "x": must be an object for an array of list-type map',
    ]);
  });
  it('lists in a map are named by key, as upstream\'s field.Path Key', () => {
    const m: JSONSchemaProps = { type: 'object', properties: { m: { type: 'object', additionalProperties: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } } } } };
    expect(errorsOf(m, { m: { k: ['a', 'a'] } })).toEqual(['m[k][1]: Duplicate value: "a"']);
  });
});

// upstream objectmeta/validation.go: embedded resources need apiVersion and kind; their metadata is checked.
describe('validateObject: x-kubernetes-embedded-resource', () => {
  const s: JSONSchemaProps = {
    type: 'object',
    properties: {
      template: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true },
    },
  };
  it('requires apiVersion and kind', () => {
    expect(errorsOf(s, { template: { metadata: { name: 'x' } } })).toEqual([
      'template.apiVersion: Required value',
      'template.kind: Required value',
    ]);
    expect(errorsOf(s, { template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' } } })).toEqual([]);
  });
  it('checks apiVersion, kind and metadata values', () => {
    expect(errorsOf(s, { template: { apiVersion: 'a/b/c', kind: 'Not_a_kind', metadata: { name: 'a/b', labels: { 'bad key!': 'v' } } } })).toEqual([
      'template.apiVersion: Invalid value: "a/b/c": unexpected GroupVersion string: a/b/c',
      "template.kind: Invalid value: \"Not_a_kind\": may have mixed case, but should otherwise match: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
      "template.metadata.name: Invalid value: \"a/b\": may not contain '/'",
      expect.stringMatching(/^template\.metadata\.labels: Invalid value: "bad key!": /),
    ]);
  });
});

// Validation ratcheting (KEP-4008, CRDValidationRatcheting, on by default in 1.32; kube-openapi ratcheting.go):
// on update, values equal to their correlated old value are not validated again.
describe('validateObject: ratcheting on update', () => {
  const s: JSONSchemaProps = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          name: { type: 'string', maxLength: 3 },
          other: { type: 'string' },
          ports: {
            type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'],
            items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, port: { type: 'integer', maximum: 100 } } },
          },
          tags: { type: 'array', items: { type: 'string', maxLength: 2 } },
        },
      },
    },
  };
  const stored = { spec: { name: 'toolong', other: 'a', ports: [{ name: 'a', port: 500 }], tags: ['long'] } };

  it('an invalid value stored before is kept when other fields change', () => {
    expect(errorsOf(s, { spec: { ...stored.spec, other: 'b' } }, stored)).toEqual([]);
  });

  it('a changed value is validated', () => {
    expect(errorsOf(s, { spec: { ...stored.spec, name: 'stilltoolong' } }, stored)).toEqual(['spec.name: Too long: may not be longer than 3']);
    expect(errorsOf(s, { spec: { ...stored.spec, name: 'stilltoolong' } })).toHaveLength(3); // without old: name, ports[0].port, tags[0]
  });

  it('map-list items correlate by key; atomic list items do not', () => {
    const next = { spec: { ...stored.spec, ports: [{ name: 'b', port: 1 }, { name: 'a', port: 500 }], tags: ['long', 'x'] } };
    expect(errorsOf(s, next, stored)).toEqual([
      'spec.tags[0]: Too long: may not be longer than 2',
    ]);
  });
});
