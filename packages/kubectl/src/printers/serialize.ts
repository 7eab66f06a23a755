/**
 * JSON and YAML exactly as kubectl writes them: Go's encoding/json (`MarshalIndent` with 4 spaces, map keys sorted,
 * `<`, `>`, `&`, U+2028 and U+2029 escaped) and sigs.k8s.io/yaml over go-yaml v2 (keys in go-yaml's natural order,
 * sequences not indented under their key, go-yaml's choice of plain, quoted and literal scalars, lines folded
 * at 80 columns).
 */

/**
 * Go's `json.MarshalIndent(v, "", "    ")` of a decoded JSON value (maps: keys sorted). `sortKeys: false` keeps the
 * keys in the value's own order, as Go prints a typed object's struct fields (its maps then sorted by the caller).
 */
export function toGoJson(value: unknown, indent = '    ', sortKeys = true): string {
  return goJson(value, indent, '', sortKeys);
}

function goJson(v: unknown, step: string, pad: string, sortKeys: boolean): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return goJsonString(v);
  if (typeof v === 'number') return Number.isFinite(v) ? goNumber(v) : 'null';
  if (typeof v === 'boolean') return String(v);
  const inner = pad + step;
  if (Array.isArray(v)) {
    if (!v.length) return '[]';
    return `[\n${v.map((x) => inner + goJson(x, step, inner, sortKeys)).join(',\n')}\n${pad}]`;
  }
  const keys = Object.keys(v as object).filter((k) => (v as Record<string, unknown>)[k] !== undefined);
  if (sortKeys) keys.sort(goStringLess);
  if (!keys.length) return '{}';
  return `{\n${keys.map((k) => `${inner}${goJsonString(k)}: ${goJson((v as Record<string, unknown>)[k], step, inner, sortKeys)}`).join(',\n')}\n${pad}}`;
}

/** Go sorts map keys by byte order of their UTF-8 encoding. */
function goStringLess(a: string, b: string): number {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return Buffer.compare(ba, bb);
}

/** Go's float formatting for JSON ('f' for exponents < 21, else 'e'); integers as integers. */
function goNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  const abs = Math.abs(n);
  if (abs !== 0 && (abs < 1e-6 || abs >= 1e21)) {
    return n.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  }
  return String(n);
}

/** encoding/json string escaping (HTML-safe). */
export function goJsonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || ch === '<' || ch === '>' || ch === '&' || c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

// ---------------------------------------------------------------------------------------------------------------
// YAML (go-yaml v2's encoder and libyaml's emitter rules)

const BEST_WIDTH = 80;

/** sigs.k8s.io/yaml's `Marshal` of a decoded JSON value. */
export function toGoYaml(value: unknown): string {
  const w = new YamlWriter();
  w.node(value, 0, 'top');
  return w.text();
}

class YamlWriter {
  private buf = '';
  private column = 0;

  text(): string {
    return this.buf.endsWith('\n') || this.buf === '' ? this.buf : `${this.buf}\n`;
  }

  private write(s: string): void {
    this.buf += s;
    const nl = s.lastIndexOf('\n');
    this.column = nl >= 0 ? s.length - nl - 1 : this.column + s.length;
  }

  private newline(indent: number): void {
    this.write(`\n${' '.repeat(indent)}`);
  }

