import { describe, expect, it } from 'vitest';
import { ApiError, PODS, REPLICASETS, type Pod } from '@k8ts/api';
import { FakeClock, FakeInformerFactory, RecordingClient } from '@k8ts/api/testing';
import { deletionOrder, rankByRelatedOnSameNode, slowStartBatch } from '../pods.js';
import { ReplicaSetController, type ReplicatedObject } from './replica-set-controller.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

function rs(replicas: number, extra: Partial<ReplicatedObject['spec']> = {}): ReplicatedObject {
  return {
    apiVersion: 'apps/v1', kind: 'ReplicaSet',
    metadata: { name: 'web', namespace: 'default', uid: 'rs-uid', generation: 2, resourceVersion: '10' },
    spec: {
      replicas, selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web', tier: 'fe' } }, spec: { containers: [{ name: 'app', image: 'k8ts/busybox:latest' }] } },
      ...extra,
    },
    status: { replicas: 0 },
  };
}

let podSeq = 0;
function pod(name: string, o: { owned?: boolean; labels?: Record<string, string>; node?: string; phase?: string; readySince?: number; created?: number; restarts?: number } = {}): Pod {
  const ready = o.readySince !== undefined;
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name, namespace: 'default', uid: `pod-${name}`, resourceVersion: String(++podSeq), labels: o.labels ?? { app: 'web', tier: 'fe' },
      creationTimestamp: iso(o.created ?? T0 - 3600_000),
      ...(o.owned === false ? {} : { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'rs-uid', controller: true, blockOwnerDeletion: true }] }),
    },
    spec: { containers: [{ name: 'app', image: 'x' }], ...(o.node ? { nodeName: o.node } : {}) },
    status: {
      phase: (o.phase ?? 'Running') as 'Running',
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', ...(ready ? { lastTransitionTime: iso(o.readySince!) } : {}) }],
      containerStatuses: [{ name: 'app', restartCount: o.restarts ?? 0, ready, image: 'x', imageID: '' }],
    },
  };
}

function setup(objects: (ReplicatedObject | Pod)[]) {
  const clock = new FakeClock(T0);
  const client = new RecordingClient({ objects, clock });
  const informers = new FakeInformerFactory(objects);
  const controller = new ReplicaSetController({ client, informers, clock });
  return { clock, client, informers, controller };
}

const creates = (c: RecordingClient) => c.writes().filter((w) => w.verb === 'create' && w.resource === 'pods');
const deletes = (c: RecordingClient) => c.writes().filter((w) => w.verb === 'delete' && w.resource === 'pods').map((w) => w.name);
const statusOf = (c: RecordingClient) => c.stored<ReplicatedObject>(REPLICASETS, 'default', 'web')!.status!;

