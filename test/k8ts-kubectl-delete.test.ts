import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestApiserver, type TestApiserver } from './harness.js';
import { kubectlPair, normalise, type KubectlPair } from './kubectl-compare.js';

let api: TestApiserver;
let k: KubectlPair;

beforeAll(async () => {
  api = await startTestApiserver();
  k = kubectlPair(api.url);
  for (const ns of ['ours', 'real']) await call(api.url, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
});
afterAll(async () => {
  k?.cleanup();
  await api?.stop();
});

const cms = (ns: string) => ['a', 'b', 'c', 'd', 'e'].map((n) => `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ${n}, namespace: ${ns}, labels: { group: ${n < 'c' ? 'one' : 'two'} } }\ndata: { v: "${n}" }\n`).join('---\n');

/** Runs `args(ns)` with ours in namespace `ours` and the real kubectl in `real`; same output and exit code. */
async function sameIn(args: (ns: string) => string[], stdin?: (ns: string) => string): Promise<void> {
  const ours = await k.ours(args('ours'), stdin?.('ours'));
  const real = await k.real(args('real'), stdin?.('real'));
  const n = (s: string) => normalise(s.replaceAll('real', 'ours').replace(/\w+-ours\.yaml/g, 'F'));
  expect({ args: args('ours'), code: ours.code, out: n(ours.stdout), err: n(ours.stderr) })
    .toEqual({ args: args('ours'), code: real.code, out: n(real.stdout), err: n(real.stderr) });
}

describe('k8ts-kubectl delete and replace, side by side with kubectl', () => {
  it('deletes by name, selector, file and --all, with kubectl\'s messages', async () => {
    await sameIn((ns) => ['create', '-f', k.file(`m-${ns}.yaml`, cms(ns))]);
    await sameIn((ns) => ['delete', 'configmap', 'a', '-n', ns]);
    await sameIn((ns) => ['delete', 'cm/b', '-n', ns, '--cascade=background']);
    await sameIn((ns) => ['delete', 'cm', 'nope', '-n', ns]);
    await sameIn((ns) => ['delete', 'cm', 'nope', '-n', ns, '--ignore-not-found']);
    await sameIn((ns) => ['delete', 'cm', '-l', 'group=two', '-n', ns, '--dry-run=server']);
    await sameIn((ns) => ['delete', 'cm', '-l', 'group=two', '-n', ns, '--grace-period=0', '--force']);
    await sameIn((ns) => ['delete', 'cm', '-l', 'group=none', '-n', ns]);
    await sameIn((ns) => ['delete', 'cm', '-n', ns]);
    await sameIn(() => ['delete']);
    await sameIn((ns) => ['apply', '-f', k.file(`m-${ns}.yaml`, cms(ns))]);
    await sameIn((ns) => ['delete', '-f', k.file(`m-${ns}.yaml`, cms(ns)), '--wait=false']);
    await sameIn((ns) => ['apply', '-f', '-'], cms);
    await sameIn((ns) => ['delete', 'cm', '--all', '-n', ns, '-o', 'name']);
    for (const ns of ['ours', 'real']) expect((await call(api.url, 'GET', `/api/v1/namespaces/${ns}/configmaps`)).body.items).toEqual([]);
  });

  it('replaces, and replaces with --force, with kubectl\'s messages', async () => {
    const cm = (ns: string, v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: r, namespace: ${ns} }\ndata: { v: "${v}" }\n`;
    await sameIn((ns) => ['replace', '-f', k.file(`r-${ns}.yaml`, cm(ns, '0'))]);
    await sameIn((ns) => ['create', '-f', k.file(`r-${ns}.yaml`, cm(ns, '1'))]);
    await sameIn((ns) => ['replace', '-f', k.file(`r-${ns}.yaml`, cm(ns, '2'))]);
    await sameIn((ns) => ['replace', '--force', '-f', k.file(`r-${ns}.yaml`, cm(ns, '3'))]);
    await sameIn((ns) => ['replace', '-f', k.file(`r-${ns}.yaml`, cm(ns, '4').replace('name: r', 'name: r, resourceVersion: "1"'))]);
    for (const ns of ['ours', 'real']) expect((await call(api.url, 'GET', `/api/v1/namespaces/${ns}/configmaps/r`)).body.data).toEqual({ v: '3' });
  });
});
