import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { silentLogger, type Logger } from '@k8ts/api';
import { backendKey, type Resolution, type Upstream } from './endpoints.js';
import { matchRoute, type Backend, type RouteTable } from './routes.js';

/** What the data path reads for every request: swapped whole on a change, so a request sees one version. */
export interface ProxyConfig {
  table: RouteTable;
  resolve(backend: Backend): Resolution;
}

export interface IngressProxyOptions {
  log?: Logger;
  /** Time to connect to an endpoint before the next one is tried (ingress-nginx's proxy-connect-timeout, 5 s). */
  connectTimeoutMs?: number;
  /** Idle time on an upstream connection before the request fails with 504 (proxy-read-timeout, 60 s). */
  readTimeoutMs?: number;
}

const EMPTY: ProxyConfig = {
  table: { hosts: new Map(), wildcards: new Map(), anyHost: [], tls: [], ingresses: [] },
  resolve: () => ({ error: 'no configuration yet' }),
};

/** Hop-by-hop headers (RFC 9110 §7.6.1) a proxy must not forward. */
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
/** Methods nginx's proxy_next_upstream retries after the request was sent (idempotent). */
const RETRYABLE = new Set(['GET', 'HEAD', 'OPTIONS']);

function page(status: number, title: string, detail: string): string {
  return `<html>\n<head><title>${status} ${title}</title></head>\n<body>\n<center><h1>${status} ${title}</h1></center>\n<hr><center>k8ts-ingress: ${detail.replace(/[<>&]/g, '')}</center>\n</body>\n</html>\n`;
}

/** Headers to send upstream: the client's minus hop-by-hop ones (and those `Connection` names), plus X-Forwarded-*. */
function upstreamHeaders(req: IncomingMessage, scheme: string, keepUpgrade: boolean): Record<string, string | string[]> {
  const named = new Set(String(req.headers.connection ?? '').toLowerCase().split(',').map((s) => s.trim()).filter(Boolean));
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers as IncomingHttpHeaders)) {
    if (v === undefined || (HOP.has(k) && !(keepUpgrade && k === 'upgrade')) || (named.has(k) && !(keepUpgrade && k === 'upgrade'))) continue;
    out[k] = v;
  }
  const remote = req.socket.remoteAddress ?? '';
  out['x-real-ip'] = remote;
  out['x-forwarded-for'] = remote;
  out['x-forwarded-host'] = req.headers.host ?? '';
  out['x-forwarded-port'] = String(req.socket.localPort ?? '');
  out['x-forwarded-proto'] = scheme;
  if (keepUpgrade) out.connection = 'upgrade';
  return out;
}