describe('ReplicaSetController.sync', () => {
  it('creates the missing pods from the template with a controllerRef, then waits for them (expectations)', async () => {
    const { client, controller, informers } = setup([rs(3)]);
    await controller.sync('default/web');
    const made = creates(client);
    expect(made).toHaveLength(3);
    expect(made[0].object).toMatchObject({
      metadata: {
        generateName: 'web-', labels: { app: 'web', tier: 'fe' },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'rs-uid', controller: true, blockOwnerDeletion: true }],
      },
      spec: { containers: [{ name: 'app', image: 'k8ts/busybox:latest' }] },
    });
    expect(statusOf(client)).toMatchObject({ replicas: 0, observedGeneration: 2 });
    // The informer has not seen the new pods yet: another sync must not create them again.
    client.clearActions();
    await controller.sync('default/web');
    expect(creates(client)).toHaveLength(0);
    // Once the pods are seen, expectations are met and nothing more is needed.
    const pods = client.list<Pod>(PODS, 'default');
    for (const p of (await pods).items) informers.informerFor<Pod>(PODS).add(p);
    expect(controller.expectations.satisfied('default/web')).toBe(true);
    client.clearActions();
    await controller.sync('default/web');
    expect(creates(client)).toHaveLength(0);
    expect(statusOf(client)).toMatchObject({ replicas: 3, fullyLabeledReplicas: 3, readyReplicas: 0, availableReplicas: 0 });
  });

  it('drops creates refused because the namespace is being deleted: no error, no FailedCreate (as upstream)', async () => {
    const { client, controller } = setup([rs(3)]);
    client.prependReactor('create', 'pods', () => {
      throw new ApiError(403, 'Forbidden', 'pods "web-x" is forbidden: unable to create new content in namespace default because it is being terminated',
        { causes: [{ reason: 'NamespaceTerminating', message: 'namespace default is being terminated', field: 'metadata.namespace' }] });
    });
    await controller.sync('default/web');
    expect(creates(client)).toHaveLength(3);
    const events = client.writes().filter((w) => w.resource === 'events').map((w) => (w.object as { reason: string }).reason);
    expect(events).not.toContain('FailedCreate');
  });

  it('creates in slow-start batches (1, 2, 4, …) and stops at the first refused batch, with FailedCreate and ReplicaFailure', async () => {
    const { client, controller } = setup([rs(10)]);
    let n = 0;
    client.prependReactor('create', 'pods', () => {
      n++;
      if (n > 3) throw Object.assign(new Error('pods "web-x" is forbidden: exceeded quota'), {});
      return undefined;
    });
    await expect(controller.sync('default/web')).rejects.toThrow(/exceeded quota/);
    // batches 1 and 2 succeed (3 pods), batch 3 of 4 fails: 7 requests, not 10.
    expect(creates(client)).toHaveLength(7);
    const cond = statusOf(client).conditions!.find((c) => c.type === 'ReplicaFailure')!;
    expect(cond).toMatchObject({ status: 'True', reason: 'FailedCreate' });
    expect(cond.message).toMatch(/exceeded quota/);
    const events = client.writes().filter((w) => w.resource === 'events' && w.verb === 'create').map((w) => (w.object as { reason: string }).reason);
    expect(events).toContain('FailedCreate');
    expect(events).toContain('SuccessfulCreate');
    // The failed creates were never going to show up: expectations only wait for the 3 made.
    expect(controller.expectations.satisfied('default/web')).toBe(false);
  });

  it('deletes surplus pods in upstream order: unassigned, pending, not ready, then the most recently ready', async () => {
    const objects = [
      rs(2),
      pod('old-ready', { node: 'n1', readySince: T0 - 10 * 3600_000 }),
      pod('new-ready', { node: 'n2', readySince: T0 - 60_000 }),
      pod('not-ready', { node: 'n1' }),
      pod('pending', { node: 'n1', phase: 'Pending' }),
      pod('unassigned', { phase: 'Pending' }),
    ];
    const { client, controller } = setup(objects);
    await controller.sync('default/web');
    expect(deletes(client)).toEqual(['unassigned', 'pending', 'not-ready']);
    client.clearActions();
    await controller.sync('default/web'); // deletions not yet observed: nothing more
    expect(deletes(client)).toEqual([]);
  });

  it('adopts matching orphans, releases owned pods that stopped matching, and leaves other controllers\' pods alone', async () => {
    const other = pod('other');
    other.metadata!.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'x', uid: 'x-uid', controller: true }];
    const { client, controller } = setup([rs(2), pod('orphan', { owned: false }), pod('relabelled', { labels: { app: 'db' } }), other, pod('mine')]);
    await controller.sync('default/web');
    const patches = client.writes().filter((w) => w.verb === 'patch');
    expect(patches.map((p) => [p.name, p.patchType])).toEqual([['orphan', 'strategic'], ['relabelled', 'strategic']]);
    expect(patches[0].patch).toEqual({ metadata: { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'rs-uid', controller: true, blockOwnerDeletion: true }], uid: 'pod-orphan' } });
    expect(patches[1].patch).toEqual({ metadata: { ownerReferences: [{ $patch: 'delete', uid: 'rs-uid' }], uid: 'pod-relabelled' } });
    expect(creates(client)).toHaveLength(0); // orphan + mine = 2
    expect(deletes(client)).toEqual([]);
  });

  it('counts available replicas only minReadySeconds after Ready', async () => {
    const { client, controller, clock } = setup([rs(2, { minReadySeconds: 30 }), pod('a', { readySince: T0 - 60_000 }), pod('b', { readySince: T0 - 5_000 })]);
    await controller.sync('default/web');
    expect(statusOf(client)).toMatchObject({ replicas: 2, readyReplicas: 2, availableReplicas: 1 });
    clock.advance(30_000);
    await controller.sync('default/web');
    expect(statusOf(client)).toMatchObject({ availableReplicas: 2 });
  });

  it('writes nothing when nothing changed, and nothing for a ReplicaSet that is gone', async () => {
    const { client, controller, informers } = setup([rs(1), pod('a', { readySince: T0 - 60_000 })]);
    await controller.sync('default/web');
    informers.informerFor<ReplicatedObject>(REPLICASETS).update(client.stored<ReplicatedObject>(REPLICASETS, 'default', 'web')!);
    client.clearActions();
    await controller.sync('default/web');
    expect(client.writes()).toEqual([]);
    await controller.sync('default/missing');
    expect(client.writes()).toEqual([]);
  });
});

describe('pod helpers', () => {
  it('slowStartBatch doubles the batch and stops after a failed one', async () => {
    let calls = 0;
    const r = await slowStartBatch(20, async () => { calls++; if (calls === 5) throw new Error('no'); });
    expect(r.successes).toBe(6); // 1 + 2 + (4 with one failure: 3)
    expect(calls).toBe(7);
    expect((r.error as Error).message).toBe('no');
    expect(await slowStartBatch(0, async () => { throw new Error('never'); })).toEqual({ successes: 0 });
  });

  it('ranks pods doubled up on a node before others, and restarts and newer pods first among equals', () => {
    const a = pod('a', { node: 'n1', readySince: T0 - 3600_000 });
    const b = pod('b', { node: 'n1', readySince: T0 - 3600_000 });
    const c = pod('c', { node: 'n2', readySince: T0 - 3600_000 });
    expect(deletionOrder([c, a, b], rankByRelatedOnSameNode([a, b, c], [a, b, c]), T0).map((p) => p.metadata!.name)[2]).toBe('c');
    const crashy = pod('crashy', { node: 'n3', readySince: T0 - 3600_000, restarts: 4 });
    const young = pod('young', { node: 'n4', readySince: T0 - 3600_000, created: T0 - 60_000 });
    const old = pod('old', { node: 'n5', readySince: T0 - 3600_000, created: T0 - 86400_000 });
    expect(deletionOrder([old, young, crashy], new Map(), T0).map((p) => p.metadata!.name)).toEqual(['crashy', 'young', 'old']);
  });
});
