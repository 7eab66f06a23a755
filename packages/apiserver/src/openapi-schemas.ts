import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import protobuf from 'protobufjs';

/**
 * The OpenAPI schemas of the served kinds, as upstream's /openapi/v3 names and shapes them
 * (`io.k8s.api.apps.v1.Deployment`, properties wrapping references in `allOf`, `x-kubernetes-group-version-kind`
 * on kinds). No npm package carries upstream's OpenAPI spec as data, so they are built here from two that
 * carry its parts: the structure (fields, their types and formats, v1.32) from the protobuf schemas in
 * packages/apiserver/proto, and the descriptions and required fields from `kubernetes-types` (generated from
 * upstream's OpenAPI spec, v1.30: fields newer than that have no description). No strategic-merge metadata
 * (`x-kubernetes-patch-merge-key` …): kubectl reads that from /openapi/v2 only, and without it uses its own.
 */

export type Schema = Record<string, unknown>;

/** A description and the required properties of one type, from its kubernetes-types declaration. */
interface TypeDoc { description?: string; fields: Map<string, string>; required: Set<string> }

const require = createRequire(import.meta.url);
let typesDir: string | undefined;
const docsByFile = new Map<string, Map<string, TypeDoc>>();

/** The kubernetes-types file of a protobuf package: `k8s.io.api.apps.v1` → apps/v1.d.ts. */
function typesFile(pkg: string): string | undefined {
  const m = /^k8s\.io\.api\.([a-z0-9]+)\.(v[a-z0-9]+)$/.exec(pkg);
  if (m) return `${m[1]}/${m[2]}.d.ts`;
  if (pkg === 'k8s.io.apimachinery.pkg.apis.meta.v1') return 'meta/v1.d.ts';
  if (pkg === 'k8s.io.apimachinery.pkg.api.resource') return 'api/resource.d.ts';
  if (pkg === 'k8s.io.apimachinery.pkg.runtime') return 'runtime.d.ts';
  return undefined;
}

function clean(jsdoc: string): string {
  return jsdoc.split('\n').map((l) => l.replace(/^\s*\* ?/, '')).join('\n').trim();
}

