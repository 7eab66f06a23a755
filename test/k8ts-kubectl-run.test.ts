import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApiserver, type TestApiserver } from './harness.js';
import { klogMasked, kubectlPair, type KubectlPair } from './kubectl-compare.js';
import { makeTwins, type Twins } from './kubectl-twins.js';

let api: TestApiserver;
let k: KubectlPair;
let t: Twins;

beforeAll(async () => {
  api = await startTestApiserver();
  k = kubectlPair(api.url);
  t = await makeTwins(api.url, k);
  await t.create('/apis/apps/v1/namespaces/NS/deployments', {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', labels: { app: 'web', team: 'a' } },
    spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [
      { name: 'main', image: 'nginx', ports: [{ containerPort: 80, name: 'http' }, { containerPort: 443, name: 'https' }] }] } } },
  });
  await t.create('/api/v1/namespaces/NS/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { run: 'p' } }, spec: { containers: [{ name: 'c', image: 'busybox', ports: [{ containerPort: 8080 }] }] } });
  await t.create('/api/v1/namespaces/NS/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' } });
});
afterAll(async () => {
  k?.cleanup();
  await api?.stop();
});

/** Byte for byte with no namespace flag (dry-run output names no namespace unless -n is given). */
const identical = (args: string[]) => k.same(args, { scrub: klogMasked });

const dry = ['--dry-run=client', '-o', 'yaml'];

describe('k8ts-kubectl run, side by side with kubectl', () => {
  it('builds the pods kubectl builds', async () => {
    await identical(['run', 'web', '--image=nginx:1.27', '--port=80', '--env=A=1', '--env=B=2', '--labels=app=x,tier=y', ...dry]);
    await identical(['run', 'one', '--image=busybox', '--restart=Never', ...dry, '--', 'sleep', '10']);
    await identical(['run', 'two', '--image=busybox', '--restart=OnFailure', '--command', ...dry, '--', 'sh', '-c', 'echo hi']);
    await identical(['run', 'three', '--image=busybox', '--annotations=a=b', '--image-pull-policy=Never', '--privileged', ...dry]);
    await identical(['run', 'four', '--image=busybox', '--dry-run=client']);
    await identical(['run', 'four', '--image=busybox', '--dry-run=client', '-n', 'other', '-o', 'yaml']);
    await identical(['run', 'nope']);
    await identical(['run', '--image=x']);
  });

  it('creates the pod', async () => {
    await t.same(['run', 'made', '--image=busybox', '--restart=Never']);
    const p = await t.get('/api/v1/namespaces/NS/pods/made');
    expect(p.ours.spec.containers).toEqual(p.real.spec.containers);
    expect(p.ours.metadata.labels).toEqual({ run: 'made' });
  });
});

describe('k8ts-kubectl expose, side by side with kubectl', () => {
  it('exposes deployments and pods', async () => {
    await t.same(['expose', 'deploy/web', '--port=80', '--target-port=8080', ...dry]);
    await t.same(['expose', 'deploy', 'web', ...dry]);
    await t.same(['expose', 'pod/p', '--name=front', '--type=NodePort', ...dry]);
    await t.same(['expose', 'pod/p', '--port=81', '--protocol=UDP', '--labels=x=y', '--selector=run=p', ...dry]);
    await t.same(['expose', 'cm/cm', '--port=80']);
    await t.same(['expose', 'deploy/nope', '--port=80']);
    await t.same(['expose', 'deploy/web', '--port=80']);
    await t.same(['expose', 'deploy/web', '--port=80']);
    const s = await t.get('/api/v1/namespaces/NS/services/web');
    expect(s.ours.spec.ports).toEqual(s.real.spec.ports);
    expect(s.ours.spec.selector).toEqual({ app: 'web' });
  });
});
