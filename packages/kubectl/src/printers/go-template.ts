/**
 * A subset of Go's text/template, as `kubectl -o go-template` uses it: `{{.a.b}}`, `{{$}}`, variables
 * (`{{$x := .a}}`, `{{range $i, $e := .items}}`), `range`/`if`/`else`/`with`/`end`, trim markers `{{-`/`-}}`,
 * pipelines `{{.a | printf "%s"}}` and the functions kubectl users reach for: index, len, printf, print, println,
 * eq, ne, lt, le, gt, ge, and, or, not, base64decode, base64encode.
 */

type Tok = { kind: 'text'; text: string } | { kind: 'action'; text: string };
type Node =
  | { t: 'text'; text: string }
  | { t: 'pipe'; pipe: Pipeline }
  | { t: 'range'; pipe: Pipeline; vars: string[]; body: Node[]; elseBody: Node[] }
  | { t: 'if' | 'with'; pipe: Pipeline; body: Node[]; elseBody: Node[] }
  | { t: 'assign'; name: string; pipe: Pipeline };
type Pipeline = Cmd[];
type Cmd = Arg[];
type Arg = { t: 'field'; base: 'dot' | string; path: string[] } | { t: 'lit'; value: unknown } | { t: 'ident'; name: string } | { t: 'sub'; pipe: Pipeline };

/** A template error, with Go's wording where it matters. */
export class TemplateError extends Error {}

function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) { toks.push({ kind: 'text', text: src.slice(i) }); break; }
    let text = src.slice(i, open);
    let start = open + 2;
    if (src[start] === '-' && src[start + 1] === ' ') { text = text.replace(/\s+$/, ''); start += 2; }
    if (text) toks.push({ kind: 'text', text });
    const close = findActionEnd(src, start);
    if (close < 0) throw new TemplateError('template: output:1: unclosed action');
    let inner = src.slice(start, close);
    let after = close + 2;
    if (inner.endsWith(' -')) {
      inner = inner.slice(0, -2);
      while (after < src.length && /\s/.test(src[after])) after++;
    }
    toks.push({ kind: 'action', text: inner.trim() });
    i = after;
  }
  return toks;
}

function findActionEnd(src: string, from: number): number {
  let quote = '';
  for (let i = from; i < src.length - 1; i++) {
    const c = src[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === '`') quote = c;
    else if (c === '}' && src[i + 1] === '}') return i;
  }
  return -1;
}

/** Splits an action into words, keeping quoted strings and parenthesised groups whole. */
function words(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    if (/\s/.test(s[i])) { i++; continue; }
    if (s[i] === '"' || s[i] === '`') {
      const q = s[i];
      let j = i + 1;
      while (j < s.length && s[j] !== q) { if (s[j] === '\\' && q === '"') j++; j++; }
      out.push(s.slice(i, j + 1));
      i = j + 1;
    } else if (s[i] === '(') {
      let depth = 0;
      let j = i;
      for (; j < s.length; j++) { if (s[j] === '(') depth++; else if (s[j] === ')' && --depth === 0) break; }
      out.push(s.slice(i, j + 1));
      i = j + 1;
    } else if (s[i] === '|') {
      out.push('|');
      i++;
    } else {
      let j = i;
      while (j < s.length && !/[\s|()]/.test(s[j])) j++;
      out.push(s.slice(i, j));
      i = j;
    }
  }
  return out;
}

function parsePipeline(s: string): Pipeline {
  const cmds: Cmd[] = [[]];
  for (const w of words(s)) {
    if (w === '|') { cmds.push([]); continue; }
    cmds[cmds.length - 1].push(parseArg(w));
  }
  if (cmds.some((c) => c.length === 0)) throw new TemplateError(`template: output:1: missing value for command`);
  return cmds;
}

function parseArg(w: string): Arg {
  if (w.startsWith('"')) return { t: 'lit', value: JSON.parse(w) };
  if (w.startsWith('`')) return { t: 'lit', value: w.slice(1, -1) };
  if (w.startsWith('(')) return { t: 'sub', pipe: parsePipeline(w.slice(1, -1)) };
  if (/^-?\d+(\.\d+)?$/.test(w)) return { t: 'lit', value: Number(w) };
  if (w === 'true' || w === 'false') return { t: 'lit', value: w === 'true' };
  if (w === 'nil') return { t: 'lit', value: null };
  if (w === '.') return { t: 'field', base: 'dot', path: [] };
  if (w.startsWith('.')) return { t: 'field', base: 'dot', path: w.slice(1).split('.') };
  if (w.startsWith('$')) {
    const [name, ...path] = w.split('.');
    return { t: 'field', base: name, path };
  }
  return { t: 'ident', name: w };
}

