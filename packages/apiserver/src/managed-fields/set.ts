/**
 * Sets of field paths, as structured-merge-diff's fieldpath.Set, and their JSON form FieldsV1.
 *
 * A path is a list of elements, each serialized as FieldsV1 spells it: `f:<name>` (a field of a struct or a map's
 * key), `k:{"name":"app"}` (an associative list's item by its keys), `v:<json>` (a set's value), `i:<n>` (a list
 * item by index). A set is a tree: each node says whether its path is a member itself (FieldsV1's `.` when the
 * node also has children) and holds its children by element.
 */

export class FieldSet {
  /** Whether the path ending here is a member. */
  member = false;
  readonly children = new Map<string, FieldSet>();

  static of(...paths: string[][]): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  insert(path: readonly string[]): void {
    path.reduce<FieldSet>((node, el) => node.child(el), this).member = true;
  }

  /** The node at a path, if any. */
  at(path: readonly string[]): FieldSet | undefined {
    return path.reduce<FieldSet | undefined>((node, el) => node?.children.get(el), this);
  }

  has(path: readonly string[]): boolean { return this.at(path)?.member ?? false; }

  /** The child for `el`, created when missing. */
  child(el: string): FieldSet {
    let c = this.children.get(el);
    if (!c) { c = new FieldSet(); this.children.set(el, c); }
    return c;
  }

  empty(): boolean {
    if (this.member) return false;
    for (const c of this.children.values()) if (!c.empty()) return false;
    return true;
  }

  clone(): FieldSet {
    const s = new FieldSet();
    s.member = this.member;
    for (const [k, c] of this.children) s.children.set(k, c.clone());
    return s;
  }

  union(other: FieldSet): FieldSet {
    const s = this.clone();
    s.addAll(other);
    return s;
  }

  /** Adds every member of `other` in place. */
  addAll(other: FieldSet): void {
    if (other.member) this.member = true;
    for (const [k, c] of other.children) this.child(k).addAll(c);
  }

  /**
   * Members of this set that are not members of `other` (member-wise, as fieldpath.Set.Difference). Sets are not
   * changed once built, so a subtree `other` does not reach is shared, not copied.
   */
  difference(other: FieldSet | undefined): FieldSet {
    if (!other || (!other.member && other.children.size === 0)) return this;
    const s = new FieldSet();
    s.member = this.member && !other.member;
    for (const [k, c] of this.children) {
      const o = other.children.get(k);
      const d = o ? c.difference(o) : c;
      if (d === c || !d.empty()) s.children.set(k, d);
    }
    return s;
  }

  /** Members of both. */
  intersection(other: FieldSet | undefined): FieldSet {
    const s = new FieldSet();
    if (!other) return s;
    s.member = this.member && other.member;
    for (const [k, c] of this.children) {
      const o = other.children.get(k);
      if (!o) continue;
      const i = c.intersection(o);
      if (!i.empty()) s.children.set(k, i);
    }
    return s;
  }

  /** This set without any member at or under a member of `other` (fieldpath.Set.RecursiveDifference). */
  recursiveDifference(other: FieldSet | undefined): FieldSet {
    if (!other) return this.clone();
    const s = new FieldSet();
    s.member = this.member && !other.member;
    for (const [k, c] of this.children) {
      const o = other.children.get(k);
      if (o?.member) continue;
      const d = c.recursiveDifference(o);
      if (!d.empty()) s.children.set(k, d);
    }
    return s;
  }

  /** The set with every node that has a member under it made a member too (the ancestors of every member). */
  withAncestors(): FieldSet {
    const s = new FieldSet();
    for (const [k, c] of this.children) {
      if (c.empty()) continue;
      const a = c.withAncestors();
      a.member = true;
      s.children.set(k, a);
    }
    s.member = this.member;
    return s;
  }

  /** Every member path, children in FieldsV1 order. */
  paths(prefix: string[] = []): string[][] {
    const out: string[][] = [];
    if (this.member) out.push(prefix);
    for (const k of sortedElements([...this.children.keys()])) out.push(...this.children.get(k)!.paths([...prefix, k]));
    return out;
  }

  /** The FieldsV1 JSON of the set (an object). */
  toFieldsV1(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (this.member && this.children.size) out['.'] = {};
    for (const k of sortedElements([...this.children.keys()])) {
      const c = this.children.get(k)!;
      if (c.empty()) continue;
      out[k] = c.toFieldsV1();
    }
    return out;
  }

  /** Reads FieldsV1 JSON; throws on anything that is not of its form. */
  static fromFieldsV1(json: unknown): FieldSet {
    const s = new FieldSet();
    readInto(s, json, 0);
    return s;
  }
}

/** FieldsV1 deeper than this is refused (no object is tracked that deep; see MAX_TRACKED_DEPTH). */
const MAX_FIELDS_DEPTH = 200;

function readInto(node: FieldSet, json: unknown, depth: number): void {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('expected an object');
  if (depth > MAX_FIELDS_DEPTH) throw new Error('fieldsV1 nested too deeply');
  const root = depth === 0;
  const entries = Object.entries(json);
  if (!root && entries.length === 0) node.member = true;
  for (const [k, v] of entries) {
    if (k === '.') { node.member = true; continue; }
    const t = k[0];
    if (k[1] !== ':' || (t !== 'f' && t !== 'k' && t !== 'v' && t !== 'i')) throw new Error(`unexpected key ${JSON.stringify(k)}: expected one of f:, k:, v:, i: or .`);
    if (k[0] === 'k' || k[0] === 'v') JSON.parse(k.slice(2));
    if (k[0] === 'i' && !/^i:\d+$/.test(k)) throw new Error(`invalid index ${JSON.stringify(k)}`);
    readInto(node.child(k), v, depth + 1);
  }
}

/** Elements in a stable order: by their text (fields, indexes, keys, values), a plain sort, fast on large maps. */
export function sortedElements(keys: string[]): string[] {
  return keys.sort();
}

/** The element of a field or map key. */
export const fieldEl = (name: string): string => `f:${name}`;
/** The element of a set's value. */
export const valueEl = (v: unknown): string => `v:${JSON.stringify(v)}`;
/** The element of a list item by index. */
export const indexEl = (i: number): string => `i:${i}`;
/** The element of an associative list's item: its key fields, sorted by name. */
export function keyEl(keys: Record<string, unknown>): string {
  const sorted = Object.keys(keys).sort();
  return `k:{${sorted.map((k) => `${JSON.stringify(k)}:${JSON.stringify(keys[k])}`).join(',')}}`;
}

/** A path as structured-merge-diff prints it: `.spec.containers[name="app"].image`, `[=value]`, `[3]`. */
export function pathString(path: readonly string[]): string {
  return path.map((el) => {
    const body = el.slice(2);
    switch (el[0]) {
      case 'f': return `.${body}`;
      case 'v': return `[=${body}]`;
      case 'i': return `[${body}]`;
      default: {
        const keys = JSON.parse(body) as Record<string, unknown>;
        return `[${Object.keys(keys).sort().map((k) => `${k}=${JSON.stringify(keys[k])}`).join(',')}]`;
      }
    }
  }).join('');
}
