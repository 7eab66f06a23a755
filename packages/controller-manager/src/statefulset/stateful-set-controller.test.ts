import { describe, expect, it } from 'vitest';
import { STATEFULSETS, type Pod, type StatefulSet } from '@k8ts/api';
import { FakeClock, FakeInformerFactory, RecordingClient } from '@k8ts/api/testing';
import { newControllerRevision, templatePatch, type ControllerRevision } from '../history/controller-history.js';
import { StatefulSetController } from './stateful-set-controller.js';
import { claimOwnerMatches, updateClaimOwners, type PersistentVolumeClaim } from './util.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const iso = (t: number) => new Date(t).toISOString().replace(/\.\d+Z$/, 'Z');

function sts(o: { replicas?: number; image?: string; policy?: string; partition?: number; onDelete?: boolean; claims?: boolean; retention?: { whenDeleted?: string; whenScaled?: string }; status?: StatefulSet['status']; generation?: number } = {}): StatefulSet {
  return {
    apiVersion: 'apps/v1', kind: 'StatefulSet',
    metadata: { name: 'web', namespace: 'default', uid: 'sts-uid', generation: o.generation ?? 1, resourceVersion: '9' },
    spec: {
      replicas: o.replicas ?? 3, serviceName: 'web-svc', podManagementPolicy: o.policy ?? 'OrderedReady', revisionHistoryLimit: 10,
      selector: { matchLabels: { app: 'web' } },
      updateStrategy: o.onDelete ? { type: 'OnDelete' } : { type: 'RollingUpdate', rollingUpdate: { partition: o.partition ?? 0 } },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: o.retention?.whenDeleted ?? 'Retain', whenScaled: o.retention?.whenScaled ?? 'Retain' },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: o.image ?? 'img:1' }] } },
      ...(o.claims ? { volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }] } : {}),
    },
    status: o.status ?? { replicas: 0 },
  };
}

function revisionOf(set: StatefulSet, rev: number): ControllerRevision {
  const r = newControllerRevision(set, STATEFULSETS, set.spec!.template.metadata!.labels, templatePatch(set), rev, 0);
  return { ...r, metadata: { ...r.metadata, uid: `cr-${rev}`, creationTimestamp: iso(T0 - 100_000 + rev) } };
}

function pod(set: StatefulSet, ordinal: number, revision: string, o: { ready?: boolean; phase?: string; deleting?: boolean } = {}): Pod {
  const name = `web-${ordinal}`;
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name, namespace: 'default', uid: `uid-${name}`, resourceVersion: '4', creationTimestamp: iso(T0 - 60_000),
      labels: { app: 'web', 'statefulset.kubernetes.io/pod-name': name, 'apps.kubernetes.io/pod-index': String(ordinal), 'controller-revision-hash': revision },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'sts-uid', controller: true, blockOwnerDeletion: true }],
      ...(o.deleting ? { deletionTimestamp: iso(T0) } : {}),
    },
    spec: { hostname: name, subdomain: 'web-svc', containers: [{ name: 'app', image: 'img' }],
      ...(set.spec!.volumeClaimTemplates ? { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: `data-web-${ordinal}` } }] } : {}) },
    status: { phase: o.phase ?? 'Running', conditions: o.ready === false ? [] : [{ type: 'Ready', status: 'True', lastTransitionTime: iso(T0 - 30_000) }] },
  };
}

function claimObj(ordinal: number, owners: PersistentVolumeClaim['metadata'] extends infer M ? M extends { ownerReferences?: infer R } ? R : never : never = undefined): PersistentVolumeClaim {
  return { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: `data-web-${ordinal}`, namespace: 'default', uid: `pvc-${ordinal}`, ownerReferences: owners }, spec: {} };
}

function setup(objects: (StatefulSet | Pod | ControllerRevision | PersistentVolumeClaim)[]) {
  const clock = new FakeClock(T0);
  const client = new RecordingClient({ objects, clock });
  const controller = new StatefulSetController({ client, informers: new FakeInformerFactory(objects), clock });
  const writes = (resource: string, verb?: string) => client.writes().filter((w) => w.resource === resource && (!verb || w.verb === verb));
  const statusWrite = () => writes('statefulsets', 'update').at(-1)?.object as StatefulSet | undefined;
  return { client, controller, writes, statusWrite };
}

