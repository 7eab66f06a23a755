import { describe, expect, it } from 'vitest';
import type { Node, Pod } from '@k8ts/api';
import { addPod, newNodeInfo, nodeAllocatable, removePod } from './nodeinfo.js';

const Mi = 1024 * 1024;
const node: Node = { metadata: { name: 'n1' }, status: { allocatable: { cpu: '3500m', memory: '7Gi', pods: '110' } } };
const pod = (name: string, cpu: string, memory: string, hostPort?: number, uid: string | undefined = `uid-${name}`): Pod => ({
  metadata: { name, namespace: 'default', uid },
  spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu, memory } }, ports: hostPort ? [{ containerPort: 80, hostPort }] : [] }] },
});

describe('nodeinfo', () => {
  it('reads allocatable; missing entries are 0', () => {
    expect(nodeAllocatable(node)).toEqual({ milliCPU: 3500, memory: 7 * 1024 * Mi, pods: 110 });
    expect(nodeAllocatable({ metadata: { name: 'bare' } })).toEqual({ milliCPU: 0, memory: 0, pods: 0 });
  });

  it('sums requests and collects ports of the pods given', () => {
    const info = newNodeInfo(node, [pod('a', '100m', '64Mi', 8080), pod('b', '250m', '128Mi')]);
    expect(info.pods.map((p) => p.metadata!.name)).toEqual(['a', 'b']);
    expect(info.requested).toEqual({ milliCPU: 350, memory: 192 * Mi, pods: 2 });
    expect([...info.usedPorts]).toEqual(['0.0.0.0/TCP/8080']);
  });

  it('adds and removes pods in place', () => {
    const info = newNodeInfo(node);
    addPod(info, pod('a', '100m', '64Mi', 8080));
    addPod(info, pod('b', '250m', '128Mi', 9090));
    expect(info.requested).toEqual({ milliCPU: 350, memory: 192 * Mi, pods: 2 });
    expect(removePod(info, pod('a', '100m', '64Mi'))).toBe(true);
    expect(info.requested).toEqual({ milliCPU: 250, memory: 128 * Mi, pods: 1 });
    expect([...info.usedPorts]).toEqual(['0.0.0.0/TCP/9090']);
    expect(removePod(info, pod('zzz', '1', '1Gi'))).toBe(false);
    expect(info.requested.pods).toBe(1);
  });

  it('removes what the stored copy added, matched by uid, else by namespace/name', () => {
    const info = newNodeInfo(node, [pod('a', '100m', '64Mi')]);
    // An updated copy with other requests and another name still matches by uid.
    expect(removePod(info, { ...pod('renamed', '2', '1Gi'), metadata: { name: 'renamed', uid: 'uid-a' } })).toBe(true);
    expect(info.requested).toEqual({ milliCPU: 0, memory: 0, pods: 0 });
    addPod(info, pod('c', '100m', '64Mi', undefined, undefined));
    expect(removePod(info, pod('c', '1', '1Gi', undefined, undefined))).toBe(true);
    expect(info.pods).toEqual([]);
  });

  it('keeps a port another pod on the node still holds', () => {
    const info = newNodeInfo(node, [pod('a', '0', '0', 80), pod('b', '0', '0', 80)]);
    removePod(info, pod('a', '0', '0', 80));
    expect([...info.usedPorts]).toEqual(['0.0.0.0/TCP/80']);
  });

  it('keeps the pods with affinity and with required anti-affinity as lists, added and removed with the pod', () => {
    const anti: Pod = { metadata: { name: 'anti', namespace: 'default', uid: 'anti' }, spec: { containers: [], affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: {} }] } } } };
    const preferring: Pod = { metadata: { name: 'pref', namespace: 'default', uid: 'pref' }, spec: { containers: [], affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname' } }] } } } };
    const info = newNodeInfo(node, [pod('a', '1m', '1Mi'), anti, preferring]);
    expect(info.podsWithAffinity.map((p) => p.metadata!.name)).toEqual(['anti', 'pref']);
    expect(info.podsWithRequiredAntiAffinity.map((p) => p.metadata!.name)).toEqual(['anti']);
    expect(removePod(info, { metadata: { name: 'anti', namespace: 'default', uid: 'anti' } })).toBe(true);
    expect(info.podsWithAffinity.map((p) => p.metadata!.name)).toEqual(['pref']);
    expect(info.podsWithRequiredAntiAffinity).toEqual([]);
  });
});
