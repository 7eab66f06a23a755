import {
  CelScalar, celEnv, celMethod, celFunc, isCelError, isCelList, isCelMap, listType, mapType, parse, plan,
  type CelEnv, type CelInput, type CelList, type CelValue,
} from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { create } from '@bufbuild/protobuf';
import { DurationSchema, timestampFromDate } from '@bufbuild/protobuf/wkt';
import { parseQuantityExact } from '@k8ts/api';
import { type SchemaNode, type ValidationRule, buildNode, isObject } from './node.js';
import { cachedRE2 } from './regex.js';

/**
 * `x-kubernetes-validations` rules on Buf's CEL evaluator (@bufbuild/cel): compiled once per schema, evaluated per
 * write with `self` (and `oldSelf` for transition rules) bound to the value at the rule's node, typed as
 * upstream's CEL type mapping (k8s.io/apiserver/pkg/cel/common/values.go): `integer` is CEL int (int64), `number`
 * double, objects and maps CEL maps, arrays lists, `x-kubernetes-int-or-string` dyn, date/date-time timestamps,
 * duration durations, byte bytes. Besides the standard library and macros (`has`, `all`, `exists`, `exists_one`,
 * `map`, `filter`) the environment has Kubernetes' lists (`isSorted`, `sum`, `min`, `max`, `indexOf`,
 * `lastIndexOf`), regex (`find`, `findAll`), quantity and url libraries, and the strings extension (`lowerAscii`,
 * `upperAscii`, `replace`, `split`, `trim`, `join`, `indexOf`, `substring`, ...). The evaluator exports no type
 * checker, so checkAst below checks what upstream's cel-go checker rejects most often, with the schema's types.
 */

const LIST = listType(CelScalar.DYN);