function parse(src: string): Node[] {
  const toks = tokenize(src);
  let pos = 0;
  const block = (stopAt: string[]): { nodes: Node[]; stop: string } => {
    const nodes: Node[] = [];
    while (pos < toks.length) {
      const tok = toks[pos++];
      if (tok.kind === 'text') { nodes.push({ t: 'text', text: tok.text }); continue; }
      const a = tok.text;
      if (a.startsWith('/*')) continue;
      const kw = a.split(/\s+/)[0];
      if (stopAt.includes(kw)) return { nodes, stop: a };
      if (kw === 'range') {
        let rest = a.slice(5).trim();
        let vars: string[] = [];
        const m = /^((\$\w*)(\s*,\s*(\$\w*))?)\s*:=\s*(.*)$/s.exec(rest);
        if (m) { vars = [m[2], m[4]].filter(Boolean); rest = m[5]; }
        const body = block(['end', 'else']);
        const elseBody = body.stop === 'else' ? block(['end']).nodes : [];
        nodes.push({ t: 'range', pipe: parsePipeline(rest), vars, body: body.nodes, elseBody });
      } else if (kw === 'if' || kw === 'with') {
        nodes.push(conditional(kw, a));
      } else if (/^\$\w*\s*:?=/.test(a)) {
        const m = /^(\$\w*)\s*:?=\s*(.*)$/s.exec(a)!;
        nodes.push({ t: 'assign', name: m[1], pipe: parsePipeline(m[2]) });
      } else if (kw === 'end' || kw === 'else') {
        throw new TemplateError(`template: output:1: unexpected {{${kw}}}`);
      } else {
        nodes.push({ t: 'pipe', pipe: parsePipeline(a) });
      }
    }
    if (!stopAt.includes('__top__')) throw new TemplateError('template: output:1: unexpected EOF');
    return { nodes, stop: '' };
  };
  // `{{else if x}}` is an if nested in the else branch that shares the outer `{{end}}`.
  function conditional(kw: 'if' | 'with', a: string): Node {
    const body = block(['end', 'else']);
    let elseBody: Node[] = [];
    const m = /^else\s+(if|with)\s/.exec(body.stop);
    if (m) elseBody = [conditional(m[1] as 'if' | 'with', body.stop.slice(5).trim())];
    else if (body.stop === 'else') elseBody = block(['end']).nodes;
    return { t: kw, pipe: parsePipeline(a.slice(kw.length).trim()), body: body.nodes, elseBody };
  }
  return block(['__top__']).nodes;
}

function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

/** Go's %v of a decoded JSON value (maps as map[k:v], slices as [a b]). */
export function goValue(v: unknown): string {
  if (v === null || v === undefined) return '<no value>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(goValue).join(' ')}]`;
  const o = v as Record<string, unknown>;
  return `map[${Object.keys(o).sort().map((k) => `${k}:${goValue(o[k])}`).join(' ')}]`;
}

