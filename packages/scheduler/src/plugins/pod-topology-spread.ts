import { labelSelectorRequirements, matchesLabels, type LabelRequirement, type Node, type Pod } from '@k8ts/api';
import {
  cycleData, MAX_NODE_SCORE, SKIP, SUCCESS, unresolvable, unschedulable,
  type CycleState, type FilterPlugin, type NodeInfo, type PluginHandle, type PreFilterPlugin, type ScorePlugin, type Status,
} from '../types.js';
import { defaultSelector, spreadListers, type SpreadListers } from './default-selector.js';
import { matchesRequiredNodeAffinity } from './node-affinity.js';
import { untoleratedTaint } from './taint-toleration.js';

type TopologySpreadConstraint = NonNullable<NonNullable<Pod['spec']>['topologySpreadConstraints']>[number];

export const POD_TOPOLOGY_SPREAD = 'PodTopologySpread';
export const ERR_REASON_CONSTRAINTS = "node(s) didn't match pod topology spread constraints";
export const ERR_REASON_NODE_LABEL = `${ERR_REASON_CONSTRAINTS} (missing required label)`;
export const LABEL_HOSTNAME = 'kubernetes.io/hostname';
export const LABEL_ZONE = 'topology.kubernetes.io/zone';

/** Upstream's system default constraints, applied (ScheduleAnyway) to pods that declare none. */
export const SYSTEM_DEFAULT_CONSTRAINTS = [
  { topologyKey: LABEL_HOSTNAME, maxSkew: 3 },
  { topologyKey: LABEL_ZONE, maxSkew: 5 },
] as const;

/** A spread constraint ready to count: `selects` says whether a pod counts toward it. */
export interface SpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  minDomains: number;
  nodeAffinityPolicy: string;
  nodeTaintsPolicy: string;
  selects: (p: Pod) => boolean;
  /** Names what `selects` selects (namespace and selector), so counts per node can be kept between cycles. */
  selectorKey?: string;
}

const namespaceOf = (p: Pod): string => p.metadata?.namespace ?? 'default';
const labelsOf = (n: Node): Record<string, string> => n.metadata?.labels ?? {};

/** Counted pods share the incoming pod's namespace and are not terminating (upstream's countPodsMatchSelector). */
function counting(pod: Pod, match: (p: Pod) => boolean): (p: Pod) => boolean {
  return (p) => namespaceOf(p) === namespaceOf(pod) && !p.metadata?.deletionTimestamp && match(p);
}

function selector(c: TopologySpreadConstraint, pod: Pod): LabelRequirement[] | null {
  let reqs: LabelRequirement[] | null;
  try {
    reqs = labelSelectorRequirements(c.labelSelector);
  } catch {
    reqs = null; // the apiserver validates selectors; one that slips through selects nothing
  }
  // matchLabelKeys narrows the selector to the incoming pod's values of those labels.
  const podLabels = pod.metadata?.labels ?? {};
  const extra: LabelRequirement[] = (c.matchLabelKeys ?? []).filter((k) => k in podLabels).map((k) => ({ key: k, operator: '=', values: [podLabels[k]] }));
  return extra.length ? [...extra, ...(reqs ?? [])] : reqs;
}

/** The pod's own constraints with the given whenUnsatisfiable, defaulted as upstream (minDomains 1, affinity Honor, taints Ignore). */
export function explicitConstraints(pod: Pod, action: 'DoNotSchedule' | 'ScheduleAnyway'): SpreadConstraint[] {
  return (pod.spec?.topologySpreadConstraints ?? []).filter((c) => c.whenUnsatisfiable === action).map((c) => {
    const reqs = selector(c, pod);
    return {
      maxSkew: c.maxSkew,
      topologyKey: c.topologyKey,
      minDomains: c.minDomains ?? 1,
      nodeAffinityPolicy: c.nodeAffinityPolicy ?? 'Honor',
      nodeTaintsPolicy: c.nodeTaintsPolicy ?? 'Ignore',
      selects: counting(pod, (p) => reqs !== null && matchesLabels(reqs, p.metadata?.labels)),
      selectorKey: reqs === null ? undefined : JSON.stringify([namespaceOf(pod), reqs]),
    };
  });
}

/**
 * The system default constraints for a pod that declares none (upstream's buildDefaultConstraints): they select
 * the pods that helper.DefaultSelector gives (those of the Services, ReplicationController, ReplicaSet or
 * StatefulSet selecting the pod). A pod none of those select, or a scheduler without the listers, gets none.
 */
