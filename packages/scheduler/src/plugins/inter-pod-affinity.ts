import { labelSelectorRequirements, matchesLabels, type LabelRequirement, type Node, type Pod } from '@k8ts/api';
import {
  cycleData, havePodsWithAffinity, havePodsWithRequiredAntiAffinity, MAX_NODE_SCORE, SKIP, SUCCESS, unresolvable, unschedulable,
  type CycleState, type FilterPlugin, type NodeInfo, type PreFilterPlugin, type ScorePlugin, type Status,
} from '../types.js';

type Affinity = NonNullable<NonNullable<Pod['spec']>['affinity']>;
type PodAffinityTerm = NonNullable<NonNullable<Affinity['podAffinity']>['requiredDuringSchedulingIgnoredDuringExecution']>[number];
type WeightedPodAffinityTerm = NonNullable<NonNullable<Affinity['podAffinity']>['preferredDuringSchedulingIgnoredDuringExecution']>[number];

export const INTER_POD_AFFINITY = 'InterPodAffinity';
export const ERR_REASON_AFFINITY = "node(s) didn't match pod affinity rules";
export const ERR_REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
export const ERR_REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";
/** Upstream's default hardPodAffinityWeight: how much an existing pod's required affinity for the incoming pod counts in scoring. */
export const HARD_POD_AFFINITY_WEIGHT = 1;

/** A PodAffinityTerm ready to match pods: the namespaces it covers, its selector (null matches nothing), its topology key. */
export interface AffinityTerm {
  namespaces: ReadonlySet<string>;
  allNamespaces: boolean;
  selector: LabelRequirement[] | null;
  topologyKey: string;
}
interface WeightedTerm extends AffinityTerm { weight: number }

const namespaceOf = (p: Pod): string => p.metadata?.namespace ?? 'default';

function parseSelector(sel: PodAffinityTerm['labelSelector']): LabelRequirement[] | null {
  try {
    return labelSelectorRequirements(sel);
  } catch {
    return null; // the apiserver validates selectors; one that slips through selects nothing
  }
}

/**
 * Resolves a term of `owner`: no namespaces and no namespaceSelector means the owner's namespace; an empty
 * namespaceSelector means every namespace. k8ts keeps no namespace labels, so a non-empty namespaceSelector adds none.
 */
export function affinityTerm(owner: Pod, t: PodAffinityTerm): AffinityTerm {
  const listed = t.namespaces ?? [];
  const nsSelector = t.namespaceSelector ? parseSelector(t.namespaceSelector) : null;
  return {
    namespaces: new Set(listed.length === 0 && !t.namespaceSelector ? [namespaceOf(owner)] : listed),
    allNamespaces: nsSelector !== null && nsSelector.length === 0,
    selector: parseSelector(t.labelSelector),
    topologyKey: t.topologyKey,
  };
}

/** Whether `pod` is one of the pods the term selects (namespace and label selector). */
export function termMatches(term: AffinityTerm, pod: Pod): boolean {
  return (term.allNamespaces || term.namespaces.has(namespaceOf(pod))) && term.selector !== null && matchesLabels(term.selector, pod.metadata?.labels);
}

interface PodTerms { affinity: AffinityTerm[]; antiAffinity: AffinityTerm[]; preferredAffinity: WeightedTerm[]; preferredAntiAffinity: WeightedTerm[] }

// Pods in the scheduler's cache are never mutated (updates replace them), so their parsed terms can be kept.
const parsed = new WeakMap<Pod, PodTerms>();

/** The pod's required and preferred pod (anti-)affinity terms, parsed once per pod object. */
export function podTerms(pod: Pod): PodTerms {
  let terms = parsed.get(pod);
  if (!terms) {
    const a = pod.spec?.affinity;
    const weighted = (ts: WeightedPodAffinityTerm[] | undefined) => (ts ?? []).map((t) => ({ ...affinityTerm(pod, t.podAffinityTerm), weight: t.weight }));
    terms = {
      affinity: (a?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => affinityTerm(pod, t)),
      antiAffinity: (a?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => affinityTerm(pod, t)),
      preferredAffinity: weighted(a?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution),
      preferredAntiAffinity: weighted(a?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution),
    };
    parsed.set(pod, terms);
  }
  return terms;
}