function compare(a: CelValue, b: CelValue): number | undefined {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) {
    const x = Number(a), y = Number(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1;
  return undefined;
}

function listCompare(list: CelList, name: string): (a: CelValue, b: CelValue) => number {
  return (a, b) => {
    const c = compare(a, b);
    if (c === undefined) throw new Error(`no such overload: ${name}(list) for elements ${typeof a} and ${typeof b}`);
    return c;
  };
}

function equalValues(a: CelValue, b: CelValue): boolean {
  if (typeof a === 'bigint' || typeof a === 'number') return (typeof b === 'bigint' || typeof b === 'number') && Number(a) === Number(b);
  if (isCelList(a)) {
    if (!isCelList(b) || a.size !== b.size) return false;
    for (let i = 0; i < a.size; i++) if (!equalValues(a.get(i)!, b.get(i)!)) return false;
    return true;
  }
  if (isCelMap(a)) {
    if (!isCelMap(b) || a.size !== b.size) return false;
    for (const [k, v] of a.entries()) {
      if (!b.has(k) || !equalValues(v, b.get(k)!)) return false;
    }
    return true;
  }
  return a === b;
}


/** Kubernetes' CEL libraries (k8s.io/apiserver/pkg/cel/library): lists, regex. */
const k8sFuncs = [
  celMethod('isSorted', LIST, [], CelScalar.BOOL, function () {
    const cmp = listCompare(this, 'isSorted');
    let prev: CelValue | undefined;
    for (const v of this) {
      if (prev !== undefined && cmp(prev, v) > 0) return false;
      prev = v;
    }
    return true;
  }),
  celMethod('sum', LIST, [], CelScalar.DYN, function () {
    let total: CelValue = 0n;
    for (const v of this) {
      if (typeof v === 'bigint' && typeof total === 'bigint') total += v;
      else if (typeof v === 'number' || typeof v === 'bigint') total = Number(total) + Number(v);
      else throw new Error('no such overload: sum(list) for non-numeric elements');
    }
    return total;
  }),
  celMethod('min', LIST, [], CelScalar.DYN, function () {
    if (this.size === 0) throw new Error('min(list) argument must not be empty');
    const cmp = listCompare(this, 'min');
    let best: CelValue = this.get(0) as CelValue;
    for (const v of this) if (cmp(v, best) < 0) best = v;
    return best as unknown as CelInput;
  }),
  celMethod('max', LIST, [], CelScalar.DYN, function () {
    if (this.size === 0) throw new Error('max(list) argument must not be empty');
    const cmp = listCompare(this, 'max');
    let best: CelValue = this.get(0) as CelValue;
    for (const v of this) if (cmp(v, best) > 0) best = v;
    return best as unknown as CelInput;
  }),
  celMethod('indexOf', LIST, [CelScalar.DYN], CelScalar.INT, function (x) {
    for (let i = 0; i < this.size; i++) if (equalValues(this.get(i)!, x)) return BigInt(i);
    return -1n;
  }),
  celMethod('lastIndexOf', LIST, [CelScalar.DYN], CelScalar.INT, function (x) {
    for (let i = this.size - 1; i >= 0; i--) if (equalValues(this.get(i)!, x)) return BigInt(i);
    return -1n;
  }),
  celMethod('find', CelScalar.STRING, [CelScalar.STRING], CelScalar.STRING, function (re) {
    return cachedRE2(re).exec(this) ?? '';
  }),
  celMethod('findAll', CelScalar.STRING, [CelScalar.STRING], listType(CelScalar.STRING), function (re) {
    return cachedRE2(re).all(this);
  }),
  celMethod('findAll', CelScalar.STRING, [CelScalar.STRING, CelScalar.INT], listType(CelScalar.STRING), function (re, n) {
    const all = cachedRE2(re).all(this);
    return n < 0n ? all : all.slice(0, Number(n));
  }),
];

/*
 * Kubernetes' quantity library (k8s.io/apiserver/pkg/cel/library/quantity.go). The evaluator has no opaque types
 * besides protobuf messages, so a quantity is a one-entry map holding its exact value as a reduced fraction: two
 * quantities are `==` when their values are (`quantity("1Gi") == quantity("1024Mi")`), as upstream's Equal.
 */
const QKEY = '@k8s.io/quantity';
const MAP = mapType(CelScalar.STRING, CelScalar.DYN);

interface Frac { num: bigint; den: bigint }

function reduce(num: bigint, den: bigint): Frac {
  if (den < 0n) { num = -num; den = -den; }
  let a = num < 0n ? -num : num;
  let b = den;
  while (b !== 0n) [a, b] = [b, a % b];
  const g = a === 0n ? den : a;
  return { num: num / g, den: den / g };
}

function quantityOf(f: Frac): Map<string, string> {
  return new Map([[QKEY, `${f.num}/${f.den}`]]);
}

function asQuantity(v: CelValue, fn: string): Frac {
  if (isCelMap(v) && v.size === 1 && v.has(QKEY)) {
    const [num, den] = String(v.get(QKEY)).split('/');
    return { num: BigInt(num), den: BigInt(den) };
  }
  if (typeof v === 'bigint') return { num: v, den: 1n };
  throw new Error(`no such overload: ${fn}`);
}

function parseQ(s: string): Frac {
  try {
    return parseQuantityExact(s);
  } catch (err) {
    throw new Error(`quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`, { cause: err });
  }
}

const cmpQ = (a: Frac, b: Frac) => { const l = a.num * b.den, r = b.num * a.den; return l < r ? -1n : l > r ? 1n : 0n; };
const INT64_MAX = (1n << 63n) - 1n;

const quantityFuncs = [
  celFunc('quantity', [CelScalar.STRING], MAP, (s) => quantityOf(parseQ(s))),
  celFunc('isQuantity', [CelScalar.STRING], CelScalar.BOOL, (s) => { try { parseQ(s); return true; } catch { return false; } }),
  celMethod('isGreaterThan', MAP, [MAP], CelScalar.BOOL, function (o) { return cmpQ(asQuantity(this, 'isGreaterThan'), asQuantity(o, 'isGreaterThan')) > 0n; }),
  celMethod('isLessThan', MAP, [MAP], CelScalar.BOOL, function (o) { return cmpQ(asQuantity(this, 'isLessThan'), asQuantity(o, 'isLessThan')) < 0n; }),
  celMethod('compareTo', MAP, [MAP], CelScalar.INT, function (o) { return cmpQ(asQuantity(this, 'compareTo'), asQuantity(o, 'compareTo')); }),
  celMethod('sign', MAP, [], CelScalar.INT, function () { const q = asQuantity(this, 'sign'); return q.num > 0n ? 1n : q.num < 0n ? -1n : 0n; }),
  celMethod('isInteger', MAP, [], CelScalar.BOOL, function () { const q = asQuantity(this, 'isInteger'); return q.den === 1n && q.num <= INT64_MAX && q.num >= -INT64_MAX - 1n; }),
  celMethod('asInteger', MAP, [], CelScalar.INT, function () {
    const q = asQuantity(this, 'asInteger');
    if (q.den !== 1n || q.num > INT64_MAX || q.num < -INT64_MAX - 1n) throw new Error('cannot convert value to integer');
    return q.num;
  }),
  celMethod('asApproximateFloat', MAP, [], CelScalar.DOUBLE, function () { const q = asQuantity(this, 'asApproximateFloat'); return Number(q.num) / Number(q.den); }),
  celMethod('add', MAP, [CelScalar.DYN], MAP, function (o) {
    const a = asQuantity(this, 'add'), b = asQuantity(o, 'add');
    return quantityOf(reduce(a.num * b.den + b.num * a.den, a.den * b.den));
  }),
  celMethod('sub', MAP, [CelScalar.DYN], MAP, function (o) {
    const a = asQuantity(this, 'sub'), b = asQuantity(o, 'sub');
    return quantityOf(reduce(a.num * b.den - b.num * a.den, a.den * b.den));
  }),
];

/*
 * Kubernetes' URL library (k8s.io/apiserver/pkg/cel/library/urls.go), a URL held like a quantity: a one-entry map
 * with its text. Parsing follows Go's url.ParseRequestURI: an absolute URL, or an absolute path.
 */
const UKEY = '@k8s.io/url';

function parseRequestURI(s: string): URL | undefined {
  if (s.startsWith('/')) {
    try { return new URL(s, 'http://relative.invalid'); } catch { return undefined; }
  }
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(s)) return undefined;
  try { return new URL(s); } catch { return undefined; }
}

