import { errors, type FieldMeta, type PatchMeta } from '@k8ts/api';

// Strategic merge patch as k8s.io/apimachinery/pkg/util/strategicpatch applies it on the server
// (StrategicMergeMapPatch), written from upstream's documented rules and observable behaviour.

type Obj = Record<string, unknown>;
type Path = readonly string[];

const PATCH = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ORDER = '$setElementOrder/';
const DELETE_FROM = '$deleteFromPrimitiveList/';

/** What a merge returns for "remove this value from its parent". */
const DELETE = Symbol('delete');

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const has = (o: Obj, key: string) => Object.hasOwn(o, key);
/** `o[key]` for own keys only: field names like `constructor` must not reach Object.prototype. */
const own = (o: Obj, key: string): unknown => (has(o, key) ? o[key] : undefined);
const isMergeList = (m: FieldMeta | undefined) => m?.strategy === 'merge' || m?.strategy === 'merge,retainKeys';
/** An item's identity in a list: its merge key's value for maps, the value itself for primitives. */
const identity = (key: string | undefined) => (v: unknown) => (key === undefined ? v : isObj(v) ? own(v, key) : undefined);
const show = (v: unknown) => JSON.stringify(v);
const where = (path: Path) => path.join('.').replaceAll('.[]', '[]') || '<root>';
const bad = (message: string) => errors.badRequest(message);

/** Applies a strategic merge patch to `original` (never mutated) and returns the result. Throws ApiError 400 (errors.badRequest from '@k8ts/api') on malformed patches (e.g. a merge-keyed list item without its key, a bad $patch value). */
export function strategicMergePatch(original: unknown, patch: unknown, meta: PatchMeta): unknown {
  if (!isObj(patch)) throw bad('strategic merge patch must be a JSON object');
  // Cloned once so the result shares nothing with the caller's object (which may be an informer's cache).
  const base = isObj(original) ? structuredClone(original) : undefined;
  const result = mergeMap(base, patch, [], meta);
  return result === DELETE ? {} : result;
}

/** Merges a patch map into an original map (or into nothing, which just applies the patch's directives). */
function mergeMap(original: Obj | undefined, patch: Obj, path: Path, meta: PatchMeta): Obj | typeof DELETE {
  const directive = own(patch, PATCH);
  if (directive === 'delete') return DELETE;
  if (directive !== undefined && directive !== 'replace') throw bad(`unknown patch type: ${show(directive)} in map: ${show(patch)}`);
  const out: Obj = directive === 'replace' ? {} : { ...original };

  if (has(patch, RETAIN_KEYS)) {
    const keep = own(patch, RETAIN_KEYS);
    if (!Array.isArray(keep)) throw bad(`invalid patch format of retainKeys at ${where(path)}`);
    // Every field the patch sets must be retained, or the patch contradicts itself.
    const stray = Object.keys(patch).find((k) => !k.startsWith('$') && patch[k] !== null && !keep.includes(k));
    if (stray !== undefined) throw bad(`invalid patch format of retainKeys at ${where(path)}: ${show(stray)} is not in ${show(keep)}`);
    for (const k of Object.keys(out)) if (!keep.includes(k)) delete out[k];
  }

  for (const name of fieldNames(patch, path)) {
    const fieldPath = [...path, name];
    const value = own(patch, name);
    const order = own(patch, SET_ORDER + name);
    const deletions = own(patch, DELETE_FROM + name);
    const merged = value === null ? DELETE
      : order !== undefined || deletions !== undefined ? mergeListField(own(out, name), value, order, deletions, fieldPath, meta)
      : mergeValue(own(out, name), value, fieldPath, meta);
    if (merged === DELETE) delete out[name];
    else if (merged !== undefined) out[name] = merged;
  }
  return out;
}

