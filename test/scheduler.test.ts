import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, LeaderElector } from '@k8ts/api';
import { defaultProfile, Scheduler } from '@k8ts/scheduler';
import { call, eventually, startTestApiserver, type TestApiserver } from './harness.js';

let s: TestApiserver;
let client: ApiClient;
const stops: (() => Promise<void>)[] = [];
const api = (method: string, p: string, body?: unknown, headers?: Record<string, string>) => call(s.url, method, p, body, headers);

/** A Node object as a kubelet would register it (no kubelet runs: the scheduler only needs the object). */
const node = (name: string, cpu: string, extra: { labels?: Record<string, string>; taints?: unknown[]; unschedulable?: boolean } = {}) => ({
  apiVersion: 'v1', kind: 'Node',
  metadata: { name, labels: { 'kubernetes.io/hostname': name, ...extra.labels } },
  spec: { ...(extra.taints ? { taints: extra.taints } : {}), ...(extra.unschedulable ? { unschedulable: true } : {}) },
  status: {
    capacity: { cpu, memory: '8Gi', pods: '110' }, allocatable: { cpu, memory: '8Gi', pods: '110' },
    conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: new Date().toISOString() }],
  },
});

const pod = (ns: string, name: string, spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, ...meta },
  spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'app', image: 'k8ts/busybox:latest', resources: { requests: { cpu: '100m' } } }], ...spec },
});
const cpuPod = (ns: string, name: string, cpu: string, spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}) =>
  pod(ns, name, { containers: [{ name: 'app', image: 'k8ts/busybox:latest', resources: { requests: { cpu } } }], ...spec }, meta);

async function nodeOf(ns: string, name: string): Promise<string> {
  return eventually(async () => (await api('GET', `/api/v1/namespaces/${ns}/pods/${name}`)).body.spec?.nodeName, `${name} bound`);
}

function startScheduler(): Scheduler {
  const sched = new Scheduler({ client, profile: defaultProfile() });
  const ac = new AbortController();
  const running = sched.run(ac.signal);
  stops.push(async () => { ac.abort(); await running; });
  return sched;
}

async function namespace(name: string): Promise<string> {
  await api('POST', '/api/v1/namespaces', { metadata: { name } });
  return name;
}

beforeAll(async () => {
  s = await startTestApiserver();
  client = new ApiClient({ server: s.url });
});
afterEach(async () => {
  while (stops.length) await stops.pop()!();
  await api('DELETE', '/api/v1/nodes');
});
afterAll(async () => { await client?.close(); await s?.stop(); });

