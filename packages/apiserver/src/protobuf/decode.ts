import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { errors } from '@k8ts/api';

/**
 * Protobuf request bodies (`application/vnd.kubernetes.protobuf`), as kubectl's generators and typed clients
 * send them: the magic `k8s\0`, then a runtime.Unknown whose typeMeta names the kind and whose raw is the
 * kind's message. They are decoded into the JSON object the same request would carry as JSON, so everything
 * after the decode (type check, defaults, validation) is the JSON path. The schemas are data
 * (packages/apiserver/proto/*.proto, loaded with protobufjs); what is not plain protobuf is upstream's
 * encoding of a few apimachinery types: Time (seconds; an empty message is the zero time, JSON null), MicroTime,
 * RawExtension (JSON bytes),
 * Quantity and IntOrString (their JSON forms are a string, and a number or a string), FieldsV1 (JSON bytes),
 * and Go's omitempty (see `(k8ts.keep)` in the schemas).
 */

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url));

/** The Go package of each group-version's messages. */
const PACKAGES: Record<string, string> = {
  v1: 'k8s.io.api.core.v1',
  'apps/v1': 'k8s.io.api.apps.v1',
  'batch/v1': 'k8s.io.api.batch.v1',
  'policy/v1': 'k8s.io.api.policy.v1',
  'scheduling.k8s.io/v1': 'k8s.io.api.scheduling.v1',
  'rbac.authorization.k8s.io/v1': 'k8s.io.api.rbac.v1',
  'networking.k8s.io/v1': 'k8s.io.api.networking.v1',
  'autoscaling/v1': 'k8s.io.api.autoscaling.v1',
  'autoscaling/v2': 'k8s.io.api.autoscaling.v2',
  'authentication.k8s.io/v1': 'k8s.io.api.authentication.v1',
  'authorization.k8s.io/v1': 'k8s.io.api.authorization.v1',
  'coordination.k8s.io/v1': 'k8s.io.api.coordination.v1',
  'discovery.k8s.io/v1': 'k8s.io.api.discovery.v1',
  'storage.k8s.io/v1': 'k8s.io.api.storage.v1',
  'events.k8s.io/v1': 'k8s.io.api.events.v1',
};
const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';
/** Kinds of meta.k8s.io/v1 that every group-version accepts (client-go sends DeleteOptions as `v1`). */
const META_KINDS = new Set(['DeleteOptions']);

let root: protobuf.Root | undefined;
/** The loaded schemas of packages/apiserver/proto (once per process). */
export function schemas(): protobuf.Root {
  if (!root) {
    const files = readdirSync(PROTO_DIR).filter((f) => f.endsWith('.proto')).map((f) => path.join(PROTO_DIR, f));
    root = new protobuf.Root();
    root.resolvePath = (_origin, target) => path.join(PROTO_DIR, path.basename(target));
    root.loadSync(files, { keepCase: true });
    root.resolveAll();
  }
  return root;
}

/** The message type of an apiVersion and kind, or undefined when k8ts has no schema for it. */
export function messageType(apiVersion: string, kind: string): protobuf.Type | undefined {
  const pkg = META_KINDS.has(kind) ? META : PACKAGES[apiVersion];
  if (!pkg || !/^[A-Z][A-Za-z0-9]*$/.test(kind)) return undefined;
  const found = schemas().lookup(`${pkg}.${kind}`);
  return found instanceof protobuf.Type ? found : undefined;
}

/** Decodes a protobuf body into the object its JSON form would be; 400 for a malformed body, 415 for a kind without a schema. */
export function decodeProtobuf(body: Buffer, expectedKind?: string): Record<string, unknown> {
  const unrecognized = (why: string) => errors.badRequest(
    expectedKind ? `the object provided is unrecognized (must be of type ${expectedKind}): ${why}` : `the body of the request was in an unknown format: ${why}`);
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw unrecognized(`provided data does not appear to be a protobuf message, expected prefix [${[...MAGIC].join(' ')}]`);
  }
  const unknownType = schemas().lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');
  let unknown: { typeMeta?: { apiVersion?: string; kind?: string }; raw?: Uint8Array; contentEncoding?: string; contentType?: string };
  try {
    unknown = unknownType.decode(body.subarray(MAGIC.length)) as typeof unknown;
  } catch (err) {
    throw unrecognized(`protobuf: ${(err as Error).message}`);
  }
  const apiVersion = unknown.typeMeta?.apiVersion ?? '';
  const kind = unknown.typeMeta?.kind ?? '';
  if (unknown.contentEncoding) throw errors.unsupportedMediaType(`the protobuf body's content encoding ${JSON.stringify(unknown.contentEncoding)} is not supported`);
  if (unknown.contentType && unknown.contentType !== PROTOBUF_MEDIA_TYPE) {
    throw errors.unsupportedMediaType(`the protobuf body's content type ${JSON.stringify(unknown.contentType)} is not supported`);
  }
  if (!kind) throw unrecognized('Object \'Kind\' is missing in the protobuf body');
  const type = messageType(apiVersion, kind);
  if (!type) {
    throw errors.unsupportedMediaType(`protobuf bodies of kind ${kind} (${apiVersion || '<no apiVersion>'}) are not supported by this server: send it as application/json`);
  }
  let message: protobuf.Message;
  try {
    message = type.decode(unknown.raw ?? new Uint8Array());
  } catch (err) {
    throw unrecognized(`protobuf: decoding ${kind}: ${(err as Error).message}`);
  }
  return { kind, apiVersion, ...toJson(type, message as unknown as Msg) };
}

