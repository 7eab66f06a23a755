import { describe, expect, it } from 'vitest';
import { ApiError } from './errors.js';
import {
  formatFieldSelector, formatLabelSelector, labelSelectorRequirements, matchesFields, matchesLabels,
  parseFieldSelector, parseLabelSelector,
} from './selectors.js';

function badRequest(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(400);
    expect((err as ApiError).reason).toBe('BadRequest');
    return (err as ApiError).message;
  }
  throw new Error('expected a BadRequest');
}

describe('parseLabelSelector', () => {
  it('parses every operator, sorted by key, values sorted and de-duplicated', () => {
    expect(parseLabelSelector('a=b,c!=d,e in (y,x,y),f notin (z),g,!h,i==j')).toEqual([
      { key: 'a', operator: '=', values: ['b'] },
      { key: 'c', operator: '!=', values: ['d'] },
      { key: 'e', operator: 'in', values: ['x', 'y'] },
      { key: 'f', operator: 'notin', values: ['z'] },
      { key: 'g', operator: 'exists', values: [] },
      { key: 'h', operator: '!', values: [] },
      { key: 'i', operator: '==', values: ['j'] },
    ]);
  });

  it('treats empty and blank selectors as everything', () => {
    expect(parseLabelSelector('')).toEqual([]);
    expect(parseLabelSelector('  ')).toEqual([]);
  });

  it.each([
    ['x in (foo,,baz),y,z notin ()', [
      { key: 'x', operator: 'in', values: ['', 'baz', 'foo'] },
      { key: 'y', operator: 'exists', values: [] },
      { key: 'z', operator: 'notin', values: [''] },
    ]],
    ['  a = b , c  in ( d , e ) ', [{ key: 'a', operator: '=', values: ['b'] }, { key: 'c', operator: 'in', values: ['d', 'e'] }]],
    ['a=', [{ key: 'a', operator: '=', values: [''] }]],
    ['a!=,b', [{ key: 'a', operator: '!=', values: [''] }, { key: 'b', operator: 'exists', values: [] }]],
    ['x in (in,notin)', [{ key: 'x', operator: 'in', values: ['in', 'notin'] }]],
    ['example.com/app=web', [{ key: 'example.com/app', operator: '=', values: ['web'] }]],
    ['n>5,m<10', [{ key: 'm', operator: 'lt', values: ['10'] }, { key: 'n', operator: 'gt', values: ['5'] }]],
  ])('parses %j as upstream', (s, want) => {
    expect(parseLabelSelector(s)).toEqual(want);
  });

  it.each([
    ['a b', "found 'b', expected: in, notin, =, ==, !=, gt, lt"],
    ['a,', "found '', expected: identifier after ','"],
    [',a', "found ',', expected: !, identifier, or 'end of string'"],
    ['a in b', "found 'b' expected: '('"],
    ['a in (b', "found '', expected: ',' or ')'"],
    ['a in (b c)', "found 'c', expected: ',' or ')'"],
    ['a=(b)', "found '(', expected: identifier"],
    ['!a=b', "found '=', expected: ',' or 'end of string'"],
    ['a=b=c', "found '=', expected: ',' or 'end of string'"],
    ['!', "found '', expected: identifier"],
  ])('rejects %j', (s, fragment) => {
    expect(badRequest(() => parseLabelSelector(s))).toContain(fragment);
  });

  it('rejects invalid keys and values with upstream messages', () => {
    expect(badRequest(() => parseLabelSelector('a@b=c'))).toBe(
      'unable to parse requirement: <nil>: Invalid value: "a@b": name part must consist of alphanumeric characters, ' +
      "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or " +
      "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    );
    expect(badRequest(() => parseLabelSelector('a=-x'))).toContain('values[0][a]: Invalid value: "-x": a valid label must be an empty string');
    expect(badRequest(() => parseLabelSelector(`a=${'x'.repeat(64)}`))).toContain('must be no more than 63 characters');
    expect(badRequest(() => parseLabelSelector('Bad_Prefix/a=b'))).toContain('prefix part a lowercase RFC 1123 subdomain');
    expect(badRequest(() => parseLabelSelector('a/b/c'))).toContain('a qualified name must consist of');
    expect(badRequest(() => parseLabelSelector('n>x'))).toContain("for 'Gt', 'Lt' operators, the value must be an integer");
  });
});

describe('matchesLabels', () => {
  const labels = { app: 'web', tier: 'front', n: '7' };
  it.each([
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app=db', false],
    ['app!=db', true],
    ['missing!=x', true],
    ['app in (web,db)', true],
    ['app in (db)', false],
    ['missing in (x)', false],
    ['app notin (db)', true],
    ['app notin (web)', false],
    ['missing notin (x)', true],
    ['tier', true],
    ['missing', false],
    ['!missing', true],
    ['!tier', false],
    ['app=web,tier=back', false],
    ['n>5,n<8', true],
    ['n>7', false],
    ['app>1', false],
  ])('%j → %s', (s, want) => {
    expect(matchesLabels(parseLabelSelector(s), labels)).toBe(want);
  });

  it('treats undefined labels as none', () => {
    expect(matchesLabels(parseLabelSelector('!a'), undefined)).toBe(true);
    expect(matchesLabels(parseLabelSelector('a'), undefined)).toBe(false);
  });

  it('does not see inherited properties as labels', () => {
    expect(matchesLabels(parseLabelSelector('toString'), {})).toBe(false);
  });
});

describe('labelSelectorRequirements', () => {
  it('maps null/undefined to nothing and {} to everything, as LabelSelectorAsSelector', () => {
    expect(labelSelectorRequirements(null)).toBeNull();
    expect(labelSelectorRequirements(undefined)).toBeNull();
    expect(labelSelectorRequirements({})).toEqual([]);
  });

  it('converts matchLabels and matchExpressions', () => {
    const reqs = labelSelectorRequirements({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['b', 'a'] },
        { key: 'env', operator: 'NotIn', values: ['prod'] },
        { key: 'canary', operator: 'Exists' },
        { key: 'legacy', operator: 'DoesNotExist' },
      ],
    });
    expect(reqs).toEqual([
      { key: 'app', operator: '=', values: ['web'] },
      { key: 'canary', operator: 'exists', values: [] },
      { key: 'env', operator: 'notin', values: ['prod'] },
      { key: 'legacy', operator: '!', values: [] },
      { key: 'tier', operator: 'in', values: ['a', 'b'] },
    ]);
    expect(matchesLabels(reqs!, { app: 'web', canary: '', tier: 'a' })).toBe(true);
    expect(matchesLabels(reqs!, { app: 'web', canary: '', tier: 'a', legacy: 'y' })).toBe(false);
  });

  it('rejects bad operators and empty In sets', () => {
    expect(badRequest(() => labelSelectorRequirements({ matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] })))
      .toBe('"Gt" is not a valid label selector operator');
    expect(badRequest(() => labelSelectorRequirements({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] })))
      .toContain("values set can't be empty");
    expect(badRequest(() => labelSelectorRequirements({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] })))
      .toContain('values set must be empty for exists and does not exist');
  });
});

