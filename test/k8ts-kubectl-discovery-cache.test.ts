import { readdirSync, readFileSync, statSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, eventually, startTestApiserver, type TestApiserver } from './harness.js';
import { kubectlPair, normalise, type KubectlPair } from './kubectl-compare.js';

let api: TestApiserver;
let k: KubectlPair;

beforeAll(async () => {
  api = await startTestApiserver();
  k = kubectlPair(api.url);
  await call(api.url, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'empty' } });
});
afterAll(async () => {
  k?.cleanup();
  await api?.stop();
});

const host = (): string => new URL(api.url).host.replace(':', '_');

/** Every JSON file under dir, by relative path. */
function jsonFiles(dir: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || !e.name.endsWith('.json')) continue;
    const full = path.join(e.parentPath, e.name);
    out[path.relative(dir, full)] = JSON.parse(readFileSync(full, 'utf8'));
  }
  return out;
}

/** The request paths our `-v=6` lines name. */
const requested = (stderr: string): string[] => [...stderr.matchAll(/url="([^"?]+)/g)].map((m) => m[1]);

describe('k8ts-kubectl discovery cache, as kubectl keeps it', () => {
  it('writes the documents kubectl writes, in the same layout, and the next run asks the server nothing but the list', async () => {
    const first = await k.ours(['--cache-dir', path.join(k.dir, 'ours'), '-v=6', 'get', 'pods', '-n', 'empty']);
    expect(first.code).toBe(0);
    expect(requested(first.stderr)).toEqual(expect.arrayContaining(['/api', '/apis']));
    expect((await k.real(['--cache-dir', path.join(k.dir, 'real'), 'get', 'pods', '-n', 'empty'])).code).toBe(0);
    const ours = jsonFiles(path.join(k.dir, 'ours/discovery', host()));
    const real = jsonFiles(path.join(k.dir, 'real/discovery', host()));
    // kubectl also keeps a storage version hash that aggregated discovery does not carry.
    for (const doc of Object.values(real) as { resources?: { storageVersionHash?: string }[] }[]) for (const r of doc.resources ?? []) delete r.storageVersionHash;
    expect(Object.keys(ours).sort()).toEqual(Object.keys(real).sort());
    expect(ours).toEqual(real);

    const second = await k.ours(['--cache-dir', path.join(k.dir, 'ours'), '-v=6', 'get', 'pods', '-n', 'empty']);
    expect(second.code).toBe(0);
    expect(requested(second.stderr)).toEqual(['/api/v1/namespaces/empty/pods']);
    expect(normalise(second.stderr)).toContain('No resources found in empty namespace.');
    // And the real kubectl reads ours.
    const realOnOurs = await k.real(['--cache-dir', path.join(k.dir, 'ours'), 'get', 'pods', '-n', 'empty']);
    expect(realOnOurs).toEqual({ code: 0, stdout: '', stderr: 'No resources found in empty namespace.\n' });
  });

  it('uses $KUBECACHEDIR, else ~/.kube/cache, and asks again once the cache is older than 6 hours', async () => {
    const viaEnv = path.join(k.dir, 'env-cache');
    expect((await k.ours(['get', 'pods', '-n', 'empty'], '', { KUBECACHEDIR: viaEnv })).code).toBe(0);
    expect(statSync(path.join(viaEnv, 'discovery', host(), 'servergroups.json')).isFile()).toBe(true);
    expect((await k.ours(['get', 'pods', '-n', 'empty'])).code).toBe(0);
    const home = path.join(k.dir, '.kube/cache/discovery', host());
    expect(statSync(path.join(home, 'servergroups.json')).isFile()).toBe(true);

    const old = (Date.now() - 7 * 3600_000) / 1000;
    utimesSync(path.join(home, 'servergroups.json'), old, old);
    const stale = await k.ours(['-v=6', 'get', 'pods', '-n', 'empty']);
    expect(requested(stale.stderr)).toEqual(expect.arrayContaining(['/api', '/apis']));
    expect(statSync(path.join(home, 'servergroups.json')).mtimeMs).toBeGreaterThan(Date.now() - 3600_000);
  });

  it('finds a resource type created after the cache was written, as kubectl does, by asking the server again', async () => {
    const cacheDir = path.join(k.dir, 'crd');
    const both = (args: string[], stdin?: string) => Promise.all([
      k.ours(['--cache-dir', cacheDir, ...args], stdin), k.real(['--cache-dir', `${cacheDir}-real`, ...args], stdin)]);
    // Both caches warm, without the type.
    for (const r of await both(['get', 'pods', '-n', 'empty'])) expect(r.code).toBe(0);
    const crd = await call(api.url, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'gadgets.cache.example.com' },
      spec: {
        group: 'cache.example.com', scope: 'Namespaced', names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget', shortNames: ['gd'] },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
      },
    });
    expect(crd.status).toBe(201);
    await eventually(async () => (await call(api.url, 'GET', '/apis/cache.example.com/v1')).status === 200 || undefined, 'the CRD is served');

    const [ours, real] = await both(['get', 'gd', '-n', 'empty']);
    expect({ code: ours.code, stdout: ours.stdout, stderr: normalise(ours.stderr) }).toEqual({ code: real.code, stdout: real.stdout, stderr: normalise(real.stderr) });
    expect(ours.stderr).toBe('No resources found in empty namespace.\n');

    // A manifest of a kind the cache does not know yet.
    await call(api.url, 'DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.cache.example.com');
    await eventually(async () => (await call(api.url, 'GET', '/apis/cache.example.com/v1')).status === 404 || undefined, 'the CRD is gone');
    await call(api.url, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'widgets.cache.example.com' },
      spec: {
        group: 'cache.example.com', scope: 'Namespaced', names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
      },
    });
    await eventually(async () => (await call(api.url, 'GET', '/apis/cache.example.com/v1')).status === 200 || undefined, 'the second CRD is served');
    const manifest = (name: string) => `apiVersion: cache.example.com/v1\nkind: Widget\nmetadata:\n  name: ${name}\n  namespace: empty\n`;
    const applied = await k.ours(['--cache-dir', cacheDir, 'apply', '-f', k.file('w1.yaml', manifest('w1'))]);
    const appliedReal = await k.real(['--cache-dir', `${cacheDir}-real`, 'apply', '-f', k.file('w2.yaml', manifest('w2'))]);
    expect(applied).toEqual({ code: 0, stdout: 'widget.cache.example.com/w1 created\n', stderr: '' });
    expect(appliedReal).toEqual({ code: 0, stdout: 'widget.cache.example.com/w2 created\n', stderr: '' });
  });
});