/** Response headers from upstream as a raw [k, v, …] list, hop-by-hop ones left out. */
function downstreamHeaders(res: IncomingMessage): string[] {
  const named = new Set(String(res.headers.connection ?? '').toLowerCase().split(',').map((s) => s.trim()).filter(Boolean));
  const out: string[] = [];
  for (let i = 0; i < res.rawHeaders.length; i += 2) {
    const k = res.rawHeaders[i]!.toLowerCase();
    if (HOP.has(k) || named.has(k)) continue;
    out.push(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
  }
  return out;
}

/**
 * The ingress data path: host and path → backend → ready endpoints, round-robin, straight to the pod over pooled
 * keep-alive connections; the next endpoint when one cannot be reached (for GET/HEAD/OPTIONS also when it fails
 * before answering, as nginx's default `proxy_next_upstream error timeout`); bodies streamed both ways; WebSocket
 * and other upgrades tunnelled. 404 when no rule matches, 503 when the backend has no ready endpoint, 502/504 when
 * the endpoints fail.
 */
export class IngressProxy {
  readonly agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64, scheduling: 'lifo', timeout: 60_000 });
  private config: ProxyConfig = EMPTY;
  private readonly next = new Map<string, number>();
  private readonly log: Logger;
  private readonly connectTimeoutMs: number;
  private readonly readTimeoutMs: number;
  /** Responses by status code (what /metrics reports). */
  readonly requests = new Map<number, number>();

  constructor(opts: IngressProxyOptions = {}) {
    this.log = opts.log ?? silentLogger;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 5_000;
    this.readTimeoutMs = opts.readTimeoutMs ?? 60_000;
  }

  /** Applies a new configuration: requests in flight finish on the endpoints they have. */
  setConfig(config: ProxyConfig): void {
    this.config = config;
  }

  /** The endpoints in the order to try them: round-robin per backend. */
  private order(backend: Backend, upstreams: Upstream[]): Upstream[] {
    const key = backendKey(backend);
    const start = (this.next.get(key) ?? 0) % upstreams.length;
    this.next.set(key, start + 1);
    return [...upstreams.slice(start), ...upstreams.slice(0, start)];
  }

  private count(status: number): void {
    this.requests.set(status, (this.requests.get(status) ?? 0) + 1);
  }

  private reply(res: ServerResponse, status: number, title: string, detail: string): void {
    this.count(status);
    if (res.headersSent) { res.destroy(); return; }
    res.writeHead(status, { 'content-type': 'text/html', 'cache-control': 'no-store' }).end(page(status, title, detail));
  }

  /** Routes one request (the `request` handler of the HTTP and HTTPS servers). */
  handle(req: IncomingMessage, res: ServerResponse, scheme: 'http' | 'https'): void {
    const cfg = this.config;
    const path = (req.url ?? '/').split('?')[0]!;
    const match = matchRoute(cfg.table, req.headers.host, path);
    if (!match) { req.resume(); this.reply(res, 404, 'Not Found', 'no Ingress rule matches this host and path'); return; }
    const r = cfg.resolve(match.backend);
    if ('error' in r) { req.resume(); this.reply(res, 503, 'Service Temporarily Unavailable', r.error); return; }
    this.forward(req, res, scheme, this.order(match.backend, r.upstreams), 0);
  }

  private forward(req: IncomingMessage, res: ServerResponse, scheme: string, upstreams: Upstream[], i: number): void {
    const u = upstreams[i]!;
    let connected = false;
    let bodyBytes = 0;
    let settled = false;
    const up = http.request({
      host: u.ip, port: u.port, method: req.method, path: req.url, headers: upstreamHeaders(req, scheme, false), agent: this.agent,
    });
    const connectTimer = setTimeout(() => up.destroy(Object.assign(new Error(`connect to ${u.ip}:${u.port} timed out`), { code: 'ETIMEDOUT' })), this.connectTimeoutMs);
    const onBody = (d: Buffer) => { bodyBytes += d.length; };
    const onConnect = () => {
      clearTimeout(connectTimer);
      connected = true;
      up.setTimeout(this.readTimeoutMs, () => up.destroy(Object.assign(new Error(`${u.ip}:${u.port} answered nothing for ${this.readTimeoutMs} ms`), { code: 'EREADTIMEOUT' })));
      // A retry of a request whose (empty) body was read already: nothing more will come.
      if (req.readableEnded) { up.end(); return; }
      req.on('data', onBody);
      req.pipe(up);
    };
    up.on('socket', (s: net.Socket) => { if (s.connecting) s.once('connect', onConnect); else onConnect(); });
    up.on('response', (ur) => {
      settled = true;
      this.count(ur.statusCode ?? 502);
      res.writeHead(ur.statusCode ?? 502, ur.statusMessage, downstreamHeaders(ur));
      ur.pipe(res);
      ur.on('error', () => res.destroy());
    });
    up.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(connectTimer);
      req.unpipe(up);
      req.off('data', onBody);
      if (settled || res.destroyed) { res.destroy(); return; }
      const retry = i + 1 < upstreams.length && (!connected || (RETRYABLE.has(req.method ?? '') && bodyBytes === 0));
      this.log.debug({ endpoint: `${u.ip}:${u.port}`, err: err.message, retry }, 'upstream failed');
      if (retry) { this.forward(req, res, scheme, upstreams, i + 1); return; }
      settled = true;
      if (err.code === 'EREADTIMEOUT' || err.code === 'ETIMEDOUT') this.reply(res, 504, 'Gateway Time-out', err.message);
      else this.reply(res, 502, 'Bad Gateway', `${u.ip}:${u.port}: ${err.message}`);
    });
    // The client went away: stop the upstream request too.
    res.on('close', () => { if (!res.writableFinished) up.destroy(); });
  }

  /** Tunnels an upgrade (WebSocket …) to an endpoint of the matched backend (the servers' `upgrade` handler). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, scheme: 'http' | 'https'): void {
    const fail = (status: number, title: string) => {
      this.count(status);
      socket.end(`HTTP/1.1 ${status} ${title}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    socket.on('error', () => socket.destroy());
    const cfg = this.config;
    const match = matchRoute(cfg.table, req.headers.host, (req.url ?? '/').split('?')[0]!);
    if (!match) { fail(404, 'Not Found'); return; }
    const r = cfg.resolve(match.backend);
    if ('error' in r) { fail(503, 'Service Temporarily Unavailable'); return; }
    const upstreams = this.order(match.backend, r.upstreams);
    const attempt = (i: number) => {
      const u = upstreams[i]!;
      const up = net.connect({ host: u.ip, port: u.port, timeout: this.connectTimeoutMs });
      up.once('timeout', () => up.destroy(new Error('connect timeout')));
      up.once('connect', () => {
        up.setTimeout(0);
        const headers = upstreamHeaders(req, scheme, true);
        const lines = [`${req.method} ${req.url} HTTP/1.1`];
        for (const [k, v] of Object.entries(headers)) for (const one of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${one}`);
        up.write(`${lines.join('\r\n')}\r\n\r\n`);
        if (head.length) up.write(head);
        this.count(101);
        // Either side ending ends the tunnel (the servers' sockets allow half-open connections; a tunnel does not).
        socket.pipe(up, { end: false });
        up.pipe(socket, { end: false });
        socket.once('end', () => { up.end(); socket.end(); });
        up.once('end', () => { socket.end(); up.end(); });
        up.on('error', () => socket.destroy());
        up.on('close', () => socket.destroy());
        socket.on('close', () => up.destroy());
      });
      up.once('error', () => {
        if (up.readyState === 'open' || up.bytesWritten > 0) return;
        if (i + 1 < upstreams.length) attempt(i + 1);
        else fail(502, 'Bad Gateway');
      });
    };
    attempt(0);
  }

  /** Prometheus text: responses by status (after ingress-nginx's nginx_ingress_controller_requests). */
  metricsText(extra: string[] = []): string {
    const lines = [
      '# HELP k8ts_ingress_controller_requests Responses the ingress controller sent, by status code.',
      '# TYPE k8ts_ingress_controller_requests counter',
      ...[...this.requests.entries()].sort((a, b) => a[0] - b[0]).map(([s, n]) => `k8ts_ingress_controller_requests{status="${s}"} ${n}`),
      ...extra,
      '',
    ];
    return lines.join('\n');
  }

  close(): void {
    this.agent.destroy();
  }
}
