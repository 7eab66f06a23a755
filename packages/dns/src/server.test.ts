import dgram from 'node:dgram';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeInformer } from '@k8ts/api/testing';
import type { EndpointSlice, Pod, Service } from '@k8ts/api';
import dnsPacket, { type Packet } from 'dns-packet';
import { DnsServer, Forwarder, resolvConfNameservers } from './server.js';
import { ClusterZone, podIndexers, serviceIndexers, sliceIndexers } from './zone.js';

const svc = (ns: string, name: string, spec: Service['spec']): Service => ({ apiVersion: 'v1', kind: 'Service', metadata: { namespace: ns, name }, spec });
const slice = (ns: string, svcName: string, name: string, endpoints: EndpointSlice['endpoints'], ports: EndpointSlice['ports']): EndpointSlice => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
  metadata: { namespace: ns, name, labels: { 'kubernetes.io/service-name': svcName } }, endpoints, ports,
});

const services = new FakeInformer<Service>([
  svc('default', 'web', { type: 'ClusterIP', clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }] }),
  svc('default', 'db', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] }),
  svc('default', 'ext', { type: 'ExternalName', externalName: 'example.com' }),
  svc('default', 'alias', { type: 'ExternalName', externalName: 'web.default.svc.cluster.local' }),
  svc('other', 'web', { clusterIP: '10.96.0.21', ports: [{ port: 8080 }] }),
], serviceIndexers);
const slices = new FakeInformer<EndpointSlice>([
  slice('default', 'db', 'db-abc', [
    { addresses: ['10.244.0.5'], hostname: 'db-0', conditions: { ready: true } },
    { addresses: ['10.244.0.6'], conditions: { ready: true } },
    { addresses: ['10.244.0.7'], hostname: 'db-2', conditions: { ready: false } },
  ], [{ name: 'pg', port: 5433, protocol: 'TCP' }]),
  slice('default', 'web', 'web-abc', [{ addresses: ['10.244.1.1'], conditions: { ready: true } }], [{ name: 'http', port: 8080, protocol: 'TCP' }]),
], sliceIndexers);
const pods = new FakeInformer<Pod>([
  { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'default', name: 'p' }, status: { podIP: '10.244.0.9' } },
], podIndexers);

let server: DnsServer;
let port: number;

beforeAll(async () => {
  const zone = new ClusterZone({ domain: 'cluster.local', services, slices, pods, now: () => 1700000000 });
  // No forwarder: names outside the zone must get SERVFAIL at once, and nothing leaves the machine.
  server = new DnsServer({ zone });
  port = await server.listen('127.0.0.1', 0);
});
afterAll(() => server.close());

let nextId = 1;
/** One query over UDP to the server under test. */
function query(name: string, type: string, extra: Partial<Packet> = {}): Promise<Packet & { rcode?: string }> {
  const id = nextId++;
  const sock = dgram.createSocket('udp4');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { sock.close(); reject(new Error(`no answer for ${name} ${type}`)); }, 3000);
    sock.on('message', (msg) => { clearTimeout(timer); sock.close(); resolve(dnsPacket.decode(msg) as Packet & { rcode?: string }); });
    sock.send(dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: type as 'A', name }], ...extra }), port, '127.0.0.1');
  });
}

const data = (p: Packet) => (p.answers ?? []).map((a) => ('data' in a ? a.data : undefined));

