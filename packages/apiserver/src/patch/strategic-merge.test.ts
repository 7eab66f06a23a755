import { describe, expect, it } from 'vitest';
import { ApiError, type FieldMeta, type PatchMeta } from '@k8ts/api';
import { patchMetaFor } from '../registry/index.js';
import { strategicMergePatch } from './strategic-merge.js';

type Case = [name: string, original: unknown, patch: unknown, want: unknown];

// The fields of upstream's strategicpatch test struct (MergeItem), at any depth.
const FIELDS: Record<string, FieldMeta> = {
  mergingList: { strategy: 'merge', mergeKey: 'name' },
  mergingIntList: { strategy: 'merge' },
  retainKeysMergingList: { strategy: 'merge,retainKeys', mergeKey: 'name' },
  retainKeysMap: { strategy: 'retainKeys' },
  replacingItem: { strategy: 'replace' },
};
const testMeta: PatchMeta = (path) => FIELDS[path[path.length - 1]];

const deployment = patchMetaFor('apps/v1', 'Deployment');
const pod = patchMetaFor('v1', 'Pod');

/** Applies the patch and checks the invariants every case must keep. */
function apply(original: unknown, patch: unknown, meta: PatchMeta = testMeta): unknown {
  const before = JSON.stringify(original);
  const patchBefore = JSON.stringify(patch);
  const result = strategicMergePatch(original, patch, meta);
  expect(JSON.stringify(original), 'original was mutated').toBe(before);
  expect(JSON.stringify(patch), 'patch was mutated').toBe(patchBefore);
  expect(directivesIn(result), 'directives leaked into the result').toEqual([]);
  return result;
}

function directivesIn(v: unknown, path = ''): string[] {
  if (Array.isArray(v)) return v.flatMap((x, i) => directivesIn(x, `${path}[${i}]`));
  if (typeof v !== 'object' || v === null) return [];
  return Object.entries(v).flatMap(([k, x]) => [...(k.startsWith('$') ? [`${path}.${k}`] : []), ...directivesIn(x, `${path}.${k}`)]);
}

