/** How one list field merges: by a merge key, as a set of primitives, or replaced whole (atomic). Also retainKeys for unions. */
export interface FieldMeta { strategy: 'merge' | 'replace' | 'retainKeys' | 'merge,retainKeys'; mergeKey?: string; }

/** Patch metadata for a kind: a function from a field path (array of keys; list items are represented by the segment '[]') to its FieldMeta, or undefined (= atomic list / plain map). */
export type PatchMeta = (path: readonly string[]) => FieldMeta | undefined;

/** Field patterns relative to some struct: `containers[].env` is the env list of any item of containers. */
export type PatchTable = Record<string, FieldMeta>;

/** A list merged by the value of one key of its items (`patchMergeKey`). */
export const byKey = (mergeKey: string): FieldMeta => ({ strategy: 'merge', mergeKey });
/** A list of primitives merged as a set. */
export const SET: FieldMeta = { strategy: 'merge' };
/** Listed so a table documents upstream's choice; any field not listed is atomic too. */
export const ATOMIC: FieldMeta = { strategy: 'replace' };
/** Conditions and addresses: merged by `type`. */
export const BY_TYPE = byKey('type');

/** Re-roots a table under a prefix (`spec.template`). */
export function under(prefix: string, table: PatchTable): PatchTable {
  return Object.fromEntries(Object.entries(table).map(([path, meta]) => [`${prefix}.${path}`, meta]));
}

/** The struct tags (patchStrategy/patchMergeKey) of ObjectMeta, which every kind has at `metadata`. */
export const OBJECT_META: PatchTable = { ownerReferences: byKey('uid'), finalizers: SET };

// Path segments joined with NUL, which no real field name contains, so keys with dots (`a.b`) cannot collide.
const keyOf = (path: readonly string[]) => path.join('\0');

/** Compiles a kind's table (plus ObjectMeta's) into a lookup by field path. */
export function compilePatchMeta(table: PatchTable): PatchMeta {
  const all = { ...table, ...under('metadata', OBJECT_META) };
  const index = new Map(Object.entries(all).map(([p, meta]) => [keyOf(p.replaceAll('[]', '.[]').split('.')), meta]));
  return (path) => index.get(keyOf(path));
}