describe('cluster DNS over UDP', () => {
  it('answers A for a ClusterIP Service, authoritatively, case-insensitively', async () => {
    const r = await query('Web.Default.svc.cluster.local', 'A');
    expect(r.rcode).toBe('NOERROR');
    expect(r.flags! & dnsPacket.AUTHORITATIVE_ANSWER).toBeTruthy();
    expect(r.answers).toMatchObject([{ type: 'A', name: 'Web.Default.svc.cluster.local', ttl: 5, data: '10.96.0.20' }]);
    expect(data(await query('web.other.svc.cluster.local', 'A'))).toEqual(['10.96.0.21']);
  });

  it('answers a headless Service with its ready endpoints, and endpoints by hostname or dashed address', async () => {
    expect(data(await query('db.default.svc.cluster.local', 'A')).sort()).toEqual(['10.244.0.5', '10.244.0.6']);
    expect(data(await query('db-0.db.default.svc.cluster.local', 'A'))).toEqual(['10.244.0.5']);
    expect(data(await query('10-244-0-6.db.default.svc.cluster.local', 'A'))).toEqual(['10.244.0.6']);
    // Not ready: not published.
    expect((await query('db-2.db.default.svc.cluster.local', 'A')).rcode).toBe('NXDOMAIN');
  });

  it('answers SRV for named ports: the Service name for a ClusterIP, each endpoint for a headless one', async () => {
    const r = await query('_http._tcp.web.default.svc.cluster.local', 'SRV');
    expect(r.answers).toMatchObject([{ type: 'SRV', data: { priority: 0, weight: 100, port: 80, target: 'web.default.svc.cluster.local' } }]);
    expect(r.additionals).toMatchObject([{ type: 'A', name: 'web.default.svc.cluster.local', data: '10.96.0.20' }]);
    expect(data(await query('_dns._udp.web.default.svc.cluster.local', 'SRV'))).toMatchObject([{ port: 53 }]);
    const h = await query('_pg._tcp.db.default.svc.cluster.local', 'SRV');
    expect(data(h).map((d) => (d as { target: string }).target).sort()).toEqual(['10-244-0-6.db.default.svc.cluster.local', 'db-0.db.default.svc.cluster.local']);
    expect(data(h)).toMatchObject([{ port: 5433, weight: 50 }, { port: 5433, weight: 50 }]);
    expect(h.additionals!.map((a) => 'data' in a && a.data).sort()).toEqual(['10.244.0.5', '10.244.0.6']);
    expect((await query('_nope._tcp.web.default.svc.cluster.local', 'SRV')).rcode).toBe('NXDOMAIN');
    expect((await query('_http._udp.web.default.svc.cluster.local', 'SRV')).rcode).toBe('NXDOMAIN');
  });

  it('answers an ExternalName Service with a CNAME, chased inside the cluster zone', async () => {
    expect((await query('ext.default.svc.cluster.local', 'A')).answers).toMatchObject([{ type: 'CNAME', data: 'example.com' }]);
    expect((await query('alias.default.svc.cluster.local', 'A')).answers).toMatchObject([
      { type: 'CNAME', data: 'web.default.svc.cluster.local' }, { type: 'A', name: 'web.default.svc.cluster.local', data: '10.96.0.20' },
    ]);
  });

  it('answers pod names for addresses a pod of that namespace has', async () => {
    expect(data(await query('10-244-0-9.default.pod.cluster.local', 'A'))).toEqual(['10.244.0.9']);
    expect((await query('10-244-0-9.other.pod.cluster.local', 'A')).rcode).toBe('NXDOMAIN');
    expect((await query('10-244-0-99.default.pod.cluster.local', 'A')).rcode).toBe('NXDOMAIN');
  });

  it('answers PTR for ClusterIPs and for named headless endpoints', async () => {
    expect(data(await query('20.0.96.10.in-addr.arpa', 'PTR'))).toEqual(['web.default.svc.cluster.local']);
    expect(data(await query('5.0.244.10.in-addr.arpa', 'PTR'))).toEqual(['db-0.db.default.svc.cluster.local']);
  });

  it('answers NXDOMAIN with the SOA for unknown cluster names, NODATA with the SOA for a missing type', async () => {
    for (const name of ['nope.default.svc.cluster.local', 'web.nowhere.svc.cluster.local', 'a.b.c.d.svc.cluster.local', 'foo.cluster.local']) {
      const r = await query(name, 'A');
      expect(r.rcode, name).toBe('NXDOMAIN');
      expect(r.answers).toEqual([]);
      expect(r.authorities, name).toMatchObject([{ type: 'SOA', name: 'cluster.local', data: { mname: 'ns.dns.cluster.local', rname: 'hostmaster.cluster.local', serial: 1700000000, minimum: 5 } }]);
    }
    const nodata = await query('web.default.svc.cluster.local', 'AAAA');
    expect(nodata.rcode).toBe('NOERROR');
    expect(nodata.answers).toEqual([]);
    expect(nodata.authorities).toMatchObject([{ type: 'SOA' }]);
    expect((await query('cluster.local', 'SOA')).answers).toMatchObject([{ type: 'SOA' }]);
    expect((await query('default.svc.cluster.local', 'A')).rcode).toBe('NOERROR');
  });

  it('answers SERVFAIL at once for names outside the cluster domain when no upstream is set', async () => {
    const started = Date.now();
    const r = await query('example.com', 'A');
    expect(r.rcode).toBe('SERVFAIL');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(server.stats.servfail).toBeGreaterThan(0);
  });

  it('follows changes of the caches at once', async () => {
    services.add(svc('default', 'late', { clusterIP: '10.96.0.30', ports: [{ port: 80 }] }));
    expect(data(await query('late.default.svc.cluster.local', 'A'))).toEqual(['10.96.0.30']);
    services.delete(svc('default', 'late', {}));
    expect((await query('late.default.svc.cluster.local', 'A')).rcode).toBe('NXDOMAIN');
  });

  it('keeps answers until any cached object changes, never serving a stale one', async () => {
    const before = await query('cached.default.svc.cluster.local', 'A');
    expect(before.rcode).toBe('NXDOMAIN');
    const again = await query('cached.default.svc.cluster.local', 'A');
    expect(again.rcode).toBe('NXDOMAIN');
    expect(again.id).not.toBe(before.id);
    services.add(svc('default', 'cached', { clusterIP: '10.96.0.31', ports: [{ port: 80 }] }));
    expect(data(await query('cached.default.svc.cluster.local', 'A'))).toEqual(['10.96.0.31']);
    services.update({ ...svc('default', 'cached', { clusterIP: '10.96.0.32', ports: [{ port: 80 }] }), metadata: { namespace: 'default', name: 'cached', resourceVersion: '2' } });
    expect(data(await query('cached.default.svc.cluster.local', 'A'))).toEqual(['10.96.0.32']);
    services.delete(svc('default', 'cached', {}));
  });

  it('truncates a UDP reply that does not fit, and answers in full over TCP', async () => {
    const many = Array.from({ length: 60 }, (_, i) => ({ addresses: [`10.244.2.${i + 1}`], conditions: { ready: true } }));
    services.add(svc('default', 'big', { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] }));
    slices.add(slice('default', 'big', 'big-1', many, [{ name: 'http', port: 80, protocol: 'TCP' }]));
    const udp = await query('big.default.svc.cluster.local', 'A');
    expect(udp.flags! & dnsPacket.TRUNCATED_RESPONSE).toBeTruthy();
    expect(udp.answers).toEqual([]);
    const tcp = await new Promise<Packet>((resolve, reject) => {
      const sock = net.connect(port, '127.0.0.1');
      const q = dnsPacket.encode({ type: 'query', id: 7, questions: [{ type: 'A', name: 'big.default.svc.cluster.local' }] });
      const len = Buffer.alloc(2);
      len.writeUInt16BE(q.length);
      let buf = Buffer.alloc(0);
      sock.on('data', (c) => {
        buf = Buffer.concat([buf, c]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) { sock.end(); resolve(dnsPacket.decode(buf.subarray(2))); }
      });
      sock.on('error', reject);
      sock.write(Buffer.concat([len, q]));
    });
    expect(tcp.id).toBe(7);
    expect(tcp.answers).toHaveLength(60);
  });

  it('answers FORMERR to a packet without a question, and ignores garbage', async () => {
    const r = await new Promise<Packet & { rcode?: string }>((resolve) => {
      const sock = dgram.createSocket('udp4');
      sock.on('message', (msg) => { sock.close(); resolve(dnsPacket.decode(msg) as Packet & { rcode?: string }); });
      sock.send(dnsPacket.encode({ type: 'query', id: 9, questions: [] }), port, '127.0.0.1');
    });
    expect(r.rcode).toBe('FORMERR');
    expect(await server.handle(Buffer.from([1, 2, 3]), 'udp')).toBeUndefined();
  });
});

