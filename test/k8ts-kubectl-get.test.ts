import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestApiserver, type TestApiserver } from './harness.js';
import { kubectlPair, type KubectlPair } from './kubectl-compare.js';

let api: TestApiserver;
let k: KubectlPair;

beforeAll(async () => {
  api = await startTestApiserver();
  k = kubectlPair(api.url);
  for (const [name, labels] of [['web', { app: 'web', tier: 'front' }], ['db', { app: 'db' }]] as const) {
    const r = await call(api.url, 'POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data: { a: '1' } });
    expect(r.status).toBe(201);
  }
  await call(api.url, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'empty' } });
  await call(api.url, 'POST', '/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1', labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
  await call(api.url, 'POST', '/api/v1/namespaces/default/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } });
  await call(api.url, 'POST', '/apis/apps/v1/namespaces/default/deployments', {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' },
    spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
  });
});
afterAll(async () => {
  k?.cleanup();
  await api?.stop();
});

describe('k8ts-kubectl get, side by side with kubectl', () => {
  it('prints tables as kubectl does', async () => {
    await k.same(['get', 'configmaps']);
    await k.same(['get', 'cm', '-o', 'wide']);
    await k.same(['get', 'configmap', 'web', '--show-labels']);
    await k.same(['get', 'cm', '-L', 'app', '-L', 'tier']);
    await k.same(['get', 'cm', '--no-headers']);
    await k.same(['get', 'cm', '-l', 'app=web']);
    await k.same(['get', 'namespaces']);
    await k.same(['get', 'cm', '-A', '--sort-by=.metadata.name']);
  });

  it('prints several types with kind prefixes, and names', async () => {
    await k.same(['get', 'cm,ns']);
    await k.same(['get', 'cm/web', 'ns/empty']);
    await k.same(['get', 'cm', '-o', 'name']);
  });

  it('prints objects as json, yaml, jsonpath and custom columns', async () => {
    await k.same(['get', 'cm', 'web', '-o', 'yaml']);
    await k.same(['get', 'cm', '-o', 'json']);
    await k.same(['get', 'cm', '-o', 'jsonpath={.items[*].metadata.name}']);
    await k.same(['get', 'cm', '-o', 'jsonpath={range .items[*]}{.metadata.name}{"\\t"}{.data.a}{"\\n"}{end}']);
    await k.same(['get', 'cm', '-o', 'custom-columns=NAME:.metadata.name,APP:.metadata.labels.app,MISSING:.spec.x']);
    await k.same(['get', 'cm', 'web', '-o', 'go-template={{.metadata.name}}:{{range $k, $v := .data}}{{$k}}={{$v}}{{end}}']);
  });

  it('lists categories, pages and selects fields as kubectl does', async () => {
    await k.same(['get', 'all']);
    await k.same(['get', 'all', '-o', 'name']);
    await k.same(['get', 'pods,svc', '-o', 'wide']);
    await k.same(['get', 'po', '-o', 'wide', '--show-labels']);
    await k.same(['get', 'cm', '--chunk-size=1']);
    await k.same(['get', 'cm', '--chunk-size=1', '-o', 'name']);
    await k.same(['get', 'cm', '--field-selector', 'metadata.name=db']);
    await k.same(['get', 'deployments.apps', '-o', 'jsonpath-as-json={.items[*].spec.replicas}']);
    await k.same(['get', 'deploy.v1.apps', 'web', '-o', 'jsonpath={.spec.template.spec.containers[?(@.name=="c")].image}']);
    await k.same(['get', 'pod', 'p1', '-o', 'json']);
    await k.same(['get', 'svc', 'web', '-o', 'yaml']);
    await k.same(['get', 'ns', '--sort-by=.metadata.name', '-o', 'custom-columns=N:.metadata.name']);
  });

  it('reports errors as kubectl does', async () => {
    await k.same(['get', 'cm', 'nope']);
    await k.same(['get', 'cm', 'nope', '--ignore-not-found']);
    await k.same(['get', 'cm', 'web', 'nope']);
    await k.same(['get', 'nosuchtype']);
    await k.same(['get', 'cm', '-n', 'empty']);
    await k.same(['get', 'cm', '-n', 'empty', '-o', 'json']);
    await k.same(['get', 'cm', '-n', 'empty', '-o', 'name']);
    await k.same(['get', 'cm', '-n', 'empty', '-o', 'jsonpath={.items}']);
    await k.same(['get']);
    await k.same(['get', 'cm', '-o', 'bogus']);
    await k.same(['get', 'cm', '--bogus']);
    await k.same(['get', '-s', 'http://127.0.0.1:1', 'pods']);
  });
});
