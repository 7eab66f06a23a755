import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { silentLogger, type Logger } from '@k8ts/api';
import dnsPacket, { type Answer, type Packet, type Question } from 'dns-packet';
import type { ClusterZone, ZoneRecord } from './zone.js';

const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5, FORMERR: 1 } as const;

/** The nameservers of a resolv.conf (the host's, where other names are forwarded). */
export function resolvConfNameservers(text: string): string[] {
  return text.split('\n').map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1]).filter((s): s is string => !!s);
}

/** The host's resolvers from /etc/resolv.conf; none when it cannot be read. */
export function hostNameservers(path = '/etc/resolv.conf'): string[] {
  try {
    return resolvConfNameservers(readFileSync(path, 'utf8'));
  } catch {
    return [];
  }
}

export interface ForwarderOptions {
  /** Upstream nameservers (`ip` or `ip:port`), tried in order; none: every forwarded query gets SERVFAIL at once. */
  nameservers: string[];
  /** Budget for one forwarded query over all nameservers, after which the answer is SERVFAIL. */
  timeoutMs: number;
}

/** Forwards a query to upstream resolvers over UDP (CoreDNS's forward plugin, without health checks). */
export class Forwarder {
  constructor(private readonly opts: ForwarderOptions) {}

  /** The upstream's raw response with the client's id, or undefined when none answered in time. */
  async forward(query: Buffer): Promise<Buffer | undefined> {
    const deadline = Date.now() + this.opts.timeoutMs;
    for (const ns of this.opts.nameservers) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      const reply = await this.ask(ns, query, left).catch(() => undefined);
      if (reply) return reply;
    }
    return undefined;
  }

  private ask(nameserver: string, query: Buffer, timeoutMs: number): Promise<Buffer | undefined> {
    // `ip`, `ipv4:port` or `[ipv6]:port`.
    const m = net.isIP(nameserver) ? undefined : /^\[?(.+?)\]?:(\d+)$/.exec(nameserver);
    const host = m ? m[1] : nameserver;
    const port = m ? Number(m[2]) : 53;
    return new Promise((resolve) => {
      const sock = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
      const done = (buf?: Buffer) => { clearTimeout(timer); sock.close(); resolve(buf); };
      const timer = setTimeout(() => done(), timeoutMs);
      sock.on('error', () => done());
      sock.on('message', (msg) => { if (msg.length >= 2 && msg.readUInt16BE(0) === query.readUInt16BE(0)) done(msg); });
      sock.send(query, port, host, (err) => { if (err) done(); });
    });
  }
}

export interface DnsServerOptions {
  zone: ClusterZone;
  /** Where names outside the cluster zone go; without one they get SERVFAIL (tests never forward). */
  forwarder?: Forwarder;
  /**
   * Answers of the cluster zone kept, by query bytes, until the zone's caches change (CoreDNS's cache plugin,
   * without its staleness: any change of a Service, EndpointSlice or Pod drops them all); 0 disables it.
   */
  cacheSize?: number;
  log?: Logger;
}

/** Counters for /metrics. */
export interface DnsStats { queries: number; nxdomain: number; servfail: number; forwarded: number }

/**
 * The cluster DNS server over UDP and TCP (RFC 1035 §4.2, TCP with the two-byte length prefix): the cluster
 * zone answered from informer caches, everything else forwarded upstream.
 */
export class DnsServer {
  readonly stats: DnsStats = { queries: 0, nxdomain: 0, servfail: 0, forwarded: 0 };
  private udp: dgram.Socket | undefined;
  private tcp: net.Server | undefined;
  private readonly conns = new Set<net.Socket>();
  private readonly log: Logger;
  private readonly cacheSize: number;
  private cache = new Map<string, Buffer>();
  private cacheGeneration = -1;

  constructor(private readonly opts: DnsServerOptions) {
    this.log = opts.log ?? silentLogger;
    this.cacheSize = opts.cacheSize ?? 10_000;
  }

