import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '@k8ts/api';
import { defaultProfile, Scheduler } from '@k8ts/scheduler';
import {
  call, eventually, startTestApiserver, startTestControllers, testKubectl, type TestApiserver, type TestControllers, type TestKubectl,
} from './harness.js';

let s: TestApiserver;
let controllers: TestControllers;
let kubectl: TestKubectl;
let client: ApiClient;
let localPath: string;
const stops: (() => Promise<void>)[] = [];
const api = (method: string, p: string, body?: unknown, headers?: Record<string, string>) => call(s.url, method, p, body, headers);

const node = (name: string) => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } },
  status: {
    capacity: { cpu: '4', memory: '8Gi', pods: '110' }, allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
    conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: new Date().toISOString() }],
  },
});
const claim = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '64Mi' } }, ...spec },
});
const podWithClaim = (name: string, claimName: string) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name },
  spec: {
    terminationGracePeriodSeconds: 0, containers: [{ name: 'app', image: 'k8ts/busybox:latest', volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
    volumes: [{ name: 'data', persistentVolumeClaim: { claimName } }],
  },
});

beforeAll(async () => {
  s = await startTestApiserver();
  client = new ApiClient({ server: s.url });
  localPath = mkdtempSync(path.join(tmpdir(), 'k8ts-local-path-'));
  controllers = await startTestControllers(s.url, ['persistentvolume-binder', 'local-path-provisioner', 'disruption'], { localPathDir: path.join(localPath, '{node}') });
  kubectl = testKubectl(s.url);
  const sched = new Scheduler({ client, profile: defaultProfile() });
  const ac = new AbortController();
  const running = sched.run(ac.signal);
  stops.push(async () => { ac.abort(); await running; });
  await api('POST', '/api/v1/nodes', node('node-1'));
});
afterAll(async () => {
  while (stops.length) await stops.pop()!();
  await controllers?.stop();
  await client?.close();
  kubectl?.cleanup();
  await s?.stop();
  rmSync(localPath, { recursive: true, force: true });
});

describe('storage classes', () => {
  it('starts with the local-path class as the default, shown as upstream', async () => {
    const out = await kubectl('get', 'storageclass');
    expect(out.split('\n')[0].split(/\s{2,}/)).toEqual(['NAME', 'PROVISIONER', 'RECLAIMPOLICY', 'VOLUMEBINDINGMODE', 'ALLOWVOLUMEEXPANSION', 'AGE']);
    expect(out.split('\n')[1]).toMatch(/^local-path \(default\)\s+rancher\.io\/local-path\s+Delete\s+WaitForFirstConsumer\s+false\s+\d+s$/);
    expect((await api('PUT', '/apis/storage.k8s.io/v1/storageclasses/local-path', {
      ...(await api('GET', '/apis/storage.k8s.io/v1/storageclasses/local-path')).body, reclaimPolicy: 'Retain',
    })).body.message).toContain('reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.');
  });

  it('gives a claim without a class the default class, and leaves storageClassName "" alone', async () => {
    expect((await api('POST', '/api/v1/namespaces/default/persistentvolumeclaims', claim('plain'))).body.spec.storageClassName).toBe('local-path');
    expect((await api('POST', '/api/v1/namespaces/default/persistentvolumeclaims', claim('none', { storageClassName: '' }))).body.spec.storageClassName).toBe('');
    await api('DELETE', '/api/v1/namespaces/default/persistentvolumeclaims/plain');
    await api('DELETE', '/api/v1/namespaces/default/persistentvolumeclaims/none');
  });
});

