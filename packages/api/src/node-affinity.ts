import type { Node, Pod } from './types.js';
import { matchesLabels, type LabelRequirement } from './selectors.js';

/*
 * Required node affinity, as upstream's k8s.io/component-helpers/scheduling/corev1/nodeaffinity: what the scheduler
 * filters nodes with and the daemonset controller decides where a daemon pod should run with.
 */

/** A pod's spec.affinity.nodeAffinity. */
type NodeAffinity = NonNullable<NonNullable<NonNullable<Pod['spec']>['affinity']>['nodeAffinity']>;
/** One term of a node selector (its expressions and fields ANDed). */
export type NodeSelectorTerm = NonNullable<NodeAffinity['requiredDuringSchedulingIgnoredDuringExecution']>['nodeSelectorTerms'][number];
/** One requirement of a term: a label expression or a field (only metadata.name). */
export type NodeSelectorRequirement = NonNullable<NodeSelectorTerm['matchExpressions']>[number];

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
  return !required || (required.nodeSelectorTerms ?? []).some((t) => nodeMatchesTerm(t, node));
}
