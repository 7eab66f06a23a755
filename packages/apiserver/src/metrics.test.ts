import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errors, matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector, type ApiError, type KubeObject } from '@k8ts/api';
import { bytesQuantity, handleMetrics, metricsDiscoveryGroup, metricsResourceList, nanoCoresQuantity, type MetricsContext } from './metrics.js';

const T = '2026-11-24T07:00:00Z';
const cpu = (usageNanoCores: number) => ({ time: T, usageNanoCores, usageCoreNanoSeconds: 1 });

/** A kubelet answering /stats/summary with `summary` (or with `status` when set). */
async function fakeKubelet(summary: unknown, status = 200): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    if (req.url !== '/stats/summary') { res.writeHead(404).end(); return; }
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(summary));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

const node = (name: string, port: number, labels: Record<string, string> = {}): KubeObject => ({
  metadata: { name, labels },
  status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: port } } },
});
const pod = (namespace: string, name: string, nodeName: string, labels: Record<string, string> = {}): KubeObject =>
  ({ metadata: { namespace, name, labels }, spec: { nodeName } });
const podStats = (namespace: string, name: string, containers: [string, number, number][]) => ({
  podRef: { namespace, name, uid: `uid-${name}` },
  containers: containers.map(([c, nanoCores, bytes]) => ({ name: c, cpu: cpu(nanoCores), memory: { time: T, workingSetBytes: bytes } })),
});

/** Stores as plain arrays, filtered as the real ones filter. */
function fakeContext(objects: { pods: KubeObject[]; nodes: KubeObject[] }): MetricsContext {
  return {
    list: async (resource, namespace, { labelSelector, fieldSelector }) => {
      const labels = parseLabelSelector(labelSelector ?? '');
      const fields = parseFieldSelector(fieldSelector ?? '');
      return objects[resource].filter((o) => (!namespace || o.metadata?.namespace === namespace) && matchesLabels(labels, o.metadata?.labels)
        && matchesFields(fields, { 'metadata.name': o.metadata!.name!, 'metadata.namespace': o.metadata?.namespace ?? '' }));
    },
    get: async (resource, namespace, name) => {
      const found = objects[resource].find((o) => o.metadata?.name === name && (!namespace || o.metadata?.namespace === namespace));
      if (!found) throw errors.notFound(resource, '', name);
      return found;
    },
    kubeletTimeoutMs: 200,
  };
}

let kubelets: Server[] = [];
let ctx: MetricsContext;
beforeAll(async () => {
  const a = await fakeKubelet({
    node: { nodeName: 'node-a', cpu: cpu(1_500_000_000), memory: { time: T, workingSetBytes: 2 * 2 ** 30 } },
    pods: [
      podStats('default', 'web', [['app', 250_000_000, 64 * 2 ** 20], ['sidecar', 1234, 5678 * 1024]]),
      podStats('prod', 'db', [['db', 1e9, 1536]]),
      podStats('default', 'gone', [['app', 1, 1]]), // no such pod in the store: never reported
    ],
  });
  const b = await fakeKubelet({ message: 'boom' }, 500);
  const silent = createServer(() => { /* never answers */ });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  kubelets = [a.server, b.server, silent];
  ctx = fakeContext({
    nodes: [node('node-a', a.port, { zone: 'x' }), node('node-b', b.port), node('node-c', (silent.address() as AddressInfo).port)],
    pods: [
      pod('default', 'web', 'node-a', { app: 'web' }), pod('prod', 'db', 'node-a', { app: 'db' }),
      pod('default', 'on-b', 'node-b'), pod('default', 'on-c', 'node-c'), pod('default', 'pending', ''),
    ],
  });
});
afterAll(() => { for (const k of kubelets) { k.closeAllConnections(); k.close(); } });

const get = (path: string, query: Record<string, string> = {}) => handleMetrics('GET', path.split('/').filter(Boolean), query, ctx);
const failure = async (p: Promise<unknown>) => p.then(() => { throw new Error('expected a failure'); }, (err: unknown) => err as ApiError);