function asURL(v: CelValue, fn: string): { text: string; url: URL } {
  if (isCelMap(v) && v.size === 1 && v.has(UKEY)) {
    const text = String(v.get(UKEY));
    return { text, url: parseRequestURI(text)! };
  }
  throw new Error(`no such overload: ${fn}`);
}

const urlFuncs = [
  celFunc('url', [CelScalar.STRING], MAP, (s) => {
    if (!parseRequestURI(s)) throw new Error(`URL parse error during conversion from string: parse ${JSON.stringify(s)}: invalid URI for request`);
    return new Map([[UKEY, s]]);
  }),
  celFunc('isURL', [CelScalar.STRING], CelScalar.BOOL, (s) => parseRequestURI(s) !== undefined),
  celMethod('getScheme', MAP, [], CelScalar.STRING, function () {
    const { text, url } = asURL(this, 'getScheme');
    return text.startsWith('/') ? '' : url.protocol.replace(/:$/, '');
  }),
  celMethod('getHost', MAP, [], CelScalar.STRING, function () { const { text, url } = asURL(this, 'getHost'); return text.startsWith('/') ? '' : url.host; }),
  celMethod('getHostname', MAP, [], CelScalar.STRING, function () {
    const { text, url } = asURL(this, 'getHostname');
    return text.startsWith('/') ? '' : url.hostname.replace(/^\[(.*)\]$/, '$1');
  }),
  celMethod('getPort', MAP, [], CelScalar.STRING, function () { const { text, url } = asURL(this, 'getPort'); return text.startsWith('/') ? '' : url.port; }),
  celMethod('getEscapedPath', MAP, [], CelScalar.STRING, function () { return asURL(this, 'getEscapedPath').url.pathname; }),
  celMethod('getQuery', MAP, [], mapType(CelScalar.STRING, listType(CelScalar.STRING)), function () {
    const q = new Map<string, string[]>();
    for (const [k, v] of asURL(this, 'getQuery').url.searchParams) q.set(k, [...(q.get(k) ?? []), v]);
    return q;
  }),
];

let sharedEnv: CelEnv | undefined;

function env(): CelEnv {
  // `matches` with RE2's semantics, each pattern compiled once (the evaluator's default compiles per call).
  sharedEnv ??= celEnv({
    variables: { self: CelScalar.DYN, oldSelf: CelScalar.DYN }, funcs: [...strings, ...k8sFuncs, ...quantityFuncs, ...urlFuncs],
    re2: { compile: (pattern: string) => cachedRE2(pattern) },
  });
  return sharedEnv;
}

/** A compiled `x-kubernetes-validations` entry. */
export interface CompiledRule {
  readonly spec: ValidationRule;
  readonly program: (ctx: { self: unknown; oldSelf: unknown }) => unknown;
  readonly messageProgram: ((ctx: { self: unknown; oldSelf: unknown }) => unknown) | undefined;
  readonly usesOldSelf: boolean;
  /** Estimated cost of one evaluation (rule and messageExpression). */
  readonly cost: number;
}

/** A compilation failure: `field` is `rule` or `messageExpression`, `detail` upstream's "compilation failed: ..." text. */
export interface CompileError { field: 'rule' | 'messageExpression'; detail: string }

interface AstExpr {
  id: bigint;
  exprKind: { case: string | undefined; value?: any };
}

const MACRO_FREE_IDENTS = new Set(['null', 'true', 'false', 'int', 'uint', 'double', 'string', 'bytes', 'bool', 'list', 'map', 'type', 'null_type', 'duration', 'timestamp', 'dyn']);

