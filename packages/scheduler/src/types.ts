import type { Node, Pod } from '@k8ts/api';

/** Resources as the scheduler counts them: milli-CPU, bytes of memory, number of pods. */
export interface Resources { milliCPU: number; memory: number; pods: number }

/**
 * What the scheduler knows about one node (upstream's framework.NodeInfo): the Node, the pods on it (bound or
 * assumed), their summed requests, and the host ports they hold (`<hostIP>/<protocol>/<port>`, hostIP '0.0.0.0'
 * when unset).
 */
export interface NodeInfo {
  node: Node;
  pods: Pod[];
  requested: Resources;
  allocatable: Resources;
  usedPorts: Set<string>;
}

/** The outcome of a filter: upstream's framework.Status codes, with the reasons that end up in FailedScheduling. */
export type StatusCode = 'Success' | 'Unschedulable' | 'UnschedulableAndUnresolvable' | 'Error';
export interface Status { code: StatusCode; reasons: string[] }

export const SUCCESS: Status = { code: 'Success', reasons: [] };
export const unschedulable = (...reasons: string[]): Status => ({ code: 'Unschedulable', reasons });
export const unresolvable = (...reasons: string[]): Status => ({ code: 'UnschedulableAndUnresolvable', reasons });

/** Per-cycle data shared by plugins for one pod: every node (for plugins that look across nodes), and a scratch map. */
export interface CycleState {
  allNodes: readonly NodeInfo[];
  data: Map<string, unknown>;
}

/** The largest score a plugin returns after normalization (upstream's MaxNodeScore). */
export const MAX_NODE_SCORE = 100;

export interface Plugin { readonly name: string }

/** What a pre-filter may add (upstream's PreFilterResult): only these nodes can fit; undefined means all of them. */
export interface PreFilterResult { nodeNames?: ReadonlySet<string> }
/**
 * Runs once per pod before filtering (e.g. to precompute something over all nodes). May reject the pod outright, or
 * narrow the nodes to filter to a set of names.
 */
export interface PreFilterPlugin extends Plugin { preFilter(pod: Pod, state: CycleState): Status & PreFilterResult }
/** Decides whether the pod can run on one node. Pure; must not mutate its arguments. */
export interface FilterPlugin extends Plugin { filter(pod: Pod, nodeInfo: NodeInfo, state: CycleState): Status }
/** Rates a feasible node; `normalize` maps the raw scores of all feasible nodes to 0..MAX_NODE_SCORE. */
export interface ScorePlugin extends Plugin {
  score(pod: Pod, nodeInfo: NodeInfo, state: CycleState): number;
  normalize?(pod: Pod, scores: Map<string, number>, state: CycleState): void;
}

/** Per-cycle data computed once under `key` (preFilter normally does; a filter run without it, as in preemption, computes here). */
export function cycleData<T>(state: CycleState, key: string, compute: () => T): T {
  if (!state.data.has(key)) state.data.set(key, compute());
  return state.data.get(key) as T;
}
