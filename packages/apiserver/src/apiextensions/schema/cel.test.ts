import { describe, expect, it } from 'vitest';
import { formatFieldError } from '@k8ts/api';
import { compileSchema, validateObject, validateStructuralSchema, type JSONSchemaProps } from './index.js';

const withSpec = (spec: JSONSchemaProps): JSONSchemaProps => ({ type: 'object', properties: { spec } });
const errorsOf = (schema: JSONSchemaProps, obj: unknown, old?: unknown): string[] =>
  validateObject(compileSchema(schema), obj, old).map(formatFieldError);
const crdErrors = (schema: JSONSchemaProps): string[] =>
  validateStructuralSchema(schema, 'spec.versions[0].schema.openAPIV3Schema').map(formatFieldError);

// kubernetes.io "Extend the Kubernetes API with CustomResourceDefinitions", section Validation rules.
describe('x-kubernetes-validations: the documented examples', () => {
  const replicas = withSpec({
    type: 'object',
    'x-kubernetes-validations': [
      { rule: 'self.minReplicas <= self.replicas', message: 'replicas should be greater than or equal to minReplicas.' },
      { rule: 'self.replicas <= self.maxReplicas', message: 'replicas should be smaller than or equal to maxReplicas.' },
    ],
    properties: { minReplicas: { type: 'integer' }, replicas: { type: 'integer' }, maxReplicas: { type: 'integer' } },
    required: ['minReplicas', 'replicas', 'maxReplicas'],
  });

  it('the schema is accepted', () => expect(crdErrors(replicas)).toEqual([]));

  it('rules with a message: the message, the object value left out (upstream OmitValueType)', () => {
    expect(errorsOf(replicas, { spec: { minReplicas: 0, replicas: 5, maxReplicas: 10 } })).toEqual([]);
    expect(errorsOf(replicas, { spec: { minReplicas: 0, replicas: 20, maxReplicas: 10 } })).toEqual([
      'spec: Invalid value: replicas should be smaller than or equal to maxReplicas.',
    ]);
  });

  it('a rule without a message: "failed rule: <rule>"; on a scalar the value is shown', () => {
    const s = withSpec({ type: 'object', properties: { name: { type: 'string', 'x-kubernetes-validations': [{ rule: "self.startsWith('a')" }] } } });
    expect(errorsOf(s, { spec: { name: 'bob' } })).toEqual(['spec.name: Invalid value: "bob": failed rule: self.startsWith(\'a\')']);
  });

  it('rules are not run after a required, enum or size violation either (upstream hasBlockingErr); a bound violation does not block', () => {
    const s = withSpec({
      type: 'object', required: ['a'],
      properties: { a: { type: 'string', enum: ['x'] }, n: { type: 'integer', maximum: 5 } },
      'x-kubernetes-validations': [{ rule: 'false', message: 'rule ran' }],
    });
    const note = '<nil>: Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation';
    expect(errorsOf(s, { spec: {} })).toEqual(['spec.a: Required value', note]);
    expect(errorsOf(s, { spec: { a: 'y' } })).toEqual(['spec.a: Unsupported value: "y": supported values: "x"', note]);
    expect(errorsOf(s, { spec: { a: 'x', n: 9 } })).toEqual(['spec.n: Invalid value: 9: spec.n in body should be less than or equal to 5', 'spec: Invalid value: rule ran']);
  });

  it('rules are not run when a value has the wrong type, with upstream\'s note', () => {
    expect(errorsOf(replicas, { spec: { minReplicas: 0, replicas: 'x', maxReplicas: 10 } })).toEqual([
      'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"',
      '<nil>: Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
    ]);
  });

  it('transition rule: self == oldSelf, evaluated on update only', () => {
    const s = withSpec({ type: 'object', properties: { value: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'Value is immutable' }] } } });
    expect(crdErrors(s)).toEqual([]);
    expect(errorsOf(s, { spec: { value: 'a' } })).toEqual([]);
    expect(errorsOf(s, { spec: { value: 'a' } }, { spec: { value: 'a' } })).toEqual([]);
    expect(errorsOf(s, { spec: { value: 'b' } }, { spec: { value: 'a' } })).toEqual(['spec.value: Invalid value: "b": Value is immutable']);
    // the field newly set on update: no old value to correlate, the rule does not run
    expect(errorsOf(s, { spec: { value: 'b' } }, { spec: {} })).toEqual([]);
  });

  it('ratcheting: a rule without oldSelf does not fail an update that leaves its value unchanged', () => {
    const s = withSpec({ type: 'object', properties: { a: { type: 'integer', 'x-kubernetes-validations': [{ rule: 'self < 10' }] }, b: { type: 'string' } } });
    expect(errorsOf(s, { spec: { a: 20, b: 'y' } }, { spec: { a: 20, b: 'x' } })).toEqual([]);
    expect(errorsOf(s, { spec: { a: 21, b: 'x' } }, { spec: { a: 20, b: 'x' } })).toEqual(['spec.a: Invalid value: 21: failed rule: self < 10']);
  });

  it('formatted strings are CEL timestamps, durations and bytes as upstream maps them', () => {
    const s = withSpec({
      type: 'object',
      properties: {
        at: { type: 'string', format: 'date-time' }, day: { type: 'string', format: 'date' },
        every: { type: 'string', format: 'duration' }, data: { type: 'string', format: 'byte' },
      },
      'x-kubernetes-validations': [
        { rule: 'self.at < timestamp("2030-01-01T00:00:00Z") && self.at.getFullYear() == 2024', message: 'at' },
        { rule: 'self.day == timestamp("2024-05-06T00:00:00Z")', message: 'day' },
        { rule: 'self.every > duration("1m") && self.every < duration("2h")', message: 'every' },
        { rule: 'self.data.size() == 2', message: 'data' },
      ],
    });
    expect(crdErrors(s)).toEqual([]);
    expect(errorsOf(s, { spec: { at: '2024-01-02T03:04:05Z', day: '2024-05-06', every: '1h30m', data: 'AQI=' } })).toEqual([]);
    expect(errorsOf(s, { spec: { at: '2031-01-02T03:04:05Z', day: '2024-05-07', every: '30s', data: 'AQID' } })).toEqual([
      'spec: Invalid value: at', 'spec: Invalid value: day', 'spec: Invalid value: every', 'spec: Invalid value: data',
    ]);
  });

  it('messageExpression', () => {
    const s = withSpec({
      type: 'object',
      properties: { x: { type: 'integer' }, maxLimit: { type: 'integer' } },
      'x-kubernetes-validations': [{ rule: 'self.x <= self.maxLimit', messageExpression: '"x exceeded max limit of " + string(self.maxLimit)' }],
    });
    expect(crdErrors(s)).toEqual([]);
    expect(errorsOf(s, { spec: { x: 11, maxLimit: 10 } })).toEqual(['spec: Invalid value: x exceeded max limit of 10']);
  });

  it('reason and fieldPath', () => {
    const s = withSpec({
      type: 'object',
      properties: { x: { type: 'integer' }, maxLimit: { type: 'integer' } },
      'x-kubernetes-validations': [
        { rule: 'self.x <= self.maxLimit', reason: 'FieldValueForbidden', fieldPath: '.x', message: 'x must not exceed maxLimit' },
        { rule: 'self.x != 7', reason: 'FieldValueRequired', fieldPath: '.maxLimit' },
      ],
    });
    expect(crdErrors(s)).toEqual([]);
    expect(errorsOf(s, { spec: { x: 11, maxLimit: 10 } })).toEqual(['spec.x: Forbidden: x must not exceed maxLimit']);
    expect(errorsOf(s, { spec: { x: 7, maxLimit: 10 } })).toEqual(['spec.maxLimit: Required value: failed rule: self.x != 7']);
  });

  it('a malformed quantity is an evaluation error', () => {
    const s = withSpec({ type: 'object', properties: { mem: { type: 'string', 'x-kubernetes-validations': [{ rule: 'quantity(self).sign() >= 0' }] } } });
    expect(errorsOf(s, { spec: { mem: 'lots' } })).toEqual([
      "spec.mem: Invalid value: \"string\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$' evaluating rule: quantity(self).sign() >= 0",
    ]);
  });

  it('evaluation errors say what failed and for which rule', () => {
    const s = withSpec({ type: 'object', properties: { a: { type: 'integer' } }, 'x-kubernetes-validations': [{ rule: 'self.a > 0' }] });
    expect(errorsOf(s, { spec: {} })).toEqual(['spec: Invalid value: "object": no such key: a evaluating rule: self.a > 0']);
  });

  it('int-or-string is dynamic: a wrong operand is a runtime overload error as upstream', () => {
    const s = withSpec({ type: 'object', properties: { port: { 'x-kubernetes-int-or-string': true, 'x-kubernetes-validations': [{ rule: 'self > 0' }] } } });
    expect(errorsOf(s, { spec: { port: 8080 } })).toEqual([]);
    expect(errorsOf(s, { spec: { port: 'http' } })).toEqual([
      "spec.port: Invalid value: \"\": 'no such overload': call arguments did not match a supported operator, function or macro signature for rule: self > 0",
    ]);
  });
});

