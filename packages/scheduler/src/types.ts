import type { InformerFactory, Node, Pod } from '@k8ts/api';

/** Resources as the scheduler counts them: milli-CPU, bytes of memory, number of pods. */
export interface Resources { milliCPU: number; memory: number; pods: number }

/**
 * What the scheduler knows about one node (upstream's framework.NodeInfo): the Node, the pods on it (bound or
 * assumed), those of them with affinity terms, their summed requests, and the host ports they hold (`<hostIP>/<protocol>/<port>`, hostIP '0.0.0.0'
 * when unset).
 */
export interface NodeInfo {
  node: Node;
  pods: Pod[];
  /** The pods with any pod (anti-)affinity term, and those with a required anti-affinity term (subsets of pods). */
  podsWithAffinity: Pod[];
  podsWithRequiredAntiAffinity: Pod[];
  /** Bumped by every addPod and removePod (upstream's NodeInfo.Generation): what was computed from the pods is stale. */
  generation: number;
  requested: Resources;
  /** The pods' requests with the scoring defaults for unset cpu/memory (upstream's NonZeroRequested). */
  nonZeroRequested: Resources;
  allocatable: Resources;
  usedPorts: Set<string>;
}

/** The outcome of a filter: upstream's framework.Status codes, with the reasons that end up in FailedScheduling. */
export type StatusCode = 'Success' | 'Unschedulable' | 'UnschedulableAndUnresolvable' | 'Error' | 'Skip';
export interface Status { code: StatusCode; reasons: string[] }

export const SUCCESS: Status = { code: 'Success', reasons: [] };
/** From preScore: the plugin has nothing to score for this pod (upstream's Skip); its scores are all 0. */
export const SKIP: Status = { code: 'Skip', reasons: [] };
export const unschedulable = (...reasons: string[]): Status => ({ code: 'Unschedulable', reasons });
export const unresolvable = (...reasons: string[]): Status => ({ code: 'UnschedulableAndUnresolvable', reasons });

/** Per-cycle data shared by plugins for one pod: every node (for plugins that look across nodes), and a scratch map. */
export interface CycleState {
  allNodes: readonly NodeInfo[];
  data: Map<string, unknown>;
}

/** The nodes holding pods with affinity terms (upstream's HavePodsWithAffinityList), once per cycle: O(nodes). */
export function havePodsWithAffinity(state: CycleState): readonly NodeInfo[] {
  return cycleData(state, 'HavePodsWithAffinity', () => state.allNodes.filter((n) => n.podsWithAffinity.length > 0));
}

/** The nodes holding pods with required anti-affinity terms (upstream's HavePodsWithRequiredAntiAffinityList). */
export function havePodsWithRequiredAntiAffinity(state: CycleState): readonly NodeInfo[] {
  return cycleData(state, 'HavePodsWithRequiredAntiAffinity', () => state.allNodes.filter((n) => n.podsWithRequiredAntiAffinity.length > 0));
}

/** The largest score a plugin returns after normalization (upstream's MaxNodeScore). */
export const MAX_NODE_SCORE = 100;

export interface Plugin { readonly name: string }

/** What plugin factories may use beyond the pod and the node infos (upstream's framework.Handle): shared informers. */
export interface PluginHandle { informers?: InformerFactory }

/** What a pre-filter may add (upstream's PreFilterResult): only these nodes can fit; undefined means all of them. */
export interface PreFilterResult { nodeNames?: ReadonlySet<string> }
/**
 * Runs once per pod before filtering (e.g. to precompute something over all nodes). May reject the pod outright,
 * skip its plugin's filter (Skip), or narrow the nodes to filter to a set of names.
 */
export interface PreFilterPlugin extends Plugin { preFilter(pod: Pod, state: CycleState): Status & PreFilterResult }
/** Decides whether the pod can run on one node. Pure; must not mutate its arguments. */
export interface FilterPlugin extends Plugin { filter(pod: Pod, nodeInfo: NodeInfo, state: CycleState): Status }
/**
 * Rates a feasible node; `normalize` maps the raw scores of all feasible nodes to 0..MAX_NODE_SCORE. `preScore`, when
 * there, runs once per cycle over the feasible nodes first; SKIP leaves every node at 0 without calling score.
 */
export interface ScorePlugin extends Plugin {
  preScore?(pod: Pod, feasible: readonly NodeInfo[], state: CycleState): Status;
  score(pod: Pod, nodeInfo: NodeInfo, state: CycleState): number;
  normalize?(pod: Pod, scores: Map<string, number>, state: CycleState): void;
}

/** Runs after a node is chosen, before the pod is bound (upstream's PreBindPlugin); throws to fail the binding. */
export interface PreBindPlugin extends Plugin { preBind(pod: Pod, nodeInfo: NodeInfo): Promise<void> }

/** Per-cycle data computed once under `key` (preFilter normally does; a filter run without it, as in preemption, computes here). */
export function cycleData<T>(state: CycleState, key: string, compute: () => T): T {
  if (!state.data.has(key)) state.data.set(key, compute());
  return state.data.get(key) as T;
}