describe('StatefulSetController.sync', () => {
  it('OrderedReady: records revision 1 and creates only web-0, with its identity, claim and revision label', async () => {
    const set = sts({ claims: true });
    const { controller, writes, statusWrite } = setup([set]);
    await controller.sync('default/web');
    const [rev] = writes('controllerrevisions', 'create');
    const revName = (rev.object as ControllerRevision).metadata!.name!;
    expect(rev.object).toMatchObject({ revision: 1, metadata: { labels: { app: 'web', 'controller.kubernetes.io/hash': expect.any(String) } } });
    expect(writes('persistentvolumeclaims', 'create').map((w) => w.object)).toEqual([expect.objectContaining({
      metadata: expect.objectContaining({ name: 'data-web-0', labels: { app: 'web' } }), spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    })]);
    const pods = writes('pods', 'create').map((w) => w.object as Pod);
    expect(pods).toHaveLength(1);
    expect(pods[0]).toMatchObject({
      metadata: { name: 'web-0', labels: { app: 'web', 'statefulset.kubernetes.io/pod-name': 'web-0', 'apps.kubernetes.io/pod-index': '0', 'controller-revision-hash': revName }, ownerReferences: [{ kind: 'StatefulSet', uid: 'sts-uid', controller: true }] },
      spec: { hostname: 'web-0', subdomain: 'web-svc', volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data-web-0' } }] },
    });
    // The claim goes before the pod.
    const order = writes('persistentvolumeclaims', 'create').concat(writes('pods', 'create')).map((w) => w.resource);
    expect(order).toEqual(['persistentvolumeclaims', 'pods']);
    expect(statusWrite()!.status).toMatchObject({ observedGeneration: 1, currentRevision: revName, updateRevision: revName, collisionCount: 0, replicas: 0 });
  });

  it('OrderedReady waits for web-0 to be Running and Ready before web-1', async () => {
    const set = sts();
    const rev = revisionOf(set, 1);
    const notReady = setup([set, rev, pod(set, 0, rev.metadata!.name!, { ready: false })]);
    await notReady.controller.sync('default/web');
    expect(notReady.writes('pods', 'create')).toHaveLength(0);
    const ready = setup([set, rev, pod(set, 0, rev.metadata!.name!)]);
    await ready.controller.sync('default/web');
    expect(ready.writes('pods', 'create').map((w) => (w.object as Pod).metadata!.name)).toEqual(['web-1']);
  });

  it('Parallel creates every missing pod at once', async () => {
    const set = sts({ policy: 'Parallel', replicas: 4 });
    const { controller, writes } = setup([set]);
    await controller.sync('default/web');
    expect(writes('pods', 'create').map((w) => (w.object as Pod).metadata!.name).sort()).toEqual(['web-0', 'web-1', 'web-2', 'web-3']);
  });

  it('scales down in reverse ordinal order, one at a time, waiting for the terminating pod', async () => {
    const set = sts({ replicas: 1 });
    const rev = revisionOf(set, 1);
    const r = rev.metadata!.name!;
    const first = setup([set, rev, pod(set, 0, r), pod(set, 1, r), pod(set, 2, r)]);
    await first.controller.sync('default/web');
    expect(first.writes('pods', 'delete').map((w) => w.name)).toEqual(['web-2']);
    const second = setup([set, rev, pod(set, 0, r), pod(set, 1, r), pod(set, 2, r, { deleting: true })]);
    await second.controller.sync('default/web');
    expect(second.writes('pods', 'delete')).toHaveLength(0);
    const third = setup([set, rev, pod(set, 0, r), pod(set, 1, r)]);
    await third.controller.sync('default/web');
    expect(third.writes('pods', 'delete').map((w) => w.name)).toEqual(['web-1']);
  });

  it('a rolling update replaces the highest ordinal first, down to the partition', async () => {
    const v1 = sts({ image: 'img:1' });
    const v2 = sts({ image: 'img:2', partition: 1, generation: 2 });
    const r1 = revisionOf(v1, 1);
    const pods = [0, 1, 2].map((i) => pod(v1, i, r1.metadata!.name!));
    const a = setup([{ ...v2, status: { replicas: 3, currentRevision: r1.metadata!.name } }, r1, ...pods]);
    await a.controller.sync('default/web');
    const [created] = a.writes('controllerrevisions', 'create');
    const r2 = created.object as ControllerRevision;
    expect(r2.revision).toBe(2);
    expect(a.writes('pods', 'delete').map((w) => w.name)).toEqual(['web-2']);
    expect(a.statusWrite()!.status).toMatchObject({ currentRevision: r1.metadata!.name, updateRevision: r2.metadata!.name, currentReplicas: 2, updatedReplicas: 0 });
    // web-2 is at the new revision: web-1 next; web-0 stays below the partition.
    const rev2 = { ...r2, metadata: { ...r2.metadata, uid: 'cr-2', creationTimestamp: iso(T0) } };
    const b = setup([{ ...v2, status: { replicas: 3, currentRevision: r1.metadata!.name } }, r1, rev2, pods[0], pods[1], pod(v2, 2, r2.metadata!.name!)]);
    await b.controller.sync('default/web');
    expect(b.writes('pods', 'delete').map((w) => w.name)).toEqual(['web-1']);
    const c = setup([{ ...v2, status: { replicas: 3, currentRevision: r1.metadata!.name } }, r1, rev2, pods[0], pod(v2, 1, r2.metadata!.name!), pod(v2, 2, r2.metadata!.name!)]);
    await c.controller.sync('default/web');
    expect(c.writes('pods', 'delete')).toHaveLength(0);
    expect(c.statusWrite()!.status).toMatchObject({ updatedReplicas: 2, currentReplicas: 1 });
  });

  it('Parallel deletes every condemned pod at once', async () => {
    const set = sts({ policy: 'Parallel', replicas: 1 });
    const rev = revisionOf(set, 1);
    const { controller, writes } = setup([set, rev, ...[0, 1, 2, 3].map((i) => pod(set, i, rev.metadata!.name!, { ready: i !== 2 }))]);
    await controller.sync('default/web');
    expect(writes('pods', 'delete').map((w) => w.name).sort()).toEqual(['web-1', 'web-2', 'web-3']);
  });

  it('with maxUnavailable 2, replaces two pods at a time from the top', async () => {
    const v1 = sts({ image: 'img:1', replicas: 4 });
    const v2 = sts({ image: 'img:2', replicas: 4 });
    v2.spec!.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { partition: 0, maxUnavailable: 2 } };
    const r1 = revisionOf(v1, 1);
    const { controller, writes } = setup([{ ...v2, status: { replicas: 4, currentRevision: r1.metadata!.name } }, r1, ...[0, 1, 2, 3].map((i) => pod(v1, i, r1.metadata!.name!))]);
    await controller.sync('default/web');
    expect(writes('pods', 'delete').map((w) => w.name)).toEqual(['web-3', 'web-2']);
  });

  it('a missing pod below the partition is recreated at the current revision', async () => {
    const v1 = sts({ image: 'img:1' });
    const v2 = sts({ image: 'img:2', partition: 2 });
    const r1 = revisionOf(v1, 1);
    const r2 = revisionOf(v2, 2);
    const { controller, writes } = setup([{ ...v2, status: { replicas: 2, currentRevision: r1.metadata!.name } }, r1, r2, pod(v1, 1, r1.metadata!.name!), pod(v2, 2, r2.metadata!.name!)]);
    await controller.sync('default/web');
    const [created] = writes('pods', 'create').map((w) => w.object as Pod);
    expect(created.metadata!.labels!['controller-revision-hash']).toBe(r1.metadata!.name);
    expect(created.spec!.containers[0].image).toBe('img:1');
  });

  it('OnDelete never deletes for an update; a finished pod is replaced', async () => {
    const v1 = sts({ image: 'img:1', onDelete: true });
    const v2 = sts({ image: 'img:2', onDelete: true });
    const r1 = revisionOf(v1, 1);
    const { controller, writes } = setup([{ ...v2, status: { replicas: 3, currentRevision: r1.metadata!.name } }, r1, pod(v1, 0, r1.metadata!.name!), pod(v1, 1, r1.metadata!.name!, { phase: 'Failed' }), pod(v1, 2, r1.metadata!.name!)]);
    await controller.sync('default/web');
    expect(writes('pods', 'delete').map((w) => w.name)).toEqual(['web-1']);
  });

  it('completes a rollout: all updated and ready makes the update revision current', async () => {
    const v1 = sts({ image: 'img:1' });
    const v2 = sts({ image: 'img:2' });
    const r1 = revisionOf(v1, 1);
    const r2 = revisionOf(v2, 2);
    const { controller, statusWrite } = setup([{ ...v2, status: { replicas: 3, currentRevision: r1.metadata!.name } }, r1, r2, ...[0, 1, 2].map((i) => pod(v2, i, r2.metadata!.name!))]);
    await controller.sync('default/web');
    expect(statusWrite()!.status).toMatchObject({ currentRevision: r2.metadata!.name, updateRevision: r2.metadata!.name, currentReplicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 });
  });

  it('rolling back to a template seen before renumbers its revision', async () => {
    const v1 = sts({ image: 'img:1' });
    const v2 = sts({ image: 'img:2' });
    const r1 = revisionOf(v1, 1);
    const r2 = revisionOf(v2, 2);
    const { controller, writes } = setup([{ ...v1, status: { replicas: 3, currentRevision: r2.metadata!.name } }, r1, r2, ...[0, 1, 2].map((i) => pod(v2, i, r2.metadata!.name!))]);
    await controller.sync('default/web');
    expect(writes('controllerrevisions', 'create')).toHaveLength(0);
    expect(writes('controllerrevisions', 'update').map((w) => w.object)).toEqual([expect.objectContaining({ metadata: expect.objectContaining({ name: r1.metadata!.name }), revision: 3 })]);
    expect(writes('pods', 'delete').map((w) => w.name)).toEqual(['web-2']);
  });

  it('claims survive scale-down with Retain; whenScaled Delete makes the scaled-down pod their owner', async () => {
    const keep = sts({ replicas: 1, claims: true });
    const r = revisionOf(keep, 1);
    const retained = setup([keep, r, pod(keep, 0, r.metadata!.name!), pod(keep, 1, r.metadata!.name!), claimObj(0), claimObj(1)]);
    await retained.controller.sync('default/web');
    expect(retained.writes('pods', 'delete').map((w) => w.name)).toEqual(['web-1']);
    expect(retained.writes('persistentvolumeclaims')).toHaveLength(0);
    const drop = sts({ replicas: 1, claims: true, retention: { whenScaled: 'Delete' } });
    const dropped = setup([drop, r, pod(drop, 0, r.metadata!.name!), pod(drop, 1, r.metadata!.name!), claimObj(0), claimObj(1)]);
    await dropped.controller.sync('default/web');
    const [update] = dropped.writes('persistentvolumeclaims', 'update');
    expect(update.object).toMatchObject({ metadata: { name: 'data-web-1', ownerReferences: [{ kind: 'Pod', name: 'web-1', uid: 'uid-web-1' }] } });
  });

  it('retention policy owners: whenDeleted Delete owns claims by the set', () => {
    const set = sts({ claims: true, retention: { whenDeleted: 'Delete' } });
    const p = pod(set, 0, 'r');
    const c = claimObj(0);
    expect(claimOwnerMatches(c, set, p)).toBe(false);
    expect(updateClaimOwners(c, set, p)).toBe(true);
    expect(c.metadata!.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'sts-uid' }]);
    expect(claimOwnerMatches(c, set, p)).toBe(true);
    expect(updateClaimOwners(c, set, p)).toBe(false);
  });

  it('waits while a claim still belongs to an earlier pod of the same name', async () => {
    const set = sts({ replicas: 1, claims: true });
    const { controller, writes } = setup([set, revisionOf(set, 1), claimObj(0, [{ apiVersion: 'v1', kind: 'Pod', name: 'web-0', uid: 'old-uid' }])]);
    await controller.sync('default/web');
    expect(writes('pods', 'create')).toHaveLength(0);
  });
});
