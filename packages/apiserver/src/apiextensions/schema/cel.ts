import {
  CelScalar, celEnv, celMethod, celFunc, isCelError, isCelList, isCelMap, listType, mapType, parse, plan,
  type CelEnv, type CelInput, type CelList, type CelValue,
} from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { create } from '@bufbuild/protobuf';
import { DurationSchema, timestampFromDate } from '@bufbuild/protobuf/wkt';
import { parseQuantityExact } from '@k8ts/api';
import { type SchemaNode, type ValidationRule, isObject } from './node.js';
import { cachedRE2 } from './regex.js';

/**
 * `x-kubernetes-validations` rules on Buf's CEL evaluator (@bufbuild/cel): compiled once per schema, evaluated per
 * write with `self` (and `oldSelf` for transition rules) bound to the value at the rule's node, typed as
 * upstream's CEL type mapping (k8s.io/apiserver/pkg/cel/common/values.go): `integer` is CEL int (int64), `number`
 * double, objects and maps CEL maps, arrays lists, `x-kubernetes-int-or-string` int or string. Besides the standard
 * library and macros (`has`, `all`, `exists`, `exists_one`, `map`, `filter`) the environment has Kubernetes' list
 * library (`isSorted`, `sum`, `min`, `max`, `indexOf`, `lastIndexOf`), regex library (`find`, `findAll`), the
 * strings extension (`lowerAscii`, `upperAscii`, `replace`, `split`, `trim`, `join`, `indexOf`, `substring`, ...)
 * and `url`-less `isURL`. The evaluator has no type checker, so compilation checks what upstream's checker would
 * reject most often: unknown functions and variables, and fields the schema does not declare.
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


/** Kubernetes' CEL libraries (k8s.io/apiserver/pkg/cel/library): lists, regex, urls (isURL). */
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
  celFunc('isURL', [CelScalar.STRING], CelScalar.BOOL, (s) => {
    // Go's url.ParseRequestURI: an absolute URI or an absolute path.
    if (s.startsWith('/')) return true;
    try { return new URL(s).protocol !== ''; } catch { return false; }
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

let sharedEnv: CelEnv | undefined;

function env(): CelEnv {
  // `matches` with RE2's semantics, each pattern compiled once (the evaluator's default compiles per call).
  sharedEnv ??= celEnv({
    variables: { self: CelScalar.DYN, oldSelf: CelScalar.DYN }, funcs: [...strings, ...k8sFuncs, ...quantityFuncs],
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
}

/** A compilation failure: `field` is `rule` or `messageExpression`, `detail` upstream's "compilation failed: ..." text. */
export interface CompileError { field: 'rule' | 'messageExpression'; detail: string }

interface AstExpr {
  id: bigint;
  exprKind: { case: string | undefined; value?: any };
}

const META = new Set(['apiVersion', 'kind', 'metadata']);

const MACRO_FREE_IDENTS = new Set(['self', 'oldSelf', 'null', 'true', 'false', 'int', 'uint', 'double', 'string', 'bytes', 'bool', 'list', 'map', 'type', 'null_type', 'duration', 'timestamp', 'dyn']);

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

/**
 * What upstream's type checker would say about an expression, for the mistakes it catches most: an unknown
 * variable or function, and a field the schema of `self` does not have.
 */
function checkAst(root: AstExpr, source: string, positions: Record<string, number>, node: SchemaNode | undefined, isResourceRoot: boolean): string | undefined {
  const at = (e: AstExpr) => position(source, positions[String(e.id)]);
  const scopes: Set<string>[] = [];
  const funcs = env().funcs;
  let usesOldSelf = false;
  // Resolves a select chain (`self.spec.replicas`) to its schema node, for the undefined-field check.
  const schemaOf = (e: AstExpr): SchemaNode | undefined | null => {
    if (e.exprKind.case === 'identExpr') {
      const name = e.exprKind.value.name as string;
      if ((name === 'self' || name === 'oldSelf') && !scopes.some((s) => s.has(name))) return node ?? null;
      return null;
    }
    if (e.exprKind.case === 'selectExpr') {
      const parent = schemaOf(e.exprKind.value.operand as AstExpr);
      if (!parent) return null;
      const field = e.exprKind.value.field as string;
      return parent.properties?.get(field) ?? (typeof parent.additionalProperties === 'object' ? parent.additionalProperties : null);
    }
    return null;
  };
  const visit = (e: AstExpr | undefined): string | undefined => {
    if (!e) return undefined;
    const v = e.exprKind.value;
    switch (e.exprKind.case) {
      case 'identExpr': {
        const name = v.name as string;
        if (name === 'oldSelf') usesOldSelf = true;
        if (scopes.some((s) => s.has(name)) || MACRO_FREE_IDENTS.has(name) || name.startsWith('@')) return undefined;
        return `${at(e)}: undeclared reference to '${name}' (in container '')`;
      }
      case 'selectExpr': {
        const err = visit(v.operand as AstExpr);
        if (err) return err;
        const parent = schemaOf(v.operand as AstExpr);
        // apiVersion, kind and metadata are declared on every resource root (upstream's WithTypeAndObjectMeta).
        if (isResourceRoot && parent === node && META.has(v.field as string)) return undefined;
        if (parent && parent.type === 'object' && !parent.preserveUnknownFields && parent.additionalProperties === undefined
          && !parent.properties?.has(v.field as string)) {
          return `${at(e)}: undefined field '${v.field as string}'`;
        }
        return undefined;
      }
      case 'callExpr': {
        const fn = v.function as string;
        // Operators (`_&&_`, `_?_:_`, `@not_strictly_false`, …) are the evaluator's own; only named functions are checked.
        if (/^[A-Za-z]/.test(fn) && !funcs.find(fn)) return `${at(e)}: undeclared reference to '${fn}' (in container '')`;
        const err = visit(v.target as AstExpr | undefined);
        if (err) return err;
        for (const a of v.args as AstExpr[]) {
          const ae = visit(a);
          if (ae) return ae;
        }
        return undefined;
      }
      case 'listExpr':
        for (const el of v.elements as AstExpr[]) {
          const err = visit(el);
          if (err) return err;
        }
        return undefined;
      case 'structExpr':
        if (v.messageName) return `${at(e)}: undeclared reference to '${v.messageName as string}' (in container '')`;
        for (const entry of v.entries as { keyKind: { case: string; value: AstExpr }; value: AstExpr }[]) {
          const err = (entry.keyKind.case === 'mapKey' ? visit(entry.keyKind.value) : undefined) ?? visit(entry.value);
          if (err) return err;
        }
        return undefined;
      case 'comprehensionExpr': {
        const err = visit(v.iterRange as AstExpr) ?? visit(v.accuInit as AstExpr);
        if (err) return err;
        scopes.push(new Set([v.iterVar as string, v.accuVar as string, ...(v.iterVar2 ? [v.iterVar2 as string] : [])]));
        const inner = visit(v.loopCondition as AstExpr) ?? visit(v.loopStep as AstExpr) ?? visit(v.result as AstExpr);
        scopes.pop();
        return inner;
      }
      default:
        return undefined;
    }
  };
  const err = visit(root);
  if (err) return err;
  return usesOldSelf ? '' : undefined;
}

function compileExpression(source: string, node: SchemaNode | undefined, isResourceRoot: boolean): { program: CompiledRule['program']; usesOldSelf: boolean } | { error: string } {
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
  if (check) return { error: `compilation failed: ${celError(source, check)}` };
  try {
    const p = plan(env(), parsed);
    return { program: p as unknown as CompiledRule['program'], usesOldSelf: check === '' };
  } catch (err) {
    return { error: `compilation failed: ${celError(source, (err as Error).message)}` };
  }
}

/** Compiles one node's rules; errors are per rule index. */
export function compileRules(node: SchemaNode, isResourceRoot: boolean): { rules: CompiledRule[]; errors: { index: number; error: CompileError }[] } {
  const rules: CompiledRule[] = [];
  const errors: { index: number; error: CompileError }[] = [];
  node.validations.forEach((spec, index) => {
    const r = compileExpression(spec.rule, node, isResourceRoot);
    if ('error' in r) {
      errors.push({ index, error: { field: 'rule', detail: r.error } });
      return;
    }
    let messageProgram: CompiledRule['messageProgram'];
    if (spec.messageExpression !== undefined && spec.messageExpression.trim() !== '') {
      const m = compileExpression(spec.messageExpression, node, isResourceRoot);
      if ('error' in m) {
        errors.push({ index, error: { field: 'messageExpression', detail: `messageExpression ${m.error}` } });
        return;
      }
      messageProgram = m.program;
    }
    rules.push({ spec, program: r.program, messageProgram, usesOldSelf: r.usesOldSelf });
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