  /**
   * Writes a value. `ctx` says where the cursor is: at the top, after `key:` (a space or a newline follows), or
   * after `- ` of a sequence item (a mapping continues on the same line).
   */
  node(v: unknown, indent: number, ctx: 'top' | 'value' | 'item'): void {
    if (Array.isArray(v)) {
      if (!v.length) return this.inline('[]', ctx);
      // go-yaml v2 does not indent a sequence under its mapping key.
      v.forEach((item, i) => {
        if (ctx === 'value' || i > 0) this.newline(indent);
        else if (ctx === 'top' && i === 0 && this.column > 0) this.newline(indent);
        this.write('- ');
        this.node(item, indent + 2, 'item');
      });
      return;
    }
    if (v !== null && typeof v === 'object') {
      const obj = v as Record<string, unknown>;
      const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort(naturalCompare);
      if (!keys.length) return this.inline('{}', ctx);
      keys.forEach((k, i) => {
        if (ctx === 'value' || (i > 0)) this.newline(indent);
        this.scalar(k, indent, true);
        this.write(':');
        const val = obj[k];
        if (Array.isArray(val) && val.length) this.node(val, indent, 'value');
        else if (val !== null && typeof val === 'object' && !Array.isArray(val) && Object.keys(val).some((x) => (val as Record<string, unknown>)[x] !== undefined)) this.node(val, indent + 2, 'value');
        else {
          this.write(' ');
          this.node(val, indent + 2, 'item');
        }
      });
      return;
    }
    if (ctx === 'value') this.write(' ');
    this.scalarValue(v, indent);
  }

  private inline(s: string, ctx: 'top' | 'value' | 'item'): void {
    if (ctx === 'value') this.write(' ');
    this.write(s);
  }

  private scalarValue(v: unknown, indent: number): void {
    if (v === null || v === undefined) return this.write('null');
    if (typeof v === 'boolean') return this.write(String(v));
    if (typeof v === 'number') return this.write(goYamlNumber(v));
    this.scalar(String(v), indent, false);
  }

  /** A string scalar in the style go-yaml and libyaml pick for it. */
  private scalar(s: string, indent: number, isKey: boolean): void {
    const a = analyze(s);
    const plainOk = resolvesToString(s) && !isBase60Float(s);
    let style: 'plain' | 'single' | 'double' | 'literal';
    if (s.includes('\n') && !isKey) style = 'literal';
    else if (plainOk) style = 'plain';
    else style = 'double';
    if (style === 'plain' && (!a.blockPlain || (s.length === 0))) style = 'single';
    if (style === 'single' && !a.singleQuoted) style = 'double';
    if (style === 'literal' && (!a.blockAllowed || isKey)) style = 'double';
    if (isKey && s.length > 128) style = 'double';
    switch (style) {
      case 'plain': return this.writePlain(s, indent, !isKey);
      case 'single': return this.writeSingle(s, indent, !isKey);
      case 'double': return this.writeDouble(s, indent, !isKey);
      case 'literal': return this.writeLiteral(s, indent);
    }
  }

  private writePlain(s: string, indent: number, allowBreaks: boolean): void {
    let spaces = false;
    const chars = [...s];
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i];
      if (c === ' ') {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && chars[i + 1] !== ' ') this.newline(indent);
        else this.write(c);
        spaces = true;
      } else {
        this.write(c);
        spaces = false;
      }
    }
  }

  private writeSingle(s: string, indent: number, allowBreaks: boolean): void {
    this.write("'");
    let spaces = false;
    const chars = [...s];
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i];
      if (c === ' ') {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && i !== 0 && i !== chars.length - 1 && chars[i + 1] !== ' ') this.newline(indent);
        else this.write(c);
        spaces = true;
      } else {
        this.write(c === "'" ? "''" : c);
        spaces = false;
      }
    }
    this.write("'");
  }

  private writeDouble(s: string, indent: number, allowBreaks: boolean): void {
    this.write('"');
    let spaces = false;
    const chars = [...s];
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i];
      const code = c.codePointAt(0)!;
      if (!isPrintable(code) || c === '"' || c === '\\' || code === 0xfeff) {
        this.write(doubleEscape(c, code));
        spaces = false;
      } else if (c === ' ') {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && i !== 0 && i !== chars.length - 1) {
          this.newline(indent);
          if (chars[i + 1] === ' ') this.write('\\');
        } else this.write(c);
        spaces = true;
      } else {
        this.write(c);
        spaces = false;
      }
    }
    this.write('"');
  }

  private writeLiteral(s: string, indent: number): void {
    // Chomping: `|-` without a final newline, `|` with one, `|+` with more.
    let chomp = '';
    if (!s.endsWith('\n')) chomp = '-';
    else if (s.length === 1 || s.endsWith('\n\n')) chomp = '+';
    const hint = s.startsWith(' ') || s.startsWith('\n') ? '2' : '';
    this.write(`|${hint}${chomp}`);
    const body = chomp === '-' ? s : s.slice(0, -1);
    for (const line of body.split('\n')) {
      if (line === '') this.write('\n');
      else {
        this.newline(indent);
        this.write(line);
      }
    }
    if (chomp === '+') this.write('\n');
  }
}

