import protobuf from 'protobufjs';
import { apiVersionOf, errors, type ResourceDef } from '@k8ts/api';
import { messageType } from './protobuf/decode.js';

/**
 * Server-side field validation (`?fieldValidation=Strict|Warn|Ignore`, upstream's strict decoding): fields of
 * a body that the kind's type does not have ("unknown field \"spec.replica\"") and keys a JSON object repeats
 * ("duplicate field \"spec.paused\""). Strict refuses the request (`strict decoding error: …`), Warn (the
 * default, as upstream) answers with a `Warning` header per problem, Ignore says nothing. The kinds' fields
 * are those of their protobuf schemas (packages/apiserver/proto), which list every field of the served types.
 */

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

/** What one request asked for, and what its body's raw JSON showed (duplicates, in document order). */
export interface FieldCheck {
  directive: FieldValidation;
  /** Every key of the raw body in document order, with whether it repeats a key of its object. */
  keys: KeyOccurrence[];
  /** A patch: upstream reports the patched object's unknown fields sorted, after the patch's duplicates. */
  patch: boolean;
  /** A JSON patch: duplicates are of its operations' keys, said as upstream says them (`json patch duplicate field "[1].path"`). */
  jsonPatch?: boolean;
  /** Filled in with the problems found under Warn. */
  warnings: string[];
}

export interface KeyOccurrence { path: string; duplicate: boolean }

const DIRECTIVES = ['Ignore', 'Warn', 'Strict'];

/** The fieldValidation query parameter; 422 on the options kind for anything but its three values (or none). */
export function fieldValidationParam(value: string | undefined, optionsKind: string): FieldValidation {
  if (value === undefined || value === '') return 'Warn';
  if (!DIRECTIVES.includes(value)) {
    throw errors.invalid(optionsKind, 'meta.k8s.io', '', [{
      field: 'fieldValidation', type: 'FieldValueNotSupported', value,
      message: `supported values: ${DIRECTIVES.map((d) => JSON.stringify(d)).join(', ')}`,
    }]);
  }
  return value as FieldValidation;
}

/**
 * The keys of a JSON document in order, with the duplicates marked; paths as upstream prints them
 * (`spec.template.spec.containers[0].image`). Not JSON (YAML): none.
 */
export function jsonKeys(text: string): KeyOccurrence[] {
  const out: KeyOccurrence[] = [];
  let i = 0;
  const ws = () => { while (i < text.length && ' \t\r\n'.includes(text[i])) i++; };
  const str = (): string => {
    // The closing quote is the next one not escaped (an odd run of backslashes before it escapes it).
    const start = i;
    let end = text.indexOf('"', i + 1);
    for (;;) {
      if (end < 0) throw new Error('unterminated string');
      let slashes = 0;
      while (text[end - 1 - slashes] === '\\') slashes++;
      if (slashes % 2 === 0) break;
      end = text.indexOf('"', end + 1);
    }
    i = end + 1;
    const raw = text.slice(start + 1, end);
    return raw.includes('\\') ? JSON.parse(`"${raw}"`) as string : raw;
  };
  const value = (path: string, depth: number): void => {
    if (depth > 200) throw new Error('too deep');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const seen = new Set<string>();
      for (;;) {
        ws();
        if (text[i] === '}') { i++; return; }
        if (text[i] !== '"') throw new Error('not JSON');
        const key = str();
        const p = path ? `${path}.${key}` : key;
        out.push({ path: p, duplicate: seen.has(key) });
        seen.add(key);
        ws();
        i++; // colon
        value(p, depth + 1);
        ws();
        if (text[i] === ',') i++;
      }
    } else if (c === '[') {
      i++;
      for (let n = 0; ; n++) {
        ws();
        if (text[i] === ']') { i++; return; }
        value(`${path}[${n}]`, depth + 1);
        ws();
        if (text[i] === ',') i++;
      }
    } else if (c === '"') {
      str();
    } else {
      while (i < text.length && !',}] \t\r\n'.includes(text[i])) i++;
    }
  };
  try {
    ws();
    if (text[i] !== '{' && text[i] !== '[') return [];
    value('', 0);
  } catch {
    return []; // the decode has accepted it already: anything odd here only loses the duplicate report
  }
  return out;
}

/**
 * The fields of an object its kind's type does not have, as paths; [] for a kind without a schema. With
 * `prune`, they are removed from the object, as upstream's decode into the Go type drops them.
 */
export function unknownFields(def: ResourceDef, obj: unknown, prune = false): string[] {
  const type = messageType(apiVersionOf(def), def.kind);
  if (!type) return [];
  const out: string[] = [];
  walk(type, obj, '', out, prune, true);
  return out;
}

