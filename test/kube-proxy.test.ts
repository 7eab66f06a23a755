import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, SharedInformerFactory } from '@k8ts/api';
import { KubeProxy, UserspaceProxier } from '@k8ts/kube-proxy';
import { call, eventually, startTestApiserver, type TestApiserver } from './harness.js';

// Userspace mode end to end: a real apiserver, Services and EndpointSlices written through the API (the test plays
// the endpointslice controller), endpoints that are TCP servers this test runs on 127.0.0.x.

interface Backend { ip: string; port: number; server: net.Server; sockets: Set<net.Socket>; close(): Promise<void> }

/** A TCP server on ip that answers every connection with its own name, then keeps it open until the client ends. */
async function backend(ip: string, wantPort = 0): Promise<Backend> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    s.write(`${ip}\n`);
    s.on('data', (d) => s.write(d));
  });
  await new Promise<void>((r, j) => server.once('error', j).listen(wantPort, ip, r));
  const port = (server.address() as net.AddressInfo).port;
  return { ip, port, server, sockets, close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }) };
}

/** Connects from `localAddress` to 127.0.0.1:port and reads the first line (the backend's name). */
function hello(port: number, localAddress = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, localAddress });
    let buf = '';
    s.setTimeout(3000, () => { s.destroy(); reject(new Error('timeout')); });
    s.on('data', (d) => { buf += d; if (buf.includes('\n')) { s.end(); resolve(buf.trim()); } });
    s.on('error', reject);
    s.on('close', () => { if (!buf.includes('\n')) reject(new Error('closed without an answer')); });
  });
}

const slice = (name: string, svc: string, port: number, eps: { ip: string; ready: boolean }[]) => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
  metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': svc, 'endpointslice.kubernetes.io/managed-by': 'test' } },
  ports: [{ name: 'http', port, protocol: 'TCP' }],
  endpoints: eps.map((e) => ({ addresses: [e.ip], conditions: { ready: e.ready } })),
});

