import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, LEASES, microTime, NODES, PODS, SharedInformerFactory, type Lease, type Node, type Pod } from '@k8ts/api';
import { NodeLifecycleController, TaintEvictionController } from '@k8ts/controller-manager';
import { call, eventually, startTestApiserver, type TestApiserver } from './harness.js';

// Fake nodes: the test plays their kubelets, renewing (or not) each node's Lease in kube-node-lease and posting
// its Ready condition. The apiserver gives pods 0 s of default unreachable toleration, so a pod without its own
// toleration is evicted as soon as its node is tainted.
let s: TestApiserver;
let client: ApiClient;
const ac = new AbortController();
let running: Promise<unknown>;
const NS = 'nlc-test';
const GRACE_MS = 2_000;
const renewing = new Set<string>();
let heartbeats: ReturnType<typeof setInterval> | undefined;

const rfc3339 = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const readyStatus = (status: 'True' | 'False') => ({
  conditions: [{ type: 'Ready', status, reason: status === 'True' ? 'KubeletReady' : 'KubeletNotReady', message: 'fake kubelet', lastHeartbeatTime: rfc3339(), lastTransitionTime: rfc3339() }],
});

async function fakeNode(name: string): Promise<void> {
  await client.create<Node>(NODES, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: {}, status: readyStatus('True') });
  await client.create<Lease>(LEASES, 'kube-node-lease', {
    apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: 'kube-node-lease' },
    spec: { holderIdentity: name, leaseDurationSeconds: 2, renewTime: microTime(Date.now()) },
  });
  renewing.add(name);
}

async function renew(): Promise<void> {
  for (const name of renewing) {
    await client.patch(LEASES, 'kube-node-lease', name, { spec: { renewTime: microTime(Date.now()) } }, 'merge').catch(() => undefined);
  }
}

const pod = (name: string, tolerationSeconds?: number | 'forever') => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS },
  spec: {
    nodeName: 'lost', containers: [{ name: 'app', image: 'k8ts/busybox:latest' }],
    ...(tolerationSeconds === undefined ? {} : {
      tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', ...(tolerationSeconds === 'forever' ? {} : { tolerationSeconds }) }],
    }),
  },
});

const taintsOf = async (name: string) => (await client.get<Node>(NODES, undefined, name)).spec?.taints ?? [];
const evicted = async (name: string) => {
  try {
    return Boolean((await client.get<Pod>(PODS, NS, name)).metadata?.deletionTimestamp);
  } catch {
    return true;
  }
};

