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
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' },
    spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'main', image: 'nginx' }] } } },
  });
  await t.create('/api/v1/namespaces/NS/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' } });
});
afterAll(async () => {
  k?.cleanup();
  await api?.stop();
});

describe('k8ts-kubectl autoscale, side by side with kubectl', () => {
  it('builds and creates the HorizontalPodAutoscaler kubectl does', async () => {
    await t.same(['autoscale', 'deploy/web', '--min=2', '--max=5', '--cpu-percent=80', '--dry-run=client', '-o', 'yaml']);
    await t.same(['autoscale', 'deployment', 'web', '--max=3', '--name=other', '--dry-run=client', '-o', 'json']);
    await t.same(['autoscale', 'deploy/web', '--min=5', '--max=2']);
    await t.same(['autoscale', 'cm/cm', '--max=2']);
    await t.same(['autoscale', 'deploy/web', '--max=4']);
    const h = await t.get('/apis/autoscaling/v1/namespaces/NS/horizontalpodautoscalers/web');
    expect(h.ours.spec).toEqual(h.real.spec);
  });
});
