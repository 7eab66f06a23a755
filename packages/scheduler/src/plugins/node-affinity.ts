import { matchesRequiredNodeAffinity, nodeMatchesTerm, type Node, type NodeSelectorTerm, type Pod } from '@k8ts/api';
import { MAX_NODE_SCORE, SKIP, SUCCESS, unresolvable, type FilterPlugin, type NodeInfo, type PreFilterPlugin, type ScorePlugin } from '../types.js';

export { matchesRequiredNodeAffinity, nodeMatchesTerm };
export type { NodeSelectorTerm };

export const NODE_AFFINITY = 'NodeAffinity';
export const ERR_REASON_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector";

/** Sum of the weights of the pod's preferred node affinity terms that the node matches. */
export function preferredNodeAffinityScore(pod: Pod, node: Node): number {
  let sum = 0;
  for (const t of pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []) {
    if (t.weight !== 0 && nodeMatchesTerm(t.preference, node)) sum += t.weight;
  }
  return sum;
}

/**
 * Upstream's helper.DefaultNormalizeScore: scales so the highest score becomes MAX_NODE_SCORE (integer math);
 * `reverse` then flips them (fewer is better). All zero: 0 everywhere, or MAX_NODE_SCORE when reversed.
 */
export function defaultNormalizeScore(scores: Map<string, number>, reverse: boolean): void {
  const max = Math.max(0, ...scores.values());
  for (const [name, s] of scores) {
    const scaled = max === 0 ? 0 : Math.floor((MAX_NODE_SCORE * s) / max);
    scores.set(name, reverse ? MAX_NODE_SCORE - scaled : scaled);
  }
}

/**
 * The only nodes the required node affinity can match by name, when every term names them with a `metadata.name In`
 * field (a DaemonSet pod's term): the union over terms of each term's names; undefined when some term does not
 * (upstream's getNodeNamesFromAffinity in the NodeAffinity PreFilter).
 */
export function nodeNamesFromAffinity(pod: Pod): Set<string> | undefined {
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!terms?.length) return undefined;
  const union = new Set<string>();
  for (const term of terms) {
    let names: Set<string> | undefined;
    for (const f of term.matchFields ?? []) {
      if (f.key !== 'metadata.name' || f.operator !== 'In') continue;
      const values = new Set(f.values ?? []);
      names = names ? new Set([...names].filter((n) => values.has(n))) : values;
    }
    if (!names) return undefined;
    for (const n of names) union.add(n);
  }
  return union;
}

/**
 * NodeAffinity: filters by nodeSelector and required node affinity (its PreFilter skips the filter for a pod with
 * neither, and narrows the nodes to those a `metadata.name` term names); scores preferred node affinity weights.
 */
export function nodeAffinity(): PreFilterPlugin & FilterPlugin & ScorePlugin {
  return {
    name: NODE_AFFINITY,
    preFilter: (pod: Pod) => {
      const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
      if (!required && !Object.keys(pod.spec?.nodeSelector ?? {}).length) return SKIP;
      const nodeNames = nodeNamesFromAffinity(pod);
      if (nodeNames && nodeNames.size === 0) return unresolvable(ERR_REASON_NODE_AFFINITY);
      return nodeNames ? { ...SUCCESS, nodeNames } : SUCCESS;
    },
    filter: (pod: Pod, info: NodeInfo) => matchesRequiredNodeAffinity(pod, info.node) ? SUCCESS : unresolvable(ERR_REASON_NODE_AFFINITY),
    // As upstream's PreScore: nothing to score without preferred terms.
    preScore: (pod: Pod) => (pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length ? SUCCESS : SKIP),
    score: (pod: Pod, info: NodeInfo) => preferredNodeAffinityScore(pod, info.node),
    normalize: (_pod: Pod, scores: Map<string, number>) => defaultNormalizeScore(scores, false),
  };
}
