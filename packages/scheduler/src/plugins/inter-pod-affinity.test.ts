import { describe, expect, it } from 'vitest';
import type { Node, Pod } from '@k8ts/api';
import type { CycleState, NodeInfo, Status } from '../types.js';
import { newNodeInfo } from './nodeinfo.js';
import { affinityCounts, interPodAffinity, interPodAffinityStatus } from './inter-pod-affinity.js';

type Affinity = NonNullable<NonNullable<Pod['spec']>['affinity']>;
type Term = NonNullable<NonNullable<Affinity['podAffinity']>['requiredDuringSchedulingIgnoredDuringExecution']>[number];
const HOST = 'kubernetes.io/hostname';
const ZONE = 'topology.kubernetes.io/zone';

let seq = 0;
const pod = (labels: Record<string, string>, affinity?: Affinity, namespace = 'default'): Pod =>
  ({ metadata: { name: `p${++seq}`, namespace, uid: `u${seq}`, labels }, spec: { containers: [], affinity } });
const node = (name: string, zone?: string): Node =>
  ({ metadata: { name, labels: { [HOST]: name, ...(zone ? { [ZONE]: zone } : {}) } } });
const term = (app: string, topologyKey: string, extra: Partial<Term> = {}): Term =>
  ({ labelSelector: { matchLabels: { app } }, topologyKey, ...extra });
const antiAffinity = (...terms: Term[]): Affinity => ({ podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: terms } });
const affinity = (...terms: Term[]): Affinity => ({ podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: terms } });
const cycle = (nodes: NodeInfo[]): CycleState => ({ allNodes: nodes, data: new Map() });

const OK: Status = { code: 'Success', reasons: [] };
const ANTI: Status = { code: 'Unschedulable', reasons: ["node(s) didn't match pod anti-affinity rules"] };
const EXISTING: Status = { code: 'Unschedulable', reasons: ["node(s) didn't satisfy existing pods anti-affinity rules"] };
const AFFINITY: Status = { code: 'UnschedulableAndUnresolvable', reasons: ["node(s) didn't match pod affinity rules"] };

/** Runs preFilter once, then filter on every node, as the scheduler does. */
function filterAll(incoming: Pod, nodes: NodeInfo[]): Record<string, Status> {
  const plugin = interPodAffinity();
  const state = cycle(nodes);
  expect(plugin.preFilter(incoming, state)).toEqual(OK);
  return Object.fromEntries(nodes.map((n) => [n.node.metadata!.name, plugin.filter(incoming, n, state)]));
}