  /** Binds UDP and TCP on one port (port 0 picks a free one for both); resolves to the port. */
  async listen(host: string, port: number): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      const udp = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
      await new Promise<void>((resolve, reject) => { udp.once('error', reject); udp.bind(port, host, () => { udp.off('error', reject); resolve(); }); });
      const bound = udp.address().port;
      const tcp = net.createServer((sock) => this.serveTcp(sock));
      try {
        await new Promise<void>((resolve, reject) => { tcp.once('error', reject); tcp.listen(bound, host, () => { tcp.off('error', reject); resolve(); }); });
      } catch (err) {
        udp.close();
        // A free UDP port may be taken for TCP: with port 0, try another pair.
        if (port === 0 && attempt < 10) continue;
        throw err;
      }
      udp.on('message', (msg, rinfo) => {
        const reply = this.answer(msg, 'udp');
        // Most answers are ready at once; only forwarded ones wait.
        if (reply instanceof Promise) void reply.then((r) => { if (r) udp.send(r, rinfo.port, rinfo.address); });
        else if (reply) udp.send(reply, rinfo.port, rinfo.address);
      });
      udp.on('error', (err) => this.log.error({ err }, 'udp socket error'));
      this.udp = udp;
      this.tcp = tcp;
      return bound;
    }
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.destroy();
    await Promise.all([
      new Promise<void>((resolve) => (this.udp ? this.udp.close(() => resolve()) : resolve())),
      new Promise<void>((resolve) => (this.tcp ? this.tcp.close(() => resolve()) : resolve())),
    ]);
  }

  private serveTcp(sock: net.Socket): void {
    this.conns.add(sock);
    sock.on('close', () => this.conns.delete(sock));
    sock.on('error', () => sock.destroy());
    sock.setTimeout(10_000, () => sock.destroy());
    let buf = Buffer.alloc(0);
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        void this.handle(Buffer.from(msg), 'tcp').then((reply) => {
          if (!reply || sock.destroyed) return;
          const len = Buffer.alloc(2);
          len.writeUInt16BE(reply.length);
          sock.write(Buffer.concat([len, reply]));
        });
      }
    });
  }

  /** The wire response to one wire query; undefined for garbage that is not worth an answer. */
  async handle(msg: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    return this.answer(msg, transport);
  }

  /** As handle, synchronous unless the query goes upstream. */
  private answer(msg: Buffer, transport: 'udp' | 'tcp'): Buffer | undefined | Promise<Buffer | undefined> {
    this.stats.queries++;
    if (this.cacheSize > 0 && msg.length > 12) {
      if (this.cacheGeneration !== this.opts.zone.generation) {
        this.cache = new Map();
        this.cacheGeneration = this.opts.zone.generation;
      }
      // Keyed by everything but the id (flags, question, EDNS options), in the transport's size limit.
      const key = transport + msg.toString('latin1', 2);
      const hit = this.cache.get(key);
      if (hit) {
        const reply = Buffer.from(hit);
        reply[0] = msg[0];
        reply[1] = msg[1];
        if ((reply.readUInt16BE(2) & 0xf) === RCODE.NXDOMAIN) this.stats.nxdomain++;
        return reply;
      }
      const reply = this.compute(msg, transport);
      if (reply && !(reply instanceof Promise) && reply.cacheable) {
        if (this.cache.size >= this.cacheSize) this.cache.clear();
        this.cache.set(key, reply.buf);
      }
      return reply instanceof Promise ? reply : reply?.buf;
    }
    const reply = this.compute(msg, transport);
    return reply instanceof Promise ? reply : reply?.buf;
  }

  private compute(msg: Buffer, transport: 'udp' | 'tcp'): { buf: Buffer; cacheable: boolean } | undefined | Promise<Buffer | undefined> {
    const done = (buf: Buffer | undefined, cacheable = false) => (buf ? { buf, cacheable } : undefined);
    let query: Packet;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      // Too short to carry an id: drop it; otherwise FORMERR with the id.
      return done(msg.length >= 12 ? this.encode({ id: msg.readUInt16BE(0), questions: [] }, RCODE.FORMERR, {}) : undefined);
    }
    const q = query.questions?.[0];
    if (query.type === 'response' || !q) return done(this.encode(query, RCODE.FORMERR, {}));
    const zone = this.opts.zone;
    if (!zone.isAuthoritative(q.name)) return this.forward(msg, query, q);
    const a = zone.answer(q.name, q.type);
    // The answer owner keeps the question's spelling (resolvers using 0x20 case randomisation compare it).
    const asked = q.name.replace(/\.$/, '').toLowerCase();
    const answers: ZoneRecord[] = a.answers.map((r) => (r.name === asked ? { ...r, name: q.name } : r));
    if (a.rcode === 'NXDOMAIN') this.stats.nxdomain++;
    const finish = (all: ZoneRecord[]) => {
      const reply = this.encode(query, RCODE[a.rcode], { answers: all, authorities: a.authorities, additionals: a.additionals }, true);
      const limit = transport === 'tcp' ? 65535 : udpLimit(query);
      // Too big for the client's UDP buffer: an empty truncated reply tells it to ask again over TCP.
      return reply.length > limit ? this.encode(query, RCODE[a.rcode], {}, true, true) : reply;
    };
    if (a.chase && (q.type === 'A' || q.type === 'AAAA') && this.opts.forwarder) {
      return this.chase(a.chase, q.type).then((more) => finish([...answers, ...more]));
    }
    return done(finish(answers), true);
  }

  private async forward(msg: Buffer, query: Packet, q: Question): Promise<Buffer> {
    const reply = this.opts.forwarder ? await this.opts.forwarder.forward(msg) : undefined;
    if (reply) { this.stats.forwarded++; return reply; }
    this.stats.servfail++;
    this.log.debug({ name: q.name, type: q.type }, 'no upstream answered; SERVFAIL');
    return this.encode(query, RCODE.SERVFAIL, {});
  }

  /** An ExternalName's target resolved upstream; nothing when upstream does not answer. */
  private async chase(target: string, type: 'A' | 'AAAA'): Promise<ZoneRecord[]> {
    const q = dnsPacket.encode({ type: 'query', id: Math.floor(Math.random() * 65535), flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name: target }] });
    const reply = await this.opts.forwarder!.forward(q);
    if (!reply) return [];
    try {
      return (dnsPacket.decode(reply).answers ?? []).filter((r) => r.type === 'A' || r.type === 'AAAA' || r.type === 'CNAME') as ZoneRecord[];
    } catch {
      return [];
    }
  }

  private encode(query: Packet, rcode: number, body: { answers?: ZoneRecord[]; authorities?: ZoneRecord[]; additionals?: ZoneRecord[] },
    authoritative = false, truncated = false): Buffer {
    const rd = (query.flags ?? 0) & dnsPacket.RECURSION_DESIRED;
    const flags = rd | dnsPacket.RECURSION_AVAILABLE | (authoritative ? dnsPacket.AUTHORITATIVE_ANSWER : 0) | (truncated ? dnsPacket.TRUNCATED_RESPONSE : 0) | rcode;
    return dnsPacket.encode({
      type: 'response', id: query.id ?? 0, flags, questions: query.questions ?? [],
      answers: (body.answers ?? []) as Answer[], authorities: (body.authorities ?? []) as Answer[], additionals: (body.additionals ?? []) as Answer[],
    });
  }
}

/** The reply size a UDP client accepts: its EDNS payload size, else 512 (RFC 1035). */
function udpLimit(query: Packet): number {
  const opt = (query.additionals ?? []).find((r) => r.type === 'OPT');
  return opt && 'udpPayloadSize' in opt ? Math.max(512, opt.udpPayloadSize) : 512;
}
