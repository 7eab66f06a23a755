import YAML from 'yaml';
import { errors, type ApiError } from '@k8ts/api';
import { checkDepth, MAX_YAML_ALIASES, MAX_YAML_DEPTH, yamlDepthExceeds } from './limits.js';
import { decodeProtobuf, PROTOBUF_MEDIA_TYPE } from './protobuf/decode.js';
import type { PatchType } from './rest-store.js';

/** The media type of a Content-Type header, lower-cased, without parameters; '' when absent. */
export function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0].trim().toLowerCase();
}

const PATCH_TYPES: Record<string, PatchType> = {
  'application/merge-patch+json': 'merge',
  'application/json-patch+json': 'json',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};

/** The patch type a PATCH's Content-Type names; 415 for anything else. */
export function patchType(contentType: string | undefined): PatchType {
  const t = PATCH_TYPES[mediaType(contentType)];
  if (!t) {
    throw errors.unsupportedMediaType(`the body of the request was in an unknown format - accepted media types include: ${Object.keys(PATCH_TYPES).join(', ')}`);
  }
  return t;
}

/** The first bytes of a body for an error message, as upstream's summarizeData: JSON as text, anything else as hex. */
export function summarizeBody(text: string, max = 30): string {
  if (!text) return '<empty>';
  const data = Buffer.from(text);
  if (data[0] === 0x7b) return data.length > max ? `${data.subarray(0, max).toString()} ...` : text;
  return data.length > max ? `${data.subarray(0, max).toString('hex')} ...` : data.toString('hex');
}

/** Upstream's 400 for a body that is not an object of the expected kind (transformDecodeError). */
export function unrecognized(kind: string, why: string, text: string): ApiError {
  return errors.badRequest(`the object provided is unrecognized (must be of type ${kind}): ${why} (${summarizeBody(text)})`);
}

/** Whether a Content-Type is JSON (or missing, which is JSON as upstream reads it). */
export function isJsonBody(contentType: string | undefined): boolean {
  const type = mediaType(contentType);
  return type === '' || type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/**
 * Decodes a request body by its Content-Type: JSON (also when the header is missing, as upstream), YAML,
 * the patch types, and protobuf (protobuf/decode.ts: 415 for a kind it has no schema for). Anything else gets 415;
 * malformed documents 400.
 */
export function decodeBody(body: Buffer | undefined, contentType: string | undefined, kind?: string): unknown {
  const type = mediaType(contentType);
  if (!body || body.length === 0) return undefined;
  const text = body.toString('utf8');
  if (isJsonBody(contentType)) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      if (kind) throw unrecognized(kind, `couldn't get version/kind; json parse error: ${(err as Error).message}`, text);
      throw errors.badRequest(`the body of the request was in an unknown format: invalid JSON: ${(err as Error).message}`);
    }
    checkDepth(value);
    return value;
  }
  if (type === 'application/yaml' || type === 'application/apply-patch+yaml' || type === 'application/x-yaml' || type === 'text/yaml') {
    // JSON is YAML: parse it as JSON first (kubectl sends apply patches so), with JSON's depth limit.
    const trimmed = text.trimStart();
    if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
      let json: unknown;
      try { json = JSON.parse(text); } catch { json = undefined; }
      if (json !== undefined) { checkDepth(json); return json; }
    }
    if (yamlDepthExceeds(text)) throw errors.badRequest(`the body of the request was in an unknown format: yaml: exceeded max depth of ${MAX_YAML_DEPTH}`);
    const docs = YAML.parseAllDocuments(text, { prettyErrors: false });
    const list = Array.isArray(docs) ? docs : [docs];
    const bad = list.flatMap((d) => d.errors);
    if (bad.length) {
      const why = bad[0].message.split('\n')[0];
      if (kind) throw unrecognized(kind, `couldn't get version/kind; yaml parse error: ${why}`, text);
      throw errors.badRequest(`the body of the request was in an unknown format: invalid YAML: ${why}`);
    }
    if (list.length !== 1) throw errors.badRequest('the body of the request was in an unknown format: expected exactly one YAML document');
    let value: unknown;
    try {
      // Aliases are bounded (an alias "bomb" expands exponentially); unresolved or cyclic ones are errors.
      value = list[0].toJS({ maxAliasCount: MAX_YAML_ALIASES });
    } catch (err) {
      throw errors.badRequest(`the body of the request was in an unknown format: invalid YAML: ${(err as Error).message.split('\n')[0]}`);
    }
    checkDepth(value);
    return value;
  }
  if (type === PROTOBUF_MEDIA_TYPE) {
    const value = decodeProtobuf(body, kind);
    checkDepth(value);
    return value;
  }
  throw errors.unsupportedMediaType(`the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, ${PROTOBUF_MEDIA_TYPE} (got ${type})`);
}

/** What the client asked for in Accept: a Table, YAML, or JSON (the default). */
export function wantedFormat(accept: string | undefined): 'table' | 'yaml' | 'json' {
  if (!accept) return 'json';
  const first = accept.split(',')[0];
  if (/as=Table/.test(first) && /g=meta\.k8s\.io/.test(first)) return 'table';
  if (mediaType(first) === 'application/yaml') return 'yaml';
  return 'json';
}

/** Parses an integer query parameter; 400 when it is not one. */
export function intParam(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^-?\d+$/.test(value)) throw errors.badRequest(`invalid value for ${name}: ${JSON.stringify(value)} is not an integer`);
  return Number(value);
}

/** Parses a resourceVersion parameter; 400 for garbage. */
export function rvParam(value: string | undefined): number | undefined {
  if (value === undefined || value === '' || value === '0') return undefined;
  if (!/^\d+$/.test(value)) throw errors.badRequest(`invalid resource version: ${JSON.stringify(value)}`);
  return Number(value);
}

/**
 * A boolean query parameter (`watch`, `allowWatchBookmarks`, `sendInitialEvents`, a log's `follow`, …) as
 * upstream's parameter codec reads it (apimachinery's Convert_Slice_string_To_bool): absent is false; "0"
 * and "false" in any case are false; any other value, the empty string included, is true. So the Python
 * client's `watch=True` watches. Repeated parameters count by their first value, as url.Values.Get.
 */
export function boolParam(value: string | string[] | undefined): boolean {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return false;
  return v !== '0' && v.toLowerCase() !== 'false';
}