export function defaultConstraints(pod: Pod, listers: SpreadListers | undefined): SpreadConstraint[] {
  if (!listers) return [];
  const reqs = defaultSelector(pod, listers);
  if (reqs.length === 0) return [];
  return SYSTEM_DEFAULT_CONSTRAINTS.map((c) => ({
    ...c, minDomains: 1, nodeAffinityPolicy: 'Honor', nodeTaintsPolicy: 'Ignore', selects: counting(pod, (p) => matchesLabels(reqs, p.metadata?.labels)),
    selectorKey: JSON.stringify([namespaceOf(pod), reqs]),
  }));
}

/** Whether the node's pods count for the constraint (upstream's node inclusion policies). */
function included(pod: Pod, node: Node, c: SpreadConstraint): boolean {
  if (c.nodeAffinityPolicy !== 'Ignore' && !matchesRequiredNodeAffinity(pod, node)) return false;
  return c.nodeTaintsPolicy !== 'Honor' || !untoleratedTaint(pod, node);
}

const hasAllKeys = (node: Node, cs: readonly SpreadConstraint[]) => cs.every((c) => c.topologyKey in labelsOf(node));

/** Matching pods per domain (topology value), one map per constraint, over the nodes carrying every topology key. */
export function domainCounts(pod: Pod, constraints: readonly SpreadConstraint[], allNodes: readonly NodeInfo[]): Map<string, number>[] {
  const counts = constraints.map(() => new Map<string, number>());
  for (const info of allNodes) {
    if (!hasAllKeys(info.node, constraints)) continue;
    constraints.forEach((c, i) => {
      if (!included(pod, info.node, c)) return;
      const value = labelsOf(info.node)[c.topologyKey];
      counts[i].set(value, (counts[i].get(value) ?? 0) + countMatching(info, c));
    });
  }
  return counts;
}

/**
 * The DoNotSchedule check: on this node, matching pods in its domain, plus the pod itself if it matches, minus the
 * least-loaded domain (0 when there are fewer domains than minDomains) must not exceed maxSkew.
 */
export function spreadStatus(pod: Pod, node: Node, constraints: readonly SpreadConstraint[], counts: readonly Map<string, number>[]): Status {
  const labels = labelsOf(node);
  for (const [i, c] of constraints.entries()) {
    if (!(c.topologyKey in labels)) return unresolvable(ERR_REASON_NODE_LABEL);
    const domains = counts[i];
    const min = domains.size < c.minDomains ? 0 : Math.min(...domains.values());
    const skew = (domains.get(labels[c.topologyKey]) ?? 0) + (c.selects(pod) ? 1 : 0) - min;
    if (skew > c.maxSkew) return unschedulable(ERR_REASON_CONSTRAINTS);
  }
  return SUCCESS;
}

/** Per-cycle scoring data (upstream's preScoreState). */
export interface SpreadScoreState {
  constraints: SpreadConstraint[];
  /** Nodes missing a topology key of the pod's own constraints: they score 0. */
  ignored: Set<string>;
  /** Matching pods per domain for non-hostname constraints (hostname counts come from the node itself). */
  counts: Map<string, number>[];
  /** log(number of domains + 2) per constraint, so that many small domains are not watered down by few big ones. */
  weights: number[];
}

/**
 * Scoring data for the pod's ScheduleAnyway constraints, or the system defaults when it declares none (upstream's
 * PreScore): domains are those of the nodes being scored; every node's matching pods count toward them, except for
 * the hostname key, whose counts Score takes from the node itself. Cost: one selector match per pod on the nodes of
 * the scored domains (none at all when the constraints are only per host).
 */
export function spreadScoreState(pod: Pod, allNodes: readonly NodeInfo[], filtered: readonly NodeInfo[] = allNodes, listers?: SpreadListers): SpreadScoreState {
  const explicit = (pod.spec?.topologySpreadConstraints ?? []).length > 0;
  const constraints = explicit ? explicitConstraints(pod, 'ScheduleAnyway') : defaultConstraints(pod, listers);
  const ignored = new Set<string>();
  const counts = constraints.map(() => new Map<string, number>());
  if (constraints.length === 0) return { constraints, ignored, counts, weights: [] };
  // Only the pod's own constraints require every key: with the defaults, nodes without a zone still spread by host.
  for (const info of filtered) {
    const labels = labelsOf(info.node);
    if (explicit && !hasAllKeys(info.node, constraints)) { ignored.add(info.node.metadata!.name!); continue; }
    constraints.forEach((c, i) => {
      if (c.topologyKey !== LABEL_HOSTNAME && c.topologyKey in labels) counts[i].set(labels[c.topologyKey], 0);
    });
  }
  if (counts.some((m) => m.size > 0)) {
    for (const info of allNodes) {
      if (explicit && !hasAllKeys(info.node, constraints)) continue;
      const labels = labelsOf(info.node);
      constraints.forEach((c, i) => {
        const value = labels[c.topologyKey];
        if (value === undefined || !counts[i].has(value) || !included(pod, info.node, c)) return;
        counts[i].set(value, counts[i].get(value)! + countMatching(info, c));
      });
    }
  }
  const weights = constraints.map((c, i) => Math.log((c.topologyKey === LABEL_HOSTNAME ? filtered.length - ignored.size : counts[i].size) + 2));
  return { constraints, ignored, counts, weights };
}

