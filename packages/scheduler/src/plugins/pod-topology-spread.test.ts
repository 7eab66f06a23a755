import { describe, expect, it } from 'vitest';
import type { Node, Pod } from '@k8ts/api';
import type { CycleState, NodeInfo, Status } from '../types.js';
import { FakeInformerFactory } from '@k8ts/api/testing';
import { addPod, newNodeInfo, removePod } from './nodeinfo.js';
import { spreadListers } from './default-selector.js';
import { podTopologySpread, spreadScoreState } from './pod-topology-spread.js';

type Constraint = NonNullable<NonNullable<Pod['spec']>['topologySpreadConstraints']>[number];
const HOST = 'kubernetes.io/hostname';
const ZONE = 'topology.kubernetes.io/zone';

let seq = 0;
const pod = (opts: { labels?: Record<string, string>; owner?: string; namespace?: string; deleting?: boolean; constraints?: Constraint[]; nodeSelector?: Record<string, string> } = {}): Pod => ({
  metadata: {
    name: `p${++seq}`, namespace: opts.namespace ?? 'default', uid: `u${seq}`, labels: opts.labels,
    ownerReferences: opts.owner ? [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: opts.owner, controller: true }] : undefined,
    deletionTimestamp: opts.deleting ? '2024-01-01T00:00:00Z' : undefined,
  },
  spec: { containers: [], topologySpreadConstraints: opts.constraints, nodeSelector: opts.nodeSelector },
});
const node = (name: string, labels: Record<string, string> = {}): Node => ({ metadata: { name, labels: { [HOST]: name, ...labels } } });
const cycle = (nodes: NodeInfo[]): CycleState => ({ allNodes: nodes, data: new Map() });
// The ReplicaSet `rs` selects its pods by their pod-template-hash; another ReplicaSet's pods (hash h2) share `app`.
const informers = new FakeInformerFactory([{ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'rs', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'web', 'pod-template-hash': 'h1' } } } } as Pod]);
const rs = () => pod({ labels: { app: 'web', 'pod-template-hash': 'h1' }, owner: 'rs-1' });
const other = () => pod({ labels: { app: 'web', 'pod-template-hash': 'h2' }, owner: 'rs-2' });

/** Scores and normalizes every node, as the scheduler does. */
function scoreAll(incoming: Pod, nodes: NodeInfo[]): { raw: Record<string, number>; normalized: Record<string, number> } {
  const plugin = podTopologySpread({ informers });
  const state = cycle(nodes);
  expect(plugin.preScore!(incoming, nodes, state).code).toBe(spreadScoreState(incoming, nodes, nodes, spreadListers(informers)).constraints.length ? 'Success' : 'Skip');
  const scores = new Map(nodes.map((n) => [n.node.metadata!.name!, plugin.score(incoming, n, state)]));
  const raw = Object.fromEntries(scores);
  plugin.normalize!(incoming, scores, state);
  return { raw, normalized: Object.fromEntries(scores) };
}

describe('PodTopologySpread default constraints', () => {
  it.each([
    ['by host: fewer pods of the owner is better',
      () => [newNodeInfo(node('n1'), [rs(), rs()]), newNodeInfo(node('n2'), [rs(), other()]), newNodeInfo(node('n3'))],
      // raw: count × ln(3+2) + (3−1), rounded: 5.22 → 5, 3.61 → 4, 2; then 100 × (max + min − s) / max.
      { n1: 5, n2: 4, n3: 2 }, { n1: 40, n2: 60, n3: 100 }],
    ['by host and zone when nodes carry zones',
      () => [newNodeInfo(node('n1', { [ZONE]: 'a' }), [rs()]), newNodeInfo(node('n2', { [ZONE]: 'a' })), newNodeInfo(node('n3', { [ZONE]: 'b' }))],
      // host ln 5, zone ln 4: n1 1.61+2 + 1.39+4 = 9.00 → 9, n2 2 + 1.39+4 → 7, n3 2 + 4 = 6.
      { n1: 9, n2: 7, n3: 6 }, { n1: 66, n2: 88, n3: 100 }],
    ['nothing placed yet: all equal',
      () => [newNodeInfo(node('n1')), newNodeInfo(node('n2'))],
      { n1: 2, n2: 2 }, { n1: 100, n2: 100 }],
  ] as [string, () => NodeInfo[], Record<string, number>, Record<string, number>][])('score %s', (_name, nodes, raw, normalized) => {
    expect(scoreAll(rs(), nodes())).toEqual({ raw, normalized });
  });

  it('scores 0 everywhere for a pod with nothing to spread by', () => {
    expect(scoreAll(pod(), [newNodeInfo(node('n1')), newNodeInfo(node('n2'))]).normalized).toEqual({ n1: 0, n2: 0 });
  });
});