/** Message types whose JSON form is not an object of their fields: any value is theirs to judge. */
const LEAVES = new Set([
  '.k8s.io.apimachinery.pkg.apis.meta.v1.Time', '.k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime',
  '.k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1', '.k8s.io.apimachinery.pkg.runtime.RawExtension',
  '.k8s.io.apimachinery.pkg.api.resource.Quantity', '.k8s.io.apimachinery.pkg.util.intstr.IntOrString',
]);
/** Embedded objects that carry their own TypeMeta in JSON (an Eviction's deleteOptions). */
const WITH_TYPE_META = new Set(['.k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions']);

/** The JSON fields of a message: its own, and those of its inline (embedded) messages. */
const fieldCache = new Map<protobuf.Type, Map<string, protobuf.Field>>();
function jsonFields(type: protobuf.Type): Map<string, protobuf.Field> {
  let fields = fieldCache.get(type);
  if (!fields) {
    fields = new Map();
    for (const f of type.fieldsArray) {
      if (f.options?.['(k8ts.inline)'] === true && f.resolvedType instanceof protobuf.Type) {
        for (const [k, v] of jsonFields(f.resolvedType)) fields.set(k, v);
      } else {
        fields.set(f.name, f);
      }
    }
    fieldCache.set(type, fields);
  }
  return fields;
}

function walk(type: protobuf.Type, value: unknown, path: string, out: string[], prune: boolean, top = false): void {
  if (LEAVES.has(type.fullName) || typeof value !== 'object' || value === null || Array.isArray(value)) return;
  const fields = jsonFields(type);
  for (const [key, v] of Object.entries(value)) {
    const p = path ? `${path}.${key}` : key;
    const field = fields.get(key);
    if (!field) {
      if ((top || WITH_TYPE_META.has(type.fullName)) && (key === 'apiVersion' || key === 'kind')) continue;
      out.push(p);
      if (prune) delete (value as Record<string, unknown>)[key];
      continue;
    }
    const t = field.resolvedType;
    if (!(t instanceof protobuf.Type) || field.map) continue;
    if (field.repeated) {
      if (Array.isArray(v)) v.forEach((e, n) => walk(t, e, `${p}[${n}]`, out, prune));
    } else {
      walk(t, v, p, out, prune);
    }
  }
}

/** Bounds on the Warning headers of one answer (a hostile body may have thousands of unknown fields): each is cut at 256 characters, all together at 4 KiB. */
const WARNING_MAX = 256;
const WARNINGS_TOTAL_MAX = 4096;

/** The Warning header values of a request's problems (RFC 7234 `299 - "text"`, as upstream writes them), within those bounds. */
export function warningHeaders(problems: string[]): string[] {
  const out: string[] = [];
  let total = 0;
  for (const p of problems) {
    const text = p.length > WARNING_MAX ? `${p.slice(0, WARNING_MAX - 3)}...` : p;
    total += text.length;
    if (total > WARNINGS_TOTAL_MAX) break;
    out.push(`299 - ${JSON.stringify(text)}`);
  }
  return out;
}

/**
 * The problems of a decoded body (or patched object), in upstream's order: for a body, duplicates and
 * unknown fields as they come in the document (a field both unknown and repeated is reported unknown
 * once); for a patch, the patch's duplicates, then the unknown fields sorted.
 */
export function fieldProblems(check: FieldCheck, unknown: string[]): string[] {
  const unknownSet = new Set(unknown);
  // Whether a path lies inside an unknown field: its ancestors, memoized (bodies may have very many keys).
  const memo = new Map<string, boolean>();
  const inside = (p: string): boolean => {
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    if (cut <= 0) return false;
    const parent = p.slice(0, cut);
    let v = memo.get(parent);
    if (v === undefined) { v = unknownSet.has(parent) || inside(parent); memo.set(parent, v); }
    return v;
  };
  const underUnknown = (p: string) => unknown.length > 0 && inside(p);
  const problems: string[] = [];
  const reported = new Set<string>();
  for (const k of check.keys) {
    if (!check.patch && unknownSet.has(k.path)) {
      if (!reported.has(k.path)) problems.push(`unknown field ${JSON.stringify(k.path)}`);
      reported.add(k.path);
    } else if (k.duplicate && (check.patch || !underUnknown(k.path))) {
      problems.push(`${check.jsonPatch ? 'json patch ' : ''}duplicate field ${JSON.stringify(k.path)}`);
    }
  }
  const rest = unknown.filter((u) => !reported.has(u));
  if (check.patch) rest.sort();
  for (const u of rest) problems.push(`unknown field ${JSON.stringify(u)}`);
  return problems;
}
