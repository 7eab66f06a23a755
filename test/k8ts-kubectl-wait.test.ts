import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestApiserver, type TestApiserver } from './harness.js';
import { kubectlPair, type KubectlPair } from './kubectl-compare.js';
import { makeTwins, NS_OURS, type Twins } from './kubectl-twins.js';

let api: TestApiserver;
let k: KubectlPair;
let t: Twins;

const pod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'w' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });

/** Plays the kubelet: writes a pod's status. */
async function podStatus(ns: string, name: string, status: Record<string, unknown>): Promise<void> {
  const cur = await call(api.url, 'GET', `/api/v1/namespaces/${ns}/pods/${name}`);
  const r = await call(api.url, 'PUT', `/api/v1/namespaces/${ns}/pods/${name}/status`, { ...cur.body, status });
  expect(r.status).toBe(200);
}

beforeAll(async () => {
  api = await startTestApiserver();
  k = kubectlPair(api.url);
  t = await makeTwins(api.url, k);
  for (const name of ['ready', 'pending']) await t.create('/api/v1/namespaces/NS/pods', pod(name));
  for (const ns of ['k8ts-o', 'k8ts-r']) {
    await podStatus(ns, 'ready', { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] });
    await podStatus(ns, 'pending', { phase: 'Pending', conditions: [{ type: 'Ready', status: 'False' }] });
  }
});
afterAll(async () => {
  k?.cleanup();
  await api?.stop();
});

describe('k8ts-kubectl wait, side by side with kubectl', () => {
  it('conditions and jsonpath that already hold, and timeouts', async () => {
    await t.same(['wait', '--for=condition=Ready', 'pod/ready']);
    await t.same(['wait', '--for=condition=ready=true', 'pod', 'ready']);
    await t.same(['wait', '--for=condition=Ready=false', 'pod/pending']);
    await t.same(['wait', '--for=jsonpath={.status.phase}=Running', 'pod/ready']);
    await t.same(['wait', '--for=jsonpath={.status.phase}', 'pods', '-l', 'app=w']);
    await t.same(['wait', '--for=condition=Ready', 'pods', '--all', '--timeout=1s']);
    await t.same(['wait', '--for=condition=Ready', 'pod/pending', '--timeout=0']);
    await t.same(['wait', '--for=delete', 'pod/gone', '--timeout=1s']);
    await t.same(['wait', '--for=condition=Ready', 'pod/gone', '--timeout=1s']);
    await t.same(['wait', '--for=bogus', 'pod/ready']);
    await t.same(['wait', 'pod/ready']);
    await t.same(['wait', '--for=condition=Ready', 'pods', '-l', 'app=none']);
  });

  it('waits for a condition to become true and for deletion', async () => {
    const ready = k.ours(['wait', '--for=condition=Ready', 'pod/pending', '-n', NS_OURS, '--timeout=20s']);
    await new Promise((r) => setTimeout(r, 300));
    await podStatus(NS_OURS, 'pending', { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] });
    expect(await ready).toEqual({ code: 0, stdout: 'pod/pending condition met\n', stderr: '' });
    const gone = k.ours(['wait', '--for=delete', 'pod/ready', '-n', NS_OURS, '--timeout=20s']);
    await new Promise((r) => setTimeout(r, 300));
    await call(api.url, 'DELETE', `/api/v1/namespaces/${NS_OURS}/pods/ready`, { gracePeriodSeconds: 0 });
    expect(await gone).toEqual({ code: 0, stdout: 'pod/ready condition met\n', stderr: '' });
  });
});
