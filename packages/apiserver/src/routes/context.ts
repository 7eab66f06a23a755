import type { FastifyReply, FastifyRequest } from 'fastify';
import YAML from 'yaml';
import { ApiError, errors, type KubeObject, type Logger, type ResourceDef } from '@k8ts/api';
import { intParam, wantedFormat } from '../http.js';
import { checkTypes } from '../type-check.js';
import type { DeleteOptions, ListQuery, ResourceStore } from '../rest-store.js';
import { toTable } from '../table.js';
import type { CustomResources } from '../apiextensions/crd-controller.js';
import type { WatchCache } from '../watch-cache.js';
import type { TokenSigner } from '../rest/token-request.js';

/** What the route modules share: the stores and caches of every resource, the logger and the open watches. */
export interface ApiContext {
  stores: ReadonlyMap<ResourceDef, ResourceStore>;
  caches: ReadonlyMap<ResourceDef, WatchCache>;
  /** The custom resources served for CRDs (their rows are in `stores` and `caches` while served). */
  custom: CustomResources;
  log: Logger;
  /** How often watchers that asked for bookmarks get one. */
  bookmarkMs: number;
  /** Close functions of the open watches, ended before the server closes. */
  watchers: Set<() => void>;
  /** Signs the tokens of serviceaccounts/{name}/token. */
  tokenSigner: TokenSigner;
}

/** The resource, namespace, name and subresource a request path names. */
export interface Target {
  def: ResourceDef;
  namespace?: string;
  name?: string;
  subresource?: string;
  watch: boolean;
}

export type Query = Record<string, string | undefined>;

export const notFound = () => new ApiError(404, 'NotFound', 'the server could not find the requested resource');

/** One object as JSON, YAML or a one-row Table, as the Accept header asks. */
export function respond(req: FastifyRequest, reply: FastifyReply, def: ResourceDef, obj: KubeObject, code: number, query: Query) {
  reply.code(code);
  const format = wantedFormat(req.headers.accept);
  if (format === 'table') return reply.send(toTable(def, [obj], { resourceVersion: obj.metadata?.resourceVersion ?? '' }, query.includeObject));
  if (format === 'yaml') return reply.type('application/yaml').send(YAML.stringify(obj));
  return reply.type('application/json').send(obj);
}

/** A list as `<Kind>List` JSON or YAML, or a Table. */
export function respondList(req: FastifyRequest, reply: FastifyReply, store: ResourceStore, items: KubeObject[],
  meta: { resourceVersion: string; continue?: string }, query: Query) {
  const format = wantedFormat(req.headers.accept);
  const listMeta = { resourceVersion: meta.resourceVersion, ...(meta.continue ? { continue: meta.continue } : {}) };
  if (format === 'table') return reply.send(toTable(store.def, items, listMeta, query.includeObject));
  const list = { kind: store.def.listKind, apiVersion: store.withType({}).apiVersion, metadata: listMeta, items: items.map(stripType) };
  if (format === 'yaml') return reply.type('application/yaml').send(YAML.stringify(list));
  return reply.type('application/json').send(list);
}

export function listQuery(q: Query): ListQuery {
  const limit = intParam(q.limit, 'limit');
  return { labelSelector: q.labelSelector, fieldSelector: q.fieldSelector, limit: limit && limit > 0 ? limit : undefined, continue: q.continue || undefined, resourceVersion: q.resourceVersion };
}

/** DeleteOptions from the body, with the query's gracePeriodSeconds and propagationPolicy winning, and its dryRun. */
export function deleteOptions(body: unknown, q: Query): DeleteOptions {
  const opts: DeleteOptions = body === undefined ? {} : { ...(decodeAs('DeleteOptions', 'meta.k8s.io/v1', body) as DeleteOptions) };
  if (q.dryRun !== undefined && !opts.dryRun?.length) opts.dryRun = ([] as string[]).concat(q.dryRun);
  const grace = intParam(q.gracePeriodSeconds, 'gracePeriodSeconds');
  if (grace !== undefined) opts.gracePeriodSeconds = grace;
  if (q.propagationPolicy) opts.propagationPolicy = q.propagationPolicy;
  // The deprecated orphanDependents, in the body or the query, as upstream.
  if (q.orphanDependents !== undefined) opts.orphanDependents = q.orphanDependents === 'true';
  if (opts.orphanDependents !== undefined && typeof opts.orphanDependents !== 'boolean') throw errors.badRequest('orphanDependents: must be a boolean');
  return opts;
}

/** Decodes a body that is not a stored object (DeleteOptions, Eviction): an object whose fields have their Go types, else 400. */
export function decodeAs(kind: string, apiVersion: string, body: unknown): unknown {
  if (body === undefined) return undefined;
  const version = apiVersion.split('/').pop();
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    const got = Array.isArray(body) ? 'array' : body === null ? 'null' : typeof body === 'boolean' ? 'bool' : typeof body;
    throw errors.badRequest(`the body of the request was in an unknown format: json: cannot unmarshal ${got} into Go value of type ${version}.${kind}`);
  }
  const copy = structuredClone(body);
  const errs = checkTypes({ kind }, copy);
  if (errs.length) throw errors.badRequest(`${kind} in version "${version}" cannot be handled as a ${kind}: ${errs[0].message}`);
  return copy;
}

function stripType(obj: KubeObject): KubeObject {
  const { apiVersion: _a, kind: _k, ...rest } = obj;
  return rest as KubeObject;
}

/** A metav1.Status Success. */
export function success(code: number) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code };
}
