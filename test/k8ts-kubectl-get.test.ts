import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestApiserver, type TestApiserver } from './harness.js';
import { kubectlPair, normalise, type KubectlPair } from './kubectl-compare.js';

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

/** Runs both kubectls and expects the same exit code and the same output, AGE values and padding aside. */
async function same(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const { ours, real } = await k.both(args);
  expect({ code: ours.code, stdout: normalise(ours.stdout), stderr: normalise(ours.stderr) })
    .toEqual({ code: real.code, stdout: normalise(real.stdout), stderr: normalise(real.stderr) });
  return ours;
}

describe('k8ts-kubectl get, side by side with kubectl', () => {
  it('prints tables as kubectl does', async () => {
    await same(['get', 'configmaps']);
    await same(['get', 'cm', '-o', 'wide']);
    await same(['get', 'configmap', 'web', '--show-labels']);
    await same(['get', 'cm', '-L', 'app', '-L', 'tier']);
    await same(['get', 'cm', '--no-headers']);
    await same(['get', 'cm', '-l', 'app=web']);
    await same(['get', 'namespaces']);
    await same(['get', 'cm', '-A', '--sort-by=.metadata.name']);
  });

  it('prints several types with kind prefixes, and names', async () => {
    await same(['get', 'cm,ns']);
    await same(['get', 'cm/web', 'ns/empty']);
    await same(['get', 'cm', '-o', 'name']);
  });

  it('prints objects as json, yaml, jsonpath and custom columns', async () => {
    await same(['get', 'cm', 'web', '-o', 'yaml']);
    await same(['get', 'cm', '-o', 'json']);
    await same(['get', 'cm', '-o', 'jsonpath={.items[*].metadata.name}']);
    await same(['get', 'cm', '-o', 'jsonpath={range .items[*]}{.metadata.name}{"\\t"}{.data.a}{"\\n"}{end}']);
    await same(['get', 'cm', '-o', 'custom-columns=NAME:.metadata.name,APP:.metadata.labels.app,MISSING:.spec.x']);
    await same(['get', 'cm', 'web', '-o', 'go-template={{.metadata.name}}:{{range $k, $v := .data}}{{$k}}={{$v}}{{end}}']);
  });

  it('lists categories, pages and selects fields as kubectl does', async () => {
    await same(['get', 'all']);
    await same(['get', 'all', '-o', 'name']);
    await same(['get', 'pods,svc', '-o', 'wide']);
    await same(['get', 'po', '-o', 'wide', '--show-labels']);
    await same(['get', 'cm', '--chunk-size=1']);
    await same(['get', 'cm', '--chunk-size=1', '-o', 'name']);
    await same(['get', 'cm', '--field-selector', 'metadata.name=db']);
    await same(['get', 'deployments.apps', '-o', 'jsonpath-as-json={.items[*].spec.replicas}']);
    await same(['get', 'deploy.v1.apps', 'web', '-o', 'jsonpath={.spec.template.spec.containers[?(@.name=="c")].image}']);
    await same(['get', 'pod', 'p1', '-o', 'json']);
    await same(['get', 'svc', 'web', '-o', 'yaml']);
    await same(['get', 'ns', '--sort-by=.metadata.name', '-o', 'custom-columns=N:.metadata.name']);
  });

  it('reports errors as kubectl does', async () => {
    await same(['get', 'cm', 'nope']);
    await same(['get', 'cm', 'nope', '--ignore-not-found']);
    await same(['get', 'cm', 'web', 'nope']);
    await same(['get', 'nosuchtype']);
    await same(['get', 'cm', '-n', 'empty']);
    await same(['get', 'cm', '-n', 'empty', '-o', 'json']);
    await same(['get', 'cm', '-n', 'empty', '-o', 'name']);
    await same(['get', 'cm', '-n', 'empty', '-o', 'jsonpath={.items}']);
    await same(['get']);
    await same(['get', 'cm', '-o', 'bogus']);
    await same(['get', 'cm', '--bogus']);
    await same(['get', '-s', 'http://127.0.0.1:1', 'pods']);
  });
});