describe('node lifecycle and taint eviction against a real apiserver', () => {
  beforeAll(async () => {
    s = await startTestApiserver({ defaultUnreachableTolerationSeconds: 0 });
    client = new ApiClient({ server: s.url });
    await call(s.url, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    await fakeNode('healthy');
    await fakeNode('lost');
    heartbeats = setInterval(() => void renew(), 250);
    const informers = new SharedInformerFactory({ client });
    const lifecycle = new NodeLifecycleController({ client, informers, nodeMonitorPeriodMs: 200, nodeMonitorGracePeriodMs: GRACE_MS, nodeStartupGracePeriodMs: GRACE_MS });
    const eviction = new TaintEvictionController({ client, informers });
    informers.start(ac.signal);
    running = Promise.all([lifecycle.run(ac.signal, 2), eviction.run(ac.signal, 2)]);
  }, 60_000);

  afterAll(async () => {
    clearInterval(heartbeats);
    ac.abort();
    await running;
    await client?.close();
    await s?.stop();
  });

  it('adds the default NoExecute tolerations to new pods, and keeps them through a PUT that leaves them out', async () => {
    const created = (await call(s.url, 'POST', `/api/v1/namespaces/${NS}/pods`, { ...pod('defaults'), spec: { ...pod('defaults').spec, nodeName: 'healthy' } })).body;
    expect(created.spec.tolerations).toEqual([
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 0 },
    ]);
    const spec = { ...created.spec };
    delete spec.tolerations;
    const put = await call(s.url, 'PUT', `/api/v1/namespaces/${NS}/pods/defaults`, { ...created, spec });
    expect(put.status).toBe(200);
    expect(put.body.spec.tolerations).toEqual(created.spec.tolerations);
  });

  it('marks a silent node Unknown and taints it, evicts its pods as their tolerations say, and untaints it when it is back', async () => {
    for (const p of [pod('plain'), pod('short', 2), pod('forever', 'forever')]) {
      expect((await call(s.url, 'POST', `/api/v1/namespaces/${NS}/pods`, p)).status).toBe(201);
      await client.patch(PODS, NS, p.metadata.name, { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: rfc3339() }] } }, 'merge', { subresource: 'status' });
    }
    const stopped = Date.now();
    renewing.delete('lost');

    const node = await eventually(async () => {
      const n = await client.get<Node>(NODES, undefined, 'lost');
      return n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'Unknown' ? n : undefined;
    }, 'the lost node Unknown', 15_000);
    const unknownAfter = Date.now() - stopped;
    // The last renewal may have landed up to one heartbeat (250 ms) before renewals stopped.
    expect(unknownAfter).toBeGreaterThanOrEqual(GRACE_MS - 500);
    expect(node.status!.conditions!.find((c) => c.type === 'Ready')).toMatchObject({ reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
    expect((await client.get<Node>(NODES, undefined, 'healthy')).status!.conditions!.find((c) => c.type === 'Ready')!.status).toBe('True');

    const taint = await eventually(async () => (await taintsOf('lost')).find((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute'), 'the unreachable NoExecute taint');
    expect(taint.timeAdded).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    await eventually(async () => (await taintsOf('lost')).some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoSchedule'), 'the unreachable NoSchedule taint');
    const tainted = Date.now();

    // The pods were marked not ready; the one with no toleration of its own (0 s by the apiserver's flag) goes at once.
    expect((await client.get<Pod>(PODS, NS, 'forever')).status!.conditions!.find((c) => c.type === 'Ready')!.status).toBe('False');
    await eventually(() => evicted('plain'), 'plain evicted', 5_000);
    expect(await evicted('short')).toBe(false);
    await eventually(() => evicted('short'), 'short evicted after its 2 s', 10_000);
    const shortAfter = Date.now() - tainted;
    expect(shortAfter).toBeGreaterThanOrEqual(1_000);
    expect(await evicted('forever')).toBe(false);

    const events = (await call(s.url, 'GET', `/api/v1/namespaces/${NS}/events`)).body.items as { reason: string; message: string }[];
    expect(events.map((e) => `${e.reason}: ${e.message}`)).toEqual(expect.arrayContaining([
      `TaintManagerEviction: Marking for deletion Pod ${NS}/plain`, `TaintManagerEviction: Marking for deletion Pod ${NS}/short`, 'NodeNotReady: Node is not ready',
    ]));
    const nodeEvents = (await call(s.url, 'GET', '/api/v1/namespaces/default/events')).body.items as { reason: string; involvedObject: { name: string } }[];
    expect(nodeEvents.some((e) => e.reason === 'NodeNotReady' && e.involvedObject.name === 'lost')).toBe(true);

    // The kubelet comes back: Lease renewed, Ready posted. Both taints go; the pod that tolerated forever stayed.
    renewing.add('lost');
    await client.patch(NODES, undefined, 'lost', { status: readyStatus('True') }, 'merge', { subresource: 'status' });
    await eventually(async () => (await taintsOf('lost')).length === 0, 'taints removed', 10_000);
    expect(await evicted('forever')).toBe(false);
    console.info(`node Unknown ${unknownAfter} ms after its last heartbeat (grace ${GRACE_MS} ms); tolerationSeconds 2 pod evicted ${shortAfter} ms after the taint was seen`);
  });
});
