import {
  ApiError, EventRecorder, eventTarget, NODES, PODS, realClock, rfc3339, SharedInformerFactory, silentLogger,
  type ApiClient, type Clock, type InformerFactory, type Logger, type Node, type Pod, type SharedInformer,
} from '@k8ts/api';
import { SchedulerCache } from './cache.js';
import { addPod as addPodToInfo, newNodeInfo, removePod as removePodFromInfo } from './plugins/nodeinfo.js';
import { SchedulingQueue, type QueuedPod } from './queue.js';
import type { Profile } from './plugins/registry.js';
import { MAX_NODE_SCORE, unresolvable, type CycleState, type NodeInfo, type Status } from './types.js';

export interface SchedulerOptions {
  client: ApiClient;
  /** Where the pod and node informers come from (main.ts's shared factory); the scheduler makes and runs its own if omitted. */
  informers?: InformerFactory;
  profile: Profile;
  /** Pods whose spec.schedulerName is one of these are ours (default-scheduler by default). */
  schedulerNames?: string[];
  log?: Logger;
  clock?: Clock;
  random?: () => number;
  /** Upstream's percentageOfNodesToScore; 0 = adaptive (50% − nodes/125, at least 5%), as upstream's default. */
  percentageOfNodesToScore?: number;
}

/** The decision for one pod: a node, or why no node fits (per-node reasons for the FailedScheduling message). */
export type ScheduleResult =
  | { node: string; evaluated: number; feasible: number }
  | { node?: undefined; reasons: Map<string, Status>; numNodes: number };

const MIN_FEASIBLE_NODES_TO_FIND = 100;
const MAX_CONCURRENT_BINDS = 64;
const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5;

/**
 * kube-scheduler, small: informers on pods and nodes feed a scheduling queue and a node-info cache; one pod at a
 * time is filtered and scored against a snapshot, assumed onto the chosen node (so the next decision sees it),
 * and bound through pods/{name}/binding in the background. Failures record FailedScheduling and go back to the
 * queue; higher-priority pods may preempt lower ones.
 */
export class Scheduler {
  readonly queue: SchedulingQueue;
  readonly cache: SchedulerCache;
  private readonly informers: InformerFactory;
  private readonly pods: SharedInformer<Pod>;
  private readonly nodes: SharedInformer<Node>;
  private readonly events: EventRecorder;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly names: Set<string>;
  private nextStartNodeIndex = 0;
  private readonly binding = new Set<Promise<void>>();
  /** Counts for tests and benchmarks. */
  readonly stats = { attempts: 0, scheduled: 0, failed: 0, bindErrors: 0, preemptions: 0 };

  constructor(private readonly opts: SchedulerOptions) {
    this.log = opts.log ?? silentLogger;
    this.clock = opts.clock ?? realClock;
    this.random = opts.random ?? Math.random;
    this.names = new Set(opts.schedulerNames ?? ['default-scheduler']);
    this.queue = new SchedulingQueue({ clock: this.clock, log: this.log });
    this.cache = new SchedulerCache({ clock: this.clock, log: this.log });
    this.informers = opts.informers ?? new SharedInformerFactory({ client: opts.client, log: this.log });
    this.pods = this.informers.informerFor<Pod>(PODS);
    this.nodes = this.informers.informerFor<Node>(NODES);
    this.events = new EventRecorder({ client: opts.client, component: 'default-scheduler', log: this.log, now: () => this.clock.now() });
    this.addEventHandlers();
  }

  private responsible(pod: Pod): boolean {
    return !pod.spec?.nodeName && this.names.has(pod.spec?.schedulerName ?? 'default-scheduler') &&
      !pod.metadata?.deletionTimestamp && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';
  }

  /** Feeds the cache and the queue from the informers (upstream's addAllEventHandlers, at construction). */
  private addEventHandlers(): void {
    this.nodes.addHandler({
      onAdd: (n) => { this.cache.addNode(n); this.queue.moveAllToActiveOrBackoff('NodeAdd'); },
      onUpdate: (o, n) => {
        this.cache.updateNode(o, n);
        // Heartbeats change only timestamps; retry unschedulable pods only when something a filter reads changed.
        if (schedulingRelevantChange(o, n)) this.queue.moveAllToActiveOrBackoff('NodeUpdate');
      },
      onDelete: (n) => this.cache.removeNode(n),
    });
    this.pods.addHandler({
      onAdd: (p) => this.onPod(undefined, p),
      onUpdate: (o, p) => this.onPod(o, p),
      onDelete: (p) => {
        if (p.spec?.nodeName) { this.cache.removePod(p); this.queue.moveAllToActiveOrBackoff('AssignedPodDelete'); } else this.queue.delete(p);
      },
    });
  }

