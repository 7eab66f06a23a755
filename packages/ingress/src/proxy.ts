import type net from 'node:net';
import { silentLogger, type Logger } from '@k8ts/api';
import { ClientConnection, HEADERS_TIMEOUT_MS, type ProxyCore, type Route } from './client-connection.js';
import { backendKey, type Resolution, type Upstream } from './endpoints.js';
import { matchRoute, type Backend, type RouteTable } from './routes.js';
import { UpstreamPool } from './upstream-pool.js';

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

/** How often client connections are checked for the headers timeout. */
const SWEEP_MS = 5_000;

/**
 * The ingress data path, on raw sockets with http-parser-js (node:http's layers cost most of the time): host and
 * path → backend → ready endpoints, round-robin, straight to the pod over pooled keep-alive connections; the next
 * endpoint when one cannot be reached (for GET/HEAD/OPTIONS also when it fails before answering, as nginx's default
 * `proxy_next_upstream error timeout`); bodies streamed both ways with backpressure; pipelined requests served in
 * order; WebSocket and other upgrades tunnelled. 404 when no rule matches, 503 when the backend has no ready endpoint,
 * 502/504 when the endpoints fail, 400 for what is not HTTP/1.x.
 */
export class IngressProxy implements ProxyCore {
  /** Keep-alive connections to the endpoints (64 idle per endpoint, 60 s). */
  readonly pool = new UpstreamPool();
  private config: ProxyConfig = EMPTY;
  private readonly next = new Map<string, number>();
  readonly log: Logger;
  readonly connectTimeoutMs: number;
  readonly readTimeoutMs: number;
  /** Responses by status code (what /metrics reports). */
  readonly requests = new Map<number, number>();
  now = Date.now();
  private readonly clients = new Set<ClientConnection>();
  private sweep: NodeJS.Timeout | undefined;

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
    if (upstreams.length === 1) return upstreams;
    return [...upstreams.slice(start), ...upstreams.slice(0, start)];
  }

  /** Where a request for this host and path goes (read from the configuration at the time of the request). */
  route(host: string | undefined, path: string): Route {
    const cfg = this.config;
    const match = matchRoute(cfg.table, host, path);
    if (!match) return { status: 404, title: 'Not Found', detail: 'no Ingress rule matches this host and path' };
    const r = cfg.resolve(match.backend);
    if ('error' in r) return { status: 503, title: 'Service Temporarily Unavailable', detail: r.error };
    return { upstreams: this.order(match.backend, r.upstreams) };
  }

  count(status: number): void {
    this.requests.set(status, (this.requests.get(status) ?? 0) + 1);
  }

  /**
   * Serves one client connection: the HTTP listener's sockets, and the HTTPS listener's once their handshake is done.
   * Requests are answered in order until either side closes.
   */
  handle(socket: net.Socket, scheme: 'http' | 'https'): void {
    this.clients.add(new ClientConnection(this, socket, scheme, (c) => this.clients.delete(c)));
    if (!this.sweep) {
      this.now = Date.now();
      // Node's server checks its headersTimeout the same way: a periodic sweep, not a timer per request.
      this.sweep = setInterval(() => {
        this.now = Date.now();
        for (const c of this.clients) if (c.headStart && this.now - c.headStart >= HEADERS_TIMEOUT_MS) c.headersTimedOut();
      }, SWEEP_MS).unref();
    }
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

  /** Closes the pooled upstream connections (the listeners close the client ones). */
  close(): void {
    clearInterval(this.sweep);
    this.sweep = undefined;
    this.pool.close();
  }
}
