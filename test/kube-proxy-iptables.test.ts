import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, createLogger, SharedInformerFactory } from '@k8ts/api';
import { acquireIptablesLock, checkIptables, IptablesProxier, KubeProxy } from '@k8ts/kube-proxy';
import { call, eventually, startTestApiserver, type TestApiserver } from './harness.js';
import { kubeProxyClusterSuite } from './kube-proxy-cluster-suite.js';

// iptables mode against the host's real tables (root only; run under the machine-wide Docker lock, as the full
// suite is). Both suites are in this one file so that they never run at once; other tests' clusters use userspace
// (vitest.config.ts), and a kube-proxy in iptables mode holds the host's lock, so nothing else writes the tables. Traffic goes only to 127.0.0.1:<nodePort>, DNATed to TCP servers this test runs on 127.0.0.2x, and
// only after the test has seen the service-range REJECT and the DNAT rules installed. No ClusterIP is contacted.
const isRoot = process.getuid?.() === 0;
const iptablesWorks = isRoot && await checkIptables().then(() => true, () => false);
/** Another kube-proxy in iptables mode (a cluster left up on this host) holds the lock: these tests must not fight it. */
const tablesFree = iptablesWorks && await acquireIptablesLock().then(async (l) => { await l.release(); return true; }, () => false);
const skipWhy = !isRoot ? 'not root' : !iptablesWorks ? 'iptables does not work here' : !tablesFree ? 'another kube-proxy owns the tables' : undefined;
const ROUTE_LOCALNET = '/proc/sys/net/ipv4/conf/all/route_localnet';

const save = (table: string) => execFileSync('iptables-save', ['-t', table], { encoding: 'utf8' });

async function backend(ip: string, port = 0): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => s.destroy()); s.end(`${ip}\n`); });
  await new Promise<void>((r, j) => server.once('error', j).listen(port, ip, r));
  return { port: (server.address() as net.AddressInfo).port, close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }) };
}

/** The first line 127.0.0.1:port answers, from `localAddress`; rejects with the socket error (ECONNREFUSED, …). */
function hello(port: number, localAddress = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, localAddress });
    let buf = '';
    s.setTimeout(3000, () => { s.destroy(); reject(new Error('timeout')); });
    s.on('data', (d) => { buf += d; });
    s.on('end', () => resolve(buf.trim()));
    s.on('error', reject);
  });
}

const slice = (name: string, svc: string, port: number, ips: string[]) => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
  metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': svc } },
  ports: [{ name: 'http', port, protocol: 'TCP' }],
  endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
});

