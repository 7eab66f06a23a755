import { connect } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { request as undiciRequest, type Dispatcher } from 'undici';
import { ApiError, errors, findResource, SCHEDULER_DEBUG_URL_ANNOTATION } from '@k8ts/api';
import { boolParam } from '../http.js';
import type { MetricsContext } from '../metrics.js';
import type { ApiContext, Query } from './context.js';

/*
 * What the apiserver proxies to the kubelets: container logs (pods/{name}/log) and, for metrics.k8s.io, the
 * pods and nodes the kubelets' /stats/summary answers are matched with.
 */

/** Whether any of the pod's containers, init containers or ephemeral containers has the name (upstream's podHasContainerWithName). */
function hasContainer(pod: any, container: string): boolean {
  return ['containers', 'initContainers', 'ephemeralContainers'].some((list) => (pod.spec?.[list] ?? []).some((c: { name: string }) => c.name === container));
}

const store = (ctx: ApiContext, resource: 'pods' | 'nodes') => ctx.stores.get(findResource('', 'v1', resource)!)!;

/** pods/{name}/log: finds the pod's node and streams the kubelet's /containerLogs answer through. */
export async function proxyLog(ctx: ApiContext, req: FastifyRequest, reply: FastifyReply, namespace: string, name: string, query: Query): Promise<unknown> {
  const pod = await store(ctx, 'pods').get(namespace, name) as any;
  const names: string[] = (pod.spec?.containers ?? []).map((c: { name: string }) => c.name);
  let container = query.container;
  if (!container) {
    if (names.length !== 1) throw errors.badRequest(`a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]`);
    container = names[0];
  }
  if (!hasContainer(pod, container)) throw errors.badRequest(`container ${container} is not valid for pod ${name}`);
  const { ip, port } = await kubeletAddress(ctx, pod, name);
  const params = new URLSearchParams();
  for (const k of ['follow', 'timestamps', 'previous']) if (query[k] !== undefined) params.set(k, String(boolParam(query[k])));
  for (const k of ['tailLines', 'sinceSeconds', 'sinceTime', 'limitBytes']) if (query[k] !== undefined) params.set(k, query[k]!);
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

/**
 * pods/{name}/scheduling (k8ts's own, "scheduling explained"): the pod's last scheduling cycle, node by node, as the
 * leading scheduler keeps it. The leader is the holder of the kube-system/kube-scheduler Lease; the Lease's
 * annotation says where it listens. The answer is relayed as it comes (JSON, or the scheduler's 404 Status).
 */
export async function proxyScheduling(ctx: ApiContext, reply: FastifyReply, namespace: string, name: string): Promise<unknown> {
  await store(ctx, 'pods').get(namespace, name); // 404 for a pod that does not exist
  const leases = ctx.stores.get(findResource('coordination.k8s.io', 'v1', 'leases')!)!;
  let lease: any;
  try {
    lease = await leases.get('kube-system', 'kube-scheduler');
  } catch (err) {
    if (err instanceof ApiError && err.code === 404) throw errors.unavailable('no scheduler leads: there is no kube-system/kube-scheduler Lease');
    throw err;
  }
  const holder = lease.spec?.holderIdentity;
  const url = lease.metadata?.annotations?.[SCHEDULER_DEBUG_URL_ANNOTATION];
  const renewed = Date.parse(lease.spec?.renewTime ?? '');
  if (!holder || Number.isNaN(renewed) || renewed + (lease.spec?.leaseDurationSeconds ?? 15) * 1000 < Date.now()) {
    throw errors.unavailable('no scheduler leads: the kube-system/kube-scheduler Lease is free or expired');
  }
  if (typeof url !== 'string' || !/^https?:\/\/[^/]+$/.test(url)) {
    throw errors.unavailable(`the leading scheduler (${holder}) does not publish where it serves /debug/scheduling (no ${SCHEDULER_DEBUG_URL_ANNOTATION} annotation on its Lease)`);
  }
  let res: Dispatcher.ResponseData;
  try {
    res = await undiciRequest(`${url}/debug/scheduling/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`, { headersTimeout: 5_000, bodyTimeout: 5_000 });
  } catch (err) {
    throw errors.unavailable(`the leading scheduler (${holder}) at ${url} did not answer: ${(err as Error).message}`, err);
  }
  const text = await res.body.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw errors.unavailable(`the leading scheduler (${holder}) at ${url} answered ${res.statusCode} without JSON`);
  }
  if (res.statusCode >= 300) throw ApiError.fromStatus(body, res.statusCode);
  return reply.code(200).header('content-type', 'application/json').send(text);
}