function sprintf(format: string, args: unknown[]): string {
  let i = 0;
  return format.replace(/%([-+ 0#]*)(\d*)(?:\.(\d+))?([vsdqfxXtT%])/g, (_m, flags: string, width: string, prec: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    const a = args[i++];
    let s: string;
    switch (verb) {
      case 'd': s = String(Math.trunc(Number(a))); break;
      case 'f': s = Number(a).toFixed(prec ? Number(prec) : 6); break;
      case 'q': s = JSON.stringify(typeof a === 'string' ? a : goValue(a)); break;
      case 'x': s = typeof a === 'number' ? a.toString(16) : Buffer.from(String(a)).toString('hex'); break;
      case 'X': s = (typeof a === 'number' ? a.toString(16) : Buffer.from(String(a)).toString('hex')).toUpperCase(); break;
      case 'T': s = a === null ? '<nil>' : Array.isArray(a) ? '[]interface {}' : typeof a === 'object' ? 'map[string]interface {}' : typeof a === 'number' ? (Number.isInteger(a) ? 'int64' : 'float64') : typeof a; break;
      default: s = goValue(a);
    }
    const w = Number(width || 0);
    if (s.length < w) s = flags.includes('-') ? s.padEnd(w) : s.padStart(w, flags.includes('0') ? '0' : ' ');
    return s;
  });
}

const FUNCS: Record<string, (...args: unknown[]) => unknown> = {
  index: (v, ...keys) => keys.reduce<unknown>((cur, k) => (cur === null || cur === undefined ? undefined : (cur as Record<string, unknown>)[k as string]), v),
  len: (v) => (typeof v === 'string' || Array.isArray(v) ? v.length : v && typeof v === 'object' ? Object.keys(v).length : 0),
  printf: (f, ...a) => sprintf(String(f), a),
  print: (...a) => a.map(goValue).join(''),
  println: (...a) => `${a.map(goValue).join(' ')}\n`,
  eq: (a, ...b) => b.some((x) => x === a),
  ne: (a, b) => a !== b,
  lt: (a, b) => (a as number) < (b as number),
  le: (a, b) => (a as number) <= (b as number),
  gt: (a, b) => (a as number) > (b as number),
  ge: (a, b) => (a as number) >= (b as number),
  and: (...a) => { for (const x of a) if (!truthy(x)) return x; return a[a.length - 1]; },
  or: (...a) => { for (const x of a) if (truthy(x)) return x; return a[a.length - 1]; },
  not: (a) => !truthy(a),
  base64decode: (a) => Buffer.from(String(a), 'base64').toString('utf8'),
  base64encode: (a) => Buffer.from(String(a)).toString('base64'),
  html: (a) => goValue(a).replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`),
  js: (a) => goValue(a),
  urlquery: (a) => encodeURIComponent(goValue(a)),
};

/** A parsed go-template. */
export class GoTemplate {
  private readonly nodes: Node[];

  constructor(src: string) {
    this.nodes = parse(src);
  }

  /** The text of the template applied to `data`. */
  execute(data: unknown): string {
    let out = '';
    const vars = new Map<string, unknown>([['$', data]]);
    const evalArg = (a: Arg, dot: unknown, piped: unknown[]): unknown => {
      switch (a.t) {
        case 'lit': return a.value;
        case 'sub': return evalPipe(a.pipe, dot);
        case 'field': {
          let cur = a.base === 'dot' ? dot : vars.get(a.base);
          if (a.base !== 'dot' && !vars.has(a.base)) throw new TemplateError(`template: output:1: undefined variable "${a.base}"`);
          for (const p of a.path) {
            if (p === '') continue;
            if (cur === null || cur === undefined) return undefined;
            if (typeof cur !== 'object') throw new TemplateError(`template: output:1: can't evaluate field ${p} in type ${typeof cur}`);
            cur = (cur as Record<string, unknown>)[p];
          }
          return cur;
        }
        case 'ident': {
          const fn = FUNCS[a.name];
          if (!fn) throw new TemplateError(`template: output:1: function "${a.name}" not defined`);
          return fn(...piped);
        }
      }
    };
    const evalCmd = (cmd: Cmd, dot: unknown, prev: unknown[] | undefined): unknown => {
      const [head, ...rest] = cmd;
      if (head.t === 'ident') {
        const args = rest.map((r) => evalArg(r, dot, []));
        return evalArg(head, dot, prev ? [...args, ...prev] : args);
      }
      if (rest.length) throw new TemplateError(`template: output:1: can't give argument to non-function`);
      return evalArg(head, dot, []);
    };
    const evalPipe = (pipe: Pipeline, dot: unknown): unknown => {
      let prev: unknown[] | undefined;
      let v: unknown;
      for (const cmd of pipe) {
        v = evalCmd(cmd, dot, prev);
        prev = [v];
      }
      return v;
    };
    const walk = (nodes: Node[], dot: unknown): void => {
      for (const n of nodes) {
        switch (n.t) {
          case 'text': out += n.text; break;
          case 'pipe': out += goValue(evalPipe(n.pipe, dot)); break;
          case 'assign': vars.set(n.name, evalPipe(n.pipe, dot)); break;
          case 'if': {
            if (truthy(evalPipe(n.pipe, dot))) walk(n.body, dot);
            else walk(n.elseBody, dot);
            break;
          }
          case 'with': {
            const v = evalPipe(n.pipe, dot);
            if (truthy(v)) walk(n.body, v);
            else walk(n.elseBody, dot);
            break;
          }
          case 'range': {
            const v = evalPipe(n.pipe, dot);
            const entries: [unknown, unknown][] = Array.isArray(v) ? v.map((x, i) => [i, x])
              : v && typeof v === 'object' ? Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]) : [];
            if (!entries.length) { walk(n.elseBody, dot); break; }
            for (const [k, x] of entries) {
              if (n.vars.length === 1) vars.set(n.vars[0], x);
              if (n.vars.length === 2) { vars.set(n.vars[0], k); vars.set(n.vars[1], x); }
              walk(n.body, x);
            }
            break;
          }
        }
      }
    };
    walk(this.nodes, data);
    return out;
  }
}