function expectBadRequest(original: unknown, patch: unknown, message: RegExp, meta: PatchMeta = testMeta): void {
  let thrown: unknown;
  try {
    strategicMergePatch(original, patch, meta);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(ApiError);
  expect((thrown as ApiError).code).toBe(400);
  expect((thrown as ApiError).reason).toBe('BadRequest');
  expect((thrown as ApiError).message).toMatch(message);
}

const names = (...n: (string | number)[]) => n.map((name) => ({ name }));

describe('strategicMergePatch: maps', () => {
  it.each<Case>([
    ['adds a field', { name: 1 }, { value: 1 }, { name: 1, value: 1 }],
    ['replaces a scalar', { name: 1, other: 'a' }, { name: 2 }, { name: 2, other: 'a' }],
    ['null deletes a key', { name: 1, value: 1, other: 'a' }, { name: null, value: 1 }, { value: 1, other: 'a' }],
    ['null for an absent key is a no-op', { name: 1 }, { other: null }, { name: 1 }],
    ['merges nested maps recursively', { simpleMap: { key1: 1, key2: 1 } }, { simpleMap: { key2: null, key3: 3 } },
      { simpleMap: { key1: 1, key3: 3 } }],
    ['an empty patch changes nothing', { name: 1, simpleMap: { a: 'b' } }, {}, { name: 1, simpleMap: { a: 'b' } }],
    ['a patch on nothing builds the object', undefined, { name: 1, simpleMap: { a: 'b' } }, { name: 1, simpleMap: { a: 'b' } }],
    ['a type change replaces the value', { simpleMap: { a: 'b' }, name: [1] }, { simpleMap: 'x', name: { a: 1 } },
      { simpleMap: 'x', name: { a: 1 } }],
    ['nulls inside a new map are dropped', {}, { simpleMap: { a: 'b', c: null } }, { simpleMap: { a: 'b' } }],
    ['unknown fields are preserved', { name: 1, futureField: { deep: [1, { x: 2 }] } }, { name: 2 },
      { name: 2, futureField: { deep: [1, { x: 2 }] } }],
    ['$patch: replace replaces the map', { name: 1, value: 1 }, { other: 'a', $patch: 'replace' }, { other: 'a' }],
    ['$patch: replace with nothing else empties the map', { name: 1, value: 1 }, { $patch: 'replace' }, {}],
    ['$patch: replace on a nested map', { simpleMap: { a: 1, b: 2 }, name: 1 }, { simpleMap: { $patch: 'replace', c: 3 } },
      { simpleMap: { c: 3 }, name: 1 }],
    ['$patch: delete on a nested map deletes it', { simpleMap: { key1: 1 }, name: 1 }, { simpleMap: { $patch: 'delete' } },
      { name: 1 }],
    ['$patch: delete at the top level empties the object', { name: 1 }, { $patch: 'delete' }, {}],
    ['a replace-strategy map is replaced whole', { replacingItem: { a: 1, b: 2 } }, { replacingItem: { c: 3 } },
      { replacingItem: { c: 3 } }],
    ['unknown $ keys are ignored', { name: 1 }, { $future: 'x', value: 2 }, { name: 1, value: 2 }],
    ['fields named like Object.prototype members are plain fields', { name: 1 },
      { constructor: { a: 1 }, '$deleteFromPrimitiveList/toString': [1], '$setElementOrder/valueOf': [1] },
      { name: 1, constructor: { a: 1 } }],
    ['an original that is not an object is ignored', ['x'], { name: 1 }, { name: 1 }],
  ])('%s', (_, original, patch, want) => {
    expect(apply(original, patch)).toEqual(want);
  });

  it.each([
    ['a bad $patch value in a map', { name: 1 }, { simpleMap: { $patch: 'explode' } }, /unknown patch type: "explode"/],
    ['$patch: merge in a map', { name: 1 }, { $patch: 'merge' }, /unknown patch type: "merge"/],
    ['a patch that is not an object', { name: 1 }, [1], /must be a JSON object/],
    ['a __proto__ key', {}, JSON.parse('{"__proto__": {"x": 1}}'), /invalid field name "__proto__"/],
  ])('rejects %s', (_, original, patch, message) => {
    expectBadRequest(original, patch, message);
  });

  it('returns an object that shares nothing with the original', () => {
    const original = { metadata: { labels: { a: 'b' } }, spec: { list: [{ x: 1 }] } };
    const result = strategicMergePatch(original, { status: { phase: 'Running' } }, testMeta) as typeof original;
    result.metadata.labels.a = 'changed';
    result.spec.list[0].x = 2;
    expect(original).toEqual({ metadata: { labels: { a: 'b' } }, spec: { list: [{ x: 1 }] } });
  });

  it('returns an object that shares nothing with the patch', () => {
    const patch = { simpleMap: { a: { b: 1 } }, nonMergingList: [{ x: 1 }] };
    const result = strategicMergePatch({}, patch, testMeta) as typeof patch;
    result.simpleMap.a.b = 2;
    result.nonMergingList[0].x = 2;
    expect(patch).toEqual({ simpleMap: { a: { b: 1 } }, nonMergingList: [{ x: 1 }] });
  });
});

describe('strategicMergePatch: $retainKeys', () => {
  it.each<Case>([
    ['drops fields not retained', { retainKeysMap: { name: 'type1', value: 'foo' } },
      { retainKeysMap: { $retainKeys: ['name', 'other'], name: 'type2', other: 'bar' } },
      { retainKeysMap: { name: 'type2', other: 'bar' } }],
    ['clears a defaulted field', { retainKeysMap: { value: 'foo' } }, { retainKeysMap: { $retainKeys: ['other'], other: 'bar' } },
      { retainKeysMap: { other: 'bar' } }],
    ['retained fields keep their values and nested maps still merge',
      { retainKeysMap: { name: 'foo', value: 'bar', other: 'a', simpleMap: { key1: 'a', key3: 'c' } } },
      { retainKeysMap: { $retainKeys: ['name', 'simpleMap', 'value'], simpleMap: { key2: 'b' } } },
      { retainKeysMap: { name: 'foo', value: 'bar', simpleMap: { key1: 'a', key2: 'b', key3: 'c' } } }],
    ['a null field need not be retained', { retainKeysMap: { name: 'foo', value: 'bar' } },
      { retainKeysMap: { $retainKeys: ['name'], value: null } }, { retainKeysMap: { name: 'foo' } }],
    ['without the directive, retainKeys maps merge normally', { retainKeysMap: { name: 'foo' } },
      { retainKeysMap: { value: 'bar' } }, { retainKeysMap: { name: 'foo', value: 'bar' } }],
    ['works inside merge-keyed list items',
      { retainKeysMergingList: [{ name: 'foo', value: 'a', other: 'b' }, { name: 'bar' }] },
      { retainKeysMergingList: [{ $retainKeys: ['name', 'other'], name: 'foo', other: 'c' }] },
      { retainKeysMergingList: [{ name: 'foo', other: 'c' }, { name: 'bar' }] }],
  ])('%s', (_, original, patch, want) => {
    expect(apply(original, patch)).toEqual(want);
  });

  it('rejects a patch that sets a field it does not retain', () => {
    expectBadRequest({ retainKeysMap: {} }, { retainKeysMap: { $retainKeys: ['name'], value: 'x' } },
      /invalid patch format of retainKeys at retainKeysMap: "value"/);
  });

  it('rejects a $retainKeys that is not a list', () => {
    expectBadRequest({}, { retainKeysMap: { $retainKeys: 'name' } }, /invalid patch format of retainKeys/);
  });
});

describe('strategicMergePatch: lists merged by key', () => {
  it.each<Case>([
    ['merges an item into the original with the same key',
      { mergingList: [{ name: 1, other: 'a' }, { name: 2, value: 2 }] }, { mergingList: [{ name: 1, value: 1 }] },
      { mergingList: [{ name: 1, other: 'a', value: 1 }, { name: 2, value: 2 }] }],
    ['null inside an item deletes that field', { mergingList: [{ name: 1, value: 1, other: 'a' }] },
      { mergingList: [{ name: 1, value: null }] }, { mergingList: [{ name: 1, other: 'a' }] }],
    // Without $setElementOrder upstream puts new items before the server's (mergeSortedSlice).
    ['a new item goes before the original ones', { mergingList: names(1, 2) }, { mergingList: [{ name: 3, value: 3 }] },
      { mergingList: [{ name: 3, value: 3 }, ...names(1, 2)] }],
    ['the order from the patch is kept',
      { mergingList: [{ name: 1 }, { name: 2, value: 'b' }, { name: 3 }] },
      { mergingList: [{ name: 3, value: 'c' }, { name: 1, value: 'a' }, { name: 2, other: 'x' }] },
      { mergingList: [{ name: 3, value: 'c' }, { name: 1, value: 'a' }, { name: 2, value: 'b', other: 'x' }] }],
    ['server-only items keep their place relative to patched ones',
      { mergingList: [{ name: 1 }, { name: 2, value: 'b' }, { name: 3 }] },
      { mergingList: [{ name: 3, value: 'c' }, { name: 1, value: 'a' }] },
      { mergingList: [{ name: 2, value: 'b' }, { name: 3, value: 'c' }, { name: 1, value: 'a' }] }],
    ['$patch: delete removes the item', { mergingList: [{ name: 1 }, { name: 2, value: 2 }] },
      { mergingList: [{ name: 1, $patch: 'delete' }] }, { mergingList: [{ name: 2, value: 2 }] }],
    ['$patch: delete removes every item with that key', { mergingList: [...names(1, 1), { name: 2, value: 'a' }, ...names(3, 3)] },
      { mergingList: [{ name: 1, $patch: 'delete' }, { name: 3, $patch: 'delete' }] }, { mergingList: [{ name: 2, value: 'a' }] }],
    ['$patch: delete of an absent item is a no-op', { mergingList: names(1) }, { mergingList: [{ name: 9, $patch: 'delete' }] },
      { mergingList: names(1) }],
    ['$patch: delete of every item leaves an empty list', { mergingList: names(1, 2) },
      { mergingList: [{ name: 1, $patch: 'delete' }, { name: 2, $patch: 'delete' }] }, { mergingList: [] }],
    ['$patch: replace replaces the whole list', { mergingList: [{ name: 1, other: 'a' }, { name: 2 }] },
      { mergingList: [{ name: 3, value: 3 }, { $patch: 'replace' }] }, { mergingList: [{ name: 3, value: 3 }] }],
    ['$patch: replace alone empties the list', { mergingList: names(1, 2) }, { mergingList: [{ $patch: 'replace' }] },
      { mergingList: [] }],
    ['an empty patch list changes nothing', { mergingList: names(1) }, { mergingList: [] }, { mergingList: names(1) }],
    ['a list on nothing is created', {}, { mergingList: [{ name: 1, value: null, other: 'a' }] },
      { mergingList: [{ name: 1, other: 'a' }] }],
    ['null deletes the whole list', { mergingList: names(1), name: 1 }, { mergingList: null }, { name: 1 }],
    ['nested merge lists merge too',
      { mergingList: [{ name: 1, mergingList: [{ name: 1, other: 'c' }, { name: 2, other: 'd' }] }, { name: 2 }] },
      { mergingList: [{ name: 1, mergingList: [{ name: 2, value: 2 }] }] },
      { mergingList: [{ name: 1, mergingList: [{ name: 1, other: 'c' }, { name: 2, other: 'd', value: 2 }] }, { name: 2 }] }],
  ])('%s', (_, original, patch, want) => {
    expect(apply(original, patch)).toEqual(want);
  });

  it.each([
    ['an item without its merge key', { mergingList: [{ name: 1, value: 'a' }] }, { mergingList: [{ value: 'b' }] },
      /does not contain declared merge key: name \(mergingList\)/],
    ['a delete without its merge key', { mergingList: names(1) }, { mergingList: [{ $patch: 'delete' }] },
      /does not contain declared merge key: name/],
    ['$patch: merge in a list', { mergingList: names(1) }, { mergingList: [{ $patch: 'merge' }] },
      /merging lists cannot yet be specified in the patch/],
    ['a bad $patch value in a list', { mergingList: names(1) }, { mergingList: [{ name: 1, $patch: 'nope' }] },
      /unknown patch type: "nope"/],
    ['scalars mixed with maps', { mergingList: names(1) }, { mergingList: ['x'] }, /list element types are not identical/],
    ['lists of lists', {}, { mergingList: [[1]] }, /lists of lists are not supported/],
  ])('rejects %s', (_, original, patch, message) => {
    expectBadRequest(original, patch, message);
  });
});

describe('strategicMergePatch: lists of primitives', () => {
  it.each<Case>([
    ['merge lists are sets: union without duplicates', { mergingIntList: [1, 2] }, { mergingIntList: [2, 3] },
      { mergingIntList: [1, 2, 3] }],
    ['the order from the patch is kept', { mergingIntList: [1, 2, 3] }, { mergingIntList: [3, 1, 2] },
      { mergingIntList: [3, 1, 2] }],
    ['server-only values keep their place', { mergingIntList: [1, 2, 3] }, { mergingIntList: [3, 1] },
      { mergingIntList: [2, 3, 1] }],
    ['$deleteFromPrimitiveList removes values', { mergingIntList: [1, 2, 3] }, { '$deleteFromPrimitiveList/mergingIntList': [2, 9] },
      { mergingIntList: [1, 3] }],
    ['$deleteFromPrimitiveList removes duplicates too', { mergingIntList: [1, 3, 2, 3] },
      { '$deleteFromPrimitiveList/mergingIntList': [3] }, { mergingIntList: [1, 2] }],
    ['$deleteFromPrimitiveList on an absent list is a no-op', { name: 1 }, { '$deleteFromPrimitiveList/mergingIntList': [1] },
      { name: 1 }],
    ['add and delete in one patch', { mergingIntList: [1, 2, 3] },
      { mergingIntList: [4], '$deleteFromPrimitiveList/mergingIntList': [3], '$setElementOrder/mergingIntList': [1, 2, 4] },
      { mergingIntList: [1, 2, 4] }],
    ['atomic lists are replaced whole', { nonMergingIntList: [1, 2] }, { nonMergingIntList: [2, 3] },
      { nonMergingIntList: [2, 3] }],
    ['atomic lists of maps are replaced whole', { nonMergingList: [{ name: 1, value: 1 }, { name: 2 }] },
      { nonMergingList: [{ name: 1, other: 'a' }] }, { nonMergingList: [{ name: 1, other: 'a' }] }],
    ['directives inside atomic list items are applied, not stored', {},
      { nonMergingList: [{ name: 1, value: null, mergingList: [{ name: 'x', $patch: 'delete' }] }, { $patch: 'delete', name: 2 }] },
      { nonMergingList: [{ name: 1, mergingList: [] }] }],
  ])('%s', (_, original, patch, want) => {
    expect(apply(original, patch)).toEqual(want);
  });

  it.each([
    ['a deletion list that is not a list', { '$deleteFromPrimitiveList/mergingIntList': 3 }, /invalid patch format of primitive list/],
    ['a deletion list of maps', { '$deleteFromPrimitiveList/mergingIntList': [{ a: 1 }] }, /invalid patch format of primitive list/],
    ['a directive key without a field', { $deleteFromPrimitiveList: [1] }, /invalid patch format of primitive list/],
  ])('rejects %s', (_, patch, message) => {
    expectBadRequest({ mergingIntList: [1, 2, 3] }, patch, message);
  });
});

describe('strategicMergePatch: $setElementOrder', () => {
  it.each<Case>([
    ['reorders a list of maps without changing it',
      { mergingList: [{ name: 1 }, { name: 3, value: 3 }, { name: 4, value: 4 }, { name: 2, value: 2 }] },
      { '$setElementOrder/mergingList': names(4, 2, 3, 1) },
      { mergingList: [{ name: 4, value: 4 }, { name: 2, value: 2 }, { name: 3, value: 3 }, { name: 1 }] }],
    ['places new items where the order says', { mergingList: [{ name: 1, other: 'a' }, { name: 2, value: 2, other: 'b' }] },
      { '$setElementOrder/mergingList': names(4, 1, 2, 3), mergingList: [{ name: 4, value: 4 }, { name: 3, value: 3 }] },
      { mergingList: [{ name: 4, value: 4 }, { name: 1, other: 'a' }, { name: 2, value: 2, other: 'b' }, { name: 3, value: 3 }] }],
    ['deletes and reorders', { mergingList: [{ name: 1, other: 'a' }, { name: 2, value: 2 }, { name: 3, value: 3 }] },
      { '$setElementOrder/mergingList': names(4, 2, 1), mergingList: [{ name: 4, value: 4 }, { name: 3, $patch: 'delete' }] },
      { mergingList: [{ name: 4, value: 4 }, { name: 2, value: 2 }, { name: 1, other: 'a' }] }],
    // Server-only items are interleaved by their position in the live list (upstream's mergeSortedSlice).
    ['interleaves a server-only item', { mergingList: [{ name: 1, other: 'a' }, { name: 2 }, { name: 9 }, { name: 3 }, { name: 4 }] },
      { '$setElementOrder/mergingList': names(2, 1, 4, 3) },
      { mergingList: [{ name: 2 }, { name: 1, other: 'a' }, { name: 9 }, { name: 4 }, { name: 3 }] }],
    ['interleaves several server-only items', { mergingIntList: [1, 2, 7, 9, 8, 3, 4] },
      { '$setElementOrder/mergingIntList': [2, 1, 4, 3] }, { mergingIntList: [2, 1, 7, 9, 8, 4, 3] }],
    ['server-only items at the end stay at the end', { mergingIntList: [1, 3, 4, 2, 9] },
      { '$setElementOrder/mergingIntList': [4, 2, 3, 1] }, { mergingIntList: [4, 2, 3, 1, 9] }],
    ['new item in a primitive list with a server-only value', { mergingIntList: [1, 4, 2] },
      { '$setElementOrder/mergingIntList': [3, 1, 2], mergingIntList: [3] }, { mergingIntList: [3, 1, 4, 2] }],
    ['new item in a map list with a server-only item', { mergingList: [{ name: 1, other: 'a' }, { name: 3 }] },
      { '$setElementOrder/mergingList': names(1, 2), mergingList: names(2) }, { mergingList: names(1, 2, 3).map((n, i) => (i === 0 ? { ...n, other: 'a' } : n)) }],
    ['ignores ordered items that do not exist', { mergingIntList: [1, 3] }, { '$setElementOrder/mergingIntList': [3, 2, 1] },
      { mergingIntList: [3, 1] }],
    ['delete from a primitive list with order', { mergingIntList: [1, 2, 3] },
      { '$setElementOrder/mergingIntList': [2, 1], '$deleteFromPrimitiveList/mergingIntList': [3] }, { mergingIntList: [2, 1] }],
    ['orders duplicates together', { mergingList: [{ name: 1 }, { name: 2, value: 'dup1' }, { name: 3 }, { name: 2, value: 'dup2' }, { name: 4 }] },
      { '$setElementOrder/mergingList': names(2, 1, 4, 3, 2) },
      { mergingList: [{ name: 2, value: 'dup1' }, { name: 2, value: 'dup2' }, { name: 1 }, { name: 4 }, { name: 3 }] }],
    ['an order for an absent list does nothing', { name: 1 }, { '$setElementOrder/mergingList': names(1) }, { name: 1 }],
    ['an order for a new list may name absent items', {}, { '$setElementOrder/mergingList': names(3, 1, 2), mergingList: names(1, 2) },
      { mergingList: names(1, 2) }],
    ['nested orders apply inside list items',
      { mergingList: [{ name: 1, mergingList: [{ name: 1 }, { name: 2, value: 2, other: 'd' }] }, { name: 2 }] },
      { '$setElementOrder/mergingList': names(1, 2),
        mergingList: [{ name: 1, '$setElementOrder/mergingList': names(2, 1), mergingList: [{ name: 1, value: 1 }] }] },
      { mergingList: [{ name: 1, mergingList: [{ name: 2, value: 2, other: 'd' }, { name: 1, value: 1 }] }, { name: 2 }] }],
    ['an order for an atomic list is ignored', { nonMergingIntList: [1, 2] },
      { '$setElementOrder/nonMergingIntList': [3, 1], nonMergingIntList: [1, 3] }, { nonMergingIntList: [1, 3] }],
  ])('%s', (_, original, patch, want) => {
    expect(apply(original, patch)).toEqual(want);
  });

  it.each([
    ['a patch list out of the given order', { mergingList: names(1, 3, 2) },
      { '$setElementOrder/mergingList': names(1, 2, 3), mergingList: [{ name: 3, value: 3 }, { name: 1, value: 1 }] },
      /doesn't match \$setElementOrder list/],
    ['a primitive patch list out of the given order', { mergingIntList: [1, 3, 2] },
      { '$setElementOrder/mergingIntList': [1, 2, 3], mergingIntList: [3, 1] }, /doesn't match \$setElementOrder list/],
    ['a new list whose items contradict the order', {},
      { '$setElementOrder/mergingList': names(2, 1), mergingList: names(1, 2) }, /doesn't match/],
    ['a patch item missing from the order', { mergingList: names(1) },
      { '$setElementOrder/mergingList': names(1), mergingList: names(2) }, /doesn't match/],
    ['an order entry without the merge key', { mergingList: names(1) }, { '$setElementOrder/mergingList': [{ value: 1 }] },
      /does not contain declared merge key: name/],
    ['an order that is not a list', { mergingList: names(1) }, { '$setElementOrder/mergingList': 'name' },
      /invalid patch format of setElementOrder list/],
    ['a malformed directive key', { mergingList: names(1) }, { $setElementOrderX: [] }, /invalid patch format of setElementOrder list/],
    ['a list field that is not a list', { mergingList: names(1) }, { '$setElementOrder/mergingList': names(1), mergingList: { name: 1 } },
      /expected a list at mergingList/],
  ])('rejects %s', (_, original, patch, message) => {
    expectBadRequest(original, patch, message);
  });
});

describe('strategicMergePatch: what kubectl apply sends (kubectl-wire.md §6)', () => {
  const live = {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: {
      name: 'demo', namespace: 'default', uid: 'u1', resourceVersion: '7', labels: { app: 'demo', tier: 'web' },
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}\n', 'deployment.kubernetes.io/revision': '1' },
      finalizers: ['a', 'b', 'c'],
    },
    spec: {
      replicas: 1, selector: { matchLabels: { app: 'demo' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { labels: { app: 'demo' } },
        spec: {
          containers: [
            {
              name: 'app', image: 'nginx:1.25', imagePullPolicy: 'IfNotPresent',
              ports: [{ containerPort: 80, protocol: 'TCP' }],
              env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }, { name: 'C', value: '3' }],
            },
            { name: 'sidecar', image: 'busybox' },
          ],
          tolerations: [{ key: 'k', operator: 'Exists' }],
          restartPolicy: 'Always',
        },
      },
    },
    status: { observedGeneration: 1, conditions: [{ type: 'Available', status: 'True' }] },
  };
  const at = (patch: unknown) => apply(live, patch, deployment) as typeof live;
  const containers = (d: typeof live) => d.spec.template.spec.containers;

  it('changes replicas and an image, keeping everything the server set', () => {
    const got = at({
      metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"new":1}\n' } },
      spec: { replicas: 3, template: { spec: {
        '$setElementOrder/containers': [{ name: 'app' }, { name: 'sidecar' }],
        containers: [{ image: 'nginx:1.26', name: 'app' }],
      } } },
    });
    expect(got).toEqual({
      ...live,
      metadata: { ...live.metadata, annotations: {
        'kubectl.kubernetes.io/last-applied-configuration': '{"new":1}\n', 'deployment.kubernetes.io/revision': '1' } },
      spec: { ...live.spec, replicas: 3, template: { ...live.spec.template, spec: {
        ...live.spec.template.spec, containers: [{ ...containers(live)[0], image: 'nginx:1.26' }, containers(live)[1]] } } },
    });
  });

  it('the exact §6 patch: one container in $setElementOrder leaves the server-only container in place', () => {
    const got = at(JSON.parse('{"spec":{"replicas":3,"template":{"spec":{"$setElementOrder/containers":[{"name":"app"}],'
      + '"containers":[{"image":"nginx:1.26","name":"app"}]}}}}'));
    expect(got.spec.replicas).toBe(3);
    expect(containers(got).map((c) => [c.name, c.image])).toEqual([['app', 'nginx:1.26'], ['sidecar', 'busybox']]);
  });

  it('switches the strategy to Recreate with $retainKeys, removing rollingUpdate', () => {
    const got = at({ spec: { strategy: { $retainKeys: ['type'], rollingUpdate: null, type: 'Recreate' } } });
    expect(got.spec.strategy).toEqual({ type: 'Recreate' });
    expect(at({ spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } }).spec.strategy).toEqual({ type: 'Recreate' });
  });

  it('deletes labels with null', () => {
    expect(at({ metadata: { labels: null } }).metadata).not.toHaveProperty('labels');
    expect(at({ metadata: { labels: { tier: null } } }).metadata.labels).toEqual({ app: 'demo' });
  });

  it('deletes a container field with null inside a merge-keyed item', () => {
    const got = at({ spec: { template: { spec: {
      '$setElementOrder/containers': [{ name: 'app' }, { name: 'sidecar' }],
      containers: [{ name: 'app', ports: null }],
    } } } });
    expect(containers(got)[0]).not.toHaveProperty('ports');
    expect(containers(got)[0].env).toHaveLength(3);
  });

  it('reorders env with $setElementOrder/env and changes a value', () => {
    const got = at({ spec: { template: { spec: {
      '$setElementOrder/containers': [{ name: 'app' }, { name: 'sidecar' }],
      containers: [{ name: 'app', '$setElementOrder/env': [{ name: 'C' }, { name: 'A' }, { name: 'B' }], env: [{ name: 'A', value: '10' }] }],
    } } } });
    expect(containers(got)[0].env).toEqual([{ name: 'C', value: '3' }, { name: 'A', value: '10' }, { name: 'B', value: '2' }]);
  });

  it('deletes a container with $patch: delete', () => {
    const got = at({ spec: { template: { spec: {
      '$setElementOrder/containers': [{ name: 'app' }],
      containers: [{ $patch: 'delete', name: 'sidecar' }],
    } } } });
    expect(containers(got).map((c) => c.name)).toEqual(['app']);
  });

  it('adds a container and a port by their merge keys', () => {
    const got = at({ spec: { template: { spec: {
      '$setElementOrder/containers': [{ name: 'app' }, { name: 'log' }, { name: 'sidecar' }],
      containers: [
        { name: 'app', '$setElementOrder/ports': [{ containerPort: 80 }, { containerPort: 443 }], ports: [{ containerPort: 443 }] },
        { name: 'log', image: 'fluentd' },
      ],
    } } } });
    expect(containers(got).map((c) => c.name)).toEqual(['app', 'log', 'sidecar']);
    expect(containers(got)[0].ports).toEqual([{ containerPort: 80, protocol: 'TCP' }, { containerPort: 443 }]);
  });

  it('replaces tolerations whole (atomic)', () => {
    const got = at({ spec: { template: { spec: { tolerations: [{ key: 'other', operator: 'Exists' }] } } } });
    expect(got.spec.template.spec.tolerations).toEqual([{ key: 'other', operator: 'Exists' }]);
  });

  it('removes a finalizer with $deleteFromPrimitiveList and adds one as a set', () => {
    const got = at({ metadata: { '$deleteFromPrimitiveList/finalizers': ['b'], '$setElementOrder/finalizers': ['a', 'c'] } });
    expect(got.metadata.finalizers).toEqual(['a', 'c']);
    expect(at({ metadata: { finalizers: ['c', 'd'] } }).metadata.finalizers).toEqual(['a', 'b', 'c', 'd']);
  });

  it('merges status conditions by type', () => {
    const got = at({ status: { conditions: [{ type: 'Progressing', status: 'True' }, { type: 'Available', status: 'False' }] } });
    expect(got.status.conditions).toEqual([{ type: 'Progressing', status: 'True' }, { type: 'Available', status: 'False' }]);
  });

  it('an empty patch returns an equal copy', () => {
    expect(at({})).toEqual(live);
  });
});

describe('strategicMergePatch: pods', () => {
  const livePod = {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', ownerReferences: [{ uid: 'u1', kind: 'ReplicaSet', name: 'rs' }] },
    spec: {
      containers: [{
        name: 'app', image: 'x',
        volumeMounts: [{ mountPath: '/data', name: 'data' }], envFrom: [{ configMapRef: { name: 'a' } }],
      }],
      volumes: [{ name: 'data', emptyDir: {} }, { name: 'cfg', configMap: { name: 'c' } }],
      imagePullSecrets: [{ name: 's1' }],
    },
    status: { conditions: [{ type: 'Ready', status: 'False' }, { type: 'PodScheduled', status: 'True' }] },
  };

  it.each<Case>([
    ['swaps a volume source with $retainKeys', livePod,
      { spec: { volumes: [{ $retainKeys: ['hostPath', 'name'], name: 'data', hostPath: { path: '/tmp' } }] } },
      { ...livePod, spec: { ...livePod.spec, volumes: [{ name: 'data', hostPath: { path: '/tmp' } }, livePod.spec.volumes[1]] } }],
    ['merges volumeMounts by mountPath', livePod,
      { spec: { containers: [{ name: 'app', volumeMounts: [{ mountPath: '/data', readOnly: true }] }] } },
      { ...livePod, spec: { ...livePod.spec, containers: [{ ...livePod.spec.containers[0], volumeMounts: [{ mountPath: '/data', name: 'data', readOnly: true }] }] } }],
    ['replaces envFrom whole', livePod, { spec: { containers: [{ name: 'app', envFrom: [{ secretRef: { name: 'b' } }] }] } },
      { ...livePod, spec: { ...livePod.spec, containers: [{ ...livePod.spec.containers[0], envFrom: [{ secretRef: { name: 'b' } }] }] } }],
    ['merges ownerReferences by uid', livePod, { metadata: { ownerReferences: [{ uid: 'u1', controller: true }] } },
      { ...livePod, metadata: { name: 'p', ownerReferences: [{ uid: 'u1', kind: 'ReplicaSet', name: 'rs', controller: true }] } }],
    ['merges status conditions by type (status patch)', livePod,
      { status: { '$setElementOrder/conditions': [{ type: 'Ready' }, { type: 'PodScheduled' }], conditions: [{ type: 'Ready', status: 'True' }] } },
      { ...livePod, status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'PodScheduled', status: 'True' }] } }],
  ])('%s', (_, original, patch, want) => {
    expect(apply(original, patch, pod)).toEqual(want);
  });

  it('rejects a volume without its name', () => {
    expectBadRequest(livePod, { spec: { volumes: [{ emptyDir: {} }] } }, /does not contain declared merge key: name \(spec\.volumes\)/, pod);
  });

  it('rejects a port without containerPort, naming the path', () => {
    expectBadRequest(livePod, { spec: { containers: [{ name: 'app', ports: [{ name: 'http' }] }] } },
      /merge key: containerPort \(spec\.containers\[\]\.ports\)/, pod);
  });
});

