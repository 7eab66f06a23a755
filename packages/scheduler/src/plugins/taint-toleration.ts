import type { Node, Pod } from '@k8ts/api';
import { SUCCESS, unresolvable, type FilterPlugin, type NodeInfo, type ScorePlugin, type Status } from '../types.js';
import { defaultNormalizeScore } from './node-affinity.js';

export type Taint = NonNullable<NonNullable<Node['spec']>['taints']>[number];
export type Toleration = NonNullable<NonNullable<Pod['spec']>['tolerations']>[number];

export const TAINT_TOLERATION = 'TaintToleration';

/**
 * Whether one toleration tolerates one taint (component-helpers' ToleratesTaint): an empty effect matches every
 * effect, an empty key matches every key, Exists ignores the value, Equal (or no operator) needs the same value.
 */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  switch (t.operator ?? '') {
    case '': case 'Equal': return (t.value ?? '') === (taint.value ?? '');
    case 'Exists': return true;
    default: return false;
  }
}

/** True when any of the tolerations tolerates the taint. */
export function tolerationsTolerateTaint(tolerations: readonly Toleration[] | undefined, taint: Taint): boolean {
  return (tolerations ?? []).some((t) => toleratesTaint(t, taint));
}

const doNotSchedule = (t: Taint): boolean => t.effect === 'NoSchedule' || t.effect === 'NoExecute';

/** The first NoSchedule/NoExecute taint of the node that the pod does not tolerate (upstream FindMatchingUntoleratedTaint). */
export function untoleratedTaint(pod: Pod, node: Node): Taint | undefined {
  return (node.spec?.taints ?? []).find((taint) => doNotSchedule(taint) && !tolerationsTolerateTaint(pod.spec?.tolerations, taint));
}

/** How many PreferNoSchedule taints of the node the pod does not tolerate (only its PreferNoSchedule or effect-less tolerations count). */
export function intolerablePreferNoScheduleTaints(pod: Pod, node: Node): number {
  const tolerations = (pod.spec?.tolerations ?? []).filter((t) => !t.effect || t.effect === 'PreferNoSchedule');
  return (node.spec?.taints ?? []).filter((t) => t.effect === 'PreferNoSchedule' && !tolerationsTolerateTaint(tolerations, t)).length;
}

/** `node(s) had untolerated taint {key: value}`, upstream's reason, for the first untolerated NoSchedule/NoExecute taint. */
export function taintTolerationStatus(pod: Pod, node: Node): Status {
  const taint = untoleratedTaint(pod, node);
  return taint ? unresolvable(`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`) : SUCCESS;
}

/** TaintToleration: filters out untolerated NoSchedule/NoExecute taints; prefers nodes with fewer untolerated PreferNoSchedule taints. */
export function taintToleration(): FilterPlugin & ScorePlugin {
  return {
    name: TAINT_TOLERATION,
    filter: (pod: Pod, info: NodeInfo) => taintTolerationStatus(pod, info.node),
    score: (pod: Pod, info: NodeInfo) => intolerablePreferNoScheduleTaints(pod, info.node),
    normalize: (_pod: Pod, scores: Map<string, number>) => defaultNormalizeScore(scores, true),
  };
}
