import dgram from 'node:dgram';
import net from 'node:net';
import { silentLogger, type Clock, type Logger } from '@k8ts/api';
import { RoundRobinLoadBalancer } from './load-balancer.js';
import type { Proxier, SyncResult } from './proxier.js';
import { readyEndpoints, type ServiceMap } from './service-map.js';

export interface UserspaceProxierOptions {
  /** Addresses the NodePorts listen on (--nodeport-addresses). */
  nodePortAddresses: string[];
  log?: Logger;
  clock?: Clock;
  /** Per-endpoint connect timeout before the next endpoint is tried. */
  connectTimeoutMs?: number;
  /** How long a UDP client's backend socket lives without traffic (upstream's --udp-timeout). */
  udpIdleTimeoutMs?: number;
}

interface Listener {
  service: string;
  close(): void;
}

const splitHostPort = (ep: string): [string, number] => {
  const i = ep.lastIndexOf(':');
  return [ep.slice(0, i), Number(ep.slice(i + 1))];
};

/**
 * The userspace proxy mode: one TCP or UDP listener per Service NodePort on each node address, relaying each
 * connection to a ready endpoint chosen round-robin (with ClientIP affinity), trying the next endpoint when a
 * connect fails. ClusterIPs are not served: this mode programs no packet filter, so pods cannot reach them.
 */
export class UserspaceProxier implements Proxier {
  readonly mode = 'userspace' as const;
  private readonly lb: RoundRobinLoadBalancer;
  private readonly log: Logger;
  private readonly listeners = new Map<string, Listener>();
  /** Open TCP relays by service, then by endpoint, so that a removed endpoint's connections can be closed. */
  private readonly conns = new Map<string, Map<string, Set<net.Socket>>>();
  private readonly connectTimeoutMs: number;
  private readonly udpIdleTimeoutMs: number;

  constructor(private readonly opts: UserspaceProxierOptions) {
    this.lb = new RoundRobinLoadBalancer(opts.clock);
    this.log = opts.log ?? silentLogger;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 1_000;
    this.udpIdleTimeoutMs = opts.udpIdleTimeoutMs ?? 250;
  }

  async sync(map: ServiceMap): Promise<SyncResult> {
    const wanted = new Map<string, { service: string; address: string; port: number; protocol: 'TCP' | 'UDP' }>();
    for (const [key, sp] of map) {
      const ready = readyEndpoints(sp).map((e) => `${e.ip}:${e.port}`);
      this.lb.update(key, ready, sp.affinityTimeoutSeconds);
      // New connections go to ready endpoints only, but one that is merely not ready (a terminating pod in its grace
      // period, still serving what it has) keeps its connections until it leaves the slices: requests in flight finish.
      this.closeRemoved(key, new Set(sp.endpoints.map((e) => `${e.ip}:${e.port}`)));
      if (!sp.nodePort || sp.protocol === 'SCTP') continue;
      for (const address of this.opts.nodePortAddresses) {
        wanted.set(`${address}:${sp.nodePort}/${sp.protocol}`, { service: key, address, port: sp.nodePort, protocol: sp.protocol });
      }
    }
    for (const key of [...this.conns.keys()]) if (!map.has(key)) { this.closeRemoved(key, new Set()); this.lb.remove(key); }
    for (const [key, l] of this.listeners) {
      if (wanted.get(key)?.service !== l.service) { l.close(); this.listeners.delete(key); this.log.info({ listener: key }, 'closed NodePort listener'); }
    }
    const opening: Promise<void>[] = [];
    for (const [key, w] of wanted) {
      if (this.listeners.has(key)) continue;
      opening.push((w.protocol === 'TCP' ? this.listenTcp(w.service, w.address, w.port) : this.listenUdp(w.service, w.address, w.port))
        .then((l) => { this.listeners.set(key, l); this.log.info({ listener: key, service: w.service }, 'opened NodePort listener'); })
        .catch((err: unknown) => { this.log.error({ err, listener: key, service: w.service }, 'cannot open NodePort listener'); }));
    }
    await Promise.all(opening);
    let endpoints = 0;
    for (const key of map.keys()) endpoints += this.lb.endpoints(key).length;
    return { rules: this.listeners.size + endpoints };
  }

  async close(): Promise<void> {
    for (const l of this.listeners.values()) l.close();
    this.listeners.clear();
    for (const byEp of this.conns.values()) for (const set of byEp.values()) for (const s of set) s.destroy();
    this.conns.clear();
  }

  /** Listener keys (`address:port/protocol`), for tests and /metrics. */
  listenerKeys(): string[] {
    return [...this.listeners.keys()].sort();
  }

