import { realClock, silentLogger, type Clock, type Logger, type Node, type Pod } from '@k8ts/api';
import { addPod, newNodeInfo, removePod } from './plugins/nodeinfo.js';
import type { NodeInfo } from './types.js';

/** Dependencies and tuning of a SchedulerCache. */
export interface SchedulerCacheOptions {
  clock?: Clock;
  log?: Logger;
  /** How long an assumed pod whose binding finished may wait for the informer to confirm it (default 30 s). */
  ttlMs?: number;
}

/** One counted pod: bound (seen by the informer) or assumed (our decision, not yet confirmed). */
interface PodState {
  /** Carries the node in spec.nodeName; for an assumed pod, a copy of the pending pod with it set. */
  pod: Pod;
  assumed: boolean;
  /** Set by finishBinding: when an unconfirmed assumed pod expires. */
  deadline?: number;
}

/**
 * The scheduler's view of the cluster (upstream's internal cache): a NodeInfo per node with the pods bound or
 * assumed onto it, maintained incrementally from informer events and the scheduler's own decisions. Finished pods
 * (Succeeded, Failed) do not count; terminating ones do, until deleted. Pods may arrive before their node or
 * outlive it (until their delete event); they are counted once the node is (re-)added.
 */
export class SchedulerCache {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly ttlMs: number;
  private readonly nodes = new Map<string, NodeInfo>();
  private readonly pods = new Map<string, PodState>();
  /** Counted pods by node name and uid, including nodes the cache does not have (yet, or any more). */
  private readonly podsByNode = new Map<string, Map<string, Pod>>();

  constructor(opts: SchedulerCacheOptions = {}) {
    this.clock = opts.clock ?? realClock;
    this.log = opts.log ?? silentLogger;
    this.ttlMs = opts.ttlMs ?? 30_000;
  }

  /** Adds (or replaces) the node's NodeInfo, counting the pods already known to be on it. */
  addNode(node: Node): void {
    const name = node.metadata?.name ?? '';
    this.nodes.set(name, newNodeInfo(node, [...(this.podsByNode.get(name)?.values() ?? [])]));
  }

  /** Rebuilds the node's NodeInfo (allocatable may have changed); earlier snapshots keep the old one. */
  updateNode(_old: Node, node: Node): void {
    this.addNode(node);
  }

  /** Drops the node; its pods stay known, so they are counted again if it comes back before they are deleted. */
  removeNode(node: Node): void {
    this.nodes.delete(node.metadata?.name ?? '');
  }

  /** A pod with spec.nodeName seen by the informer: counted, confirming (and if need be moving) an assumed one. */
  addPod(pod: Pod): void {
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) return;
    if (isTerminated(pod)) return this.removePod(pod);
    const uid = podUid(pod);
    const prev = this.pods.get(uid);
    if (prev) {
      if (prev.assumed && prev.pod.spec?.nodeName !== nodeName) {
        this.log.warn({ pod: podKey(pod), assumed: prev.pod.spec?.nodeName, node: nodeName }, 'assumed pod was bound to another node');
      }
      this.unplace(prev.pod);
    }
    this.pods.set(uid, { pod, assumed: false });
    this.place(pod);
  }

  /** As addPod; a pod that finished stops counting. */
  updatePod(_old: Pod, pod: Pod): void {
    this.addPod(pod);
  }

  /** Stops counting the pod, bound or assumed. */
  removePod(pod: Pod): void {
    const uid = podUid(pod);
    const state = this.pods.get(uid);
    if (!state) return;
    this.unplace(state.pod);
    this.pods.delete(uid);
  }

  /**
   * Counts `pod` on `nodeName` at once, so the next decisions see it, until the informer confirms it, `forget`
   * drops it, or it expires `ttlMs` after `finishBinding`. Returns the assumed copy. Throws if the pod is already
   * counted (bound or assumed).
   */
  assume(pod: Pod, nodeName: string): Pod {
    const uid = podUid(pod);
    if (this.pods.has(uid)) throw new Error(`pod ${podKey(pod)} is already in the scheduler cache`);
    const assumed: Pod = { ...pod, spec: { containers: [], ...pod.spec, nodeName } };
    this.pods.set(uid, { pod: assumed, assumed: true });
    this.place(assumed);
    return assumed;
  }

  /** The binding request went through: the assumed pod now expires if the informer does not confirm it within ttl. */
  finishBinding(pod: Pod): void {
    const state = this.pods.get(podUid(pod));
    if (state?.assumed) state.deadline = this.clock.now() + this.ttlMs;
  }

  /** The binding failed: drops the assumed pod. A pod the informer has confirmed is left alone. */
  forget(pod: Pod): void {
    if (this.pods.get(podUid(pod))?.assumed) this.removePod(pod);
  }

  /** Drops assumed pods past their deadline (binding finished, no confirmation). Call periodically. */
  cleanupExpired(): void {
    const now = this.clock.now();
    for (const [uid, state] of this.pods) {
      if (!state.assumed || state.deadline === undefined || state.deadline > now) continue;
      this.log.warn({ pod: podKey(state.pod), node: state.pod.spec?.nodeName }, 'assumed pod expired');
      this.unplace(state.pod);
      this.pods.delete(uid);
    }
  }

  /**
   * Every node with its pods, for one scheduling cycle. The NodeInfos are the cache's own, live objects (no copy,
   * so this is cheap at any size): plugins must not mutate them, and a cycle must not hold them across an await.
   */
  snapshot(): NodeInfo[] {
    return [...this.nodes.values()];
  }

  /** The live NodeInfo of one node (read-only, as snapshot). */
  nodeInfo(name: string): NodeInfo | undefined {
    return this.nodes.get(name);
  }

  private place(pod: Pod): void {
    const name = pod.spec?.nodeName ?? '';
    let onNode = this.podsByNode.get(name);
    if (!onNode) this.podsByNode.set(name, (onNode = new Map()));
    onNode.set(podUid(pod), pod);
    const info = this.nodes.get(name);
    if (info) addPod(info, pod);
  }

  private unplace(pod: Pod): void {
    const name = pod.spec?.nodeName ?? '';
    const onNode = this.podsByNode.get(name);
    onNode?.delete(podUid(pod));
    if (onNode?.size === 0) this.podsByNode.delete(name);
    const info = this.nodes.get(name);
    if (info) removePod(info, pod);
  }
}

function podUid(pod: Pod): string {
  return pod.metadata?.uid ?? podKey(pod);
}

function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace}/${pod.metadata?.name}`;
}

function isTerminated(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}
