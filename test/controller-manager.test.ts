import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, DEPLOYMENTS, Informer, PODS, REPLICASETS, type Deployment, type Pod, type ReplicaSet } from '@k8ts/api';
// @ts-expect-error plain JS module shared with scripts/
import { startControllerManager } from '../scripts/lib/processes.mjs';
import { call, eventually, readWatch, startTestApiserver, type TestApiserver } from './harness.js';

// The controller manager as scripts/cluster runs it (its own process, leader election on), against a real
// apiserver; the test plays the kubelet, and kills the controller manager with SIGKILL in the middle of a rollout.

let s: TestApiserver;
let client: ApiClient;
const ac = new AbortController();
const NS = 'cm-test';
let open = true;
let kubelet: Promise<void>;

const deployment = (image: string) => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: NS },
  spec: {
    replicas: 20, selector: { matchLabels: { app: 'web' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 2, maxUnavailable: 0 } },
    template: { metadata: { labels: { app: 'web' } }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'app', image }] } },
  },
});
const live = (pods: Pod[]) => pods.filter((p) => !p.metadata?.deletionTimestamp);
const isReady = (p: Pod) => !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

describe('controller-manager process', () => {
  beforeAll(async () => {
    s = await startTestApiserver();
    client = new ApiClient({ server: s.url });
    await call(s.url, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    // The fake kubelet marks pods Ready while the gate is open, and catches up when it opens again.
    const pods = new Informer<Pod>({ client, def: PODS, namespace: NS });
    const mark = (p: Pod) => {
      if (!open || isReady(p) || p.metadata?.deletionTimestamp) return;
      const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      void client.patch(PODS, NS, p.metadata!.name!, { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] } }, 'merge', { subresource: 'status' }).catch(() => undefined);
    };
    pods.addHandler({ onAdd: mark, onUpdate: (_o, p) => mark(p) });
    kubelet = pods.run(ac.signal);
    (globalThis as { catchUp?: () => void }).catchUp = () => { for (const p of pods.list()) mark(p); };
  }, 60_000);

  afterAll(async () => {
    ac.abort();
    await kubelet;
    await client?.close();
    await s?.stop();
  });

  it('finishes a 20-replica rollout with exactly 20 pods after a kill -9 in the middle, its ReplicaSets never sized above 22', async () => {
    let cm = await startControllerManager({ apiserverUrl: s.url });
    try {
      await call(s.url, 'POST', `/apis/apps/v1/namespaces/${NS}/deployments`, deployment('k8ts/busybox:1'));
      await eventually(async () => (await client.get<Deployment>(DEPLOYMENTS, NS, 'web')).status?.availableReplicas === 20, '20 available', 60_000);

      const state = new Map<string, Pod>();
      // Upstream's surge bound is on the ReplicaSets' sizes (a pod an old ReplicaSet is about to delete may briefly
      // overlap one the new ReplicaSet just made): their sum never exceeds replicas + maxSurge, at any event.
      const sizes = new Map<string, number>();
      let maxSized = 0;
      const watching = new AbortController();
      const before = await client.list<ReplicaSet>(REPLICASETS, NS);
      for (const rs of before.items) sizes.set(rs.metadata!.uid!, rs.spec?.replicas ?? 0);
      const rsWatch = readWatch(`${s.url}/apis/apps/v1/namespaces/${NS}/replicasets?watch=true&resourceVersion=${before.metadata.resourceVersion}`, (ev) => {
        if (ev.type === 'DELETED') sizes.delete(ev.object.metadata.uid);
        else sizes.set(ev.object.metadata.uid, ev.object.spec?.replicas ?? 0);
        maxSized = Math.max(maxSized, [...sizes.values()].reduce((a, b) => a + b, 0));
      }, { signal: watching.signal });
      const list = await client.list<Pod>(PODS, NS);
      for (const p of live(list.items)) state.set(p.metadata!.uid!, p);
      const watch = readWatch(`${s.url}/api/v1/namespaces/${NS}/pods?watch=true&resourceVersion=${list.metadata.resourceVersion}`, (ev) => {
        if (ev.type === 'DELETED' || ev.object.metadata.deletionTimestamp) state.delete(ev.object.metadata.uid);
        else state.set(ev.object.metadata.uid, ev.object);
      }, { signal: watching.signal });

      await client.patch(DEPLOYMENTS, NS, 'web', { spec: { template: { spec: { containers: [{ name: 'app', image: 'k8ts/busybox:2' }] } } } }, 'strategic');
      const newPods = () => [...state.values()].filter((p) => p.spec?.containers?.[0]?.image === 'k8ts/busybox:2');
      await eventually(() => newPods().length >= 6, '6 new pods', 60_000);
      open = false; // the rollout stalls: new pods are not Ready
      process.kill(cm.pid, 'SIGKILL');
      await eventually(() => { try { process.kill(cm.pid, 0); return false; } catch { return true; } }, 'controller manager gone');
      expect(newPods().length).toBeLessThan(20);
      // A new process takes over the Lease once the dead one's expires, and carries on from what the API says.
      cm = await startControllerManager({ apiserverUrl: s.url });
      open = true;
      (globalThis as { catchUp?: () => void }).catchUp!();
      await eventually(async () => {
        const d = await client.get<Deployment>(DEPLOYMENTS, NS, 'web');
        return d.status?.updatedReplicas === 20 && d.status.availableReplicas === 20 && d.status.replicas === 20;
      }, 'rollout done', 120_000);
      await eventually(() => state.size === 20, '20 live pods');
      watching.abort();
      await Promise.all([watch, rsWatch]);
      expect(maxSized).toBeLessThanOrEqual(22);
      const pods = live((await client.list<Pod>(PODS, NS)).items);
      expect(pods).toHaveLength(20);
      expect(pods.every((p) => p.spec?.containers?.[0]?.image === 'k8ts/busybox:2')).toBe(true);
      const sets = (await client.list<ReplicaSet>(REPLICASETS, NS)).items;
      expect(sets.map((rs) => rs.spec?.replicas).sort()).toEqual([0, 20]);
    } finally {
      await cm.stop();
    }
  });
});