describe('x-kubernetes-validations: the CEL environment', () => {
  const rules = [
    // standard macros and functions
    'has(self.a)', '!has(self.missing)', 'self.l.all(e, e.size() == 1)', 'self.l.exists(e, e == "b")', 'self.n.exists_one(x, x == 2)',
    'self.n.map(x, x * 2) == [2, 4, 6]', 'self.n.filter(x, x > 1).size() == 2', 'size(self.l) == 3', 'self.a.matches("^A")',
    'self.a.startsWith("AB") && self.a.endsWith("12") && self.a.contains("B1")', 'int(self.a.substring(2)) == 12',
    'self.m.all(k, self.m[k] > 0)', '"x" in self.m', 'self.d > 1.0', 'type(self.n[0]) == int', 'self.n[0] + 1 == 2',
    // Kubernetes' list library
    'self.l.isSorted()', 'self.n.sum() == 6', 'self.n.min() == 1 && self.n.max() == 3', 'self.l.indexOf("b") == 1', 'self.l.lastIndexOf("c") == 2',
    // regex library
    'self.a.find("[0-9]+") == "12"', 'self.a.findAll("[0-9]") == ["1", "2"]', 'self.a.findAll("[0-9]", 1) == ["1"]',
    // strings extension
    'self.a.lowerAscii() == "ab12"', 'self.a.upperAscii() == "AB12"', 'self.a.split("1").size() == 2', '["a", "b"].join("-") == "a-b"',
    'self.a.substring(1) == "B12"', 'self.a.replace("1", "x") == "ABx2"', '" a ".trim() == "a"', 'self.a.indexOf("1") == 2',
    // quantity library
    'quantity(self.mem).isLessThan(quantity("1Gi"))', 'quantity(self.mem) == quantity("512Mi")', 'quantity("1Gi") == quantity("1024Mi")',
    'quantity(self.mem).compareTo(quantity("0.5Gi")) == 0', 'quantity("1.5").isGreaterThan(quantity("1500m")) == false',
    'quantity("1k").add(quantity("24")).asInteger() == 1024', 'quantity("1").sub(1).sign() == 0', 'quantity("250m").asApproximateFloat() == 0.25',
    '!quantity("250m").isInteger()', 'isQuantity("100Mi") && !isQuantity("10 apples")',
    // url library
    'isURL("https://example.com/x")', '!isURL("not a url")', 'isURL("/absolute/path")',
    'url("https://user@example.com:8080/a%20b?x=1&x=2").getScheme() == "https"', 'url("https://example.com:8080/p").getHost() == "example.com:8080"',
    'url("https://[::1]:80/").getHostname() == "::1"', 'url("https://example.com:8080/").getPort() == "8080"',
    'url("https://example.com/a%20b").getEscapedPath() == "/a%20b"', 'url("https://e.com/?x=1&x=2&y=3").getQuery()["x"] == ["1", "2"]',
    'url("/only/path").getHost() == ""',
  ];
  const schema: JSONSchemaProps = {
    type: 'object',
    'x-kubernetes-validations': [{ rule: 'self.metadata.name == "obj" && self.kind == "K"' }],
    properties: {
      spec: {
        type: 'object',
        properties: {
          a: { type: 'string' }, missing: { type: 'integer' }, d: { type: 'number' }, mem: { type: 'string' },
          l: { type: 'array', items: { type: 'string' } }, n: { type: 'array', items: { type: 'integer' } },
          m: { type: 'object', additionalProperties: { type: 'integer' } },
        },
        'x-kubernetes-validations': rules.map((rule) => ({ rule })),
      },
    },
  };

  it('every rule compiles at CRD creation', () => expect(crdErrors(schema)).toEqual([]));

  it('every rule holds for a matching object', () => {
    const obj = { apiVersion: 'x/v1', kind: 'K', metadata: { name: 'obj' }, spec: { a: 'AB12', d: 2, mem: '512Mi', l: ['a', 'b', 'c'], n: [1, 2, 3], m: { x: 1 } } };
    expect(errorsOf(schema, obj)).toEqual([]);
  });

  it('and fails where it should', () => {
    const obj = { apiVersion: 'x/v1', kind: 'K', metadata: { name: 'other' }, spec: { a: 'AB12', d: 2, mem: '512Mi', l: ['c', 'b', 'a'], n: [1, 2, 3], m: { x: 1 } } };
    expect(errorsOf(schema, obj)).toEqual([
      '<nil>: Invalid value: failed rule: self.metadata.name == "obj" && self.kind == "K"',
      'spec: Invalid value: failed rule: self.l.isSorted()',
      'spec: Invalid value: failed rule: self.l.lastIndexOf("c") == 2',
    ]);
  });
});

