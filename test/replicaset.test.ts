import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, PODS, REPLICASETS, SharedInformerFactory, type Pod } from '@k8ts/api';
import { ReplicaSetController, type ReplicatedObject } from '@k8ts/controller-manager';
import { call, eventually, startTestApiserver, type TestApiserver } from './harness.js';

let s: TestApiserver;
let client: ApiClient;
const ac = new AbortController();
let running: Promise<unknown>;
const api = (method: string, p: string, body?: unknown, headers?: Record<string, string>) => call(s.url, method, p, body, headers);
const NS = 'rs-test';

const replicaSet = (name: string, replicas: number, labels: Record<string, string>) => ({
  apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name, namespace: NS },
  spec: {
    replicas, selector: { matchLabels: labels },
    template: { metadata: { labels }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'app', image: 'k8ts/busybox:latest' }] } },
  },
});

const podsOf = async (selector: string) => (await client.list<Pod>(PODS, NS, { labelSelector: selector })).items.filter((p) => !p.metadata?.deletionTimestamp);

/** Plays the kubelet: every pod of the namespace is Running and Ready. */
async function markReady(): Promise<void> {
  for (const p of (await client.list<Pod>(PODS, NS)).items) {
    if (p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    await client.patch(PODS, NS, p.metadata!.name!, { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] } }, 'merge', { subresource: 'status' }).catch(() => undefined);
  }
}

describe('ReplicaSet controller against a real apiserver', () => {
  beforeAll(async () => {
    s = await startTestApiserver();
    client = new ApiClient({ server: s.url });
    await api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    const informers = new SharedInformerFactory({ client });
    const controller = new ReplicaSetController({ client, informers });
    informers.start(ac.signal);
    running = controller.run(ac.signal, 2);
  }, 60_000);

  afterAll(async () => {
    ac.abort();
    await running;
    await client?.close();
    await s?.stop();
  });

  it('creates replicas, replaces a deleted pod, scales down, and reports ready and available replicas', async () => {
    expect((await api('POST', `/apis/apps/v1/namespaces/${NS}/replicasets`, replicaSet('web', 3, { app: 'web' }))).status).toBe(201);
    await eventually(async () => (await podsOf('app=web')).length === 3, '3 pods');
    const pods = await podsOf('app=web');
    expect(pods.every((p) => p.metadata!.name!.startsWith('web-') && p.metadata!.ownerReferences?.[0]?.kind === 'ReplicaSet')).toBe(true);
    await markReady();
    await eventually(async () => (await client.get<ReplicatedObject>(REPLICASETS, NS, 'web')).status?.availableReplicas === 3, 'status 3 available');
    const rs = await client.get<ReplicatedObject>(REPLICASETS, NS, 'web');
    expect(rs.status).toMatchObject({ replicas: 3, fullyLabeledReplicas: 3, readyReplicas: 3, availableReplicas: 3, observedGeneration: 1 });

    await client.delete(PODS, NS, pods[0].metadata!.name!, { gracePeriodSeconds: 0 });
    await eventually(async () => { const p = await podsOf('app=web'); return p.length === 3 && !p.some((x) => x.metadata!.name === pods[0].metadata!.name); }, 'replacement pod');

    await client.patch(REPLICASETS, NS, 'web', { spec: { replicas: 1 } }, 'merge');
    await eventually(async () => (await podsOf('app=web')).length === 1, 'scaled down to 1');
    await eventually(async () => (await client.get<ReplicatedObject>(REPLICASETS, NS, 'web')).status?.replicas === 1, 'status replicas 1');
    const events = (await api('GET', `/api/v1/namespaces/${NS}/events`)).body.items.map((e: { reason: string }) => e.reason);
    expect(events).toContain('SuccessfulCreate');
    expect(events).toContain('SuccessfulDelete');
  });

  it('adopts a matching orphan instead of creating a pod, and releases a pod relabelled out of the selector', async () => {
    await api('POST', `/api/v1/namespaces/${NS}/pods`, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stray', namespace: NS, labels: { app: 'adopt' } },
      spec: { containers: [{ name: 'app', image: 'k8ts/busybox:latest' }] },
    });
    await api('POST', `/apis/apps/v1/namespaces/${NS}/replicasets`, replicaSet('adopt', 2, { app: 'adopt' }));
    const rs = await client.get<ReplicatedObject>(REPLICASETS, NS, 'adopt');
    await eventually(async () => (await podsOf('app=adopt')).length === 2, '2 pods');
    const stray = await client.get<Pod>(PODS, NS, 'stray');
    expect(stray.metadata!.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'adopt', uid: rs.metadata!.uid, controller: true, blockOwnerDeletion: true }]);

    await client.patch(PODS, NS, 'stray', { metadata: { labels: { app: 'gone' } } }, 'merge');
    await eventually(async () => !(await client.get<Pod>(PODS, NS, 'stray')).metadata!.ownerReferences?.length, 'stray released');
    await eventually(async () => (await podsOf('app=adopt')).length === 2, 'a replacement for the released pod');
  });
});
