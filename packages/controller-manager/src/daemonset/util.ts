import { matchesRequiredNodeAffinity, type DaemonSet, type Node, type Pod, type PodSpec } from '@k8ts/api';
import {
  TAINT_NODE_DISK_PRESSURE, TAINT_NODE_MEMORY_PRESSURE, TAINT_NODE_NETWORK_UNAVAILABLE, TAINT_NODE_NOT_READY, TAINT_NODE_PID_PRESSURE,
  TAINT_NODE_UNREACHABLE, TAINT_NODE_UNSCHEDULABLE, toleratesTaint, type Taint, type Toleration,
} from '../taints.js';
import { scaledValue } from '../deployment/util.js';
import { POD_REVISION_LABEL } from '../history/controller-history.js';

type Affinity = NonNullable<PodSpec['affinity']>;

/** The deprecated label and annotation of the template generation (extensions/v1beta1 DaemonSetTemplateGenerationKey). */
export const TEMPLATE_GENERATION_KEY = 'pod-template-generation';
export const DEPRECATED_TEMPLATE_GENERATION = 'deprecated.daemonset.template.generation';

/** The toleration, replacing one with the same key, operator, value and effect (AddOrUpdateTolerationInPodSpec). */
function addOrUpdateToleration(spec: PodSpec, t: Toleration): void {
  const list = [...(spec.tolerations ?? [])];
  const same = (o: Toleration) => (o.key ?? '') === (t.key ?? '') && (o.operator ?? 'Equal') === (t.operator ?? 'Equal')
    && (o.value ?? '') === (t.value ?? '') && (o.effect ?? '') === (t.effect ?? '');
  const i = list.findIndex(same);
  if (i >= 0) list[i] = t; else list.push(t);
  spec.tolerations = list;
}

/**
 * The tolerations every DaemonSet pod gets (AddOrUpdateDaemonPodTolerations): not-ready and unreachable NoExecute
 * without a time limit (node problems never evict them), disk-, memory- and pid-pressure and unschedulable NoSchedule,
 * and network-unavailable NoSchedule for host-network pods.
 */
export function addDaemonPodTolerations(spec: PodSpec): void {
  const exists = (key: string, effect: 'NoExecute' | 'NoSchedule'): Toleration => ({ key, operator: 'Exists', effect });
  addOrUpdateToleration(spec, exists(TAINT_NODE_NOT_READY, 'NoExecute'));
  addOrUpdateToleration(spec, exists(TAINT_NODE_UNREACHABLE, 'NoExecute'));
  addOrUpdateToleration(spec, exists(TAINT_NODE_DISK_PRESSURE, 'NoSchedule'));
  addOrUpdateToleration(spec, exists(TAINT_NODE_MEMORY_PRESSURE, 'NoSchedule'));
  addOrUpdateToleration(spec, exists(TAINT_NODE_PID_PRESSURE, 'NoSchedule'));
  addOrUpdateToleration(spec, exists(TAINT_NODE_UNSCHEDULABLE, 'NoSchedule'));
  if (spec.hostNetwork) addOrUpdateToleration(spec, exists(TAINT_NODE_NETWORK_UNAVAILABLE, 'NoSchedule'));
}

/**
 * The required node affinity replaced by one term, `metadata.name In [node]`, so that the scheduler places the pod
 * on its node (ReplaceDaemonSetPodNodeNameNodeAffinity). Preferred terms and pod (anti-)affinity stay.
 */
export function replaceNodeNameAffinity(affinity: Affinity | undefined, nodeName: string): Affinity {
  const required = { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }] };
  const a = structuredClone(affinity ?? {});
  a.nodeAffinity = { ...a.nodeAffinity, requiredDuringSchedulingIgnoredDuringExecution: required };
  return a;
}

/** The node a DaemonSet pod is for: spec.nodeName, else the `metadata.name In [x]` field of its affinity (GetTargetNodeName). */
export function targetNodeName(pod: Pod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  for (const term of pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    for (const f of term.matchFields ?? []) {
      if (f.key === 'metadata.name' && f.operator === 'In') return f.values?.length === 1 ? f.values[0] : undefined;
    }
  }
  return undefined;
}

/** The first taint with an effect `filter` accepts that no toleration tolerates (FindMatchingUntoleratedTaint). */
export function findUntoleratedTaint(taints: readonly Taint[], tolerations: readonly Toleration[], filter: (t: Taint) => boolean): Taint | undefined {
  return taints.filter(filter).find((taint) => !tolerations.some((t) => toleratesTaint(t, taint)));
}