/**
 * The node's pods the constraint selects. Kept per node and selector until the node's pods change (its
 * generation), so scheduling the pods of one ReplicaSet in a row counts each node once, not once per cycle.
 */
function countMatching(info: NodeInfo, c: SpreadConstraint): number {
  const byKey = c.selectorKey === undefined ? undefined : (COUNTS.get(info) ?? COUNTS.set(info, new Map()).get(info)!);
  const kept = byKey?.get(c.selectorKey!);
  if (kept && kept.generation === info.generation) return kept.count;
  let count = 0;
  for (const p of info.pods) if (c.selects(p)) count++;
  if (byKey) {
    if (byKey.size >= 8) byKey.clear();
    byKey.set(c.selectorKey!, { generation: info.generation, count });
  }
  return count;
}

const COUNTS = new WeakMap<NodeInfo, Map<string, { generation: number; count: number }>>();

/** A node's raw score: per constraint whose key it carries, matching pods in its domain × weight + (maxSkew − 1); rounded. */
export function spreadScore(info: NodeInfo, s: SpreadScoreState): number {
  if (s.ignored.has(info.node.metadata!.name!)) return 0;
  const labels = labelsOf(info.node);
  let score = 0;
  for (const [i, c] of s.constraints.entries()) {
    if (!(c.topologyKey in labels)) continue;
    const count = c.topologyKey === LABEL_HOSTNAME ? countMatching(info, c) : s.counts[i].get(labels[c.topologyKey]) ?? 0;
    score += count * s.weights[i] + (c.maxSkew - 1);
  }
  return Math.round(score);
}

/** Fewer matching pods is better: MAX × (max + min − score) / max over the scored nodes; ignored nodes get 0. */
export function normalizeSpreadScores(scores: Map<string, number>, ignored: ReadonlySet<string>): void {
  const counted = [...scores].filter(([name]) => !ignored.has(name)).map(([, s]) => s);
  const [min, max] = [Math.min(...counted), Math.max(0, ...counted)];
  for (const [name, s] of scores) {
    if (ignored.has(name)) scores.set(name, 0);
    else scores.set(name, max === 0 ? MAX_NODE_SCORE : Math.floor((MAX_NODE_SCORE * (max + min - s)) / max));
  }
}

const FILTER_KEY = `PreFilter${POD_TOPOLOGY_SPREAD}`;
const SCORE_KEY = `PreScore${POD_TOPOLOGY_SPREAD}`;

interface FilterState { constraints: SpreadConstraint[]; counts: Map<string, number>[] }

function filterState(pod: Pod, allNodes: readonly NodeInfo[]): FilterState {
  const constraints = explicitConstraints(pod, 'DoNotSchedule');
  return { constraints, counts: constraints.length ? domainCounts(pod, constraints, allNodes) : [] };
}

/**
 * PodTopologySpread: DoNotSchedule constraints filter; ScheduleAnyway constraints (or the system defaults, whose
 * selector comes from the Services and controllers in the handle's informers) score. PreScore skips the plugin when
 * the pod has no constraint to score.
 */
export function podTopologySpread(handle: PluginHandle = {}): PreFilterPlugin & FilterPlugin & ScorePlugin {
  const listers = handle.informers ? spreadListers(handle.informers) : undefined;
  const scoreState = (pod: Pod, state: CycleState, filtered?: readonly NodeInfo[]) =>
    cycleData(state, SCORE_KEY, () => spreadScoreState(pod, state.allNodes, filtered ?? state.allNodes, listers));
  return {
    name: POD_TOPOLOGY_SPREAD,
    preFilter(pod, state) {
      const s = filterState(pod, state.allNodes);
      state.data.set(FILTER_KEY, s);
      return s.constraints.length ? SUCCESS : SKIP;
    },
    filter(pod, info, state) {
      const s = cycleData(state, FILTER_KEY, () => filterState(pod, state.allNodes));
      return s.constraints.length ? spreadStatus(pod, info.node, s.constraints, s.counts) : SUCCESS;
    },
    preScore(pod, filtered, state) {
      state.data.delete(SCORE_KEY);
      return scoreState(pod, state, filtered).constraints.length ? SUCCESS : SKIP;
    },
    score: (pod, info, state) => spreadScore(info, scoreState(pod, state)),
    normalize(pod, scores, state) {
      const s = scoreState(pod, state);
      // No constraints: upstream skips the plugin, so every node keeps 0.
      if (s.constraints.length) normalizeSpreadScores(scores, s.ignored);
    },
  };
}
