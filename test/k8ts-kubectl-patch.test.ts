import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApiserver, type TestApiserver } from './harness.js';
import { kubectlPair, type KubectlPair } from './kubectl-compare.js';
import { makeTwins, type Twins } from './kubectl-twins.js';

let api: TestApiserver;
let k: KubectlPair;
let t: Twins;

const deployment = (name: string, replicas = 1) => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, labels: { app: name } },
  spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image: 'nginx:1.27' }] } } },
});

beforeAll(async () => {
  api = await startTestApiserver();
  k = kubectlPair(api.url);
  t = await makeTwins(api.url, k);
  await t.create('/api/v1/namespaces/NS/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web' }, data: { a: '1' } });
  for (const name of ['web', 'db']) await t.create('/apis/apps/v1/namespaces/NS/deployments', deployment(name));
  for (const name of ['k8ts-o', 'k8ts-r']) await t.create('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { pool: name } } });
});
afterAll(async () => {
  k?.cleanup();
  await api?.stop();
});

describe('k8ts-kubectl patch, side by side with kubectl', () => {
  it('patches with each type and reports no-ops', async () => {
    await t.same(['patch', 'cm', 'web', '-p', '{"data":{"b":"2"}}']);
    await t.same(['patch', 'cm', 'web', '-p', '{"data":{"b":"2"}}']);
    await t.same(['patch', 'cm', 'web', '--type', 'merge', '-p', 'data: {c: "3"}']);
    await t.same(['patch', 'cm/web', '--type=json', '-p', '[{"op":"remove","path":"/data/a"}]']);
    await t.same(['patch', 'deploy', 'web', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"main","image":"nginx:1.28"}]}}}}']);
    await t.same(['patch', 'deploy', 'web', '--subresource=scale', '--type=merge', '-p', '{"spec":{"replicas":2}}']);
    await t.same(['patch', 'cm', 'web', '-p', '{"data":{"d":"4"}}', '--dry-run=server']);
    await t.same(['patch', 'cm', 'web', '-p', '{"data":{"e":"5"}}', '-o', 'jsonpath={.data}']);
    const { ours, real } = await t.get('/api/v1/namespaces/NS/configmaps/web');
    expect(ours.data).toEqual(real.data);
    expect(ours.data).toEqual({ b: '2', c: '3', e: '5' });
    const d = await t.get('/apis/apps/v1/namespaces/NS/deployments/web');
    expect(d.ours.spec.replicas).toBe(2);
    expect(d.ours.spec.template.spec.containers[0].image).toBe('nginx:1.28');
  });

  it('reports errors as kubectl does', async () => {
    await t.same(['patch', 'cm', 'web']);
    await t.same(['patch', 'cm', 'web', '--type=bogus', '-p', '{}']);
    await t.same(['patch', 'cm', 'nope', '-p', '{"data":{"b":"2"}}']);
    await t.same(['patch', 'cm', 'web', '--type=json', '-p', '[{"op":"remove","path":"/data/zzz"}]']);
    await t.same(['patch', 'deploy', 'web', '-p', '{"spec":{"replicas":-1}}']);
  });
});

describe('k8ts-kubectl scale, side by side with kubectl', () => {
  it('scales one, several and selected objects', async () => {
    await t.same(['scale', 'deploy', 'web', '--replicas=3']);
    await t.same(['scale', 'deploy/web', 'deploy/db', '--replicas=2']);
    await t.same(['scale', 'deploy', '--all', '--replicas=1']);
    await t.same(['scale', 'deploy', '-l', 'app=db', '--replicas=4']);
    await t.same(['scale', 'deploy', 'db', '--current-replicas=4', '--replicas=5']);
    await t.same(['scale', 'deploy', 'db', '--current-replicas=1', '--replicas=6']);
    await t.same(['scale', 'deploy', 'db', '--replicas=7', '--dry-run=client']);
    await t.same(['scale', 'deploy', 'db', '--replicas=7', '-o', 'name']);
    const d = await t.get('/apis/apps/v1/namespaces/NS/deployments/db');
    expect(d.ours.spec.replicas).toBe(d.real.spec.replicas);
    expect(d.ours.spec.replicas).toBe(7);
  });

  it('reports errors as kubectl does', async () => {
    await t.same(['scale', 'deploy', 'web']);
    await t.same(['scale', 'deploy', 'nope', '--replicas=1']);
    await t.same(['scale', 'deploy', '--replicas=1']);
    await t.same(['scale', 'cm', 'web', '--replicas=1']);
  });
});

describe('k8ts-kubectl cordon, uncordon and taint, side by side with kubectl', () => {
  const node = { namespaced: false };
  it('cordons and uncordons', async () => {
    await t.same(['cordon', 'NS'], undefined, node);
    await t.same(['cordon', 'NS'], undefined, node);
    await t.same(['uncordon', 'NS'], undefined, node);
    await t.same(['uncordon', 'NS'], undefined, node);
    await t.same(['cordon', '-l', 'pool=NS', '--dry-run=client'], undefined, node);
    await t.same(['cordon', 'nope-node'], undefined, node);
    await t.same(['cordon'], undefined, node);
  });

  it('adds, overwrites and removes taints', async () => {
    await t.same(['taint', 'nodes', 'NS', 'dedicated=gpu:NoSchedule'], undefined, node);
    await t.same(['taint', 'nodes', 'NS', 'dedicated=cpu:NoSchedule'], undefined, node);
    await t.same(['taint', 'nodes', 'NS', 'dedicated=cpu:NoSchedule', '--overwrite'], undefined, node);
    await t.same(['taint', 'node/NS', 'spot:PreferNoSchedule', 'other=x:NoExecute'], undefined, node);
    await t.same(['taint', 'nodes', 'NS', 'spot:PreferNoSchedule-'], undefined, node);
    await t.same(['taint', 'nodes', 'NS', 'spot:PreferNoSchedule-'], undefined, node);
    await t.same(['taint', 'nodes', 'NS', 'other-'], undefined, node);
    await t.same(['taint', 'nodes', 'NS', 'x=y:Bogus'], undefined, node);
    await t.same(['taint', 'nodes', 'NS'], undefined, node);
    await t.same(['taint', 'pods', 'NS', 'a=b:NoSchedule'], undefined, node);
    const n = await t.get('/api/v1/nodes/NS');
    expect(n.ours.spec.taints).toEqual(n.real.spec.taints);
    expect(n.ours.spec.taints).toEqual([{ key: 'dedicated', value: 'cpu', effect: 'NoSchedule' }]);
  });
});
