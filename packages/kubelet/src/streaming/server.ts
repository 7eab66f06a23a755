import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { createWebSocketStream, WebSocketServer, type WebSocket } from 'ws';
import { ApiError, errors, silentLogger, type Logger, type Pod } from '@k8ts/api';
import { containerKind, instancesOf } from '../pod-status.js';
import type { ContainerRuntime, StreamOptions, StreamingRuntime } from '../runtime.js';
import { PORTFORWARD_PROTOCOL, PORTFORWARD_WEBSOCKET_PROTOCOL, servePortForward } from './portforward.js';
import { runRemoteCommand, spdyStreams, SPDY_PROTOCOLS, WEBSOCKET_PROTOCOLS, websocketStreams, type ClientStreams } from './remotecommand.js';

export interface StreamingServerDeps {
  runtime: ContainerRuntime;
  streaming: StreamingRuntime;
  /** The pod this node runs under `namespace/name`. */
  pod(key: string): Pod | undefined;
  log?: Logger;
}

const bool = (v: string | null) => v === 'true' || v === '1';

/** Client-offered values of a header that may repeat or hold a comma-separated list. */
function offered(req: IncomingMessage, name: string): string[] {
  const raw = req.headers[name];
  return (Array.isArray(raw) ? raw.join(',') : raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

/**
 * A failure of the runtime's GetExec/GetAttach, which upstream's kubelet answers as streaming.WriteError does: the
 * message as plain text with a 500 (kubectl then says `unable to upgrade connection: <message>`).
 */
export class StreamingError extends Error {}

/** An HTTP answer with a metav1.Status (or a StreamingError's text) on a connection never upgraded, then its end. */
export function writeStatusResponse(socket: Duplex, err: unknown): void {
  if (err instanceof StreamingError) {
    socket.end(`HTTP/1.1 500 ${STATUS_CODES[500]}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(err.message)}\r\nConnection: close\r\n\r\n${err.message}`);
    return;
  }
  const e = err instanceof ApiError ? err : errors.badRequest((err as Error).message);
  const body = JSON.stringify(e.toStatus());
  socket.end(`HTTP/1.1 ${e.code} ${STATUS_CODES[e.code] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/**
 * The kubelet's streaming endpoints as upstream's server.go routes them: `/exec/{ns}/{pod}/{container}`,
 * `/attach/{ns}/{pod}/{container}` (query: command…, stdin, stdout, stderr, tty) and `/portForward/{ns}/{pod}`,
 * each as an upgrade to a WebSocket (v5/v4.channel.k8s.io; SPDY/3.1+portforward.k8s.io tunnelling SPDY) or to
 * SPDY/3.1 (X-Stream-Protocol-Version v4.channel.k8s.io or portforward.k8s.io). Returns a function that ends every
 * session still open (the server's close).
 */
export function serveStreaming(server: Server, deps: StreamingServerDeps): () => void {
  const log = deps.log ?? silentLogger;
  const sockets = new Set<Duplex>();
  const remote = new WebSocketServer({ noServer: true, perMessageDeflate: false, handleProtocols: (p) => WEBSOCKET_PROTOCOLS.find((x) => p.has(x)) ?? false });
  // `SPDY/3.1+portforward.k8s.io` is not an RFC 6455 token ('/' is a separator), so ws would refuse the header:
  // it is taken off the request once checked, and the answer names it again.
  const tunnel = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  tunnel.on('headers', (headers) => headers.push(`Sec-WebSocket-Protocol: ${PORTFORWARD_WEBSOCKET_PROTOCOL}`));

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    handle(req, socket, head).catch((err: unknown) => {
      log.debug({ url: req.url, err: (err as Error).message }, 'streaming request refused');
      if (socket.writable) writeStatusResponse(socket, err);
    });
  });

  async function handle(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://kubelet');
    const segs = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const [kind, namespace, name, container] = segs;
    const websocket = (req.headers.upgrade ?? '').toLowerCase() === 'websocket';
    const spdy = !websocket && /spdy\/3\.1/i.test(req.headers.upgrade ?? '');
    if (!websocket && !spdy) throw errors.badRequest('Upgrade request required');
    const pod = namespace && name ? deps.pod(`${namespace}/${name}`) : undefined;
    if ((kind === 'exec' || kind === 'attach') && segs.length === 4) {
      if (!pod) throw new ApiError(404, 'NotFound', 'pod does not exist');
      const q = url.searchParams;
      const tty = bool(q.get('tty'));
      const opts: StreamOptions = { stdin: bool(q.get('input') ?? q.get('stdin')), stdout: bool(q.get('output') ?? q.get('stdout')), stderr: bool(q.get('error') ?? q.get('stderr')) && !tty, tty };
      if (!opts.stdin && !opts.stdout && !opts.stderr) throw errors.badRequest('you must specify at least 1 of stdin, stdout, stderr');
      const command = q.getAll('command');
      if (kind === 'exec' && !command.length) throw errors.badRequest('you must specify at least one command for the container');
      const target = await runningContainer(pod, container!, kind);
      const start = () => (kind === 'exec' ? deps.streaming.execStream(target, command, opts) : deps.streaming.attachStream(target, opts));
      const client = await upgradeRemoteCommand(req, socket, head, websocket, opts);
      await runRemoteCommand(client, start, command);
      return;
    }
    if (kind === 'portForward' && segs.length === 3) {
      if (!pod) throw new ApiError(404, 'NotFound', 'pod does not exist');
      const sandbox = (await deps.runtime.listContainers(pod.metadata!.uid!)).find((c) => c.sandbox && c.state === 'running');
      if (!sandbox) throw errors.badRequest(`pod ${name} is not running: it has no running sandbox`);
      const conn = websocket ? createWebSocketStream(await upgradeWebSocket(tunnel, req, socket, head, [PORTFORWARD_WEBSOCKET_PROTOCOL]))
        : upgradeSpdy(socket, head, offered(req, 'x-stream-protocol-version'), [PORTFORWARD_PROTOCOL]);
      conn.on('error', () => undefined);
      servePortForward(conn, { name: name!, uid: pod.metadata!.uid! }, (port) => deps.streaming.dialPod(sandbox.id, port));
      return;
    }
    throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  }

  /**
   * The id of the container's running instance; otherwise upstream's kubelet's GetExec answer (`container not
   * found ("c")`) or GetAttach's (`container c not found in pod name_namespace`).
   */
  async function runningContainer(pod: Pod, container: string, kind: string): Promise<string> {
    const notFound = () => new StreamingError(kind === 'attach' ? `container ${container} not found in pod ${pod.metadata!.name}_${pod.metadata!.namespace}`
      : `container not found (${JSON.stringify(container)})`);
    // Ephemeral containers too: `kubectl debug -it` attaches to its new one.
    const listed = containerKind(pod, container);
    if (!listed) throw notFound();
    const latest = instancesOf(await deps.runtime.listContainers(pod.metadata!.uid!), container, listed === 'init', listed === 'ephemeral')[0];
    if (!latest || latest.state !== 'running') throw notFound();
    return latest.id;
  }

  async function upgradeRemoteCommand(req: IncomingMessage, socket: Duplex, head: Buffer, websocket: boolean, opts: StreamOptions): Promise<ClientStreams> {
    if (websocket) return websocketStreams(await upgradeWebSocket(remote, req, socket, head, WEBSOCKET_PROTOCOLS), opts);
    return spdyStreams(upgradeSpdy(socket, head, offered(req, 'x-stream-protocol-version'), SPDY_PROTOCOLS), opts);
  }

  return () => {
    for (const s of sockets) s.destroy();
    remote.close();
    tunnel.close();
  };
}

/** Completes a WebSocket handshake once a subprotocol we serve is offered (400 otherwise, before any upgrade). */
function upgradeWebSocket(wss: WebSocketServer, req: IncomingMessage, socket: Duplex, head: Buffer, protocols: readonly string[]): Promise<WebSocket> {
  const asked = offered(req, 'sec-websocket-protocol');
  if (!asked.some((p) => protocols.includes(p))) {
    throw errors.badRequest(`unable to upgrade: no supported subprotocol among ${JSON.stringify(asked)}; supported: ${protocols.join(', ')}`);
  }
  if (protocols.includes(PORTFORWARD_WEBSOCKET_PROTOCOL)) delete req.headers['sec-websocket-protocol'];
  return new Promise((resolve) => wss.handleUpgrade(req, socket, head, resolve));
}

/** Answers a SPDY/3.1 upgrade with the first protocol version the client offers that we serve. */
function upgradeSpdy(socket: Duplex, head: Buffer, asked: string[], served: readonly string[]): Duplex {
  const chosen = asked.find((p) => served.includes(p));
  if (!chosen) throw errors.badRequest(`unable to upgrade: unable to negotiate protocol: client supports ${JSON.stringify(asked)}, server supports ${JSON.stringify(served)}`);
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${chosen}\r\n\r\n`);
  if (head.length) socket.unshift(head);
  return socket;
}
