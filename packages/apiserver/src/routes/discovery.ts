import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  aggregatedDiscovery, AGGREGATED_CONTENT_TYPE, apiGroupDoc, apiGroupList, apiResourceList, apiVersions, wantsAggregated,
} from '../discovery.js';
import { OpenApi } from '../openapi.js';
import type { CustomResources } from '../apiextensions/crd-controller.js';
import type { ResourceDef } from '@k8ts/api';
import type { Storage } from '../storage.js';
import { notFound } from './context.js';

const VERSION = {
  major: '1', minor: '32', gitVersion: 'v1.32.4-k8ts', gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean', buildDate: '2026-11-24T00:00:00Z', goVersion: 'go1.23.8', compiler: 'gc', platform: 'linux/amd64',
};

/** `/version`, the health endpoints, `/api`, `/apis` (legacy and aggregated discovery), `/openapi/v2` and `/openapi/v3`. */
export function registerDiscoveryRoutes(app: FastifyInstance, storage: Storage, custom: CustomResources): void {
  const openapi = new OpenApi(custom);
  app.get('/version', async () => VERSION);
  for (const p of ['/healthz', '/livez']) app.get(p, async (_req, reply) => reply.type('text/plain').send('ok'));
  // As upstream's /readyz: one named check per line with ?verbose, 500 "readyz check failed" when one fails.
  app.get('/readyz', async (req, reply) => {
    const etcdOk = await Promise.race([
      storage.revision().then(() => true, () => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 800).unref()),
    ]);
    const checks: [string, boolean][] = [['ping', true], ['log', true], ['etcd', etcdOk], ['etcd-readiness', etcdOk], ['informer-sync', true]];
    const verbose = (req.query as Record<string, string | undefined>).verbose !== undefined;
    const failed = checks.some(([, ok]) => !ok);
    const lines = checks.map(([name, ok]) => ok ? `[+]${name} ok` : `[-]${name} failed: reason withheld`);
    void reply.code(failed ? 500 : 200).type('text/plain; charset=utf-8');
    if (failed) return reply.send(`${lines.join('\n')}\nreadyz check failed\n`);
    return reply.send(verbose ? `${lines.join('\n')}\nreadyz check passed\n` : 'ok');
  });
  // The protobuf form goes as application/octet-stream: kubectl's client refuses the Accept value it asked with
  // as a Content-Type (Go's mime parser: "unexpected content after media subtype").
  app.get('/openapi/v2', async (_req, reply) => reply.type('application/octet-stream').send(openapi.v2()));
  app.get('/openapi/v3', async () => openapi.index());
  app.get('/openapi/v3/*', async (req, reply) => {
    const doc = openapi.document((req.params as { '*': string })['*']);
    if (!doc) throw notFound();
    return reply.type('application/json').send(doc);
  });
  const discovery = (core: boolean) => async (req: FastifyRequest, reply: FastifyReply) => {
    if (wantsAggregated(req.headers.accept)) {
      return reply.header('content-type', AGGREGATED_CONTENT_TYPE).send(Buffer.from(JSON.stringify(aggregatedDiscovery(core, custom.defs()))));
    }
    return core ? apiVersions() : apiGroupList(custom.defs());
  };
  app.get('/api', discovery(true));
  app.get('/apis', discovery(false));
}

/**
 * The discovery document of `/apis/{group}` or `/api/v1`, `/apis/{group}/{version}`, when `rest` is empty and the
 * path names no resource; 404 for an unknown group or version and for other verbs than GET.
 */
export function groupDiscovery(method: string, core: boolean, group: string, version: string | undefined, custom: readonly ResourceDef[] = []): unknown {
  const doc = method !== 'GET' ? undefined : version ? apiResourceList(group, version, custom) : !core && group ? apiGroupDoc(group, custom) : undefined;
  if (!doc) throw notFound();
  return doc;
}
