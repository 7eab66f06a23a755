import { IncomingMessage, ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { findResource, RESOURCES, silentLogger, storedResources, type Logger, type ResourceDef } from '@k8ts/api';
import { CustomResources } from './apiextensions/crd-controller.js';
import { AdmissionChain } from './admission/chain.js';
import { DefaultStorageClass } from './admission/default-storage-class.js';
import { DefaultTolerationSeconds } from './admission/default-toleration-seconds.js';
import { NamespaceLifecycle } from './admission/namespace-lifecycle.js';
import { DefaultIngressClass } from './admission/default-ingress-class.js';
import { PriorityAdmission } from './admission/priority.js';
import { ServiceAllocator } from './admission/service-allocation.js';
import { POST_START_HOOKS } from './bootstrap.js';
import { schemas } from './protobuf/decode.js';
import { KubernetesServiceReconciler } from './kubernetes-service.js';
import { MAX_REQUEST_BODY_BYTES } from './limits.js';
import { conversionFor, strategyFor } from './registry/index.js';
import { ResourceStore } from './rest-store.js';
import { TokenSigner } from './rest/token-request.js';
import type { ApiContext } from './routes/context.js';
import { registerDiscoveryRoutes } from './routes/discovery.js';
import { UPGRADE_HEAD } from './routes/proxy.js';
import { registerResourceRoutes } from './routes/resources.js';
import { installStatusErrors, statusServerOptions } from './status-errors.js';
import { connectEtcd, Storage } from './storage.js';
import { WatchCache } from './watch-cache.js';

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
  /** The IP the `kubernetes` Endpoints point at (upstream's --advertise-address); default: the listening address. */
  advertiseAddress?: string;
  /** tolerationSeconds of the not-ready:NoExecute toleration added to pods (--default-not-ready-toleration-seconds, 300). */
  defaultNotReadyTolerationSeconds?: number;
  /** tolerationSeconds of the unreachable:NoExecute toleration added to pods (--default-unreachable-toleration-seconds, 300). */
  defaultUnreachableTolerationSeconds?: number;
  /** PEM private key that signs service-account tokens (--service-account-signing-key-file); default: one made at start. */
  serviceAccountSigningKeyFile?: string;
}

/**
 * A declined upgrade request as an ordinary one with its body: node:http ended the original at its headers, so a
 * copy gets the Content-Length bytes from `head` and then from the socket.
 */
function withBody(req: IncomingMessage, socket: Socket, head: Buffer): IncomingMessage {
  const copy = new IncomingMessage(socket);
  Object.assign(copy, {
    method: req.method, url: req.url, headers: req.headers, rawHeaders: req.rawHeaders, httpVersion: req.httpVersion,
    httpVersionMajor: req.httpVersionMajor, httpVersionMinor: req.httpVersionMinor,
  });
  let left = Number(req.headers['content-length'] ?? 0) || 0;
  const feed = (chunk: Buffer) => {
    const part = chunk.subarray(0, left);
    left -= part.length;
    if (part.length) copy.push(part);
    if (left === 0) { socket.off('data', feed); copy.complete = true; copy.push(null); }
  };
  if (left === 0) { copy.complete = true; copy.push(null); return copy; }
  feed(head);
  if (left > 0) socket.on('data', feed);
  return copy;
}

