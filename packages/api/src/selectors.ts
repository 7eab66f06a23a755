import { ApiError, errors } from './errors.js';
import { isQualifiedName, isValidLabelValue } from './names.js';
import type { LabelSelector } from './types.js';

/** One term of a label selector. `exists` is a bare key, `!` is `!key`; `gt`/`lt` compare integers (upstream accepts them too). */
export interface LabelRequirement {
  key: string;
  operator: '=' | '==' | '!=' | 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';
  values: string[];
}

/** One term of a field selector. */
export interface FieldRequirement {
  field: string;
  operator: '=' | '==' | '!=';
  value: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Requirements, checked as upstream NewRequirement does.

/** `<path>: Invalid value: "<v>": <detail>` as upstream's field.Error prints (a nil path prints `<nil>`). */
function invalid(path: string, value: unknown, detail: string): string {
  return `${path}: Invalid value: ${JSON.stringify(value)}: ${detail}`;
}

/** Upstream NewRequirement's checks; returns the requirement or throws 400 with the aggregated messages. */
function newRequirement(key: string, operator: LabelRequirement['operator'], values: string[], prefix = ''): LabelRequirement {
  const errs: string[] = [];
  const keyErrs = isQualifiedName(key);
  if (keyErrs.length) errs.push(invalid('key', key, keyErrs.join('; ')));
  switch (operator) {
    case 'in': case 'notin':
      if (values.length === 0) errs.push(invalid('values', values, "for 'in', 'notin' operators, values set can't be empty"));
      break;
    case '=': case '==': case '!=':
      if (values.length !== 1) errs.push(invalid('values', values, 'exact-match compatibility requires one single value'));
      break;
    case 'exists': case '!':
      if (values.length !== 0) errs.push(invalid('values', values, 'values set must be empty for exists and does not exist'));
      break;
    case 'gt': case 'lt':
      if (values.length !== 1) errs.push(invalid('values', values, "for 'Gt', 'Lt' operators, exactly one value is required"));
      values.forEach((v, i) => {
        if (!/^[-+]?\d+$/.test(v)) errs.push(invalid(`values[${i}]`, v, "for 'Gt', 'Lt' operators, the value must be an integer"));
      });
      break;
  }
  values.forEach((v, i) => {
    const valueErrs = isValidLabelValue(v);
    if (valueErrs.length) errs.push(invalid(`values[${i}][${key}]`, v, valueErrs.join('; ')));
  });
  if (errs.length) throw errors.badRequest(prefix + (errs.length === 1 ? errs[0] : `[${errs.join(', ')}]`));
  return { key, operator, values };
}

// ---------------------------------------------------------------------------------------------------------------
// Label selector string grammar (upstream labels.Parse):
//   selector    ::= requirement | requirement "," selector
//   requirement ::= [!] KEY [ ("in" | "notin") "(" VALUES ")" | ("=" | "==" | "!=" | ">" | "<") VALUE ]

type Tok = 'end' | 'error' | ')' | ',' | '!' | '==' | '=' | '>' | '<' | '!=' | '(' | 'in' | 'notin' | 'id';
const SYMBOLS = new Set<string>([')', ',', '!', '==', '=', '>', '<', '!=', '(']);
const isSpecial = (c: string): boolean => '=!(),><'.includes(c);
const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';

function lex(s: string): { tok: Tok; lit: string }[] {
  const out: { tok: Tok; lit: string }[] = [];
  let i = 0;
  for (;;) {
    while (i < s.length && isSpace(s[i])) i++;
    if (i >= s.length) {
      out.push({ tok: 'end', lit: '' });
      return out;
    }
    if (isSpecial(s[i])) {
      // Longest run of special characters that still forms an operator.
      let buf = '';
      let best: string | undefined;
      while (i < s.length && isSpecial(s[i])) {
        buf += s[i];
        if (SYMBOLS.has(buf)) best = buf;
        else if (best !== undefined) break;
        i++;
      }
      if (best === undefined) out.push({ tok: 'error', lit: `error expected: keyword found '${buf}'` });
      else out.push({ tok: best as Tok, lit: best });
    } else {
      const start = i;
      while (i < s.length && !isSpecial(s[i]) && !isSpace(s[i])) i++;
      const lit = s.slice(start, i);
      out.push({ tok: lit === 'in' || lit === 'notin' ? lit : 'id', lit });
    }
  }
}

class LabelParser {
  private pos = 0;
  constructor(private readonly items: { tok: Tok; lit: string }[]) {}

  /** In value position the keywords `in`/`notin` are plain identifiers (`x in (in)`). */
  private peek(values = true): { tok: Tok; lit: string } {
    const it = this.items[this.pos];
    return values && (it.tok === 'in' || it.tok === 'notin') ? { tok: 'id', lit: it.lit } : it;
  }

