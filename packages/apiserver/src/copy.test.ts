import { describe, expect, it } from 'vitest';
import { copyJson } from './copy.js';

describe('copyJson', () => {
  it('copies decoded JSON deeply, as structuredClone does', () => {
    const obj = JSON.parse('{"a":{"b":[1,{"c":"d"}],"e":null},"f":true,"g":1.5}') as Record<string, any>;
    const copy = copyJson(obj);
    expect(copy).toStrictEqual(structuredClone(obj));
    copy.a.b[1].c = 'changed';
    copy.a.b.push(2);
    expect(obj.a.b).toEqual([1, { c: 'd' }]);
  });

  it('keeps undefined members as structuredClone keeps them', () => {
    const obj = { a: undefined, b: [undefined, 1] };
    expect(copyJson(obj)).toStrictEqual(structuredClone(obj));
    expect('a' in copyJson(obj)).toBe(true);
  });

  it('keeps a "__proto__" member a member', () => {
    const obj = JSON.parse('{"__proto__":{"polluted":true},"x":1}') as Record<string, unknown>;
    const copy = copyJson(obj);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toEqual(['__proto__', 'x']);
    expect((copy as { polluted?: boolean }).polluted).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(copy, '__proto__')?.value).toEqual({ polluted: true });
  });

  it('leaves values that are not plain objects to structuredClone', () => {
    const date = new Date(0);
    const copy = copyJson({ when: date, bare: Object.assign(Object.create(null), { k: 'v' }) as object });
    expect(copy.when).toBeInstanceOf(Date);
    expect(copy.when).not.toBe(date);
    expect(copy.when.getTime()).toBe(0);
    expect(copy.bare).toEqual({ k: 'v' });
  });

  it('returns primitives as they are', () => {
    expect(copyJson(null)).toBe(null);
    expect(copyJson('s')).toBe('s');
    expect(copyJson(3)).toBe(3);
  });
});