describe('kube-proxy userspace mode', () => {
  let api: TestApiserver;
  let client: ApiClient;
  let proxier: UserspaceProxier;
  let proxy: KubeProxy;
  const ac = new AbortController();
  let running: Promise<void>;
  const backends: Backend[] = [];
  let port = 0;

  beforeAll(async () => {
    api = await startTestApiserver();
    client = new ApiClient({ server: api.url });
    // Three endpoints share one port number on three loopback addresses, as pods of one Deployment would.
    backends.push(await backend('127.0.0.11'));
    port = backends[0]!.port;
    for (const ip of ['127.0.0.12', '127.0.0.13']) backends.push(await backend(ip, port));
    const informers = new SharedInformerFactory({ client });
    proxier = new UserspaceProxier({ nodePortAddresses: ['127.0.0.1'] });
    proxy = new KubeProxy({ informers, proxier, minSyncPeriodMs: 50, syncPeriodMs: 30_000 });
    running = proxy.run(ac.signal);
  });

  afterAll(async () => {
    ac.abort();
    await running;
    await Promise.all(backends.map((b) => b.close()));
    await client?.close();
    await api?.stop();
  });

  it('round-robins a NodePort over the ready endpoints, and skips unready ones', async () => {
    const created = await call(api.url, 'POST', '/api/v1/namespaces/default/services', {
      metadata: { name: 'web' }, spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: port }] },
    });
    expect(created.status).toBe(201);
    const nodePort = created.body.spec.ports[0].nodePort as number;
    expect(nodePort).toBeGreaterThanOrEqual(30000);
    expect((await call(api.url, 'POST', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices',
      slice('web-abc', 'web', port, [{ ip: '127.0.0.11', ready: true }, { ip: '127.0.0.12', ready: true }, { ip: '127.0.0.13', ready: false }]))).status).toBe(201);
    await eventually(() => proxier.listenerKeys().includes(`127.0.0.1:${nodePort}/TCP`), 'the NodePort listener');
    await eventually(() => proxy.serviceMap().get('default/web:http/TCP')?.endpoints.length === 3, 'the endpoints in the service map');
    const seen: string[] = [];
    for (let i = 0; i < 30; i++) seen.push(await hello(nodePort));
    const counts = Object.fromEntries(['127.0.0.11', '127.0.0.12', '127.0.0.13'].map((ip) => [ip, seen.filter((s) => s === ip).length]));
    expect(counts).toEqual({ '127.0.0.11': 15, '127.0.0.12': 15, '127.0.0.13': 0 });
  });

  it('tries the next endpoint when a connect fails', async () => {
    const nodePort = (await call(api.url, 'GET', '/api/v1/namespaces/default/services/web')).body.spec.ports[0].nodePort;
    // 127.0.0.14 has nothing listening: connects to it are refused, and every request must still be answered.
    const cur = (await call(api.url, 'GET', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/web-abc')).body;
    cur.endpoints = [{ addresses: ['127.0.0.14'], conditions: { ready: true } }, { addresses: ['127.0.0.11'], conditions: { ready: true } }];
    expect((await call(api.url, 'PUT', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/web-abc', cur)).status).toBe(200);
    await eventually(() => proxy.serviceMap().get('default/web:http/TCP')?.endpoints.map((e) => e.ip).join() === '127.0.0.11,127.0.0.14', 'the new endpoints');
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) seen.add(await hello(nodePort));
    expect([...seen]).toEqual(['127.0.0.11']);
  });

  it('pins a client with ClientIP affinity, and closes connections to a removed endpoint', async () => {
    const created = await call(api.url, 'POST', '/api/v1/namespaces/default/services', {
      metadata: { name: 'sticky' },
      spec: { type: 'NodePort', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 30 } }, ports: [{ name: 'http', port: 80, targetPort: port }] },
    });
    expect(created.status).toBe(201);
    const nodePort = created.body.spec.ports[0].nodePort as number;
    expect((await call(api.url, 'POST', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices',
      slice('sticky-abc', 'sticky', port, ['127.0.0.11', '127.0.0.12', '127.0.0.13'].map((ip) => ({ ip, ready: true }))))).status).toBe(201);
    await eventually(() => proxier.listenerKeys().includes(`127.0.0.1:${nodePort}/TCP`), 'the sticky NodePort listener');
    await eventually(() => proxy.serviceMap().get('default/sticky:http/TCP')?.endpoints.length === 3, 'the sticky endpoints');
    // Three clients (three source addresses), ten connections each: each client always lands on one endpoint.
    const pinned: Record<string, Set<string>> = {};
    for (const src of ['127.0.0.1', '127.0.0.2', '127.0.0.3']) {
      pinned[src] = new Set();
      for (let i = 0; i < 10; i++) pinned[src].add(await hello(nodePort, src));
    }
    for (const set of Object.values(pinned)) expect(set.size).toBe(1);
    expect(new Set(Object.values(pinned).map((s) => [...s][0])).size).toBe(3);

    // A long-lived connection to 127.0.0.12; removing that endpoint closes it.
    const srcFor12 = Object.entries(pinned).find(([, s]) => s.has('127.0.0.12'))![0];
    const sock = net.connect({ host: '127.0.0.1', port: nodePort, localAddress: srcFor12 });
    const closed = new Promise<void>((r) => sock.on('close', () => r()));
    sock.on('error', () => undefined);
    await new Promise<void>((r) => sock.once('data', () => r()));
    const cur = (await call(api.url, 'GET', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/sticky-abc')).body;
    cur.endpoints = cur.endpoints.filter((e: any) => e.addresses[0] !== '127.0.0.12');
    expect((await call(api.url, 'PUT', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/sticky-abc', cur)).status).toBe(200);
    await Promise.race([closed, new Promise((_, j) => setTimeout(() => j(new Error('connection to the removed endpoint stayed open')), 10_000))]);
    // The client pinned to the removed endpoint moves to another one.
    expect(['127.0.0.11', '127.0.0.13']).toContain(await hello(nodePort, srcFor12));
  });

  it('closes the listener when the Service is deleted, and reports /metrics figures', async () => {
    const nodePort = (await call(api.url, 'GET', '/api/v1/namespaces/default/services/sticky')).body.spec.ports[0].nodePort;
    expect((await call(api.url, 'DELETE', '/api/v1/namespaces/default/services/sticky')).status).toBe(200);
    await eventually(() => !proxier.listenerKeys().includes(`127.0.0.1:${nodePort}/TCP`), 'the listener closed');
    await expect(hello(nodePort)).rejects.toThrow();
    expect(proxy.metrics.syncs).toBeGreaterThan(1);
    expect(proxy.metricsText()).toMatch(/^kubeproxy_sync_proxy_rules_total\{mode="userspace"\} \d+$/m);
    expect(proxy.healthy()).toBe(true);
  });
});
