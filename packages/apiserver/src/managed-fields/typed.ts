import { isDeepStrictEqual } from 'node:util';
import { ATOMIC, concrete, entryType, type FieldType } from './schema.js';
import { FieldSet, fieldEl, indexEl, keyEl, valueEl } from './set.js';

/**
 * Operations on values of a FieldType, as structured-merge-diff's typed package: the field set of a value
 * (ToFieldSet), the comparison of two values (Compare: added, modified, removed), the merge of an applied
 * configuration into a live object (Merge), and the removal of a set's members from a value (RemoveItems).
 *
 * Which nodes a set holds, as upstream: leaves (scalars, atomic values), list items, set values, map entries that
 * are not a struct's declared fields, and empty or null values. A declared struct field holding a non-empty
 * object is not itself a member (its leaves are).
 */

type Obj = Record<string, unknown>;

/**
 * Values nested deeper than this are tracked as one atomic value: no kind's schema goes near it, and the walks
 * recurse, so a hostile deeply nested value (a RawExtension, a field without a schema) cannot exhaust the stack.
 */
export const MAX_TRACKED_DEPTH = 100;
const typeAt = (t: FieldType, v: unknown, depth: number): FieldType => (depth > MAX_TRACKED_DEPTH ? ATOMIC : concrete(t, v));
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const granular = (t: FieldType): boolean => t.kind === 'struct' || t.kind === 'map' || t.kind === 'list';

/** The path element of a list item: its value in a set, its keys in an associative list. */
export function itemElement(t: FieldType & { kind: 'list' }, item: unknown, index: number): string {
  if (t.listType === 'set') return valueEl(item);
  if (!isObj(item)) return indexEl(index);
  const keys: Obj = {};
  for (const k of t.keys) {
    const v = item[k] ?? t.keyDefaults?.[k];
    if (v !== undefined && v !== null) keys[k] = v;
  }
  return Object.keys(keys).length ? keyEl(keys) : indexEl(index);
}

/** Whether a struct's or map's entry is a member itself (not only through its children). */
function entryIsMember(value: unknown, declared: boolean, t: FieldType): boolean {
  return !declared || value === null || (isObj(value) && Object.keys(value).length === 0) || !granular(t);
}

/** The field set of a value (the value's root is never a member). */
export function toFieldSet(value: unknown, type: FieldType): FieldSet {
  const s = new FieldSet();
  fill(s, value, type);
  return s;
}

/**
 * Adds to `node` (the set node of the value's path) the members under the value; `added`: as a comparison's added
 * set, where maps and lists that are not required are members too (see addedAt).
 */
function fill(node: FieldSet, value: unknown, type: FieldType, added = false, depth = 0): void {
  const t = typeAt(type, value, depth);
  if (t.kind === 'struct' || t.kind === 'map') {
    if (!isObj(value)) return;
    for (const k in value) {
      const v = value[k];
      if (v === undefined) continue;
      const e = entryType(t, k);
      const ct = typeAt(e.type, v, depth + 1);
      const child = node.child(fieldEl(k));
      if (entryIsMember(v, e.declared, ct) || (added && (ct.kind === 'map' || ct.kind === 'list') && !e.required)) child.member = true;
      if (granular(ct) && v !== null) fill(child, v, ct, added, depth + 1);
    }
  } else if (t.kind === 'list') {
    if (!Array.isArray(value)) return;
    const elem = t.elem();
    value.forEach((item, i) => {
      const child = node.child(itemElement(t, item, i));
      child.member = true;
      if (t.listType === 'map') fill(child, item, elem, added, depth + 1);
    });
  }
}

/** Every node under a value, members all (what a removed subtree takes away). */
function fillAll(node: FieldSet, value: unknown, type: FieldType, depth = 0): void {
  const t = typeAt(type, value, depth);
  if ((t.kind === 'struct' || t.kind === 'map') && isObj(value)) {
    for (const k in value) {
      if (value[k] === undefined) continue;
      const child = node.child(fieldEl(k));
      child.member = true;
      fillAll(child, value[k], entryType(t, k).type, depth + 1);
    }
  } else if (t.kind === 'list' && Array.isArray(value)) {
    const elem = t.elem();
    value.forEach((item, i) => {
      const child = node.child(itemElement(t, item, i));
      child.member = true;
      if (t.listType === 'map') fillAll(child, item, elem, depth + 1);
    });
  }
}

export interface Comparison { added: FieldSet; modified: FieldSet; removed: FieldSet }

/** What changed from `lhs` to `rhs` (undefined: no object), as typed.Compare. Paths are a stack, copied only when stored. */
export function compare(lhs: unknown, rhs: unknown, type: FieldType): Comparison {
  const c: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  if (lhs === undefined && rhs === undefined) return c;
  // No object yet: everything is added, as from upstream's empty object of the kind.
  if (lhs === undefined) lhs = isObj(rhs) ? {} : undefined;
  if (lhs === undefined) { fill(c.added, rhs, type); return c; }
  if (rhs === undefined) { fillAll(c.removed, lhs, type); return c; }
  compareInto(lhs, rhs, type, c, []);
  return c;
}

