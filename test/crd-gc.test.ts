import { buildApp } from '@k8ts/apiserver';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, eventually, startTestApiserver, startTestControllers, type TestApiserver, type TestControllers } from './harness.js';

/*
 * Custom objects and the rest of the cluster: the garbage collector and namespace deletion find them through
 * discovery, a custom object's finalizer holds its CRD's deletion, and a second apiserver on the same etcd serves
 * a CRD written through the first.
 */

const crd = (plural: string, kind: string, scope = 'Namespaced') => ({
  apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition',
  metadata: { name: `${plural}.gc.example.com` },
  spec: {
    group: 'gc.example.com', scope, names: { plural, kind },
    versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
  },
});

let s: TestApiserver;
let controllers: TestControllers;
const base = '/apis/gc.example.com/v1';
const created = async (path: string, body: unknown) => {
  const r = await call(s.url, 'POST', path, body);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
};
const gone = (path: string, what: string) => eventually(async () => (await call(s.url, 'GET', path)).status === 404, what, 15_000);
const servedOn = (url: string, path: string) => eventually(async () => (await call(url, 'GET', path)).status === 200, `${path} served`, 5_000);

beforeAll(async () => {
  s = await startTestApiserver();
  await created('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd('widgets', 'Widget'));
  await servedOn(s.url, `${base}/widgets`);
  controllers = await startTestControllers(s.url, ['garbagecollector', 'namespace']);
}, 60_000);
afterAll(async () => { await controllers?.stop(); await s?.stop(); });

describe('custom objects and the garbage collector', () => {
  it('a custom object owned by a deleted ConfigMap is collected', async () => {
    const owner = await created('/api/v1/namespaces/default/configmaps', { metadata: { name: 'owner' } });
    await created(`${base}/namespaces/default/widgets`, {
      apiVersion: 'gc.example.com/v1', kind: 'Widget',
      metadata: { name: 'dep', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid }] },
    });
    await call(s.url, 'DELETE', '/api/v1/namespaces/default/configmaps/owner');
    await gone(`${base}/namespaces/default/widgets/dep`, 'the dependent widget collected');
  });

  it('a ConfigMap owned by a deleted custom object is collected; a CRD created later is monitored after discovery', async () => {
    await created('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd('gadgets', 'Gadget', 'Cluster'));
    await servedOn(s.url, `${base}/gadgets`);
    const parent = await created(`${base}/gadgets`, { apiVersion: 'gc.example.com/v1', kind: 'Gadget', metadata: { name: 'parent' } });
    await created('/api/v1/namespaces/default/configmaps', {
      metadata: { name: 'child', ownerReferences: [{ apiVersion: 'gc.example.com/v1', kind: 'Gadget', name: 'parent', uid: parent.metadata.uid }] },
    });
    await created('/api/v1/namespaces/default/configmaps', {
      metadata: { name: 'orphan', ownerReferences: [{ apiVersion: 'gc.example.com/v1', kind: 'Gadget', name: 'parent', uid: parent.metadata.uid }] },
    });
    // Orphan first: the collector strips the reference from the dependents (a merge patch) and lets the owner go.
    const w = await created(`${base}/namespaces/default/widgets`, {
      apiVersion: 'gc.example.com/v1', kind: 'Widget',
      metadata: { name: 'kept', ownerReferences: [{ apiVersion: 'gc.example.com/v1', kind: 'Gadget', name: 'parent', uid: parent.metadata.uid }] },
    });
    expect(w.metadata.ownerReferences).toHaveLength(1);
    await call(s.url, 'DELETE', `${base}/gadgets/parent`, { propagationPolicy: 'Orphan' });
    await gone(`${base}/gadgets/parent`, 'the orphaning owner gone');
    const kept = await call(s.url, 'GET', `${base}/namespaces/default/widgets/kept`);
    expect(kept.body.metadata.ownerReferences).toBeUndefined();
    expect((await call(s.url, 'GET', '/api/v1/namespaces/default/configmaps/child')).status).toBe(200);

    const parent2 = await created(`${base}/gadgets`, { apiVersion: 'gc.example.com/v1', kind: 'Gadget', metadata: { name: 'parent2' } });
    await created('/api/v1/namespaces/default/configmaps', {
      metadata: { name: 'child2', ownerReferences: [{ apiVersion: 'gc.example.com/v1', kind: 'Gadget', name: 'parent2', uid: parent2.metadata.uid }] },
    });
    await call(s.url, 'DELETE', `${base}/gadgets/parent2`);
    await gone('/api/v1/namespaces/default/configmaps/child2', 'the ConfigMap owned by a deleted Gadget collected');
  });

  it('deleting a namespace deletes its custom objects', async () => {
    await created('/api/v1/namespaces', { metadata: { name: 'crd-ns' } });
    await created(`${base}/namespaces/crd-ns/widgets`, { apiVersion: 'gc.example.com/v1', kind: 'Widget', metadata: { name: 'inside' } });
    await call(s.url, 'DELETE', '/api/v1/namespaces/crd-ns');
    await gone('/api/v1/namespaces/crd-ns', 'the namespace emptied and removed');
    const left = await call(s.url, 'GET', `${base}/widgets`);
    expect(left.body.items.map((i: any) => i.metadata.namespace)).not.toContain('crd-ns');
  });

  it('a custom object\'s finalizer holds its CRD\'s deletion (Terminating, InstanceDeletionInProgress) until removed', async () => {
    await created(`${base}/namespaces/default/widgets`, {
      apiVersion: 'gc.example.com/v1', kind: 'Widget', metadata: { name: 'held', finalizers: ['example.com/hold'] },
    });
    const del = await call(s.url, 'DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.gc.example.com');
    expect(del.status).toBe(200);
    expect(del.body.metadata.finalizers).toContain('customresourcecleanup.apiextensions.k8s.io');
    await eventually(async () => {
      const c = (await call(s.url, 'GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.gc.example.com')).body;
      return c.status?.conditions?.some((x: any) => x.type === 'Terminating' && x.status === 'True' && x.reason === 'InstanceDeletionInProgress');
    }, 'the Terminating condition');
    const held = await eventually(async () => {
      const r = await call(s.url, 'GET', `${base}/namespaces/default/widgets/held`);
      return r.body.metadata?.deletionTimestamp && r.body;
    }, 'the held widget marked for deletion');
    // New objects are refused while the CRD terminates.
    const refused = await call(s.url, 'POST', `${base}/namespaces/default/widgets`, { apiVersion: 'gc.example.com/v1', kind: 'Widget', metadata: { name: 'late' } });
    expect(refused.status).toBe(405);
    expect(refused.body.message).toBe('create not allowed while custom resource definition is terminating');
    const patched = await call(s.url, 'PATCH', `${base}/namespaces/default/widgets/held`, { metadata: { finalizers: null, resourceVersion: held.metadata.resourceVersion } },
      { 'content-type': 'application/merge-patch+json' });
    expect(patched.status).toBe(200);
    await gone('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.gc.example.com', 'the CRD deleted');
    await gone(`${base}/namespaces/default/widgets`, 'the routes removed');
  });
});