/** Parses one kubernetes-types declaration file: each interface's and alias's JSDoc, its properties' and which are required. */
function typeDocs(file: string): Map<string, TypeDoc> {
  let docs = docsByFile.get(file);
  if (docs) return docs;
  docs = new Map();
  docsByFile.set(file, docs);
  typesDir ??= path.dirname(require.resolve('kubernetes-types/package.json'));
  let text: string;
  try { text = readFileSync(path.join(typesDir, file), 'utf8'); } catch { return docs; }
  const decl = /(?:\/\*\*([\s\S]*?)\*\/\s*)?export (interface|type) (\w+)[^{=]*(?:\{([\s\S]*?)\n\}|=[^;]*;)/g;
  for (const m of text.matchAll(decl)) {
    const doc: TypeDoc = { description: m[1] ? clean(m[1]) : undefined, fields: new Map(), required: new Set() };
    const prop = /(?:\/\*\*([\s\S]*?)\*\/\s*)?\n\s*(?:readonly )?(\w+)(\??):/g;
    for (const p of (m[4] ?? '').matchAll(prop)) {
      if (p[1]) doc.fields.set(p[2], clean(p[1]));
      if (!p[3]) doc.required.add(p[2]);
    }
    docs.set(m[3], doc);
  }
  return docs;
}

function typeDoc(type: protobuf.Type): TypeDoc | undefined {
  const pkg = type.fullName.slice(1, -(type.name.length + 1));
  const file = typesFile(pkg);
  return file ? typeDocs(file).get(type.name) : undefined;
}

/** Upstream's definition name of a message: `.k8s.io.api.apps.v1.Deployment` → `io.k8s.api.apps.v1.Deployment`. */
export function definitionName(type: protobuf.Type): string {
  return type.fullName.slice(1).replace(/^k8s\.io\./, 'io.k8s.');
}

/** The messages whose JSON is not an object of their fields, with the schema upstream gives them. */
const SPECIAL: Record<string, Schema> = {
  '.k8s.io.apimachinery.pkg.apis.meta.v1.Time': { type: 'string', format: 'date-time' },
  '.k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime': { type: 'string', format: 'date-time' },
  '.k8s.io.apimachinery.pkg.api.resource.Quantity': {},
  '.k8s.io.apimachinery.pkg.util.intstr.IntOrString': {
    format: 'int-or-string',
    description: 'IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.  This allows you to have, for example, a JSON field that can accept a name or number.',
  },
  '.k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1': { type: 'object' },
  '.k8s.io.apimachinery.pkg.runtime.RawExtension': { type: 'object' },
  // A user's extra values: a list of strings in JSON (Go's []string), not a message of items.
  '.k8s.io.api.authentication.v1.ExtraValue': { type: 'array', items: { type: 'string' } },
  '.k8s.io.api.authorization.v1.ExtraValue': { type: 'array', items: { type: 'string' } },
};

const SCALARS: Record<string, Schema> = {
  string: { type: 'string' }, bool: { type: 'boolean' }, int32: { type: 'integer', format: 'int32' },
  int64: { type: 'integer', format: 'int64' }, double: { type: 'number', format: 'double' }, float: { type: 'number', format: 'float' },
  bytes: { type: 'string', format: 'byte' },
};

export interface Kind { type: protobuf.Type; group: string; version: string; kind: string }

/**
 * The schemas of `kinds` and of every type they reach, for a document whose references start `refPrefix`
 * (`#/components/schemas/` in v3, `#/definitions/` in v2).
 */
export function buildDefinitions(kinds: Kind[], refPrefix: string): Record<string, Schema> {
  const out: Record<string, Schema> = {};
  const gvks = new Map<protobuf.Type, Kind[]>();
  for (const k of kinds) gvks.set(k.type, [...(gvks.get(k.type) ?? []), k]);
  const pending = [...gvks.keys()];
  const seen = new Set(pending);
  const ref = (t: protobuf.Type): string => {
    if (!seen.has(t)) { seen.add(t); pending.push(t); }
    return `${refPrefix}${definitionName(t)}`;
  };
  while (pending.length) {
    const type = pending.shift()!;
    const doc = typeDoc(type);
    const special = SPECIAL[type.fullName];
    if (special) {
      out[definitionName(type)] = { ...(doc?.description ? { description: doc.description } : {}), ...special };
      continue;
    }
    const schema: Schema = {};
    if (doc?.description) schema.description = doc.description;
    const properties: Record<string, Schema> = {};
    const required: string[] = [];
    const kindsOf = gvks.get(type);
    if (kindsOf) {
      for (const f of ['apiVersion', 'kind']) properties[f] = { ...(doc?.fields.get(f) ? { description: doc.fields.get(f) } : {}), type: 'string' };
    }
    addFields(type, doc, properties, required, ref);
    schema.type = 'object';
    if (required.length) schema.required = required;
    schema.properties = Object.fromEntries(Object.entries(properties).sort(([a], [b]) => a.localeCompare(b)));
    if (kindsOf) schema['x-kubernetes-group-version-kind'] = kindsOf.map((k) => ({ group: k.group, kind: k.kind, version: k.version }));
    out[definitionName(type)] = schema;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

function addFields(type: protobuf.Type, doc: TypeDoc | undefined, properties: Record<string, Schema>, required: string[],
  ref: (t: protobuf.Type) => string): void {
  for (const field of type.fieldsArray) {
    const t = field.resolvedType;
    if (field.options?.['(k8ts.inline)'] === true && t instanceof protobuf.Type) {
      addFields(t, typeDoc(t), properties, required, ref);
      continue;
    }
    const description = doc?.fields.get(field.name);
    const value = (): Schema => (t instanceof protobuf.Type ? { $ref: ref(t) } : { ...SCALARS[field.type] });
    // As upstream: a struct is referenced through allOf with a default, a special type (Quantity, Time …) directly.
    const wrap = (v: Schema): Schema => {
      if (!v.$ref) return { ...v, ...(v.type === 'string' ? { default: '' } : {}) };
      return t instanceof protobuf.Type && SPECIAL[t.fullName] ? v : { allOf: [v], default: {} };
    };
    let schema: Schema;
    if (field.map) schema = { type: 'object', additionalProperties: wrap(value()) };
    else if (field.repeated) schema = { type: 'array', items: wrap(value()) };
    else if (t instanceof protobuf.Type) schema = SPECIAL[t.fullName] ? value() : { allOf: [value()], default: {} };
    else schema = value();
    if (description) schema = { description, ...schema };
    properties[field.name] = schema;
    if (doc?.required.has(field.name)) required.push(field.name);
  }
}
