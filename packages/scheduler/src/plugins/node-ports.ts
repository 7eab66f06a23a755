import type { Pod } from '@k8ts/api';
import { SUCCESS, unschedulable, type FilterPlugin, type NodeInfo } from '../types.js';

export const NODE_PORTS = 'NodePorts';
export const ERR_REASON_NODE_PORTS = "node(s) didn't have free ports for the requested pod ports";

const ANY_IP = '0.0.0.0';

/**
 * The host ports a pod holds, as NodeInfo.usedPorts keys `<hostIP>/<protocol>/<port>` (hostIP 0.0.0.0 and
 * protocol TCP when unset): ports of its containers and of its sidecars (restartPolicy Always init containers).
 */
export function hostPortKeys(pod: Pod): readonly string[] {
  // Pods are replaced, never mutated, on change: the keys are kept per object (asked for per node and pod).
  let keys = PORT_KEYS.get(pod);
  if (!keys) PORT_KEYS.set(pod, (keys = computeHostPortKeys(pod)));
  return keys;
}

const PORT_KEYS = new WeakMap<Pod, string[]>();

function computeHostPortKeys(pod: Pod): string[] {
  const containers = [...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always'), ...(pod.spec?.containers ?? [])];
  return containers.flatMap((c) => (c.ports ?? [])
    .filter((p) => (p.hostPort ?? 0) > 0)
    .map((p) => `${p.hostIP || ANY_IP}/${p.protocol || 'TCP'}/${p.hostPort}`));
}

/** Whether one wanted port key collides with the used ones: same protocol and port, and same IP or either side 0.0.0.0. */
export function portConflicts(wanted: string, used: ReadonlySet<string>): boolean {
  const [ip, protocol, port] = wanted.split('/');
  if (ip !== ANY_IP) return used.has(wanted) || used.has(`${ANY_IP}/${protocol}/${port}`);
  for (const key of used) {
    const [, p, n] = key.split('/');
    if (p === protocol && n === port) return true;
  }
  return false;
}

/** True when none of the pod's host ports is taken on the node. */
export function fitsPorts(pod: Pod, info: NodeInfo): boolean {
  const keys = hostPortKeys(pod);
  return keys.length === 0 || info.usedPorts.size === 0 || keys.every((k) => !portConflicts(k, info.usedPorts));
}

/** NodePorts: a pod's hostPorts must be free on the node. */
export function nodePorts(): FilterPlugin {
  return {
    name: NODE_PORTS,
    filter: (pod: Pod, info: NodeInfo) => fitsPorts(pod, info) ? SUCCESS : unschedulable(ERR_REASON_NODE_PORTS),
  };
}