/** The fields a patch map touches, directly or through a parallel directive list. Unknown `$` keys are ignored, as old servers ignore new directives. */
function fieldNames(patch: Obj, path: Path): Set<string> {
  const names = new Set<string>();
  for (const key of Object.keys(patch)) {
    if (key === '__proto__') throw bad(`invalid field name ${show(key)} at ${where(path)}`);
    const prefix = [SET_ORDER, DELETE_FROM].find((p) => key.startsWith(p.slice(0, -1)));
    if (prefix === undefined) {
      if (!key.startsWith('$')) names.add(key);
    } else if (key.startsWith(prefix) && key.length > prefix.length) {
      names.add(key.slice(prefix.length));
    } else {
      throw bad(`invalid patch format of ${prefix === SET_ORDER ? 'setElementOrder list' : 'primitive list'}: ${show(key)}`);
    }
  }
  return names;
}

/** Merges one patch value (not null) into the original value at `path`; `original` undefined means absent. */
function mergeValue(original: unknown, value: unknown, path: Path, meta: PatchMeta): unknown {
  if (value === undefined) return original;
  if (isObj(value)) {
    const replace = meta(path)?.strategy === 'replace';
    return mergeMap(isObj(original) && !replace ? original : undefined, value, path, meta);
  }
  if (Array.isArray(value)) return mergeList(Array.isArray(original) ? original : [], value, path, meta);
  return value;
}

/** Patch list items standing on their own (no original): their directives applied, null fields dropped. */
function materialize(items: readonly unknown[], path: Path, meta: PatchMeta): unknown[] {
  return items.flatMap((item) => {
    const v = item === null ? null : mergeValue(undefined, item, path, meta);
    return v === DELETE ? [] : [v];
  });
}

/** Merges a patch list into an original list according to the field's strategy. */
function mergeList(original: readonly unknown[], patch: readonly unknown[], path: Path, meta: PatchMeta): unknown[] {
  const fieldMeta = meta(path);
  const itemPath = [...path, '[]'];
  if (!isMergeList(fieldMeta)) return materialize(patch, itemPath, meta);
  const kind = elementKind(path, original, patch);
  if (kind === undefined) return [];
  if (kind === 'scalar') {
    // A set: the union, deduplicated, ordered like the patch where it speaks and the original elsewhere.
    const merged = unique([...original, ...patch]);
    return interleave(merged.filter((v) => !patch.includes(v)), unique(patch), original, (v) => v);
  }

  const key = requireMergeKey(fieldMeta, path);
  const id = identity(key);
  let base = [...original];
  const items: Obj[] = [];
  let replace = false;
  for (const item of patch as Obj[]) {
    const directive = own(item, PATCH);
    if (directive === undefined) items.push(withKey(item, key, path));
    else if (directive === 'delete') base = base.filter((o) => id(o) !== id(withKey(item, key, path)));
    else if (directive === 'replace') replace = true;
    else if (directive === 'merge') throw bad(`merging lists cannot yet be specified in the patch (${where(path)})`);
    else throw bad(`unknown patch type: ${show(directive)} in map: ${show(item)}`);
  }
  // `{"$patch": "replace"}` as an item: the other items are the whole list.
  if (replace) return materialize(items, itemPath, meta);

  const serverOrder = [...base];
  for (const item of items) {
    const i = base.findIndex((o) => id(o) === id(item));
    const merged = mergeMap(i >= 0 ? (base[i] as Obj) : undefined, item, itemPath, meta) as Obj;
    if (i >= 0) base[i] = merged;
    else base.push(merged);
  }
  const patchIds = items.map(id);
  const fromPatch = base.filter((o) => patchIds.includes(id(o)));
  fromPatch.sort((a, b) => patchIds.indexOf(id(a)) - patchIds.indexOf(id(b)));
  return interleave(base.filter((o) => !patchIds.includes(id(o))), fromPatch, serverOrder, id);
}

