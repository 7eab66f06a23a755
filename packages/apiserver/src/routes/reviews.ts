import type { FastifyReply, FastifyRequest } from 'fastify';
import { apiVersionOf, errors, findResource, type KubeObject } from '@k8ts/api';
import { isDryRun } from '../dry-run.js';
import { fieldProblems, fieldValidationParam, jsonKeys, unknownFields, warningHeaders } from '../field-validation.js';
import { decodeBody, isJsonBody, unrecognized } from '../http.js';
import { createReview } from '../rest/reviews.js';
import { checkTypes } from '../type-check.js';
import { authenticateToken, type ObjectLookup } from '../rest/token-review.js';
import { bearerToken, impersonated, UNSECURED_USER, type DistinctHeaders, type UserInfo } from '../rest/user-info.js';
import { notFound, respond, type ApiContext, type Query, type Target } from './context.js';

/** The apiserver's own objects a token names (undefined when gone), for the token authenticator. */
function lookupOf(ctx: ApiContext): ObjectLookup {
  return async (resource, namespace, name) => {
    try {
      return await ctx.stores.get(findResource('', 'v1', resource)!)!.get(namespace, name);
    } catch (err) {
      if ((err as { isNotFound?: boolean }).isNotFound) return undefined;
      throw err;
    }
  };
}

/**
 * Who a request comes from, for the reviews that ask: the service account of a valid bearer token of ours, else
 * the insecure superuser (k8ts serves plain HTTP and refuses nothing); then the impersonation headers.
 */
export async function requestUser(ctx: ApiContext, req: FastifyRequest): Promise<UserInfo> {
  let caller = UNSECURED_USER;
  const token = bearerToken(req.headers.authorization);
  if (token) {
    const result = await authenticateToken(token, undefined, ctx.tokenSigner, lookupOf(ctx));
    if (result.authenticated) caller = result.user;
  }
  return impersonated(caller, req.raw.headersDistinct as DistinctHeaders);
}

/**
 * POST of a review (the resources marked `virtual`): decoded and checked as a create body, answered 201 and not
 * stored. Objects paths are not served (404); other verbs were refused 405 by the router.
 */
export async function serveReview(ctx: ApiContext, req: FastifyRequest, reply: FastifyReply, t: Target, query: Query): Promise<unknown> {
  if (t.name !== undefined || t.subresource !== undefined) throw notFound();
  if (req.method !== 'POST') throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
  isDryRun('CreateOptions', query.dryRun);
  const kind = t.def.kind;
  const want = apiVersionOf(t.def);
  const body = decodeBody(req.body as Buffer | undefined, req.headers['content-type'], kind);
  if (body === undefined) throw unrecognized(kind, "couldn't get version/kind; json parse error: unexpected end of JSON input", '');
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw unrecognized(kind, `couldn't get version/kind; json parse error: expected an object, got ${Array.isArray(body) ? 'an array' : typeof body}`, JSON.stringify(body) ?? '');
  }
  const obj = structuredClone(body) as KubeObject & { spec?: Record<string, unknown> };
  if (obj.kind !== undefined && obj.kind !== kind) {
    throw unrecognized(kind, `converting (${String(obj.apiVersion ?? '')}.${String(obj.kind)}) to (${want}.${kind}): unknown conversion`, JSON.stringify(body));
  }
  if (obj.apiVersion !== undefined && obj.apiVersion !== want) {
    throw errors.badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${want})`);
  }
  // The Go types' decode check, before validation (a wrong JSON type is a 400, as upstream's decoder says).
  const typeErrors = checkTypes(t.def, obj);
  if (typeErrors.length) throw errors.badRequest(`${kind} in version "${t.def.version}" cannot be handled as a ${kind}: ${typeErrors[0].message}`);
  // Field validation as for any create: unknown fields dropped, refused with Strict, reported with Warn.
  const directive = fieldValidationParam(query.fieldValidation, 'CreateOptions');
  const unknown = unknownFields(t.def, obj, true);
  const keys = isJsonBody(req.headers['content-type']) ? jsonKeys((req.body as Buffer).toString('utf8')) : [];
  const problems = directive === 'Ignore' ? [] : fieldProblems({ directive, keys, patch: false, jsonPatch: false, warnings: [] }, unknown);
  if (problems.length && directive === 'Strict') {
    throw errors.badRequest(`${kind} in version "${t.def.version}" cannot be handled as a ${kind}: strict decoding error: ${problems.join(', ')}`);
  }
  if (problems.length) reply.header('Warning', warningHeaders(problems));
  if (obj.metadata !== undefined && (typeof obj.metadata !== 'object' || obj.metadata === null || Array.isArray(obj.metadata))) throw errors.badRequest('metadata must be an object');
  obj.kind = kind;
  obj.apiVersion = want;
  // A namespaced review takes the path's namespace when it names none (upstream's create handler fills it in).
  if (t.def.namespaced && t.namespace) {
    if (!obj.metadata?.namespace) obj.metadata = { ...obj.metadata, namespace: t.namespace };
    else if (obj.metadata.namespace !== t.namespace) throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  const user = kind.startsWith('Self') ? await requestUser(ctx, req) : UNSECURED_USER;
  const answer = await createReview(kind, obj, {
    user, namespace: t.namespace,
    authenticate: (token, audiences) => authenticateToken(token, audiences, ctx.tokenSigner, lookupOf(ctx)),
  });
  return respond(req, reply, t.def, answer, 201, query);
}