function doubleEscape(c: string, code: number): string {
  switch (c) {
    case '\0': return '\\0';
    case '\x07': return '\\a';
    case '\b': return '\\b';
    case '\t': return '\\t';
    case '\n': return '\\n';
    case '\x0b': return '\\v';
    case '\f': return '\\f';
    case '\r': return '\\r';
    case '\x1b': return '\\e';
    case '"': return '\\"';
    case '\\': return '\\\\';
  }
  if (code === 0x85) return '\\N';
  if (code === 0xa0) return '\\_';
  if (code === 0x2028) return '\\L';
  if (code === 0x2029) return '\\P';
  if (code <= 0xff) return `\\x${code.toString(16).toUpperCase().padStart(2, '0')}`;
  if (code <= 0xffff) return `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return `\\U${code.toString(16).toUpperCase().padStart(8, '0')}`;
}

function isPrintable(c: number): boolean {
  return c === 0x0a || (c >= 0x20 && c <= 0x7e) || c === 0x85 || (c >= 0xa0 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd && c !== 0xfeff) || (c >= 0x10000 && c <= 0x10ffff);
}

/** libyaml's yaml_emitter_analyze_scalar, for the block context. */
function analyze(s: string): { blockPlain: boolean; singleQuoted: boolean; blockAllowed: boolean } {
  if (s.length === 0) return { blockPlain: false, singleQuoted: true, blockAllowed: false };
  let blockIndicators = false;
  let specialCharacters = false;
  let lineBreaks = false;
  let leadingSpace = false; let leadingBreak = false; let trailingSpace = false; let trailingBreak = false;
  let breakSpace = false; let spaceBreak = false;
  let previousSpace = false; let previousBreak = false;
  if (s.startsWith('---') || s.startsWith('...')) blockIndicators = true;
  let precededByWhitespace = true;
  const chars = [...s];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    const next = chars[i + 1];
    const followedByWhitespace = next === undefined || next === ' ' || next === '\t' || next === '\n' || next === '\r';
    if (i === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(c)) blockIndicators = true;
      else if ((c === '?' || c === ':') && followedByWhitespace) blockIndicators = true;
      else if (c === '-' && followedByWhitespace) blockIndicators = true;
    } else {
      if (c === ':' && followedByWhitespace) blockIndicators = true;
      else if (c === '#' && precededByWhitespace) blockIndicators = true;
    }
    const code = c.codePointAt(0)!;
    if (!isPrintable(code) || code === 0xfeff) specialCharacters = true;
    const isBreak = c === '\n' || c === '\r' || code === 0x85 || code === 0x2028 || code === 0x2029;
    if (isBreak) lineBreaks = true;
    if (c === ' ') {
      if (i === 0) leadingSpace = true;
      if (i === chars.length - 1) trailingSpace = true;
      if (previousBreak) breakSpace = true;
      previousSpace = true;
      previousBreak = false;
    } else if (isBreak) {
      if (i === 0) leadingBreak = true;
      if (i === chars.length - 1) trailingBreak = true;
      if (previousSpace) spaceBreak = true;
      previousSpace = false;
      previousBreak = true;
    } else {
      previousSpace = false;
      previousBreak = false;
    }
    precededByWhitespace = c === ' ' || c === '\t' || isBreak;
  }
  let blockPlain = true; let singleQuoted = true; let blockAllowed = true;
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) blockPlain = false;
  if (trailingSpace) blockAllowed = false;
  if (breakSpace) { blockPlain = false; singleQuoted = false; }
  if (spaceBreak || specialCharacters) { blockPlain = false; singleQuoted = false; blockAllowed = false; }
  if (lineBreaks) blockPlain = false;
  if (blockIndicators) blockPlain = false;
  return { blockPlain, singleQuoted, blockAllowed };
}

/** Whether go-yaml v2's resolver reads the plain scalar `s` back as a string (else it must be quoted). */
function resolvesToString(s: string): boolean {
  if (s === '') return false;
  if (['~', 'null', 'Null', 'NULL'].includes(s)) return false;
  if (['y', 'Y', 'yes', 'Yes', 'YES', 'n', 'N', 'no', 'No', 'NO', 'true', 'True', 'TRUE', 'false', 'False', 'FALSE', 'on', 'On', 'ON', 'off', 'Off', 'OFF'].includes(s)) return false;
  if (['.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF', '-.inf', '-.Inf', '-.INF', '.nan', '.NaN', '.NAN', '<<'].includes(s)) return false;
  const c = s[0];
  if (!('+-.0123456789'.includes(c))) return true;
  const plain = s.replace(/_/g, '');
  if (/^[-+]?(0|[1-9][0-9]*)$/.test(plain)) return false;
  if (/^[-+]?0[0-7]+$/.test(plain) || /^[-+]?0x[0-9a-fA-F]+$/.test(plain) || /^[-+]?0b[01]+$/.test(plain) || /^[-+]?0o[0-7]+$/.test(plain)) return false;
  if (/^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(plain)) return false;
  // Timestamps (go-yaml v2 resolves them, so kubectl quotes `2026-11-24T07:32:17Z`).
  if (/^\d{4}-\d\d?-\d\d?([Tt ]|$)/.test(s)) return false;
  return true;
}

function isBase60Float(s: string): boolean {
  return /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/.test(s);
}

function goYamlNumber(n: number): string {
  if (Number.isInteger(n)) return String(n);
  if (!Number.isFinite(n)) return Number.isNaN(n) ? '.nan' : n > 0 ? '.inf' : '-.inf';
  // strconv.FormatFloat(f, 'g', -1, 64)
  const abs = Math.abs(n);
  if (abs < 1e-4 || abs >= 1e21) return n.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  return String(n);
}

/** go-yaml v2's key order: numbers in keys compared by value, letters after other characters. */
export function naturalCompare(a: string, b: string): number {
  const ar = [...a];
  const br = [...b];
  const isLetter = (c: string) => /\p{L}/u.test(c);
  const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
  for (let i = 0; i < ar.length && i < br.length; i++) {
    if (ar[i] === br[i]) continue;
    const al = isLetter(ar[i]);
    const bl = isLetter(br[i]);
    if (al && bl) return ar[i] < br[i] ? -1 : 1;
    if (al || bl) return bl ? -1 : 1;
    let an = 0; let bn = 0;
    if (ar[i] === '0' || br[i] === '0') {
      for (let j = i - 1; j >= 0 && isDigit(ar[j]); j--) {
        if (ar[j] !== '0') { an = 1; bn = 1; break; }
      }
    }
    let ai = i; let bi = i;
    for (; ai < ar.length && isDigit(ar[ai]); ai++) an = an * 10 + Number(ar[ai]);
    for (; bi < br.length && isDigit(br[bi]); bi++) bn = bn * 10 + Number(br[bi]);
    if (an !== bn) return an < bn ? -1 : 1;
    if (ai !== bi) return ai < bi ? -1 : 1;
    return ar[i] < br[i] ? -1 : 1;
  }
  return ar.length - br.length;
}