/** Topology domains are counted by `key=value` of a node label. */
const pair = (key: string, value: string): string => `${key}\u0000${value}`;
const increment = (m: Map<string, number>, k: string, by: number) => m.set(k, (m.get(k) ?? 0) + by);
const labelsOf = (n: Node): Record<string, string> => n.metadata?.labels ?? {};

/** Per-cycle counts (upstream's preFilterState): matching pods per topology domain, over every node. */
export interface AffinityCounts {
  /** Domains holding pods that match all of the incoming pod's required affinity terms. */
  affinity: Map<string, number>;
  /** Domains holding pods that match one of the incoming pod's required anti-affinity terms. */
  antiAffinity: Map<string, number>;
  /** Domains holding pods whose own required anti-affinity terms match the incoming pod. */
  existingAntiAffinity: Map<string, number>;
}

/**
 * Counts, for the incoming pod, the pods its required terms select (over every node, only when it has such terms)
 * and the pods whose required anti-affinity terms select it (only over the nodes holding such pods), as upstream's
 * PreFilter: a pod without terms in a cluster without anti-affinity costs O(nodes).
 */
export function affinityCounts(pod: Pod, allNodes: readonly NodeInfo[], withRequiredAntiAffinity?: readonly NodeInfo[]): AffinityCounts {
  const own = podTerms(pod);
  const counts: AffinityCounts = { affinity: new Map(), antiAffinity: new Map(), existingAntiAffinity: new Map() };
  const count = (labels: Record<string, string>, m: Map<string, number>, t: AffinityTerm) => {
    if (t.topologyKey in labels) increment(m, pair(t.topologyKey, labels[t.topologyKey]), 1);
  };
  for (const info of withRequiredAntiAffinity ?? allNodes.filter((n) => n.podsWithRequiredAntiAffinity.length > 0)) {
    const labels = labelsOf(info.node);
    for (const existing of info.podsWithRequiredAntiAffinity) {
      for (const t of podTerms(existing).antiAffinity) if (termMatches(t, pod)) count(labels, counts.existingAntiAffinity, t);
    }
  }
  if (own.affinity.length === 0 && own.antiAffinity.length === 0) return counts;
  for (const info of allNodes) {
    const labels = labelsOf(info.node);
    for (const existing of info.pods) {
      if (own.affinity.length && own.affinity.every((t) => termMatches(t, existing))) for (const t of own.affinity) count(labels, counts.affinity, t);
      for (const t of own.antiAffinity) if (termMatches(t, existing)) count(labels, counts.antiAffinity, t);
    }
  }
  return counts;
}

/**
 * Upstream's three checks in its order. Affinity: the node must carry every term's topology key and its domains
 * must hold matching pods, except that the first pod of a group (nothing matches anywhere, and the pod matches its
 * own terms) may go anywhere carrying the keys. Anti-affinity: no domain of the node may hold a pod the incoming
 * pod repels, nor a pod that repels the incoming pod.
 */
export function interPodAffinityStatus(pod: Pod, node: Node, counts: AffinityCounts): Status {
  const { affinity, antiAffinity } = podTerms(pod);
  const labels = labelsOf(node);
  const count = (m: Map<string, number>, key: string) => (key in labels ? m.get(pair(key, labels[key])) ?? 0 : 0);
  if (affinity.length) {
    if (!affinity.every((t) => t.topologyKey in labels)) return unresolvable(ERR_REASON_AFFINITY);
    const podsExist = affinity.every((t) => count(counts.affinity, t.topologyKey) > 0);
    const firstOfGroup = counts.affinity.size === 0 && affinity.every((t) => termMatches(t, pod));
    if (!podsExist && !firstOfGroup) return unresolvable(ERR_REASON_AFFINITY);
  }
  if (antiAffinity.some((t) => count(counts.antiAffinity, t.topologyKey) > 0)) return unschedulable(ERR_REASON_ANTI_AFFINITY);
  if (Object.keys(labels).some((k) => count(counts.existingAntiAffinity, k) > 0)) return unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY);
  return SUCCESS;
}