describe('InterPodAffinity filter', () => {
  const web = () => pod({ app: 'web' });
  it.each([
    ['anti-affinity by host keeps away from the node holding a match',
      () => [newNodeInfo(node('n1'), [web()]), newNodeInfo(node('n2'))],
      () => pod({ app: 'web' }, antiAffinity(term('web', HOST))),
      { n1: ANTI, n2: OK }],
    ['anti-affinity by zone keeps away from every node of the zone',
      () => [newNodeInfo(node('n1', 'a'), [web()]), newNodeInfo(node('n2', 'a')), newNodeInfo(node('n3', 'b'))],
      () => pod({}, antiAffinity(term('web', ZONE))),
      { n1: ANTI, n2: ANTI, n3: OK }],
    ['a node without the topology key has no domain to conflict with',
      () => [newNodeInfo(node('n1', 'a'), [web()]), newNodeInfo({ metadata: { name: 'n2' } })],
      () => pod({}, antiAffinity(term('web', ZONE))),
      { n1: ANTI, n2: OK }],
    ['terms default to the pod\'s own namespace',
      () => [newNodeInfo(node('n1'), [pod({ app: 'web' }, undefined, 'other')])],
      () => pod({}, antiAffinity(term('web', HOST))),
      { n1: OK }],
    ['listed namespaces are honoured',
      () => [newNodeInfo(node('n1'), [pod({ app: 'web' }, undefined, 'other')])],
      () => pod({}, antiAffinity(term('web', HOST, { namespaces: ['other'] }))),
      { n1: ANTI }],
    ['an empty namespaceSelector selects every namespace',
      () => [newNodeInfo(node('n1'), [pod({ app: 'web' }, undefined, 'other')])],
      () => pod({}, antiAffinity(term('web', HOST, { namespaceSelector: {} }))),
      { n1: ANTI }],
    ['existing pods\' anti-affinity applies to the incoming pod (symmetry)',
      () => [newNodeInfo(node('n1', 'a'), [pod({ app: 'db' }, antiAffinity(term('web', ZONE)))]), newNodeInfo(node('n2', 'a')), newNodeInfo(node('n3', 'b'))],
      () => pod({ app: 'web' }),
      { n1: EXISTING, n2: EXISTING, n3: OK }],
    ['affinity: only nodes in a domain holding a match',
      () => [newNodeInfo(node('n1', 'a')), newNodeInfo(node('n2', 'b'), [pod({ app: 'cache' })]), newNodeInfo(node('n3', 'b')), newNodeInfo(node('n4'))],
      () => pod({}, affinity(term('cache', ZONE))),
      { n1: AFFINITY, n2: OK, n3: OK, n4: AFFINITY }],
    ['affinity: the first pod of a group matching its own term goes anywhere with the key',
      () => [newNodeInfo(node('n1', 'a')), newNodeInfo(node('n2'))],
      () => pod({ app: 'web' }, affinity(term('web', ZONE))),
      { n1: OK, n2: AFFINITY }],
    ['affinity: no match anywhere and no self-match',
      () => [newNodeInfo(node('n1', 'a'))],
      () => pod({ app: 'api' }, affinity(term('web', ZONE))),
      { n1: AFFINITY }],
    ['affinity: existing pods must match every term',
      () => [newNodeInfo(node('n1', 'a'), [pod({ app: 'web' })]), newNodeInfo(node('n2', 'a'), [pod({ app: 'web', tier: 'fe' })])],
      () => pod({}, affinity(term('web', ZONE), { labelSelector: { matchLabels: { tier: 'fe' } }, topologyKey: HOST })),
      { n1: AFFINITY, n2: OK }],
  ] as [string, () => NodeInfo[], () => Pod, Record<string, Status>][])('%s', (_name, nodes, incoming, expected) => {
    expect(filterAll(incoming(), nodes())).toEqual(expected);
  });

  it('works without preFilter (as preemption calls it) and exposes the pure check', () => {
    const nodes = [newNodeInfo(node('n1'), [web()]), newNodeInfo(node('n2'))];
    const incoming = pod({}, antiAffinity(term('web', HOST)));
    expect(interPodAffinity().filter(incoming, nodes[0], cycle(nodes))).toEqual(ANTI);
    const counts = affinityCounts(incoming, nodes);
    expect(interPodAffinityStatus(incoming, nodes[1].node, counts)).toEqual(OK);
  });

  it('is named as upstream', () => expect(interPodAffinity().name).toBe('InterPodAffinity'));
});

describe('InterPodAffinity score', () => {
  it('adds preferred affinity, subtracts preferred anti-affinity, both ways, min-max normalized', () => {
    const incoming = pod({ app: 'web' }, {
      podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, podAffinityTerm: term('cache', HOST) }] },
    });
    const nodes = [
      newNodeInfo(node('n1'), [pod({ app: 'cache' })]), // +10
      newNodeInfo(node('n2')), // 0
      newNodeInfo(node('n3'), [pod({ app: 'db' }, { // −5: this pod prefers to avoid web pods
        podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 5, podAffinityTerm: term('web', HOST) }] },
      })]),
      newNodeInfo(node('n4'), [pod({ app: 'db' }, affinity(term('web', HOST)))]), // +1: its required affinity for web pods
    ];
    const plugin = interPodAffinity();
    const state = cycle(nodes);
    const scores = new Map(nodes.map((n) => [n.node.metadata!.name!, plugin.score(incoming, n, state)]));
    expect(Object.fromEntries(scores)).toEqual({ n1: 10, n2: 0, n3: -5, n4: 1 });
    plugin.normalize!(incoming, scores, state);
    // 100 × (s − min) / (max − min): n2 = 100 × 5/15 = 33, n4 = 100 × 6/15 = 40.
    expect(Object.fromEntries(scores)).toEqual({ n1: 100, n2: 33, n3: 0, n4: 40 });
  });

  it('scores 0 everywhere when no preference applies', () => {
    const nodes = [newNodeInfo(node('n1'), [pod({ app: 'x' })]), newNodeInfo(node('n2'))];
    const plugin = interPodAffinity();
    const state = cycle(nodes);
    const incoming = pod({ app: 'web' });
    const scores = new Map(nodes.map((n) => [n.node.metadata!.name!, plugin.score(incoming, n, state)]));
    plugin.normalize!(incoming, scores, state);
    expect([...scores.values()]).toEqual([0, 0]);
  });
});

