import { cpuMillis, quantityValue, type Node, type Pod } from '@k8ts/api';
import type { NodeInfo, Resources } from '../types.js';
import { hostPortKeys } from './node-ports.js';
import { podRequests } from './node-resources-fit.js';

/** A node's status.allocatable as the scheduler counts it; a missing entry counts as 0, as upstream. */
export function nodeAllocatable(node: Node): Resources {
  const a = node.status?.allocatable ?? {};
  return {
    milliCPU: a.cpu !== undefined ? cpuMillis(a.cpu) : 0,
    memory: a.memory !== undefined ? quantityValue(a.memory) : 0,
    pods: a.pods !== undefined ? quantityValue(a.pods) : 0,
  };
}

/** A fresh NodeInfo for the node holding the given pods (requests summed, host ports collected). */
export function newNodeInfo(node: Node, pods: readonly Pod[] = []): NodeInfo {
  const info: NodeInfo = {
    node, pods: [], podsWithAffinity: [], podsWithRequiredAntiAffinity: [], generation: 0,
    requested: { milliCPU: 0, memory: 0, pods: 0 }, nonZeroRequested: { milliCPU: 0, memory: 0, pods: 0 }, allocatable: nodeAllocatable(node), usedPorts: new Set(),
  };
  for (const p of pods) addPod(info, p);
  return info;
}

/** Whether the pod has any pod affinity or anti-affinity term (upstream's NodeInfo.PodsWithAffinity). */
export function hasPodAffinity(pod: Pod): boolean {
  const a = pod.spec?.affinity;
  return Boolean(a?.podAffinity || a?.podAntiAffinity);
}

/** Whether the pod has a required anti-affinity term (upstream's NodeInfo.PodsWithRequiredAntiAffinity). */
export function hasRequiredAntiAffinity(pod: Pod): boolean {
  return (pod.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.length ?? 0) > 0;
}

/**
 * Adds the pod to the NodeInfo in place: its requests to `requested`, its host ports to `usedPorts`, and to the
 * affinity lists when it has such terms.
 */
export function addPod(info: NodeInfo, pod: Pod): void {
  const r = podRequests(pod);
  const nz = podRequests(pod, { nonZero: true });
  info.pods.push(pod);
  info.generation++;
  info.nonZeroRequested.milliCPU += nz.milliCPU;
  info.nonZeroRequested.memory += nz.memory;
  info.nonZeroRequested.pods = info.pods.length;
  if (hasPodAffinity(pod)) info.podsWithAffinity.push(pod);
  if (hasRequiredAntiAffinity(pod)) info.podsWithRequiredAntiAffinity.push(pod);
  info.requested.milliCPU += r.milliCPU;
  info.requested.memory += r.memory;
  info.requested.pods = info.pods.length;
  const ports = hostPortKeys(pod);
  for (let j = 0; j < ports.length; j++) info.usedPorts.add(ports[j]);
}

const samePod = (a: Pod, b: Pod): boolean => a.metadata?.uid && b.metadata?.uid
  ? a.metadata.uid === b.metadata.uid
  : a.metadata?.namespace === b.metadata?.namespace && a.metadata?.name === b.metadata?.name;

/**
 * Removes the pod (matched by uid, else namespace/name) from the NodeInfo in place, taking back its requests and
 * host ports. Returns false when the pod was not there.
 */
export function removePod(info: NodeInfo, pod: Pod): boolean {
  const i = info.pods.findIndex((p) => samePod(p, pod));
  if (i < 0) return false;
  // Subtract what the stored copy added: the caller's copy may carry a different spec (an update).
  const stored = info.pods[i];
  const r = podRequests(stored);
  const nz = podRequests(stored, { nonZero: true });
  info.pods.splice(i, 1);
  info.generation++;
  info.nonZeroRequested.milliCPU -= nz.milliCPU;
  info.nonZeroRequested.memory -= nz.memory;
  info.nonZeroRequested.pods = info.pods.length;
  for (const list of [info.podsWithAffinity, info.podsWithRequiredAntiAffinity]) {
    const j = list.indexOf(stored);
    if (j >= 0) list.splice(j, 1);
  }
  info.requested.milliCPU -= r.milliCPU;
  info.requested.memory -= r.memory;
  info.requested.pods = info.pods.length;
  // Rebuilt rather than deleted key by key, so a port another pod on the node also lists stays marked.
  if (info.usedPorts.size) {
    info.usedPorts.clear();
    for (const p of info.pods) for (const k of hostPortKeys(p)) info.usedPorts.add(k);
  }
  return true;
}
