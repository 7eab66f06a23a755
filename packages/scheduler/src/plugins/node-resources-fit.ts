import { cpuMillis, quantityValue, type Pod } from '@k8ts/api';
import { MAX_NODE_SCORE, SUCCESS, unschedulable, type FilterPlugin, type NodeInfo, type Resources, type ScorePlugin } from '../types.js';

type Container = NonNullable<Pod['spec']>['containers'][number];

export const NODE_RESOURCES_FIT = 'NodeResourcesFit';

/** What scoring assumes a container without a cpu/memory request uses (upstream's DefaultMilliCPURequest, DefaultMemoryRequest). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

/**
 * A pod's requests as upstream's resource helper counts them: app containers and sidecars (restartPolicy Always
 * init containers) run together and add up; each other init container runs alone beside the sidecars started
 * before it; the pod needs the larger of the two, plus spec.overhead. Missing requests are 0 (not limits), or, with
 * `nonZero` (scoring only), the upstream defaults per container. `pods` is always 1.
 */
export function podRequests(pod: Pod, opts: { nonZero?: boolean } = {}): Resources {
  // Pods are never mutated (informer objects are replaced on change), so the sums are cached per object: the
  // scheduler asks for them once per node and plugin, and parsing quantities dominated a scheduling cycle.
  const cache = opts.nonZero ? NON_ZERO_REQUESTS : REQUESTS;
  let r = cache.get(pod);
  if (!r) cache.set(pod, (r = computePodRequests(pod, opts.nonZero ?? false)));
  return r;
}

const REQUESTS = new WeakMap<Pod, Resources>();
const NON_ZERO_REQUESTS = new WeakMap<Pod, Resources>();

function computePodRequests(pod: Pod, nonZero: boolean): Resources {
  const opts = { nonZero };
  const request = (c: Container): [number, number] => {
    const r = c.resources?.requests ?? {};
    return [
      r.cpu !== undefined ? cpuMillis(r.cpu) : opts.nonZero ? DEFAULT_MILLI_CPU_REQUEST : 0,
      r.memory !== undefined ? quantityValue(r.memory) : opts.nonZero ? DEFAULT_MEMORY_REQUEST : 0,
    ];
  };
  let [cpu, memory] = [0, 0];
  for (const c of pod.spec?.containers ?? []) {
    const [rc, rm] = request(c);
    cpu += rc;
    memory += rm;
  }
  let [sidecarCPU, sidecarMemory, initCPU, initMemory] = [0, 0, 0, 0];
  for (const c of pod.spec?.initContainers ?? []) {
    const [rc, rm] = request(c);
    if (c.restartPolicy === 'Always') {
      cpu += rc;
      memory += rm;
      sidecarCPU += rc;
      sidecarMemory += rm;
      initCPU = Math.max(initCPU, sidecarCPU);
      initMemory = Math.max(initMemory, sidecarMemory);
    } else {
      initCPU = Math.max(initCPU, rc + sidecarCPU);
      initMemory = Math.max(initMemory, rm + sidecarMemory);
    }
  }
  const overhead = pod.spec?.overhead ?? {};
  return {
    milliCPU: Math.max(cpu, initCPU) + (overhead.cpu !== undefined ? cpuMillis(overhead.cpu) : 0),
    memory: Math.max(memory, initMemory) + (overhead.memory !== undefined ? quantityValue(overhead.memory) : 0),
    pods: 1,
  };
}

/**
 * Upstream's fitsRequest reasons, in its order: "Too many pods" when the node is full, then "Insufficient cpu" /
 * "Insufficient memory" for each non-zero request above what is left of allocatable. Empty when the pod fits.
 */
export function insufficientResources(request: Resources, info: NodeInfo): string[] {
  const reasons: string[] = [];
  if (info.pods.length + 1 > info.allocatable.pods) reasons.push('Too many pods');
  if (request.milliCPU > 0 && request.milliCPU > info.allocatable.milliCPU - info.requested.milliCPU) reasons.push('Insufficient cpu');
  if (request.memory > 0 && request.memory > info.allocatable.memory - info.requested.memory) reasons.push('Insufficient memory');
  return reasons;
}

/** Unused share of one resource on a 0..MAX_NODE_SCORE scale, integer math as upstream; 0 when over capacity. */
export function leastRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.floor(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

/** Sum of the requests of the pods on a node, with the scoring defaults (upstream's NodeInfo.NonZeroRequested, kept by addPod). */
export function nonZeroRequested(info: NodeInfo): Resources {
  return info.nonZeroRequested;
}

/**
 * The LeastAllocated strategy (weights cpu 1, memory 1): the weighted mean of leastRequestedScore over the
 * resources the node has, counting the node's and the pod's requests with the scoring defaults.
 */
export function leastAllocatedScore(pod: Pod, info: NodeInfo): number {
  const req = podRequests(pod, { nonZero: true });
  const used = info.nonZeroRequested;
  const { milliCPU, memory } = info.allocatable;
  // Weights cpu 1, memory 1 over the resources the node has (called per node and pod: no arrays).
  let sum = 0;
  let weights = 0;
  if (milliCPU > 0) { sum += leastRequestedScore(used.milliCPU + req.milliCPU, milliCPU); weights++; }
  if (memory > 0) { sum += leastRequestedScore(used.memory + req.memory, memory); weights++; }
  return weights === 0 ? 0 : Math.floor(sum / weights);
}

/** NodeResourcesFit: the pod's requests must fit the node's free allocatable; scored LeastAllocated. */
export function nodeResourcesFit(): FilterPlugin & ScorePlugin {
  return {
    name: NODE_RESOURCES_FIT,
    filter: (pod: Pod, info: NodeInfo) => {
      const reasons = insufficientResources(podRequests(pod), info);
      return reasons.length ? unschedulable(...reasons) : SUCCESS;
    },
    score: leastAllocatedScore,
  };
}