describe('x-kubernetes-validations: CRD-time compilation', () => {
  const rule = (r: string, extra: JSONSchemaProps = {}) => crdErrors(withSpec({
    type: 'object', properties: { a: { type: 'string' }, l: { type: 'array', items: { type: 'string' } } }, 'x-kubernetes-validations': [{ rule: r }], ...extra,
  }));
  const at = 'spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule';

  // The wording after "Syntax error:" is the parser's own (cel-go would say "mismatched input ..."); position,
  // source line and caret are laid out as cel-go does.
  it('a syntax error', () => {
    expect(rule('self.a ==')).toEqual([
      `${at}: Invalid value: {"rule":"self.a =="}: compilation failed: ERROR: <input>:1:8: Syntax error: found = but expecting end of input\n | self.a ==\n | .......^`,
    ]);
  });

  it('an undeclared variable, function, or field (as cel-go\'s checker)', () => {
    expect(rule('foo == 1')).toEqual([
      `${at}: Invalid value: {"rule":"foo == 1"}: compilation failed: ERROR: <input>:1:1: undeclared reference to 'foo' (in container '')\n | foo == 1\n | ^`,
    ]);
    expect(rule('self.a.frobnicate()')).toEqual([
      `${at}: Invalid value: {"rule":"self.a.frobnicate()"}: compilation failed: ERROR: <input>:1:7: undeclared reference to 'frobnicate' (in container '')\n | self.a.frobnicate()\n | ......^`,
    ]);
    expect(rule('self.b == "x"')).toEqual([
      `${at}: Invalid value: {"rule":"self.b == \\"x\\""}: compilation failed: ERROR: <input>:1:5: undefined field 'b'\n | self.b == "x"\n | ....^`,
    ]);
    expect(rule('self.l.all(e, e == y)')[0]).toContain("undeclared reference to 'y'");
  });

  // Positions are the parser's (Buf's): for some operators it points one column before cel-go's.
  it('operands and results of the wrong type, as cel-go\'s checker refuses them', () => {
    const rules = ['self.a > 2', 'self.l.size()', 'self.a.size() + "x" == "y"', '(self.l.size() > 1).startsWith("t")'];
    const s = withSpec({ type: 'object', properties: { a: { type: 'string' }, l: { type: 'array', items: { type: 'string' } } }, 'x-kubernetes-validations': rules.map((rule) => ({ rule })) });
    const p = 'spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations';
    expect(crdErrors(s)).toEqual([
      `${p}[0].rule: Invalid value: {"rule":"self.a > 2"}: compilation failed: ERROR: <input>:1:8: found no matching overload for '_>_' applied to '(string, int)'\n | self.a > 2\n | .......^`,
      `${p}[1].rule: Invalid value: {"rule":"self.l.size()"}: cel expression must evaluate to a bool`,
      `${p}[2].rule: Invalid value: {"rule":"self.a.size() + \\"x\\" == \\"y\\""}: compilation failed: ERROR: <input>:1:14: found no matching overload for '_+_' applied to '(int, string)'\n | self.a.size() + "x" == "y"\n | .............^`,
      `${p}[3].rule: Invalid value: {"rule":"(self.l.size() > 1).startsWith(\\"t\\")"}: compilation failed: ERROR: <input>:1:20: found no matching overload for 'startsWith' applied to 'bool.(string)'\n | (self.l.size() > 1).startsWith("t")\n | ...................^`,
    ]);
  });

  it('a resource root declares apiVersion, kind and metadata.name/generateName only (upstream WithTypeAndObjectMeta)', () => {
    const s = { type: 'object', properties: { spec: { type: 'object' } }, 'x-kubernetes-validations': [{ rule: 'self.metadata.name.startsWith("a") && self.kind == "K"' }, { rule: 'self.metadata.creationTimestamp != ""' }] };
    expect(crdErrors(s)).toEqual([
      `spec.versions[0].schema.openAPIV3Schema.x-kubernetes-validations[1].rule: Invalid value: {"rule":"self.metadata.creationTimestamp != \\"\\""}: compilation failed: ERROR: <input>:1:14: undefined field 'creationTimestamp'\n | self.metadata.creationTimestamp != ""\n | .............^`,
    ]);
  });

  it('defaults must satisfy the rules below them', () => {
    const s = withSpec({
      type: 'object', default: { replicas: 20 },
      properties: { replicas: { type: 'integer', 'x-kubernetes-validations': [{ rule: 'self <= 10', message: 'at most 10' }] } },
    });
    expect(crdErrors(s)).toEqual(['spec.versions[0].schema.openAPIV3Schema.properties[spec].default.replicas: Invalid value: 20: at most 10']);
  });

  it('rules whose estimated cost exceeds the per-rule budget are refused, unless sizes are bounded', () => {
    const nested = 'self.l.all(a, self.l.all(b, a != b || a == b))';
    const unbounded = withSpec({ type: 'object', properties: { l: { type: 'array', items: { type: 'string' } } }, 'x-kubernetes-validations': [{ rule: nested }, { rule: 'self.l.all(a, a.size() < 10)' }] });
    expect(crdErrors(unbounded)).toEqual([
      'spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule: Forbidden: estimated rule cost exceeds budget by factor of more than 100x (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)',
    ]);
    const bounded = withSpec({ type: 'object', properties: { l: { type: 'array', maxItems: 100, items: { type: 'string' } } }, 'x-kubernetes-validations': [{ rule: nested }] });
    expect(crdErrors(bounded)).toEqual([]);
    // a rule on the items of unbounded lists of unbounded lists runs too often
    const inner = withSpec({ type: 'object', properties: { ll: { type: 'array', items: { type: 'array', items: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self.size() < 5' }] } } } } });
    expect(crdErrors(inner)[0]).toMatch(/properties\[ll\]\.items\.items\.x-kubernetes-validations\[0\]\.rule: Forbidden: estimated rule cost exceeds budget by factor of more than 100x/);
  });

  it('messageExpression must be a string', () => {
    const s = withSpec({ type: 'object', properties: { n: { type: 'integer' } }, 'x-kubernetes-validations': [{ rule: 'self.n > 0', messageExpression: 'self.n' }] });
    expect(crdErrors(s)).toEqual([
      'spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].messageExpression: Invalid value: {"rule":"self.n > 0","messageExpression":"self.n"}: must evaluate to a string',
    ]);
  });

  it('oldSelf only where old and new correlate', () => {
    const s = withSpec({
      type: 'object',
      properties: {
        atomic: { type: 'array', items: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self == oldSelf' }] } },
        keyed: {
          type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['k'],
          items: { type: 'object', required: ['k'], properties: { k: { type: 'string' } }, 'x-kubernetes-validations': [{ rule: 'self == oldSelf' }] },
        },
      },
    });
    expect(crdErrors(s)).toEqual([
      'spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[atomic].items.x-kubernetes-validations[0].rule: Invalid value: "self == oldSelf": oldSelf cannot be used on the uncorrelatable portion of the schema within spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[atomic]',
    ]);
  });

  it('rule fields: empty rule, messages with line breaks, unsupported reason, bad fieldPath', () => {
    const s = withSpec({
      type: 'object', properties: { a: { type: 'string' } },
      'x-kubernetes-validations': [
        { rule: ' ' },
        { rule: 'true', message: 'two\nlines' },
        { rule: 'true', reason: 'FieldValueOops' },
        { rule: 'true', fieldPath: '.nope' },
      ],
    });
    const p = 'spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations';
    expect(crdErrors(s)).toEqual([
      `${p}[0].rule: Required value: rule is not specified`,
      `${p}[1].message: Invalid value: "two\\nlines": message must not contain line breaks`,
      `${p}[2].reason: Unsupported value: "FieldValueOops": supported values: "FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"`,
      `${p}[3].fieldPath: Invalid value: ".nope": fieldPath must be a valid path`,
    ]);
  });

  it('a rule that does not compile (a schema stored before the check) never throws: each object reports it', () => {
    const s = compileSchema(withSpec({ type: 'object', 'x-kubernetes-validations': [{ rule: 'nope == 1' }, { rule: 'true' }] }));
    expect(validateObject(s, { spec: {} }).map(formatFieldError)).toEqual([
      "spec: Invalid value: \"object\": rule compile error: compilation failed: ERROR: <input>:1:1: undeclared reference to 'nope' (in container '')\n | nope == 1\n | ^",
    ]);
  });
});
