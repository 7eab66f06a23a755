import Fastify, { type FastifyInstance } from 'fastify';
import { ApiError, errors, type Logger, type Pod } from '@k8ts/api';
import { containerKind, instancesOf } from './pod-status.js';
import type { ContainerRuntime, StreamingRuntime } from './runtime.js';
import { serveStreaming } from './streaming/server.js';

export interface KubeletServerDeps {
  runtime: ContainerRuntime;
  /** The pod this node runs under `namespace/name`. */
  pod(key: string): Pod | undefined;
  nodeName: string;
  /** Serves `/stats/summary` (a StatsCollector); 404 without it. */
  stats?: { summary(): Promise<unknown> };
  /** Serves exec, attach and port-forward (upgrades only); without it those paths are not served. */
  streaming?: StreamingRuntime;
  log?: Logger;
}

const int = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));

/**
 * The kubelet's HTTP API (plain HTTP here): container logs as upstream's `/containerLogs/{ns}/{pod}/{container}`
 * (follow, tailLines, timestamps, previous, sinceSeconds; Docker's multiplexed stream decoded), `/stats/summary`,
 * `/healthz`, and the streaming upgrades `/exec`, `/attach`, `/portForward` (streaming/server.ts).
 */
export function buildKubeletServer(deps: KubeletServerDeps): FastifyInstance {
  const app = Fastify({ logger: false, forceCloseConnections: true });
  app.setErrorHandler((err: unknown, _req, reply) => {
    const e = err instanceof ApiError ? err : errors.internal((err as Error).message);
    void reply.code(e.code).type('application/json').send(e.toStatus());
  });
  if (deps.streaming) {
    const stop = serveStreaming(app.server, { runtime: deps.runtime, streaming: deps.streaming, pod: deps.pod, ...(deps.log ? { log: deps.log } : {}) });
    app.addHook('preClose', async () => { stop(); deps.streaming!.close(); });
  }
  app.get('/healthz', async () => 'ok');
  app.get('/stats/summary', async () => {
    if (!deps.stats) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    return deps.stats.summary();
  });
  app.get('/containerLogs/:namespace/:pod/:container', async (req, reply) => {
    const { namespace, pod: name, container } = req.params as Record<string, string>;
    const q = req.query as Record<string, string | undefined>;
    const pod = deps.pod(`${namespace}/${name}`);
    if (!pod) throw errors.notFound('pods', '', name);
    const kind = containerKind(pod, container);
    if (!kind) throw errors.badRequest(`container ${container} is not valid for pod ${name}`);
    const instances = instancesOf(await deps.runtime.listContainers(pod.metadata!.uid!), container, kind === 'init', kind === 'ephemeral');
    const previous = q.previous === 'true';
    const target = previous ? instances[1] : instances[0];
    if (!target) {
      throw errors.badRequest(previous
        ? `previous terminated container "${container}" in pod "${name}" not found`
        : `container "${container}" in pod "${name}" is waiting to start: ContainerCreating`);
    }
    const ac = new AbortController();
    req.raw.on('close', () => ac.abort());
    let stream: Awaited<ReturnType<typeof deps.runtime.logs>>;
    try {
      stream = await deps.runtime.logs(target.id, {
        follow: q.follow === 'true' && !previous, tailLines: int(q.tailLines), timestamps: q.timestamps === 'true',
        sinceSeconds: int(q.sinceSeconds), sinceTime: q.sinceTime,
      }, ac.signal);
    } catch (err) {
      // The container went between the listing and the read (a terminating pod): upstream's kubelet answers any
      // failure to read the logs with 400 and the runtime's message.
      if (err instanceof ApiError) throw err;
      throw errors.badRequest(`failed to get the logs of container "${container}" in pod "${name}": ${(err as Error).message}`);
    }
    reply.hijack();
    reply.raw.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
    reply.raw.flushHeaders();
    stream.on('data', (chunk: Buffer) => reply.raw.write(chunk));
    stream.on('end', () => reply.raw.end());
    stream.on('error', () => reply.raw.end());
  });
  return app;
}