/** The API server as a fastify instance (not listening). Close it to stop watches, caches and etcd. */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  // The protobuf schemas (bodies, field validation, OpenAPI) load before the first request rather than during it.
  schemas();
  const log = opts.log ?? silentLogger;
  const storage = new Storage(connectEtcd(opts.etcdServers), log);

  // Admission, as upstream's default plugin order: lifecycle first, then the plugins that fill fields in.
  const lifecycle = new NamespaceLifecycle();
  const priority = new PriorityAdmission();
  const services = new ServiceAllocator();
  const tolerations = new DefaultTolerationSeconds({
    notReadySeconds: opts.defaultNotReadyTolerationSeconds, unreachableSeconds: opts.defaultUnreachableTolerationSeconds,
  });
  const storageClasses = new DefaultStorageClass();
  const ingressClass = new DefaultIngressClass();
  const admission = new AdmissionChain([lifecycle, priority, tolerations, storageClasses, ingressClass, services]);

  const caches = new Map<ResourceDef, WatchCache>();
  const stores = new Map<ResourceDef, ResourceStore>();
  for (const def of storedResources()) {
    const cache = new WatchCache(def, storage, log, opts.watchCacheSize);
    caches.set(def, cache);
    stores.set(def, new ResourceStore(strategyFor(def), storage, cache, log, admission));
  }
  // Further versions of a stored kind share its cache and strategy, converting on the way in and out.
  for (const def of RESOURCES.filter((r) => r.storageVersion !== undefined)) {
    const stored = findResource(def.storageGroup ?? def.group, def.storageVersion!, def.resource)!;
    caches.set(def, caches.get(stored)!);
    stores.set(def, new ResourceStore(strategyFor(stored), storage, caches.get(stored)!, log, admission, conversionFor(def)));
  }
  const started = new Set(caches.values());
  const of = (group: string, version: string, resource: string) => findResource(group, version, resource)!;
  await Promise.all([...started].map((c) => c.start()));
  lifecycle.attach(stores.get(of('', 'v1', 'namespaces'))!);
  priority.attach(stores.get(of('scheduling.k8s.io', 'v1', 'priorityclasses'))!);
  services.attach(caches.get(of('', 'v1', 'services'))!);
  ingressClass.attach(stores.get(of('networking.k8s.io', 'v1', 'ingressclasses'))!);
  storageClasses.attach(stores.get(of('storage.k8s.io', 'v1', 'storageclasses'))!);
  // The `kubernetes` Service and its endpoints (upstream's bootstrap-controller post-start hook).
  const kubernetesService = new KubernetesServiceReconciler(log);
  for (const hook of [...POST_START_HOOKS, kubernetesService]) {
    await hook.run(stores);
    log.debug({ hook: hook.name }, 'post-start hook done');
  }
  // CustomResourceDefinitions: served from this apiserver's own watch of them (upstream's apiextensions-apiserver).
  const crdDef = of('apiextensions.k8s.io', 'v1', 'customresourcedefinitions');
  const custom = new CustomResources({
    storage, log, admission, crds: stores.get(crdDef)!, crdCache: caches.get(crdDef)!, stores, caches, watchCacheSize: opts.watchCacheSize,
  });
  await custom.start();
  const stopCompaction = storage.startCompaction(opts.compactionIntervalMs ?? 5 * 60_000, (revision) => {
    for (const c of started) c.compacted(revision);
    custom.compacted(revision);
  });

  const app = Fastify({
    // Our own pino logger reports failures (setErrorHandler); fastify's per-request logging stays off.
    logger: false, bodyLimit: opts.bodyLimit ?? MAX_REQUEST_BODY_BYTES, return503OnClosing: true, forceCloseConnections: true,
    ...statusServerOptions(log),
  });
  app.server.once('listening', () => {
    const addr = app.server.address();
    if (!addr || typeof addr !== 'object') return;
    const unspecified = addr.address === '0.0.0.0' || addr.address === '::';
    kubernetesService.setEndpoint({ ip: opts.advertiseAddress ?? (unspecified ? '127.0.0.1' : addr.address), port: addr.port });
  });
  // Upgrade requests (exec, attach, portforward) go through the same routes: node:http hands them over detached
  // from its parser, with a response bound to the socket so that a refusal is an ordinary Status answer.
  app.server.on('upgrade', (upgrade: IncomingMessage, socket: Socket, head: Buffer) => {
    let req = upgrade;
    if (/^(websocket|spdy\/3\.1)$/i.test(upgrade.headers.upgrade ?? '')) {
      (req as unknown as Record<symbol, Buffer>)[UPGRADE_HEAD] = head;
    } else {
      // Another upgrade (curl --http2 asks for h2c) is declined, as HTTP allows: the request is served as it is.
      req = withBody(upgrade, socket, head);
    }
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket);
    res.once('finish', () => { res.detachSocket(socket); socket.destroySoon(); });
    socket.on('error', () => socket.destroy());
    app.server.emit('request', req, res);
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  installStatusErrors(app, log);

  const ctx: ApiContext = {
    stores, caches, custom, log, bookmarkMs: opts.bookmarkIntervalMs ?? 60_000, watchers: new Set(),
    tokenSigner: new TokenSigner(opts.serviceAccountSigningKeyFile ? readFileSync(opts.serviceAccountSigningKeyFile, 'utf8') : undefined),
  };
  registerDiscoveryRoutes(app, storage, custom);
  registerResourceRoutes(app, ctx, opts.maxRequestsInflight ?? 600);

  // Watches are long-lived: end them before the server waits for its connections to finish.
  app.addHook('preClose', async () => { for (const close of [...ctx.watchers]) close(); });
  app.addHook('onClose', async () => {
    stopCompaction();
    kubernetesService.stop();
    services.stop();
    await custom.stop();
    await Promise.all([...started].map((c) => c.stop()));
    storage.close();
  });
  return app;
}
