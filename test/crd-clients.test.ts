import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  ApiextensionsV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions, Watch, type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestApiserver, type TestApiserver } from './harness.js';

/* The official clients on custom resources: @kubernetes/client-node's CustomObjectsApi and the Python dynamic client. */

const run = promisify(execFile);
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const hasPythonClient = () => spawnSync(PYTHON, ['-c', 'import kubernetes.dynamic'], { stdio: 'ignore' }).status === 0;

// The generated model spells the schema's `default` as `_default` (its serializer writes `default`).
const CRD: V1CustomResourceDefinition = {
  apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition',
  metadata: { name: 'crontabs.stable.example.com' },
  spec: {
    group: 'stable.example.com', scope: 'Namespaced',
    names: { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', shortNames: ['ct'] },
    versions: [{
      name: 'v1', served: true, storage: true,
      subresources: { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' } },
      schema: {
        openAPIV3Schema: {
          type: 'object',
          properties: {
            spec: {
              type: 'object', required: ['cronSpec'],
              properties: { cronSpec: { type: 'string' }, image: { type: 'string' }, replicas: { type: 'integer', minimum: 0, _default: 1 } },
            },
            status: { type: 'object', properties: { replicas: { type: 'integer' } } },
          },
        },
      },
    }],
  },
};

let s: TestApiserver;
let kc: KubeConfig;
beforeAll(async () => {
  s = await startTestApiserver();
  kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'test', server: s.url, skipTLSVerify: true }], users: [{ name: 'test' }],
    contexts: [{ name: 'test', cluster: 'test', user: 'test' }], currentContext: 'test',
  });
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  await ext.createCustomResourceDefinition({ body: CRD });
  await eventually(async () => {
    const crd = await ext.readCustomResourceDefinition({ name: 'crontabs.stable.example.com' });
    return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
  }, 'the CRD established', 5_000);
}, 60_000);
afterAll(async () => { await s?.stop(); });

describe('@kubernetes/client-node CustomObjectsApi', () => {
  it('create, get, list with a selector, merge and JSON patch, replace, status, scale, watch, delete', async () => {
    const api = kc.makeApiClient(CustomObjectsApi);
    const ns = { group: 'stable.example.com', version: 'v1', namespace: 'default', plural: 'crontabs' };
    const created = await api.createNamespacedCustomObject({
      ...ns, body: { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'js', labels: { client: 'js' } }, spec: { cronSpec: '* * * * *', junk: true } },
    });
    expect(created.spec).toEqual({ cronSpec: '* * * * *', replicas: 1 });
    expect(created.metadata.generation).toBe(1);
    const got = await api.getNamespacedCustomObject({ ...ns, name: 'js' });
    expect(got.metadata.uid).toBe(created.metadata.uid);
    const listed = await api.listNamespacedCustomObject({ ...ns, labelSelector: 'client=js' });
    expect(listed.items.map((i: any) => i.metadata.name)).toEqual(['js']);
    expect(listed.kind).toBe('CronTabList');

    const merged = await api.patchNamespacedCustomObject({ ...ns, name: 'js', body: { spec: { image: 'busybox' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    expect(merged.spec.image).toBe('busybox');
    expect(merged.metadata.generation).toBe(2);
    const jsonPatched = await api.patchNamespacedCustomObject({ ...ns, name: 'js', body: [{ op: 'replace', path: '/spec/replicas', value: 2 }] });
    expect(jsonPatched.spec.replicas).toBe(2);
    const replaced = await api.replaceNamespacedCustomObject({ ...ns, name: 'js', body: { ...jsonPatched, spec: { cronSpec: '0 * * * *' } } });
    expect(replaced.spec).toEqual({ cronSpec: '0 * * * *', replicas: 1 });

    const status = await api.patchNamespacedCustomObjectStatus({ ...ns, name: 'js', body: { status: { replicas: 1 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    expect(status.status).toEqual({ replicas: 1 });
    const scale = await api.getNamespacedCustomObjectScale({ ...ns, name: 'js' });
    expect(scale).toMatchObject({ kind: 'Scale', spec: { replicas: 1 }, status: { replicas: 1 } });
    await api.patchNamespacedCustomObjectScale({ ...ns, name: 'js', body: { spec: { replicas: 5 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    expect((await api.getNamespacedCustomObject({ ...ns, name: 'js' })).spec.replicas).toBe(5);

    const bad = await api.createNamespacedCustomObject({
      ...ns, body: { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'bad' }, spec: { replicas: -1 } },
    }).then(() => undefined, (err: { code?: number; body?: string }) => err);
    expect(bad?.code).toBe(422);
    expect(JSON.parse(bad!.body!).message).toMatch(/spec\.cronSpec: Required value/);

    const events: string[] = [];
    let stopped!: () => void;
    const ended = new Promise<void>((resolve) => { stopped = resolve; });
    const ctl = await new Watch(kc).watch('/apis/stable.example.com/v1/namespaces/default/crontabs', { fieldSelector: 'metadata.name=js' },
      (type) => { events.push(type); if (type === 'DELETED') stopped(); }, () => stopped());
    await eventually(() => events.includes('ADDED'), 'the ADDED event');
    await api.deleteNamespacedCustomObject({ ...ns, name: 'js' });
    await ended;
    ctl.abort();
    expect(events).toEqual(['ADDED', 'DELETED']);
  });

  it('cluster-wide list across namespaces', async () => {
    const api = kc.makeApiClient(CustomObjectsApi);
    await api.createNamespacedCustomObject({
      group: 'stable.example.com', version: 'v1', namespace: 'kube-system', plural: 'crontabs',
      body: { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'sys' }, spec: { cronSpec: '* * * * *' } },
    });
    const all = await api.listClusterCustomObject({ group: 'stable.example.com', version: 'v1', plural: 'crontabs' });
    expect(all.items.map((i: any) => `${i.metadata.namespace}/${i.metadata.name}`)).toContain('kube-system/sys');
  });
});

describe.runIf(hasPythonClient())('the Python client\'s DynamicClient', () => {
  it('discovers the custom resource and drives its verbs, status and a watch', async () => {
    const { stdout } = await run(PYTHON, [path.join(import.meta.dirname, 'python', 'crd_dynamic.py'), s.url], { timeout: 60_000 });
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({
      namespaced: true, subresources: ['scale', 'status'],
      created: { cronSpec: '* * * * *', replicas: 1 },
      generation: 2, listed: ['py'], status: { replicas: 2 }, watch: ['ADDED', 'DELETED'],
    });
  });
});
