import { describe, expect, it } from 'vitest';
import { LEASES, microTime, NODES, PODS, type Event, type Lease, type Node, type Pod } from '@k8ts/api';
import { FakeClock, FakeInformerFactory, RecordingClient } from '@k8ts/api/testing';
import { NodeLifecycleController } from './node-lifecycle-controller.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
const MONITORED = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

function node(name: string, o: { ready?: 'True' | 'False' | 'Unknown' | null; heartbeat?: number; unschedulable?: boolean; zone?: string } = {}): Node {
  const hb = iso(o.heartbeat ?? T0);
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name, uid: `uid-${name}`, resourceVersion: '1', creationTimestamp: iso(T0 - 3600_000), labels: o.zone ? { 'topology.kubernetes.io/zone': o.zone } : {} },
    spec: o.unschedulable ? { unschedulable: true } : {},
    status: o.ready === null ? {} : {
      conditions: [
        ...['MemoryPressure', 'DiskPressure', 'PIDPressure'].map((type) => ({ type, status: 'False', reason: 'KubeletHasSufficient', lastHeartbeatTime: hb, lastTransitionTime: iso(T0 - 3600_000) })),
        { type: 'Ready', status: o.ready ?? 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: hb, lastTransitionTime: iso(T0 - 3600_000) },
      ],
    },
  };
}

const lease = (name: string, renewed: number): Lease => ({
  apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: 'kube-node-lease', resourceVersion: String(renewed) },
  spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: microTime(renewed) },
});

const pod = (name: string, nodeName: string): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: `uid-${name}`, resourceVersion: '1' },
  spec: { nodeName, containers: [{ name: 'app', image: 'x' }] },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: iso(T0 - 60_000) }] },
});

function setup(objects: (Node | Lease | Pod)[], opts: { nodeEvictionRate?: number } = {}) {
  const clock = new FakeClock(T0);
  const client = new RecordingClient({ objects, clock });
  const informers = new FakeInformerFactory(objects);
  const controller = new NodeLifecycleController({ client, informers, clock, nodeMonitorGracePeriodMs: 40_000, nodeStartupGracePeriodMs: 60_000, ...opts });
  const nodesInf = informers.informerFor<Node>(NODES);
  /** The informers catch up with what the apiserver (the recording client) has, as a watch would. */
  const observe = () => {
    for (const n of nodesInf.list()) nodesInf.update(client.stored<Node>(NODES, undefined, n.metadata!.name!)!);
    const podsInf = informers.informerFor<Pod>(PODS);
    for (const p of podsInf.list()) podsInf.update(client.stored<Pod>(PODS, 'default', p.metadata!.name!)!);
  };
  /** The kubelet of `name` renews its Lease now (and, with `status`, posts Ready). */
  const heartbeat = (name: string, status?: 'True' | 'False') => {
    informers.informerFor<Lease>(LEASES, { namespace: 'kube-node-lease' }).update(lease(name, clock.now()));
    if (status) {
      const n = client.stored<Node>(NODES, undefined, name)!;
      const fresh = node(name, { ready: status, heartbeat: clock.now() });
      const ready = fresh.status!.conditions!.find((c) => c.type === 'Ready')!;
      if (n.status?.conditions?.find((c) => c.type === 'Ready')?.status !== status) ready.lastTransitionTime = iso(clock.now());
      client.seed({ ...n, status: fresh.status });
      observe();
    }
  };
  return { clock, client, informers, controller, observe, heartbeat };
}

const nodeWrites = (c: RecordingClient, name: string) => c.writes().filter((w) => w.resource === 'nodes' && w.name === name);
const events = (c: RecordingClient) => c.writes().filter((w) => w.resource === 'events' && w.verb === 'create').map((w) => w.object as Event);
const taintsOf = (c: RecordingClient, name: string) => c.stored<Node>(NODES, undefined, name)!.spec?.taints ?? [];

