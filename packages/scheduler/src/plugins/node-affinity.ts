import { matchesLabels, type LabelRequirement, type Node, type Pod } from '@k8ts/api';
import { MAX_NODE_SCORE, SKIP, SUCCESS, unresolvable, type FilterPlugin, type NodeInfo, type PreFilterPlugin, type ScorePlugin } from '../types.js';

type NodeAffinity = NonNullable<NonNullable<NonNullable<Pod['spec']>['affinity']>['nodeAffinity']>;
export type NodeSelectorTerm = NonNullable<NodeAffinity['requiredDuringSchedulingIgnoredDuringExecution']>['nodeSelectorTerms'][number];
export type NodeSelectorRequirement = NonNullable<NodeSelectorTerm['matchExpressions']>[number];

export const NODE_AFFINITY = 'NodeAffinity';
export const ERR_REASON_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector";

const OPERATORS: Record<string, LabelRequirement['operator']> = {
  In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!', Gt: 'gt', Lt: 'lt',
};

/** A node selector requirement as a label requirement, or undefined when it is invalid (upstream drops such terms). */
function labelRequirement(r: NodeSelectorRequirement): LabelRequirement | undefined {
  const operator = OPERATORS[r.operator];
  const values = r.values ?? [];
  if (!operator) return undefined;
  if ((operator === 'in' || operator === 'notin') && values.length === 0) return undefined;
  if ((operator === 'exists' || operator === '!') && values.length !== 0) return undefined;
  if ((operator === 'gt' || operator === 'lt') && (values.length !== 1 || !/^[-+]?\d+$/.test(values[0]))) return undefined;
  return { key: r.key, operator, values };
}

/** matchFields: only `metadata.name` with In/NotIn and exactly one value is valid, as upstream's field selector. */
function fieldMatches(r: NodeSelectorRequirement, node: Node): boolean {
  const values = r.values ?? [];
  if (r.key !== 'metadata.name' || values.length !== 1) return false;
  const name = node.metadata?.name ?? '';
  if (r.operator === 'In') return name === values[0];
  if (r.operator === 'NotIn') return name !== values[0];
  return false;
}

/** One nodeSelectorTerm: its expressions and fields are ANDed; an empty or invalid term matches no node. */
export function nodeMatchesTerm(term: NodeSelectorTerm, node: Node): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const reqs = exprs.map(labelRequirement);
  if (reqs.some((r) => r === undefined)) return false;
  return matchesLabels(reqs as LabelRequirement[], node.metadata?.labels) && fields.every((f) => fieldMatches(f, node));
}

/** spec.nodeSelector (every label equal) and required node affinity (terms ORed) both hold for the node. */
export function matchesRequiredNodeAffinity(pod: Pod, node: Node): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  return !required || required.nodeSelectorTerms.some((t) => nodeMatchesTerm(t, node));
}

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
