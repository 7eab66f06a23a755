/**
 * kubectl's JSONPath templates (k8s.io/client-go/util/jsonpath): text with `{…}` actions — fields `.a.b` and
 * `['a']`, `[n]`, `[-n]`, `[a:b]`, `[*]`, unions `[0,1]`, recursive descent `..name`, filters `[?(@.x=="y")]`,
 * `{range …}…{end}`, quoted literals `{"\n"}`, `@`/`$`.
 */

type Node =
  | { t: 'text'; text: string }
  | { t: 'list'; steps: Step[] }
  | { t: 'range'; steps: Step[]; body: Node[] };

type Step =
  | { t: 'field'; names: string[] }
  | { t: 'recursive' }
  | { t: 'index'; specs: IndexSpec[] }
  | { t: 'wildcard' }
  | { t: 'filter'; left: Step[]; op: string; right: Step[] | { literal: unknown } | undefined }
  | { t: 'literal'; value: unknown }
  | { t: 'root' };

type IndexSpec = { kind: 'one'; i: number } | { kind: 'slice'; start?: number; end?: number; step?: number };

/** A template that does not parse or cannot execute: kubectl's message text. */
export class JsonPathError extends Error {}

/** A parsed template, applied to objects. */
export class JsonPath {
  private readonly nodes: Node[];
  allowMissingKeys = true;

  constructor(readonly template: string) {
    this.nodes = parseTemplate(template);
  }

  /** The text kubectl prints for `data` (`-o jsonpath`). */
  execute(data: unknown): string {
    let out = '';
    const walk = (nodes: Node[], cur: unknown): void => {
      for (const n of nodes) {
        if (n.t === 'text') out += n.text;
        else if (n.t === 'list') {
          const results = this.evalSteps(n.steps, cur, data);
          out += results.map(textOf).join(' ');
        } else {
          const results = this.evalSteps(n.steps, cur, data);
          const items = results.length === 1 && Array.isArray(results[0]) ? results[0] as unknown[] : results;
          for (const item of items) walk(n.body, item);
        }
      }
    };
    walk(this.nodes, data);
    return out;
  }

  /** The values found, for `-o jsonpath-as-json`, custom columns and `--sort-by`. */
  findResults(data: unknown): unknown[][] {
    const out: unknown[][] = [];
    const walk = (nodes: Node[], cur: unknown): void => {
      for (const n of nodes) {
        if (n.t === 'text') out.push([n.text]);
        else if (n.t === 'list') out.push(this.evalSteps(n.steps, cur, data));
        else {
          const results = this.evalSteps(n.steps, cur, data);
          const items = results.length === 1 && Array.isArray(results[0]) ? results[0] as unknown[] : results;
          for (const item of items) walk(n.body, item);
        }
      }
    };
    walk(this.nodes, data);
    return out;
  }

  private evalSteps(steps: Step[], cur: unknown, root: unknown): unknown[] {
    let values: unknown[] = [cur];
    for (const s of steps) {
      const next: unknown[] = [];
      for (const v of values) next.push(...this.step(s, v, root));
      values = next;
    }
    return values;
  }

  private step(s: Step, v: unknown, root: unknown): unknown[] {
    switch (s.t) {
      case 'root': return [root];
      case 'literal': return [s.value];
      case 'field': {
        const out: unknown[] = [];
        for (const name of s.names) {
          if (v !== null && typeof v === 'object' && !Array.isArray(v) && name in (v as object)) out.push((v as Record<string, unknown>)[name]);
          else if (!this.allowMissingKeys) throw new JsonPathError(`${name} is not found`);
        }
        return out;
      }
      case 'wildcard':
        if (Array.isArray(v)) return v;
        if (v !== null && typeof v === 'object') return Object.keys(v).sort().map((k) => (v as Record<string, unknown>)[k]);
        return [];
      case 'recursive': {
        const out: unknown[] = [];
        const visit = (x: unknown): void => {
          out.push(x);
          if (Array.isArray(x)) x.forEach(visit);
          else if (x !== null && typeof x === 'object') for (const k of Object.keys(x).sort()) visit((x as Record<string, unknown>)[k]);
        };
        visit(v);
        return out;
      }
      case 'index': {
        if (!Array.isArray(v)) {
          if (this.allowMissingKeys) return [];
          throw new JsonPathError(`not an array`);
        }
        const out: unknown[] = [];
        for (const spec of s.specs) {
          if (spec.kind === 'one') {
            const i = spec.i < 0 ? v.length + spec.i : spec.i;
            if (i < 0 || i >= v.length) {
              if (this.allowMissingKeys) continue;
              throw new JsonPathError(`array index out of bounds: index ${spec.i}, length ${v.length}`);
            }
            out.push(v[i]);
          } else {
            const len = v.length;
            let start = spec.start ?? 0;
            let end = spec.end ?? len;
            if (start < 0) start += len;
            if (end < 0) end += len;
            start = Math.max(0, Math.min(start, len));
            end = Math.max(0, Math.min(end, len));
            const stepBy = spec.step ?? 1;
            for (let i = start; i < end; i += stepBy) out.push(v[i]);
          }
        }
        return out;
      }
      case 'filter': {
        const items = Array.isArray(v) ? v : v !== null && typeof v === 'object' ? Object.values(v) : [];
        return items.filter((item) => {
          const left = this.evalSteps(s.left, item, root);
          if (s.op === '') return left.length > 0 && left[0] !== undefined;
          const right = s.right === undefined ? [] : 'literal' in s.right ? [s.right.literal] : this.evalSteps(s.right, item, root);
          if (!left.length || !right.length) return false;
          return compare(left[0], s.op, right[0]);
        });
      }
    }
  }
}

