import { describe, expect, it } from 'vitest';
import type { KubeObjectLike, Node, Pod } from '@k8ts/api';
import { FakeInformerFactory } from '@k8ts/api/testing';
import { MAX_NODE_SCORE, type CycleState, type NodeInfo } from '../types.js';
import { addPod, newNodeInfo } from './nodeinfo.js';
import { defaultProfile, type Profile } from './registry.js';

// The ReplicaSet whose pods these are: default spreading takes its selector (upstream's DefaultSelector).
const informers = new FakeInformerFactory([{
  apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web-abcde', namespace: 'default', uid: 'rs-uid' },
  spec: { selector: { matchLabels: { app: 'web', 'pod-template-hash': 'abcde' } } },
} as KubeObjectLike]);

/**
 * One scheduling decision with the default profile, as the scheduler makes it: pre-filter, filter, score,
 * normalize, clamp, weighted sum, highest total; ties go to the lowest node name so the test is deterministic.
 */
function schedule(profile: Profile, pod: Pod, nodes: NodeInfo[]): string {
  const state: CycleState = { allNodes: nodes, data: new Map() };
  const skipped = new Set<string>();
  for (const p of profile.preFilters) {
    const code = p.preFilter(pod, state).code;
    expect(['Success', 'Skip']).toContain(code);
    if (code === 'Skip') skipped.add(p.name);
  }
  const feasible = nodes.filter((n) => profile.filters.every((f) => skipped.has(f.name) || f.filter(pod, n, state).code === 'Success'));
  expect(feasible.length).toBeGreaterThan(0);
  const totals = new Map(feasible.map((n) => [n.node.metadata!.name!, 0]));
  for (const { plugin, weight } of profile.scores) {
    if (plugin.preScore?.(pod, feasible, state).code === 'Skip') continue;
    const scores = new Map(feasible.map((n) => [n.node.metadata!.name!, plugin.score(pod, n, state)]));
    plugin.normalize?.(pod, scores, state);
    for (const [name, s] of scores) totals.set(name, totals.get(name)! + Math.max(0, Math.min(MAX_NODE_SCORE, s)) * weight);
  }
  return [...totals].sort(([a, x], [b, y]) => y - x || a.localeCompare(b))[0][0];
}

const node = (name: string): Node => ({
  metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' } },
  status: { allocatable: { cpu: '4', memory: '8Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
});

const replica = (i: number, requests?: Record<string, string>): Pod => ({
  metadata: {
    name: `web-abcde-${i}`, namespace: 'default', uid: `pod-${i}`, labels: { app: 'web', 'pod-template-hash': 'abcde' },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abcde', uid: 'rs-uid', controller: true }],
  },
  spec: { containers: [{ name: 'web', image: 'nginx', resources: requests ? { requests } : undefined }] },
});

describe('spreading one ReplicaSet with the default profile', () => {
  it.each([
    ['with requests', { cpu: '100m', memory: '128Mi' }],
    ['best-effort (no requests)', undefined],
  ])('puts 6 replicas on 3 equal nodes 2/2/2 (%s)', (_name, requests) => {
    const profile = defaultProfile({ informers });
    const nodes = ['node-a', 'node-b', 'node-c'].map((n) => newNodeInfo(node(n)));
    const placed: string[] = [];
    for (let i = 0; i < 6; i++) {
      const pod = replica(i, requests);
      const chosen = schedule(profile, pod, nodes);
      placed.push(chosen);
      // The cache assumes the pod onto the node before the next decision.
      addPod(nodes.find((n) => n.node.metadata!.name === chosen)!, { ...pod, spec: { ...pod.spec!, nodeName: chosen } });
    }
    expect(placed).toEqual(['node-a', 'node-b', 'node-c', 'node-a', 'node-b', 'node-c']);
    expect(nodes.map((n) => n.pods.length)).toEqual([2, 2, 2]);
  });

  it('keeps spreading when one node already runs an unrelated pod', () => {
    const profile = defaultProfile({ informers });
    const nodes = ['node-a', 'node-b', 'node-c'].map((n) => newNodeInfo(node(n)));
    addPod(nodes[0], { metadata: { name: 'db', namespace: 'default', uid: 'db' }, spec: { containers: [{ name: 'db', image: 'pg', resources: { requests: { cpu: '1', memory: '1Gi' } } }] } });
    const counts: Record<string, number> = { 'node-a': 0, 'node-b': 0, 'node-c': 0 };
    for (let i = 0; i < 6; i++) {
      const pod = replica(i, { cpu: '100m', memory: '128Mi' });
      const chosen = schedule(profile, pod, nodes);
      counts[chosen]++;
      addPod(nodes.find((n) => n.node.metadata!.name === chosen)!, pod);
    }
    expect(counts).toEqual({ 'node-a': 2, 'node-b': 2, 'node-c': 2 });
  });
});