function compareInto(l: unknown, r: unknown, type: FieldType, c: Comparison, path: string[]): void {
  const tl = typeAt(type, l, path.length);
  const tr = typeAt(type, r, path.length);
  const both = (kind: string) => tl.kind === kind && tr.kind === kind;
  if ((both('struct') || both('map')) && isObj(l) && isObj(r)) {
    for (const k in r) {
      const rv = r[k];
      if (rv === undefined) continue;
      const e = entryType(tr, k);
      const lv = l[k];
      path.push(fieldEl(k));
      if (lv === undefined) addedAt(c, path, rv, e.type, e.declared, e.required);
      else compareInto(lv, rv, e.type, c, path);
      path.pop();
    }
    for (const k in l) {
      if (l[k] === undefined || r[k] !== undefined) continue;
      path.push(fieldEl(k));
      removedAt(c, path, l[k], entryType(tl, k).type);
      path.pop();
    }
    return;
  }
  if (tl.kind === 'list' && tr.kind === 'list' && Array.isArray(l) && Array.isArray(r)) {
    const elem = tr.elem();
    const left = new Map<string, unknown>();
    l.forEach((item, i) => { const el = itemElement(tl, item, i); if (!left.has(el)) left.set(el, item); });
    const seen = new Set<string>();
    r.forEach((item, i) => {
      const el = itemElement(tr, item, i);
      if (seen.has(el)) return;
      seen.add(el);
      path.push(el);
      if (!left.has(el)) {
        const node = nodeAt(c.added, path);
        node.member = true;
        if (tr.listType === 'map') fill(node, item, elem, true, path.length);
      } else if (tr.listType === 'map') compareInto(left.get(el), item, elem, c, path);
      path.pop();
    });
    for (const [el, item] of left) {
      if (seen.has(el)) continue;
      const node = nodeAt(c.removed, [...path, el]);
      node.member = true;
      if (tl.listType === 'map') fillAll(node, item, tl.elem(), path.length);
    }
    return;
  }
  // Leaves, atomic values, and values whose shape changed (a map became a scalar …).
  if (l === r || isDeepStrictEqual(l, r)) return;
  if (path.length) nodeAt(c.modified, path).member = true;
  if (granular(tr) && r !== null && tl.kind !== tr.kind) fill(nodeAt(c.added, path), r, tr, true, path.length);
}

function nodeAt(root: FieldSet, path: readonly string[]): FieldSet {
  let n = root;
  for (const el of path) n = n.child(el);
  return n;
}

/**
 * A new entry: as in a field set, and also the node itself when it is a map or a list that is not required.
 * Upstream compares with the Go object, where such fields (omitempty maps and slices) are absent while structs and
 * required slices are present empty; pointers to structs cannot be told from structs here, so those have no `.`.
 */
function addedAt(c: Comparison, path: string[], value: unknown, type: FieldType, declared: boolean, required?: boolean): void {
  const t = typeAt(type, value, path.length);
  const node = nodeAt(c.added, path);
  if (entryIsMember(value, declared, t) || ((t.kind === 'map' || t.kind === 'list') && !required)) node.member = true;
  if (granular(t) && value !== null) fill(node, value, t, true, path.length);
}

function removedAt(c: Comparison, path: string[], value: unknown, type: FieldType): void {
  const node = nodeAt(c.removed, path);
  node.member = true;
  fillAll(node, value, type, path.length);
}

/**
 * The live object with an applied configuration merged in (typed.Merge): structs and maps merge by key,
 * associative lists by their keys and sets by value (the configuration's order first, then the live object's
 * other items), anything else is replaced by the configuration's value. The result shares the configuration's
 * values (callers pass a copy of their own).
 */
export function merge(lhs: unknown, rhs: unknown, type: FieldType, depth = 0): unknown {
  if (rhs === undefined) return lhs;
  if (lhs === undefined || lhs === null || rhs === null) return rhs;
  const tl = typeAt(type, lhs, depth);
  const tr = typeAt(type, rhs, depth);
  if ((tr.kind === 'struct' || tr.kind === 'map') && tl.kind === tr.kind && isObj(lhs) && isObj(rhs)) {
    const out: Obj = { ...lhs };
    for (const k in rhs) {
      if (rhs[k] === undefined) continue;
      out[k] = merge(lhs[k], rhs[k], entryType(tr, k).type, depth + 1);
    }
    return out;
  }
  if (tr.kind === 'list' && tl.kind === 'list' && Array.isArray(lhs) && Array.isArray(rhs)) {
    const elem = tr.elem();
    const left = new Map<string, unknown>();
    lhs.forEach((item, i) => { const el = itemElement(tl, item, i); if (!left.has(el)) left.set(el, item); });
    const out: unknown[] = [];
    const taken = new Set<string>();
    rhs.forEach((item, i) => {
      const el = itemElement(tr, item, i);
      if (taken.has(el)) return;
      taken.add(el);
      out.push(left.has(el) && tr.listType === 'map' ? merge(left.get(el), item, elem, depth + 1) : item);
    });
    lhs.forEach((item, i) => { if (!taken.has(itemElement(tl, item, i))) out.push(item); });
    return out;
  }
  return rhs;
}

/** The value without the members of `set` (each removed with everything under it), as TypedValue.RemoveItems. */
export function removeItems(value: unknown, set: FieldSet, type: FieldType, depth = 0): unknown {
  if (set.children.size === 0) return value;
  const t = typeAt(type, value, depth);
  if ((t.kind === 'struct' || t.kind === 'map') && isObj(value)) {
    let out: Obj | undefined;
    for (const [el, node] of set.children) {
      if (!el.startsWith('f:')) continue;
      const k = el.slice(2);
      if (!(k in value)) continue;
      out ??= { ...value };
      if (node.member) delete out[k];
      else out[k] = removeItems(value[k], node, entryType(t, k).type, depth + 1);
    }
    return out ?? value;
  }
  if (t.kind === 'list' && Array.isArray(value)) {
    const elem = t.elem();
    const out: unknown[] = [];
    value.forEach((item, i) => {
      const node = set.children.get(itemElement(t, item, i));
      if (node?.member) return;
      out.push(node && t.listType === 'map' ? removeItems(item, node, elem, depth + 1) : item);
    });
    return out;
  }
  return value;
}