describe('patchMetaFor', () => {
  const path = (p: string) => p.split('.');
  const byName = { strategy: 'merge', mergeKey: 'name' };

  it.each([
    ['v1', 'Pod', 'spec.containers', byName],
    ['v1', 'Pod', 'spec.initContainers', byName],
    ['v1', 'Pod', 'spec.ephemeralContainers', byName],
    ['v1', 'Pod', 'spec.ephemeralContainers.[].env', byName],
    ['v1', 'Pod', 'spec.volumes', { strategy: 'merge,retainKeys', mergeKey: 'name' }],
    ['v1', 'Pod', 'spec.imagePullSecrets', byName],
    ['v1', 'Pod', 'spec.hostAliases', { strategy: 'merge', mergeKey: 'ip' }],
    ['v1', 'Pod', 'spec.topologySpreadConstraints', { strategy: 'merge', mergeKey: 'topologyKey' }],
    ['v1', 'Pod', 'spec.containers.[].env', byName],
    ['v1', 'Pod', 'spec.containers.[].ports', { strategy: 'merge', mergeKey: 'containerPort' }],
    ['v1', 'Pod', 'spec.containers.[].volumeMounts', { strategy: 'merge', mergeKey: 'mountPath' }],
    ['v1', 'Pod', 'spec.initContainers.[].volumeDevices', { strategy: 'merge', mergeKey: 'devicePath' }],
    ['v1', 'Pod', 'status.conditions', { strategy: 'merge', mergeKey: 'type' }],
    ['v1', 'Pod', 'status.podIPs', { strategy: 'merge', mergeKey: 'ip' }],
    ['v1', 'Pod', 'metadata.ownerReferences', { strategy: 'merge', mergeKey: 'uid' }],
    ['v1', 'Pod', 'metadata.finalizers', { strategy: 'merge' }],
    ['apps/v1', 'Deployment', 'spec.template.spec.containers.[].env', byName],
    ['apps/v1', 'Deployment', 'spec.template.metadata.finalizers', { strategy: 'merge' }],
    ['apps/v1', 'Deployment', 'spec.strategy', { strategy: 'retainKeys' }],
    ['apps/v1', 'Deployment', 'status.conditions', { strategy: 'merge', mergeKey: 'type' }],
    ['apps/v1', 'ReplicaSet', 'spec.template.spec.volumes', { strategy: 'merge,retainKeys', mergeKey: 'name' }],
    ['apps/v1', 'DaemonSet', 'spec.template.spec.containers', byName],
    ['apps/v1', 'StatefulSet', 'spec.template.spec.containers', byName],
    ['batch/v1', 'Job', 'spec.template.spec.containers', byName],
    ['batch/v1', 'Job', 'status.conditions', { strategy: 'merge', mergeKey: 'type' }],
    ['batch/v1', 'CronJob', 'spec.jobTemplate.spec.template.spec.containers', byName],
    ['v1', 'Service', 'spec.ports', { strategy: 'merge', mergeKey: 'port' }],
    ['v1', 'Node', 'status.conditions', { strategy: 'merge', mergeKey: 'type' }],
    ['v1', 'Node', 'status.addresses', { strategy: 'merge', mergeKey: 'type' }],
    ['v1', 'Node', 'spec.podCIDRs', { strategy: 'merge' }],
    ['autoscaling/v2', 'HorizontalPodAutoscaler', 'status.conditions', { strategy: 'merge', mergeKey: 'type' }],
    ['example.com/v1', 'Widget', 'metadata.ownerReferences', { strategy: 'merge', mergeKey: 'uid' }],
    ['example.com/v1', 'Widget', 'metadata.finalizers', { strategy: 'merge' }],
  ])('%s %s %s', (apiVersion, kind, p, want) => {
    expect(patchMetaFor(apiVersion, kind)(path(p))).toEqual(want);
  });

  it.each([
    ['v1', 'Pod', 'spec.tolerations'],
    ['v1', 'Pod', 'spec.readinessGates'],
    ['v1', 'Pod', 'spec.containers.[].envFrom'],
    ['v1', 'Pod', 'spec.containers.[].resizePolicy'],
    ['v1', 'Node', 'spec.taints'],
    ['v1', 'Endpoints', 'subsets'],
    ['discovery.k8s.io/v1', 'EndpointSlice', 'endpoints'],
  ])('%s %s %s is atomic', (apiVersion, kind, p) => {
    const meta = patchMetaFor(apiVersion, kind)(path(p));
    expect(meta === undefined || meta.strategy === 'replace').toBe(true);
  });

  it.each([
    ['v1', 'Pod', 'spec.containers.env'], // without the list-item segment
    ['v1', 'Pod', 'metadata.labels'],
    ['v1', 'ConfigMap', 'data'],
    ['example.com/v1', 'Widget', 'spec.containers'],
    ['apps/v1', 'Deployment', 'spec.containers'],
  ])('%s %s %s has no metadata', (apiVersion, kind, p) => {
    expect(patchMetaFor(apiVersion, kind)(path(p))).toBeUndefined();
  });
});