/**
 * Preferred (anti-)affinity per topology domain, as upstream's PreScore: each existing pod adds the weights of the
 * incoming pod's preferred terms it matches (anti-affinity subtracts), and of its own terms the incoming pod
 * matches (its required affinity terms weigh HARD_POD_AFFINITY_WEIGHT). Unless the incoming pod has preferred
 * terms, only the pods with affinity terms (on the nodes holding some) are visited.
 */
export function topologyScores(pod: Pod, allNodes: readonly NodeInfo[], withAffinity?: readonly NodeInfo[]): Map<string, number> {
  const own = podTerms(pod);
  const hasConstraints = own.preferredAffinity.length > 0 || own.preferredAntiAffinity.length > 0;
  const scores = new Map<string, number>();
  const nodes = hasConstraints ? allNodes : withAffinity ?? allNodes.filter((n) => n.podsWithAffinity.length > 0);
  for (const info of nodes) {
    const labels = labelsOf(info.node);
    const add = (t: AffinityTerm, target: Pod, weight: number) => {
      if (t.topologyKey in labels && termMatches(t, target)) increment(scores, pair(t.topologyKey, labels[t.topologyKey]), weight);
    };
    for (const existing of hasConstraints ? info.pods : info.podsWithAffinity) {
      for (const t of own.preferredAffinity) add(t, existing, t.weight);
      for (const t of own.preferredAntiAffinity) add(t, existing, -t.weight);
      const theirs = podTerms(existing);
      for (const t of theirs.affinity) add(t, pod, HARD_POD_AFFINITY_WEIGHT);
      for (const t of theirs.preferredAffinity) add(t, pod, t.weight);
      for (const t of theirs.preferredAntiAffinity) add(t, pod, -t.weight);
    }
  }
  return scores;
}

const FILTER_KEY = `PreFilter${INTER_POD_AFFINITY}`;
const SCORE_KEY = `PreScore${INTER_POD_AFFINITY}`;

/**
 * InterPodAffinity: required pod affinity and anti-affinity (both ways) as a filter; preferred terms as a score.
 * PreFilter skips the filter when the pod has no required terms and no existing pod's anti-affinity selects it;
 * PreScore skips scoring when no term (the pod's preferred ones, or existing pods' ones) gives any domain a score.
 */
export function interPodAffinity(): PreFilterPlugin & FilterPlugin & ScorePlugin {
  const counts = (pod: Pod, state: CycleState) => cycleData(state, FILTER_KEY, () => affinityCounts(pod, state.allNodes, havePodsWithRequiredAntiAffinity(state)));
  const scoresOf = (pod: Pod, state: CycleState) => cycleData(state, SCORE_KEY, () => topologyScores(pod, state.allNodes, havePodsWithAffinity(state)));
  return {
    name: INTER_POD_AFFINITY,
    preFilter(pod, state) {
      state.data.delete(FILTER_KEY);
      const { affinity, antiAffinity } = podTerms(pod);
      return counts(pod, state).existingAntiAffinity.size === 0 && affinity.length === 0 && antiAffinity.length === 0 ? SKIP : SUCCESS;
    },
    filter: (pod, info, state) => interPodAffinityStatus(pod, info.node, counts(pod, state)),
    preScore(pod, _feasible, state) {
      state.data.delete(SCORE_KEY);
      return scoresOf(pod, state).size === 0 ? SKIP : SUCCESS;
    },
    score(pod, info, state) {
      const scores = scoresOf(pod, state);
      let sum = 0;
      for (const [k, v] of Object.entries(labelsOf(info.node))) sum += scores.get(pair(k, v)) ?? 0;
      return sum;
    },
    normalize(_pod, scores) {
      // Min-max to 0..MAX_NODE_SCORE (raw scores may be negative); all equal → all 0. Same float order as upstream.
      const values = [...scores.values()];
      const [min, max] = [Math.min(...values), Math.max(...values)];
      for (const [name, s] of scores) scores.set(name, max > min ? Math.trunc(MAX_NODE_SCORE * ((s - min) / (max - min))) : 0);
    },
  };
}