  private next(values = true): { tok: Tok; lit: string } {
    const it = this.peek(values);
    this.pos++;
    return it;
  }

  parse(): LabelRequirement[] {
    const reqs: LabelRequirement[] = [];
    for (;;) {
      const { tok, lit } = this.peek();
      if (tok === 'end') return reqs;
      if (tok !== 'id' && tok !== '!') throw new Error(`found '${lit}', expected: !, identifier, or 'end of string'`);
      reqs.push(this.requirement());
      const after = this.next();
      if (after.tok === 'end') return reqs;
      if (after.tok !== ',') throw new Error(`found '${after.lit}', expected: ',' or 'end of string'`);
      const following = this.peek();
      if (following.tok !== 'id' && following.tok !== '!') throw new Error(`found '${following.lit}', expected: identifier after ','`);
    }
  }

  private requirement(): LabelRequirement {
    const P = 'unable to parse requirement: ';
    let negated = false;
    let { tok, lit } = this.next();
    if (tok === '!') {
      negated = true;
      ({ tok, lit } = this.next());
    }
    if (tok !== 'id') throw new Error(`${P}found '${lit}', expected: identifier`);
    const keyErrs = isQualifiedName(lit);
    if (keyErrs.length) throw new Error(`${P}${invalid('<nil>', lit, keyErrs.join('; '))}`);
    const key = lit;
    // `!key` takes no operator: whatever follows it is reported by the caller as a missing ','.
    const ahead = this.peek().tok;
    if (negated || ahead === 'end' || ahead === ',') return newRequirement(key, negated ? '!' : 'exists', [], P);
    const op = this.next(false);
    const operator = ({ in: 'in', notin: 'notin', '=': '=', '==': '==', '!=': '!=', '>': 'gt', '<': 'lt' } as const)[op.tok as string];
    if (!operator) throw new Error(`${P}found '${op.lit}', expected: in, notin, =, ==, !=, gt, lt`);
    const values = operator === 'in' || operator === 'notin' ? this.setValues(P) : this.exactValue(P);
    return newRequirement(key, operator, values, P);
  }

  private setValues(P: string): string[] {
    const open = this.next();
    if (open.tok !== '(') throw new Error(`${P}found '${open.lit}' expected: '('`);
    const first = this.peek();
    if (first.tok === ')') {
      this.pos++;
      return [''];
    }
    if (first.tok !== 'id' && first.tok !== ',') throw new Error(`${P}found '${first.lit}', expected: ',', ')' or identifier`);
    // A (possibly empty) comma-separated list: `(a,,b)` and `(,a)` include the empty value.
    const values = new Set<string>();
    for (;;) {
      const it = this.next();
      if (it.tok === 'id') {
        values.add(it.lit);
        const after = this.peek();
        if (after.tok === ',') continue;
        if (after.tok === ')') break;
        throw new Error(`${P}found '${after.lit}', expected: ',' or ')'`);
      } else if (it.tok === ',') {
        if (values.size === 0) values.add('');
        const after = this.peek().tok;
        if (after === ')') {
          values.add('');
          break;
        }
        if (after === ',') values.add('');
      } else {
        throw new Error(`${P}found '${it.lit}', expected: ',', or identifier`);
      }
    }
    const close = this.next();
    if (close.tok !== ')') throw new Error(`${P}found '${first.lit}', expected: ')'`);
    return [...values].sort();
  }

  private exactValue(P: string): string[] {
    const ahead = this.peek();
    if (ahead.tok === 'end' || ahead.tok === ',') return [''];
    const it = this.next();
    if (it.tok === 'id') return [it.lit];
    throw new Error(`${P}found '${it.lit}', expected: identifier`);
  }
}

const byKey = (a: LabelRequirement, b: LabelRequirement): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/**
 * Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h` as upstream labels.Parse does (requirements sorted by key, set
 * values sorted and de-duplicated); '' → [] which matches everything. Throws ApiError 400 on bad input.
 */
export function parseLabelSelector(s: string): LabelRequirement[] {
  try {
    return new LabelParser(lex(s)).parse().sort(byKey);
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw errors.badRequest((err as Error).message);
  }
}

function matchesOne(r: LabelRequirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const value = has ? labels[r.key] : undefined;
  switch (r.operator) {
    case '=': case '==': case 'in':
      return has && r.values.includes(value as string);
    case '!=': case 'notin':
      return !has || !r.values.includes(value as string);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt': case 'lt': {
      if (!has || !/^[-+]?\d+$/.test(value as string) || r.values.length !== 1) return false;
      const [a, b] = [BigInt(value as string), BigInt(r.values[0])];
      return r.operator === 'gt' ? a > b : a < b;
    }
  }
}