describe('the binder and the local-path provisioner', () => {
  it('binds a claim to a static volume; kubectl shows both Bound with upstream\'s columns', async () => {
    await api('POST', '/api/v1/persistentvolumes', {
      apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'static-1' },
      spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: 'manual', hostPath: { path: path.join(localPath, 'static') } },
    });
    await api('POST', '/api/v1/namespaces/default/persistentvolumeclaims', claim('manual', { storageClassName: 'manual' }));
    await eventually(async () => (await api('GET', '/api/v1/namespaces/default/persistentvolumeclaims/manual')).body.status?.phase === 'Bound', 'the claim Bound');
    const pvc = (await kubectl('get', 'pvc', 'manual')).split('\n');
    expect(pvc[0].split(/\s{2,}/)).toEqual(['NAME', 'STATUS', 'VOLUME', 'CAPACITY', 'ACCESS MODES', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'AGE']);
    expect(pvc[1]).toMatch(/^manual\s+Bound\s+static-1\s+1Gi\s+RWO\s+manual\s+<unset>\s+\d+s$/);
    await eventually(async () => /^static-1\s+1Gi\s+RWO\s+Retain\s+Bound\s+default\/manual\s+manual\s+<unset>\s+\d+s$/.test((await kubectl('get', 'pv', 'static-1', '--no-headers')).trim()), 'the volume Bound');
    // Retain: the volume outlives its claim, Released.
    await api('DELETE', '/api/v1/namespaces/default/persistentvolumeclaims/manual');
    await eventually(async () => (await api('GET', '/api/v1/persistentvolumes/static-1')).body.status?.phase === 'Released', 'the volume Released');
    await api('DELETE', '/api/v1/persistentvolumes/static-1');
  });

  it('provisions a WaitForFirstConsumer claim on the node its pod is scheduled to, and deletes it with the claim', async () => {
    await api('POST', '/api/v1/namespaces/default/persistentvolumeclaims', claim('data'));
    const waiting = await eventually(async () => (await api('GET', '/api/v1/namespaces/default/events?fieldSelector=involvedObject.name=data')).body.items
      .find((e: { reason: string }) => e.reason === 'WaitForFirstConsumer'), 'WaitForFirstConsumer');
    expect(waiting.message).toBe('waiting for first consumer to be created before binding');
    await api('POST', '/api/v1/namespaces/default/pods', podWithClaim('user', 'data'));
    const pod = await eventually(async () => {
      const p = (await api('GET', '/api/v1/namespaces/default/pods/user')).body;
      return p.spec.nodeName ? p : undefined;
    }, 'the pod bound');
    expect(pod.spec.nodeName).toBe('node-1');
    const pvc = (await api('GET', '/api/v1/namespaces/default/persistentvolumeclaims/data')).body;
    expect(pvc.status.phase).toBe('Bound');
    expect(pvc.metadata.annotations).toMatchObject({
      'volume.kubernetes.io/selected-node': 'node-1', 'volume.kubernetes.io/storage-provisioner': 'rancher.io/local-path', 'pv.kubernetes.io/bind-completed': 'yes',
    });
    const pv = (await api('GET', `/api/v1/persistentvolumes/${pvc.spec.volumeName}`)).body;
    const dir = path.join(localPath, 'node-1', `pvc-${pvc.metadata.uid}_default_data`);
    expect(pv.spec).toMatchObject({ hostPath: { path: dir, type: 'DirectoryOrCreate' }, persistentVolumeReclaimPolicy: 'Delete', storageClassName: 'local-path' });
    expect(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0]).toEqual({ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-1'] });
    expect(statSync(dir).mode & 0o777).toBe(0o777);
    await api('DELETE', '/api/v1/namespaces/default/pods/user?gracePeriodSeconds=0');
    await api('DELETE', '/api/v1/namespaces/default/persistentvolumeclaims/data');
    await eventually(async () => (await api('GET', `/api/v1/persistentvolumes/${pv.metadata.name}`)).status === 404, 'the volume deleted');
    expect(existsSync(dir)).toBe(false);
  });

  it('keeps a pod whose Immediate claim is unbound unschedulable, as upstream says it', async () => {
    await api('POST', '/apis/storage.k8s.io/v1/storageclasses', { metadata: { name: 'now' }, provisioner: 'example.com/none', volumeBindingMode: 'Immediate' });
    await api('POST', '/api/v1/namespaces/default/persistentvolumeclaims', claim('soon', { storageClassName: 'now' }));
    await api('POST', '/api/v1/namespaces/default/pods', podWithClaim('stuck', 'soon'));
    const cond = await eventually(async () => (await api('GET', '/api/v1/namespaces/default/pods/stuck')).body.status?.conditions?.find((c: { type: string }) => c.type === 'PodScheduled'), 'PodScheduled=False');
    expect(cond.message).toBe('0/1 nodes are available: 1 pod has unbound immediate PersistentVolumeClaims.');
    await api('DELETE', '/api/v1/namespaces/default/pods/stuck?gracePeriodSeconds=0');
  });
});

