import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors, type KubeObject, type ResourceDef } from '@k8ts/api';
import { isDryRun, type OptionsKind } from '../dry-run.js';
import { fieldValidationParam, jsonKeys, warningHeaders, type FieldCheck } from '../field-validation.js';
import { decodeBody, isJsonBody, patchType } from '../http.js';
import { managerFromUserAgent } from '../managed-fields/index.js';
import { CUSTOM_INFO, CUSTOM_SMP_REFUSED } from '../apiextensions/custom-resource.js';
import { serveSubresource } from './subresources.js';
import { deleteOptions, listQuery, respond, respondList, type ApiContext, type Query, type Target } from './context.js';

/** Collection and object verbs: list, create, deletecollection; get, update, patch, delete; subresources. */
export async function serveCrud(ctx: ApiContext, req: FastifyRequest, reply: FastifyReply, t: Target, query: Query): Promise<unknown> {
  const store = ctx.stores.get(t.def)!;
  // ?dryRun= is validated as the verb's options kind; a DELETE's DeleteOptions body may also ask for it (rest-store).
  const optionsKind = OPTIONS_KIND[req.method];
  const dryRun = optionsKind ? isDryRun(optionsKind, query.dryRun) : false;
  const body = () => decodeBody(req.body as Buffer | undefined, req.headers['content-type'],
    !t.subresource && (req.method === 'POST' || req.method === 'PUT') ? t.def.kind : undefined);
  // A custom resource's deprecated version says so on every answer (upstream's deprecationWarning).
  const custom = CUSTOM_INFO.get(t.def);
  const deprecation = custom?.warning ? [custom.warning] : [];
  if (deprecation.length) reply.header('Warning', warningHeaders(deprecation));
  const send = (obj: KubeObject, code = 200) => {
    if (fields?.warnings.length) reply.header('Warning', warningHeaders([...deprecation, ...fields.warnings]));
    return respond(req, reply, t.def, obj, code, query);
  };
  if (optionsKind && optionsKind !== 'DeleteOptions') checkFieldManager(query.fieldManager, optionsKind);
  // The manager of the write's managedFields entry: ?fieldManager, else the User-Agent up to its first '/'.
  const manager = query.fieldManager || managerFromUserAgent(req.headers['user-agent']);
  // Field validation of what the client wrote: the main resource and its status (subresources have their own kinds).
  let fields: FieldCheck | undefined;
  const checkFields = (patch: boolean, jsonPatch = false): FieldCheck => {
    fields = {
      directive: fieldValidationParam(query.fieldValidation, optionsKind!),
      keys: isJsonBody(req.headers['content-type']) ? jsonKeys((req.body as Buffer | undefined)?.toString('utf8') ?? '') : [],
      patch, jsonPatch, warnings: [],
    };
    return fields;
  };
  if (!t.name) {
    switch (req.method) {
      case 'GET': {
        const list = await store.list(t.namespace, listQuery(query));
        return respondList(req, reply, store, list.items, { resourceVersion: String(list.revision), continue: list.continue }, query);
      }
      case 'POST':
        if (custom?.terminating) throw errors.methodNotAllowed('create not allowed while custom resource definition is terminating');
        return send(await store.create(t.namespace, body(), { dryRun, manager, fields: checkFields(false) }), 201);
      case 'DELETE': {
        const list = await store.deleteCollection(t.namespace, listQuery(query), deleteOptions(body(), query), { dryRun });
        return respondList(req, reply, store, list.items, { resourceVersion: String(list.revision) }, query);
      }
      default: throw errors.methodNotAllowed(`the server does not allow this method on the requested resource`);
    }
  }
  const name = t.name;
  if (t.subresource) return serveSubresource(ctx, req, reply, t, name, query, body, dryRun, manager);
  switch (req.method) {
    case 'GET': return send(await store.get(t.namespace, name));
    case 'PUT': return send(await store.update(t.namespace, name, body(), { dryRun, manager, fields: checkFields(false) }));
    case 'PATCH': {
      const type = patchType(req.headers['content-type']);
      if (custom && type === 'strategic') throw CUSTOM_SMP_REFUSED();
      const patch = body();
      const force = checkForce(query.force, type === 'apply');
      if (type === 'apply') checkApply(t.def, patch, query.fieldManager);
      // Server-side apply reports its fields differently upstream (structured-merge-diff): not checked here yet.
      const { object, created } = await store.patch(t.namespace, name, type, patch ?? {}, { dryRun, manager, force, fields: type === 'apply' ? undefined : checkFields(true, type === 'json') });
      return send(object, created ? 201 : 200);
    }
    case 'DELETE': {
      const { object } = await store.delete(t.namespace, name, deleteOptions(body(), query), { dryRun });
      return send(object, 200);
    }
    default: throw errors.methodNotAllowed(`the server does not allow this method on the requested resource`);
  }
}

