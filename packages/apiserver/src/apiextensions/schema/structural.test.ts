import { describe, expect, it } from 'vitest';
import { formatFieldError } from '@k8ts/api';
import { compileSchema, validateStructuralSchema, type JSONSchemaProps } from './index.js';

const P = 'spec.versions[0].schema.openAPIV3Schema';
const errs = (schema: JSONSchemaProps): string[] => validateStructuralSchema(schema, P).map(formatFieldError);

describe('validateStructuralSchema: structural schemas', () => {
  it('accepts the documented CronTab and an empty object schema', () => {
    expect(errs({
      type: 'object',
      properties: { spec: { type: 'object', properties: { cronSpec: { type: 'string' }, image: { type: 'string' }, replicas: { type: 'integer' } } } },
    })).toEqual([]);
    expect(errs({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true })).toEqual([]);
  });

  it('a field without a type (the message kubectl users see)', () => {
    expect(errs({ type: 'object', properties: { spec: { properties: { replicas: { type: 'integer' } } } } })).toEqual([
      `${P}.properties[spec].type: Required value: must not be empty for specified object fields`,
    ]);
  });

  // The non-structural example of kubernetes.io "Extend the Kubernetes API with CustomResourceDefinitions",
  // section "Specifying a structural schema": no type at the root and for foo, bar specified only in anyOf,
  // type and description inside anyOf, metadata restricted beyond name and generateName.
  it('the documented non-structural schema, each violation as upstream reports it (sorted)', () => {
    expect(errs({
      properties: {
        foo: { pattern: 'abc' },
        metadata: { type: 'object', properties: { name: { type: 'string', pattern: '^a' }, finalizers: { type: 'array', items: { type: 'string', pattern: 'my-finalizer' } } } },
      },
      anyOf: [{ properties: { bar: { type: 'integer', minimum: 42 } }, required: ['bar'], description: 'foo bar object' }],
    })).toEqual([
      `${P}.anyOf[0].description: Forbidden: must be empty to be structural`,
      `${P}.anyOf[0].properties[bar].type: Forbidden: must be empty to be structural`,
      `${P}.properties[bar]: Required value: because it is defined in ${P}.anyOf[0].properties[bar]`,
      `${P}.properties[foo].type: Required value: must not be empty for specified object fields`,
      `${P}.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified`,
      `${P}.type: Required value: must not be empty at the root`,
    ]);
  });

  it('metadata may restrict name and generateName only', () => {
    expect(errs({ type: 'object', properties: { metadata: { type: 'object', properties: { name: { type: 'string', maxLength: 10 }, generateName: { type: 'string' } } } } })).toEqual([]);
  });

  it('the two x-kubernetes-int-or-string patterns are structural (upstream isIntOrStringAnyOfPattern/AllOfPattern)', () => {
    expect(errs({
      type: 'object',
      properties: {
        a: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
        b: { 'x-kubernetes-int-or-string': true, allOf: [{ anyOf: [{ type: 'integer' }, { type: 'string' }] }, { pattern: '^x' }] },
      },
    })).toEqual([]);
    expect(errs({ type: 'object', properties: { c: { 'x-kubernetes-int-or-string': true, 'x-kubernetes-preserve-unknown-fields': true } } })).toEqual([
      `${P}.properties[c].x-kubernetes-preserve-unknown-fields: Invalid value: true: must be false if x-kubernetes-int-or-string is true`,
    ]);
  });

  it('embedded resources must be objects with properties or preserve unknown fields', () => {
    expect(errs({ type: 'object', properties: { e: { type: 'object', 'x-kubernetes-embedded-resource': true } } })).toEqual([
      `${P}.properties[e].properties: Required value: must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields`,
    ]);
    expect(errs({ type: 'object', properties: { e: { type: 'string', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true } } })).toEqual([
      `${P}.properties[e].type: Invalid value: "string": must be object if x-kubernetes-embedded-resource is true`,
    ]);
  });

  it('junctors may not carry structure', () => {
    expect(errs({ type: 'object', properties: { a: { type: 'string' } }, oneOf: [{ properties: { a: { nullable: true, default: 'x' } } }], not: { 'x-kubernetes-validations': [{ rule: 'true' }] } })).toEqual([
      `${P}.not.x-kubernetes-validations: Forbidden: must be empty to be structural`,
      `${P}.oneOf[0].properties[a].default: Forbidden: must be undefined to be structural`,
      `${P}.oneOf[0].properties[a].nullable: Forbidden: must be false to be structural`,
    ]);
  });
});

