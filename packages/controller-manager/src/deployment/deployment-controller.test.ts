import { describe, expect, it } from 'vitest';
import { DEPLOYMENTS, type Deployment, type ReplicaSet } from '@k8ts/api';
import { FakeClock, FakeInformerFactory, RecordingClient } from '@k8ts/api/testing';
import { DeploymentController } from './deployment-controller.js';
import { computeHash, proportion, resolveFenceposts, scaledValue } from './util.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');

function deployment(image: string, o: { replicas?: number; surge?: number | string; unavailable?: number | string; generation?: number } = {}): Deployment {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', uid: 'd-uid', generation: o.generation ?? 1, resourceVersion: '5', annotations: { team: 'a' } },
    spec: {
      replicas: o.replicas ?? 10, selector: { matchLabels: { app: 'web' } }, revisionHistoryLimit: 10, progressDeadlineSeconds: 600,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: o.surge ?? 3, maxUnavailable: o.unavailable ?? 2 } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image }] } },
    },
    status: {},
  };
}

/** The ReplicaSet the controller would have made for `d`'s template, sized and with status as given. */
function replicaSet(d: Deployment, o: { replicas: number; available: number; revision: number; created: number }): ReplicaSet {
  const hash = computeHash(d.spec!.template);
  return {
    apiVersion: 'apps/v1', kind: 'ReplicaSet',
    metadata: {
      name: `web-${hash}`, namespace: 'default', uid: `rs-${hash}`, resourceVersion: '3', generation: 1,
      creationTimestamp: new Date(o.created).toISOString(), labels: { app: 'web', 'pod-template-hash': hash },
      annotations: { team: 'a', 'deployment.kubernetes.io/revision': String(o.revision), 'deployment.kubernetes.io/desired-replicas': '10', 'deployment.kubernetes.io/max-replicas': '13' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd-uid', controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      replicas: o.replicas, selector: { matchLabels: { app: 'web', 'pod-template-hash': hash } },
      template: { ...d.spec!.template!, metadata: { labels: { app: 'web', 'pod-template-hash': hash } } },
    },
    status: { replicas: o.replicas, readyReplicas: o.available, availableReplicas: o.available, observedGeneration: 1 },
  };
}

function setup(objects: (Deployment | ReplicaSet)[]) {
  const clock = new FakeClock(T0);
  const client = new RecordingClient({ objects, clock });
  const controller = new DeploymentController({ client, informers: new FakeInformerFactory(objects), clock });
  const rsWrites = () => client.writes().filter((w) => w.resource === 'replicasets');
  return { client, controller, rsWrites };
}

describe('DeploymentController.sync', () => {
  it('creates the first ReplicaSet: <name>-<hash>, hash in labels and selector, revision 1, sized to the Deployment', async () => {
    const d = deployment('img:1');
    const { controller, rsWrites, client } = setup([d]);
    await controller.sync('default/web');
    const [create] = rsWrites();
    const hash = computeHash(d.spec!.template);
    expect(create).toMatchObject({ verb: 'create', object: {
      metadata: {
        name: `web-${hash}`, labels: { app: 'web', 'pod-template-hash': hash },
        annotations: { team: 'a', 'deployment.kubernetes.io/revision': '1', 'deployment.kubernetes.io/desired-replicas': '10', 'deployment.kubernetes.io/max-replicas': '13' },
        ownerReferences: [{ kind: 'Deployment', name: 'web', uid: 'd-uid', controller: true, blockOwnerDeletion: true }],
      },
      spec: { replicas: 10, selector: { matchLabels: { app: 'web', 'pod-template-hash': hash } }, template: { metadata: { labels: { 'pod-template-hash': hash } } } },
    } });
    const stored = client.stored<Deployment>(DEPLOYMENTS, 'default', 'web')!;
    expect(stored.metadata!.annotations!['deployment.kubernetes.io/revision']).toBe('1');
    expect(stored.status!.conditions!.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetCreated', message: `Created new replica set "web-${hash}"` });
    const events = client.writes().filter((w) => w.resource === 'events').map((w) => (w.object as { message: string }).message);
    expect(events).toContain(`Scaled up replica set web-${hash} from 0 to 10`);
  });

  it('rolls in steps: the new ReplicaSet surges by maxSurge, then old ones shrink by what maxUnavailable allows', async () => {
    const v1 = deployment('img:1');
    const v2 = deployment('img:2', { generation: 2 });
    const old = replicaSet(v1, { replicas: 10, available: 10, revision: 1, created: T0 - 60_000 });
    const a = setup([v2, old]);
    await a.controller.sync('default/web');
    // As upstream in one sync: the new ReplicaSet surges to 3 (13 = 10 + maxSurge), and since 13 - 8 (min available)
    // - 3 (new ones not yet available) = 2 may go, the old one shrinks to 8.
    expect(a.rsWrites().map((w) => [w.verb, (w.object as ReplicaSet).spec?.replicas])).toEqual([['create', 3], ['update', 8]]);
    expect(a.rsWrites()[0].object).toMatchObject({ metadata: { annotations: { 'deployment.kubernetes.io/revision': '2' } } });

    // The 3 new pods are available and the old ReplicaSet at 8: the new one may grow by 13 - 11 = 2, and that is all this sync does.
    const fresh = replicaSet(v2, { replicas: 3, available: 3, revision: 2, created: T0 });
    const shrunk = { ...old, spec: { ...old.spec!, replicas: 8 }, status: { ...old.status, replicas: 8, availableReplicas: 8, readyReplicas: 8 } };
    const b = setup([v2, shrunk, fresh]);
    await b.controller.sync('default/web');
    expect(b.rsWrites().map((w) => [w.verb, w.name, (w.object as ReplicaSet).spec?.replicas])).toEqual([['update', fresh.metadata!.name, 5]]);

    // All 10 new available: the old one goes to 0.
    const done = replicaSet(v2, { replicas: 10, available: 10, revision: 2, created: T0 });
    const c = setup([v2, { ...old, spec: { ...old.spec!, replicas: 3 }, status: { ...old.status, replicas: 3, availableReplicas: 3 } }, done]);
    await c.controller.sync('default/web');
    expect(c.rsWrites().map((w) => [w.verb, w.name, (w.object as ReplicaSet).spec?.replicas])).toEqual([['update', old.metadata!.name, 0]]);
  });

  it('scales a single live ReplicaSet with the Deployment, with its desired-replicas annotation', async () => {
    const d = deployment('img:1', { replicas: 4 });
    const rs = replicaSet(d, { replicas: 10, available: 10, revision: 1, created: T0 - 60_000 });
    const { controller, rsWrites } = setup([d, rs]);
    await controller.sync('default/web');
    expect(rsWrites().map((w) => [w.verb, (w.object as ReplicaSet).spec?.replicas, (w.object as ReplicaSet).metadata?.annotations?.['deployment.kubernetes.io/desired-replicas']])).toEqual([['update', 4, '4']]);
  });
});

describe('deployment util', () => {
  it('resolves maxSurge up and maxUnavailable down, never both 0', () => {
    expect(resolveFenceposts(deployment('x', { surge: '25%', unavailable: '25%' }))).toEqual({ surge: 3, unavailable: 2 });
    expect(resolveFenceposts(deployment('x', { surge: 0, unavailable: 0 }))).toEqual({ surge: 0, unavailable: 1 });
    expect(scaledValue('33%', 3, true)).toBe(1);
    expect(() => scaledValue('lots', 3, true)).toThrow(/invalid value for IntOrString/);
  });

  it('hashes templates onto upstream\'s alphabet, and a collision count changes the hash', () => {
    const t = deployment('x').spec!.template;
    expect(computeHash(t)).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{6,10}$/);
    expect(computeHash(t)).toBe(computeHash(structuredClone(t)));
    expect(computeHash(t, 1)).not.toBe(computeHash(t));
  });

  it('gives each ReplicaSet its share when scaling, as getProportion', () => {
    const d = deployment('x', { replicas: 20 });
    const rs = (n: number): ReplicaSet => ({ metadata: { annotations: { 'deployment.kubernetes.io/max-replicas': '13' } }, spec: { replicas: n, selector: {}, template: {} } });
    expect(proportion(rs(10), d, 10, 0)).toBe(8);
    expect(proportion(rs(3), d, 10, 8)).toBe(2);
  });
});
