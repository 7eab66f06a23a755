import type { PatchMeta } from '@k8ts/api';

/**
 * The shape structured-merge-diff needs of a kind: which nodes are structs (named fields), maps (any keys), lists
 * (atomic, sets, or associative by key fields), scalars, or atomic (owned and replaced whole). Built from OpenAPI v3
 * schemas (`$ref`/`allOf`, `x-kubernetes-list-type`, `x-kubernetes-list-map-keys`, `x-kubernetes-map-type`), as
 * upstream's typed converter is, plus an optional overlay of list types (the built-in kinds' strategic-merge keys);
 * parts without a schema are deduced from the value, as upstream's deduced type: maps granular, lists atomic.
 */
export type FieldType =
  | { kind: 'scalar' }
  | { kind: 'atomic' }
  | { kind: 'deduced' }
  | { kind: 'struct'; field(name: string): FieldType | undefined; elem?: () => FieldType; required?: ReadonlySet<string> }
  | { kind: 'map'; elem(): FieldType }
  | { kind: 'list'; listType: 'atomic' | 'set' | 'map'; keys: string[]; elem(): FieldType; keyDefaults?: Record<string, unknown> };

export const SCALAR: FieldType = { kind: 'scalar' };
export const ATOMIC: FieldType = { kind: 'atomic' };
export const DEDUCED: FieldType = { kind: 'deduced' };

type Schema = Record<string, unknown>;

/** The OpenAPI schemas of one document (`components.schemas`) and the root type's name. */
export interface OpenApiSource {
  definitions: Record<string, Schema>;
  root: string | Schema;
  /** How the list at a path merges (segments, `[]` for list items), overriding the schema's list extensions. */
  listOverlay?: PatchMeta;
  /** Definitions that are atomic structs (upstream's `+structType=atomic`) when the schema does not say so. */
  atomicDefinitions?: ReadonlySet<string>;
}

/** The FieldType of an OpenAPI document's root type; the tree is built lazily and memoized per schema path. */
export function typeFromOpenApi(src: OpenApiSource): FieldType {
  const memo = new Map<string, FieldType>();
  const resolve = (s: Schema): { schema: Schema; name?: string } => {
    let name: string | undefined;
    for (let i = 0; i < 16; i++) {
      const ref = typeof s.$ref === 'string' ? s.$ref : Array.isArray(s.allOf) && s.allOf.length === 1 ? (s.allOf[0] as Schema).$ref : undefined;
      if (typeof ref !== 'string') break;
      name = ref.slice(ref.lastIndexOf('/') + 1);
      const target = src.definitions[name];
      if (!target) return { schema: {}, name };
      s = { ...target, ...(s['x-kubernetes-list-type'] ? { 'x-kubernetes-list-type': s['x-kubernetes-list-type'] } : {}),
        ...(s['x-kubernetes-map-type'] ? { 'x-kubernetes-map-type': s['x-kubernetes-map-type'] } : {}) };
    }
    return { schema: s, name };
  };
  const build = (raw: Schema, path: string[]): FieldType => {
    const key = path.join('\0');
    const cached = memo.get(key);
    if (cached) return cached;
    const { schema: s, name } = resolve(raw);
    const t = buildResolved(s, name, path);
    memo.set(key, t);
    return t;
  };
  const buildResolved = (s: Schema, name: string | undefined, path: string[]): FieldType => {
    if (s['x-kubernetes-int-or-string'] === true || s.format === 'int-or-string') return SCALAR;
    if (s['x-kubernetes-preserve-unknown-fields'] === true && !s.properties) return DEDUCED;
    const type = s.type;
    if (type === 'string' || type === 'integer' || type === 'number' || type === 'boolean') return SCALAR;
    if (type === 'array') {
      const items = (s.items ?? {}) as Schema;
      const overlay = src.listOverlay?.(path);
      let listType: 'atomic' | 'set' | 'map' = s['x-kubernetes-list-type'] === 'set' ? 'set' : s['x-kubernetes-list-type'] === 'map' ? 'map' : 'atomic';
      let keys = Array.isArray(s['x-kubernetes-list-map-keys']) ? (s['x-kubernetes-list-map-keys'] as string[]) : [];
      let keyDefaults: Record<string, unknown> | undefined;
      if (overlay && !s['x-kubernetes-list-type']) {
        if (overlay.mergeKey) {
          listType = 'map';
          // Upstream's list-map-keys of the port lists include the protocol (defaulted to TCP).
          keys = overlay.mergeKey === 'containerPort' || (overlay.mergeKey === 'port' && path[path.length - 1] === 'ports')
            ? [overlay.mergeKey, 'protocol'] : [overlay.mergeKey];
          if (keys.includes('protocol')) keyDefaults = { protocol: 'TCP' };
        } else if (overlay.strategy === 'merge') listType = 'set';
      }
      if (listType === 'map' && keys.length === 0) listType = 'atomic';
      if (listType === 'atomic') return ATOMIC;
      const itemPath = [...path, '[]'];
      let item: FieldType | undefined;
      return { kind: 'list', listType, keys, keyDefaults, elem: () => (item ??= build(items, itemPath)) };
    }
    if (type === 'object' || s.properties || s.additionalProperties) {
      const atomic = s['x-kubernetes-map-type'] === 'atomic' || (name !== undefined && src.atomicDefinitions?.has(name));
      if (atomic) return ATOMIC;
      const props = s.properties as Record<string, Schema> | undefined;
      const additional = s.additionalProperties;
      if (props && Object.keys(props).length) {
        const elem = typeof additional === 'object' && additional !== null ? () => build(additional as Schema, [...path, '*']) : undefined;
        // Resolved once per field: the walks ask for the same fields on every write.
        const fields = new Map<string, FieldType | undefined>();
        return {
          kind: 'struct',
          field: (f) => {
            let ft = fields.get(f);
            if (ft === undefined && !fields.has(f)) { ft = Object.hasOwn(props, f) ? build(props[f], [...path, f]) : undefined; fields.set(f, ft); }
            return ft;
          },
          elem,
          required: Array.isArray(s.required) ? new Set(s.required as string[]) : undefined,
        };
      }
      if (typeof additional === 'object' && additional !== null) {
        let e: FieldType | undefined;
        return { kind: 'map', elem: () => (e ??= build(additional as Schema, [...path, '*'])) };
      }
      return DEDUCED;
    }
    return DEDUCED;
  };
  return build(typeof src.root === 'string' ? { $ref: `#/components/schemas/${src.root}` } : src.root, []);
}

/** The type of a value at a node whose schema is deduced: objects are maps of deduced values, lists atomic. */
export function deducedFor(value: unknown): FieldType {
  if (Array.isArray(value)) return ATOMIC;
  if (typeof value === 'object' && value !== null) return DEDUCED_MAP;
  return SCALAR;
}

const DEDUCED_MAP: FieldType = { kind: 'map', elem: () => DEDUCED };

/** The concrete type to walk a value with: a deduced type resolved from the value itself. */
export function concrete(t: FieldType, value: unknown): FieldType {
  return t.kind === 'deduced' ? deducedFor(value) : t;
}

/** The type of a struct's or map's entry `key`, and whether it is a declared field (struct) or a map entry. */
export function entryType(t: FieldType, key: string): { type: FieldType; declared: boolean; required?: boolean } {
  if (t.kind === 'struct') {
    const f = t.field(key);
    if (f) return { type: f, declared: true, required: t.required?.has(key) };
    return { type: t.elem?.() ?? DEDUCED, declared: false };
  }
  if (t.kind === 'map') return { type: t.elem(), declared: false };
  return { type: DEDUCED, declared: false };
}