/** A static type, as far as the checker knows it: `dyn` when it does not. */
interface T { t: string; node?: SchemaNode; elem?: T; value?: T; card?: number }
const DYN: T = { t: 'dyn' };
const scalar = (t: string): T => ({ t });
const SCALARS = new Set(['int', 'uint', 'double', 'string', 'bool', 'bytes', 'null_type', 'timestamp', 'duration']);
const NUMERIC = new Set(['int', 'uint', 'double']);

/** upstream's WithTypeAndObjectMeta: a resource root declares apiVersion, kind and metadata.name/generateName. */
const OBJECT_META_NODE = buildNode({ type: 'object', properties: { name: { type: 'string' }, generateName: { type: 'string' } } });

/** The CEL type of a schema node (upstream's SchemaDeclType). */
function nodeType(n: SchemaNode | undefined): T {
  if (!n || n.intOrString) return DYN;
  switch (n.type) {
    case 'integer': return scalar('int');
    case 'number': return scalar('double');
    case 'boolean': return scalar('bool');
    case 'string':
      if (n.format === 'date' || n.format === 'date-time' || n.format === 'datetime') return scalar('timestamp');
      if (n.format === 'duration') return scalar('duration');
      if (n.format === 'byte') return scalar('bytes');
      return scalar('string');
    case 'array': return { t: 'list', elem: nodeType(n.items), card: n.maxItems ?? unboundedCardinality(n.items) };
    case 'object':
      if (typeof n.additionalProperties === 'object') {
        return { t: 'map', value: nodeType(n.additionalProperties), card: n.maxProperties ?? unboundedCardinality(n.additionalProperties, 3) };
      }
      if (n.preserveUnknownFields && !n.properties) return DYN;
      return { t: 'object', node: n };
    default: return DYN;
  }
}

/** upstream's request size limit, which bounds how many items an unbounded list or map can have. */
const MAX_REQUEST_BYTES = 3 * 1024 * 1024;

/** The smallest JSON text of a value of this schema (upstream's estimateMinSizeJSON, roughly). */
function minSize(n: SchemaNode | undefined): number {
  switch (n?.type) {
    case 'string': return 2 + (n.minLength ?? 0);
    case 'boolean': return 4;
    case 'object': case 'array': return 2;
    default: return 1;
  }
}

/** upstream's estimate for a list/map without maxItems/maxProperties: as many items as a request can hold. */
export function unboundedCardinality(items: SchemaNode | undefined, keyOverhead = 0): number {
  return Math.floor((MAX_REQUEST_BYTES - 2) / (minSize(items) + 1 + keyOverhead));
}

function display(t: T): string {
  if (t.t === 'timestamp') return 'google.protobuf.Timestamp';
  if (t.t === 'duration') return 'google.protobuf.Duration';
  return t.t;
}

/** Result types of the named functions/methods the checker knows; anything else is dyn. */
const RESULT: Record<string, string> = {
  size: 'int', int: 'int', uint: 'uint', double: 'double', string: 'string', bool: 'bool', bytes: 'bytes',
  timestamp: 'timestamp', duration: 'duration', startsWith: 'bool', endsWith: 'bool', contains: 'bool', matches: 'bool',
  lowerAscii: 'string', upperAscii: 'string', replace: 'string', substring: 'string', trim: 'string', charAt: 'string',
  find: 'string', join: 'string', indexOf: 'int', lastIndexOf: 'int', isSorted: 'bool', isQuantity: 'bool', isURL: 'bool',
  isGreaterThan: 'bool', isLessThan: 'bool', compareTo: 'int', sign: 'int', isInteger: 'bool', asInteger: 'int',
  asApproximateFloat: 'double', getFullYear: 'int', getMonth: 'int', getDate: 'int', getDayOfMonth: 'int',
  getScheme: 'string', getHost: 'string', getHostname: 'string', getPort: 'string', getEscapedPath: 'string',
  getDayOfWeek: 'int', getDayOfYear: 'int', getHours: 'int', getMinutes: 'int', getSeconds: 'int', getMilliseconds: 'int',
};
/** Methods only strings have: called on another scalar they are an overload error at compile time, as in cel-go. */
const STRING_METHODS = new Set(['startsWith', 'endsWith', 'contains', 'matches', 'lowerAscii', 'upperAscii', 'replace', 'substring',
  'trim', 'charAt', 'find', 'findAll', 'split']);

