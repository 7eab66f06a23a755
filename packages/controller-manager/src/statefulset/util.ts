import type { KubeObject, OwnerReference, Pod, PodTemplateSpec, StatefulSet } from '@k8ts/api';
import { scaledValue } from '../deployment/util.js';
import { isPodAvailable, isPodReady } from '../pods.js';
import { POD_REVISION_LABEL } from '../history/controller-history.js';

/** The pod label naming a StatefulSet pod, and the one with its ordinal (apps/v1 StatefulSetPodNameLabel, PodIndexLabel). */
export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

/** A PersistentVolumeClaim as this controller reads and writes it. */
export interface PersistentVolumeClaim extends KubeObject {
  spec?: Record<string, unknown>;
  status?: { phase?: string };
}

const POD_NAME = /^(.*)-([0-9]+)$/;

/** The parent name and ordinal in a pod's name; ordinal -1 when it has none (getParentNameAndOrdinal). */
export function parentAndOrdinal(pod: { metadata?: { name?: string } }): { parent: string; ordinal: number } {
  const m = POD_NAME.exec(pod.metadata?.name ?? '');
  if (!m) return { parent: '', ordinal: -1 };
  const n = Number(m[2]);
  return { parent: m[1], ordinal: Number.isSafeInteger(n) && n <= 2147483647 ? n : -1 };
}

export const ordinalOf = (pod: Pod): number => parentAndOrdinal(pod).ordinal;
export const podName = (set: StatefulSet, ordinal: number): string => `${set.metadata!.name}-${ordinal}`;
export const claimName = (set: StatefulSet, template: string, ordinal: number): string => `${template}-${set.metadata!.name}-${ordinal}`;
export const isMemberOf = (set: StatefulSet, pod: Pod): boolean => parentAndOrdinal(pod).parent === set.metadata?.name;

/** spec.ordinals.start, else 0 (getStartOrdinal). */
export const startOrdinal = (set: StatefulSet): number => set.spec?.ordinals?.start ?? 0;
/** The last ordinal in range, inclusive (getEndOrdinal). */
export const endOrdinal = (set: StatefulSet): number => startOrdinal(set) + (set.spec?.replicas ?? 1) - 1;
export function inOrdinalRange(pod: Pod, set: StatefulSet): boolean {
  const o = ordinalOf(pod);
  return o >= startOrdinal(set) && o <= endOrdinal(set);
}

/** Name, namespace and pod-name label as the set gives them (identityMatches). */
export function identityMatches(set: StatefulSet, pod: Pod): boolean {
  const { parent, ordinal } = parentAndOrdinal(pod);
  return ordinal >= 0 && parent === set.metadata?.name && pod.metadata?.name === podName(set, ordinal)
    && pod.metadata?.namespace === set.metadata?.namespace && pod.metadata?.labels?.[POD_NAME_LABEL] === pod.metadata?.name;
}

/** Every claim template has its volume, naming this pod's claim (storageMatches). */
export function storageMatches(set: StatefulSet, pod: Pod): boolean {
  const ordinal = ordinalOf(pod);
  if (ordinal < 0) return false;
  const volumes = new Map((pod.spec?.volumes ?? []).map((v) => [v.name, v]));
  return (set.spec?.volumeClaimTemplates ?? []).every((t) => volumes.get(t.metadata?.name ?? '')?.persistentVolumeClaim?.claimName
    === claimName(set, t.metadata?.name ?? '', ordinal));
}

