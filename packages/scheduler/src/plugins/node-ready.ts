import type { Node, Pod } from '@k8ts/api';
import { SUCCESS, unresolvable, type FilterPlugin, type NodeInfo } from '../types.js';
import { tolerationsTolerateTaint, type Taint } from './taint-toleration.js';

/** k8ts's own plugin: upstream gets the same effect from the node lifecycle controller's not-ready taint. */
export const NODE_READY = 'NodeReady';
export const ERR_REASON_NOT_READY = 'node(s) were not ready';

/** The taint upstream's node lifecycle controller puts on a node that is not Ready. */
export const NOT_READY_TAINT: Taint = { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' };

/** True when the node's Ready condition is True. */
export function nodeIsReady(node: Node): boolean {
  // Node objects are replaced, never mutated, on change: the answer is kept per object.
  let ready = READY.get(node);
  if (ready === undefined) READY.set(node, (ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True'));
  return ready;
}

const READY = new WeakMap<Node, boolean>();

/** NodeReady: filters out nodes that are not Ready, unless the pod tolerates node.kubernetes.io/not-ready:NoSchedule. */
export function nodeReady(): FilterPlugin {
  return {
    name: NODE_READY,
    filter: (pod: Pod, info: NodeInfo) =>
      nodeIsReady(info.node) || tolerationsTolerateTaint(pod.spec?.tolerations, NOT_READY_TAINT) ? SUCCESS : unresolvable(ERR_REASON_NOT_READY),
  };
}