describe('two apiservers on one etcd', () => {
  let second: FastifyInstance;
  let url2: string;
  beforeAll(async () => {
    second = await buildApp({ etcdServers: [s.etcd.endpoint] });
    await second.listen({ host: '127.0.0.1', port: 0 });
    const addr = second.server.address();
    url2 = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  }, 30_000);
  afterAll(async () => { await second?.close(); });

  it('a CRD created through one is served by the other within a second, and its objects are shared', async () => {
    const t0 = Date.now();
    await created('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd('things', 'Thing'));
    await servedOn(url2, `${base}/things`);
    expect(Date.now() - t0).toBeLessThan(2_000);
    await created(`${base}/namespaces/default/things`, { apiVersion: 'gc.example.com/v1', kind: 'Thing', metadata: { name: 'one' } });
    expect((await call(url2, 'GET', `${base}/namespaces/default/things/one`)).status).toBe(200);
    const disc = await call(url2, 'GET', '/apis/gc.example.com/v1');
    expect(disc.body.resources.map((r: any) => r.name)).toContain('things');
    await call(url2, 'DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/things.gc.example.com');
    await gone(`${base}/namespaces/default/things`, 'unserved on the first apiserver');
    await eventually(async () => (await call(url2, 'GET', `${base}/namespaces/default/things`)).status === 404, 'unserved on the second', 5_000);
  });
});
