import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, ENDPOINTS, ENDPOINTSLICES, SERVICES, type EndpointSlice, type Endpoints, type Service } from '@k8ts/api';
import dnsPacket, { type Packet } from 'dns-packet';
// @ts-expect-error plain JS module shared with scripts/
import { startDns } from '../scripts/lib/processes.mjs';
import { call, eventually, startTestApiserver, type TestApiserver } from './harness.js';

// The k8ts-dns process as scripts/cluster runs it, against a real apiserver: Services created through the API
// are answered within moments, and kube-system/kube-dns points at the server. It never forwards anything.

let s: TestApiserver;
let client: ApiClient;
let dns: { pid: number; stop(): Promise<void>; dnsPort: number; url: string };
const NS = 'dns-test';

function query(name: string, type: string): Promise<Packet & { rcode?: string }> {
  const sock = dgram.createSocket('udp4');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { sock.close(); reject(new Error(`no answer for ${name}`)); }, 3000);
    sock.on('message', (msg) => { clearTimeout(timer); sock.close(); resolve(dnsPacket.decode(msg) as Packet & { rcode?: string }); });
    sock.send(dnsPacket.encode({ type: 'query', id: 1, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: type as 'A', name }] }), dns.dnsPort, '127.0.0.1');
  });
}
const data = (p: Packet) => (p.answers ?? []).map((a) => ('data' in a ? a.data : undefined));

describe('k8ts-dns process', () => {
  beforeAll(async () => {
    s = await startTestApiserver();
    client = new ApiClient({ server: s.url });
    await call(s.url, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    dns = await startDns({ apiserverUrl: s.url, extraArgs: ['--upstream-nameservers', 'none'] });
  }, 60_000);

  afterAll(async () => {
    await dns?.stop();
    await client?.close();
    await s?.stop();
  });

  it('registers kube-system/kube-dns on 10.96.0.10 with endpoints at the server', async () => {
    await eventually(async () => {
      const slice = await client.get<EndpointSlice>(ENDPOINTSLICES, 'kube-system', 'kube-dns-k8ts-dns').catch(() => undefined);
      return slice?.endpoints?.[0]?.addresses?.[0] === '127.0.0.1' && slice.ports?.[0]?.port === dns.dnsPort;
    }, 'the kube-dns EndpointSlice', 20_000);
    const svc = await client.get<Service>(SERVICES, 'kube-system', 'kube-dns');
    expect(svc.spec).toMatchObject({ clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] });
    const ep = await client.get<Endpoints>(ENDPOINTS, 'kube-system', 'kube-dns');
    expect(ep.subsets).toEqual([{ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'dns', port: dns.dnsPort, protocol: 'UDP' }, { name: 'dns-tcp', port: dns.dnsPort, protocol: 'TCP' }] }]);
    expect(data(await query('kube-dns.kube-system.svc.cluster.local', 'A'))).toEqual(['10.96.0.10']);
    expect(data(await query('kubernetes.default.svc.cluster.local', 'A'))).toEqual(['10.96.0.1']);
  });

  it('answers for Services created, changed and deleted through the API', async () => {
    const created = await client.create<Service>(SERVICES, NS, {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80 }] },
    });
    const ip = created.spec!.clusterIP!;
    await eventually(async () => data(await query(`web.${NS}.svc.cluster.local`, 'A'))[0] === ip, 'web resolves', 10_000);
    const srv = await query(`_http._tcp.web.${NS}.svc.cluster.local`, 'SRV');
    expect(data(srv)).toEqual([{ priority: 0, weight: 100, port: 80, target: `web.${NS}.svc.cluster.local` }]);
    const reverse = ip.split('.').reverse().join('.');
    expect(data(await query(`${reverse}.in-addr.arpa`, 'PTR'))).toEqual([`web.${NS}.svc.cluster.local`]);

    await client.create(SERVICES, NS, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ext' }, spec: { type: 'ExternalName', externalName: 'db.example.org' } });
    await client.create(SERVICES, NS, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db' }, spec: { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] } });
    await client.create(ENDPOINTSLICES, NS, {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'db-1', labels: { 'kubernetes.io/service-name': 'db' } },
      addressType: 'IPv4', endpoints: [{ addresses: ['10.244.0.7'], hostname: 'db-0', conditions: { ready: true } }], ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
    });
    await eventually(async () => data(await query(`db-0.db.${NS}.svc.cluster.local`, 'A'))[0] === '10.244.0.7', 'the headless endpoint', 10_000);
    expect(data(await query(`db.${NS}.svc.cluster.local`, 'A'))).toEqual(['10.244.0.7']);
    expect((await query(`ext.${NS}.svc.cluster.local`, 'A')).answers).toMatchObject([{ type: 'CNAME', data: 'db.example.org' }]);

    await client.delete(SERVICES, NS, 'web');
    await eventually(async () => (await query(`web.${NS}.svc.cluster.local`, 'A')).rcode === 'NXDOMAIN', 'web gone', 10_000);
    const gone = await query(`web.${NS}.svc.cluster.local`, 'A');
    expect(gone.authorities).toMatchObject([{ type: 'SOA', name: 'cluster.local' }]);
    // Outside the cluster domain, with forwarding off: SERVFAIL at once.
    expect((await query('example.org', 'A')).rcode).toBe('SERVFAIL');
    const metrics = await (await fetch(`${dns.url}/metrics`)).text();
    expect(metrics).toMatch(/k8ts_dns_servfail_total [1-9]/);
  });
});
