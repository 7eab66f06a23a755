import { describe, expect, it } from 'vitest';
import type { Node, Pod } from '@k8ts/api';
import { newNodeInfo } from './nodeinfo.js';
import {
  defaultNormalizeScore, matchesRequiredNodeAffinity, nodeAffinity, nodeMatchesTerm, nodeNamesFromAffinity, preferredNodeAffinityScore,
  type NodeSelectorTerm,
} from './node-affinity.js';

type PodSpec = NonNullable<Pod['spec']>;
const node = (name: string, labels: Record<string, string> = {}): Node => ({ metadata: { name, labels } });
const pod = (spec: Partial<PodSpec> = {}): Pod => ({ metadata: { name: 'p', namespace: 'default' }, spec: { containers: [], ...spec } });
const required = (...nodeSelectorTerms: NodeSelectorTerm[]): Partial<PodSpec> =>
  ({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms } } } });
const state = { allNodes: [], data: new Map() };

describe('nodeMatchesTerm', () => {
  const n = node('n1', { zone: 'a', cpus: '8', disk: 'ssd' });
  it.each([
    ['In', { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] }, true],
    ['In, other value', { matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] }, false],
    ['NotIn', { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['b'] }] }, true],
    ['NotIn, absent key matches', { matchExpressions: [{ key: 'gpu', operator: 'NotIn', values: ['x'] }] }, true],
    ['Exists', { matchExpressions: [{ key: 'disk', operator: 'Exists' }] }, true],
    ['DoesNotExist', { matchExpressions: [{ key: 'disk', operator: 'DoesNotExist' }] }, false],
    ['Gt', { matchExpressions: [{ key: 'cpus', operator: 'Gt', values: ['4'] }] }, true],
    ['Lt', { matchExpressions: [{ key: 'cpus', operator: 'Lt', values: ['4'] }] }, false],
    ['Gt on a non-integer label', { matchExpressions: [{ key: 'zone', operator: 'Gt', values: ['1'] }] }, false],
    ['Gt with two values is invalid', { matchExpressions: [{ key: 'cpus', operator: 'Gt', values: ['1', '2'] }] }, false],
    ['In without values is invalid', { matchExpressions: [{ key: 'zone', operator: 'In', values: [] }] }, false],
    ['unknown operator', { matchExpressions: [{ key: 'zone', operator: 'Equals', values: ['a'] }] }, false],
    ['expressions are ANDed', { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }, { key: 'disk', operator: 'In', values: ['hdd'] }] }, false],
    ['matchFields metadata.name In', { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }, true],
    ['matchFields metadata.name NotIn', { matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['n1'] }] }, false],
    ['matchFields on another field', { matchFields: [{ key: 'metadata.uid', operator: 'In', values: ['n1'] }] }, false],
    ['fields and expressions are ANDed', {
      matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }], matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n2'] }],
    }, false],
    ['an empty term matches nothing', {}, false],
  ] as [string, NodeSelectorTerm, boolean][])('%s', (_name, term, expected) => {
    expect(nodeMatchesTerm(term, n)).toBe(expected);
  });
});

describe('NodeAffinity filter', () => {
  const n = node('n1', { zone: 'a', disk: 'ssd' });
  it.each([
    ['nothing required', {}, true],
    ['nodeSelector matches', { nodeSelector: { zone: 'a', disk: 'ssd' } }, true],
    ['nodeSelector misses one label', { nodeSelector: { zone: 'a', disk: 'hdd' } }, false],
    ['terms are ORed', required(
      { matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] },
      { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] },
    ), true],
    ['no term matches', required({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] }), false],
    ['no terms at all', required(), false],
    ['nodeSelector and affinity must both hold', { nodeSelector: { disk: 'hdd' }, ...required({ matchExpressions: [{ key: 'zone', operator: 'Exists' }] }) }, false],
  ] as [string, Partial<PodSpec>, boolean][])('%s', (_name, spec, fits) => {
    expect(matchesRequiredNodeAffinity(pod(spec), n)).toBe(fits);
    expect(nodeAffinity().filter(pod(spec), newNodeInfo(n), state)).toEqual(fits
      ? { code: 'Success', reasons: [] }
      : { code: 'UnschedulableAndUnresolvable', reasons: ["node(s) didn't match Pod's node affinity/selector"] });
  });
});

describe('NodeAffinity score', () => {
  const p = pod({
    affinity: {
      nodeAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 2, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] } },
          { weight: 3, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } },
          { weight: 7, preference: {} },
        ],
      },
    },
  });
  it('sums the weights of matching preferred terms and scales the best to 100', () => {
    const nodes = [node('n1', { zone: 'a', disk: 'ssd' }), node('n2', { disk: 'ssd' }), node('n3', { zone: 'b' })];
    expect(nodes.map((n) => preferredNodeAffinityScore(p, n))).toEqual([5, 3, 0]);
    const plugin = nodeAffinity();
    const scores = new Map(nodes.map((n) => [n.metadata!.name!, plugin.score(p, newNodeInfo(n), state)]));
    plugin.normalize!(p, scores, state);
    expect(Object.fromEntries(scores)).toEqual({ n1: 100, n2: 60, n3: 0 });
  });

  it.each([
    ['scales to the max', [5, 3, 0], false, [100, 60, 0]],
    ['truncates', [3, 2, 1], false, [100, 66, 33]],
    ['all zero stays zero', [0, 0], false, [0, 0]],
    ['reversed', [2, 1, 0], true, [0, 50, 100]],
    ['reversed, all zero: all max', [0, 0], true, [100, 100]],
  ])('defaultNormalizeScore: %s', (_name, raw, reverse, expected) => {
    const scores = new Map(raw.map((s, i) => [`n${i}`, s]));
    defaultNormalizeScore(scores, reverse);
    expect([...scores.values()]).toEqual(expected);
  });

  it('is named as upstream', () => expect(nodeAffinity().name).toBe('NodeAffinity'));

  const byName = (...values: string[]): NodeSelectorTerm => ({ matchFields: [{ key: 'metadata.name', operator: 'In', values }] });
  it.each<[string, Partial<PodSpec>, string[] | undefined]>([
    ['no affinity: every node', {}, undefined],
    ['a DaemonSet pod\'s term: its node', required(byName('n7')), ['n7']],
    ['terms are ORed: the union', required(byName('n1'), byName('n2', 'n3')), ['n1', 'n2', 'n3']],
    ['fields in one term are ANDed', required({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1', 'n2'] }, { key: 'metadata.name', operator: 'In', values: ['n2'] }] }), ['n2']],
    ['a term without a name field: every node', required(byName('n1'), { matchExpressions: [{ key: 'zone', operator: 'Exists' }] }), undefined],
  ])('pre-filters node names: %s', (_name, spec, want) => {
    const names = nodeNamesFromAffinity(pod(spec));
    expect(names && [...names].sort()).toEqual(want);
    const s = nodeAffinity().preFilter(pod(spec), { allNodes: [], data: new Map() });
    // No nodeSelector and no required affinity: the filter is skipped (upstream's NodeAffinity PreFilter).
    expect(s.code).toBe(spec.affinity || spec.nodeSelector ? 'Success' : 'Skip');
    expect(s.nodeNames && [...s.nodeNames].sort()).toEqual(want);
  });

  it('pre-filter rejects affinity that names no node', () => {
    const s = nodeAffinity().preFilter(pod(required({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['a'] }, { key: 'metadata.name', operator: 'In', values: ['b'] }] })), { allNodes: [], data: new Map() });
    expect(s.code).toBe('UnschedulableAndUnresolvable');
  });
});
