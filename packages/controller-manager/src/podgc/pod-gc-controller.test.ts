import { describe, expect, it } from 'vitest';
import type { KubeObject, Pod } from '@k8ts/api';
import { FakeClock, FakeInformerFactory, RecordingClient } from '@k8ts/api/testing';
import { PodGCController, QUARANTINE_MS } from './pod-gc-controller.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

function pod(name: string, o: { phase?: string; node?: string; created?: number; deleting?: boolean; reason?: string } = {}): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `pod-${name}`, creationTimestamp: iso(o.created ?? T0), ...(o.deleting ? { deletionTimestamp: iso(T0) } : {}) },
    spec: { containers: [{ name: 'c', image: 'x' }], ...(o.node ? { nodeName: o.node } : {}) },
    status: { phase: (o.phase ?? 'Running') as 'Running', ...(o.reason ? { reason: o.reason } : {}) },
  };
}
const node = (name: string, extra: Record<string, unknown> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, uid: `node-${name}` }, ...extra }) as KubeObject;

function setup(objects: KubeObject[], threshold = 12500) {
  const clock = new FakeClock(T0);
  const client = new RecordingClient({ objects, clock });
  const informers = new FakeInformerFactory(objects);
  const controller = new PodGCController({ client, informers, clock, terminatedPodThreshold: threshold });
  return { clock, client, controller };
}
const deleted = (c: RecordingClient) => c.writes().filter((w) => w.verb === 'delete').map((w) => w.name);

describe('PodGCController.gc', () => {
  it('deletes the oldest terminated pods above the threshold, evicted ones first, with grace 0', async () => {
    const objects = [
      pod('old-failed', { phase: 'Failed', node: 'n1', created: T0 - 3000 }),
      pod('newer-ok', { phase: 'Succeeded', node: 'n1', created: T0 - 1000 }),
      pod('evicted', { phase: 'Failed', node: 'n1', created: T0, reason: 'Evicted' }),
      pod('oldest-ok', { phase: 'Succeeded', node: 'n1', created: T0 - 5000 }),
      pod('running', { node: 'n1', created: T0 - 9000 }),
      node('n1'),
    ];
    const { client, controller } = setup(objects, 2);
    await controller.gc();
    expect(deleted(client)).toEqual(['evicted', 'oldest-ok']);
    expect(client.writes().find((w) => w.verb === 'delete')!.options).toEqual({ gracePeriodSeconds: 0, preconditions: { uid: 'pod-evicted' } });
    // Terminal pods need no status change.
    expect(client.writes().filter((w) => w.verb === 'patch')).toEqual([]);
  });

  it('leaves terminated pods alone under the threshold, or when it is 0', async () => {
    const objects = [pod('a', { phase: 'Failed', node: 'n1' }), node('n1')];
    const under = setup(objects, 1);
    await under.controller.gc();
    expect(deleted(under.client)).toEqual([]);
    const off = setup(objects, 0);
    await off.controller.gc();
    expect(deleted(off.client)).toEqual([]);
  });

  it('deletes pods of a node gone for the quarantine, once a live GET confirms it, marking them Failed first', async () => {
    const { client, controller, clock } = setup([pod('lost', { node: 'gone' }), pod('kept', { node: 'n1' }), node('n1')]);
    await controller.gc();
    clock.advance(QUARANTINE_MS - 1);
    await controller.gc();
    expect(deleted(client)).toEqual([]);
    clock.advance(1);
    await controller.gc();
    expect(client.actions.some((a) => a.verb === 'get' && a.resource === 'nodes' && a.name === 'gone')).toBe(true);
    expect(deleted(client)).toEqual(['lost']);
    const patch = client.writes().find((w) => w.verb === 'patch')!;
    expect(patch).toMatchObject({ name: 'lost', subresource: 'status' });
    expect(patch.patch).toMatchObject({ status: { phase: 'Failed', conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists' }] } });
  });

  it('keeps pods of a node the informer has not seen but the apiserver has', async () => {
    const { client, controller, clock } = setup([pod('p', { node: 'late' })]);
    client.seed(node('late'));
    await controller.gc();
    clock.advance(QUARANTINE_MS);
    await controller.gc();
    expect(deleted(client)).toEqual([]);
  });

  it('force deletes terminating pods that were never scheduled, and terminating pods on out-of-service nodes', async () => {
    const oos = node('broken', {
      spec: { taints: [{ key: 'node.kubernetes.io/out-of-service', value: 'nodeshutdown', effect: 'NoExecute' }] },
      status: { conditions: [{ type: 'Ready', status: 'False' }] },
    });
    const { client, controller } = setup([pod('unscheduled', { deleting: true }), pod('pending'), pod('stuck', { node: 'broken', deleting: true }), pod('fine', { node: 'n1', deleting: true }), node('n1'), oos]);
    await controller.gc();
    expect(deleted(client).sort()).toEqual(['stuck', 'unscheduled']);
  });
});