describe('InterPodAffinity PreFilter and PreScore skip (as upstream)', () => {
  const preferred = (app: string, weight = 5): Affinity => ({ podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight, podAffinityTerm: term(app, HOST) }] } });
  it.each([
    ['no pod has any term', () => pod({ app: 'web' }), () => [pod({ app: 'web' }), pod({ app: 'db' })], 'Skip', 'Skip'],
    ['the pod has required anti-affinity', () => pod({ app: 'web' }, antiAffinity(term('web', HOST))), () => [pod({ app: 'db' })], 'Success', 'Skip'],
    ['the pod has required affinity', () => pod({ app: 'web' }, affinity(term('db', HOST))), () => [pod({ app: 'db' })], 'Success', 'Skip'],
    ['an existing pod repels it', () => pod({ app: 'web' }), () => [pod({ app: 'db' }, antiAffinity(term('web', HOST)))], 'Success', 'Skip'],
    ['an existing pod repels others', () => pod({ app: 'web' }), () => [pod({ app: 'db' }, antiAffinity(term('cache', HOST)))], 'Skip', 'Skip'],
    ['the pod prefers an existing pod', () => pod({ app: 'web' }, preferred('db')), () => [pod({ app: 'db' })], 'Skip', 'Success'],
    ['the pod prefers pods there are none of', () => pod({ app: 'web' }, preferred('cache')), () => [pod({ app: 'db' })], 'Skip', 'Skip'],
    ['an existing pod prefers it', () => pod({ app: 'web' }), () => [pod({ app: 'db' }, preferred('web'))], 'Skip', 'Success'],
    ['an existing pod requires it (hard affinity weight)', () => pod({ app: 'web' }), () => [pod({ app: 'db' }, affinity(term('web', HOST)))], 'Skip', 'Success'],
  ] as [string, () => Pod, () => Pod[], string, string][])('%s: PreFilter %s, PreScore %s', (_name, incoming, existing, preFilter, preScore) => {
    const nodes = [newNodeInfo(node('n1'), existing()), newNodeInfo(node('n2'))];
    const plugin = interPodAffinity();
    const state = cycle(nodes);
    const p = incoming();
    expect(plugin.preFilter(p, state).code).toBe(preFilter);
    expect(plugin.preScore!(p, nodes, state).code).toBe(preScore);
  });

  it('visits only the pods with affinity terms when the incoming pod has no preferred terms', () => {
    const plain = pod({ app: 'web' });
    // A pod whose spec cannot even be read would throw if the plugin looked at it.
    const unreadable = { metadata: { name: 'x', namespace: 'default', uid: 'x', labels: {} }, get spec(): never { throw new Error('read a pod without affinity') } } as unknown as Pod;
    const nodes = [newNodeInfo(node('n1'), [pod({ app: 'db' }, preferred('web'))]), newNodeInfo(node('n2'))];
    nodes[1].pods.push(unreadable);
    const plugin = interPodAffinity();
    const state = cycle(nodes);
    expect(plugin.preFilter(plain, state).code).toBe('Skip');
    expect(plugin.preScore!(plain, nodes, state).code).toBe('Success');
    expect(nodes.map((n) => plugin.score(plain, n, state))).toEqual([5, 0]);
  });
});
