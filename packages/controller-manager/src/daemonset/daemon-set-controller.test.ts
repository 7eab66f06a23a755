import { describe, expect, it } from 'vitest';
import { type DaemonSet, type Node, type Pod } from '@k8ts/api';
import { FakeClock, FakeInformerFactory, RecordingClient } from '@k8ts/api/testing';
import { computeHash } from '../deployment/util.js';
import { templatePatch, type ControllerRevision } from '../history/controller-history.js';
import { DaemonSetController, shouldIgnoreNodeUpdate } from './daemon-set-controller.js';
import { addDaemonPodTolerations, nodeShouldRunDaemonPod, replaceNodeNameAffinity, targetNodeName } from './util.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const iso = (t: number) => new Date(t).toISOString().replace(/\.\d+Z$/, 'Z');

function node(name: string, o: { labels?: Record<string, string>; taints?: NonNullable<Node['spec']>['taints'] } = {}): Node {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, uid: `uid-${name}`, labels: { 'kubernetes.io/hostname': name, ...o.labels } }, spec: { taints: o.taints } };
}

function daemonSet(o: { image?: string; spec?: Partial<NonNullable<NonNullable<DaemonSet['spec']>['template']>['spec']>; strategy?: NonNullable<DaemonSet['spec']>['updateStrategy']; status?: DaemonSet['status']; generation?: number } = {}): DaemonSet {
  return {
    apiVersion: 'apps/v1', kind: 'DaemonSet',
    metadata: { name: 'agent', namespace: 'default', uid: 'ds-uid', generation: o.generation ?? 1, resourceVersion: '7', annotations: { team: 'a' } },
    spec: {
      selector: { matchLabels: { app: 'agent' } }, revisionHistoryLimit: 10,
      updateStrategy: o.strategy ?? { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'a', image: o.image ?? 'img:1' }], ...o.spec } },
    },
    status: o.status ?? { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 },
  };
}

/** The revision the controller records for the DaemonSet's template. */
function revision(ds: DaemonSet, rev: number): ControllerRevision {
  const hash = computeHash(ds.spec!.template);
  return {
    apiVersion: 'apps/v1', kind: 'ControllerRevision',
    metadata: {
      name: `agent-${hash}`, namespace: 'default', uid: `cr-${hash}`, labels: { app: 'agent', 'controller-revision-hash': hash },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: 'ds-uid', controller: true, blockOwnerDeletion: true }],
    },
    data: templatePatch(ds), revision: rev,
  };
}

function pod(ds: DaemonSet, nodeName: string, o: { ready?: boolean; phase?: string; created?: number; name?: string } = {}): Pod {
  const hash = computeHash(ds.spec!.template);
  const name = o.name ?? `agent-${nodeName}-${hash}`;
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name, namespace: 'default', uid: `uid-${name}`, resourceVersion: '3', creationTimestamp: iso(o.created ?? T0 - 60_000),
      labels: { app: 'agent', 'controller-revision-hash': hash },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: 'ds-uid', controller: true, blockOwnerDeletion: true }],
    },
    spec: { nodeName, containers: [{ name: 'a', image: ds.spec!.template.spec!.containers[0].image }], affinity: replaceNodeNameAffinity(undefined, nodeName) },
    status: { phase: o.phase ?? 'Running', conditions: o.ready === false ? [] : [{ type: 'Ready', status: 'True', lastTransitionTime: iso(T0 - 30_000) }] },
  };
}

function setup(objects: (DaemonSet | Node | Pod | ControllerRevision)[]) {
  const clock = new FakeClock(T0);
  const client = new RecordingClient({ objects, clock });
  const controller = new DaemonSetController({ client, informers: new FakeInformerFactory(objects), clock });
  const writes = (resource: string, verb?: string) => client.writes().filter((w) => w.resource === resource && (!verb || w.verb === verb));
  return { client, controller, writes };
}