describe('disruption budgets and evictions', () => {
  const readyPod = async (name: string, labels: Record<string, string>) => {
    const created = (await api('POST', '/api/v1/namespaces/default/pods', {
      apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'k8ts/busybox:latest' }] },
    })).body;
    await api('PUT', `/api/v1/namespaces/default/pods/${name}/status`, { ...created, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } });
  };
  const evict = (name: string) => api('POST', `/api/v1/namespaces/default/pods/${name}/eviction`, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: 'default' } });

  it('counts healthy pods and lets evictions spend the budget once each, then refuses with 429 as upstream', async () => {
    for (const n of ['b1', 'b2', 'b3']) await readyPod(n, { app: 'budgeted' });
    await api('POST', '/apis/policy/v1/namespaces/default/poddisruptionbudgets', {
      apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'budget' }, spec: { minAvailable: 2, selector: { matchLabels: { app: 'budgeted' } } },
    });
    const status = await eventually(async () => {
      const st = (await api('GET', '/apis/policy/v1/namespaces/default/poddisruptionbudgets/budget')).body.status;
      return st?.observedGeneration === 1 && st.currentHealthy === 3 ? st : undefined;
    }, 'the budget computed');
    expect(status).toMatchObject({ desiredHealthy: 2, expectedPods: 3, disruptionsAllowed: 1 });
    expect(status.conditions[0]).toMatchObject({ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods' });
    expect((await kubectl('get', 'pdb', 'budget', '--no-headers')).trim()).toMatch(/^budget\s+2\s+N\/A\s+1\s+\d+s$/);

    const dry = await api('POST', '/api/v1/namespaces/default/pods/b1/eviction?dryRun=All', { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'b1' } });
    expect(dry.status).toBe(201);
    expect((await api('GET', '/apis/policy/v1/namespaces/default/poddisruptionbudgets/budget')).body.status.disruptionsAllowed).toBe(1);

    expect((await evict('b1')).status).toBe(201);
    const after = (await api('GET', '/apis/policy/v1/namespaces/default/poddisruptionbudgets/budget')).body.status;
    expect(after.disruptionsAllowed).toBe(0);
    // The eviction deleted b1 gracefully (no kubelet here finishes it): it no longer counts as healthy.
    expect((await api('GET', '/api/v1/namespaces/default/pods/b1')).body.metadata.deletionTimestamp).toBeTruthy();
    const refused = await evict('b2');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBeNull();
    expect(refused.body).toMatchObject({
      kind: 'Status', reason: 'TooManyRequests', code: 429, message: "Cannot evict pod as it would violate the pod's disruption budget.",
      details: { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget budget needs 2 healthy pods and has 2 currently' }] },
    });
    expect((await api('GET', '/api/v1/namespaces/default/pods/b2')).status).toBe(200);
  });

  it('refuses a pod under two budgets as upstream, and evicts pods under none', async () => {
    await readyPod('two', { app: 'two' });
    for (const n of ['p1', 'p2']) {
      await api('POST', '/apis/policy/v1/namespaces/default/poddisruptionbudgets', {
        apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: n }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'two' } } },
      });
    }
    const two = await evict('two');
    expect(two.status).toBe(500);
    expect(two.body.message).toBe('This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
    await readyPod('free', { app: 'free' });
    expect((await evict('free')).status).toBe(201);
    expect((await evict('missing')).status).toBe(404);
  });

  it('never lets concurrent evictions spend one disruption twice', async () => {
    for (const n of ['c1', 'c2', 'c3', 'c4', 'c5']) await readyPod(n, { app: 'race' });
    await api('POST', '/apis/policy/v1/namespaces/default/poddisruptionbudgets', {
      apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'race' }, spec: { minAvailable: 3, selector: { matchLabels: { app: 'race' } } },
    });
    await eventually(async () => (await api('GET', '/apis/policy/v1/namespaces/default/poddisruptionbudgets/race')).body.status?.disruptionsAllowed === 2, 'two disruptions allowed');
    const codes = (await Promise.all(['c1', 'c2', 'c3', 'c4', 'c5'].map((n) => evict(n)))).map((r) => r.status).sort();
    expect(codes).toEqual([201, 201, 429, 429, 429]);
  });

  it('fails safe when maxUnavailable needs the scale of pods without a controller (SyncFailed)', async () => {
    await readyPod('bare', { app: 'bare' });
    await api('POST', '/apis/policy/v1/namespaces/default/poddisruptionbudgets', {
      apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'bare' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'bare' } } },
    });
    const cond = await eventually(async () => (await api('GET', '/apis/policy/v1/namespaces/default/poddisruptionbudgets/bare')).body.status?.conditions?.[0], 'SyncFailed');
    expect(cond).toMatchObject({ type: 'DisruptionAllowed', status: 'False', reason: 'SyncFailed', message: 'found no controller ref for pod "bare"' });
    expect((await evict('bare')).status).toBe(429);
  });
});