  /** Runs until the signal aborts: informers (unless already started by their factory's owner), then the scheduling loop. */
  async run(signal: AbortSignal): Promise<void> {
    this.informers.start(signal);
    await Promise.all([this.nodes.waitForSync(signal), this.pods.waitForSync(signal)]).catch(() => undefined);
    const expiry = setInterval(() => this.cache.cleanupExpired(), 1_000);
    expiry.unref();
    signal.addEventListener('abort', () => this.queue.close(), { once: true });
    try {
      while (!signal.aborted) {
        const qp = await this.queue.pop(signal);
        if (!qp) break;
        await this.scheduleOne(qp);
      }
    } finally {
      clearInterval(expiry);
      await Promise.allSettled([...this.binding]);
      // A factory of our own stops with us; a shared one is main.ts's to wait for.
      if (!this.opts.informers) await this.informers.shutdown();
    }
  }

  private onPod(old: Pod | undefined, pod: Pod): void {
    if (pod.spec?.nodeName) {
      if (old && !old.spec?.nodeName) this.queue.delete(old);
      if (old?.spec?.nodeName) this.cache.updatePod(old, pod); else this.cache.addPod(pod);
      return;
    }
    if (!this.responsible(pod)) { if (old) this.queue.delete(old); return; }
    if (old) this.queue.update(old, pod); else this.queue.add(pod);
  }

  /** One scheduling cycle for one pod. */
  async scheduleOne(qp: QueuedPod): Promise<void> {
    const current = this.pods.get(`${qp.pod.metadata!.namespace}/${qp.pod.metadata!.name}`);
    if (!current || current.metadata?.uid !== qp.pod.metadata?.uid || !this.responsible(current)) return;
    const pod = current;
    this.stats.attempts++;
    const result = this.schedulePod(pod, this.cache.snapshot());
    if (result.node === undefined) {
      this.stats.failed++;
      let message = fitErrorMessage(result.numNodes, result.reasons);
      const preempted = await this.preempt(pod, result.reasons).catch((err: unknown) => {
        this.log.warn({ err, pod: podKey(pod) }, 'preemption failed');
        return undefined;
      });
      if (preempted) message += ` preemption: nominated node ${preempted}.`;
      else if (result.numNodes > 0 && (pod.spec?.priority ?? 0) > 0 && pod.spec?.preemptionPolicy !== 'Never') {
        message += ` preemption: 0/${result.numNodes} nodes are available: ${result.numNodes} No preemption victims found for incoming pod.`;
      }
      this.queue.addUnschedulable(qp, { backoff: false });
      await this.reportUnschedulable(pod, message);
      return;
    }
    const node = result.node;
    try {
      this.cache.assume(pod, node);
    } catch (err) {
      this.log.warn({ err, pod: podKey(pod) }, 'cannot assume pod; retrying');
      this.queue.addBackoff(qp);
      return;
    }
    const bind = this.bind(qp, pod, node).finally(() => this.binding.delete(bind));
    this.binding.add(bind);
    // Bindings run in the background, but not without bound: a burst of thousands would only meet the
    // apiserver's in-flight limit (429) and come back as retries.
    while (this.binding.size >= MAX_CONCURRENT_BINDS) await Promise.race(this.binding);
  }

