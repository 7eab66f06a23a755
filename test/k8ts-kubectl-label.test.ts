import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApiserver, type TestApiserver } from './harness.js';
import { kubectlPair, type KubectlPair } from './kubectl-compare.js';
import { makeTwins, NS_OURS, NS_REAL, type Twins } from './kubectl-twins.js';

let api: TestApiserver;
let k: KubectlPair;
let t: Twins;

beforeAll(async () => {
  api = await startTestApiserver();
  k = kubectlPair(api.url);
  t = await makeTwins(api.url, k);
  for (const [name, labels] of [['web', { app: 'web', tier: 'front' }], ['db', { app: 'db' }]] as const) {
    await t.create('/api/v1/namespaces/NS/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data: { a: '1' } });
  }
});
afterAll(async () => {
  k?.cleanup();
  await api?.stop();
});

describe('k8ts-kubectl label and annotate, side by side with kubectl', () => {
  it('adds, overwrites and removes labels', async () => {
    await t.same(['label', 'cm', 'web', 'env=prod']);
    await t.same(['label', 'cm', 'web', 'env=prod']);
    await t.same(['label', 'cm', 'web', 'env=dev']);
    await t.same(['label', 'cm', 'web', 'env=dev', '--overwrite']);
    await t.same(['label', 'cm/web', 'env-']);
    await t.same(['label', 'cm/web', 'nothere-']);
    await t.same(['label', 'cm', '-l', 'app', 'sel=yes']);
    await t.same(['label', 'cm', '--all', 'every=1']);
    await t.same(['label', 'cm', 'db', 'x=1', '--dry-run=client']);
    await t.same(['label', 'cm', 'db', 'y=1', '-o', 'name']);
    // kubectl lists a Go map: in random order.
    const list = await Promise.all([k.ours(['label', 'cm', 'db', '--list', '-n', NS_OURS]), k.real(['label', 'cm', 'db', '--list', '-n', NS_REAL])]);
    expect(list[0].stdout.split('\n').sort()).toEqual(list[1].stdout.split('\n').sort());
    const { ours, real } = await t.get('/api/v1/namespaces/NS/configmaps/web');
    expect(ours.metadata.labels).toEqual(real.metadata.labels);
    expect(ours.metadata.labels).toEqual({ app: 'web', tier: 'front', sel: 'yes', every: '1' });
  });

  it('reports bad labels and missing objects as kubectl does', async () => {
    await t.same(['label', 'cm', 'nope', 'a=b']);
    await t.same(['label', 'cm', 'web', 'db', 'a=b', '--dry-run=client']);
    await t.same(['label', 'cm', 'web']);
    await t.same(['label', 'cm', 'web', 'bad key=x']);
    await t.same(['label', 'cm', 'web', 'k=bad value!']);
    await t.same(['label', 'cm', 'web', 'a=1', 'cm']);
    await t.same(['label', 'cm', 'a=1']);
    await t.same(['label', 'cm', 'web', 'a=1', '--resource-version=1']);
  });

  it('annotates', async () => {
    await t.same(['annotate', 'cm', 'web', 'note=hello world']);
    await t.same(['annotate', 'cm', 'web', 'note=other']);
    await t.same(['annotate', 'cm', 'web', 'note=other', '--overwrite']);
    await t.same(['annotate', 'cm', 'web', '--list']);
    await t.same(['annotate', 'cm', 'web', 'note-']);
    await t.same(['annotate', 'cm', 'web', 'note-']);
    await t.same(['annotate', 'cm', '--all', 'a=1', '-o', 'name']);
    await t.same(['annotate', 'cm', 'web']);
    const { ours, real } = await t.get('/api/v1/namespaces/NS/configmaps/web');
    expect(ours.metadata.annotations).toEqual(real.metadata.annotations);
    expect(ours.metadata.annotations).toEqual({ a: '1' });
  });
});