type Msg = Record<string, unknown>;
const own = (m: Msg, k: string) => Object.prototype.hasOwnProperty.call(m, k);

function toJson(type: protobuf.Type, message: Msg): Msg {
  const out: Msg = {};
  for (const field of type.fieldsArray) {
    const keep = field.options?.['(k8ts.keep)'] === true;
    if (!own(message, field.name)) {
      // A list without omitempty is null in JSON when it is empty, which protobuf does not write.
      if (keep && field.repeated) out[field.name] = null;
      continue;
    }
    const value = message[field.name];
    if (field.map) {
      const entries = Object.entries(value as Msg);
      if (entries.length === 0) continue;
      out[field.name] = Object.fromEntries(entries.map(([k, v]) => [k, element(field, v)]));
    } else if (field.repeated) {
      const list = value as unknown[];
      if (list.length === 0) { if (keep) out[field.name] = null; continue; }
      out[field.name] = list.map((v) => element(field, v));
    } else if (field.options?.['(k8ts.inline)'] === true && field.resolvedType instanceof protobuf.Type) {
      Object.assign(out, toJson(field.resolvedType, value as Msg));
    } else {
      const v = element(field, value);
      if (!keep && field.resolvedType === null && (v === '' || v === 0 || v === false)) continue;
      out[field.name] = v;
    }
  }
  return out;
}

/** One value of a field (a map's value, a list's element), in its JSON form. */
function element(field: protobuf.Field, value: unknown): unknown {
  const t = field.resolvedType;
  if (t instanceof protobuf.Type) {
    const v = special(t, value as Msg);
    return v === NOT_SPECIAL ? toJson(t, value as Msg) : v;
  }
  if (field.type === 'bytes') return Buffer.from(value as Uint8Array).toString('base64');
  if (value !== null && typeof value === 'object' && 'toNumber' in value) return (value as { toNumber(): number }).toNumber();
  return value;
}

const num = (v: unknown) => (v !== null && typeof v === 'object' && 'toNumber' in v ? (v as { toNumber(): number }).toNumber() : Number(v ?? 0));

const NOT_SPECIAL = Symbol('not special');
/** Go's zero time.Time in Unix seconds. */
const GO_ZERO_TIME_SECONDS = -62135596800;

/** The apimachinery types whose JSON form is not their message's. */
function special(t: protobuf.Type, m: Msg): unknown {
  switch (t.fullName) {
    case `.${META}.Time`: {
      // An empty message is the zero time (upstream marshals it so), and so is Go's zero time written out in full
      // (0001-01-01T00:00:00Z, -62135596800 s): JSON writes the zero time as null.
      if (!own(m, 'seconds') && !own(m, 'nanos')) return null;
      if (num(m.seconds) === GO_ZERO_TIME_SECONDS && !num(m.nanos)) return null;
      return new Date(num(m.seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    }
    case `.${META}.MicroTime`: {
      if (!own(m, 'seconds') && !own(m, 'nanos')) return null;
      const micros = String(Math.floor(num(m.nanos) / 1000)).padStart(6, '0');
      return new Date(num(m.seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, `.${micros}Z`);
    }
    case '.k8s.io.apimachinery.pkg.runtime.RawExtension': {
      if (!own(m, 'raw')) return null;
      try {
        return JSON.parse(Buffer.from(m.raw as Uint8Array).toString('utf8'));
      } catch {
        throw errors.badRequest('the body of the request was in an unknown format: a RawExtension is not JSON');
      }
    }
    case '.k8s.io.apimachinery.pkg.api.resource.Quantity':
      return own(m, 'string') ? m.string : '0';
    case '.k8s.io.apimachinery.pkg.util.intstr.IntOrString':
      return num(m.type) === 1 ? (own(m, 'strVal') ? m.strVal : '') : num(m.intVal);
    // A user's extra values (authentication's and authorization's ExtraValue): a plain list of strings in JSON.
    case '.k8s.io.api.authentication.v1.ExtraValue': case '.k8s.io.api.authorization.v1.ExtraValue':
      return own(m, 'items') ? m.items : null;
    case `.${META}.FieldsV1`: {
      if (!own(m, 'Raw')) return {};
      try {
        return JSON.parse(Buffer.from(m.Raw as Uint8Array).toString('utf8'));
      } catch {
        throw errors.badRequest('the body of the request was in an unknown format: fieldsV1 is not JSON');
      }
    }
    default: return NOT_SPECIAL;
  }
}
