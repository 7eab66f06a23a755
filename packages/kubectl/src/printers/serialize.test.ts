import { describe, expect, it } from 'vitest';
import { naturalCompare, toGoJson, toGoYaml } from './serialize.js';

describe('toGoYaml', () => {
  it('quotes, folds and orders as kubectl (sigs.k8s.io/yaml) does', () => {
    // Ground truth: `kubectl create configmap x --from-literal=… --dry-run=client -o yaml` of kubectl v1.32.
    const data: Record<string, string> = {
      a: '80', b: 'yes', c: '', d: 'hello world: x', e: 'line1\nline2', f: '#x', g: "it's", h: '0.5', i: '2026-01-01T00:00:00Z',
      j: 'a', k: ' lead', l: 'a very long value that goes on and on and on past the eighty column boundary of go yaml emitter for sure yes',
      m: '-x', n: '- x', o: 'null', p: '<b>&', q: '1:20', r: 'x"y', s: 'tab\tx', t: '0x1F', u: '1e3', v: '~', w: '*a', x: 'a: ',
    };
    expect(toGoYaml({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'x', creationTimestamp: null }, data })).toBe(`apiVersion: v1
data:
  a: "80"
  b: "yes"
  c: ""
  d: 'hello world: x'
  e: |-
    line1
    line2
  f: '#x'
  g: it's
  h: "0.5"
  i: "2026-01-01T00:00:00Z"
  j: a
  k: ' lead'
  l: a very long value that goes on and on and on past the eighty column boundary
    of go yaml emitter for sure yes
  m: -x
  "n": '- x'
  o: "null"
  p: <b>&
  q: "1:20"
  r: x"y
  s: "tab\\tx"
  t: "0x1F"
  u: "1e3"
  v: "~"
  w: '*a'
  x: 'a: '
kind: ConfigMap
metadata:
  creationTimestamp: null
  name: x
`);
  });

  it('writes sequences unindented under their key, maps in items inline, empty collections as {} and []', () => {
    expect(toGoYaml({
      spec: { containers: [{ name: 'a', ports: [{ containerPort: 80 }], args: [] }, { name: 'b', env: {} }], nested: [[1, 2], ['x']] },
      last: 'text\n',
    })).toBe(`last: |
  text
spec:
  containers:
  - args: []
    name: a
    ports:
    - containerPort: 80
  - env: {}
    name: b
  nested:
  - - 1
    - 2
  - - x
`);
  });

  it('folds a long plain value in a sequence item and keeps numbers and booleans plain', () => {
    expect(toGoYaml([{ n: 1.5, b: false, i: -3 }])).toBe(`- b: false
  i: -3
  "n": 1.5
`);
  });
});

describe('toGoJson', () => {
  it('sorts keys by bytes, indents by four and escapes HTML', () => {
    expect(toGoJson({ p: '<b>&', a9: '2', a10: '1', a_b: '3', aB: '4', e: [], o: {}, n: null })).toBe(`{
    "a10": "1",
    "a9": "2",
    "aB": "4",
    "a_b": "3",
    "e": [],
    "n": null,
    "o": {},
    "p": "\\u003cb\\u003e\\u0026"
}`);
  });
});

describe('naturalCompare', () => {
  it('orders numbers by value and non-letters before letters, as go-yaml v2', () => {
    expect(['a10', 'a9', 'aB', 'a_b', 'a.b', 'A'].sort(naturalCompare)).toEqual(['A', 'a.b', 'a_b', 'a9', 'a10', 'aB']);
  });
});
