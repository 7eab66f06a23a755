import { describe, expect, it } from 'vitest';
import { NODES, PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES, PODS, STORAGECLASSES, type Node, type Pod } from '@k8ts/api';
import { FakeClock, FakeInformerFactory, RecordingClient, type ClientAction } from '@k8ts/api/testing';
import { defaultProfile } from './plugins/registry.js';
import { Scheduler } from './scheduler.js';

// Scheduler.scheduleOne as sample-controller tests its syncHandler: seeded informers, a recording client, a
// fake clock; each test asserts the writes made.

const node = (name: string, cpu: string): Node => ({
  apiVersion: 'v1', kind: 'Node',
  metadata: { name, uid: `uid-${name}`, labels: { 'kubernetes.io/hostname': name } },
  status: {
    capacity: { cpu, memory: '8Gi', pods: '110' }, allocatable: { cpu, memory: '8Gi', pods: '110' },
    conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }],
  },
});

const pod = (name: string, cpu: string, spec: Partial<NonNullable<Pod['spec']>> = {}): Pod => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { namespace: 'default', name, uid: `uid-${name}`, resourceVersion: '5' },
  spec: { schedulerName: 'default-scheduler', containers: [{ name: 'app', image: 'k8ts/busybox:latest', resources: { requests: { cpu } } }], ...spec },
  status: { phase: 'Pending' },
});

function setup(objects: (Pod | Node)[]) {
  const clock = new FakeClock();
  const informers = new FakeInformerFactory(objects);
  const client = new RecordingClient({ objects, clock });
  const sched = new Scheduler({ client, informers, profile: defaultProfile(), clock, random: () => 0 });
  const next = async () => {
    const qp = await sched.queue.pop(AbortSignal.timeout(2000));
    if (!qp) throw new Error('nothing queued');
    return qp;
  };
  const writes = (resource: string): ClientAction[] => client.writes().filter((a) => a.resource === resource);
  return { clock, informers, client, sched, next, writes };
}

/** Bindings and events are written in the background: wait for them, with a deadline. */
async function eventually(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

describe('Scheduler.scheduleOne', () => {
  it('takes its pod and node informers (and VolumeBinding\'s claims, volumes and classes) from the factory it is given', () => {
    const { informers } = setup([]);
    expect(informers.requests.map((r) => r.def)).toEqual([PODS, NODES, PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES, STORAGECLASSES]);
  });

  it('binds a pending pod to the node it fits, through pods/binding, and records Scheduled', async () => {
    const { sched, next, client, writes } = setup([node('small', '1'), node('big', '4'), pod('web', '2')]);
    await sched.scheduleOne(await next());
    await eventually(() => writes('events').length === 1, 'the Scheduled event');
    expect(writes('pods')).toEqual([{
      verb: 'create', group: '', resource: 'pods', subresource: 'binding', namespace: 'default', name: 'web',
      object: {
        apiVersion: 'v1', kind: 'Binding', metadata: { name: 'web', namespace: 'default', uid: 'uid-web' },
        target: { apiVersion: 'v1', kind: 'Node', name: 'big' },
      },
    }]);
    expect(writes('events')[0].object).toMatchObject({ reason: 'Scheduled', type: 'Normal', message: 'Successfully assigned default/web to big' });
    expect(client.stored<Pod>(PODS, 'default', 'web')?.spec?.nodeName).toBe('big');
    expect(sched.stats).toMatchObject({ attempts: 1, scheduled: 1, failed: 0 });
  });

  it('writes PodScheduled=False with upstream\'s message when no node fits, records FailedScheduling, and parks the pod', async () => {
    const { sched, next, clock, writes } = setup([node('a', '1'), node('b', '1'), pod('huge', '8')]);
    await sched.scheduleOne(await next());
    const message = '0/2 nodes are available: 2 Insufficient cpu.';
    expect(writes('pods')).toEqual([{
      verb: 'patch', group: '', resource: 'pods', subresource: 'status', namespace: 'default', name: 'huge', patchType: 'strategic',
      patch: { status: { conditions: [{
        type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null,
        lastTransitionTime: new Date(clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      }] } },
    }]);
    await eventually(() => writes('events').length === 1, 'the FailedScheduling event');
    expect(writes('events')[0].object).toMatchObject({ reason: 'FailedScheduling', type: 'Warning', message });
    expect(sched.queue.pendingPods().unschedulable.map((p) => p.metadata?.name)).toEqual(['huge']);
  });

  it('filters only the node a DaemonSet pod\'s affinity names (the NodeAffinity pre-filter), and says why the others failed', async () => {
    const pinned = (name: string, target: string) => pod(name, '2', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [target] }] }] } } } });
    const { sched, next, writes } = setup([node('a', '4'), node('b', '4'), node('c', '1'), pinned('ds-b', 'b'), pinned('ds-c', 'c')]);
    const infos = [...sched.cache.snapshot()];
    expect(sched.schedulePod(pinned('x', 'b'), infos)).toMatchObject({ node: 'b', evaluated: 1 });
    await sched.scheduleOne(await next());
    await sched.scheduleOne(await next());
    await eventually(() => writes('events').length === 2, 'two events');
    expect(writes('pods').find((w) => w.name === 'ds-b')).toMatchObject({ subresource: 'binding', object: { target: { name: 'b' } } });
    expect(writes('events').map((w) => (w.object as { message: string }).message)).toContain(
      "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't satisfy plugin(s) [NodeAffinity].");
  });

  it('preempts a lower-priority pod: nominates the node, then deletes the victim with a uid precondition', async () => {
    const victim = { ...pod('low', '3', { nodeName: 'only', priority: 0 }), status: { phase: 'Running' } } as Pod;
    const { sched, next, writes } = setup([node('only', '4'), victim, pod('high', '2', { priority: 1000 })]);
    await sched.scheduleOne(await next());
    expect(writes('pods').map((a) => ({ verb: a.verb, name: a.name, subresource: a.subresource, patch: a.patch, options: a.options }))).toEqual([
      { verb: 'patch', name: 'high', subresource: 'status', patch: { status: { nominatedNodeName: 'only' } }, options: undefined },
      { verb: 'delete', name: 'low', subresource: undefined, patch: undefined, options: { preconditions: { uid: 'uid-low' } } },
      expect.objectContaining({ verb: 'patch', name: 'high', subresource: 'status' }),
    ]);
    expect((writes('pods')[2].patch as { status: { conditions: { message: string }[] } }).status.conditions[0].message)
      .toBe('0/1 nodes are available: 1 Insufficient cpu. preemption: nominated node only.');
    expect(sched.stats.preemptions).toBe(1);
  });

  it('writes nothing for a pod that was bound or deleted since it was queued', async () => {
    const { sched, next, informers, client } = setup([node('n', '4'), pod('gone', '1'), pod('bound', '1')]);
    const pods = informers.informerFor<Pod>(PODS);
    const first = await next();
    const second = await next();
    pods.delete(pod('gone', '1'));
    pods.update({ ...pod('bound', '1', { nodeName: 'n' }), metadata: { ...pod('bound', '1').metadata, resourceVersion: '6' } });
    await sched.scheduleOne(first);
    await sched.scheduleOne(second);
    expect(client.writes()).toEqual([]);
    expect(sched.stats.attempts).toBe(0);
  });
});