  /** Filters and scores every node (or enough of them) for one pod. Pure: reads the snapshot only. */
  schedulePod(pod: Pod, candidates: readonly NodeInfo[]): ScheduleResult {
    let nodes = candidates;
    const { profile } = this.opts;
    const reasons = new Map<string, Status>();
    if (nodes.length === 0) return { reasons, numNodes: 0 };
    const state: CycleState = { allNodes: nodes, data: new Map() };
    let only: Set<string> | undefined;
    const narrowedBy: string[] = [];
    for (const p of profile.preFilters) {
      const s = p.preFilter(pod, state);
      if (s.code !== 'Success') {
        for (const n of nodes) reasons.set(n.node.metadata!.name!, s);
        return { reasons, numNodes: nodes.length };
      }
      if (s.nodeNames) {
        only = only ? new Set([...only].filter((n) => s.nodeNames!.has(n))) : new Set(s.nodeNames);
        narrowedBy.push(p.name);
      }
    }
    const allNodes = nodes;
    if (only) {
      // A pre-filter named the only nodes that can fit (a DaemonSet pod's node): filter just those (PreFilterResult).
      const absent = unresolvable(`node(s) didn't satisfy plugin(s) [${narrowedBy.join(' ')}]`);
      for (const n of allNodes) if (!only.has(n.node.metadata!.name!)) reasons.set(n.node.metadata!.name!, absent);
      nodes = allNodes.filter((n) => only!.has(n.node.metadata!.name!));
      if (nodes.length === 0) return { reasons, numNodes: allNodes.length };
    }
    const toFind = this.numFeasibleNodesToFind(nodes.length);
    const feasible: NodeInfo[] = [];
    let evaluated = 0;
    const start = only ? 0 : this.nextStartNodeIndex % nodes.length;
    for (let i = 0; i < nodes.length && feasible.length < toFind; i++) {
      const info = nodes[(start + i) % nodes.length];
      evaluated++;
      let failed: Status | undefined;
      for (const f of profile.filters) {
        const s = f.filter(pod, info, state);
        if (s.code !== 'Success') { failed = s; break; }
      }
      if (failed) reasons.set(info.node.metadata!.name!, failed);
      else feasible.push(info);
    }
    if (!only) this.nextStartNodeIndex = (start + evaluated) % nodes.length;
    if (feasible.length === 0) return { reasons, numNodes: allNodes.length };
    if (feasible.length === 1) return { node: feasible[0].node.metadata!.name!, evaluated, feasible: 1 };
    const totals = new Map<string, number>(feasible.map((n) => [n.node.metadata!.name!, 0]));
    for (const { plugin, weight } of profile.scores) {
      const scores = new Map<string, number>();
      for (const info of feasible) scores.set(info.node.metadata!.name!, plugin.score(pod, info, state));
      plugin.normalize?.(pod, scores, state);
      for (const [name, s] of scores) totals.set(name, totals.get(name)! + Math.max(0, Math.min(MAX_NODE_SCORE, s)) * weight);
    }
    // Highest total wins; ties are broken at random (reservoir sampling, as upstream's selectHost).
    let best = -Infinity;
    let chosen = '';
    let ties = 0;
    for (const [name, total] of totals) {
      if (total > best) { best = total; chosen = name; ties = 1; } else if (total === best && this.random() * ++ties < 1) chosen = name;
    }
    return { node: chosen, evaluated, feasible: feasible.length };
  }

  private numFeasibleNodesToFind(numNodes: number): number {
    if (numNodes < MIN_FEASIBLE_NODES_TO_FIND) return numNodes;
    let pct = this.opts.percentageOfNodesToScore ?? 0;
    if (pct <= 0) pct = Math.max(MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND, 50 - Math.floor(numNodes / 125));
    if (pct >= 100) return numNodes;
    return Math.max(MIN_FEASIBLE_NODES_TO_FIND, Math.floor((numNodes * pct) / 100));
  }