describe('nodeShouldRunDaemonPod (the daemon controller\'s predicates)', () => {
  const gpu = node('n1', { labels: { gpu: 'true', zone: 'a' } });
  it.each<[string, Node, Parameters<typeof daemonSet>[0], boolean, boolean]>([
    ['a plain node', node('n1'), {}, true, true],
    ['nodeSelector matches', gpu, { spec: { nodeSelector: { gpu: 'true' } } }, true, true],
    ['nodeSelector does not match', node('n1'), { spec: { nodeSelector: { gpu: 'true' } } }, false, false],
    ['required node affinity matches', gpu, { spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] }] } } } } }, true, true],
    ['required node affinity does not match', gpu, { spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }] } } } } }, false, false],
    ['affinity matchFields on the node name', node('n1'), { spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n2'] }] }] } } } } }, false, false],
    ['template nodeName of another node', node('n1'), { spec: { nodeName: 'n2' } }, false, false],
    ['an untolerated NoSchedule taint: not started, but a running pod stays', node('n1', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] }), {}, false, true],
    ['a tolerated NoSchedule taint', node('n1', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] }), { spec: { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }] } }, true, true],
    ['an untolerated NoExecute taint: not there at all', node('n1', { taints: [{ key: 'dedicated', effect: 'NoExecute' }] }), {}, false, false],
    ['a PreferNoSchedule taint does not matter', node('n1', { taints: [{ key: 'dedicated', effect: 'PreferNoSchedule' }] }), {}, true, true],
    ['cordoned: the daemon toleration of unschedulable', node('n1', { taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }] }), {}, true, true],
    ['not ready: tolerated NoExecute', node('n1', { taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }] }), {}, true, true],
    ['unreachable: tolerated NoExecute', node('n1', { taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }] }), {}, true, true],
    ['disk pressure: tolerated', node('n1', { taints: [{ key: 'node.kubernetes.io/disk-pressure', effect: 'NoSchedule' }] }), {}, true, true],
    ['network unavailable: only host-network pods tolerate it', node('n1', { taints: [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }] }), {}, false, true],
    ['network unavailable, host network', node('n1', { taints: [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }] }), { spec: { hostNetwork: true } }, true, true],
  ])('%s', (_name, n, o, shouldRun, shouldContinueRunning) => {
    expect(nodeShouldRunDaemonPod(n, daemonSet(o))).toEqual({ shouldRun, shouldContinueRunning });
  });

  it('adds the daemon tolerations once, and network-unavailable for host networking', () => {
    const spec = { containers: [], tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }] };
    addDaemonPodTolerations(spec);
    addDaemonPodTolerations(spec);
    expect(spec.tolerations.map((t) => `${t.key}:${t.effect}`)).toEqual([
      'node.kubernetes.io/not-ready:NoExecute', 'node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/disk-pressure:NoSchedule',
      'node.kubernetes.io/memory-pressure:NoSchedule', 'node.kubernetes.io/pid-pressure:NoSchedule', 'node.kubernetes.io/unschedulable:NoSchedule',
    ]);
    expect(spec.tolerations[0]).not.toHaveProperty('tolerationSeconds');
  });

  it('replaces only the required node affinity with metadata.name In [node], and reads the node back', () => {
    const affinity = replaceNodeNameAffinity({
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] },
        preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: { matchExpressions: [{ key: 'ssd', operator: 'Exists' }] } }],
      },
    }, 'n7');
    expect(affinity.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution).toEqual({ nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n7'] }] }] });
    expect(affinity.nodeAffinity!.preferredDuringSchedulingIgnoredDuringExecution).toHaveLength(1);
    expect(targetNodeName({ spec: { containers: [], affinity } })).toBe('n7');
  });

  it('ignores node updates that only renew heartbeats', () => {
    const a: Node = { ...node('n1'), metadata: { ...node('n1').metadata, resourceVersion: '1' }, status: { conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: '1' }] } };
    const b: Node = { ...a, metadata: { ...a.metadata, resourceVersion: '2' }, status: { conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: '2' }] } };
    expect(shouldIgnoreNodeUpdate(a, b)).toBe(true);
    expect(shouldIgnoreNodeUpdate(a, { ...b, status: { conditions: [{ type: 'Ready', status: 'False' }] } })).toBe(false);
    expect(shouldIgnoreNodeUpdate(a, { ...b, metadata: { ...b.metadata, labels: { gpu: 'true' } } })).toBe(false);
  });
});

