import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, CONFIGMAPS, DEPLOYMENTS, NAMESPACES, PODS, REPLICASETS, SERVICEACCOUNTS, SERVICES, type KubeObject, type Pod } from '@k8ts/api';
import { call, eventually, startTestApiserver, startTestControllers, type TestApiserver, type TestControllers } from './harness.js';
// @ts-expect-error plain JS module shared with scripts/cluster
import { writeKubeconfig } from '../scripts/lib/processes.mjs';

const run = promisify(execFile);
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;

let s: TestApiserver;
let cm: TestControllers;
let client: ApiClient;
const api = (method: string, p: string, body?: unknown, headers?: Record<string, string>) => call(s.url, method, p, body, headers);
const NS = 'gc-test';
const HOLD = 'example.com/hold';

const replicaSet = (name: string, replicas: number, owner?: KubeObject) => ({
  apiVersion: 'apps/v1', kind: 'ReplicaSet',
  metadata: {
    name, namespace: NS,
    ...(owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: owner.metadata!.name, uid: owner.metadata!.uid, controller: true, blockOwnerDeletion: true }] } : {}),
  },
  spec: {
    replicas, selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'app', image: 'k8ts/busybox:latest' }] } },
  },
});

const podsOf = async (app: string) => (await client.list<Pod>(PODS, NS, { labelSelector: `app=${app}` })).items;
const exists = async (def: typeof PODS, name: string, ns: string | undefined = NS) => client.get(def, ns, name).then(() => true, () => false);

async function createReplicaSet(name: string, replicas: number, owner?: KubeObject): Promise<KubeObject> {
  expect((await api('POST', `/apis/apps/v1/namespaces/${NS}/replicasets`, replicaSet(name, replicas, owner))).status).toBe(201);
  await eventually(async () => (await podsOf(name)).length === replicas, `${replicas} pods of ${name}`);
  return client.get(REPLICASETS, NS, name);
}

/** Holds a pod with a finalizer, so that a foreground deletion has something to wait for. */
const hold = (name: string) => client.patch(PODS, NS, name, { metadata: { finalizers: [HOLD] } }, 'merge');
const release = (name: string) => client.patch(PODS, NS, name, { metadata: { finalizers: null } }, 'merge');