/** The options kind of a verb's query parameters, as upstream names it in a 422 for a bad dryRun. */
const OPTIONS_KIND: Record<string, OptionsKind | undefined> = { POST: 'CreateOptions', PUT: 'UpdateOptions', PATCH: 'PatchOptions', DELETE: 'DeleteOptions' };

const FIELD_MANAGER_MAX = 128;

/** CreateOptions/UpdateOptions/PatchOptions validation of fieldManager, as upstream (422 on the options kind). */
function checkFieldManager(fieldManager: string | undefined, kind: OptionsKind, apply = false): void {
  if (fieldManager === undefined || fieldManager === '') {
    if (apply) throw errors.invalid(kind, 'meta.k8s.io', '', [{ field: 'fieldManager', type: 'FieldValueRequired', message: 'is required for apply patch' }]);
    return;
  }
  if (Buffer.byteLength(fieldManager) > FIELD_MANAGER_MAX) {
    throw errors.invalid(kind, 'meta.k8s.io', '', [{ field: 'fieldManager', type: 'FieldValueTooLong', message: `may not be more than ${FIELD_MANAGER_MAX} bytes` }]);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(fieldManager)) {
    throw errors.invalid(kind, 'meta.k8s.io', '', [{ field: 'fieldManager', type: 'FieldValueInvalid', value: fieldManager, message: 'must only contain printable characters' }]);
  }
}

const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** PatchOptions.force: a boolean, for apply patches only (upstream's ValidatePatchOptions). */
export function checkForce(force: string | undefined, apply: boolean): boolean {
  if (force === undefined) return false;
  // Go's strconv.ParseBool, as upstream's query decoding (the Python client sends `True`).
  const value = TRUE.has(force) ? true : FALSE.has(force) ? false : undefined;
  if (value === undefined) throw errors.badRequest(`force: invalid boolean value ${JSON.stringify(force)}`);
  if (!apply) throw errors.invalid('PatchOptions', 'meta.k8s.io', '', [{ field: 'force', type: 'FieldValueForbidden', message: 'may not be specified for non-apply patch' }]);
  return value;
}

/** An apply patch needs a fieldManager and a body of the resource's own apiVersion and kind (upstream's field manager). */
function checkApply(def: ResourceDef, body: unknown, fieldManager: string | undefined): void {
  checkFieldManager(fieldManager, 'PatchOptions', true);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw errors.badRequest('error decoding YAML: the apply patch must be an object');
  const b = body as { apiVersion?: unknown; kind?: unknown };
  const want = def.group ? `${def.group}/${def.version}` : def.version;
  if (b.apiVersion !== want) throw errors.badRequest(`Incorrect version specified in apply patch. Specified patch version: ${String(b.apiVersion ?? '')}, expected: ${want}`);
  if (b.kind !== def.kind) throw errors.badRequest(`Incorrect kind specified in apply patch. Specified patch kind: ${String(b.kind ?? '')}, expected: ${def.kind}`);
}
