import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, LeaderElector, SCHEDULER_DEBUG_URL_ANNOTATION } from '@k8ts/api';
import { debugUrl, defaultProfile, Scheduler, schedulerHttpHandler } from '@k8ts/scheduler';
import { call, eventually, startTestApiserver, testKubectl, type TestApiserver, type TestKubectl } from './harness.js';

let s: TestApiserver;
let client: ApiClient;
let kubectl: TestKubectl;
let server: Server | undefined;
const ac = new AbortController();
let leading: Promise<void> | undefined;
const api = (method: string, p: string, body?: unknown) => call(s.url, method, p, body);

const node = (name: string, cpu: string, unschedulable = false) => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } },
  spec: unschedulable ? { unschedulable: true } : {},
  status: { allocatable: { cpu, memory: '8Gi', pods: '110' }, capacity: { cpu, memory: '8Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
});
const pod = (name: string, cpu: string, schedulerName = 'default-scheduler') => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'explain' },
  spec: { schedulerName, containers: [{ name: 'app', image: 'k8ts/busybox:latest', resources: { requests: { cpu } } }] },
});
const raw = async (name: string) => JSON.parse(await kubectl('get', '--raw', `/api/v1/namespaces/explain/pods/${name}/scheduling`));

beforeAll(async () => {
  s = await startTestApiserver();
  client = new ApiClient({ server: s.url });
  kubectl = testKubectl(s.url);
  await api('POST', '/api/v1/namespaces', { metadata: { name: 'explain' } });
  for (const n of [node('big', '4'), node('medium', '3'), node('small', '1'), node('cordoned', '8', true)]) await api('POST', '/api/v1/nodes', n);
});
afterAll(async () => {
  ac.abort();
  await leading;
  server?.close();
  kubectl?.cleanup();
  await client?.close();
  await s?.stop();
});

describe('scheduling explained: pods/{name}/scheduling through the apiserver, with the real kubectl', () => {
  it('answers 503 while no scheduler leads', async () => {
    await api('POST', '/api/v1/namespaces/explain/pods', pod('early', '100m', 'nobody'));
    const r = await api('GET', '/api/v1/namespaces/explain/pods/early/scheduling');
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable', message: expect.stringContaining('no scheduler leads') });
  });

  it('shows every node evaluated: the filter that rejected it, or each score plugin\'s weighted score', async () => {
    // The scheduler as main.ts runs it: its HTTP handler, and a Lease that says where that is.
    const scheduler = new Scheduler({ client, profile: defaultProfile() });
    server = createServer(schedulerHttpHandler(() => scheduler));
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const elector = new LeaderElector({
      client, namespace: 'kube-system', name: 'kube-scheduler', identity: 'test_1',
      annotations: { [SCHEDULER_DEBUG_URL_ANNOTATION]: debugUrl('127.0.0.1', port) },
    });
    leading = elector.run(ac.signal, { onStartedLeading: (signal) => scheduler.run(signal) });

    await api('POST', '/api/v1/namespaces/explain/pods', pod('web', '2'));
    await eventually(async () => (await api('GET', '/api/v1/namespaces/explain/pods/web')).body.spec?.nodeName, 'web bound');
    const web = await raw('web');
    expect(web).toMatchObject({ kind: 'SchedulingExplanation', result: 'Scheduled', node: 'big', numNodes: 4, evaluated: 4, feasible: 2, pod: { namespace: 'explain', name: 'web' } });
    const byName = Object.fromEntries(web.nodes.map((n: { name: string }) => [n.name, n]));
    expect(byName.small).toEqual({ name: 'small', filter: { plugin: 'NodeResourcesFit', code: 'Unschedulable', reasons: ['Insufficient cpu'] } });
    expect(byName.cordoned.filter).toMatchObject({ plugin: 'NodeUnschedulable', code: 'UnschedulableAndUnresolvable' });
    // Feasible nodes first, best first; each score is the plugin's normalized score, its weight and their product.
    expect(web.nodes.slice(0, 2).map((n: { name: string }) => n.name)).toEqual(['big', 'medium']);
    expect(byName.big.chosen).toBe(true);
    const fit = byName.big.scores.find((x: { plugin: string }) => x.plugin === 'NodeResourcesFit');
    expect(fit).toEqual({ plugin: 'NodeResourcesFit', score: expect.any(Number), weight: 1, weighted: fit.score });
    expect(byName.big.scores.find((x: { plugin: string }) => x.plugin === 'TaintToleration')).toEqual({ plugin: 'TaintToleration', score: 100, weight: 3, weighted: 300 });
    expect(byName.big.total).toBe(byName.big.scores.reduce((a: number, x: { weighted: number }) => a + x.weighted, 0));
    expect(byName.big.total).toBeGreaterThan(byName.medium.total);
    // Nothing prefers any node or spreads this pod: those plugins' PreScore skipped them.
    expect(byName.big.skipped).toEqual(expect.arrayContaining(['NodeAffinity', 'PodTopologySpread', 'InterPodAffinity']));
  });

  it('explains an unschedulable pod node by node', async () => {
    await api('POST', '/api/v1/namespaces/explain/pods', pod('huge', '6'));
    const huge = await eventually(async () => { const r = await api('GET', '/api/v1/namespaces/explain/pods/huge/scheduling'); return r.status === 200 && r.body; }, 'huge explained');
    expect(huge).toMatchObject({ result: 'Unschedulable', numNodes: 4, feasible: 0 });
    expect(huge.node).toBeUndefined();
    expect(Object.fromEntries(huge.nodes.map((n: { name: string; filter: { plugin: string } }) => [n.name, n.filter.plugin])))
      .toEqual({ big: 'NodeResourcesFit', medium: 'NodeResourcesFit', small: 'NodeResourcesFit', cordoned: 'NodeUnschedulable' });
    expect((await raw('huge')).result).toBe('Unschedulable');
  });

  it('says 404 for a pod the scheduler never tried, and for a pod that does not exist', async () => {
    await expect(kubectl('get', '--raw', '/api/v1/namespaces/explain/pods/early/scheduling')).rejects.toThrow(/NotFound|keeps no scheduling cycle/);
    const never = await api('GET', '/api/v1/namespaces/explain/pods/early/scheduling');
    expect(never.status).toBe(404);
    expect(never.body.message).toContain('keeps no scheduling cycle of pod explain/early');
    const missing = await api('GET', '/api/v1/namespaces/explain/pods/nope/scheduling');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ kind: 'Status', reason: 'NotFound', message: 'pods "nope" not found' });
    expect((await api('POST', '/api/v1/namespaces/explain/pods/web/scheduling', {})).status).toBe(405);
  });
});
