import type { Node, Pod } from '@k8ts/api';
import { SUCCESS, unresolvable, type FilterPlugin, type NodeInfo } from '../types.js';

export const NODE_NAME = 'NodeName';
export const ERR_REASON_NODE_NAME = "node(s) didn't match the requested node name";

/** True when the pod names no node (spec.nodeName) or names this one. */
export function fitsNodeName(pod: Pod, node: Node): boolean {
  return !pod.spec?.nodeName || pod.spec.nodeName === node.metadata?.name;
}

/** NodeName: a pod that asks for a node by name runs only there. */
export function nodeName(): FilterPlugin {
  return {
    name: NODE_NAME,
    filter: (pod: Pod, info: NodeInfo) => fitsNodeName(pod, info.node) ? SUCCESS : unresolvable(ERR_REASON_NODE_NAME),
  };
}
