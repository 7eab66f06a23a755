import { describe, expect, it } from 'vitest';
import { DEPLOYMENTS, EVENTS, PODS, REPLICASETS, type KubeObject, type OwnerReference } from '@k8ts/api';
import { FakeInformerFactory, RecordingClient } from '@k8ts/api/testing';
import { GarbageCollector, monitoredResources } from './garbage-collector.js';

const ref = (kind: string, name: string, uid: string, block = true): OwnerReference =>
  ({ apiVersion: kind === 'Deployment' || kind === 'ReplicaSet' ? 'apps/v1' : 'v1', kind, name, uid, controller: true, ...(block ? { blockOwnerDeletion: true } : {}) });

function obj(kind: string, name: string, uid: string, meta: Record<string, unknown> = {}): KubeObject {
  const apiVersion = kind === 'Deployment' || kind === 'ReplicaSet' ? 'apps/v1' : 'v1';
  return { apiVersion, kind, metadata: { name, namespace: 'default', uid, resourceVersion: '1', ...meta } } as KubeObject;
}

const rs = (meta: Record<string, unknown> = {}) => obj('ReplicaSet', 'web', 'rs-uid', meta);
const pod = (name: string, owners: OwnerReference[] = [ref('ReplicaSet', 'web', 'rs-uid')], meta: Record<string, unknown> = {}) =>
  obj('Pod', name, `pod-${name}`, { ownerReferences: owners, ...meta });

function setup(objects: KubeObject[], live: KubeObject[] = objects) {
  const client = new RecordingClient({ objects: live });
  const informers = new FakeInformerFactory(objects);
  const gc = new GarbageCollector({ client, informers });
  /** Runs the queue dry, as the workers would (keys that ask to be retried are left out). */
  const drain = async () => {
    for (let i = 0; i < 100 && gc.queue.len() > 0; i++) {
      const key = (await gc.queue.get())!;
      await gc.sync(key).catch(() => undefined);
      gc.queue.done(key);
    }
  };
  return { client, informers, gc, drain };
}

const deletes = (c: RecordingClient) => c.writes().filter((w) => w.verb === 'delete').map((w) => ({ name: w.name, options: w.options }));
const patches = (c: RecordingClient) => c.writes().filter((w) => w.verb === 'patch').map((w) => ({ resource: w.resource, name: w.name, patch: w.patch, type: w.patchType }));

