import { describe, expect, it } from 'vitest';
import { ApiClient, type Node, type Pod } from '@k8ts/api';
import { defaultProfile } from './plugins/registry.js';
import { Scheduler } from './scheduler.js';

const node = (name: string, cpu: string): Node => ({
  metadata: { name, labels: { 'kubernetes.io/hostname': name } },
  status: { allocatable: { cpu, memory: '8Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
});
const pod = (name: string, cpu: string): Pod => ({
  metadata: { name, namespace: 'ns', uid: `uid-${name}` },
  spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu } } }] },
});
const scheduler = (explainedPods?: number) => {
  const s = new Scheduler({ client: new ApiClient({ server: 'http://127.0.0.1:1' }), profile: defaultProfile(), explainedPods, random: () => 0 });
  for (const n of [node('a', '4'), node('b', '1')]) s.cache.addNode(n);
  return s;
};

describe('scheduling explained', () => {
  it('keeps the last cycle of each pod: rejected nodes with the filter and reason, feasible ones with weighted scores', () => {
    const s = scheduler();
    expect(s.schedulePod(pod('p', '2'), s.cache.snapshot()).node).toBe('a');
    const e = s.explained.explain('ns', 'p')!;
    expect(e).toMatchObject({ result: 'Scheduled', node: 'a', numNodes: 2, evaluated: 2, feasible: 1, pod: { uid: 'uid-p' } });
    expect(e.nodes).toEqual([
      { name: 'a', scores: [], total: 0, chosen: true }, // one feasible node: no scoring happens, as upstream
      { name: 'b', filter: { plugin: 'NodeResourcesFit', code: 'Unschedulable', reasons: ['Insufficient cpu'] } },
    ]);
    expect(s.schedulePod(pod('p', '8'), s.cache.snapshot()).node).toBeUndefined();
    expect(s.explained.explain('ns', 'p')).toMatchObject({ result: 'Unschedulable', feasible: 0 });
  });

  it('is bounded: the least recently scheduled pods go first; 0 keeps none', () => {
    const s = scheduler(2);
    for (const name of ['p1', 'p2', 'p3']) s.schedulePod(pod(name, '100m'), s.cache.snapshot());
    expect(s.explained.size).toBe(2);
    expect(s.explained.explain('ns', 'p1')).toBeUndefined();
    expect(s.explained.explain('ns', 'p3')!.nodes.map((n) => n.name).sort()).toEqual(['a', 'b']);
    const none = scheduler(0);
    none.schedulePod(pod('p1', '100m'), none.cache.snapshot());
    expect(none.explained.size).toBe(0);
  });
});
