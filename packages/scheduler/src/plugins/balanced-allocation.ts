import type { Pod } from '@k8ts/api';
import { MAX_NODE_SCORE, type NodeInfo, type ScorePlugin } from '../types.js';
import { podRequests } from './node-resources-fit.js';

export const NODE_RESOURCES_BALANCED_ALLOCATION = 'NodeResourcesBalancedAllocation';

/**
 * Upstream's balancedResourceScorer: (1 − standard deviation of the requested/allocatable fractions) × 100,
 * truncated; fractions are capped at 1 and resources the node has none of are left out.
 */
export function balancedResourceScore(requested: readonly number[], allocatable: readonly number[]): number {
  const fractions = requested.flatMap((r, i) => (allocatable[i] === 0 ? [] : [Math.min(1, r / allocatable[i])]));
  let std = 0;
  if (fractions.length === 2) {
    // The common cpu+memory case: the standard deviation of two values is half their distance.
    std = Math.abs(fractions[0] - fractions[1]) / 2;
  } else if (fractions.length > 2) {
    const mean = fractions.reduce((a, b) => a + b, 0) / fractions.length;
    std = Math.sqrt(fractions.reduce((a, f) => a + (f - mean) ** 2, 0) / fractions.length);
  }
  return Math.trunc((1 - std) * MAX_NODE_SCORE);
}

/**
 * The score of one node for cpu and memory, with the node's and the pod's actual requests (upstream scores this
 * plugin with real requests, not the scoring defaults). Best-effort pods (no requests) score 0 everywhere, as
 * upstream skips the plugin for them.
 */
export function balancedAllocationScore(pod: Pod, info: NodeInfo): number {
  const req = podRequests(pod);
  if (req.milliCPU === 0 && req.memory === 0) return 0;
  const { milliCPU, memory } = info.allocatable;
  if (milliCPU === 0 || memory === 0) {
    return balancedResourceScore([info.requested.milliCPU + req.milliCPU, info.requested.memory + req.memory], [milliCPU, memory]);
  }
  // The common case without arrays (called per node and pod): two fractions, std = half their distance.
  const cpu = Math.min(1, (info.requested.milliCPU + req.milliCPU) / milliCPU);
  const mem = Math.min(1, (info.requested.memory + req.memory) / memory);
  return Math.trunc((1 - Math.abs(cpu - mem) / 2) * MAX_NODE_SCORE);
}

/** NodeResourcesBalancedAllocation: prefers nodes whose cpu and memory would be used in equal proportion. */
export function balancedAllocation(): ScorePlugin {
  return { name: NODE_RESOURCES_BALANCED_ALLOCATION, score: balancedAllocationScore };
}