describe('GarbageCollector', () => {
  it('watches every resource of the registry but events', () => {
    const names = monitoredResources().map((d) => d.resource);
    expect(names).toEqual(expect.arrayContaining(['pods', 'replicasets', 'deployments', 'configmaps', 'leases', 'nodes', 'namespaces']));
    expect(names).not.toContain(EVENTS.resource);
  });

  it('deletes (Background, uid precondition) a dependent whose owner is gone, after a live GET confirms it', async () => {
    const { client, gc, drain } = setup([pod('a')]);
    // The owner never appeared: a virtual node for it is queued first.
    expect(gc.node('rs-uid')?.virtual).toBe(true);
    await drain();
    expect(client.actions.some((a) => a.verb === 'get' && a.resource === 'replicasets' && a.name === 'web')).toBe(true);
    expect(deletes(client)).toEqual([{ name: 'a', options: { preconditions: { uid: 'pod-a' }, propagationPolicy: 'Background' } }]);
  });

  it('treats an owner whose uid does not match the live object as gone', async () => {
    const { client, drain } = setup([pod('a')], [pod('a'), obj('ReplicaSet', 'web', 'another-uid')]);
    await drain();
    expect(deletes(client).map((d) => d.name)).toEqual(['a']);
  });

  it('leaves dependents of a live owner alone, and collects them once the owner is deleted', async () => {
    const { client, informers, gc, drain } = setup([rs(), pod('a'), pod('b')]);
    await drain();
    expect(client.writes()).toEqual([]);
    expect(gc.node('rs-uid')!.dependents.size).toBe(2);
    await client.delete(REPLICASETS, 'default', 'web');
    informers.informerFor(REPLICASETS).delete(rs());
    client.clearActions();
    await drain();
    expect(deletes(client).map((d) => d.name).sort()).toEqual(['a', 'b']);
    // The owner was known to the graph: no GET of it was needed.
    expect(client.actions.filter((a) => a.verb === 'get' && a.resource === 'replicasets')).toEqual([]);
  });

  it('only drops the references to gone owners when another owner lives', async () => {
    const cm = obj('ConfigMap', 'keeper', 'cm-uid');
    const { client, drain } = setup([cm, pod('a', [ref('ReplicaSet', 'web', 'rs-uid'), { ...ref('ConfigMap', 'keeper', 'cm-uid'), controller: false }])]);
    await drain();
    expect(deletes(client)).toEqual([]);
    expect(patches(client)).toEqual([{ resource: 'pods', name: 'a', type: 'strategic', patch: { metadata: { ownerReferences: [{ $patch: 'delete', uid: 'rs-uid' }], uid: 'pod-a' } } }]);
  });

  it('foreground: deletes the blocking dependents first, then removes the foregroundDeletion finalizer', async () => {
    const deleting = rs({ deletionTimestamp: '2026-12-01T10:00:00Z', finalizers: ['foregroundDeletion'] });
    const a = pod('a');
    const loose = pod('loose', [ref('ReplicaSet', 'web', 'rs-uid', false)]);
    const { client, informers, gc, drain } = setup([deleting, a, loose]);
    await drain();
    expect(gc.node('rs-uid')!.deletingDependents).toBe(true);
    // Both are deleted (the owner is waiting), but only `a` blocks the owner.
    expect(deletes(client).map((d) => d.name).sort()).toEqual(['a', 'loose']);
    expect(patches(client)).toEqual([]);
    informers.informerFor(PODS).delete(a);
    client.clearActions();
    await drain();
    expect(patches(client)).toEqual([{ resource: 'replicasets', name: 'web', type: 'merge', patch: { metadata: { finalizers: null, resourceVersion: '1' } } }]);
  });

  it('foreground through a chain: a dependent with dependents of its own is deleted in the foreground too', async () => {
    const deploy = obj('Deployment', 'web', 'deploy-uid', { deletionTimestamp: '2026-12-01T10:00:00Z', finalizers: ['foregroundDeletion'] });
    const set = rs({ ownerReferences: [ref('Deployment', 'web', 'deploy-uid')] });
    const { client, drain } = setup([deploy, set, pod('a')]);
    await drain();
    expect(deletes(client)).toEqual([{ name: 'web', options: { preconditions: { uid: 'rs-uid' }, propagationPolicy: 'Foreground' } }]);
    expect(client.writes().find((w) => w.resource === DEPLOYMENTS.resource)).toBeUndefined();
  });

  it('orphan: removes the owner from every dependent, then the orphan finalizer', async () => {
    const orphaning = rs({ deletionTimestamp: '2026-12-01T10:00:00Z', finalizers: ['orphan'] });
    const { client, gc, drain } = setup([orphaning, pod('a'), pod('b')]);
    expect(gc.queue.len()).toBe(2); // the owner seen first as a pod's virtual owner, then its orphaning
    await drain();
    const p = patches(client);
    expect(p.filter((x) => x.resource === 'pods').map((x) => [x.name, x.patch])).toEqual([
      ['a', { metadata: { ownerReferences: [{ $patch: 'delete', uid: 'rs-uid' }], uid: 'pod-a' } }],
      ['b', { metadata: { ownerReferences: [{ $patch: 'delete', uid: 'rs-uid' }], uid: 'pod-b' } }],
    ]);
    expect(p.at(-1)).toEqual({ resource: 'replicasets', name: 'web', type: 'merge', patch: { metadata: { finalizers: null, resourceVersion: '1' } } });
    expect(deletes(client)).toEqual([]);
  });

  it('keeps the deletion mode a dependent already has (its orphan finalizer) when it collects it', async () => {
    const { client, drain } = setup([pod('a', [ref('ReplicaSet', 'web', 'rs-uid')], { finalizers: ['orphan'] })]);
    await drain();
    expect(deletes(client)).toEqual([{ name: 'a', options: { preconditions: { uid: 'pod-a' }, propagationPolicy: 'Orphan' } }]);
  });

  it('an owner deleting in the foreground is looked at again when a dependent stops blocking it', async () => {
    const deleting = rs({ deletionTimestamp: '2026-12-01T10:00:00Z', finalizers: ['foregroundDeletion'] });
    const a = pod('a', [ref('ReplicaSet', 'web', 'rs-uid')], { deletionTimestamp: '2026-12-01T10:00:30Z' });
    const { client, informers, drain } = setup([deleting, a]);
    await drain();
    expect(patches(client)).toEqual([]);
    informers.informerFor(PODS).update({ ...a, metadata: { ...a.metadata, resourceVersion: '2', ownerReferences: [ref('ReplicaSet', 'web', 'rs-uid', false)] } });
    await drain();
    expect(patches(client).map((p) => p.resource)).toEqual(['replicasets']);
  });
});
