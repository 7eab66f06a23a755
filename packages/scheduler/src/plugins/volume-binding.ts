import {
  ANN_BIND_COMPLETED, ANN_BOUND_BY_CONTROLLER, ANN_SELECTED_NODE, claimClass, findMatchingVolume, isDelayBindingMode,
  isVolumeBoundToClaim, NO_PROVISIONER, PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES, realClock, sleep, STORAGECLASSES,
  type ApiClient, type Clock, type InformerFactory, type Node, type PersistentVolume, type PersistentVolumeClaim, type Pod,
  type SharedInformer, type StorageClass,
} from '@k8ts/api';
import { SUCCESS, unresolvable, type CycleState, type FilterPlugin, type NodeInfo, type PreFilterPlugin, type Status } from '../types.js';
import { nodeMatchesTerm } from './node-affinity.js';

export const VOLUME_BINDING = 'VolumeBinding';
/** Upstream's reasons (pkg/scheduler/framework/plugins/volumebinding). */
export const ERR_REASON_BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind";
export const ERR_REASON_NODE_CONFLICT = 'node(s) had volume node affinity conflict';
export const ERR_REASON_PV_NOT_EXIST = 'node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)';
export const ERR_UNBOUND_IMMEDIATE = 'pod has unbound immediate PersistentVolumeClaims';
/** Upstream's default bindTimeoutSeconds: how long PreBind waits for the claims to be bound. */
export const DEFAULT_BIND_TIMEOUT_MS = 600_000;
const POLL_MS = 100;

/** What the plugin needs from the scheduler (upstream's framework.Handle): the client, informers, the queue's retry. */
/** What the scheduler hands a plugin that needs its client and informers at init (upstream's framework.Handle). */
export interface FrameworkHandle {
  client: ApiClient;
  informers: InformerFactory;
  clock?: Clock;
  /** Moves unschedulable pods back to be tried (a claim or volume changed). */
  moveAll(reason: string): void;
}

/** The claims a pod's volumes name (`persistentVolumeClaim.claimName`). */
export function podClaimNames(pod: Pod): string[] {
  return (pod.spec?.volumes ?? []).flatMap((v) => (v.persistentVolumeClaim?.claimName ? [v.persistentVolumeClaim.claimName] : []));
}

/** Whether a volume's required node affinity admits the node (none admits every node). */
export function volumeFitsNode(pv: PersistentVolume, node: Node): boolean {
  const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms;
  if (!terms) return true;
  return terms.some((t) => nodeMatchesTerm(t, node));
}

/** Whether a class may provision on the node: its allowedTopologies (ANDed keys, ORed terms) admit it. */
export function classFitsNode(cls: StorageClass, node: Node): boolean {
  const terms = cls.allowedTopologies ?? [];
  if (!terms.length) return true;
  const labels = node.metadata?.labels ?? {};
  return terms.some((t) => (t.matchLabelExpressions ?? []).every((e) => e.values.includes(labels[e.key] ?? '\u0000')));
}

interface PodVolumes {
  /** Volumes of the pod's bound claims. */
  bound: PersistentVolume[];
  /** Bound claims whose volume does not exist. */
  missing: string[];
  /** Unbound WaitForFirstConsumer claims: bound at PreBind on the chosen node. */
  toBind: PersistentVolumeClaim[];
}

/**
 * The VolumeBinding plugin (upstream's volumebinding): a pod's claims must exist; unbound claims of Immediate
 * classes make it unschedulable until the binder binds them; bound volumes' node affinity filters nodes; an
 * unbound WaitForFirstConsumer claim needs, on the node, a matching Available volume that fits it or a class that
 * provisions there. At PreBind the claims get their volume: a static one pre-bound through its claimRef, or
 * `volume.kubernetes.io/selected-node` on the claim for the provisioner; the pod is bound only once every claim
 * is Bound (or fails after the bind timeout and is tried again).
 */
export class VolumeBinding implements PreFilterPlugin, FilterPlugin {
  readonly name = VOLUME_BINDING;
  private claims?: SharedInformer<PersistentVolumeClaim>;
  private volumes?: SharedInformer<PersistentVolume>;
  private classes?: SharedInformer<StorageClass>;
  private handle?: FrameworkHandle;

  constructor(private readonly bindTimeoutMs = DEFAULT_BIND_TIMEOUT_MS) {}

  /** Connects the plugin to the scheduler's informers; claim, volume and class changes retry unschedulable pods. */
  init(handle: FrameworkHandle): void {
    this.handle = handle;
    this.claims = handle.informers.informerFor<PersistentVolumeClaim>(PERSISTENTVOLUMECLAIMS);
    this.volumes = handle.informers.informerFor<PersistentVolume>(PERSISTENTVOLUMES);
    this.classes = handle.informers.informerFor<StorageClass>(STORAGECLASSES);
    for (const [informer, what] of [[this.claims, 'PvcChange'], [this.volumes, 'PvChange'], [this.classes, 'StorageClassAdd']] as const) {
      (informer as SharedInformer<PersistentVolume>).addHandler({ onAdd: () => handle.moveAll(what), onUpdate: () => handle.moveAll(what) });
    }
  }

  /** The informers the plugin reads, so the scheduler waits for them before its first cycle. */
  informers(): SharedInformer<PersistentVolume | PersistentVolumeClaim | StorageClass>[] {
    return [this.claims, this.volumes, this.classes].filter((i) => i !== undefined) as never;
  }

  private classOf = (name: string) => this.classes?.get(name);

