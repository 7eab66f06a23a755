import type { Node, Pod } from '@k8ts/api';
import { SUCCESS, unresolvable, type FilterPlugin, type NodeInfo } from '../types.js';
import { tolerationsTolerateTaint, type Taint } from './taint-toleration.js';

export const NODE_UNSCHEDULABLE = 'NodeUnschedulable';
export const ERR_REASON_UNSCHEDULABLE = 'node(s) were unschedulable';

/** The taint a cordoned node stands for (upstream's node.kubernetes.io/unschedulable:NoSchedule). */
export const UNSCHEDULABLE_TAINT: Taint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };

/** A node takes the pod unless it is cordoned (spec.unschedulable) and the pod does not tolerate that. */
export function schedulableFor(pod: Pod, node: Node): boolean {
  return !node.spec?.unschedulable || tolerationsTolerateTaint(pod.spec?.tolerations, UNSCHEDULABLE_TAINT);
}

/** NodeUnschedulable: filters out cordoned nodes. */
export function nodeUnschedulable(): FilterPlugin {
  return {
    name: NODE_UNSCHEDULABLE,
    filter: (pod: Pod, info: NodeInfo) => schedulableFor(pod, info.node) ? SUCCESS : unresolvable(ERR_REASON_UNSCHEDULABLE),
  };
}
