import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Etcd3 } from 'etcd3';
import { buildApp } from '@k8ts/apiserver';
import { call, startTestEtcd, type TestEtcd } from './harness.js';

/* ClusterIPs and NodePorts are reservations in etcd, taken in the Service's own transaction: unique across apiservers. */

let etcd: TestEtcd;
const apps: FastifyInstance[] = [];
const urls: string[] = [];
const NS = 'default';

const svc = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name },
  spec: { type: 'NodePort', selector: { app: name }, ports: [{ name: 'http', port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }], ...spec },
});
const create = (i: number, body: unknown) => call(urls[i % 2], 'POST', `/api/v1/namespaces/${NS}/services`, body);
const get = (name: string) => call(urls[0], 'GET', `/api/v1/namespaces/${NS}/services/${name}`);
const del = (i: number, name: string) => call(urls[i % 2], 'DELETE', `/api/v1/namespaces/${NS}/services/${name}`);
const patch = (i: number, name: string, body: unknown) => call(urls[i % 2], 'PATCH', `/api/v1/namespaces/${NS}/services/${name}`, body, { 'content-type': 'application/merge-patch+json' });

describe('ClusterIP and NodePort allocation with two apiservers on one etcd', () => {
  beforeAll(async () => {
    etcd = await startTestEtcd();
    for (let i = 0; i < 2; i++) {
      const app = await buildApp({ etcdServers: [etcd.endpoint] });
      await app.listen({ host: '127.0.0.1', port: 0 });
      const addr = app.server.address();
      apps.push(app);
      urls.push(`http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`);
    }
  }, 60_000);

  afterAll(async () => {
    for (const app of apps) await app.close();
    await etcd?.stop();
  });

  it('gives 50 Services created at once through both apiservers distinct cluster IPs and node ports', async () => {
    const t0 = Date.now();
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => create(i, svc(`s${i}`))));
    const ms = Date.now() - t0;
    expect(replies.map((r) => r.status)).toEqual(Array(50).fill(201));
    const ips = replies.map((r) => r.body.spec.clusterIP as string);
    const ports = replies.flatMap((r) => r.body.spec.ports.map((p: { nodePort: number }) => p.nodePort));
    expect(new Set(ips).size).toBe(50);
    expect(new Set(ports).size).toBe(100);
    expect(ips.every((ip) => /^10\.(9[6-9]|10[0-9]|11[01])\./.test(ip) && ip !== '10.96.0.1')).toBe(true);
    expect(ports.every((p) => p >= 30000 && p <= 32767)).toBe(true);
    console.log(`50 concurrent Service creates through 2 apiservers: ${ms} ms`);
  });

  it('refuses a cluster IP or node port another Service holds, and frees both when the Service is deleted', async () => {
    const first = (await get('s0')).body;
    const ip = first.spec.clusterIP;
    const nodePort = first.spec.ports[0].nodePort;
    const dupIP = await create(1, svc('dup-ip', { type: 'ClusterIP', clusterIP: ip }));
    expect(dupIP.status).toBe(422);
    expect(dupIP.body.message).toContain(`failed to allocate IP ${ip}: provided IP is already allocated`);
    const dupPort = await create(1, svc('dup-port', { ports: [{ port: 80, nodePort }] }));
    expect(dupPort.status).toBe(422);
    expect(dupPort.body.message).toContain('provided port is already allocated');
    expect(dupPort.body.details.causes[0].field).toBe('spec.ports[0].nodePort');

    expect((await del(0, 's0')).status).toBe(200);
    // Re-created at once, through the other apiserver, with the same IP and port.
    const again = await create(1, svc('s0-again', { clusterIP: ip, ports: [{ port: 80, nodePort }] }));
    expect(again.status).toBe(201);
    expect(again.body.spec.clusterIP).toBe(ip);
    expect(again.body.spec.ports[0].nodePort).toBe(nodePort);
  });

  it('allocates and releases with changes of type: NodePort ⇄ ClusterIP, ExternalName, LoadBalancer', async () => {
    const s1 = (await get('s1')).body;
    const ip = s1.spec.clusterIP;
    const [p1, p2] = s1.spec.ports.map((p: { nodePort: number }) => p.nodePort);
    // NodePort → ClusterIP: the node ports go, and are free for others.
    const toClusterIP = await patch(0, 's1', { spec: { type: 'ClusterIP' } });
    expect(toClusterIP.status).toBe(200);
    expect(toClusterIP.body.spec.ports.map((p: { nodePort?: number }) => p.nodePort)).toEqual([undefined, undefined]);
    const takes = await create(1, svc('takes-port', { ports: [{ name: 'a', port: 80, nodePort: p1 }, { name: 'b', port: 81, nodePort: p2 }] }));
    expect(takes.status, takes.body.message).toBe(201);
    // ClusterIP → ExternalName: the cluster IP goes too.
    const toExternal = await patch(1, 's1', { spec: { type: 'ExternalName', externalName: 'example.com' } });
    expect(toExternal.status).toBe(200);
    expect(toExternal.body.spec.clusterIP).toBeUndefined();
    expect((await create(0, svc('takes-ip', { type: 'ClusterIP', clusterIP: ip }))).status).toBe(201);
    // ExternalName → LoadBalancer: a new cluster IP and node ports (LoadBalancer behaves as NodePort).
    const toLB = await patch(0, 's1', { spec: { type: 'LoadBalancer', externalName: null } });
    expect(toLB.status).toBe(200);
    expect(toLB.body.spec.clusterIP).toMatch(/^10\./);
    expect(toLB.body.spec.clusterIP).not.toBe(ip);
    expect(toLB.body.spec.ports.every((p: { nodePort?: number }) => p.nodePort && p.nodePort >= 30000)).toBe(true);
    // An ExternalName Service has no cluster IP at all.
    const ext = await create(1, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ext' }, spec: { type: 'ExternalName', externalName: 'example.com' } });
    expect(ext.status).toBe(201);
    expect(ext.body.spec.clusterIP).toBeUndefined();
  });

  it('refuses a node port outside the range', async () => {
    const r = await create(0, svc('low', { ports: [{ port: 80, nodePort: 8080 }] }));
    expect(r.status).toBe(422);
    expect(r.body.message).toContain('provided port is not in the valid range. The range of valid ports is 30000-32767');
  });

  it('gives Services stored without reservations (written before them) theirs when an apiserver starts', async () => {
    const legacy = (await get('s2')).body;
    const ip = legacy.spec.clusterIP;
    const etcdClient = new Etcd3({ hosts: etcd.endpoint });
    try {
      expect(await etcdClient.get(`/registry/reservations/serviceips/${ip}`).string()).toBe('/registry/services/default/s2');
      await etcdClient.delete().key(`/registry/reservations/serviceips/${ip}`);
    } finally {
      etcdClient.close();
    }
    const third = await buildApp({ etcdServers: [etcd.endpoint] });
    try {
      const r = await third.inject({ method: 'POST', url: `/api/v1/namespaces/${NS}/services`, payload: svc('steal', { type: 'ClusterIP', clusterIP: ip }) });
      expect(r.statusCode).toBe(422);
      expect(r.json().message).toContain('provided IP is already allocated');
    } finally {
      await third.close();
    }
  });
});
