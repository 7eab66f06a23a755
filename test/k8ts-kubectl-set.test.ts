import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApiserver, type TestApiserver } from './harness.js';
import { kubectlPair, type KubectlPair } from './kubectl-compare.js';
import { makeTwins, type Twins } from './kubectl-twins.js';

let api: TestApiserver;
let k: KubectlPair;
let t: Twins;

beforeAll(async () => {
  api = await startTestApiserver();
  k = kubectlPair(api.url);
  t = await makeTwins(api.url, k);
  await t.create('/apis/apps/v1/namespaces/NS/deployments', {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', labels: { app: 'web' } },
    spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [
      { name: 'main', image: 'nginx:1.27', env: [{ name: 'KEEP', value: 'k' }, { name: 'DROP', value: 'd' }] }, { name: 'side', image: 'busybox' }] } } },
  });
  await t.create('/api/v1/namespaces/NS/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { 'log-level': 'debug' } });
  await t.create('/api/v1/namespaces/NS/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'plain' } });
});
afterAll(async () => {
  k?.cleanup();
  await api?.stop();
});

describe('k8ts-kubectl set, side by side with kubectl', () => {
  it('set image', async () => {
    await t.same(['set', 'image', 'deploy/web', 'main=nginx:1.28']);
    await t.same(['set', 'image', 'deployment', 'web', 'side=busybox:1.36', 'main=nginx:1.29']);
    await t.same(['set', 'image', 'deploy/web', '*=registry.io/all:1']);
    await t.same(['set', 'image', 'deploy/web', 'nope=x']);
    await t.same(['set', 'image', 'deploy/web']);
    await t.same(['set', 'image', 'cm/plain', 'a=b']);
    await t.same(['set', 'image', 'deploy/web', 'main=x:1', '--dry-run=client', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']);
    const d = await t.get('/apis/apps/v1/namespaces/NS/deployments/web');
    expect(d.ours.spec.template.spec.containers.map((c: { image: string }) => c.image)).toEqual(['registry.io/all:1', 'registry.io/all:1']);
    expect(d.ours.spec.template).toEqual(d.real.spec.template);
  });

  it('set env', async () => {
    await t.same(['set', 'env', 'deploy/web', 'A=1', 'B=two']);
    await t.same(['set', 'env', 'deploy/web', '-c', 'main', 'DROP-', 'KEEP=changed']);
    await t.same(['set', 'env', 'deploy/web', '--from=configmap/settings', '--prefix=APP_', '-c', 'side']);
    await t.same(['set', 'env', 'deploy/web', '--list']);
    await t.same(['set', 'env', 'deploy/web']);
    await t.same(['set', 'env', 'deploy/web', '-c', 'zzz', 'X=1']);
    const d = await t.get('/apis/apps/v1/namespaces/NS/deployments/web');
    expect(d.ours.spec.template.spec.containers).toEqual(d.real.spec.template.spec.containers);
    expect(d.ours.spec.template.spec.containers[0].env).toEqual([{ name: 'KEEP', value: 'changed' }, { name: 'A', value: '1' }, { name: 'B', value: 'two' }]);
  });

  it('set resources', async () => {
    await t.same(['set', 'resources', 'deploy/web', '--limits=cpu=200m,memory=512Mi', '--requests=cpu=100m']);
    await t.same(['set', 'resources', 'deploy/web', '-c', 'side', '--limits=cpu=1']);
    await t.same(['set', 'resources', 'deploy/web']);
    const d = await t.get('/apis/apps/v1/namespaces/NS/deployments/web');
    expect(d.ours.spec.template.spec.containers).toEqual(d.real.spec.template.spec.containers);
    expect(d.ours.spec.template.spec.containers[1].resources).toEqual({ limits: { cpu: '1', memory: '512Mi' }, requests: { cpu: '100m' } });
  });
});