const ARITH: Record<string, (a: string, b: string) => string | undefined> = {
  '_+_': (a, b) => (a === b && ['int', 'uint', 'double', 'string', 'bytes', 'duration'].includes(a) ? a
    : (a === 'timestamp' && b === 'duration') || (a === 'duration' && b === 'timestamp') ? 'timestamp' : undefined),
  '_-_': (a, b) => (a === b && ['int', 'uint', 'double', 'duration'].includes(a) ? a
    : a === 'timestamp' && b === 'timestamp' ? 'duration' : a === 'timestamp' && b === 'duration' ? 'timestamp' : undefined),
  '_*_': (a, b) => (a === b && NUMERIC.has(a) ? a : undefined),
  '_/_': (a, b) => (a === b && NUMERIC.has(a) ? a : undefined),
  '_%_': (a, b) => (a === b && (a === 'int' || a === 'uint') ? a : undefined),
};
const COMPARE = new Set(['_<_', '_<=_', '_>_', '_>=_']);

function position(source: string, offset: number | undefined): string {
  if (offset === undefined) return '<input>:1:1';
  const before = source.slice(0, offset);
  const line = before.split('\n').length;
  const col = offset - (before.lastIndexOf('\n') + 1) + 1;
  return `<input>:${line}:${col}`;
}

/** cel-go's error text: `ERROR: <input>:1:6: msg` then the source line and a caret under the column. */
function celError(source: string, located: string): string {
  const m = /^<input>:(\d+):(\d+): ([\s\S]*)$/.exec(located);
  if (!m) return `ERROR: <input>:1:1: ${located}`;
  const line = source.split('\n')[Number(m[1]) - 1] ?? '';
  return `ERROR: <input>:${m[1]}:${m[2]}: ${m[3]}\n | ${line}\n | ${'.'.repeat(Math.max(0, Number(m[2]) - 1))}^`;
}


class CheckError extends Error {}

/**
 * What upstream's cel-go type checker would say about an expression, for the mistakes it catches most: an unknown
 * variable or function, a field the schema does not have, operands of the wrong (known) type, a rule that is not
 * a bool. Types come from the schema as upstream declares them; where they are not known the check is lenient.
 */