/** The claims the pod needs, by template name: `<template>-<set>-<ordinal>`, with the selector's labels (getPersistentVolumeClaims). */
export function claimsFor(set: StatefulSet, pod: Pod): Map<string, PersistentVolumeClaim> {
  const ordinal = ordinalOf(pod);
  const out = new Map<string, PersistentVolumeClaim>();
  for (const t of set.spec?.volumeClaimTemplates ?? []) {
    const name = t.metadata?.name ?? '';
    const claim = structuredClone(t) as unknown as PersistentVolumeClaim;
    delete claim.status;
    claim.apiVersion = 'v1';
    claim.kind = 'PersistentVolumeClaim';
    claim.metadata = {
      ...(t.metadata?.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
      name: claimName(set, name, ordinal), namespace: set.metadata?.namespace,
      labels: { ...t.metadata?.labels, ...(set.spec?.selector?.matchLabels ?? {}) },
    };
    out.set(name, claim);
  }
  return out;
}

/** The pod's volumes with one persistentVolumeClaim volume per claim template, replacing same-named ones (updateStorage). */
export function updateStorage(set: StatefulSet, pod: Pod): void {
  const claims = claimsFor(set, pod);
  const volumes = [...claims].map(([name, c]) => ({ name, persistentVolumeClaim: { claimName: c.metadata!.name! } }));
  for (const v of pod.spec?.volumes ?? []) if (!claims.has(v.name)) volumes.push(v as never);
  pod.spec!.volumes = volumes;
}

/** Name, namespace, and the pod-name and pod-index labels (updateIdentity). */
export function updateIdentity(set: StatefulSet, pod: Pod): void {
  const ordinal = ordinalOf(pod);
  pod.metadata!.name = podName(set, ordinal);
  pod.metadata!.namespace = set.metadata?.namespace;
  pod.metadata!.labels = { ...pod.metadata!.labels, [POD_NAME_LABEL]: pod.metadata!.name, [POD_INDEX_LABEL]: String(ordinal) };
}

/** A new pod for the ordinal from the set's template: identity, hostname and subdomain (serviceName), claim volumes (newStatefulSetPod). */
export function newStatefulSetPod(set: StatefulSet, ordinal: number, controllerRef: OwnerReference): Pod {
  const template: PodTemplateSpec = set.spec?.template ?? {};
  const meta = template.metadata ?? {};
  const pod: Pod = {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name: podName(set, ordinal),
      ...(meta.labels ? { labels: { ...meta.labels } } : {}),
      ...(meta.annotations ? { annotations: { ...meta.annotations } } : {}),
      ...(meta.finalizers ? { finalizers: [...meta.finalizers] } : {}),
      ownerReferences: [controllerRef],
    },
    spec: structuredClone(template.spec) ?? { containers: [] },
  };
  updateIdentity(set, pod);
  // Set only on creation: hostname and subdomain are immutable afterwards.
  pod.spec!.hostname = pod.metadata!.name;
  if (set.spec?.serviceName) pod.spec!.subdomain = set.spec.serviceName;
  updateStorage(set, pod);
  return pod;
}

export const podRevision = (pod: Pod): string => pod.metadata?.labels?.[POD_REVISION_LABEL] ?? '';
export function setPodRevision(pod: Pod, revision: string): void {
  pod.metadata!.labels = { ...pod.metadata!.labels, [POD_REVISION_LABEL]: revision };
}

export const isCreated = (pod: Pod): boolean => !!pod.status?.phase;
export const isFailed = (pod: Pod): boolean => pod.status?.phase === 'Failed';
export const isSucceeded = (pod: Pod): boolean => pod.status?.phase === 'Succeeded';
export const isPending = (pod: Pod): boolean => pod.status?.phase === 'Pending';
export const isTerminating = (pod: Pod): boolean => !!pod.metadata?.deletionTimestamp;
export const isRunningAndReady = (pod: Pod): boolean => pod.status?.phase === 'Running' && isPodReady(pod);
export const isRunningAndAvailable = (pod: Pod, minReady: number, now: number): boolean => pod.status?.phase === 'Running' && isPodAvailable(pod, minReady, now);
/** Not yet available, or going away (isUnavailable). */
export const isUnavailable = (pod: Pod, minReady: number, now: number): boolean => !isRunningAndAvailable(pod, minReady, now) || isTerminating(pod);

/** Pods may be created and deleted in any order, all at once (allowsBurst: podManagementPolicy Parallel). */
export const allowsBurst = (set: StatefulSet): boolean => set.spec?.podManagementPolicy === 'Parallel';

/** Highest ordinal first (descendingOrdinal). */
export const descendingOrdinal = (a: Pod, b: Pod): number => ordinalOf(b) - ordinalOf(a);