  private async bind(qp: QueuedPod, pod: Pod, node: string): Promise<void> {
    const { namespace, name } = pod.metadata!;
    try {
      await this.opts.client.request('POST', `/api/v1/namespaces/${encodeURIComponent(namespace!)}/pods/${encodeURIComponent(name!)}/binding`, {
        body: { apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace, uid: pod.metadata!.uid }, target: { apiVersion: 'v1', kind: 'Node', name: node } },
      });
      this.cache.finishBinding(pod);
      this.queue.done(pod);
      this.stats.scheduled++;
      this.log.debug({ pod: `${namespace}/${name}`, node }, 'bound pod');
      void this.events.record(eventTarget({ ...pod, kind: 'Pod', apiVersion: 'v1' }), 'Normal', 'Scheduled', `Successfully assigned ${namespace}/${name} to ${node}`);
    } catch (err) {
      this.cache.forget(pod);
      this.stats.bindErrors++;
      if (err instanceof ApiError && (err.isNotFound || (err.isConflict && /already assigned|being deleted/.test(err.message)))) return;
      this.log.warn({ err, pod: `${namespace}/${name}`, node }, 'binding failed; retrying');
      this.queue.addBackoff(qp);
    }
  }

  private async reportUnschedulable(pod: Pod, message: string): Promise<void> {
    void this.events.record(eventTarget({ ...pod, kind: 'Pod', apiVersion: 'v1' }), 'Warning', 'FailedScheduling', message);
    const prev = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (prev?.status === 'False' && prev.message === message) return;
    try {
      await this.opts.client.patch(PODS, pod.metadata!.namespace, pod.metadata!.name!, {
        status: { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null, lastTransitionTime: rfc3339(this.clock.now()) }] },
      }, 'strategic', { subresource: 'status' });
    } catch (err) {
      if (!(err instanceof ApiError && err.isNotFound)) this.log.warn({ err, pod: podKey(pod) }, 'cannot record PodScheduled=False');
    }
  }

  /**
   * Upstream's DefaultPreemption, simplified: on nodes that failed only for resolvable reasons, removing every
   * lower-priority pod must make the pod fit; then pods are reprieved highest priority first while it still fits.
   * The node whose victims have the lowest top priority (then fewest victims) wins; its victims are deleted
   * gracefully and the pod's status.nominatedNodeName set. Returns the node, or undefined when nothing helps.
   */
  private async preempt(pod: Pod, reasons: Map<string, Status>): Promise<string | undefined> {
    const priority = pod.spec?.priority ?? 0;
    if (pod.spec?.preemptionPolicy === 'Never') return undefined;
    const state: CycleState = { allNodes: this.cache.snapshot(), data: new Map() };
    let best: { node: string; victims: Pod[]; top: number } | undefined;
    for (const info of state.allNodes) {
      const name = info.node.metadata!.name!;
      if (reasons.get(name)?.code !== 'Unschedulable') continue;
      const lower = info.pods.filter((p) => (p.spec?.priority ?? 0) < priority && !p.metadata?.deletionTimestamp);
      if (!lower.length) continue;
      const trial = newNodeInfo(info.node, info.pods.filter((p) => !lower.includes(p)));
      if (!this.fits(pod, trial, state)) continue;
      const victims: Pod[] = [];
      for (const p of [...lower].sort((a, b) => (b.spec?.priority ?? 0) - (a.spec?.priority ?? 0))) {
        addPodToInfo(trial, p);
        if (!this.fits(pod, trial, state)) { removePodFromInfo(trial, p); victims.push(p); }
      }
      const top = Math.max(...victims.map((v) => v.spec?.priority ?? 0));
      if (!best || top < best.top || (top === best.top && victims.length < best.victims.length)) best = { node: name, victims, top };
    }
    if (!best) return undefined;
    this.stats.preemptions++;
    await this.opts.client.patch(PODS, pod.metadata!.namespace, pod.metadata!.name!, { status: { nominatedNodeName: best.node } }, 'merge', { subresource: 'status' });
    for (const v of best.victims) {
      void this.events.record(eventTarget({ ...v, kind: 'Pod', apiVersion: 'v1' }), 'Normal', 'Preempted', `Preempted by pod ${pod.metadata!.uid} on node ${best.node}`);
      await this.opts.client.delete(PODS, v.metadata!.namespace, v.metadata!.name!, { preconditions: { uid: v.metadata!.uid } }).catch((err: unknown) => {
        if (!(err instanceof ApiError && (err.isNotFound || err.isConflict))) throw err;
      });
    }
    this.log.info({ pod: podKey(pod), node: best.node, victims: best.victims.map(podKey) }, 'preempted lower-priority pods');
    return best.node;
  }

  private fits(pod: Pod, info: NodeInfo, state: CycleState): boolean {
    return this.opts.profile.filters.every((f) => f.filter(pod, info, state).code === 'Success');
  }
}

/** Whether a node update can make a pod schedulable (upstream's node update event filtering). */
function schedulingRelevantChange(old: Node, node: Node): boolean {
  const ready = (n: Node) => n.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  return JSON.stringify(old.status?.allocatable) !== JSON.stringify(node.status?.allocatable) ||
    JSON.stringify(old.metadata?.labels) !== JSON.stringify(node.metadata?.labels) ||
    JSON.stringify(old.spec?.taints) !== JSON.stringify(node.spec?.taints) ||
    Boolean(old.spec?.unschedulable) !== Boolean(node.spec?.unschedulable) || ready(old) !== ready(node);
}

function podKey(p: Pod): string {
  return `${p.metadata?.namespace}/${p.metadata?.name}`;
}

/** Upstream's FitError message: `0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu.` */
export function fitErrorMessage(numNodes: number, reasons: Map<string, Status>): string {
  const counts = new Map<string, number>();
  for (const s of reasons.values()) for (const r of s.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  const parts = [...counts].map(([r, n]) => `${n} ${r}`).sort();
  return `0/${numNodes} nodes are available${parts.length ? `: ${parts.join(', ')}` : ''}.`;
}