function checkAst(root: AstExpr, source: string, positions: Record<string, number>, node: SchemaNode | undefined, isResourceRoot: boolean): { error?: string; usesOldSelf: boolean; type: T; cost: number } {
  const at = (e: AstExpr) => position(source, positions[String(e.id)]);
  const fail = (e: AstExpr, msg: string): never => { throw new CheckError(`${at(e)}: ${msg}`); };
  const scopes: Map<string, T>[] = [];
  const funcs = env().funcs;
  let usesOldSelf = false;
  const selfType = nodeType(node);
  const lookup = (name: string): T | undefined => {
    for (let i = scopes.length - 1; i >= 0; i--) if (scopes[i].has(name)) return scopes[i].get(name);
    return undefined;
  };
  const field = (e: AstExpr, parent: T, name: string, isSelfRoot: boolean): T => {
    if (isSelfRoot && isResourceRoot) {
      if (name === 'apiVersion' || name === 'kind') return scalar('string');
      if (name === 'metadata') return { t: 'object', node: OBJECT_META_NODE };
    }
    if (parent.t === 'object' && parent.node) {
      const p = parent.node.properties?.get(name);
      if (p) return nodeType(p);
      if (parent.node.preserveUnknownFields) return DYN;
      return fail(e, `undefined field '${name}'`);
    }
    if (parent.t === 'map') return parent.value ?? DYN;
    if (SCALARS.has(parent.t)) return fail(e, `type '${display(parent)}' does not support field selection`);
    return DYN;
  };
  const types = new Map<bigint, T>();
  const visit = (e: AstExpr | undefined): T => {
    if (!e) return DYN;
    const t = visitInner(e);
    types.set(e.id, t);
    return t;
  };
  const visitInner = (e: AstExpr): T => {
    const v = e.exprKind.value;
    switch (e.exprKind.case) {
      case 'constExpr': {
        switch (v.constantKind?.case) {
          case 'int64Value': return scalar('int');
          case 'uint64Value': return scalar('uint');
          case 'doubleValue': return scalar('double');
          case 'stringValue': return scalar('string');
          case 'boolValue': return scalar('bool');
          case 'bytesValue': return scalar('bytes');
          case 'nullValue': return scalar('null_type');
          default: return DYN;
        }
      }
      case 'identExpr': {
        const name = v.name as string;
        const scoped = lookup(name);
        if (scoped) return scoped;
        if (name === 'self') return selfType;
        if (name === 'oldSelf') { usesOldSelf = true; return selfType; }
        if (MACRO_FREE_IDENTS.has(name) || name.startsWith('@')) return name === 'null' ? scalar('null_type') : DYN;
        return fail(e, `undeclared reference to '${name}' (in container '')`);
      }
      case 'selectExpr': {
        const operand = v.operand as AstExpr;
        const parent = visit(operand);
        const isSelfRoot = operand.exprKind.case === 'identExpr' && ['self', 'oldSelf'].includes(operand.exprKind.value.name as string)
          && !lookup(operand.exprKind.value.name as string);
        const t = field(e, parent, v.field as string, isSelfRoot);
        return v.testOnly ? scalar('bool') : t;
      }
      case 'callExpr': {
        const fn = v.function as string;
        // Operators (`_&&_`, `_?_:_`, `@not_strictly_false`, …) are the evaluator's own; named functions must exist.
        if (/^[A-Za-z]/.test(fn) && !funcs.find(fn)) fail(e, `undeclared reference to '${fn}' (in container '')`);
        const target = v.target ? visit(v.target as AstExpr) : undefined;
        const args = (v.args as AstExpr[]).map(visit);
        const known = (t: T) => SCALARS.has(t.t);
        const overload = (): never => fail(e, `found no matching overload for '${fn}' applied to '${target ? `${display(target)}.` : ''}(${args.map(display).join(', ')})'`);
        if (fn in ARITH) {
          const [a, b] = args;
          if (known(a) && known(b)) return scalar(ARITH[fn](a.t, b.t) ?? overload());
          if (a.t === 'list' && b.t === 'list' && fn === '_+_') return a;
          return known(a) && b.t === 'dyn' ? a : known(b) && a.t === 'dyn' ? b : DYN;
        }
        if (COMPARE.has(fn)) {
          const [a, b] = args;
          if (known(a) && known(b) && !(a.t === b.t || (NUMERIC.has(a.t) && NUMERIC.has(b.t)))) overload();
          return scalar('bool');
        }
        if (fn === '_==_' || fn === '_!=_') {
          const [a, b] = args;
          if (known(a) && known(b) && a.t !== b.t && !(NUMERIC.has(a.t) && NUMERIC.has(b.t)) && a.t !== 'null_type' && b.t !== 'null_type') overload();
          return scalar('bool');
        }
        if (fn === '_&&_' || fn === '_||_' || fn === '!_') {
          if (args.some((a) => known(a) && a.t !== 'bool')) overload();
          return scalar('bool');
        }
        if (fn === '-_') {
          if (known(args[0]) && args[0].t !== 'int' && args[0].t !== 'double') overload();
          return args[0];
        }
        if (fn === '_?_:_') {
          if (known(args[0]) && args[0].t !== 'bool') overload();
          return args[1].t === args[2].t ? args[1] : DYN;
        }
        if (fn === '_[_]') {
          const [c] = args;
          if (c.t === 'list') return c.elem ?? DYN;
          if (c.t === 'map') return c.value ?? DYN;
          if (known(c) && c.t !== 'bytes') overload();
          return DYN;
        }
        if (fn === '@in' || fn === '@not_strictly_false') return scalar('bool');
        if (target && STRING_METHODS.has(fn) && known(target) && target.t !== 'string') overload();
        if (fn === 'split' || fn === 'findAll') return { t: 'list', elem: scalar('string') };
        if ((fn === 'sum' || fn === 'min' || fn === 'max') && target?.t === 'list') return target.elem ?? DYN;
        if (fn === 'quantity' || fn === 'add' || fn === 'sub' || fn === 'url' || fn === 'getQuery') return DYN;
        return RESULT[fn] ? scalar(RESULT[fn]) : DYN;
      }
      case 'listExpr': {
        const els = (v.elements as AstExpr[]).map(visit);
        return { t: 'list', elem: els.length > 0 && els.every((x) => x.t === els[0].t) ? els[0] : DYN, card: els.length };
      }
      case 'structExpr':
        if (v.messageName) fail(e, `undeclared reference to '${v.messageName as string}' (in container '')`);
        for (const entry of v.entries as { keyKind: { case: string; value: AstExpr }; value: AstExpr }[]) {
          if (entry.keyKind.case === 'mapKey') visit(entry.keyKind.value);
          visit(entry.value);
        }
        return { t: 'map', value: DYN };
      case 'comprehensionExpr': {
        const range = visit(v.iterRange as AstExpr);
        const accu = visit(v.accuInit as AstExpr);
        const iter = range.t === 'list' ? range.elem ?? DYN : range.t === 'map' ? scalar('string') : range.t === 'object' ? scalar('string') : DYN;
        const scope = new Map<string, T>([[v.iterVar as string, iter], [v.accuVar as string, accu.t === 'list' ? { t: 'list', elem: DYN } : accu]]);
        if (v.iterVar2) scope.set(v.iterVar2 as string, range.t === 'list' ? range.elem ?? DYN : range.value ?? DYN);
        scopes.push(scope);
        try {
          visit(v.loopCondition as AstExpr);
          visit(v.loopStep as AstExpr);
          const result = visit(v.result as AstExpr);
          return result.t === 'list' ? { ...result, card: range.card } : result;
        } finally {
          scopes.pop();
        }
      }
      default:
        return DYN;
    }
  };
  // A cost estimate in the spirit of cel-go's estimator (lenient where unsure): constants free, a variable or field
  // one, a call one plus its arguments, logical operators only their arguments, a conditional its condition plus
  // the dearer branch, a comprehension its body once per item of its range (maxItems, or what a request can hold).
  const UNKNOWN_CARD = unboundedCardinality(undefined);
  const FREE = new Set(['_&&_', '_||_', '!_', '@not_strictly_false']);
  const cost = (e: AstExpr | undefined): number => {
    if (!e) return 0;
    const v = e.exprKind.value;
    switch (e.exprKind.case) {
      case 'constExpr': return 0;
      case 'selectExpr': return 1 + cost(v.operand as AstExpr);
      case 'callExpr': {
        const args = v.args as AstExpr[];
        if (v.function === '_?_:_') return cost(args[0]) + Math.max(cost(args[1]), cost(args[2]));
        return (FREE.has(v.function as string) ? 0 : 1) + cost(v.target as AstExpr | undefined) + args.reduce((n, a) => n + cost(a), 0);
      }
      case 'listExpr': return 1 + (v.elements as AstExpr[]).reduce((n, a) => n + cost(a), 0);
      case 'structExpr': return 1 + (v.entries as { keyKind: { case: string; value: AstExpr }; value: AstExpr }[])
        .reduce((n, x) => n + cost(x.value) + (x.keyKind.case === 'mapKey' ? cost(x.keyKind.value) : 0), 0);
      case 'comprehensionExpr': {
        const card = types.get((v.iterRange as AstExpr).id)?.card ?? UNKNOWN_CARD;
        return cost(v.iterRange as AstExpr) + cost(v.accuInit as AstExpr) + cost(v.result as AstExpr)
          + card * (cost(v.loopCondition as AstExpr) + cost(v.loopStep as AstExpr));
      }
      default: return 1;
    }
  };
  try {
    const type = visit(root);
    return { usesOldSelf, type, cost: cost(root) };
  } catch (err) {
    if (err instanceof CheckError) return { error: err.message, usesOldSelf, type: DYN, cost: 0 };
    throw err;
  }
}