describe('PodTopologySpread explicit constraints', () => {
  const web = () => pod({ labels: { app: 'web' } });
  const zoneConstraint = (extra: Partial<Constraint> = {}): Constraint =>
    ({ maxSkew: 1, topologyKey: ZONE, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } }, ...extra });
  const OK: Status = { code: 'Success', reasons: [] };
  const SKEW: Status = { code: 'Unschedulable', reasons: ["node(s) didn't match pod topology spread constraints"] };
  const LABEL: Status = { code: 'UnschedulableAndUnresolvable', reasons: ["node(s) didn't match pod topology spread constraints (missing required label)"] };

  it.each([
    ['maxSkew over zones', zoneConstraint(), undefined,
      () => [newNodeInfo(node('a1', { [ZONE]: 'a' }), [web(), web()]), newNodeInfo(node('b1', { [ZONE]: 'b' }), [web()]), newNodeInfo(node('x1'))],
      { a1: SKEW, b1: OK, x1: LABEL }],
    ['minDomains above the domains there are makes the minimum 0', zoneConstraint({ minDomains: 3 }), undefined,
      () => [newNodeInfo(node('a1', { [ZONE]: 'a' }), [web()]), newNodeInfo(node('b1', { [ZONE]: 'b' }), [web()])],
      { a1: SKEW, b1: SKEW }],
    ['nodes the pod may not use do not count (nodeAffinityPolicy Honor)', zoneConstraint(), { disk: 'ssd' },
      () => [newNodeInfo(node('a1', { [ZONE]: 'a', disk: 'ssd' }), [web()]), newNodeInfo(node('b1', { [ZONE]: 'b', disk: 'ssd' }), [web()]), newNodeInfo(node('c1', { [ZONE]: 'c' }))],
      { a1: OK, b1: OK, c1: OK }],
    ['with nodeAffinityPolicy Ignore they do', zoneConstraint({ nodeAffinityPolicy: 'Ignore' }), { disk: 'ssd' },
      () => [newNodeInfo(node('a1', { [ZONE]: 'a', disk: 'ssd' }), [web()]), newNodeInfo(node('b1', { [ZONE]: 'b', disk: 'ssd' }), [web()]), newNodeInfo(node('c1', { [ZONE]: 'c' }))],
      { a1: SKEW, b1: SKEW, c1: OK }],
    ['ScheduleAnyway constraints never filter', zoneConstraint({ whenUnsatisfiable: 'ScheduleAnyway' }), undefined,
      () => [newNodeInfo(node('a1', { [ZONE]: 'a' }), [web(), web(), web()]), newNodeInfo(node('x1'))],
      { a1: OK, x1: OK }],
  ] as [string, Constraint, Record<string, string> | undefined, () => NodeInfo[], Record<string, Status>][])('filter: %s', (_name, constraint, nodeSelector, nodes, expected) => {
    const incoming = pod({ labels: { app: 'web' }, constraints: [constraint], nodeSelector });
    const infos = nodes();
    const plugin = podTopologySpread();
    const state = cycle(infos);
    // No DoNotSchedule constraint: PreFilter skips the filter (upstream's Skip); called anyway, it passes.
    expect(plugin.preFilter(incoming, state)).toEqual(constraint.whenUnsatisfiable === 'DoNotSchedule' ? OK : { code: 'Skip', reasons: [] });
    expect(Object.fromEntries(infos.map((n) => [n.node.metadata!.name, plugin.filter(incoming, n, state)]))).toEqual(expected);
  });

  it('ScheduleAnyway constraints score, and nodes missing the key score 0', () => {
    const incoming = pod({ labels: { app: 'web' }, constraints: [zoneConstraint({ whenUnsatisfiable: 'ScheduleAnyway' })] });
    const nodes = [newNodeInfo(node('a1', { [ZONE]: 'a' }), [web(), web()]), newNodeInfo(node('b1', { [ZONE]: 'b' })), newNodeInfo(node('x1'))];
    expect(spreadScoreState(incoming, nodes).ignored).toEqual(new Set(['x1']));
    // zone weight ln(2+2): a1 2 × 1.386 + 0 = 2.77 → 3, b1 0; normalized 100 × (3 + 0 − s) / 3.
    expect(scoreAll(incoming, nodes)).toEqual({ raw: { a1: 3, b1: 0, x1: 0 }, normalized: { a1: 0, b1: 100, x1: 0 } });
  });

  it('is named as upstream', () => expect(podTopologySpread().name).toBe('PodTopologySpread'));
});

describe('PodTopologySpread counts kept per node between cycles', () => {
  it('counts a node again once its pods change (NodeInfo generation), not before', () => {
    const n1 = newNodeInfo(node('n1'), [rs()]);
    const n2 = newNodeInfo(node('n2'));
    const raw = (nodes: NodeInfo[]) => scoreAll(rs(), nodes).raw;
    const first = raw([n1, n2]);
    addPod(n2, rs());
    addPod(n2, rs());
    const second = raw([n1, n2]);
    expect(first.n1).toBeGreaterThan(first.n2);
    expect(second.n2).toBeGreaterThan(second.n1);
    expect(removePod(n2, n2.pods[0])).toBe(true);
    expect(removePod(n2, n2.pods[0])).toBe(true);
    expect(raw([n1, n2])).toEqual(first);
  });
});