/** True when every requirement holds for `labels` (missing labels count as absent keys). */
export function matchesLabels(reqs: readonly LabelRequirement[], labels: Record<string, string> | undefined): boolean {
  const ls = labels ?? {};
  return reqs.every((r) => matchesOne(r, ls));
}

const EXPRESSION_OPERATORS: Record<string, LabelRequirement['operator']> = {
  In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!',
};

/**
 * metav1.LabelSelector → requirements, as upstream LabelSelectorAsSelector: null/undefined → null (matches
 * nothing), `{}` → [] (matches everything). Throws ApiError 400 on an unknown operator or invalid key/value.
 */
export function labelSelectorRequirements(sel: LabelSelector | null | undefined): LabelRequirement[] | null {
  if (sel === null || sel === undefined) return null;
  const reqs: LabelRequirement[] = [];
  for (const [key, value] of Object.entries(sel.matchLabels ?? {})) reqs.push(newRequirement(key, '=', [value]));
  for (const expr of sel.matchExpressions ?? []) {
    const operator = EXPRESSION_OPERATORS[expr.operator];
    if (!operator) throw errors.badRequest(`${JSON.stringify(expr.operator)} is not a valid label selector operator`);
    const values = operator === 'in' || operator === 'notin' ? [...new Set(expr.values ?? [])].sort() : (expr.values ?? []);
    reqs.push(newRequirement(expr.key, operator, values));
  }
  return reqs.sort(byKey);
}

/** The string form `app=x,tier in (a,b),!legacy` (Scale.status.selector, list queries); [] → ''. */
export function formatLabelSelector(reqs: readonly LabelRequirement[]): string {
  return reqs.map((r) => {
    const values = r.values.length > 1 ? [...r.values].sort().join(',') : (r.values[0] ?? '');
    switch (r.operator) {
      case 'exists': return r.key;
      case '!': return `!${r.key}`;
      case 'in': case 'notin': return `${r.key} ${r.operator} (${values})`;
      case 'gt': return `${r.key}>${values}`;
      case 'lt': return `${r.key}<${values}`;
      default: return `${r.key}${r.operator}${values}`;
    }
  }).join(',');
}

// ---------------------------------------------------------------------------------------------------------------
// Field selectors (upstream fields.ParseSelector): comma-separated `field(=|==|!=)value`; in values `\,`, `\=`
// and `\\` escape; the field name is split at the first operator.

function splitTerms(s: string): string[] {
  if (s === '') return [];
  const terms: string[] = [];
  let start = 0;
  let escaped = false;
  for (let i = 0; i < s.length; i++) {
    if (escaped) escaped = false;
    else if (s[i] === '\\') escaped = true;
    else if (s[i] === ',') {
      terms.push(s.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(s.slice(start));
  return terms;
}

function unescapeFieldValue(v: string): string {
  let out = '';
  let escaped = false;
  for (const c of v) {
    if (escaped) {
      if (c !== '\\' && c !== ',' && c !== '=') throw errors.badRequest(`invalid field selector: invalid escape sequence: \\${c}`);
      out += c;
      escaped = false;
    } else if (c === '\\') {
      escaped = true;
    } else if (c === ',' || c === '=') {
      throw errors.badRequest(`invalid field selector: unescaped character in value: ${c}`);
    } else {
      out += c;
    }
  }
  if (escaped) throw errors.badRequest('invalid field selector: invalid escape sequence: \\');
  return out;
}

/** Parses `spec.nodeName=n,status.phase!=Failed,involvedObject.namespace=` (empty values allowed, `\` escapes). */
export function parseFieldSelector(s: string): FieldRequirement[] {
  const reqs: FieldRequirement[] = [];
  for (const term of splitTerms(s)) {
    if (term === '') continue;
    const m = /!=|==|=/.exec(term);
    if (!m) throw errors.badRequest(`invalid selector: '${s}'; can't understand '${term}'`);
    reqs.push({ field: term.slice(0, m.index), operator: m[0] as FieldRequirement['operator'], value: unescapeFieldValue(term.slice(m.index + m[0].length)) });
  }
  return reqs;
}

/** True when every requirement holds; a field missing from `fields` has the value ''. */
export function matchesFields(reqs: readonly FieldRequirement[], fields: Record<string, string>): boolean {
  return reqs.every((r) => {
    const v = Object.prototype.hasOwnProperty.call(fields, r.field) ? fields[r.field] : '';
    return r.operator === '!=' ? v !== r.value : v === r.value;
  });
}

/** The string form of field requirements, escaping values as upstream's EscapeValue. */
export function formatFieldSelector(reqs: readonly FieldRequirement[]): string {
  return reqs.map((r) => `${r.field}${r.operator}${r.value.replace(/[\\,=]/g, (c) => `\\${c}`)}`).join(',');
}
