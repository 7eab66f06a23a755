import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestApiserver, type TestApiserver } from './harness.js';
import { kubectlPair, type KubectlPair } from './kubectl-compare.js';
import { makeTwins, NS_OURS, NS_REAL, type Twins } from './kubectl-twins.js';

let api: TestApiserver;
let k: KubectlPair;
let t: Twins;

const template = (image: string, extra: Record<string, string> = {}) => ({ metadata: { labels: { app: 'web', ...extra } }, spec: { containers: [{ name: 'main', image }] } });
const deployment = (name: string) => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, labels: { app: name } },
  spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: template('nginx:1.27') },
});

/** Plays the deployment controller: writes the Deployment's status. */
async function setStatus(ns: string, name: string, status: Record<string, unknown>): Promise<void> {
  const cur = await call(api.url, 'GET', `/apis/apps/v1/namespaces/${ns}/deployments/${name}`);
  const r = await call(api.url, 'PUT', `/apis/apps/v1/namespaces/${ns}/deployments/${name}/status`, { ...cur.body, status: { observedGeneration: cur.body.metadata.generation, ...status } });
  expect(r.status).toBe(200);
}

/** Plays the deployment controller: a ReplicaSet of revision `rev` owned by the Deployment. */
async function replicaSet(ns: string, dep: string, rev: number, image: string, cause?: string): Promise<void> {
  const d = await call(api.url, 'GET', `/apis/apps/v1/namespaces/${ns}/deployments/${dep}`);
  const hash = `h${rev}`;
  const r = await call(api.url, 'POST', `/apis/apps/v1/namespaces/${ns}/replicasets`, {
    apiVersion: 'apps/v1', kind: 'ReplicaSet',
    metadata: {
      name: `${dep}-${hash}`, labels: { app: 'web', 'pod-template-hash': hash },
      annotations: { 'deployment.kubernetes.io/revision': String(rev), ...(cause ? { 'kubernetes.io/change-cause': cause } : {}) },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: dep, uid: d.body.metadata.uid, controller: true, blockOwnerDeletion: true }],
    },
    spec: { replicas: 0, selector: { matchLabels: { app: 'web', 'pod-template-hash': hash } }, template: template(image, { 'pod-template-hash': hash }) },
  });
  expect(r.status).toBe(201);
}

beforeAll(async () => {
  api = await startTestApiserver();
  k = kubectlPair(api.url);
  t = await makeTwins(api.url, k);
  for (const name of ['web', 'new', 'done']) await t.create('/apis/apps/v1/namespaces/NS/deployments', deployment(name));
  await t.create('/api/v1/namespaces/NS/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' } });
  for (const ns of ['k8ts-o', 'k8ts-r']) {
    await setStatus(ns, 'web', { replicas: 2, updatedReplicas: 1, availableReplicas: 1 });
    await setStatus(ns, 'done', { replicas: 2, updatedReplicas: 2, availableReplicas: 2, readyReplicas: 2 });
    await replicaSet(ns, 'web', 1, 'nginx:1.26', 'first');
    await replicaSet(ns, 'web', 2, 'nginx:1.27');
  }
});
afterAll(async () => {
  k?.cleanup();
  await api?.stop();
});

describe('k8ts-kubectl rollout, side by side with kubectl', () => {
  it('status reads the Deployment status as kubectl does', async () => {
    await t.same(['rollout', 'status', 'deploy/done']);
    await t.same(['rollout', 'status', 'deployment', 'web', '--watch=false']);
    await t.same(['rollout', 'status', 'deploy/new', '--watch=false']);
    await t.same(['rollout', 'status', 'deploy/web', '--timeout=1s']);
    await t.same(['rollout', 'status', 'cm/cm']);
    await t.same(['rollout', 'status', 'deploy/nope']);
    await t.same(['rollout', 'status']);
  });

  it('status watches until the rollout is done', async () => {
    const run = k.ours(['rollout', 'status', 'deploy/web', '-n', NS_OURS]);
    await new Promise((r) => setTimeout(r, 300));
    await setStatus(NS_OURS, 'web', { replicas: 3, updatedReplicas: 2, availableReplicas: 1 });
    await setStatus(NS_OURS, 'web', { replicas: 2, updatedReplicas: 2, availableReplicas: 2 });
    const r = await run;
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('Waiting for deployment "web" rollout to finish: 1 out of 2 new replicas have been updated...');
    expect(r.stdout).toContain('Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...\n');
    expect(r.stdout.endsWith('deployment "web" successfully rolled out\n')).toBe(true);
  });

  it('history lists ReplicaSet revisions', async () => {
    await t.same(['rollout', 'history', 'deploy/web']);
    await t.same(['rollout', 'history', 'deploy/new']);
    await t.same(['rollout', 'history', 'deploy/web', '--revision=9']);
    await t.same(['rollout', 'history', 'deploy/web', '--revision=1', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']);
  });

  it('undo rolls back to the previous or a given revision', async () => {
    await t.same(['rollout', 'undo', 'deploy/new']);
    await t.same(['rollout', 'undo', 'deploy/web', '--to-revision=7']);
    await t.same(['rollout', 'undo', 'deploy/web', '--to-revision=2']);
    // Without the annotations the deployment controller writes, the JSON patch fails on the server.
    await t.same(['rollout', 'undo', 'deploy/web', '--dry-run=server']);
    for (const ns of [NS_OURS, NS_REAL]) {
      await call(api.url, 'PATCH', `/apis/apps/v1/namespaces/${ns}/deployments/web`, { metadata: { annotations: { 'deployment.kubernetes.io/revision': '2', note: 'kept' } } }, { 'content-type': 'application/merge-patch+json' });
    }
    await t.same(['rollout', 'undo', 'deploy/web', '--dry-run=server']);
    await t.same(['rollout', 'undo', 'deploy/web']);
    const d = await t.get('/apis/apps/v1/namespaces/NS/deployments/web');
    expect(d.ours.spec.template).toEqual(d.real.spec.template);
    expect(d.ours.spec.template.spec.containers[0].image).toBe('nginx:1.26');
    expect(d.ours.spec.template.metadata.labels['pod-template-hash']).toBeUndefined();
    expect(d.ours.metadata.annotations).toEqual(d.real.metadata.annotations);
  });

  it('pause, resume and restart', async () => {
    await t.same(['rollout', 'pause', 'deploy/done']);
    await t.same(['rollout', 'pause', 'deploy/done']);
    await t.same(['rollout', 'restart', 'deploy/done']);
    await t.same(['rollout', 'undo', 'deploy/done']);
    await t.same(['rollout', 'resume', 'deploy/done']);
    await t.same(['rollout', 'resume', 'deploy/done']);
    await t.same(['rollout', 'pause', 'cm/cm']);
    await t.same(['rollout', 'restart', 'cm/cm']);
    await t.same(['rollout', 'restart', 'deploy/done']);
    const d = await t.get('/apis/apps/v1/namespaces/NS/deployments/done');
    expect(d.ours.spec.paused).toBeUndefined();
    expect(d.ours.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });
});