describe('formatLabelSelector', () => {
  it('prints the string form and round-trips through the parser', () => {
    const s = 'app=x,tier in (a,b),!legacy,canary,env notin (prod),v==1,w!=2';
    const reqs = parseLabelSelector(s);
    const out = formatLabelSelector(reqs);
    expect(out).toBe('app=x,canary,env notin (prod),!legacy,tier in (a,b),v==1,w!=2');
    expect(parseLabelSelector(out)).toEqual(reqs);
    expect(formatLabelSelector([])).toBe('');
    expect(formatLabelSelector(labelSelectorRequirements({ matchLabels: { app: 'web', tier: 'front' } })!)).toBe('app=web,tier=front');
  });
});

describe('parseFieldSelector', () => {
  it('parses =, == and != with empty values', () => {
    expect(parseFieldSelector('spec.nodeName=n,status.phase!=Failed,involvedObject.namespace=,metadata.name==web')).toEqual([
      { field: 'spec.nodeName', operator: '=', value: 'n' },
      { field: 'status.phase', operator: '!=', value: 'Failed' },
      { field: 'involvedObject.namespace', operator: '=', value: '' },
      { field: 'metadata.name', operator: '==', value: 'web' },
    ]);
    expect(parseFieldSelector('')).toEqual([]);
    expect(parseFieldSelector('a=b,,c=d')).toHaveLength(2);
  });

  it('unescapes backslash sequences in values', () => {
    expect(parseFieldSelector('a=x\\,y\\=z\\\\,b=c')).toEqual([
      { field: 'a', operator: '=', value: 'x,y=z\\' },
      { field: 'b', operator: '=', value: 'c' },
    ]);
  });

  it('rejects terms without an operator, bad escapes and unescaped = in values', () => {
    expect(badRequest(() => parseFieldSelector('a=b,nope'))).toBe("invalid selector: 'a=b,nope'; can't understand 'nope'");
    expect(badRequest(() => parseFieldSelector('a=\\x'))).toBe('invalid field selector: invalid escape sequence: \\x');
    expect(badRequest(() => parseFieldSelector('a=b\\'))).toBe('invalid field selector: invalid escape sequence: \\');
    expect(badRequest(() => parseFieldSelector('a=b=c'))).toBe('invalid field selector: unescaped character in value: =');
  });

  it('matches, with missing fields as empty strings', () => {
    const fields = { 'spec.nodeName': 'n1', 'status.phase': 'Running', 'metadata.namespace': 'default' };
    expect(matchesFields(parseFieldSelector('spec.nodeName=n1,status.phase!=Failed'), fields)).toBe(true);
    expect(matchesFields(parseFieldSelector('spec.nodeName=n2'), fields)).toBe(false);
    expect(matchesFields(parseFieldSelector('spec.schedulerName='), fields)).toBe(true);
    expect(matchesFields(parseFieldSelector('spec.nodeName!='), fields)).toBe(true);
    expect(matchesFields([], fields)).toBe(true);
  });

  it('formats with escapes and round-trips', () => {
    const reqs = parseFieldSelector('a=x\\,y,b!=');
    expect(formatFieldSelector(reqs)).toBe('a=x\\,y,b!=');
    expect(parseFieldSelector(formatFieldSelector(reqs))).toEqual(reqs);
  });
});
