import fastJsonPatch from 'fast-json-patch';
import { ApiError, errors } from '@k8ts/api';

/**
 * The limits upstream's apiserver puts on what a request may make it do, in one place:
 * request body size, decode nesting depth, YAML aliases, JSON patch operations and copies, and the size of the
 * object written to etcd.
 */

/** Largest request body (upstream's apiserver: 3 MiB). */
export const MAX_REQUEST_BODY_BYTES = 3 * 1024 * 1024;
/** Largest value etcd accepts by default (etcd's --max-request-bytes, 1.5 MiB), less room for the txn around it. */
export const MAX_OBJECT_BYTES = 1.5 * 1024 * 1024 - 4 * 1024;
/** Nesting depth of a decoded document (upstream's JSON decoder: 10,000). */
export const MAX_DEPTH = 10_000;
/** YAML aliases expanded per document (bounds alias "bombs"). */
export const MAX_YAML_ALIASES = 100;
/**
 * Nesting depth of a YAML document that is not JSON. The yaml library recurses per level (and V8 aborts the
 * process on some stack exhaustions inside it), so YAML nests far less deep than JSON before we refuse it.
 */
export const MAX_YAML_DEPTH = 200;
/** Operations in one JSON patch (upstream's maxJSONPatchOperations). */
export const MAX_JSON_PATCH_OPERATIONS = 10_000;

/** The 413 for a body over the limit, as upstream's apiserver words it. */
export function bodyTooLarge(limit = MAX_REQUEST_BODY_BYTES): ApiError {
  return errors.tooLarge(`Request entity too large: limit is ${limit}`);
}

/** The 413 for an object etcd would refuse ("etcdserver: request is too large"), as upstream passes it on. */
export function objectTooLarge(): ApiError {
  return errors.tooLarge('Request entity too large: etcdserver: request is too large');
}

/** Whether an error is etcd refusing a request over its size limit. */
export function isEtcdTooLarge(err: unknown): boolean {
  return err instanceof Error && /request is too large|message larger than max|ResourceExhausted|RESOURCE_EXHAUSTED/i.test(err.message);
}

/**
 * The nesting depth of a decoded value, measured without recursion, stopping as soon as it exceeds `max`
 * (so a hostile document costs at most what was already parsed).
 */
export function depthExceeds(value: unknown, max = MAX_DEPTH): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (d > max) return true;
    const children = Array.isArray(v) ? v : Object.values(v);
    for (const c of children) if (typeof c === 'object' && c !== null) stack.push([c, d + 1]);
  }
  return false;
}

/** 400 when a decoded document nests deeper than upstream's decoder allows. */
export function checkDepth(value: unknown): void {
  if (depthExceeds(value)) throw errors.badRequest(`the body of the request was in an unknown format: json: exceeded max depth of ${MAX_DEPTH}`);
}

/**
 * The nesting a YAML text would decode to, from a scan of its lines (indentation and `- ` levels) and flow
 * brackets outside quotes, stopping once it exceeds `max`: run before the YAML parser ever sees the text.
 */
export function yamlDepthExceeds(text: string, max = MAX_YAML_DEPTH): boolean {
  const indents: number[] = [];
  let flow = 0;
  for (const line of text.split('\n')) {
    let i = 0;
    while (line[i] === ' ') i++;
    if (flow === 0 && i < line.length && line[i] !== '#') {
      let indent = i;
      while (indents.length && indents[indents.length - 1] >= indent) indents.pop();
      indents.push(indent);
      while (line[i] === '-' && line[i + 1] === ' ') { i += 2; indent = i; indents.push(indent); while (line[i] === ' ') i++; }
    }
    let quote = '';
    for (; i < line.length; i++) {
      const c = line[i];
      if (quote) { if (c === quote) quote = ''; else if (c === '\\' && quote === '"') i++; continue; }
      if (c === '"' || c === "'") quote = c;
      else if (c === '#' && (i === 0 || line[i - 1] === ' ')) break;
      else if (c === '[' || c === '{') { if (++flow + indents.length > max) return true; }
      else if (c === ']' || c === '}') flow = Math.max(0, flow - 1);
    }
    if (indents.length + flow > max) return true;
  }
  return false;
}

/** 413 when an object encodes larger than etcd accepts. */
export function checkObjectSize(encoded: Buffer | string): void {
  const size = typeof encoded === 'string' ? Buffer.byteLength(encoded) : encoded.length;
  if (size > MAX_OBJECT_BYTES) throw objectTooLarge();
}

/**
 * Applies a JSON patch (RFC 6902) op by op with upstream's bounds: at most 10,000 operations (413), paths that
 * are real JSON pointers below the root (no "" target, no `__proto__`), and copies that cannot grow the document
 * past what etcd would store (422, as upstream's json-patch AccumulatedCopySizeLimit).
 */
export function applyJsonPatch<T>(doc: T, patch: unknown): T {
  if (!Array.isArray(patch)) throw errors.badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  if (patch.length > MAX_JSON_PATCH_OPERATIONS) {
    throw errors.tooLarge(`The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${patch.length}`);
  }
  const invalid = (msg: string) => new ApiError(422, 'Invalid', msg);
  let copied = 0;
  let current: unknown = doc;
  for (const raw of patch) {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw errors.badRequest('json: cannot unmarshal into Go value of type jsonpatch.Operation');
    const op = raw as { op?: unknown; path?: unknown; from?: unknown; value?: unknown };
    if (typeof op.op !== 'string') throw invalid('Unexpected kind: unknown');
    for (const p of [op.path, ...(op.op === 'move' || op.op === 'copy' ? [op.from] : [])]) {
      if (typeof p !== 'string') throw invalid(`${op.op} operation does not apply: doc is missing path: ${String(p)}`);
      if (p === '' && op.op !== 'test') throw invalid(`${op.op} operation does not apply: doc is missing path: ""`);
      if (p !== '' && !p.startsWith('/')) throw invalid(`${op.op} operation does not apply: doc is missing path: "${p}"`);
      if (/\/(__proto__|constructor|prototype)(\/|$)/.test(p)) throw invalid(`${op.op} operation does not apply: doc is missing path: "${p}"`);
    }
    if (op.op === 'copy') {
      const from = fastJsonPatch.getValueByPointer(current as object, op.from as string);
      copied += from === undefined ? 0 : Buffer.byteLength(JSON.stringify(from));
      if (copied > MAX_OBJECT_BYTES) {
        throw invalid(`Unable to complete the copy, the accumulated size increase of copy is ${copied}, exceeding the limit ${MAX_OBJECT_BYTES}`);
      }
    }
    try {
      // Validates the operation against the document as it goes (no per-op clone), bans prototype writes.
      current = fastJsonPatch.applyOperation(current, op as fastJsonPatch.Operation, true, true, true).newDocument;
    } catch (err) {
      throw invalid((err as Error).message.split('\n')[0]);
    }
  }
  return current as T;
}