describe('Forwarder', () => {
  it('relays the upstream answer, and gives up within its budget when nobody answers', async () => {
    // A fake upstream on loopback, and a loopback port nobody answers on.
    const upstream = dgram.createSocket('udp4');
    upstream.on('message', (msg, rinfo) => {
      const q = dnsPacket.decode(msg);
      upstream.send(dnsPacket.encode({ type: 'response', id: q.id, questions: q.questions, answers: [{ type: 'A', name: q.questions![0].name, data: '192.0.2.1' }] }), rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => upstream.bind(0, '127.0.0.1', r));
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
    try {
      const q = dnsPacket.encode({ type: 'query', id: 42, questions: [{ type: 'A', name: 'example.com' }] });
      const ok = await new Forwarder({ nameservers: [`127.0.0.1:${upstream.address().port}`], timeoutMs: 1000 }).forward(q);
      expect(dnsPacket.decode(ok!)).toMatchObject({ id: 42, answers: [{ data: '192.0.2.1' }] });
      const started = Date.now();
      expect(await new Forwarder({ nameservers: [`127.0.0.1:${silent.address().port}`], timeoutMs: 200 }).forward(q)).toBeUndefined();
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      upstream.close();
      silent.close();
    }
  });

  it('reads nameservers from a resolv.conf', () => {
    expect(resolvConfNameservers('# x\nsearch a b\nnameserver 10.0.0.1\n nameserver  ::1\noptions ndots:5\n')).toEqual(['10.0.0.1', '::1']);
  });
});