describe('DaemonSetController.sync', () => {
  it('records revision 1 and creates one pod per eligible node, pinned by node affinity, with the daemon tolerations and hash label', async () => {
    const ds = daemonSet({ spec: { nodeSelector: { pool: 'web' } } });
    const nodes = [node('n1', { labels: { pool: 'web' } }), node('n2', { labels: { pool: 'web' } }), node('n3')];
    const { controller, writes } = setup([ds, ...nodes]);
    await controller.sync('default/agent');
    const hash = computeHash(ds.spec!.template);
    const [rev] = writes('controllerrevisions', 'create');
    expect(rev.object).toMatchObject({
      metadata: { name: `agent-${hash}`, labels: { app: 'agent', 'controller-revision-hash': hash }, annotations: { team: 'a' }, ownerReferences: [{ kind: 'DaemonSet', uid: 'ds-uid', controller: true }] },
      revision: 1, data: { spec: { template: { $patch: 'replace', metadata: { creationTimestamp: null, labels: { app: 'agent' } } } } },
    });
    const creates = writes('pods', 'create').map((w) => w.object as Pod);
    expect(creates.map((p) => targetNodeName(p)).sort()).toEqual(['n1', 'n2']);
    for (const p of creates) {
      expect(p.metadata).toMatchObject({ generateName: 'agent-', labels: { app: 'agent', 'controller-revision-hash': hash }, ownerReferences: [{ kind: 'DaemonSet', name: 'agent', controller: true }] });
      expect(p.spec!.nodeName).toBeUndefined();
      expect(p.spec!.tolerations).toEqual(expect.arrayContaining([{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }]));
    }
    const [st] = writes('daemonsets', 'update');
    expect(st).toMatchObject({ subresource: 'status', object: { status: { desiredNumberScheduled: 2, currentNumberScheduled: 0, numberReady: 0, numberUnavailable: 2, observedGeneration: 1 } } });
  });

  it('counts status per node: misscheduled, ready, available after minReadySeconds, updated', async () => {
    const ds = daemonSet({ spec: { nodeSelector: { pool: 'web' } } });
    ds.spec!.minReadySeconds = 60;
    const nodes = [node('n1', { labels: { pool: 'web' } }), node('n2', { labels: { pool: 'web' } }), node('n3')];
    const pods = [pod(ds, 'n1'), pod(ds, 'n2', { ready: false }), pod(ds, 'n3')];
    pods[0].status!.conditions![0].lastTransitionTime = iso(T0 - 120_000);
    const { controller, writes } = setup([ds, revision(ds, 1), ...nodes, ...pods]);
    await controller.sync('default/agent');
    // The misscheduled pod on n3 goes.
    expect(writes('pods', 'delete').map((w) => w.name)).toEqual([pods[2].metadata!.name]);
    const st = writes('daemonsets', 'update').at(-1)!.object as DaemonSet;
    expect(st.status).toMatchObject({ desiredNumberScheduled: 2, currentNumberScheduled: 2, numberMisscheduled: 1, numberReady: 1, numberAvailable: 1, updatedNumberScheduled: 2, numberUnavailable: 1 });
  });

  it('replaces a failed pod, and keeps only the oldest of two pods on a node', async () => {
    const ds = daemonSet();
    const failed = pod(ds, 'n1', { phase: 'Failed', ready: false });
    const older = pod(ds, 'n2', { name: 'agent-old', created: T0 - 100_000 });
    const newer = pod(ds, 'n2', { name: 'agent-new', created: T0 - 50_000 });
    const { controller, writes } = setup([ds, revision(ds, 1), node('n1'), node('n2'), failed, older, newer]);
    await controller.sync('default/agent');
    expect(writes('pods', 'delete').map((w) => w.name).sort()).toEqual(['agent-new', failed.metadata!.name].sort());
  });

  it('rolls out within maxUnavailable: deletes one old available pod, not more, while the new pod is missing', async () => {
    const v1 = daemonSet({ image: 'img:1' });
    const v2 = daemonSet({ image: 'img:2', generation: 2 });
    const nodes = ['n1', 'n2', 'n3'].map((n) => node(n));
    const pods = nodes.map((n) => pod(v1, n.metadata!.name!));
    const { controller, writes } = setup([v2, revision(v1, 1), ...nodes, ...pods]);
    await controller.sync('default/agent');
    const [rev] = writes('controllerrevisions', 'create');
    expect(rev.object).toMatchObject({ metadata: { name: `agent-${computeHash(v2.spec!.template)}` }, revision: 2 });
    expect(writes('pods', 'delete')).toHaveLength(1);
    expect(writes('pods', 'create')).toHaveLength(0);
    const st = writes('daemonsets', 'update').at(-1)!.object as DaemonSet;
    expect(st.status).toMatchObject({ updatedNumberScheduled: 0, desiredNumberScheduled: 3, observedGeneration: 2 });
  });

  it('rolls out with maxSurge: a new pod beside an old one, the old one deleted once the new is available', async () => {
    const strategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } };
    const v1 = daemonSet({ image: 'img:1', strategy });
    const v2 = daemonSet({ image: 'img:2', strategy, generation: 2 });
    const nodes = ['n1', 'n2'].map((n) => node(n));
    const pods = nodes.map((n) => pod(v1, n.metadata!.name!));
    const first = setup([v2, revision(v1, 1), revision(v2, 2), ...nodes, ...pods]);
    await first.controller.sync('default/agent');
    expect(first.writes('pods', 'delete')).toHaveLength(0);
    expect(first.writes('pods', 'create').map((w) => targetNodeName(w.object as Pod))).toHaveLength(1);
    // The new pod on n1 is available: its old pod goes (the rollout waits for that delete to be seen)...
    const second = setup([v2, revision(v1, 1), revision(v2, 2), ...nodes, ...pods, pod(v2, 'n1', { name: 'agent-new-n1' })]);
    await second.controller.sync('default/agent');
    expect(second.writes('pods', 'delete').map((w) => w.name)).toEqual([pods[0].metadata!.name]);
    expect(second.writes('pods', 'create')).toHaveLength(0);
    // ...then the next node surges.
    const third = setup([v2, revision(v1, 1), revision(v2, 2), ...nodes, pods[1], pod(v2, 'n1', { name: 'agent-new-n1' })]);
    await third.controller.sync('default/agent');
    expect(third.writes('pods', 'delete')).toHaveLength(0);
    expect(third.writes('pods', 'create').map((w) => targetNodeName(w.object as Pod))).toEqual(['n2']);
  });

  it('OnDelete leaves old pods alone; a rollback renumbers the old revision instead of recording it again', async () => {
    const v1 = daemonSet({ image: 'img:1', strategy: { type: 'OnDelete' } });
    const v2 = daemonSet({ image: 'img:2', strategy: { type: 'OnDelete' } });
    const { controller, writes } = setup([v1, revision(v1, 1), revision(v2, 2), node('n1'), pod(v2, 'n1')]);
    await controller.sync('default/agent');
    expect(writes('pods', 'delete')).toHaveLength(0);
    expect(writes('controllerrevisions', 'create')).toHaveLength(0);
    const [renumber] = writes('controllerrevisions', 'update');
    expect(renumber.object).toMatchObject({ metadata: { name: `agent-${computeHash(v1.spec!.template)}` }, revision: 3 });
  });

  it('deletes the oldest revisions beyond revisionHistoryLimit that no pod runs', async () => {
    const cur = daemonSet({ image: 'img:9' });
    cur.spec!.revisionHistoryLimit = 1;
    const old = [1, 2, 3].map((i) => revision(daemonSet({ image: `img:${i}` }), i));
    const { controller, writes } = setup([cur, revision(cur, 4), ...old, node('n1'), pod(daemonSet({ image: 'img:1' }), 'n1')]);
    await controller.sync('default/agent');
    // Two too many old revisions: img:1 still runs on n1 and stays; img:2 and img:3 go, oldest first.
    expect(writes('controllerrevisions', 'delete').map((w) => w.name)).toEqual([old[1].metadata!.name, old[2].metadata!.name]);
  });

  it('bumps collisionCount when its revision name is taken by another template', async () => {
    const ds = daemonSet();
    const squatter = { ...revision(daemonSet({ image: 'other' }), 1), metadata: { ...revision(ds, 1).metadata, ownerReferences: [] } };
    const { controller, writes, client } = setup([ds, node('n1')]);
    client.seed(squatter);
    await expect(controller.sync('default/agent')).rejects.toThrow();
    const bump = writes('daemonsets', 'update').find((w) => (w.object as DaemonSet).status?.collisionCount === 1);
    expect(bump).toMatchObject({ subresource: 'status' });
  });
});