describe.skipIf(!tablesFree)('kube-proxy iptables mode (root)', () => {
  let api: TestApiserver;
  let client: ApiClient;
  let proxy: KubeProxy;
  let running: Promise<void>;
  let ac = new AbortController();
  const backends: { close(): Promise<void> }[] = [];
  let port = 0;
  let routeLocalnet = '0';
  let lock: { release(): Promise<void> } | undefined;

  beforeAll(async () => {
    lock = await acquireIptablesLock();
    routeLocalnet = readFileSync(ROUTE_LOCALNET, 'utf8').trim();
    api = await startTestApiserver();
    client = new ApiClient({ server: api.url });
    const first = await backend('127.0.0.21');
    port = first.port;
    backends.push(first, await backend('127.0.0.22', port), await backend('127.0.0.23', port));
    startProxy();
  });

  function startProxy(): void {
    const proxier = new IptablesProxier({ nodePortAddresses: ['127.0.0.1'], serviceCIDR: '10.96.0.0/12' });
    // Sync failures (iptables-restore's stderr) show in the test output.
    proxy = new KubeProxy({ informers: new SharedInformerFactory({ client }), proxier, minSyncPeriodMs: 50, log: createLogger('kube-proxy', 'error') });
    ac = new AbortController();
    running = proxy.run(ac.signal);
  }

  afterAll(async () => {
    ac.abort();
    await running;
    if (tablesFree) {
      await IptablesProxier.cleanup();
      writeFileSync(ROUTE_LOCALNET, routeLocalnet);
    }
    await lock?.release();
    await Promise.all(backends.map((b) => b.close()));
    await client?.close();
    await api?.stop();
  });

  it('balances a NodePort on 127.0.0.1 over the endpoints, rejects one with no endpoints at once, and cleans up', async () => {
    const web = await call(api.url, 'POST', '/api/v1/namespaces/default/services', {
      metadata: { name: 'web' }, spec: { type: 'NodePort', ports: [{ name: 'http', port: 80, targetPort: port }] },
    });
    const empty = await call(api.url, 'POST', '/api/v1/namespaces/default/services', {
      metadata: { name: 'empty' }, spec: { type: 'NodePort', ports: [{ name: 'http', port: 80, targetPort: port }] },
    });
    const sticky = await call(api.url, 'POST', '/api/v1/namespaces/default/services', {
      metadata: { name: 'sticky' }, spec: { type: 'NodePort', sessionAffinity: 'ClientIP', ports: [{ name: 'http', port: 80, targetPort: port }] },
    });
    expect([web.status, empty.status, sticky.status]).toEqual([201, 201, 201]);
    const ips = ['127.0.0.21', '127.0.0.22', '127.0.0.23'];
    for (const s of ['web', 'sticky']) {
      expect((await call(api.url, 'POST', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', slice(`${s}-1`, s, port, ips))).status).toBe(201);
    }
    const webIP = web.body.spec.clusterIP as string;
    // Safety first: the REJECT of the service range and the DNAT rules are in place before any packet is sent.
    await eventually(() => {
      const nat = save('nat');
      const filter = save('filter');
      return filter.includes('-A KUBE-SERVICES -d 10.96.0.0/12 -m comment --comment "reject traffic to the service range not translated to an endpoint" -j REJECT')
        && filter.includes('-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES')
        && ips.every((ip) => nat.includes(`--to-destination ${ip}:${port}`)) && nat.includes(`-d ${webIP}/32`);
    }, 'the service-range REJECT and the DNAT rules', 60_000);

    // The rules are seen; the first answer through the NodePort marks the path converged, then none may fail.
    const webPort = web.body.spec.ports[0].nodePort as number;
    await eventually(() => hello(webPort).then((who) => ips.includes(who)), `an answer through 127.0.0.1:${webPort}`, 20_000);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 90; i++) { const who = await hello(webPort); counts[who] = (counts[who] ?? 0) + 1; }
    expect(Object.keys(counts).sort()).toEqual(ips);
    for (const n of Object.values(counts)) expect(n).toBeGreaterThan(10);

    const t0 = performance.now();
    await expect(hello(empty.body.spec.ports[0].nodePort)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(performance.now() - t0).toBeLessThan(1000);

    const stickyPort = sticky.body.spec.ports[0].nodePort as number;
    for (const src of ['127.0.0.1', '127.0.0.2']) {
      const seen = new Set<string>();
      for (let i = 0; i < 10; i++) seen.add(await hello(stickyPort, src));
      expect(seen.size).toBe(1);
    }

    // Re-syncs neither duplicate the jumps from the built-in chains nor drop a rule.
    const before = save('nat').split('\n').filter((l) => l.startsWith('-A')).length;
    await proxy.syncProxyRules();
    await proxy.syncProxyRules();
    const natNow = save('nat');
    expect(natNow.split('\n').filter((l) => l.startsWith('-A')).length).toBe(before);
    expect(natNow.split('\n').filter((l) => l.startsWith('-A PREROUTING') && l.includes('KUBE-SERVICES'))).toHaveLength(1);
    expect(proxy.metrics.rulesWritten).toBeGreaterThan(20);

    // kube-proxy stopping leaves the rules in place, and a new one's first sync drops no connection.
    ac.abort();
    await running;
    const failures: unknown[] = [];
    let served = 0;
    let stop = false;
    const load = (async () => {
      while (!stop) await hello(webPort).then((who) => { if (ips.includes(who)) served++; else failures.push(who); }, (err) => { failures.push(err); });
    })();
    try {
      await eventually(() => served >= 20, 'answers with no kube-proxy running', 20_000);
      startProxy();
      await eventually(() => proxy.metrics.syncs >= 1, 'the new kube-proxy synced', 20_000);
      const after = served;
      await eventually(() => served >= after + 20, 'answers after the resync', 20_000);
    } finally {
      stop = true;
      await load;
    }
    expect(failures).toEqual([]);

    // Deleting the Service removes its chains (stale KUBE-SVC/KUBE-SEP chains are deleted on the next sync).
    expect((await call(api.url, 'DELETE', '/api/v1/namespaces/default/services/sticky')).status).toBe(200);
    await eventually(() => !save('nat').includes('default/sticky:http'), 'the sticky chains removed');

    await IptablesProxier.cleanup();
    expect(save('nat') + save('filter')).not.toContain('KUBE-');
    expect(await checkIptables().then(() => 'ok')).toBe('ok');
  });
});

kubeProxyClusterSuite('iptables', skipWhy);