describe('garbage collection and namespace deletion against a real apiserver', () => {
  beforeAll(async () => {
    s = await startTestApiserver();
    client = new ApiClient({ server: s.url });
    await api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    cm = await startTestControllers(s.url);
  }, 60_000);

  afterAll(async () => {
    await cm?.stop();
    await client?.close();
    await s?.stop();
  });

  it('the apiserver sets the finalizers from DeleteOptions (propagationPolicy and orphanDependents)', async () => {
    for (const [name, body, finalizers] of [
      ['fg', { propagationPolicy: 'Foreground' }, ['foregroundDeletion']],
      ['orph', { propagationPolicy: 'Orphan' }, ['orphan']],
      ['legacy', { orphanDependents: true }, ['orphan']],
    ] as const) {
      await api('POST', `/api/v1/namespaces/${NS}/configmaps`, { metadata: { name, finalizers: [HOLD] } });
      const del = await api('DELETE', `/api/v1/namespaces/${NS}/configmaps/${name}`, body);
      expect(del.status).toBe(200);
      expect(del.body.metadata.deletionTimestamp).toBeTruthy();
      expect(del.body.metadata.finalizers).toEqual([HOLD, ...finalizers]);
    }
    const both = await api('DELETE', `/api/v1/namespaces/${NS}/configmaps/fg`, { propagationPolicy: 'Orphan', orphanDependents: true });
    expect(both.status).toBe(422);
    // The collector finishes what it can; the test's own finalizer keeps the objects until it goes.
    for (const name of ['fg', 'orph', 'legacy']) await client.patch(CONFIGMAPS, NS, name, { metadata: { finalizers: null } }, 'merge');
    await eventually(async () => !(await exists(CONFIGMAPS, 'fg')) && !(await exists(CONFIGMAPS, 'orph')) && !(await exists(CONFIGMAPS, 'legacy')), 'configmaps gone');
  });

  it('Background: the owner goes at once, then its dependents', async () => {
    await createReplicaSet('bg', 3);
    const del = await api('DELETE', `/apis/apps/v1/namespaces/${NS}/replicasets/bg`, { propagationPolicy: 'Background' });
    expect(del.status).toBe(200);
    expect(await exists(REPLICASETS, 'bg')).toBe(false);
    await eventually(async () => (await podsOf('bg')).length === 0, 'dependents collected');
  });

  it('Foreground: the owner stays, deletionTimestamp and foregroundDeletion, until every blocking dependent is gone', async () => {
    await createReplicaSet('fg', 2);
    const [first, second] = (await podsOf('fg')).map((p) => p.metadata!.name!);
    await hold(first);
    await api('DELETE', `/apis/apps/v1/namespaces/${NS}/replicasets/fg`, { propagationPolicy: 'Foreground' });
    await eventually(async () => !(await exists(PODS, second)), 'the free pod deleted');
    const held = await client.get(PODS, NS, first);
    expect(held.metadata!.deletionTimestamp).toBeTruthy();
    const owner = await client.get(REPLICASETS, NS, 'fg');
    expect(owner.metadata!.deletionTimestamp).toBeTruthy();
    expect(owner.metadata!.finalizers).toEqual(['foregroundDeletion']);
    // The ReplicaSet controller does not replace pods of a ReplicaSet being deleted.
    expect((await podsOf('fg')).length).toBe(1);
    await release(first);
    await eventually(async () => !(await exists(REPLICASETS, 'fg')), 'owner removed once its dependents are');
  });

  it('Orphan: the dependents lose their reference to the owner, then the owner goes', async () => {
    const rs = await createReplicaSet('orph', 2);
    await api('DELETE', `/apis/apps/v1/namespaces/${NS}/replicasets/orph`, { propagationPolicy: 'Orphan' });
    await eventually(async () => !(await exists(REPLICASETS, 'orph')), 'owner removed');
    const pods = await podsOf('orph');
    expect(pods).toHaveLength(2);
    for (const p of pods) {
      expect(p.metadata!.deletionTimestamp).toBeUndefined();
      expect((p.metadata!.ownerReferences ?? []).some((r) => r.uid === rs.metadata!.uid)).toBe(false);
    }
  });

  it('Foreground through a chain Deployment → ReplicaSet → Pod: the Deployment goes last', async () => {
    const deploy = (await api('POST', `/apis/apps/v1/namespaces/${NS}/deployments`, {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'chain' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'chain' } }, template: { metadata: { labels: { app: 'chain' } }, spec: { containers: [{ name: 'app', image: 'k8ts/busybox:latest' }] } } },
    })).body as KubeObject;
    await createReplicaSet('chain', 2, deploy);
    const [first] = (await podsOf('chain')).map((p) => p.metadata!.name!);
    await hold(first);
    await api('DELETE', `/apis/apps/v1/namespaces/${NS}/deployments/chain`, { propagationPolicy: 'Foreground' });
    // The ReplicaSet is deleted in the foreground too: it waits on its pod, and the Deployment on it.
    await eventually(async () => (await client.get(REPLICASETS, NS, 'chain')).metadata?.finalizers?.includes('foregroundDeletion'), 'replicaset deleting in the foreground');
    expect((await client.get(DEPLOYMENTS, NS, 'chain')).metadata!.finalizers).toEqual(['foregroundDeletion']);
    await release(first);
    await eventually(async () => !(await exists(DEPLOYMENTS, 'chain')), 'deployment removed');
    expect(await exists(REPLICASETS, 'chain')).toBe(false);
    expect(await podsOf('chain')).toEqual([]);
  });

  it('Background through the chain: all three go', async () => {
    const deploy = (await api('POST', `/apis/apps/v1/namespaces/${NS}/deployments`, {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'chain-bg' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'chain-bg' } }, template: { metadata: { labels: { app: 'chain-bg' } }, spec: { containers: [{ name: 'app', image: 'k8ts/busybox:latest' }] } } },
    })).body as KubeObject;
    await createReplicaSet('chain-bg', 2, deploy);
    await client.delete(DEPLOYMENTS, NS, 'chain-bg', { propagationPolicy: 'Background' });
    await eventually(async () => !(await exists(REPLICASETS, 'chain-bg')) && (await podsOf('chain-bg')).length === 0, 'replicaset and pods collected');
  });

  it('a dependent whose owner uid does not match the live object is collected', async () => {
    await api('POST', `/api/v1/namespaces/${NS}/configmaps`, { metadata: { name: 'owner' } });
    await api('POST', `/api/v1/namespaces/${NS}/configmaps`, {
      metadata: { name: 'stale', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: '00000000-0000-0000-0000-00000000dead' }] },
    });
    const owner = await client.get(CONFIGMAPS, NS, 'owner');
    await api('POST', `/api/v1/namespaces/${NS}/configmaps`, {
      metadata: { name: 'owned', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata!.uid }] },
    });
    await eventually(async () => !(await exists(CONFIGMAPS, 'stale')), 'stale dependent collected');
    expect(await exists(CONFIGMAPS, 'owned')).toBe(true);
  });

  it('pod GC: pods bound to a node that does not exist are deleted after the quarantine', async () => {
    await api('POST', `/api/v1/namespaces/${NS}/pods`, { metadata: { name: 'lost' }, spec: { nodeName: 'no-such-node', containers: [{ name: 'c', image: 'x' }] } });
    await eventually(async () => !(await exists(PODS, 'lost')), 'pod of a missing node collected');
  });

  it('namespace deletion: Terminating, refuses new content, empties pods (gracefully), services and configmaps, then goes', async () => {
    const ns = 'doomed';
    await api('POST', '/api/v1/namespaces', { metadata: { name: ns } });
    await eventually(() => exists(SERVICEACCOUNTS, 'default', ns), 'default service account');
    expect((await api('GET', `/api/v1/namespaces/${ns}`)).body.spec.finalizers).toEqual(['kubernetes']);
    await api('POST', `/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: 'cfg' } });
    await api('POST', `/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: 'held', finalizers: [HOLD] } });
    await api('POST', `/api/v1/namespaces/${ns}/services`, { metadata: { name: 'svc' }, spec: { ports: [{ port: 80 }] } });
    await api('POST', `/api/v1/nodes`, { metadata: { name: 'fake-node' } });
    await api('POST', `/api/v1/namespaces/${ns}/pods`, { metadata: { name: 'web' }, spec: { nodeName: 'fake-node', terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'x' }] } });
    expect((await api('DELETE', `/api/v1/namespaces/${ns}`)).status).toBe(200);
    expect((await api('GET', `/api/v1/namespaces/${ns}`)).body.status.phase).toBe('Terminating');
    const refused = await api('POST', `/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: 'late' } });
    expect(refused.status).toBe(403);
    expect(refused.body.message).toMatch(/because it is being terminated/);
    // The pod is deleted gracefully: the test plays its kubelet and finishes the deletion.
    const graceful = await eventually(async () => (await client.get<Pod>(PODS, ns, 'web')).metadata?.deletionTimestamp && (await client.get<Pod>(PODS, ns, 'web')), 'pod marked for deletion');
    expect(graceful.metadata!.deletionGracePeriodSeconds).toBe(1);
    await client.delete(PODS, ns, 'web', { gracePeriodSeconds: 0 });
    const waiting = await eventually(async () => {
      const c = (await api('GET', `/api/v1/namespaces/${ns}`)).body.status?.conditions ?? [];
      const remaining = c.find((x: { type: string }) => x.type === 'NamespaceContentRemaining');
      return c.find((x: { type: string; status: string }) => x.type === 'NamespaceFinalizersRemaining' && x.status === 'True') &&
        remaining?.message === 'Some resources are remaining: configmaps. has 1 resource instances' && c;
    }, 'conditions naming the finalizer that holds content, and only the held configmap remaining');
    expect(waiting.map((c: { type: string }) => c.type)).toEqual([
      'NamespaceDeletionDiscoveryFailure', 'NamespaceDeletionGroupVersionParsingFailure', 'NamespaceDeletionContentFailure',
      'NamespaceContentRemaining', 'NamespaceFinalizersRemaining',
    ]);
    expect(waiting.find((c: { type: string }) => c.type === 'NamespaceFinalizersRemaining').message).toBe('Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances');
    expect(await exists(CONFIGMAPS, 'cfg', ns)).toBe(false);
    expect(await exists(SERVICES, 'svc', ns)).toBe(false);
    expect(await exists(PODS, 'web', ns)).toBe(false);
    await client.patch(CONFIGMAPS, ns, 'held', { metadata: { finalizers: null } }, 'merge');
    await eventually(async () => (await api('GET', `/api/v1/namespaces/${ns}`)).status === 404, 'namespace removed', 30_000);
  }, 40_000);

  it('namespaces/{name}/finalize takes only spec.finalizers, and validates them', async () => {
    await api('POST', '/api/v1/namespaces', { metadata: { name: 'fin', labels: { a: 'b' } } });
    const ns = (await api('GET', '/api/v1/namespaces/fin')).body;
    const bad = await api('PUT', '/api/v1/namespaces/fin/finalize', { ...ns, spec: { finalizers: ['not a name!'] } });
    expect(bad.status).toBe(422);
    const ok = await api('PUT', '/api/v1/namespaces/fin/finalize', { ...ns, metadata: { ...ns.metadata, labels: { changed: 'yes' } }, spec: { finalizers: ['example.com/mine'] }, status: { phase: 'Terminating' } });
    expect(ok.status).toBe(200);
    expect(ok.body.spec.finalizers).toEqual(['example.com/mine']);
    expect(ok.body.metadata.labels).toMatchObject({ a: 'b' });
    expect(ok.body.metadata.labels.changed).toBeUndefined();
    expect(ok.body.status.phase).toBe('Active');
    expect((await api('PUT', '/api/v1/namespaces/fin/finalize', { ...ns, spec: { finalizers: [] } })).status).toBe(409);
    // Deleted, and finalized by its other owner: it goes once the namespace controller drops `kubernetes`.
    await api('DELETE', '/api/v1/namespaces/fin');
    await eventually(async () => (await api('GET', '/api/v1/namespaces/fin')).body.spec?.finalizers?.length === 1, 'kubernetes finalizer removed');
    const left = (await api('GET', '/api/v1/namespaces/fin')).body;
    expect(left.metadata.deletionTimestamp).toBeTruthy();
    await api('PUT', '/api/v1/namespaces/fin/finalize', { ...left, spec: { finalizers: [] } });
    expect((await api('GET', '/api/v1/namespaces/fin')).status).toBe(404);
  });

  describe.skipIf(!hasKubectl)('kubectl delete --cascade', () => {
    let dir = '';
    let env: NodeJS.ProcessEnv = {};
    const kubectl = async (...args: string[]) => (await run('kubectl', [`--cache-dir=${dir}/cache`, '-n', NS, ...args], { env, timeout: 60_000 })).stdout;

    beforeAll(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'k8ts-gc-kubectl-'));
      writeKubeconfig(path.join(dir, 'kubeconfig'), s.url);
      env = { ...process.env, KUBECONFIG: path.join(dir, 'kubeconfig'), HOME: dir };
    });
    afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

    it('background (the default) deletes the ReplicaSet and then its pods', async () => {
      await createReplicaSet('k-bg', 2);
      expect(await kubectl('delete', 'rs', 'k-bg')).toBe('replicaset.apps "k-bg" deleted\n');
      await eventually(async () => (await podsOf('k-bg')).length === 0, 'pods collected');
    });

    it('orphan keeps the pods, without their owner reference', async () => {
      await createReplicaSet('k-orph', 2);
      expect(await kubectl('delete', 'rs', 'k-orph', '--cascade=orphan')).toBe('replicaset.apps "k-orph" deleted\n');
      expect(await exists(REPLICASETS, 'k-orph')).toBe(false);
      const pods = await podsOf('k-orph');
      expect(pods).toHaveLength(2);
      expect(pods.every((p) => !(p.metadata!.ownerReferences ?? []).length)).toBe(true);
    });

    it('foreground waits (kubectl waits for the deletion) until the pods are gone', async () => {
      await createReplicaSet('k-fg', 2);
      const [first] = (await podsOf('k-fg')).map((p) => p.metadata!.name!);
      await hold(first);
      const deleting = kubectl('delete', 'rs', 'k-fg', '--cascade=foreground');
      await eventually(async () => (await client.get(REPLICASETS, NS, 'k-fg')).metadata?.deletionTimestamp, 'replicaset marked');
      let done = false;
      void deleting.then(() => { done = true; }, () => { done = true; });
      await eventually(async () => (await podsOf('k-fg')).length === 1, 'the free pod deleted');
      expect(done).toBe(false);
      expect(await kubectl('get', 'rs', 'k-fg', '-o', 'jsonpath={.metadata.finalizers}')).toBe('["foregroundDeletion"]');
      await release(first);
      expect(await deleting).toBe('replicaset.apps "k-fg" deleted\n');
      expect(await exists(REPLICASETS, 'k-fg')).toBe(false);
      expect(await podsOf('k-fg')).toEqual([]);
    }, 40_000);
  });

  it('bootstraps namespaces with the kubernetes finalizer', async () => {
    for (const name of ['default', 'kube-system']) expect((await client.get(NAMESPACES, undefined, name)).spec).toEqual({ finalizers: ['kubernetes'] });
  });
});
