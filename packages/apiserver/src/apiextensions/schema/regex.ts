import { RE2JS } from '@bufbuild/re2';

/**
 * Regular expressions as upstream's Go regexp (RE2) has them, for `pattern` and CEL's `matches`/`find`/`findAll`.
 * Validity and error messages come from @bufbuild/re2 (an RE2 port: `error parsing regexp: missing closing ): `(``
 * exactly as Go says it). Matching uses the engine's own RegExp when it accepts the same source (RE2's syntax is
 * a subset of ECMAScript's for the constructs RE2 accepts, and RegExp is ~60x faster), else the RE2 port.
 */

export interface Matcher { test(s: string): boolean; exec(s: string): string | undefined; all(s: string): string[] }

/** Throws Go's `error parsing regexp: …` for a pattern RE2 rejects. */
export function checkRE2(pattern: string): void {
  RE2JS.compile(pattern);
}

function fromRE2(re: RE2JS, pattern: string): Matcher {
  // The RE2 port only answers match/no match; extracting matches needs RegExp.
  const unsupported = (): never => { throw new Error(`find/findAll do not support the pattern ${JSON.stringify(pattern)} here`); };
  return { test: (s) => re.test(s), exec: unsupported, all: unsupported };
}

function fromRegExp(re: RegExp): Matcher {
  const g = new RegExp(re.source, `${re.flags}g`);
  return {
    test: (s) => re.test(s),
    exec: (s) => re.exec(s)?.[0],
    all: (s) => [...s.matchAll(g)].map((m) => m[0]),
  };
}

/** A matcher for an RE2 pattern (throws Go's message if RE2 rejects it). */
export function compileRE2(pattern: string): Matcher {
  const re2 = RE2JS.compile(pattern);
  // RE2's leading flag group `(?i)`/`(?s)`/`(?m)` becomes RegExp flags; anything else RegExp does not take the same
  // way (\z, \C, [[:alpha:]], \pN, (?P<name>) ...) stays with the RE2 port.
  let src = pattern;
  let flags = 'u';
  const lead = /^\(\?([ims]+)\)/.exec(src);
  if (lead) { src = src.slice(lead[0].length); flags += lead[1]; }
  if (/\\[zACQEpP]|\[\[:|\(\?P?</.test(src) || /\(\?[a-zA-Z-]+[:)]/.test(src)) return fromRE2(re2, pattern);
  try {
    return fromRegExp(new RegExp(src, flags));
  } catch {
    return fromRE2(re2, pattern);
  }
}

const cache = new Map<string, Matcher>();

/** compileRE2 with a bounded cache, for patterns that arrive at run time (CEL arguments). */
export function cachedRE2(pattern: string): Matcher {
  let m = cache.get(pattern);
  if (!m) {
    m = compileRE2(pattern);
    if (cache.size >= 1000) cache.delete(cache.keys().next().value as string);
    cache.set(pattern, m);
  }
  return m;
}
