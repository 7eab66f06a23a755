import { describe, expect, it } from 'vitest';
import { CONFIGMAPS, NAMESPACES, PODS, type KubeObject, type Namespace } from '@k8ts/api';
import { FakeClock, FakeInformerFactory, RecordingClient } from '@k8ts/api/testing';
import { DELETION_CONDITION_TYPES, NamespaceController } from './namespace-controller.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');

const ns = (terminating = true): Namespace => ({
  apiVersion: 'v1', kind: 'Namespace',
  metadata: { name: 'doomed', uid: 'ns-uid', resourceVersion: '5', ...(terminating ? { deletionTimestamp: '2026-12-01T09:59:00Z' } : {}) },
  spec: { finalizers: ['kubernetes'] },
  status: { phase: terminating ? 'Terminating' : 'Active' },
});
const cm = (name: string, meta: Record<string, unknown> = {}): KubeObject =>
  ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'doomed', uid: `cm-${name}`, ...meta } }) as KubeObject;
const pod = (name: string, grace: number): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'doomed', uid: `pod-${name}` },
  spec: { nodeName: 'n1', terminationGracePeriodSeconds: grace, containers: [{ name: 'c', image: 'x' }] }, status: { phase: 'Running' },
}) as KubeObject;

function setup(objects: KubeObject[]) {
  const clock = new FakeClock(T0);
  const client = new RecordingClient({ objects, clock });
  // The store answers namespaces/{name}/finalize as the apiserver does: only spec.finalizers is taken.
  client.prependReactor('update', 'namespaces/finalize', (a) => {
    const body = a.object as Namespace;
    client.seed({ ...client.stored<Namespace>(NAMESPACES, undefined, 'doomed')!, spec: { finalizers: body.spec?.finalizers } });
    return body;
  });
  const informers = new FakeInformerFactory(objects);
  const controller = new NamespaceController({ client, informers, clock, deletionGracePeriodMs: 10 });
  return { clock, client, informers, controller };
}

describe('NamespaceController.sync', () => {
  it('queues only terminating namespaces, after the deletion grace period', () => {
    const active = setup([ns(false)]);
    active.clock.advance(10);
    expect(active.controller.queue.len()).toBe(0);
    const terminating = setup([ns(true)]);
    expect(terminating.controller.queue.len()).toBe(0);
    terminating.clock.advance(10);
    expect(terminating.controller.queue.len()).toBe(1);
  });

  it('deletes all content (Background), sets the five conditions, then removes the kubernetes finalizer through /finalize', async () => {
    const { client, controller } = setup([ns(), cm('a'), cm('b')]);
    await controller.sync('doomed');
    const collections = client.writes().filter((w) => w.verb === 'deletecollection');
    expect(collections.map((w) => w.resource)).toEqual(expect.arrayContaining(['pods', 'configmaps', 'services', 'secrets', 'events', 'serviceaccounts']));
    expect(collections.find((w) => w.resource === 'configmaps')!.options).toMatchObject({ propagationPolicy: 'Background' });
    expect(client.stored(CONFIGMAPS, 'doomed', 'a')).toBeUndefined();
    const status = client.writes().find((w) => w.verb === 'update' && w.subresource === 'status')!.object as Namespace;
    expect(status.status!.conditions!.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['NamespaceDeletionDiscoveryFailure', 'False', 'ResourcesDiscovered'],
      ['NamespaceDeletionGroupVersionParsingFailure', 'False', 'ParsedGroupVersions'],
      ['NamespaceDeletionContentFailure', 'False', 'ContentDeleted'],
      ['NamespaceContentRemaining', 'False', 'ContentRemoved'],
      ['NamespaceFinalizersRemaining', 'False', 'ContentHasNoFinalizers'],
    ]);
    const fin = client.writes().find((w) => w.subresource === 'finalize')!;
    expect(fin).toMatchObject({ verb: 'update', resource: 'namespaces', name: 'doomed' });
    expect((fin.object as Namespace).spec!.finalizers).toEqual([]);
  });

  it('waits for content held by finalizers, saying which, and looks again later', async () => {
    const { client, controller, clock } = setup([ns(), cm('held', { finalizers: ['example.com/hold'] })]);
    clock.advance(10);
    controller.queue.done((await controller.queue.get())!); // the informer's own event
    // The fake store deletes at once: keep the held one, as the apiserver would (marked, not removed).
    client.prependReactor('deletecollection', 'configmaps', () => ({ items: [] }));
    await controller.sync('doomed');
    expect(client.writes().find((w) => w.subresource === 'finalize')).toBeUndefined();
    const status = client.stored<Namespace>(NAMESPACES, undefined, 'doomed')!.status!;
    const byType = Object.fromEntries(status.conditions!.map((c) => [c.type, c]));
    expect(byType.NamespaceContentRemaining).toMatchObject({ status: 'True', reason: 'SomeResourcesRemain', message: 'Some resources are remaining: configmaps. has 1 resource instances' });
    expect(byType.NamespaceFinalizersRemaining).toMatchObject({ status: 'True', reason: 'SomeFinalizersRemain', message: 'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances' });
    expect(Object.keys(byType)).toEqual([...DELETION_CONDITION_TYPES]);
    // Re-queued after about half the finalizer estimate (15 s / 2 + 1).
    clock.advance(7999);
    expect(controller.queue.len()).toBe(0);
    clock.advance(1);
    expect(controller.queue.len()).toBe(1);
    // A quiet second pass writes no new conditions.
    client.clearActions();
    await controller.sync('doomed');
    expect(client.writes().filter((w) => w.subresource === 'status')).toEqual([]);
  });

  it('records NamespaceDeletionContentFailure when a delete fails, and retries', async () => {
    const { client, controller } = setup([ns(), cm('a')]);
    client.prependReactor('deletecollection', 'configmaps', () => { throw new Error('etcd is on fire'); });
    await expect(controller.sync('doomed')).rejects.toThrow(/etcd is on fire/);
    const byType = Object.fromEntries(client.stored<Namespace>(NAMESPACES, undefined, 'doomed')!.status!.conditions!.map((c) => [c.type, c]));
    expect(byType.NamespaceDeletionContentFailure).toMatchObject({ status: 'True', reason: 'ContentDeletionFailed' });
    expect(byType.NamespaceDeletionContentFailure.message).toMatch(/^Failed to delete all resource types, 1 remaining: etcd is on fire/);
  });

  it('gives running pods their grace period before looking again', async () => {
    const { client, controller, clock } = setup([ns(), pod('web', 30)]);
    clock.advance(10);
    controller.queue.done((await controller.queue.get())!); // the informer's own event
    client.prependReactor('deletecollection', 'pods', () => ({ items: [] }));
    await controller.sync('doomed');
    expect(client.writes().find((w) => w.subresource === 'finalize')).toBeUndefined();
    clock.advance(15_999);
    expect(controller.queue.len()).toBe(0);
    clock.advance(1);
    expect(controller.queue.len()).toBe(1);
    expect(client.stored(PODS, 'doomed', 'web')).toBeDefined();
  });

  it('does nothing for an active namespace, or one already finalized', async () => {
    const active = setup([ns(false), cm('a')]);
    await active.controller.sync('doomed');
    expect(active.client.writes()).toEqual([]);
    const done = setup([{ ...ns(), spec: { finalizers: [] } }]);
    await done.controller.sync('doomed');
    expect(done.client.writes()).toEqual([]);
  });
});
