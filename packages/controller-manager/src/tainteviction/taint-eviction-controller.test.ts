import { describe, expect, it } from 'vitest';
import { NODES, PODS, type Event, type Node, type Pod } from '@k8ts/api';
import { FakeClock, FakeInformerFactory, RecordingClient } from '@k8ts/api/testing';
import { matchingTolerations, toleratesTaint, type Toleration } from '../taints.js';
import { minTolerationMs, TaintEvictionController } from './taint-eviction-controller.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const UNREACHABLE = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' };

const node = (name: string, taints: { key: string; effect: string; value?: string }[] = []): Node => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name, uid: `uid-${name}`, resourceVersion: '1' }, spec: taints.length ? { taints } : {},
});
const pod = (name: string, nodeName: string, tolerations?: Toleration[]): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: `uid-${name}`, resourceVersion: '1' },
  spec: { nodeName, containers: [{ name: 'app', image: 'x' }], ...(tolerations ? { tolerations } : {}) },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
});
const tolerate = (seconds?: number): Toleration[] => [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', ...(seconds !== undefined ? { tolerationSeconds: seconds } : {}) }];

function setup(objects: (Node | Pod)[]) {
  const clock = new FakeClock(T0);
  const client = new RecordingClient({ objects, clock });
  const informers = new FakeInformerFactory(objects);
  const controller = new TaintEvictionController({ client, informers, clock });
  return { clock, client, informers, controller };
}
/** Takes everything queued so far (handlers queue every seeded pod), as workers would. */
async function drain(c: TaintEvictionController): Promise<string[]> {
  const keys: string[] = [];
  while (c.queue.len() > 0) { const k = (await c.queue.get())!; keys.push(k); c.queue.done(k); }
  return keys;
}
const deleted = (c: RecordingClient) => c.writes().filter((w) => w.verb === 'delete' && w.resource === 'pods').map((w) => w.name);
const events = (c: RecordingClient) => c.writes().filter((w) => w.resource === 'events' && w.verb === 'create').map((w) => (w.object as Event).message);

describe('tolerations', () => {
  it.each([
    [{ key: 'k', operator: 'Equal', value: 'v', effect: 'NoExecute' }, { key: 'k', value: 'v', effect: 'NoExecute' }, true],
    [{ key: 'k', value: 'v' }, { key: 'k', value: 'w', effect: 'NoExecute' }, false],
    [{ key: 'k', operator: 'Exists' }, { key: 'k', value: 'w', effect: 'NoSchedule' }, true],
    [{ operator: 'Exists' }, { key: 'any', effect: 'NoExecute' }, true],
    [{ key: 'k', operator: 'Exists', effect: 'NoSchedule' }, { key: 'k', effect: 'NoExecute' }, false],
    [{ key: 'other', operator: 'Exists' }, { key: 'k', effect: 'NoExecute' }, false],
  ])('%j tolerates %j: %s', (t, taint, want) => {
    expect(toleratesTaint(t as Toleration, taint as never)).toBe(want);
  });

  it('matches every taint to its first toleration, and takes the shortest tolerationSeconds', () => {
    const taints = [UNREACHABLE, { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }];
    expect(matchingTolerations(taints as never, tolerate(5)).tolerated).toBe(false);
    const both = [...tolerate(30), { key: 'node.kubernetes.io/not-ready', operator: 'Exists', tolerationSeconds: 10 }];
    const { tolerated, used } = matchingTolerations(taints as never, both);
    expect(tolerated).toBe(true);
    expect(minTolerationMs(used)).toBe(10_000);
    expect(minTolerationMs(tolerate())).toBe(-1);
    expect(minTolerationMs(tolerate(0))).toBe(0);
    expect(minTolerationMs([])).toBe(0);
  });
});

describe('TaintEvictionController.sync', () => {
  it('deletes a pod that does not tolerate the NoExecute taint at once, marking it DisruptionTarget, and only once', async () => {
    const { client, controller } = setup([node('n1', [UNREACHABLE]), pod('a', 'n1')]);
    await controller.sync('default/a');
    expect(deleted(client)).toEqual(['a']);
    const patch = client.writes().find((w) => w.verb === 'patch')!;
    expect(patch).toMatchObject({ subresource: 'status', name: 'a' });
    expect((patch.patch as { status: { conditions: unknown[] } }).status.conditions).toContainEqual({
      type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint', lastTransitionTime: '2026-12-01T10:00:00Z',
    });
    expect(client.writes().find((w) => w.verb === 'delete')!.options).toEqual({ preconditions: { uid: 'uid-a' } });
    expect(events(client)).toEqual(['Marking for deletion Pod default/a']);
    client.clearActions();
    await controller.sync('default/a');
    expect(client.writes()).toEqual([]);
  });

  it('deletes a pod that tolerates the taint for tolerationSeconds when they run out, and never one that tolerates it forever', async () => {
    const { client, clock, controller } = setup([node('n1', [UNREACHABLE]), pod('short', 'n1', tolerate(2)), pod('forever', 'n1', tolerate()), pod('other', 'n2')]);
    for (const k of await drain(controller)) await controller.sync(k);
    expect(deleted(client)).toEqual([]);
    expect(controller.scheduledAt('default/short')).toBe(T0 + 2_000);
    expect(controller.queue.len()).toBe(0); // waiting on the clock, not queued yet
    clock.advance(1_000);
    await controller.sync('default/short'); // an early wake-up keeps the first decision time
    expect(controller.scheduledAt('default/short')).toBe(T0 + 2_000);
    clock.advance(1_000);
    expect(await drain(controller)).toEqual(['default/short']); // the queue brings it back when due
    await controller.sync('default/short');
    await controller.sync('default/forever');
    expect(deleted(client)).toEqual(['short']);
    expect(controller.scheduledAt('default/forever')).toBeUndefined();
  });

  it('cancels a scheduled eviction when the taint goes, with an Event', async () => {
    const { client, clock, controller, informers } = setup([node('n1', [UNREACHABLE]), pod('p', 'n1', tolerate(300))]);
    await drain(controller);
    await controller.sync('default/p');
    expect(controller.scheduledAt('default/p')).toBe(T0 + 300_000);
    informers.informerFor<Node>(NODES).update({ ...node('n1'), metadata: { ...node('n1').metadata, resourceVersion: '2' } });
    expect(await drain(controller)).toEqual(['default/p']); // the node's taint change queued its pods
    await controller.sync('default/p');
    expect(controller.scheduledAt('default/p')).toBeUndefined();
    expect(events(client)).toEqual(['Cancelling deletion of Pod default/p']);
    clock.advance(400_000);
    await controller.sync('default/p');
    expect(deleted(client)).toEqual([]);
  });

  it('leaves pods already being deleted, pods on untainted nodes and pods gone from the cache alone', async () => {
    const terminating = pod('t', 'n1');
    terminating.metadata!.deletionTimestamp = '2026-12-01T09:59:00Z';
    const { client, controller, informers } = setup([node('n1', [UNREACHABLE, { key: 'x', effect: 'NoSchedule' }]), node('n2', [{ key: 'x', effect: 'NoSchedule' }]), terminating, pod('q', 'n2')]);
    await controller.sync('default/t');
    await controller.sync('default/q');
    await controller.sync('default/missing');
    expect(client.writes()).toEqual([]);
    informers.informerFor<Pod>(PODS).delete(terminating);
    await controller.sync('default/t');
    expect(events(client)).toEqual(['Cancelling deletion of Pod default/t']);
  });
});
