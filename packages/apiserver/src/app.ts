import type { ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { request as undiciRequest, type Dispatcher } from 'undici';
import YAML from 'yaml';
import {
  ApiError, errors, findResource, formatLabelSelector, labelSelectorRequirements, RESOURCES, silentLogger,
  type KubeObject, type Logger, type ResourceDef,
} from '@k8ts/api';
import {
  aggregatedDiscovery, AGGREGATED_CONTENT_TYPE, apiGroupDoc, apiGroupList, apiResourceList, apiVersions, wantsAggregated,
} from './discovery.js';
import { decodeBody, intParam, patchType, rvParam, wantedFormat } from './http.js';
import { handleMetrics, METRICS_GROUP, METRICS_VERSION, type MetricsContext } from './metrics.js';
import { NamespaceLifecycle } from './namespaces.js';
import { OpenApi } from './openapi.js';
import { bootstrapSystemPriorityClasses, PriorityAdmission } from './priority.js';
import { ResourceStore, type DeleteOptions, type ListQuery } from './rest-store.js';
import { ServiceAllocator } from './services.js';
import { MAX_REQUEST_BODY_BYTES } from './limits.js';
import { installStatusErrors, statusServerOptions } from './status-errors.js';
import { connectEtcd, Storage } from './storage.js';
import { checkTypes } from './type-check.js';
import { toTable, toTableRowEvent } from './table.js';
import { WatchCache, type CacheEvent } from './watch-cache.js';

export interface AppOptions {
  /** etcd client URLs. */
  etcdServers: string[];
  log?: Logger;
  /** Largest request body accepted (upstream: 3 MiB). */
  bodyLimit?: number;
  /** Events kept per resource for watch replay. */
  watchCacheSize?: number;
  /** How often watchers that asked for bookmarks get one. */
  bookmarkIntervalMs?: number;
  /** Compact etcd history every interval (upstream's --etcd-compaction-interval); 0 disables. */
  compactionIntervalMs?: number;
  /** Non-watch requests served at once before 429 (upstream's --max-requests-inflight + mutating). */
  maxRequestsInflight?: number;
}

const VERSION = {
  major: '1', minor: '32', gitVersion: 'v1.32.4-k8ts', gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean', buildDate: '2026-11-24T00:00:00Z', goVersion: 'go1.23.8', compiler: 'gc', platform: 'linux/amd64',
};

interface Target {
  def: ResourceDef;
  namespace?: string;
  name?: string;
  subresource?: string;
  watch: boolean;
}

type Query = Record<string, string | undefined>;

/** The API server as a fastify instance (not listening). Close it to stop watches, caches and etcd. */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const log = opts.log ?? silentLogger;
  const etcd = connectEtcd(opts.etcdServers);
  const storage = new Storage(etcd, log);
  const caches = new Map<ResourceDef, WatchCache>();
  const stores = new Map<ResourceDef, ResourceStore>();
  const namespaces = new NamespaceLifecycle(log);
  const services = new ServiceAllocator();
  const priority = new PriorityAdmission();
  for (const def of RESOURCES) {
    const cache = new WatchCache(def, storage, log, opts.watchCacheSize);
    caches.set(def, cache);
    stores.set(def, new ResourceStore(def, storage, cache, log, {
      beforeCreate: async (d, obj) => {
        await namespaces.admit(d, obj);
        if (d.resource === 'services' && d.group === '') services.allocate(obj);
        await priority.admit(d, obj);
      },
    }));
  }
  const storeOf = (def: ResourceDef) => stores.get(def)!;
  await Promise.all([...caches.values()].map((c) => c.start()));
  namespaces.attach(stores);
  services.attach(caches.get(findResource('', 'v1', 'services')!)!);
  priority.attach(storeOf(findResource('scheduling.k8s.io', 'v1', 'priorityclasses')!));
  await bootstrap(stores);

  const app = Fastify({
    // Our own pino logger reports failures (setErrorHandler); fastify's per-request logging stays off.
    logger: false, bodyLimit: opts.bodyLimit ?? MAX_REQUEST_BODY_BYTES, return503OnClosing: true, forceCloseConnections: true,
    ...statusServerOptions(log),
  });
  const openapi = new OpenApi();
  const bookmarkMs = opts.bookmarkIntervalMs ?? 60_000;
  const maxInflight = opts.maxRequestsInflight ?? 600;
  let inflight = 0;
  const watchers = new Set<() => void>();

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  installStatusErrors(app, log);

  app.get('/version', async () => VERSION);
  for (const p of ['/healthz', '/livez']) app.get(p, async (_req, reply) => reply.type('text/plain').send('ok'));
  // As upstream's /readyz: one named check per line with ?verbose, 500 "readyz check failed" when one fails.
  app.get('/readyz', async (req, reply) => {
    const etcdOk = await Promise.race([
      storage.revision().then(() => true, () => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 800).unref()),
    ]);
    const checks: [string, boolean][] = [['ping', true], ['log', true], ['etcd', etcdOk], ['etcd-readiness', etcdOk], ['informer-sync', true]];
    const verbose = (req.query as Query).verbose !== undefined;
    const failed = checks.some(([, ok]) => !ok);
    const lines = checks.map(([name, ok]) => ok ? `[+]${name} ok` : `[-]${name} failed: reason withheld`);
    void reply.code(failed ? 500 : 200).type('text/plain; charset=utf-8');
    if (failed) return reply.send(`${lines.join('\n')}\nreadyz check failed\n`);
    return reply.send(verbose ? `${lines.join('\n')}\nreadyz check passed\n` : 'ok');
  });
  app.get('/openapi/v3', async () => openapi.index());
  app.get('/openapi/v3/*', async (req, reply) => {
    const doc = openapi.document((req.params as { '*': string })['*']);
    if (!doc) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    return reply.type('application/json').send(doc);
  });

  const metrics: MetricsContext = {
    // From the watch caches (resourceVersion 0), as metrics-server reads its informers.
    list: async (resource, namespace, selectors) =>
      (await storeOf(findResource('', 'v1', resource)!).list(namespace, { ...selectors, resourceVersion: '0' })).items,
    get: (resource, namespace, name) => storeOf(findResource('', 'v1', resource)!).get(namespace, name),
    log,
  };

  const discovery = (core: boolean) => async (req: FastifyRequest, reply: FastifyReply) => {
    if (wantsAggregated(req.headers.accept)) return reply.header('content-type', AGGREGATED_CONTENT_TYPE).send(Buffer.from(JSON.stringify(aggregatedDiscovery(core))));
    return core ? apiVersions() : apiGroupList();
  };
  app.get('/api', discovery(true));
  app.get('/apis', discovery(false));

  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const path = (req.params as { '*': string })['*'];
    const core = req.url.startsWith('/api/');
    const segs = path.split('/').filter(Boolean).map(decodeURIComponent);
    const [group, version, rest] = core ? ['', segs[0], segs.slice(1)] : [segs[0], segs[1], segs.slice(2)];
    if (!version) {
      const doc = !core && group ? apiGroupDoc(group) : undefined;
      if (req.method === 'GET' && doc) return doc;
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    }
    if (rest.length === 0) {
      const doc = req.method === 'GET' ? apiResourceList(group, version) : undefined;
      if (!doc) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      return doc;
    }
    if (!core && group === METRICS_GROUP && version === METRICS_VERSION) return handleMetrics(req.method, rest, req.query as Query, metrics);
    const target = resolveTarget(group, version, rest);
    const query = req.query as Query;
    const watch = target.watch || query.watch === 'true' || query.watch === '1';
    checkVerb(target, req.method, watch);
    if (watch && req.method === 'GET' && !target.name) return serveWatch(req, reply, target, query);
    if (inflight >= maxInflight) throw errors.tooManyRequests('Too many requests, please try again later.');
    inflight++;
    try {
      return await serve(req, reply, target, query);
    } finally {
      inflight--;
    }
  };
  app.all('/api/*', handler);
  app.all('/apis/*', handler);

  async function serve(req: FastifyRequest, reply: FastifyReply, t: Target, query: Query): Promise<unknown> {
    const store = storeOf(t.def);
    const dryRun = query.dryRun === 'All';
    if (query.dryRun !== undefined && query.dryRun !== 'All') throw errors.badRequest(`Invalid dry run value: ${query.dryRun}: supported values: "All"`);
    const body = () => decodeBody(req.body as Buffer | undefined, req.headers['content-type']);
    const send = (obj: KubeObject, code = 200) => respond(req, reply, t.def, obj, code, query);
    if (req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH') checkFieldManager(query.fieldManager, req.method);
    if (!t.name) {
      switch (req.method) {
        case 'GET': {
          const list = await store.list(t.namespace, listQuery(query));
          return respondList(req, reply, t.def, list.items, { resourceVersion: String(list.revision), continue: list.continue }, query);
        }
        case 'POST': {
          if (t.def.namespaced && !t.namespace) throw errors.methodNotAllowed(`the server does not allow this method on the requested resource`);
          return send(await store.create(t.namespace, body(), { dryRun }), 201);
        }
        case 'DELETE': {
          const list = await store.deleteCollection(t.namespace, listQuery(query), deleteOptions(body(), query), { dryRun });
          return respondList(req, reply, t.def, list.items, { resourceVersion: String(list.revision) }, query);
        }
        default: throw errors.methodNotAllowed(`the server does not allow this method on the requested resource`);
      }
    }
    const name = t.name;
    if (t.subresource) return serveSubresource(req, reply, t, store, name, query, body, dryRun);
    switch (req.method) {
      case 'GET': return send(await store.get(t.namespace, name));
      case 'PUT': return send(await store.update(t.namespace, name, body(), { dryRun }));
      case 'PATCH': {
        const type = patchType(req.headers['content-type']);
        if (type === 'apply') checkApply(t.def, body(), query.fieldManager);
        const { object, created } = await store.patch(t.namespace, name, type, body() ?? {}, { dryRun });
        return send(object, created ? 201 : 200);
      }
      case 'DELETE': {
        priority.checkDelete(t.def, name);
        const { object } = await store.delete(t.namespace, name, deleteOptions(body(), query), { dryRun });
        return send(object, 200);
      }
      default: throw errors.methodNotAllowed(`the server does not allow this method on the requested resource`);
    }
  }

  async function serveSubresource(req: FastifyRequest, reply: FastifyReply, t: Target, store: ResourceStore, name: string,
    query: Query, body: () => unknown, dryRun: boolean): Promise<unknown> {
    const sub = t.def.subresources.find((s) => s.name === t.subresource);
    if (!sub) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    const send = (obj: KubeObject, code = 200) => respond(req, reply, t.def, obj, code, query);
    switch (`${sub.name} ${req.method}`) {
      case 'status GET': return send(await store.get(t.namespace, name));
      case 'status PUT': {
        const obj = store.checkBody(body(), t.namespace);
        if (obj.metadata?.name !== name) throw errors.badRequest(`the name of the object (${obj.metadata?.name ?? ''}) does not match the name on the URL (${name})`);
        return send(await store.update(t.namespace, name, obj, { dryRun, subresource: 'status' }));
      }
      case 'status PATCH': {
        const type = patchType(req.headers['content-type']);
        return send((await store.patch(t.namespace, name, type === 'apply' ? 'strategic' : type, body() ?? {}, { dryRun, subresource: 'status' })).object);
      }
      case 'scale GET': return reply.send(toScale(t.def, await store.get(t.namespace, name)));
      case 'scale PUT':
      case 'scale PATCH': return reply.send(await writeScale(req, t, store, name, body(), dryRun));
      case 'binding POST': {
        await bind(store, t.namespace, name, body(), dryRun);
        return reply.code(201).send(success(201));
      }
      case 'eviction POST': {
        const eviction = decodeAs('Eviction', 'policy/v1', body()) as { deleteOptions?: DeleteOptions } | undefined;
        await store.delete(t.namespace, name, eviction?.deleteOptions ?? {}, { dryRun });
        return reply.code(201).send(success(201));
      }
      case 'log GET': return proxyLog(req, reply, t.namespace!, name, query);
      default: throw errors.methodNotAllowed(`the server does not allow this method on the requested resource`);
    }
  }

  /** pods/{name}/log: finds the pod's node and streams the kubelet's /containerLogs answer through. */
  async function proxyLog(req: FastifyRequest, reply: FastifyReply, namespace: string, name: string, query: Query): Promise<unknown> {
    const pod = await storeOf(findResource('', 'v1', 'pods')!).get(namespace, name) as any;
    const names: string[] = (pod.spec?.containers ?? []).map((c: { name: string }) => c.name);
    const initNames: string[] = (pod.spec?.initContainers ?? []).map((c: { name: string }) => c.name);
    let container = query.container;
    if (!container) {
      if (names.length !== 1) throw errors.badRequest(`a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]`);
      container = names[0];
    }
    if (!names.includes(container) && !initNames.includes(container)) throw errors.badRequest(`container ${container} is not valid for pod ${name}`);
    if (!pod.spec?.nodeName) throw errors.badRequest(`pod ${name} does not have a host assigned`);
    const node = await storeOf(findResource('', 'v1', 'nodes')!).get(undefined, pod.spec.nodeName) as any;
    const ip = node.status?.addresses?.find((a: { type: string }) => a.type === 'InternalIP')?.address;
    const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 10250;
    if (!ip) throw errors.unavailable(`node ${pod.spec.nodeName} has no InternalIP: its kubelet cannot be reached`);
    const params = new URLSearchParams();
    for (const k of ['follow', 'tailLines', 'timestamps', 'previous', 'sinceSeconds', 'sinceTime', 'limitBytes']) if (query[k] !== undefined) params.set(k, query[k]!);
    const ac = new AbortController();
    req.raw.on('close', () => ac.abort());
    let res: Dispatcher.ResponseData;
    try {
      res = await undiciRequest(`http://${ip}:${port}/containerLogs/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/${encodeURIComponent(container)}?${params}`,
        { signal: ac.signal, bodyTimeout: 0, headersTimeout: 10_000 });
    } catch (err) {
      throw errors.unavailable(`the kubelet of node ${pod.spec.nodeName} at ${ip}:${port} did not answer: ${(err as Error).message}`, err);
    }
    if (res.statusCode >= 300) {
      const text = await res.body.text();
      let body: unknown = text;
      try { body = JSON.parse(text); } catch { /* plain text */ }
      throw ApiError.fromStatus(body, res.statusCode);
    }
    reply.hijack();
    reply.raw.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
    reply.raw.flushHeaders(); // `kubectl logs -f` prints as chunks arrive
    res.body.on('data', (chunk: Buffer) => reply.raw.write(chunk));
    res.body.on('end', () => reply.raw.end());
    res.body.on('error', () => reply.raw.end());
    return undefined;
  }

  async function writeScale(req: FastifyRequest, t: Target, store: ResourceStore, name: string, body: unknown, dryRun: boolean) {
    for (let attempt = 0; ; attempt++) {
      const obj = await store.get(t.namespace, name);
      const current = toScale(t.def, obj);
      let wanted: any;
      if (req.method === 'PUT') {
        wanted = body;
        if (typeof wanted !== 'object' || wanted === null) throw errors.badRequest('the body of the request was in an unknown format: expected a Scale');
        const rv = wanted.metadata?.resourceVersion;
        if (rv && rv !== obj.metadata?.resourceVersion) throw store.conflict(name);
      } else {
        const type = patchType(req.headers['content-type']);
        wanted = store.applyPatch(current as KubeObject, type === 'json' ? 'json' : 'merge', body ?? {});
      }
      const typeErrors = typeof wanted === 'object' && wanted !== null ? checkTypes({ kind: 'Scale' }, wanted) : [];
      if (typeErrors.length) {
        if (req.method === 'PUT') throw errors.badRequest(`Scale in version "v1" cannot be handled as a Scale: ${typeErrors[0].message}`);
        throw errors.invalid('', '', '', [{ field: 'patch', type: 'FieldValueInvalid', value: JSON.stringify(body)?.slice(0, 256), message: typeErrors[0].message }]);
      }
      const replicas = wanted?.spec?.replicas;
      if (!Number.isInteger(replicas) || replicas < 0) {
        throw errors.invalid('Scale', 'autoscaling', name, [{ field: 'spec.replicas', type: 'FieldValueInvalid', value: replicas, message: 'must be greater than or equal to 0' }]);
      }
      try {
        const updated = await store.mutate(t.namespace, name, (o: any) => {
          if (o.metadata.resourceVersion !== obj.metadata?.resourceVersion) throw store.conflict(name);
          o.spec = { ...o.spec, replicas };
          return o;
        }, { dryRun });
        return toScale(t.def, updated);
      } catch (err) {
        // A PATCH computed on a state that changed underneath is simply recomputed, as upstream's GuaranteedUpdate.
        if (req.method === 'PATCH' && err instanceof ApiError && err.isConflict && attempt < 5) continue;
        throw err;
      }
    }
  }

  async function bind(store: ResourceStore, namespace: string | undefined, name: string, body: unknown, dryRun: boolean) {
    const target = (body as { target?: { name?: string; kind?: string } } | undefined)?.target;
    if (!target?.name) throw errors.invalid('Binding', '', name, [{ field: 'target.name', type: 'FieldValueRequired', message: '' }]);
    await store.mutate(namespace, name, (pod: any) => {
      if (pod.metadata.deletionTimestamp) throw store.conflict(name, `pod ${name} is being deleted, cannot be assigned to a host`);
      if (pod.spec.nodeName) throw store.conflict(name, `pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
      pod.spec.nodeName = target.name;
      const conditions = (pod.status.conditions ?? []).filter((c: { type: string }) => c.type !== 'PodScheduled');
      conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') });
      pod.status = { ...pod.status, conditions };
      return pod;
    }, { dryRun, subresource: 'internal' });
  }

  function serveWatch(req: FastifyRequest, reply: FastifyReply, t: Target, query: Query): void {
    const store = storeOf(t.def);
    const cache = caches.get(t.def)!;
    const sel = store.selector(query);
    const from = rvParam(query.resourceVersion);
    const timeoutSeconds = intParam(query.timeoutSeconds, 'timeoutSeconds') ?? 1800 + Math.floor(Math.random() * 1800);
    const table = wantedFormat(req.headers.accept) === 'table';
    const res: ServerResponse = reply.raw;
    reply.hijack();
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders(); // kubectl waits for headers before it trusts a quiet watch (kubectl-wire.md §5)
    let closed = false;
    let sent = from ?? 0;
    const write = (type: string, object: unknown) => {
      if (closed) return;
      res.write(JSON.stringify({ type, object }) + '\n');
      // A watcher that cannot keep up is dropped; it re-watches from its last resourceVersion.
      if (res.writableLength > 32 * 1024 * 1024) close();
    };
    const inScope = (o: KubeObject | undefined) => !!o && (!t.namespace || o.metadata?.namespace === t.namespace) && store.matches(sel, o);
    const deliver = (ev: CacheEvent) => {
      const now = inScope(ev.object);
      const before = ev.type === 'MODIFIED' ? inScope(ev.prev) : now;
      let type: string | undefined = ev.type;
      if (ev.type === 'MODIFIED' && now !== before) type = now ? 'ADDED' : 'DELETED';
      else if (!now && !(ev.type === 'MODIFIED' && before)) type = undefined;
      sent = Math.max(sent, ev.revision);
      if (!type) return;
      write(type, table ? toTableRowEvent(t.def, ev.object, query.includeObject) : ev.object);
    };
    // A failure on one event (a printer, a selector) ends this watch with an ERROR event, as upstream; never the process.
    const deliverSafely = (ev: CacheEvent) => {
      try {
        deliver(ev);
      } catch (err) {
        log.warn({ err, resource: t.def.resource }, 'watch event failed; ending the watch');
        write('ERROR', errors.internal(`Internal error occurred: ${(err as Error).message ?? 'watch event could not be encoded'}`).toStatus());
        queueMicrotask(close);
      }
    };
    const timers: NodeJS.Timeout[] = [];
    let sub: { close(): void } | undefined;
    const close = () => {
      if (closed) return;
      closed = true;
      sub?.close();
      for (const tm of timers) clearTimeout(tm);
      watchers.delete(close);
      res.end();
    };
    watchers.add(close);
    req.raw.on('close', close);
    res.on('error', close);
    timers.push(setTimeout(close, timeoutSeconds * 1000));
    cache.ready.then(() => {
      if (closed) return;
      try {
        sub = cache.subscribe(from, deliverSafely, close);
      } catch (err) {
        if (err instanceof ApiError) { write('ERROR', err.toStatus()); close(); return; }
        throw err;
      }
      if (query.allowWatchBookmarks === 'true') {
        const tick = () => {
          write('BOOKMARK', { kind: t.def.kind, apiVersion: store.withType({}).apiVersion, metadata: { resourceVersion: String(Math.max(sent, cache.revision)) } });
          timers.push(setTimeout(tick, bookmarkMs));
        };
        timers.push(setTimeout(tick, bookmarkMs));
      }
    }).catch((err: unknown) => {
      log.error({ err }, 'watch failed');
      close();
    });
  }

  function respond(req: FastifyRequest, reply: FastifyReply, def: ResourceDef, obj: KubeObject, code: number, query: Query) {
    reply.code(code);
    const format = wantedFormat(req.headers.accept);
    if (format === 'table') return reply.send(toTable(def, [obj], { resourceVersion: obj.metadata?.resourceVersion ?? '' }, query.includeObject));
    if (format === 'yaml') return reply.type('application/yaml').send(YAML.stringify(obj));
    return reply.type('application/json').send(obj);
  }

  function respondList(req: FastifyRequest, reply: FastifyReply, def: ResourceDef, items: KubeObject[],
    meta: { resourceVersion: string; continue?: string }, query: Query) {
    const format = wantedFormat(req.headers.accept);
    const listMeta = { resourceVersion: meta.resourceVersion, ...(meta.continue ? { continue: meta.continue } : {}) };
    if (format === 'table') return reply.send(toTable(def, items, listMeta, query.includeObject));
    const list = { kind: def.listKind, apiVersion: storeOf(def).withType({}).apiVersion, metadata: listMeta, items: items.map(stripType) };
    if (format === 'yaml') return reply.type('application/yaml').send(YAML.stringify(list));
    return reply.type('application/json').send(list);
  }

  const compactor = startCompactor(storage, [...caches.values()], opts.compactionIntervalMs ?? 5 * 60_000, log);
  // Watches are long-lived: end them before the server waits for its connections to finish.
  app.addHook('preClose', async () => { for (const close of [...watchers]) close(); });
  app.addHook('onClose', async () => {
    clearInterval(compactor);
    namespaces.stop();
    await Promise.all([...caches.values()].map((c) => c.stop()));
    etcd.close();
  });
  return app;
}

/** Resolves `/namespaces/{ns}/{resource}/{name}/{sub}` or `/{resource}/{name}/{sub}` (with a legacy `watch/` prefix). */
function resolveTarget(group: string, version: string, rest: string[]): Target {
  const notFound = () => new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  let watch = false;
  if (rest[0] === 'watch') { watch = true; rest = rest.slice(1); }
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const def = findResource(group, version, rest[2]);
    if (def?.namespaced) {
      if (rest.length > 5) throw notFound();
      return { def, namespace: rest[1], name: rest[3], subresource: rest[4], watch };
    }
  }
  const def = findResource(group, version, rest[0]);
  if (!def || rest.length > 3) throw notFound();
  return { def, name: rest[1], subresource: rest[2], watch };
}

function listQuery(q: Query): ListQuery {
  const limit = intParam(q.limit, 'limit');
  return { labelSelector: q.labelSelector, fieldSelector: q.fieldSelector, limit: limit && limit > 0 ? limit : undefined, continue: q.continue || undefined, resourceVersion: q.resourceVersion };
}

function deleteOptions(body: unknown, q: Query): DeleteOptions {
  const opts: DeleteOptions = body === undefined ? {} : { ...(decodeAs('DeleteOptions', 'meta.k8s.io/v1', body) as DeleteOptions) };
  const grace = intParam(q.gracePeriodSeconds, 'gracePeriodSeconds');
  if (grace !== undefined) opts.gracePeriodSeconds = grace;
  if (q.propagationPolicy) opts.propagationPolicy = q.propagationPolicy;
  return opts;
}

/** Decodes a body that is not a stored object (DeleteOptions, Eviction): an object whose fields have their Go types, else 400. */
function decodeAs(kind: string, apiVersion: string, body: unknown): unknown {
  if (body === undefined) return undefined;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    const got = Array.isArray(body) ? 'array' : body === null ? 'null' : typeof body === 'boolean' ? 'bool' : typeof body;
    throw errors.badRequest(`the body of the request was in an unknown format: json: cannot unmarshal ${got} into Go value of type ${apiVersion.split('/').pop()}.${kind}`);
  }
  const copy = structuredClone(body);
  const errs = checkTypes({ kind }, copy);
  if (errs.length) throw errors.badRequest(`${kind} in version "${apiVersion.split('/').pop()}" cannot be handled as a ${kind}: ${errs[0].message}`);
  return copy;
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

const FIELD_MANAGER_MAX = 128;

/** PatchOptions/CreateOptions/UpdateOptions validation of fieldManager, as upstream (422 on the options kind). */
function checkFieldManager(fieldManager: string | undefined, method: string, apply = false): void {
  const kind = method === 'POST' ? 'CreateOptions' : method === 'PUT' ? 'UpdateOptions' : 'PatchOptions';
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

/** An apply patch needs a fieldManager and a body of the resource's own apiVersion and kind (upstream's field manager). */
function checkApply(def: ResourceDef, body: unknown, fieldManager: string | undefined): void {
  checkFieldManager(fieldManager, 'PATCH', true);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw errors.badRequest('error decoding YAML: the apply patch must be an object');
  const b = body as { apiVersion?: unknown; kind?: unknown };
  const want = def.group ? `${def.group}/${def.version}` : def.version;
  if (b.apiVersion !== want) throw errors.badRequest(`Incorrect version specified in apply patch. Specified patch version: ${String(b.apiVersion ?? '')}, expected: ${want}`);
  if (b.kind !== def.kind) throw errors.badRequest(`Incorrect kind specified in apply patch. Specified patch kind: ${String(b.kind ?? '')}, expected: ${def.kind}`);
}

function stripType(obj: KubeObject): KubeObject {
  const { apiVersion: _a, kind: _k, ...rest } = obj;
  return rest as KubeObject;
}

function success(code: number) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code };
}

/** autoscaling/v1 Scale of a deployment, replicaset or statefulset. */
function toScale(def: ResourceDef, obj: any) {
  const reqs = labelSelectorRequirements(obj.spec?.selector);
  return {
    kind: 'Scale', apiVersion: 'autoscaling/v1',
    metadata: {
      name: obj.metadata.name, namespace: obj.metadata.namespace, uid: obj.metadata.uid,
      resourceVersion: obj.metadata.resourceVersion, creationTimestamp: obj.metadata.creationTimestamp,
    },
    spec: { replicas: obj.spec?.replicas ?? 0 },
    status: { replicas: obj.status?.replicas ?? 0, selector: reqs ? formatLabelSelector(reqs) : '' },
  };
}

/** Objects every cluster starts with: the four namespaces, the system priority classes and the `kubernetes` service. */
async function bootstrap(stores: Map<ResourceDef, ResourceStore>): Promise<void> {
  const ns = stores.get(findResource('', 'v1', 'namespaces')!)!;
  for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    await ns.create(undefined, { metadata: { name } }).catch((err: unknown) => {
      if (!(err instanceof ApiError && err.isAlreadyExists)) throw err;
    });
  }
  await bootstrapSystemPriorityClasses(stores.get(findResource('scheduling.k8s.io', 'v1', 'priorityclasses')!)!);
  const svc = stores.get(findResource('', 'v1', 'services')!)!;
  const exists = await svc.get('default', 'kubernetes').then(() => true, (err: unknown) => {
    if (err instanceof ApiError && err.isNotFound) return false;
    throw err;
  });
  if (exists) return;
  await svc.create('default', {
    metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { type: 'ClusterIP', clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }], sessionAffinity: 'None' },
  });
}

/** Compacts etcd to the revision seen one interval ago, as upstream's compactor, and tells the watch caches. */
function startCompactor(storage: Storage, caches: WatchCache[], intervalMs: number, log: Logger): NodeJS.Timeout {
  let previous = 0;
  const timer = setInterval(() => {
    void (async () => {
      const current = await storage.revision();
      if (previous > 0) {
        await storage.compact(previous);
        for (const c of caches) c.compacted(previous);
        log.info({ revision: previous }, 'compacted etcd');
      }
      previous = current;
    })().catch((err: unknown) => log.warn({ err }, 'compaction failed'));
  }, intervalMs || 2 ** 31 - 1);
  timer.unref();
  return timer;
}
