import { describe, expect, it } from 'vitest';
import type { Node, Pod } from '@k8ts/api';
import type { Resources } from '../types.js';
import { newNodeInfo } from './nodeinfo.js';
import { insufficientResources, leastAllocatedScore, leastRequestedScore, nodeResourcesFit, podRequests } from './node-resources-fit.js';

type Container = NonNullable<Pod['spec']>['containers'][number];
const c = (requests?: Record<string, string>, extra: Partial<Container> = {}): Container =>
  ({ name: 'c', image: 'x', resources: requests ? { requests } : undefined, ...extra });
let seq = 0;
const pod = (containers: Container[], extra: Partial<NonNullable<Pod['spec']>> = {}): Pod =>
  ({ metadata: { name: `p${++seq}`, namespace: 'default', uid: `u${seq}` }, spec: { containers, ...extra } });
const node = (name: string, cpu = '4', memory = '8Gi', pods = '110'): Node =>
  ({ metadata: { name }, status: { allocatable: { cpu, memory, pods } } });
const Mi = 1024 * 1024;
const Gi = 1024 * Mi;
const state = { allNodes: [], data: new Map() };

describe('podRequests', () => {
  it.each([
    ['one container', pod([c({ cpu: '500m', memory: '128Mi' })]), {}, { milliCPU: 500, memory: 128 * Mi, pods: 1 }],
    ['app containers add up', pod([c({ cpu: '500m', memory: '128Mi' }), c({ cpu: '1', memory: '1Gi' })]), {}, { milliCPU: 1500, memory: Gi + 128 * Mi, pods: 1 }],
    ['an init container larger than the app containers wins per resource',
      pod([c({ cpu: '500m', memory: '128Mi' })], { initContainers: [c({ cpu: '2', memory: '64Mi' })] }), {}, { milliCPU: 2000, memory: 128 * Mi, pods: 1 }],
    ['sidecars add to the app containers and to later init containers',
      pod([c({ cpu: '500m' })], { initContainers: [c({ cpu: '200m' }, { restartPolicy: 'Always' }), c({ cpu: '600m' })] }), {}, { milliCPU: 800, memory: 0, pods: 1 }],
    ['overhead is added', pod([c({ cpu: '500m', memory: '128Mi' })], { overhead: { cpu: '250m', memory: '64Mi' } }), {}, { milliCPU: 750, memory: 192 * Mi, pods: 1 }],
    ['limits are not requests', pod([{ name: 'c', image: 'x', resources: { limits: { cpu: '1', memory: '1Gi' } } }]), {}, { milliCPU: 0, memory: 0, pods: 1 }],
    ['no requests: scoring defaults per container', pod([c(), c({ cpu: '300m' })]), { nonZero: true }, { milliCPU: 400, memory: 400 * Mi, pods: 1 }],
    ['an explicit 0 stays 0 with the scoring defaults', pod([c({ cpu: '0', memory: '0' })]), { nonZero: true }, { milliCPU: 0, memory: 0, pods: 1 }],
    ['no containers', pod([]), { nonZero: true }, { milliCPU: 0, memory: 0, pods: 1 }],
  ] as [string, Pod, { nonZero?: boolean }, Resources][])('%s', (_name, p, opts, expected) => {
    expect(podRequests(p, opts)).toEqual(expected);
  });
});

describe('NodeResourcesFit filter', () => {
  const existing = pod([c({ cpu: '3', memory: '6Gi' })]);
  it.each([
    ['fits', node('n1'), [existing], pod([c({ cpu: '1', memory: '2Gi' })]), []],
    ['not enough cpu', node('n1'), [existing], pod([c({ cpu: '1001m' })]), ['Insufficient cpu']],
    ['not enough memory', node('n1'), [existing], pod([c({ memory: '3Gi' })]), ['Insufficient memory']],
    ['neither', node('n1'), [existing], pod([c({ cpu: '2', memory: '3Gi' })]), ['Insufficient cpu', 'Insufficient memory']],
    ['node full of pods', node('n1', '4', '8Gi', '1'), [existing], pod([c()]), ['Too many pods']],
    ['a pod without requests fits a busy node', node('n1', '1', '1Gi'), [pod([c({ cpu: '1', memory: '1Gi' })])], pod([c()]), []],
    ['an init container counts', node('n1'), [existing], pod([c({ cpu: '100m' })], { initContainers: [c({ cpu: '2' })] }), ['Insufficient cpu']],
    ['overhead counts', node('n1'), [existing], pod([c({ cpu: '1' })], { overhead: { cpu: '1m' } }), ['Insufficient cpu']],
  ] as [string, Node, Pod[], Pod, string[]][])('%s', (_name, n, pods, p, reasons) => {
    const info = newNodeInfo(n, pods);
    expect(insufficientResources(podRequests(p), info)).toEqual(reasons);
    expect(nodeResourcesFit().filter(p, info, state)).toEqual(reasons.length ? { code: 'Unschedulable', reasons } : { code: 'Success', reasons: [] });
  });
});

describe('NodeResourcesFit score (LeastAllocated)', () => {
  it.each([
    ['empty', 0, 4000, 100],
    ['three quarters used', 3000, 4000, 25],
    ['truncated', 1000, 3000, 66],
    ['over capacity', 5000, 4000, 0],
    ['no capacity', 0, 0, 0],
  ])('leastRequestedScore: %s', (_name, requested, capacity, expected) => {
    expect(leastRequestedScore(requested, capacity)).toBe(expected);
  });

  it('prefers the node with more room, with upstream\'s exact values', () => {
    const incoming = pod([c({ cpu: '1', memory: '1Gi' })]);
    const busy = newNodeInfo(node('n1'), [pod([c({ cpu: '1', memory: '2Gi' })])]);
    const idle = newNodeInfo(node('n2'));
    // n1: cpu (4000-2000)*100/4000 = 50, memory (8Gi-3Gi)*100/8Gi = 62 → (50+62)/2 = 56.
    expect(leastAllocatedScore(incoming, busy)).toBe(56);
    // n2: cpu (4000-1000)*100/4000 = 75, memory (8Gi-1Gi)*100/8Gi = 87 → (75+87)/2 = 81.
    expect(leastAllocatedScore(incoming, idle)).toBe(81);
    expect(nodeResourcesFit().score(incoming, idle, state)).toBe(81);
  });

  it('counts pods without requests at 100m and 200Mi, on the node and for the pod', () => {
    const bestEffort = pod([c()]);
    // cpu (4000-100)*100/4000 = 97, memory (8192Mi-200Mi)*100/8192Mi = 97.
    expect(leastAllocatedScore(bestEffort, newNodeInfo(node('n1')))).toBe(97);
    // Two best-effort pods already there: cpu (4000-300)*100/4000 = 92, memory (8192-600)*100/8192 = 92.
    expect(leastAllocatedScore(bestEffort, newNodeInfo(node('n1'), [pod([c()]), pod([c()])]))).toBe(92);
    // A pod with no containers requests nothing even with the defaults (upstream's "nothing requested" case).
    expect(leastAllocatedScore(pod([]), newNodeInfo(node('n1')))).toBe(100);
  });

  it('leaves out resources the node has none of', () => {
    expect(leastAllocatedScore(pod([c({ cpu: '1' })]), newNodeInfo(node('n1', '4', '0')))).toBe(75);
  });

  it('is named as upstream', () => expect(nodeResourcesFit().name).toBe('NodeResourcesFit'));
});