describe('NodeLifecycleController', () => {
  it('marks a node whose Lease stops being renewed Unknown after the grace period, taints it unreachable, and untaints it when it is back', async () => {
    const { clock, client, controller, observe, heartbeat } = setup([
      node('n1'), node('n2'), node('n3'), lease('n1', T0), lease('n2', T0), lease('n3', T0), pod('a', 'n2'), pod('b', 'n1'),
    ]);
    await controller.monitorNodeHealth();
    expect(events(client).map((e) => e.reason)).toEqual(['RegisteredNode', 'RegisteredNode', 'RegisteredNode']);
    client.clearActions();

    // n1 and n3 keep renewing; n2 falls silent. 40 s is not past the grace period yet.
    for (let t = 10_000; t <= 40_000; t += 10_000) {
      clock.advance(10_000);
      heartbeat('n1');
      heartbeat('n3');
      await controller.monitorNodeHealth();
    }
    expect(client.writes()).toEqual([]);
    clock.advance(5_000);
    heartbeat('n1');
    heartbeat('n3');
    await controller.monitorNodeHealth();
    expect(nodeWrites(client, 'n1')).toEqual([]);
    const [statusWrite] = nodeWrites(client, 'n2');
    expect(statusWrite).toMatchObject({ verb: 'update', subresource: 'status' });
    const conditions = client.stored<Node>(NODES, undefined, 'n2')!.status!.conditions!;
    for (const type of MONITORED) {
      expect(conditions.find((c) => c.type === type)).toMatchObject({
        status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: iso(clock.now()),
      });
    }
    // The pods on it are not ready any more; events on the node and on the pod, as upstream.
    expect(client.stored<Pod>(PODS, 'default', 'a')!.status!.conditions!.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', lastTransitionTime: iso(clock.now()) });
    expect(client.stored<Pod>(PODS, 'default', 'b')!.status!.conditions!.find((c) => c.type === 'Ready')!.status).toBe('True');
    expect(events(client).map((e) => [e.reason, e.involvedObject.kind, e.involvedObject.name, e.message])).toEqual([
      ['NodeNotReady', 'Node', 'n2', 'Node n2 status is now: NodeNotReady'],
      ['NodeNotReady', 'Pod', 'a', 'Node is not ready'],
    ]);

    // The next pass sees Ready Unknown and queues the NoExecute taint; the tainting pass writes it.
    observe();
    clock.advance(5_000);
    heartbeat('n1');
    heartbeat('n3');
    await controller.monitorNodeHealth();
    await controller.doNoExecuteTaintingPass();
    expect(taintsOf(client, 'n2')).toEqual([{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: iso(clock.now()) }]);
    // The NoSchedule pass mirrors the condition.
    observe();
    await controller.sync('n2');
    expect(taintsOf(client, 'n2').map((t) => `${t.key}:${t.effect}`)).toEqual(['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
    // Nothing more to do while it stays away.
    observe();
    client.clearActions();
    await controller.sync('n2');
    await controller.doNoExecuteTaintingPass();
    expect(client.writes()).toEqual([]);

    // The kubelet comes back: Lease renewed and Ready posted. Both taints go.
    clock.advance(5_000);
    heartbeat('n2', 'True');
    await controller.monitorNodeHealth();
    observe();
    await controller.sync('n2');
    expect(taintsOf(client, 'n2')).toEqual([]);
  });

  it('taints a node the kubelet reports not ready with not-ready, and swaps it for unreachable when the node then goes silent', async () => {
    const { clock, client, controller, observe, heartbeat } = setup([node('n1'), node('n2'), lease('n1', T0), lease('n2', T0)]);
    await controller.monitorNodeHealth();
    clock.advance(5_000);
    heartbeat('n1');
    heartbeat('n2', 'False');
    await controller.monitorNodeHealth();
    await controller.doNoExecuteTaintingPass();
    expect(taintsOf(client, 'n2').map((t) => `${t.key}:${t.effect}`)).toEqual(['node.kubernetes.io/not-ready:NoExecute']);
    observe();
    await controller.sync('n2');
    expect(taintsOf(client, 'n2').map((t) => `${t.key}:${t.effect}`)).toEqual(['node.kubernetes.io/not-ready:NoExecute', 'node.kubernetes.io/not-ready:NoSchedule']);
    observe();
    for (let i = 0; i < 9; i++) {
      clock.advance(5_000);
      heartbeat('n1');
      await controller.monitorNodeHealth();
      observe();
    }
    // Unknown now: the not-ready taint is swapped for unreachable at once, without waiting for the rate limiter.
    await controller.monitorNodeHealth();
    expect(taintsOf(client, 'n2').map((t) => `${t.key}:${t.effect}`)).toEqual(['node.kubernetes.io/not-ready:NoSchedule', 'node.kubernetes.io/unreachable:NoExecute']);
  });

  it('taints cordoned nodes node.kubernetes.io/unschedulable:NoSchedule and untaints them when uncordoned', async () => {
    const { client, controller, informers } = setup([node('n1', { unschedulable: true })]);
    await controller.sync('n1');
    expect(taintsOf(client, 'n1')).toEqual([{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule', timeAdded: iso(T0) }]);
    const n = client.stored<Node>(NODES, undefined, 'n1')!;
    informers.informerFor<Node>(NODES).update({ ...n, spec: { ...n.spec, unschedulable: false } });
    await controller.sync('n1');
    expect(taintsOf(client, 'n1')).toEqual([]);
    await controller.sync('gone'); // a node not in the cache is nothing to do
  });

  it('gives a node that never posted status the startup grace period, then marks it NodeStatusNeverUpdated', async () => {
    const fresh = node('new', { ready: null });
    fresh.metadata!.creationTimestamp = iso(T0);
    const { clock, client, controller } = setup([fresh, node('n1'), lease('n1', T0)]);
    await controller.monitorNodeHealth();
    clock.advance(50_000);
    await controller.monitorNodeHealth();
    expect(nodeWrites(client, 'new').filter((w) => w.subresource === 'status')).toEqual([]);
    clock.advance(11_000);
    await controller.monitorNodeHealth();
    const conds = client.stored<Node>(NODES, undefined, 'new')!.status!.conditions!;
    expect(conds.map((c) => [c.type, c.status, c.reason, c.message])).toEqual(MONITORED.map((t) => [t, 'Unknown', 'NodeStatusNeverUpdated', 'Kubelet never posted node status.']));
  });

  it('does not taint NoExecute when every node is lost (full disruption), and removes NoExecute taints already there', async () => {
    const tainted = node('n1');
    tainted.spec = { taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute', timeAdded: iso(T0) }] };
    const { clock, client, controller, observe } = setup([tainted, node('n2'), lease('n1', T0), lease('n2', T0)]);
    // A node seen for the first time loses the NoExecute taints (markNodeAsReachable), as upstream.
    await controller.monitorNodeHealth();
    expect(taintsOf(client, 'n1')).toEqual([]);
    observe();
    clock.advance(45_000);
    await controller.monitorNodeHealth();
    observe();
    expect(client.stored<Node>(NODES, undefined, 'n1')!.status!.conditions!.find((c) => c.type === 'Ready')!.status).toBe('Unknown');
    clock.advance(5_000);
    await controller.monitorNodeHealth();
    await controller.doNoExecuteTaintingPass();
    expect(taintsOf(client, 'n1')).toEqual([]);
    expect(taintsOf(client, 'n2')).toEqual([]);
  });

  it('taints NoExecute at --node-eviction-rate per zone: one node now, the next ten seconds later', async () => {
    const objects = ['n1', 'n2', 'n3', 'n4', 'n5'].flatMap((n) => [node(n), lease(n, T0)]);
    const { clock, client, controller, observe, heartbeat } = setup(objects);
    await controller.monitorNodeHealth();
    for (let i = 0; i < 10; i++) {
      clock.advance(5_000);
      for (const n of ['n1', 'n2', 'n3']) heartbeat(n);
      await controller.monitorNodeHealth();
      observe();
    }
    await controller.doNoExecuteTaintingPass();
    const tainted = () => ['n4', 'n5'].filter((n) => taintsOf(client, n).some((t) => t.effect === 'NoExecute'));
    expect(tainted()).toHaveLength(1);
    clock.advance(5_000);
    await controller.doNoExecuteTaintingPass();
    expect(tainted()).toHaveLength(1);
    clock.advance(5_000);
    await controller.doNoExecuteTaintingPass();
    expect(tainted()).toEqual(['n4', 'n5']);
  });

  it('marks a pod bound to a node that is not ready not ready', async () => {
    const { clock, client, controller, informers, observe, heartbeat } = setup([node('n1'), node('n2'), lease('n1', T0), lease('n2', T0)]);
    await controller.monitorNodeHealth();
    clock.advance(45_000);
    heartbeat('n1');
    await controller.monitorNodeHealth();
    observe();
    const late = pod('late', 'n2');
    client.seed(late);
    informers.informerFor<Pod>(PODS).add(late);
    await controller.syncPod('default/late');
    expect(client.stored<Pod>(PODS, 'default', 'late')!.status!.conditions![0].status).toBe('False');
    const onReady = pod('fine', 'n1');
    client.seed(onReady);
    informers.informerFor<Pod>(PODS).add(onReady);
    await controller.syncPod('default/fine');
    expect(client.stored<Pod>(PODS, 'default', 'fine')!.status!.conditions![0].status).toBe('True');
  });
});