/** maxUnavailable of the replicas, rounded down but at least 1, default 1 (getStatefulSetMaxUnavailable). */
export function maxUnavailableOf(set: StatefulSet): number {
  const v = set.spec?.updateStrategy?.rollingUpdate?.maxUnavailable ?? 1;
  return Math.max(1, scaledValue(v as number | string, set.spec?.replicas ?? 1, false));
}

type Policy = 'Retain' | 'Delete';
function retention(set: StatefulSet): { whenDeleted: Policy; whenScaled: Policy } {
  const p = set.spec?.persistentVolumeClaimRetentionPolicy;
  return { whenDeleted: p?.whenDeleted === 'Delete' ? 'Delete' : 'Retain', whenScaled: p?.whenScaled === 'Delete' ? 'Delete' : 'Retain' };
}

const hasOwnerRef = (target: KubeObject, uid: string | undefined) => !!uid && (target.metadata?.ownerReferences ?? []).some((r) => r.uid === uid);

/** A reference to `name` with another uid: the claim belonged to an earlier pod of that name (hasStaleOwnerRef). */
export function hasStaleOwnerRef(target: KubeObject, owner: { metadata?: { name?: string; uid?: string } }): boolean {
  return (target.metadata?.ownerReferences ?? []).some((r) => r.name === owner.metadata?.name && r.uid !== owner.metadata?.uid);
}

/**
 * Whether the claim's owners are as the retention policy wants (claimOwnerMatchesSetAndPod): whenDeleted Delete makes the
 * set an owner (the garbage collector deletes the claim with it); whenScaled Delete makes a scaled-down pod the owner
 * (the claim goes with the pod); Retain owns nothing.
 */
export function claimOwnerMatches(claim: PersistentVolumeClaim, set: StatefulSet, pod: Pod): boolean {
  const { whenDeleted, whenScaled } = retention(set);
  const setRef = hasOwnerRef(claim, set.metadata?.uid);
  const podRef = hasOwnerRef(claim, pod.metadata?.uid);
  const scaledDown = !inOrdinalRange(pod, set);
  if (whenScaled === 'Retain' && whenDeleted === 'Retain') return !setRef && !podRef;
  if (whenScaled === 'Retain' && whenDeleted === 'Delete') return setRef && !podRef;
  if (whenScaled === 'Delete' && whenDeleted === 'Retain') return !setRef && scaledDown === podRef;
  return scaledDown !== setRef && scaledDown === podRef;
}

/** Sets the claim's owners as the retention policy wants; true when they changed (updateClaimOwnerRefForSetAndPod). */
export function updateClaimOwners(claim: PersistentVolumeClaim, set: StatefulSet, pod: Pod): boolean {
  const { whenDeleted, whenScaled } = retention(set);
  const scaledDown = !inOrdinalRange(pod, set);
  let changed = false;
  const refs = () => (claim.metadata!.ownerReferences ??= []);
  const add = (kind: string, apiVersion: string, owner: { metadata?: { name?: string; uid?: string } }) => {
    if (!owner.metadata?.uid || hasOwnerRef(claim, owner.metadata.uid)) return;
    refs().push({ apiVersion, kind, name: owner.metadata.name!, uid: owner.metadata.uid });
    changed = true;
  };
  const remove = (owner: { metadata?: { uid?: string } }) => {
    if (!hasOwnerRef(claim, owner.metadata?.uid)) return;
    claim.metadata!.ownerReferences = refs().filter((r) => r.uid !== owner.metadata!.uid);
    changed = true;
  };
  const wantSet = whenDeleted === 'Delete' && !(whenScaled === 'Delete' && scaledDown);
  const wantPod = whenScaled === 'Delete' && scaledDown;
  if (wantSet) add('StatefulSet', 'apps/v1', set); else remove(set);
  if (wantPod) add('Pod', 'v1', pod); else remove(pod);
  if (claim.metadata!.ownerReferences?.length === 0) delete claim.metadata!.ownerReferences;
  return changed;
}
