import { describe, expect, it } from 'vitest';
import { PODDISRUPTIONBUDGETS, type Deployment, type Pod, type PodDisruptionBudget, type ReplicaSet } from '@k8ts/api';
import { FakeClock, FakeInformerFactory, RecordingClient } from '@k8ts/api/testing';
import {
  countHealthyPods, DELETION_TIMEOUT_MS, DisruptionController, disruptedPodMap, disruptionsAllowed, expectedPodCount, scaledValue,
} from './disruption-controller.js';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

const deployment = (replicas: number): Deployment => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default', uid: 'd1' }, spec: { replicas, selector: {}, template: {} },
});
const replicaSet = (replicas: number, owned = true): ReplicaSet => ({
  apiVersion: 'apps/v1', kind: 'ReplicaSet',
  metadata: { name: 'web-1', namespace: 'default', uid: 'rs1', ...(owned ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd1', controller: true }] } : {}) },
  spec: { replicas, selector: {} },
});
const pod = (name: string, o: { ready?: boolean; deleting?: boolean; owner?: boolean; app?: string } = {}): Pod => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: {
    name, namespace: 'default', uid: `u-${name}`, labels: { app: o.app ?? 'web' },
    ...(o.owner === false ? {} : { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', uid: 'rs1', controller: true }] }),
    ...(o.deleting ? { deletionTimestamp: iso(NOW) } : {}),
  },
  spec: { containers: [] },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
});
const pdb = (spec: PodDisruptionBudget['spec'], status?: PodDisruptionBudget['status']): PodDisruptionBudget => ({
  apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'default', uid: 'p1', generation: 2, resourceVersion: '5' },
  spec: { selector: { matchLabels: { app: 'web' } }, ...spec }, ...(status ? { status } : {}),
});

describe('the budget maths', () => {
  it('scales percentages as upstream (rounding up), integers as they are', () => {
    expect(scaledValue('50%', 5, true)).toBe(3);
    expect(scaledValue('50%', 5, false)).toBe(2);
    expect(scaledValue(2, 10, true)).toBe(2);
    expect(() => scaledValue('x%', 5, true)).toThrow('invalid value for IntOrString');
  });

  it.each([
    ['minAvailable int counts the matching pods', { minAvailable: 2 }, 4, { expectedCount: 3, desiredHealthy: 2 }],
    ['minAvailable % uses the controllers\' scale', { minAvailable: '50%' }, 5, { expectedCount: 5, desiredHealthy: 3 }],
    ['maxUnavailable int', { maxUnavailable: 1 }, 4, { expectedCount: 4, desiredHealthy: 3 }],
    ['maxUnavailable % rounds up the unavailable', { maxUnavailable: '30%' }, 4, { expectedCount: 4, desiredHealthy: 2 }],
    ['maxUnavailable beyond the scale leaves none desired', { maxUnavailable: 9 }, 4, { expectedCount: 4, desiredHealthy: 0 }],
    ['neither field', {}, 4, { expectedCount: 0, desiredHealthy: 0 }],
  ])('%s', (_, spec, scale, want) => {
    expect(expectedPodCount(spec as never, [pod('a'), pod('b'), pod('c')], () => scale)).toEqual(want);
  });

  it('allows the healthy pods beyond the desired ones, never fewer than 0, none without expected pods', () => {
    expect(disruptionsAllowed(3, 2, 3)).toBe(1);
    expect(disruptionsAllowed(1, 2, 3)).toBe(0);
    expect(disruptionsAllowed(3, 0, 0)).toBe(0);
  });

  it('does not count pods being deleted, unready or recently evicted; forgets evictions after the timeout', () => {
    const pods = [pod('a'), pod('b'), pod('c', { ready: false }), pod('d', { deleting: true }), pod('e')];
    const recorded = { b: iso(NOW - 1000), e: iso(NOW - DELETION_TIMEOUT_MS - 1000), d: iso(NOW) };
    const { disrupted, expired, recheckAt } = disruptedPodMap(pods, recorded, NOW);
    expect(disrupted).toEqual({ b: recorded.b });
    expect(expired).toEqual(['e']);
    expect(recheckAt).toBe(NOW - 1000 + DELETION_TIMEOUT_MS);
    expect(countHealthyPods(pods, disrupted, NOW)).toBe(2); // a and e
  });
});

function setup(objects: (Pod | PodDisruptionBudget | Deployment | ReplicaSet)[]) {
  const client = new RecordingClient({ objects });
  const informers = new FakeInformerFactory(objects);
  const clock = new FakeClock(NOW);
  return { client, controller: new DisruptionController({ client, informers, clock }) };
}

describe('DisruptionController.sync', () => {
  it('writes upstream\'s status for a Deployment budgeted at replicas-1, and nothing when it is current', async () => {
    const { client, controller } = setup([deployment(3), replicaSet(3), pod('a'), pod('b'), pod('c'), pdb({ minAvailable: 2 })]);
    await controller.sync('default/web');
    const status = client.stored<PodDisruptionBudget>(PODDISRUPTIONBUDGETS, 'default', 'web')!.status!;
    expect(status).toMatchObject({ currentHealthy: 3, desiredHealthy: 2, expectedPods: 3, disruptionsAllowed: 1, observedGeneration: 2 });
    expect(status.conditions).toEqual([{
      type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '', observedGeneration: 2, lastTransitionTime: iso(NOW),
    }]);
    const again = setup([deployment(3), replicaSet(3), pod('a'), pod('b'), pod('c'), pdb({ minAvailable: 2 }, status)]);
    await again.controller.sync('default/web');
    expect(again.client.writes().filter((w) => w.resource === 'poddisruptionbudgets')).toEqual([]);
  });

  it('takes maxUnavailable against the Deployment\'s scale, not the ReplicaSet\'s, and keeps recent evictions', async () => {
    const evicted = { b: iso(NOW - 5000) };
    const { client, controller } = setup([deployment(4), replicaSet(3), pod('a'), pod('b'), pod('c'),
      pdb({ maxUnavailable: 1 }, { currentHealthy: 3, desiredHealthy: 2, expectedPods: 3, disruptionsAllowed: 0, disruptedPods: evicted })]);
    await controller.sync('default/web');
    const status = client.stored<PodDisruptionBudget>(PODDISRUPTIONBUDGETS, 'default', 'web')!.status!;
    expect(status).toMatchObject({ expectedPods: 4, desiredHealthy: 3, currentHealthy: 2, disruptionsAllowed: 0, disruptedPods: evicted });
    expect(status.conditions![0]).toMatchObject({ status: 'False', reason: 'InsufficientPods' });
  });

  it('fails safe (SyncFailed, no disruptions) when a percentage needs the scale of a pod without a controller', async () => {
    const { client, controller } = setup([pod('a', { owner: false }), pdb({ minAvailable: '50%' }, { currentHealthy: 1, desiredHealthy: 0, expectedPods: 1, disruptionsAllowed: 1 })]);
    await controller.sync('default/web');
    const status = client.stored<PodDisruptionBudget>(PODDISRUPTIONBUDGETS, 'default', 'web')!.status!;
    expect(status.disruptionsAllowed).toBe(0);
    expect(status.conditions![0]).toMatchObject({ status: 'False', reason: 'SyncFailed', message: 'found no controller ref for pod "a"' });
  });

  it('counts no pods for a budget without matching pods, and records NoPods', async () => {
    const { client, controller } = setup([pod('x', { app: 'other' }), pdb({ minAvailable: 1 })]);
    await controller.sync('default/web');
    expect(client.stored<PodDisruptionBudget>(PODDISRUPTIONBUDGETS, 'default', 'web')!.status).toMatchObject({ currentHealthy: 0, expectedPods: 0, disruptionsAllowed: 0 });
    expect(client.writes().some((w) => w.resource === 'events' && (w.object as { reason?: string }).reason === 'NoPods')).toBe(true);
  });
});
