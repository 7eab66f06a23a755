import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors, findResource } from '@k8ts/api';
import { boolParam } from '../http.js';
import { handleMetrics, METRICS_GROUP, METRICS_VERSION } from '../metrics.js';
import { notFound, type ApiContext, type Query, type Target } from './context.js';
import { serveCrud } from './crud.js';
import { serveReview } from './reviews.js';
import { groupDiscovery } from './discovery.js';
import { metricsContext } from './proxy.js';
import { serveWatch } from './watch.js';

/**
 * Everything under `/api/` and `/apis/`: group discovery, metrics.k8s.io, watches and the resources' verbs. Watches
 * are long-running and not counted; other requests beyond `maxInflight` at once get 429 (upstream's max-in-flight).
 */
export function registerResourceRoutes(app: FastifyInstance, ctx: ApiContext, maxInflight: number): void {
  let inflight = 0;
  const metrics = metricsContext(ctx);
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const path = (req.params as { '*': string })['*'];
    const core = req.url.startsWith('/api/');
    const segs = path.split('/').filter(Boolean).map(decodeURIComponent);
    const [group, version, rest] = core ? ['', segs[0], segs.slice(1)] : [segs[0], segs[1], segs.slice(2)];
    if (!version || rest.length === 0) return groupDiscovery(req.method, core, group, version, ctx.custom.defs());
    const query = req.query as Query;
    if (!core && group === METRICS_GROUP && version === METRICS_VERSION) return handleMetrics(req.method, rest, query, metrics);
    const target = resolveTarget(ctx, group, version, rest);
    const watch = target.watch || boolParam(query.watch);
    checkVerb(target, req.method, watch);
    if (watch && req.method === 'GET' && !target.name) return serveWatch(ctx, req, reply, target, query);
    if (inflight >= maxInflight) throw errors.tooManyRequests('Too many requests, please try again later.');
    inflight++;
    try {
      if (target.def.virtual) return await serveReview(ctx, req, reply, target, query);
      return await serveCrud(ctx, req, reply, target, query);
    } finally {
      inflight--;
    }
  };
  app.all('/api/*', handler);
  app.all('/apis/*', handler);
}

/** Resolves `/namespaces/{ns}/{resource}/{name}/{sub}` or `/{resource}/{name}/{sub}` (with a legacy `watch/` prefix). */
function resolveTarget(ctx: ApiContext, group: string, version: string, rest: string[]): Target {
  // Built-in rows first (a fixed table), then the custom resources served now (one map lookup).
  const find = (resource: string) => findResource(group, version, resource) ?? ctx.custom.find(group, version, resource);
  let watch = false;
  if (rest[0] === 'watch') { watch = true; rest = rest.slice(1); }
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const def = find(rest[2]);
    if (def?.namespaced) {
      if (rest.length > 5) throw notFound();
      return { def, namespace: rest[1], name: rest[3], subresource: rest[4], watch };
    }
  }
  const def = find(rest[0]);
  if (!def || rest.length > 3) throw notFound();
  return { def, name: rest[1], subresource: rest[2], watch };
}

const METHOD_VERBS: Record<string, [string, string]> = {
  GET: ['get', 'list'], POST: ['create', 'create'], PUT: ['update', 'update'], PATCH: ['patch', 'patch'], DELETE: ['delete', 'deletecollection'],
};

/**
 * Only the verbs upstream's discovery lists for the resource are routed (405 otherwise, as upstream's router):
 * no deletecollection on namespaces, no collection writes across all namespaces of a namespaced kind, and
 * nothing but GET on the legacy `/watch/` paths.
 */
function checkVerb(t: Target, method: string, watch: boolean): void {
  const notAllowed = () => errors.methodNotAllowed('the server does not allow this method on the requested resource');
  if (t.subresource) return;
  if (t.watch && method !== 'GET') throw notAllowed();
  if (watch && method === 'GET' && t.name) return;
  const verbs = METHOD_VERBS[method];
  if (!verbs) throw notAllowed();
  const verb = verbs[t.name ? 0 : 1];
  if (!t.def.verbs.includes(verb)) throw notAllowed();
  if (!t.name && t.def.namespaced && !t.namespace && method !== 'GET') throw notAllowed();
}
