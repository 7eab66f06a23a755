import { describe, expect, it } from 'vitest';
import type { Node, Pod } from '@k8ts/api';
import { newNodeInfo } from './nodeinfo.js';
import { balancedAllocation, balancedAllocationScore, balancedResourceScore } from './balanced-allocation.js';

type Container = NonNullable<Pod['spec']>['containers'][number];
const c = (requests?: Record<string, string>): Container => ({ name: 'c', image: 'x', resources: requests ? { requests } : undefined });
let seq = 0;
const pod = (...containers: Container[]): Pod => ({ metadata: { name: `p${++seq}`, namespace: 'default', uid: `u${seq}` }, spec: { containers } });
const node = (name: string, cpu: string, memory: string): Node => ({ metadata: { name }, status: { allocatable: { cpu, memory, pods: '110' } } });

describe('balancedResourceScore', () => {
  it.each([
    ['equal fractions', [2000, 4096], [4000, 8192], 100],
    ['0.25 vs 0.5: std 0.125', [1000, 4096], [4000, 8192], 87],
    ['0.75 vs 0.5: std 0.125', [3000, 5000], [4000, 10000], 87],
    ['fractions are capped at 1', [8000, 4096], [4000, 8192], 75],
    ['a resource the node lacks is left out', [1000, 5], [4000, 0], 100],
    ['three resources: population std', [1, 2, 3], [4, 4, 4], 79],
  ])('%s', (_name, requested, allocatable, expected) => {
    expect(balancedResourceScore(requested, allocatable)).toBe(expected);
  });
});

describe('NodeResourcesBalancedAllocation', () => {
  it("upstream's differently sized nodes case: the node where cpu and memory are used alike wins", () => {
    // cpu 1000m+2000m, memory 2000+3000 bytes, as upstream's test.
    const p = pod(c({ cpu: '1', memory: '2000' }), c({ cpu: '2', memory: '3000' }));
    expect(balancedAllocationScore(p, newNodeInfo(node('n1', '4', '10000')))).toBe(87);
    expect(balancedAllocationScore(p, newNodeInfo(node('n2', '6', '10000')))).toBe(100);
  });

  it("counts the node's actual requests, not the scoring defaults", () => {
    const busy = newNodeInfo(node('n1', '4', '8Gi'), [pod(c({ cpu: '2' })), pod(c())]);
    // cpu (2000+1000)/4000 = 0.75, memory (0+2Gi)/8Gi = 0.25: std 0.25.
    expect(balancedAllocationScore(pod(c({ cpu: '1', memory: '2Gi' })), busy)).toBe(75);
  });

  it('scores best-effort pods 0 everywhere (upstream skips the plugin for them)', () => {
    expect(balancedAllocationScore(pod(c()), newNodeInfo(node('n1', '4', '8Gi')))).toBe(0);
  });

  it('is named as upstream', () => expect(balancedAllocation().name).toBe('NodeResourcesBalancedAllocation'));
});
