import {
  ApiError, NODES, PODS, realClock, rfc3339, silentLogger, sleep,
  type ApiClient, type Clock, type InformerFactory, type Logger, type Node, type Pod, type SharedInformer,
} from '@k8ts/api';

/** upstream's gcCheckPeriod: how often the pods are looked over. */
export const GC_CHECK_PERIOD_MS = 20_000;
/** upstream's quarantineTime: how long a pod's missing node must stay missing before its pods go. */
export const QUARANTINE_MS = 40_000;
/** upstream's --terminated-pod-gc-threshold default. */
export const DEFAULT_TERMINATED_POD_GC_THRESHOLD = 12500;

export interface PodGCControllerDeps {
  client: ApiClient;
  informers: InformerFactory;
  log?: Logger;
  clock?: Clock;
  /** Terminated pods kept before the oldest are deleted; 0 disables that part (`--terminated-pod-gc-threshold`). */
  terminatedPodThreshold?: number;
  gcCheckPeriodMs?: number;
  quarantineMs?: number;
}

const isTerminated = (p: Pod) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

/**
 * Deletes pods no one else will (upstream's PodGCController), every gcCheckPeriod: terminated pods above the
 * threshold (oldest first), pods bound to nodes that are gone (after a quarantine and a live GET of the node),
 * terminating pods that were never scheduled, and terminating pods on out-of-service nodes. Pods not yet
 * terminal are marked Failed (with a DisruptionTarget condition for a gone node) before the force delete.
 * Periodic rather than keyed, as upstream: each pass re-reads the listers and is idempotent.
 */
export class PodGCController {
  private readonly pods: SharedInformer<Pod>;
  private readonly nodes: SharedInformer<Node>;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly threshold: number;
  /** Missing node name → when it was first seen missing (upstream's nodeQueue with quarantine). */
  private readonly missingSince = new Map<string, number>();