function compare(a: unknown, op: string, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'string' && b !== '' && !Number.isNaN(Number(b))) b = Number(b);
  if (typeof b === 'number' && typeof a === 'string' && a !== '' && !Number.isNaN(Number(a))) a = Number(a);
  switch (op) {
    case '==': return a === b || (typeof a === 'object' && JSON.stringify(a) === JSON.stringify(b));
    case '!=': return a !== b;
    case '<': return (a as number) < (b as number);
    case '>': return (a as number) > (b as number);
    case '<=': return (a as number) <= (b as number);
    case '>=': return (a as number) >= (b as number);
    default: throw new JsonPathError(`unrecognized filter operator ${op}`);
  }
}

/** How a result prints: strings as they are, everything else as compact JSON (kubectl's evalToText). */
export function textOf(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === undefined) return '';
  if (v === null) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return compactJson(v).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Go's json.Marshal of a decoded value: compact, map keys sorted by their bytes. */
function compactJson(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return `[${v.map(compactJson).join(',')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    return `{${keys.map((k) => `${JSON.stringify(k)}:${compactJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

function parseTemplate(tpl: string): Node[] {
  const root: Node[] = [];
  const stack: { nodes: Node[] }[] = [{ nodes: root }];
  let i = 0;
  while (i < tpl.length) {
    const open = tpl.indexOf('{', i);
    if (open < 0) {
      stack[stack.length - 1].nodes.push({ t: 'text', text: tpl.slice(i) });
      break;
    }
    if (open > i) stack[stack.length - 1].nodes.push({ t: 'text', text: tpl.slice(i, open) });
    const close = closingBracket(tpl, open);
    if (close < 0) throw new JsonPathError(`unclosed action`);
    const inner = tpl.slice(open + 1, close).trim();
    i = close + 1;
    if (inner === 'end') {
      if (stack.length === 1) throw new JsonPathError(`not in range, nothing to end`);
      stack.pop();
      continue;
    }
    if (inner.startsWith('range ') || inner === 'range') {
      const node: Node = { t: 'range', steps: parseExpr(inner.slice(5).trim()), body: [] };
      stack[stack.length - 1].nodes.push(node);
      stack.push({ nodes: node.body });
      continue;
    }
    const lit = quotedLiteral(inner);
    if (lit !== undefined) {
      stack[stack.length - 1].nodes.push({ t: 'text', text: lit });
      continue;
    }
    stack[stack.length - 1].nodes.push({ t: 'list', steps: parseExpr(inner) });
  }
  if (stack.length > 1) throw new JsonPathError(`unclosed range`);
  return root;
}

/** The index of the bracket closing the one at `open` (`{…}` or `[…]`), skipping quoted strings; -1 when unclosed. */
function closingBracket(s: string, open: number): number {
  const [opening, closing] = s[open] === '[' ? ['[', ']'] : ['{', '}'];
  let quote = '';
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === opening) depth++;
    else if (c === closing && --depth === 0) return i;
  }
  return -1;
}

function quotedLiteral(s: string): string | undefined {
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) {
    try {
      return JSON.parse(s) as string;
    } catch {
      return s.slice(1, -1);
    }
  }
  if (s.length >= 2 && s.startsWith("'") && s.endsWith("'")) return s.slice(1, -1);
  return undefined;
}

/** Parses `.items[*].metadata.name`, `$.a`, `@.b`, `..c`, `['x']`, `[?(…)]`. */
function parseExpr(expr: string): Step[] {
  const steps: Step[] = [];
  let i = 0;
  const s = expr.trim();
  if (s === '') return steps;
  if (s[0] === '$') { steps.push({ t: 'root' }); i = 1; }
  else if (s[0] === '@') i = 1;
  const lit = quotedLiteral(s);
  if (lit !== undefined) return [{ t: 'literal', value: lit }];
  if (/^-?\d+(\.\d+)?$/.test(s)) return [{ t: 'literal', value: Number(s) }];
  if (s === 'true' || s === 'false') return [{ t: 'literal', value: s === 'true' }];
  while (i < s.length) {
    const c = s[i];
    if (c === '.') {
      if (s[i + 1] === '.') {
        steps.push({ t: 'recursive' });
        i += 2;
        continue;
      }
      i++;
      if (s[i] === '*') { steps.push({ t: 'wildcard' }); i++; continue; }
      let j = i;
      while (j < s.length && !'.[ '.includes(s[j])) j++;
      const name = s.slice(i, j);
      if (name) steps.push({ t: 'field', names: [name] });
      i = j;
    } else if (c === '[') {
      const close = closingBracket(s, i);
      if (close < 0) throw new JsonPathError(`unterminated array`);
      steps.push(parseBracket(s.slice(i + 1, close).trim()));
      i = close + 1;
    } else if (c === ' ') {
      i++;
    } else {
      // A bare field name (`metadata.name` without the leading dot).
      let j = i;
      while (j < s.length && !'.['.includes(s[j])) j++;
      steps.push({ t: 'field', names: [s.slice(i, j)] });
      i = j;
    }
  }
  return steps;
}

function parseBracket(inner: string): Step {
  if (inner === '*') return { t: 'wildcard' };
  if (inner.startsWith('?')) {
    const m = /^\?\s*\((.*)\)$/s.exec(inner);
    if (!m) throw new JsonPathError(`invalid filter ${inner}`);
    const body = m[1].trim();
    const opMatch = /(==|!=|<=|>=|<|>)/.exec(body);
    if (!opMatch) return { t: 'filter', left: parseExpr(body), op: '', right: undefined };
    const left = body.slice(0, opMatch.index).trim();
    const right = body.slice(opMatch.index + opMatch[0].length).trim();
    const lit = quotedLiteral(right);
    const rightStep = lit !== undefined ? { literal: lit as unknown } : /^-?\d+(\.\d+)?$/.test(right) ? { literal: Number(right) as unknown }
      : right === 'true' || right === 'false' ? { literal: right === 'true' } : parseExpr(right);
    return { t: 'filter', left: parseExpr(left), op: opMatch[0], right: rightStep };
  }
  const parts = splitTop(inner);
  if (parts.every((p) => quotedLiteral(p.trim()) !== undefined)) return { t: 'field', names: parts.map((p) => quotedLiteral(p.trim())!) };
  const specs: IndexSpec[] = parts.map((p) => {
    const t = p.trim();
    if (t.includes(':')) {
      const [a, b, c] = t.split(':').map((x) => (x.trim() === '' ? undefined : Number(x)));
      if ([a, b, c].some((x) => x !== undefined && Number.isNaN(x))) throw new JsonPathError(`invalid array index ${t}`);
      return { kind: 'slice', start: a, end: b, step: c };
    }
    const n = Number(t);
    if (t === '' || !Number.isInteger(n)) throw new JsonPathError(`invalid array index ${t}`);
    return { kind: 'one', i: n };
  });
  return { t: 'index', specs };
}

function splitTop(s: string): string[] {
  const out: string[] = [];
  let quote = '';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ',') {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
}

/** kubectl's RelaxedJSONPathExpression: `.a.b`, `a.b` and `{.a.b}` all mean `{.a.b}`. */
export function relaxedJsonPath(expr: string): string {
  const s = expr.trim();
  if (s.startsWith('{') && s.endsWith('}')) return s;
  if (s === '') return '{}';
  return `{${s.startsWith('.') || s.startsWith('$') || s.startsWith('[') ? s : `.${s}`}}`;
}