  private closeRemoved(service: string, live: Set<string>): void {
    const byEp = this.conns.get(service);
    if (!byEp) return;
    for (const [ep, set] of byEp) {
      if (live.has(ep)) continue;
      if (set.size) this.log.info({ service, endpoint: ep, connections: set.size }, 'closing connections to a removed endpoint');
      for (const s of set) s.destroy();
      byEp.delete(ep);
    }
  }

  private track(service: string, ep: string, sockets: net.Socket[]): void {
    let byEp = this.conns.get(service);
    if (!byEp) this.conns.set(service, byEp = new Map());
    let set = byEp.get(ep);
    if (!set) byEp.set(ep, set = new Set());
    for (const s of sockets) {
      set.add(s);
      s.once('close', () => set.delete(s));
    }
  }

  private listenTcp(service: string, address: string, port: number): Promise<Listener> {
    const server = net.createServer({ pauseOnConnect: true, noDelay: true }, (client) => {
      client.on('error', () => client.destroy());
      this.relay(service, client);
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: address, port, exclusive: true }, () => {
        server.off('error', reject);
        server.on('error', (err) => this.log.error({ err, service, address, port }, 'NodePort listener failed'));
        resolve({ service, close: () => server.close() });
      });
    });
  }

  /**
   * Connects `client` to an endpoint, trying each ready endpoint at most once before giving up (callbacks, not
   * promises: this is the per-connection hot path).
   */
  private relay(service: string, client: net.Socket): void {
    const clientIP = client.remoteAddress ?? '';
    const tries = Math.max(1, this.lb.endpoints(service).length);
    const attempt = (n: number, reset: boolean): void => {
      if (client.destroyed) return;
      const ep = n < tries ? this.lb.next(service, clientIP, reset) : undefined;
      if (!ep) {
        this.log.debug({ service, client: clientIP }, 'no endpoint answered; closing the connection');
        client.destroy();
        return;
      }
      const [host, port] = splitHostPort(ep);
      const backend = net.connect({ host, port, noDelay: true });
      backend.setTimeout(this.connectTimeoutMs);
      const failed = (): void => {
        backend.destroy();
        this.log.debug({ service, endpoint: ep }, 'endpoint did not accept the connection; trying the next');
        attempt(n + 1, true);
      };
      backend.once('timeout', failed);
      backend.once('error', failed);
      backend.once('connect', () => {
        backend.setTimeout(0);
        backend.off('timeout', failed);
        backend.off('error', failed);
        if (client.destroyed || !this.lb.endpoints(service).includes(ep)) { backend.destroy(); attempt(n + 1, true); return; }
        this.track(service, ep, [client, backend]);
        // Ends travel through pipe() (half-close kept); errors and full closes tear down the other side.
        backend.on('error', () => { backend.destroy(); client.destroy(); });
        client.on('close', () => backend.destroy());
        backend.on('close', () => { if (!client.writableEnded) client.destroy(); });
        client.pipe(backend);
        backend.pipe(client);
        client.resume();
      });
    };
    attempt(0, false);
  }

  private listenUdp(service: string, address: string, port: number): Promise<Listener> {
    const server = dgram.createSocket({ type: 'udp4', reuseAddr: false });
    const clients = new Map<string, { sock: dgram.Socket; timer: NodeJS.Timeout }>();
    const idle = (key: string) => setTimeout(() => { clients.get(key)?.sock.close(); clients.delete(key); }, this.udpIdleTimeoutMs);
    server.on('message', (msg, rinfo) => {
      const key = `${rinfo.address}:${rinfo.port}`;
      let c = clients.get(key);
      if (!c) {
        const ep = this.lb.next(service, rinfo.address);
        if (!ep) return;
        const [host, p] = splitHostPort(ep);
        const sock = dgram.createSocket('udp4');
        sock.on('error', () => { clients.delete(key); sock.close(); });
        sock.on('message', (reply) => {
          const cur = clients.get(key);
          if (cur) { clearTimeout(cur.timer); cur.timer = idle(key); }
          server.send(reply, rinfo.port, rinfo.address);
        });
        sock.connect(p, host);
        c = { sock, timer: idle(key) };
        clients.set(key, c);
        const pending = c;
        sock.once('connect', () => pending.sock.send(msg));
        return;
      }
      clearTimeout(c.timer);
      c.timer = idle(key);
      try { c.sock.send(msg); } catch { /* not connected yet: the datagram is dropped, as UDP may */ }
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.bind({ address, port, exclusive: true }, () => {
        server.off('error', reject);
        server.on('error', (err) => this.log.error({ err, service, address, port }, 'UDP NodePort listener failed'));
        resolve({
          service,
          close: () => {
            for (const c of clients.values()) { clearTimeout(c.timer); c.sock.close(); }
            clients.clear();
            server.close();
          },
        });
      });
    });
  }
}