// apiextensions validation (pkg/apis/apiextensions/validation/validation.go ValidateCustomResourceDefinitionOpenAPISchema).
describe('validateStructuralSchema: keywords CRDs allow', () => {
  it('root restrictions, unsupported keywords, invalid patterns', () => {
    expect(errs({
      type: 'object', nullable: true, additionalProperties: { type: 'string' },
      properties: {
        u: { type: 'array', uniqueItems: true },
        r: { $ref: '#/x' },
        n: { type: 'null' },
        m: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: { type: 'string' } },
        p: { type: 'string', pattern: '(' },
      },
    })).toEqual([
      `${P}.nullable: Forbidden: nullable cannot be true at the root`,
      `${P}.additionalProperties: Forbidden: must not be used at the root`,
      `${P}.properties[p].pattern: Invalid value: "(": must be a valid regular expression, but isn't: error parsing regexp: missing closing ): \`(\``,
      `${P}.properties[r].type: Required value: must not be empty for specified object fields`,
      `${P}.properties[u].items: Required value: must be specified`,
      `${P}.additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive`,
      `${P}.properties[u].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic`,
      `${P}.properties[r].$ref: Forbidden: $ref is not supported`,
      `${P}.properties[n].type: Unsupported value: "null": supported values: "array", "boolean", "integer", "number", "object", "string"`,
      `${P}.properties[n].type: Forbidden: type cannot be set to null, use nullable as an alternative`,
      `${P}.properties[m].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive`,
    ]);
  });

  it('x-kubernetes-list-type, list-map-keys, map-type, preserve-unknown-fields: false', () => {
    expect(errs({
      type: 'object',
      properties: {
        l: { type: 'array', 'x-kubernetes-list-type': 'map', items: { type: 'object', properties: { k: { type: 'string' } } } },
        l2: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['k', 'z'], items: { type: 'object', properties: { k: { type: 'object' } } } },
        lt: { type: 'string', 'x-kubernetes-list-type': 'set' },
        mt: { type: 'object', 'x-kubernetes-map-type': 'weird' },
        pu: { type: 'object', 'x-kubernetes-preserve-unknown-fields': false },
      },
    })).toEqual([
      `${P}.properties[l].x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map`,
      `${P}.properties[l2].items.properties[k].type: Invalid value: "object": must be a scalar type if parent array's x-kubernetes-list-type is map`,
      `${P}.properties[l2].x-kubernetes-list-map-keys: Invalid value: ["k","z"]: entries must all be names of item properties`,
      `${P}.properties[l2].items.properties[k].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property`,
      `${P}.properties[lt].type: Invalid value: "string": must be array if x-kubernetes-list-type is specified`,
      `${P}.properties[mt].x-kubernetes-map-type: Unsupported value: "weird": supported values: "atomic", "granular"`,
      `${P}.properties[pu].x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or undefined`,
    ]);
  });
});

// defaulting/validation.go ValidateDefaults: defaults validate against their schema and are pruned.
describe('validateStructuralSchema: defaults', () => {
  it('a default of the wrong type, with unknown fields, or in metadata', () => {
    expect(errs({
      type: 'object',
      properties: {
        spec: { type: 'object', properties: { r: { type: 'integer', default: 'x' }, o: { type: 'object', default: { a: 1, zz: 2 }, properties: { a: { type: 'integer' } } } } },
        metadata: { type: 'object', default: {} },
      },
    })).toEqual([
      `${P}.properties[spec].properties[r].default: Invalid value: "string":  in body must be of type integer: "string"`,
      `${P}.properties[spec].properties[o].default: Invalid value: {"a":1,"zz":2}: must not have unknown fields`,
      `${P}.properties[metadata].default: Forbidden: must not be set in top-level metadata`,
    ]);
  });

  it('a default violating a bound reports the field inside the default', () => {
    expect(errs({ type: 'object', properties: { spec: { type: 'object', default: { n: 20 }, properties: { n: { type: 'integer', maximum: 10 } } } } })).toEqual([
      `${P}.properties[spec].default.n: Invalid value: 20: n in body should be less than or equal to 10`,
    ]);
  });

  it('valid defaults pass', () => {
    expect(errs({ type: 'object', properties: { spec: { type: 'object', default: {}, properties: { n: { type: 'integer', default: 1, maximum: 10 } } } } })).toEqual([]);
  });
});

describe('validateStructuralSchema: robustness', () => {
  it('never throws on garbage, and compileSchema accepts anything it returns errors for', () => {
    const garbage: unknown[] = [{}, { type: 5 }, { properties: 'x' }, { properties: { a: null } }, { items: [1] }, { 'x-kubernetes-validations': 'nope' },
      { type: 'object', 'x-kubernetes-validations': [null, { rule: 5 }] }, { type: 'object', required: 'a', enum: 'b', pattern: 7 }];
    for (const g of garbage) {
      expect(() => validateStructuralSchema(g as JSONSchemaProps, P)).not.toThrow();
      expect(() => compileSchema(g as JSONSchemaProps)).not.toThrow();
    }
    expect(errs(null as unknown as JSONSchemaProps)).toEqual([`${P}: Required value`]);
  });
});