/** The pod the DaemonSet would run on the node, for the predicates: its template, the node name, the daemon tolerations (NewPod). */
export function newDaemonPod(ds: DaemonSet, nodeName: string): Pod {
  const spec = structuredClone(ds.spec?.template?.spec ?? { containers: [] });
  spec.nodeName = nodeName;
  addDaemonPodTolerations(spec);
  return { apiVersion: 'v1', kind: 'Pod', metadata: { ...structuredClone(ds.spec?.template?.metadata ?? {}), namespace: ds.metadata?.namespace }, spec };
}

const daemonPods = new WeakMap<DaemonSet, Pod>();

/**
 * Whether the DaemonSet should run a pod on the node (`shouldRun`: the template's nodeName, nodeSelector, node affinity
 * and NoSchedule/NoExecute taints allow it) and whether a pod already there may stay (`shouldContinueRunning`: only
 * NoExecute taints it does not tolerate make it go), as upstream's NodeShouldRunDaemonPod and predicates.
 */
export function nodeShouldRunDaemonPod(node: Node, ds: DaemonSet): { shouldRun: boolean; shouldContinueRunning: boolean } {
  // One pod per DaemonSet object, not per node: a sync asks this of every node (the node name is the only difference).
  let pod = daemonPods.get(ds);
  if (!pod) { pod = newDaemonPod(ds, ''); daemonPods.set(ds, pod); }
  const templateNode = ds.spec?.template?.spec?.nodeName;
  if (templateNode && templateNode !== node.metadata?.name) return { shouldRun: false, shouldContinueRunning: false };
  if (!matchesRequiredNodeAffinity(pod, node)) return { shouldRun: false, shouldContinueRunning: false };
  const taints = node.spec?.taints ?? [];
  const tolerations = pod.spec?.tolerations ?? [];
  if (findUntoleratedTaint(taints, tolerations, (t) => t.effect === 'NoExecute' || t.effect === 'NoSchedule')) {
    return { shouldRun: false, shouldContinueRunning: !findUntoleratedTaint(taints, tolerations, (t) => t.effect === 'NoExecute') };
  }
  return { shouldRun: true, shouldContinueRunning: true };
}

/** The template generation from the deprecated annotation, when it is there and an integer (GetTemplateGeneration). */
export function templateGeneration(ds: DaemonSet): string | undefined {
  const v = ds.metadata?.annotations?.[DEPRECATED_TEMPLATE_GENERATION];
  return v !== undefined && /^-?\d+$/.test(v) ? v : undefined;
}

/** The pod runs the DaemonSet's current template: its hash label (or the old template generation label) matches (IsPodUpdated). */
export function isPodUpdated(pod: Pod, hash: string, generation: string | undefined): boolean {
  const labels = pod.metadata?.labels ?? {};
  return (!!hash && labels[POD_REVISION_LABEL] === hash) || (generation !== undefined && labels[TEMPLATE_GENERATION_KEY] === generation);
}

const isRolling = (ds: DaemonSet) => (ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';

/** maxSurge of `n` nodes, rounded up; 0 unless RollingUpdate (SurgeCount). */
export function surgeCount(ds: DaemonSet, n: number): number {
  const ru = ds.spec?.updateStrategy?.rollingUpdate;
  if (!isRolling(ds) || !ru || ru.maxSurge === undefined || ru.maxSurge === null) return 0;
  return scaledValue(ru.maxSurge as number | string, n, true);
}

/** maxUnavailable of `n` nodes, rounded up; 0 unless RollingUpdate (UnavailableCount). */
export function unavailableCount(ds: DaemonSet, n: number): number {
  const ru = ds.spec?.updateStrategy?.rollingUpdate;
  if (!isRolling(ds) || !ru) return 0;
  return scaledValue(ru.maxUnavailable as number | string | undefined, n, true);
}

/** More than one pod per node may run during an update (AllowsSurge). */
export function allowsSurge(ds: DaemonSet): boolean {
  try { return surgeCount(ds, 1) > 0; } catch { return false; }
}

/** Scheduled pods first, then older first, then by name (podByCreationTimestampAndPhase). */
export function byCreationAndPhase(a: Pod, b: Pod): number {
  const sa = !!a.spec?.nodeName; const sb = !!b.spec?.nodeName;
  if (sa !== sb) return sa ? -1 : 1;
  const ta = Date.parse(a.metadata?.creationTimestamp ?? '') || 0;
  const tb = Date.parse(b.metadata?.creationTimestamp ?? '') || 0;
  if (ta === tb) return (a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1;
  return ta - tb;
}
