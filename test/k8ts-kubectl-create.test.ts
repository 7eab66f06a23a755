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

const MANIFEST = `apiVersion: v1
kind: ConfigMap
metadata:
  name: one
data: { a: "1" }
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers: [{ name: web, image: nginx }]
`;

/** Ours in namespace `ours`, the real one in `real`: same messages, codes and objects. */
async function sameIn(args: string[], stdin?: string): Promise<void> {
  const ours = await k.ours([...args, '-n', 'ours'], stdin);
  const real = await k.real([...args, '-n', 'real'], stdin);
  const n = (s: string) => normalise(s).replace(/\b(ours|real)\b/g, 'NS');
  expect({ code: ours.code, stdout: n(ours.stdout), stderr: n(ours.stderr) }).toEqual({ code: real.code, stdout: n(real.stdout), stderr: n(real.stderr) });
}

describe('k8ts-kubectl create -f', () => {
  it('creates, then reports AlreadyExists naming the file, as kubectl', async () => {
    const file = k.file('m.yaml', MANIFEST);
    await sameIn(['create', '-f', file]);
    await sameIn(['create', '-f', file]);
    await sameIn(['create', '-f', '-'], MANIFEST.replace(/one/g, 'two').replace(/name: web/, 'name: web2'));
    await sameIn(['create', '-f', file, '--dry-run=client', '-o', 'name']);
    await sameIn(['create', '-f', k.file('nope.txt', '')]);
    await sameIn(['create', '-f', 'missing.yaml']);
    const ours = (await call(api.url, 'GET', '/apis/apps/v1/namespaces/ours/deployments/web')).body;
    const real = (await call(api.url, 'GET', '/apis/apps/v1/namespaces/real/deployments/web')).body;
    expect(ours.spec).toEqual(real.spec);
    // Managed fields (once the apiserver keeps them) name the same managers.
    const managers = (o: { metadata: { managedFields?: { manager: string }[] } }) => o.metadata.managedFields?.map((m) => m.manager);
    expect(managers(ours)).toEqual(managers(real));
  });
});