describe('scheduler against a real apiserver and etcd', () => {
  it('fits pods by resources and records Scheduled events', async () => {
    const ns = await namespace('fit');
    await api('POST', '/api/v1/nodes', node('small', '2'));
    await api('POST', '/api/v1/nodes', node('big', '4'));
    startScheduler();
    await api('POST', `/api/v1/namespaces/${ns}/pods`, cpuPod(ns, 'needs3', '3'));
    expect(await nodeOf(ns, 'needs3')).toBe('big');
    const events = await eventually(async () => {
      const items = (await api('GET', `/api/v1/namespaces/${ns}/events?fieldSelector=involvedObject.name%3Dneeds3`)).body.items;
      return items.length && items;
    }, 'Scheduled event');
    expect(events[0]).toMatchObject({ reason: 'Scheduled', type: 'Normal', message: `Successfully assigned ${ns}/needs3 to big`, source: { component: 'default-scheduler' } });
    const p = (await api('GET', `/api/v1/namespaces/${ns}/pods/needs3`)).body;
    expect(p.status.conditions).toContainEqual(expect.objectContaining({ type: 'PodScheduled', status: 'True' }));
  });

  it('honours node selectors, taints and tolerations, and cordoned nodes', async () => {
    const ns = await namespace('sel');
    await api('POST', '/api/v1/nodes', node('ssd', '4', { labels: { disk: 'ssd' } }));
    await api('POST', '/api/v1/nodes', node('tainted', '4', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }));
    await api('POST', '/api/v1/nodes', node('cordoned', '4', { unschedulable: true }));
    await api('POST', '/api/v1/nodes', node('plain', '4'));
    startScheduler();
    await api('POST', `/api/v1/namespaces/${ns}/pods`, pod(ns, 'wants-ssd', { nodeSelector: { disk: 'ssd' } }));
    expect(await nodeOf(ns, 'wants-ssd')).toBe('ssd');
    await api('POST', `/api/v1/namespaces/${ns}/pods`, pod(ns, 'gpu', {
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }],
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['tainted'] }] }] } } },
    }));
    expect(await nodeOf(ns, 'gpu')).toBe('tainted');
    for (let i = 0; i < 6; i++) await api('POST', `/api/v1/namespaces/${ns}/pods`, pod(ns, `any-${i}`));
    for (let i = 0; i < 6; i++) expect(['ssd', 'plain']).toContain(await nodeOf(ns, `any-${i}`));
    await api('POST', `/api/v1/namespaces/${ns}/pods`, pod(ns, 'nowhere', { nodeSelector: { disk: 'nvme' } }));
    const ev = await eventually(async () => (await api('GET', `/api/v1/namespaces/${ns}/events?fieldSelector=involvedObject.name%3Dnowhere`)).body.items.find((e: any) => e.reason === 'FailedScheduling'), 'FailedScheduling');
    expect(ev.message).toBe("0/4 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 1 node(s) were unschedulable, 2 node(s) didn't match Pod's node affinity/selector.");
  });

  it('spreads 6 replicas of one owner over 3 nodes 2/2/2', async () => {
    const ns = await namespace('spread');
    for (const n of ['n1', 'n2', 'n3']) await api('POST', '/api/v1/nodes', node(n, '8'));
    startScheduler();
    const owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: '8d7c3f2e-0000-4000-8000-000000000001', controller: true };
    for (let i = 0; i < 6; i++) await api('POST', `/api/v1/namespaces/${ns}/pods`, pod(ns, `web-${i}`, {}, { labels: { app: 'web' }, ownerReferences: [owner] }));
    const placed: string[] = [];
    for (let i = 0; i < 6; i++) placed.push(await nodeOf(ns, `web-${i}`));
    expect(['n1', 'n2', 'n3'].map((n) => placed.filter((p) => p === n).length)).toEqual([2, 2, 2]);
  });

  it('keeps pods with required anti-affinity apart, and schedules a waiting pod as soon as a big enough node joins', async () => {
    const ns = await namespace('anti');
    await api('POST', '/api/v1/nodes', node('a1', '4'));
    await api('POST', '/api/v1/nodes', node('a2', '4'));
    startScheduler();
    const anti = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'kubernetes.io/hostname' }] } };
    for (let i = 0; i < 3; i++) await api('POST', `/api/v1/namespaces/${ns}/pods`, pod(ns, `db-${i}`, { affinity: anti }, { labels: { app: 'db' } }));
    const bound = await eventually(async () => {
      const items = (await api('GET', `/api/v1/namespaces/${ns}/pods`)).body.items.filter((p: any) => p.spec.nodeName);
      return items.length === 2 && items;
    }, 'two db pods bound');
    expect(new Set(bound.map((p: any) => p.spec.nodeName)).size).toBe(2);
    const pending = (await api('GET', `/api/v1/namespaces/${ns}/pods`)).body.items.find((p: any) => !p.spec.nodeName);
    const ev = await eventually(async () => (await api('GET', `/api/v1/namespaces/${ns}/events?fieldSelector=involvedObject.name%3D${pending.metadata.name}`)).body.items.find((e: any) => e.reason === 'FailedScheduling'), 'FailedScheduling');
    expect(ev.message).toBe("0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules.");
    await api('POST', `/api/v1/namespaces/${ns}/pods`, cpuPod(ns, 'huge', '16'));
    const hugeEv = await eventually(async () => (await api('GET', `/api/v1/namespaces/${ns}/events?fieldSelector=involvedObject.name%3Dhuge`)).body.items.find((e: any) => e.reason === 'FailedScheduling'), 'huge FailedScheduling');
    expect(hugeEv.message).toBe('0/2 nodes are available: 2 Insufficient cpu.');
    // The Event and the status patch are written independently: the condition may land a moment after the Event.
    const cond = await eventually(async () => (await api('GET', `/api/v1/namespaces/${ns}/pods/huge`)).body.status.conditions?.find((c: any) => c.type === 'PodScheduled'), 'huge PodScheduled condition');
    expect(cond).toMatchObject({ status: 'False', reason: 'Unschedulable' });
    await api('POST', '/api/v1/nodes', node('a3', '32'));
    expect(await nodeOf(ns, 'huge')).toBe('a3');
    expect(await nodeOf(ns, pending.metadata.name)).toBe('a3');
  });

  it('preempts lower-priority pods when nothing fits', async () => {
    const ns = await namespace('preempt');
    await api('POST', '/apis/scheduling.k8s.io/v1/priorityclasses', { metadata: { name: 'high' }, value: 1000 });
    await api('POST', '/api/v1/nodes', node('p1', '2'));
    startScheduler();
    await api('POST', `/api/v1/namespaces/${ns}/pods`, cpuPod(ns, 'low', '1500m'));
    expect(await nodeOf(ns, 'low')).toBe('p1');
    await api('POST', `/api/v1/namespaces/${ns}/pods`, cpuPod(ns, 'vip', '1500m', { priorityClassName: 'high' }));
    expect(await nodeOf(ns, 'vip')).toBe('p1');
    expect((await api('GET', `/api/v1/namespaces/${ns}/pods/low`)).status).toBe(404);
    const vip = (await api('GET', `/api/v1/namespaces/${ns}/pods/vip`)).body;
    expect(vip.spec.priority).toBe(1000);
    expect(vip.status.nominatedNodeName).toBe('p1');
  });

  it('fails over between two schedulers through a Lease', async () => {
    const ns = await namespace('leader');
    await api('POST', '/api/v1/nodes', node('l1', '4'));
    const run = (id: string) => {
      const ac = new AbortController();
      const elector = new LeaderElector({ client, namespace: 'kube-system', name: 'kube-scheduler-test', identity: id, leaseDurationSeconds: 3, renewDeadlineSeconds: 2, retryPeriodSeconds: 1 });
      const done = elector.run(ac.signal, { onStartedLeading: (sig) => new Scheduler({ client, profile: defaultProfile() }).run(sig) });
      return { elector, stop: async () => { ac.abort(); await done; } };
    };
    const a = run('sched-a');
    await eventually(() => a.elector.isLeader(), 'a leads');
    const b = run('sched-b');
    stops.push(b.stop);
    await api('POST', `/api/v1/namespaces/${ns}/pods`, pod(ns, 'first'));
    expect(await nodeOf(ns, 'first')).toBe('l1');
    expect(b.elector.isLeader()).toBe(false);
    await a.stop();
    await eventually(() => b.elector.isLeader(), 'b takes over', 20_000);
    await api('POST', `/api/v1/namespaces/${ns}/pods`, pod(ns, 'second'));
    expect(await nodeOf(ns, 'second')).toBe('l1');
  });
});