/** A list field that comes with `$setElementOrder/<f>` and/or `$deleteFromPrimitiveList/<f>`. */
function mergeListField(original: unknown, value: unknown, order: unknown, deletions: unknown, path: Path,
  meta: PatchMeta): unknown[] | undefined {
  if (value !== undefined && !Array.isArray(value)) throw bad(`expected a list at ${where(path)}, got ${show(value)}`);
  const originalList = Array.isArray(original) ? original : undefined;
  let list = value === undefined ? originalList : mergeList(originalList ?? [], value, path, meta);
  const fieldMeta = meta(path);

  // Upstream ignores element order for atomic lists: they are taken exactly as sent.
  if (order !== undefined && isMergeList(fieldMeta)) {
    if (!Array.isArray(order)) throw bad(`invalid patch format of setElementOrder list at ${where(path)}`);
    const patchList = value ?? [];
    if (list !== undefined) {
      const kind = elementKind(path, originalList ?? [], patchList, order);
      const key = kind === 'map' ? requireMergeKey(fieldMeta, path) : undefined;
      const id = identity(key);
      if (key !== undefined) for (const o of order) withKey(o, key, path);
      list = applyOrder(list, order.map(id), patchList, originalList ?? [], id, path);
    }
  }

  if (deletions !== undefined) {
    if (!Array.isArray(deletions) || deletions.some(isObj) || list?.some(isObj)) {
      throw bad(`invalid patch format of primitive list at ${where(path)}`);
    }
    list = list?.filter((v) => !deletions.includes(v));
  }
  return list;
}

/**
 * Orders a merged list by `$setElementOrder`: the listed items in the listed order, interleaved with the
 * items the order does not name (server-only ones) as upstream's normalizeElementOrder does.
 */
function applyOrder(merged: readonly unknown[], orderIds: readonly unknown[], patch: readonly unknown[],
  original: readonly unknown[], id: (v: unknown) => unknown, path: Path): unknown[] {
  // The patch list must be a subsequence of the order list (directive items aside).
  if (orderIds.length > 0) {
    let j = 0;
    for (const item of patch) {
      if (isObj(item) && has(item, PATCH)) continue;
      while (j < orderIds.length && orderIds[j] !== id(item)) j++;
      if (j++ === orderIds.length) {
        throw bad(`the order in patch list ${show(patch)} doesn't match $setElementOrder list ${show(orderIds)} at ${where(path)}`);
      }
    }
  }
  const listed = merged.filter((v) => orderIds.includes(id(v)));
  listed.sort((a, b) => orderIds.indexOf(id(a)) - orderIds.indexOf(id(b)));
  return interleave(merged.filter((v) => !orderIds.includes(id(v))), listed, original, id);
}

/**
 * Merges two ordered lists (upstream's mergeSortedSlice): a server-only item goes before a patch item only
 * when both are in the original and it came first there; otherwise the patch item goes first.
 */
function interleave(serverOnly: readonly unknown[], fromPatch: readonly unknown[], original: readonly unknown[],
  id: (v: unknown) => unknown): unknown[] {
  const originalIds = original.map(id);
  const out: unknown[] = [];
  let i = 0, j = 0;
  while (i < serverOnly.length && j < fromPatch.length) {
    const si = originalIds.indexOf(id(serverOnly[i]));
    const pi = originalIds.indexOf(id(fromPatch[j]));
    out.push(si >= 0 && pi >= 0 && si < pi ? serverOnly[i++] : fromPatch[j++]);
  }
  return [...out, ...serverOnly.slice(i), ...fromPatch.slice(j)];
}

/** Whether the lists hold maps or scalars (undefined when all are empty); mixing them, or nesting lists, is an error. */
function elementKind(path: Path, ...lists: (readonly unknown[])[]): 'map' | 'scalar' | undefined {
  let kind: 'map' | 'scalar' | undefined;
  for (const v of lists.flat()) {
    if (Array.isArray(v)) throw bad(`lists of lists are not supported (${where(path)})`);
    const k = isObj(v) ? 'map' : 'scalar';
    if (kind !== undefined && k !== kind) throw bad(`list element types are not identical at ${where(path)}`);
    kind = k;
  }
  return kind;
}

function requireMergeKey(fieldMeta: FieldMeta | undefined, path: Path): string {
  if (!fieldMeta?.mergeKey) throw bad(`cannot merge lists of maps without a merge key (${where(path)})`);
  return fieldMeta.mergeKey;
}

function withKey(item: unknown, key: string, path: Path): Obj {
  if (!isObj(item) || !has(item, key)) throw bad(`map: ${show(item)} does not contain declared merge key: ${key} (${where(path)})`);
  return item;
}

function unique<T>(list: readonly T[]): T[] {
  return [...new Set(list)];
}