describe('metrics.k8s.io', () => {
  it('lists PodMetrics of a namespace from the kubelets that answer, skipping the others', async () => {
    const list = await get('namespaces/default/pods') as any;
    expect(list).toMatchObject({ kind: 'PodMetricsList', apiVersion: 'metrics.k8s.io/v1beta1', metadata: {} });
    expect(list.items).toHaveLength(1);
    expect(list.items[0]).toMatchObject({
      metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } }, timestamp: T, window: '10s',
      containers: [{ name: 'app', usage: { cpu: '250m', memory: '64Mi' } }, { name: 'sidecar', usage: { cpu: '1234n', memory: '5678Ki' } }],
    });
    expect(list.items[0].kind).toBeUndefined();
    expect(list.items[0].metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('lists across namespaces with label and field selectors', async () => {
    const names = async (q: Record<string, string>) => ((await get('pods', q)) as any).items.map((i: any) => `${i.metadata.namespace}/${i.metadata.name}`);
    expect(await names({})).toEqual(['default/web', 'prod/db']);
    expect(await names({ labelSelector: 'app=db' })).toEqual(['prod/db']);
    expect(await names({ fieldSelector: 'metadata.name=web' })).toEqual(['default/web']);
    expect((await get('pods') as any).items[1].containers[0].usage).toEqual({ cpu: '1', memory: '1536' });
  });

  it('gets one PodMetrics, 404 when the pod has none or does not exist', async () => {
    expect(await get('namespaces/prod/pods/db')).toMatchObject({ kind: 'PodMetrics', apiVersion: 'metrics.k8s.io/v1beta1', metadata: { name: 'db' } });
    const none = await failure(get('namespaces/default/pods/on-b'));
    expect([none.code, none.message]).toEqual([404, 'podmetrics.metrics.k8s.io "on-b" not found']);
    expect((await failure(get('namespaces/default/pods/nope'))).message).toBe('pods "nope" not found');
  });

  it('lists and gets NodeMetrics', async () => {
    const list = await get('nodes') as any;
    expect(list.kind).toBe('NodeMetricsList');
    expect(list.items).toEqual([{
      metadata: { name: 'node-a', creationTimestamp: expect.any(String), labels: { zone: 'x' } }, timestamp: T, window: '10s',
      usage: { cpu: '1500m', memory: '2Gi' },
    }]);
    expect((await get('nodes', { labelSelector: 'zone=y' }) as any).items).toEqual([]);
    expect(await get('nodes/node-a')).toMatchObject({ kind: 'NodeMetrics', usage: { cpu: '1500m' } });
    expect((await failure(get('nodes/node-b'))).message).toBe('nodemetrics.metrics.k8s.io "node-b" not found');
  });

  it('refuses unknown paths and methods other than get and list', async () => {
    for (const p of ['things', 'namespaces/default/nodes', 'pods/web', 'nodes/a/b', 'namespaces/default/pods/web/x']) {
      expect((await failure(get(p))).code).toBe(404);
    }
    expect((await failure(handleMetrics('DELETE', ['nodes', 'node-a'], {}, ctx))).code).toBe(405);
    expect((await failure(get('pods', { watch: 'true' }))).code).toBe(405);
  });

  it('describes the group for discovery and formats quantities as metrics-server', () => {
    expect(metricsResourceList()).toMatchObject({ groupVersion: 'metrics.k8s.io/v1beta1', resources: [
      { name: 'nodes', namespaced: false, kind: 'NodeMetrics', verbs: ['get', 'list'] },
      { name: 'pods', namespaced: true, kind: 'PodMetrics', verbs: ['get', 'list'] },
    ] });
    expect(metricsDiscoveryGroup()).toMatchObject({ metadata: { name: 'metrics.k8s.io' }, versions: [{ version: 'v1beta1', resources: [
      { resource: 'nodes', scope: 'Cluster', responseKind: { group: 'metrics.k8s.io', version: 'v1beta1', kind: 'NodeMetrics' } },
      { resource: 'pods', scope: 'Namespaced', responseKind: { kind: 'PodMetrics' } },
    ] }] });
    expect([0, 999, 1000, 329087452, 2e9, 2.5e9].map(nanoCoresQuantity)).toEqual(['0', '999n', '1u', '329087452n', '2', '2500m']);
    expect([0, 512, 1536, 2748180 * 1024, 2 ** 30].map(bytesQuantity)).toEqual(['0', '512', '1536', '2748180Ki', '1Gi']);
  });
});