function compileExpression(source: string, node: SchemaNode | undefined, isResourceRoot: boolean, want?: 'bool' | 'string'): { program: CompiledRule['program']; usesOldSelf: boolean; cost: number } | { error: string } {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(source);
  } catch (err) {
    const msg = (err as Error).message;
    const m = /^(<input>:\d+:\d+: )([\s\S]*)$/.exec(msg);
    return { error: `compilation failed: ${celError(source, m ? `${m[1]}Syntax error: ${m[2]}` : msg)}` };
  }
  const positions = (parsed.sourceInfo?.positions ?? {}) as Record<string, number>;
  const check = checkAst(parsed.expr as unknown as AstExpr, source, positions, node, isResourceRoot);
  if (check.error) return { error: `compilation failed: ${celError(source, check.error)}` };
  if (want && check.type.t !== 'dyn' && check.type.t !== want) return { error: `cel expression must evaluate to a ${want}` };
  try {
    const p = plan(env(), parsed);
    return { program: p as unknown as CompiledRule['program'], usesOldSelf: check.usesOldSelf, cost: check.cost };
  } catch (err) {
    return { error: `compilation failed: ${celError(source, (err as Error).message)}` };
  }
}

/** Compiles one node's rules; errors are per rule index. */
export function compileRules(node: SchemaNode, isResourceRoot: boolean): { rules: CompiledRule[]; errors: { index: number; error: CompileError }[] } {
  const rules: CompiledRule[] = [];
  const errors: { index: number; error: CompileError }[] = [];
  node.validations.forEach((spec, index) => {
    const r = compileExpression(spec.rule, node, isResourceRoot, 'bool');
    if ('error' in r) {
      errors.push({ index, error: { field: 'rule', detail: r.error } });
      return;
    }
    let messageProgram: CompiledRule['messageProgram'];
    let messageCost = 0;
    if (spec.messageExpression !== undefined && spec.messageExpression.trim() !== '') {
      const m = compileExpression(spec.messageExpression, node, isResourceRoot, 'string');
      if ('error' in m) {
        const detail = m.error.startsWith('cel expression must') ? 'must evaluate to a string' : `messageExpression ${m.error}`;
        errors.push({ index, error: { field: 'messageExpression', detail } });
        return;
      }
      messageProgram = m.program;
      messageCost = m.cost;
    }
    rules.push({ spec, program: r.program, messageProgram, usesOldSelf: r.usesOldSelf, cost: r.cost + messageCost });
  });
  return { rules, errors };
}