/** The address of the kubelet running `pod`: its node's InternalIP and daemonEndpoints.kubeletEndpoint port. */
async function kubeletAddress(ctx: ApiContext, pod: any, name: string): Promise<{ ip: string; port: number }> {
  if (!pod.spec?.nodeName) throw errors.badRequest(`pod ${name} does not have a host assigned`);
  const node = await store(ctx, 'nodes').get(undefined, pod.spec.nodeName) as any;
  const ip = node.status?.addresses?.find((a: { type: string }) => a.type === 'InternalIP')?.address;
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 10250;
  if (!ip) throw errors.unavailable(`node ${pod.spec.nodeName} has no InternalIP: its kubelet cannot be reached`);
  return { ip, port };
}

/** The upgrade request's bytes past its headers (app.ts keeps them on the request). */
export const UPGRADE_HEAD = Symbol('upgradeHead');

/**
 * pods/{name}/exec, attach and portforward (upstream's connect subresources with the UpgradeAwareHandler): checks
 * the pod and container as upstream's ExecLocation/AttachLocation/PortForwardLocation do, then forwards the upgrade
 * request to the kubelet's `/exec/{ns}/{pod}/{container}`, `/attach/…` or `/portForward/{ns}/{pod}` and splices the
 * two connections: whatever the kubelet answers — 101 and the stream, or an error Status — goes back as it is.
 */
export async function proxyStream(ctx: ApiContext, req: FastifyRequest, reply: FastifyReply, namespace: string, name: string,
  sub: 'exec' | 'attach' | 'portforward', query: Query): Promise<unknown> {
  if (!req.headers.upgrade) throw errors.badRequest('Upgrade request required');
  const pod = await store(ctx, 'pods').get(namespace, name) as any;
  const params = new URLSearchParams(req.raw.url?.split('?')[1] ?? '');
  let kubeletPath = `/portForward/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
  if (sub !== 'portforward') {
    const names: string[] = (pod.spec?.containers ?? []).map((c: { name: string }) => c.name);
    const initNames: string[] = (pod.spec?.initContainers ?? []).map((c: { name: string }) => c.name);
    let container = typeof query.container === 'string' ? query.container : '';
    if (!container) {
      if (names.length !== 1) {
        throw errors.badRequest(`a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]`
          + (initNames.length ? ` or one of the init containers: [${initNames.join(' ')}]` : ''));
      }
      container = names[0];
    } else if (!hasContainer(pod, container)) {
      throw errors.badRequest(`container ${container} is not valid for pod ${name}`);
    }
    if (sub === 'exec' && !params.getAll('command').length) throw errors.badRequest('you must specify at least one command for the container');
    params.delete('container');
    kubeletPath = `/${sub}/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/${encodeURIComponent(container)}`;
  }
  const { ip, port } = await kubeletAddress(ctx, pod, name);
  const upstream = connect({ host: ip, port });
  await new Promise<void>((resolve, reject) => {
    upstream.once('connect', resolve);
    upstream.once('error', (err) => reject(errors.unavailable(`error dialing backend: the kubelet of node ${pod.spec.nodeName} at ${ip}:${port} did not answer: ${err.message}`, err)));
  });
  upstream.setNoDelay(true);
  reply.hijack();
  const socket = req.raw.socket;
  socket.setNoDelay(true);
  const raw = req.raw.rawHeaders;
  let head = `${req.method} ${kubeletPath}${params.size ? `?${params}` : ''} HTTP/1.1\r\nHost: ${ip}:${port}\r\n`;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].toLowerCase() === 'host') continue;
    head += `${raw[i]}: ${raw[i + 1]}\r\n`;
  }
  upstream.write(`${head}\r\n`);
  const early = (req.raw as unknown as Record<symbol, Buffer | undefined>)[UPGRADE_HEAD];
  if (early?.length) upstream.write(early);
  upstream.on('error', () => socket.destroy());
  socket.on('error', () => upstream.destroy());
  // Ended with the watches when the server closes (an open stream would otherwise hold its close up).
  const end = () => { socket.destroy(); upstream.destroy(); };
  ctx.watchers.add(end);
  upstream.on('close', () => { ctx.watchers.delete(end); socket.destroy(); });
  socket.on('close', () => { ctx.watchers.delete(end); upstream.destroy(); });
  socket.pipe(upstream);
  upstream.pipe(socket);
  return undefined;
}

/** What metrics.k8s.io reads: pods and nodes from the watch caches (resourceVersion 0), as metrics-server's informers. */
export function metricsContext(ctx: ApiContext): MetricsContext {
  return {
    list: async (resource, namespace, selectors) => (await store(ctx, resource).list(namespace, { ...selectors, resourceVersion: '0' })).items,
    get: (resource, namespace, name) => store(ctx, resource).get(namespace, name),
    log: ctx.log,
  };
}