  constructor(private readonly deps: PodGCControllerDeps) {
    this.clock = deps.clock ?? realClock;
    this.log = (deps.log ?? silentLogger).child({ controller: 'podgc' });
    this.threshold = deps.terminatedPodThreshold ?? DEFAULT_TERMINATED_POD_GC_THRESHOLD;
    this.pods = deps.informers.informerFor<Pod>(PODS);
    this.nodes = deps.informers.informerFor<Node>(NODES);
  }

  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([this.pods.waitForSync(signal), this.nodes.waitForSync(signal)]).catch(() => undefined);
    while (!signal.aborted) {
      await this.gc().catch((err: unknown) => this.log.warn({ err }, 'pod garbage collection failed; trying again next period'));
      await sleep(this.clock, this.deps.gcCheckPeriodMs ?? GC_CHECK_PERIOD_MS, signal);
    }
  }

  /** One pass over every pod. */
  async gc(): Promise<void> {
    const pods = this.pods.list();
    const nodes = new Map(this.nodes.list().map((n) => [n.metadata!.name!, n]));
    if (this.threshold > 0) await this.gcTerminated(pods);
    await this.gcTerminating(pods, nodes);
    await this.gcOrphaned(pods, nodes);
    await this.gcUnscheduledTerminating(pods);
  }

  /** Terminated pods over the threshold, oldest first. */
  private async gcTerminated(pods: Pod[]): Promise<void> {
    const terminated = pods.filter((p) => isTerminated(p) && !p.metadata?.deletionTimestamp);
    const excess = terminated.length - this.threshold;
    if (excess <= 0) return;
    // As upstream's byEvictionAndCreationTimestamp: evicted pods first, then by creation time (name breaks ties).
    const evicted = (p: Pod) => (p.status?.reason === 'Evicted' ? 0 : 1);
    terminated.sort((a, b) => evicted(a) - evicted(b) || Date.parse(a.metadata!.creationTimestamp ?? '') - Date.parse(b.metadata!.creationTimestamp ?? '')
      || (a.metadata!.name! < b.metadata!.name! ? -1 : 1));
    this.log.info({ count: excess, threshold: this.threshold }, 'garbage collecting terminated pods');
    await this.all(terminated.slice(0, excess).map((p) => () => this.markFailedAndDelete(p)));
  }

  /** Terminating pods on a node that is not ready and tainted out-of-service (upstream's gcTerminating). */
  private async gcTerminating(pods: Pod[], nodes: Map<string, Node>): Promise<void> {
    const outOfService = (n: Node | undefined) => !!n && !n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
      && !!n.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/out-of-service' && t.effect === 'NoExecute');
    const victims = pods.filter((p) => p.metadata?.deletionTimestamp && !isTerminated(p) && p.spec?.nodeName && outOfService(nodes.get(p.spec.nodeName)));
    await this.all(victims.map((p) => () => this.markFailedAndDelete(p)));
  }

  /** Pods bound to nodes that no longer exist: after the quarantine, and only if a live GET agrees. */
  private async gcOrphaned(pods: Pod[], nodes: Map<string, Node>): Promise<void> {
    const now = this.clock.now();
    const missing = new Set(pods.map((p) => p.spec?.nodeName).filter((n): n is string => !!n && !nodes.has(n)));
    for (const name of [...this.missingSince.keys()]) if (!missing.has(name)) this.missingSince.delete(name);
    const deleted = new Set<string>();
    for (const name of missing) {
      const since = this.missingSince.get(name);
      if (since === undefined) { this.missingSince.set(name, now); continue; }
      if (now - since < (this.deps.quarantineMs ?? QUARANTINE_MS)) continue;
      if (await this.nodeExists(name)) { this.missingSince.delete(name); continue; }
      deleted.add(name);
    }
    if (deleted.size === 0) return;
    const victims = pods.filter((p) => deleted.has(p.spec?.nodeName ?? ''));
    this.log.info({ nodes: [...deleted], pods: victims.length }, 'garbage collecting pods of deleted nodes');
    await this.all(victims.map((p) => () => this.markFailedAndDelete(p, { reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists' })));
    for (const name of deleted) this.missingSince.delete(name);
  }

  /** Terminating pods that were never scheduled: no kubelet will ever finish them. */
  private async gcUnscheduledTerminating(pods: Pod[]): Promise<void> {
    const victims = pods.filter((p) => p.metadata?.deletionTimestamp && !p.spec?.nodeName);
    await this.all(victims.map((p) => () => this.markFailedAndDelete(p)));
  }

  private async nodeExists(name: string): Promise<boolean> {
    try {
      await this.deps.client.get<Node>(NODES, undefined, name);
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.isNotFound) return false;
      throw e;
    }
  }

  /** Marks a pod Failed unless it already is terminal, then deletes it with grace 0 (upstream's markFailedAndDeletePodWithCondition). */
  private async markFailedAndDelete(pod: Pod, condition?: { reason: string; message: string }): Promise<void> {
    const ns = pod.metadata!.namespace!;
    const name = pod.metadata!.name!;
    try {
      if (!isTerminated(pod)) {
        const conditions = condition ? [{ type: 'DisruptionTarget', status: 'True', lastTransitionTime: rfc3339(this.clock.now()), ...condition }] : undefined;
        await this.deps.client.patch(PODS, ns, name, { status: { phase: 'Failed', ...(conditions ? { conditions } : {}) } }, 'strategic', { subresource: 'status' });
      }
      this.log.info({ pod: `${ns}/${name}` }, 'force deleting pod');
      await this.deps.client.delete(PODS, ns, name, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata!.uid } });
    } catch (e) {
      if (e instanceof ApiError && e.isNotFound) return;
      throw e;
    }
  }

  /** Runs the deletions a few at a time and throws the first failure after all have run. */
  private async all(tasks: (() => Promise<void>)[]): Promise<void> {
    let failure: unknown;
    for (let i = 0; i < tasks.length; i += 50) {
      const results = await Promise.allSettled(tasks.slice(i, i + 50).map((t) => t()));
      failure ??= results.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason;
    }
    if (failure) throw failure;
  }
}