/**
 * A JSON value as CEL sees it under its schema: integers of `integer` (and int-or-string and untyped) fields as
 * int64 (bigint), `number` as double, objects as maps, arrays as lists.
 */
export function toCel(x: unknown, s: SchemaNode | undefined): unknown {
  if (x === null || x === undefined) return null;
  if (typeof x === 'string' && s?.type === 'string' && s.format) return formattedString(x, s.format);
  if (typeof x === 'number') {
    if (s?.type === 'number') return x;
    return Number.isInteger(x) ? BigInt(x) : x;
  }
  if (Array.isArray(x)) return x.map((e) => toCel(e, s?.items));
  if (isObject(x)) {
    const m = new Map<string, unknown>();
    for (const [k, v] of Object.entries(x)) {
      const child = s?.properties?.get(k) ?? (typeof s?.additionalProperties === 'object' ? s.additionalProperties : undefined);
      m.set(k, toCel(v, child));
    }
    return m;
  }
  return x;
}

/** The evaluator's runtime errors in cel-go's words, which upstream's messages embed. */
function celGoError(message: string): string {
  if (message.startsWith('field not found: ')) return `no such key: ${message.slice('field not found: '.length)}`;
  if (message.startsWith('found no matching overload')) return 'no such overload';
  return message;
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, sec: 1, second: 1, seconds: 1, m: 60, min: 60, minute: 60, minutes: 60,
  h: 3600, hour: 3600, hours: 3600, d: 86400, day: 86400, days: 86400, w: 604800, week: 604800, weeks: 604800,
};

/** Go strfmt.ParseDuration: a sum of `<number><unit>` terms. */
function parseDuration(v: string): number | undefined {
  const re = /([-+]?(?:\d+(?:\.\d*)?|\.\d+))\s*([a-zµ]+)\s*/gy;
  let total = 0;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(v.trim())) !== null) {
    const unit = DURATION_UNITS[m[2]];
    if (unit === undefined) return undefined;
    total += Number(m[1]) * unit;
    end = re.lastIndex;
  }
  return end === v.trim().length && end > 0 ? total : undefined;
}

/**
 * upstream's CEL values for formatted strings (apiserver/pkg/cel/common/values.go): `date`/`date-time` are
 * timestamps, `duration` a duration, `byte` bytes; anything that does not parse stays a string (the format
 * check has already reported it).
 */
function formattedString(x: string, format: string): unknown {
  switch (format) {
    case 'date':
    case 'date-time':
    case 'datetime': {
      const d = new Date(format === 'date' ? `${x}T00:00:00Z` : x);
      return Number.isNaN(d.getTime()) ? x : timestampFromDate(d);
    }
    case 'duration': {
      const secs = parseDuration(x);
      if (secs === undefined) return x;
      const whole = Math.trunc(secs);
      return create(DurationSchema, { seconds: BigInt(whole), nanos: Math.round((secs - whole) * 1e9) });
    }
    case 'byte':
      return /^[A-Za-z0-9+/]*={0,2}$/.test(x) ? new Uint8Array(Buffer.from(x, 'base64')) : x;
    default:
      return x;
  }
}

export type EvalOutcome = { ok: true } | { ok: false; message: string | undefined } | { error: string };

/** Evaluates a compiled rule; `false` gives the messageExpression's result (if it yields a non-empty string). */
export function evalRule(r: CompiledRule, self: unknown, oldSelf: unknown): EvalOutcome {
  const ctx = { self, oldSelf };
  let out: unknown;
  try {
    out = r.program(ctx);
  } catch (err) {
    return { error: celGoError((err as Error).message) };
  }
  if (isCelError(out)) return { error: celGoError(out.message) };
  if (out === true) return { ok: true };
  if (out !== false) return { error: `rule did not evaluate to a bool: ${typeof out}` };
  let message: string | undefined;
  if (r.messageProgram) {
    try {
      const m = r.messageProgram(ctx);
      if (typeof m === 'string' && m.trim() !== '' && !m.includes('\n')) message = m;
    } catch { /* upstream falls back to message/rule when messageExpression fails */ }
  }
  return { ok: false, message };
}