  /** The pod's claims sorted into bound and to-bind, or the status that makes the pod unschedulable everywhere. */
  podVolumes(pod: Pod): PodVolumes | Status {
    const names = podClaimNames(pod);
    const out: PodVolumes = { bound: [], missing: [], toBind: [] };
    if (!names.length) return out;
    if (!this.claims || !this.volumes) return { code: 'Error', reasons: ['VolumeBinding plugin has no informers'] };
    const ns = pod.metadata?.namespace ?? 'default';
    for (const name of names) {
      const claim = this.claims.get(`${ns}/${name}`);
      if (!claim) return unresolvable(`persistentvolumeclaim "${name}" not found`);
      if (claim.metadata?.deletionTimestamp) return unresolvable(`persistentvolumeclaim "${name}" is being deleted`);
      const volumeName = claim.spec?.volumeName;
      if (volumeName && claim.metadata?.annotations?.[ANN_BIND_COMPLETED] !== undefined) {
        const pv = this.volumes.get(volumeName);
        if (pv) out.bound.push(pv); else out.missing.push(volumeName);
      } else if (isDelayBindingMode(claim, this.classOf)) {
        out.toBind.push(claim);
      } else {
        return unresolvable(ERR_UNBOUND_IMMEDIATE);
      }
    }
    return out;
  }

  preFilter(pod: Pod, state: CycleState): Status {
    const v = this.podVolumes(pod);
    if ('code' in v) return v;
    state.data.set(VOLUME_BINDING, v);
    return SUCCESS;
  }

  filter(pod: Pod, info: NodeInfo, state: CycleState): Status {
    let v = state.data.get(VOLUME_BINDING) as PodVolumes | Status | undefined;
    if (!v) v = this.podVolumes(pod);
    if ('code' in v) return v;
    if (v.missing.length) return unresolvable(ERR_REASON_PV_NOT_EXIST);
    for (const pv of v.bound) if (!volumeFitsNode(pv, info.node)) return unresolvable(ERR_REASON_NODE_CONFLICT);
    if (v.toBind.length && !this.bindingsFor(v.toBind, info.node)) return unresolvable(ERR_REASON_BIND_CONFLICT);
    return SUCCESS;
  }

  /** For each unbound claim: a static volume on the node, or null for provisioning; undefined when one cannot be met. */
  private bindingsFor(claims: readonly PersistentVolumeClaim[], node: Node): (PersistentVolume | null)[] | undefined {
    const chosen = new Set<string>();
    const out: (PersistentVolume | null)[] = [];
    for (const claim of claims) {
      const pv = findMatchingVolume(claim, this.volumes!.list(), { fits: (p) => volumeFitsNode(p, node), excluded: chosen });
      if (pv) { chosen.add(pv.metadata!.name!); out.push(pv); continue; }
      const cls = this.classOf(claimClass(claim));
      if (!cls || cls.provisioner === NO_PROVISIONER || !classFitsNode(cls, node)) return undefined;
      out.push(null);
    }
    return out;
  }

  /**
   * Binds the pod's unbound claims for the node (upstream's BindPodVolumes) and waits until each is Bound.
   * Throws when they cannot be bound there, or on timeout; the scheduler then retries the pod.
   */
  async preBind(pod: Pod, nodeInfo: NodeInfo): Promise<void> {
    const v = this.podVolumes(pod);
    if ('code' in v) throw new Error(v.reasons.join(', '));
    if (!v.toBind.length) return;
    const { client } = this.handle!;
    const clock = this.handle!.clock ?? realClock;
    const node = nodeInfo.node.metadata!.name!;
    const plan = this.bindingsFor(v.toBind, nodeInfo.node);
    if (!plan) throw new Error(ERR_REASON_BIND_CONFLICT);
    for (const [i, claim] of v.toBind.entries()) {
      const pv = plan[i];
      if (pv) {
        const ref = { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: claim.metadata!.namespace, name: claim.metadata!.name, uid: claim.metadata!.uid, resourceVersion: claim.metadata!.resourceVersion };
        await client.patch(PERSISTENTVOLUMES, undefined, pv.metadata!.name!, {
          metadata: { resourceVersion: pv.metadata!.resourceVersion, annotations: { [ANN_BOUND_BY_CONTROLLER]: 'yes' } }, spec: { claimRef: ref },
        }, 'merge');
      } else if (claim.metadata?.annotations?.[ANN_SELECTED_NODE] !== node) {
        await client.patch(PERSISTENTVOLUMECLAIMS, claim.metadata!.namespace, claim.metadata!.name!, {
          metadata: { resourceVersion: claim.metadata!.resourceVersion, annotations: { [ANN_SELECTED_NODE]: node } },
        }, 'merge');
      }
    }
    const deadline = clock.now() + this.bindTimeoutMs;
    for (;;) {
      if (v.toBind.every((c) => this.isBound(c))) return;
      if (clock.now() >= deadline) throw new Error('binding volumes: timed out waiting for the condition');
      await sleep(clock, POLL_MS);
    }
  }

  /** A claim is bound once the binder completed it and its volume's claimRef names it (upstream's checkBindings). */
  private isBound(claim: PersistentVolumeClaim): boolean {
    const now = this.claims!.get(`${claim.metadata!.namespace}/${claim.metadata!.name}`);
    if (!now || now.metadata?.uid !== claim.metadata?.uid) throw new Error(`persistentvolumeclaim "${claim.metadata!.name}" was deleted`);
    if (!now.spec?.volumeName || now.metadata?.annotations?.[ANN_BIND_COMPLETED] === undefined) return false;
    const pv = this.volumes!.get(now.spec.volumeName);
    return !!pv && isVolumeBoundToClaim(pv, now);
  }
}

/** A fresh VolumeBinding plugin (the registry's factory). */
export function volumeBinding(): VolumeBinding {
  return new VolumeBinding();
}
