import { describe, expect, it } from 'vitest';
import type { Node, Pod } from '@k8ts/api';
import { newNodeInfo } from './nodeinfo.js';
import { intolerablePreferNoScheduleTaints, taintToleration, toleratesTaint, type Taint, type Toleration } from './taint-toleration.js';

const pod = (tolerations?: Toleration[]): Pod => ({ metadata: { name: 'p', namespace: 'default' }, spec: { containers: [], tolerations } });
const node = (name: string, taints?: Taint[]): Node => ({ metadata: { name }, spec: { taints } });
const state = { allNodes: [], data: new Map() };

describe('toleratesTaint', () => {
  const taint: Taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };
  it.each([
    ['Equal, same key, value and effect', { key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }, taint, true],
    ['no operator means Equal', { key: 'dedicated', value: 'gpu' }, taint, true],
    ['Equal, other value', { key: 'dedicated', operator: 'Equal', value: 'cpu' }, taint, false],
    ['Exists ignores the value', { key: 'dedicated', operator: 'Exists' }, taint, true],
    ['empty key with Exists tolerates every taint', { operator: 'Exists' }, taint, true],
    ['empty effect matches every effect', { key: 'dedicated', operator: 'Exists' }, { ...taint, effect: 'NoExecute' }, true],
    ['other effect', { key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }, taint, false],
    ['other key', { key: 'zone', operator: 'Exists' }, taint, false],
    ['Equal with no value matches a taint with no value', { key: 'k', operator: 'Equal' }, { key: 'k', effect: 'NoSchedule' }, true],
    ['unknown operator', { key: 'dedicated', operator: 'Gt', value: 'gpu' }, taint, false],
  ] as [string, Toleration, Taint, boolean][])('%s', (_name, toleration, t, expected) => {
    expect(toleratesTaint(toleration, t)).toBe(expected);
  });
});

describe('TaintToleration filter', () => {
  it.each([
    ['no taints', [], undefined, undefined],
    ['not-ready taint without value, untolerated', [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }], undefined,
      'node(s) had untolerated taint {node.kubernetes.io/not-ready: }'],
    ['NoExecute taint with a value, untolerated', [{ key: 'dedicated', value: 'gpu', effect: 'NoExecute' }], undefined,
      'node(s) had untolerated taint {dedicated: gpu}'],
    ['PreferNoSchedule never filters', [{ key: 'dedicated', value: 'gpu', effect: 'PreferNoSchedule' }], undefined, undefined],
    ['tolerated', [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }], [{ key: 'dedicated', operator: 'Exists' }], undefined],
    ['the first untolerated taint is reported', [{ key: 'a', effect: 'NoSchedule' }, { key: 'b', value: 'x', effect: 'NoSchedule' }],
      [{ key: 'a', operator: 'Exists' }], 'node(s) had untolerated taint {b: x}'],
  ] as [string, Taint[], Toleration[] | undefined, string | undefined][])('%s', (_name, taints, tolerations, reason) => {
    const status = taintToleration().filter(pod(tolerations), newNodeInfo(node('n1', taints)), state);
    expect(status).toEqual(reason ? { code: 'UnschedulableAndUnresolvable', reasons: [reason] } : { code: 'Success', reasons: [] });
  });
});

describe('TaintToleration score', () => {
  const prefer = (key: string): Taint => ({ key, value: 'v', effect: 'PreferNoSchedule' });
  const nodes = [node('n1'), node('n2', [prefer('a')]), node('n3', [prefer('a'), prefer('b'), { key: 'c', effect: 'NoSchedule' }])];

  it.each([
    ['no tolerations: fewer intolerable taints is better', undefined, [0, 1, 2], [100, 50, 0]],
    ['a NoSchedule toleration does not help against PreferNoSchedule', [{ key: 'a', operator: 'Exists', effect: 'NoSchedule' }], [0, 1, 2], [100, 50, 0]],
    ['an effect-less toleration does', [{ key: 'a', operator: 'Exists' }], [0, 0, 1], [100, 100, 0]],
    ['everything tolerated: all MAX', [{ operator: 'Exists', effect: 'PreferNoSchedule' }], [0, 0, 0], [100, 100, 100]],
  ] as [string, Toleration[] | undefined, number[], number[]][])('%s', (_name, tolerations, raw, normalized) => {
    const p = pod(tolerations);
    const plugin = taintToleration();
    expect(nodes.map((n) => intolerablePreferNoScheduleTaints(p, n))).toEqual(raw);
    const scores = new Map(nodes.map((n) => [n.metadata!.name!, plugin.score(p, newNodeInfo(n), state)]));
    plugin.normalize!(p, scores, state);
    expect([...scores.values()]).toEqual(normalized);
  });

  it('is named as upstream', () => expect(taintToleration().name).toBe('TaintToleration'));
});
