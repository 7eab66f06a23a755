import {
  ApiError, EventRecorder, eventTarget, NODES, PODS, realClock, rfc3339, SharedInformerFactory, silentLogger,
  type ApiClient, type Clock, type InformerFactory, type KubeObject, type Logger, type Node, type Pod, type SharedInformer,
} from '@k8ts/api';
import { BackgroundWrites } from './background.js';
import { SchedulerCache } from './cache.js';
import { addPod as addPodToInfo, newNodeInfo, removePod as removePodFromInfo } from './plugins/nodeinfo.js';
import { SchedulingQueue, type QueuedPod } from './queue.js';
import type { Profile } from './plugins/registry.js';
import { SchedulingExplained, type ExplainedScores } from './explained.js';
import { MAX_NODE_SCORE, unresolvable, type CycleState, type NodeInfo, type Status } from './types.js';
import type { FrameworkHandle } from './plugins/volume-binding.js';

/** A plugin that needs the scheduler's client and informers (upstream's plugins get a framework.Handle). */
interface InitPlugin { init(handle: FrameworkHandle): void; informers(): SharedInformer<KubeObject>[] }

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
  /** How many pods' last verdicts /debug/scheduling keeps (least recently scheduled dropped first); 0 keeps none. */
  explainedPods?: number;
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
  /** Each recent pod's last cycle, node by node (served at /debug/scheduling/<namespace>/<pod>). */
  readonly explained: SchedulingExplained;
  private readonly informers: InformerFactory;
  private readonly pods: SharedInformer<Pod>;
  private readonly nodes: SharedInformer<Node>;
  private readonly events: EventRecorder;
  /** Events, off the scheduling path: one at a time as client-go's broadcaster sends them, dropped when 1,000 wait. */
  readonly background: BackgroundWrites;
  /** PodScheduled=False patches, off the scheduling path too, but never dropped behind Events. */
  private readonly statusWrites: BackgroundWrites;
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
    this.explained = new SchedulingExplained({ maxPods: opts.explainedPods ?? 256, clock: this.clock });
    this.informers = opts.informers ?? new SharedInformerFactory({ client: opts.client, log: this.log });
    this.pods = this.informers.informerFor<Pod>(PODS);
    this.nodes = this.informers.informerFor<Node>(NODES);
    this.background = new BackgroundWrites({ log: this.log, concurrency: 1, maxQueued: 1000 });
    this.statusWrites = new BackgroundWrites({ log: this.log, concurrency: 4, maxQueued: 100_000 });
    this.events = new EventRecorder({ client: opts.client, component: 'default-scheduler', log: this.log, now: () => this.clock.now() });
    this.addEventHandlers();
    // Plugins that read more than pods and nodes (VolumeBinding) get the informers and the queue's retry.
    const handle = { client: opts.client, informers: this.informers, clock: this.clock, moveAll: (why: string) => this.queue.moveAllToActiveOrBackoff(why) };
    for (const p of [...opts.profile.filters, ...(opts.profile.preBinds ?? [])]) (p as Partial<InitPlugin>).init?.(handle);
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
    const extra = this.opts.profile.filters.flatMap((p) => (p as Partial<InitPlugin>).informers?.() ?? []);
    await Promise.all([this.nodes.waitForSync(signal), this.pods.waitForSync(signal), ...extra.map((i) => i.waitForSync(signal))]).catch(() => undefined);
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
      // Events and status patches still queued get a moment to go out, not an unbounded one.
      await Promise.race([Promise.all([this.background.idle(), this.statusWrites.idle()]), new Promise((r) => setTimeout(r, 5_000).unref())]);
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
      this.reportUnschedulable(pod, message);
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

  /**
   * Filters and scores every node (or enough of them) for one pod. Reads the snapshot only; the verdicts it reached
   * (per node: the filter that rejected it, or each score plugin's normalized score) are kept for
   * /debug/scheduling as the arrays and maps the cycle built anyway, so keeping them costs no extra work.
   */
  schedulePod(pod: Pod, candidates: readonly NodeInfo[]): ScheduleResult {
    let nodes = candidates;
    const allNodes = candidates;
    const { profile } = this.opts;
    const reasons = new Map<string, Status>();
    if (nodes.length === 0) {
      this.explained.record(pod, { numNodes: 0, evaluated: 0, rejected: new Map(), feasible: [], scores: [] });
      return { reasons, numNodes: 0 };
    }
    const state: CycleState = { allNodes: nodes, data: new Map() };
    let skipped: Set<string> | undefined;
    let only: Set<string> | undefined;
    const narrowedBy: string[] = [];
    for (const p of profile.preFilters) {
      const s = p.preFilter(pod, state);
      if (s.code === 'Skip') { (skipped ??= new Set()).add(p.name); continue; }
      if (s.code !== 'Success') {
        for (const n of nodes) reasons.set(n.node.metadata!.name!, s);
        this.explained.record(pod, { numNodes: nodes.length, evaluated: 0, preFilter: { plugin: p.name, status: s }, rejected: new Map(), feasible: [], scores: [] });
        return { reasons, numNodes: nodes.length };
      }
      if (s.nodeNames) {
        only = only ? new Set([...only].filter((n) => s.nodeNames!.has(n))) : new Set(s.nodeNames);
        narrowedBy.push(p.name);
      }
    }
    const filters = skipped ? profile.filters.filter((f) => !skipped.has(f.name)) : profile.filters;
    const rejected = new Map<string, string>();
    if (only) {
      // A pre-filter named the only nodes that can fit (a DaemonSet pod's node): filter just those (PreFilterResult).
      const absent = unresolvable(`node(s) didn't satisfy plugin(s) [${narrowedBy.join(' ')}]`);
      for (const n of allNodes) {
        const name = n.node.metadata!.name!;
        if (!only.has(name)) { reasons.set(name, absent); rejected.set(name, narrowedBy[0]!); }
      }
      nodes = allNodes.filter((n) => only!.has(n.node.metadata!.name!));
      if (nodes.length === 0) {
        this.explained.record(pod, { numNodes: allNodes.length, evaluated: 0, rejected, reasons, feasible: [], scores: [] });
        return { reasons, numNodes: allNodes.length };
      }
    }
    const toFind = this.numFeasibleNodesToFind(nodes.length);
    const feasible: NodeInfo[] = [];
    let evaluated = 0;
    const start = only ? 0 : this.nextStartNodeIndex % nodes.length;
    for (let i = 0; i < nodes.length && feasible.length < toFind; i++) {
      const info = nodes[(start + i) % nodes.length];
      evaluated++;
      let failed: Status | undefined;
      for (const f of filters) {
        const s = f.filter(pod, info, state);
        if (s.code !== 'Success') {
          failed = s;
          rejected.set(info.node.metadata!.name!, f.name);
          break;
        }
      }
      if (failed) reasons.set(info.node.metadata!.name!, failed);
      else feasible.push(info);
    }
    if (!only) this.nextStartNodeIndex = (start + evaluated) % nodes.length;
    const scores: ExplainedScores[] = [];
    const verdict = { numNodes: allNodes.length, evaluated, rejected, reasons, feasible, scores };
    if (feasible.length === 0) {
      this.explained.record(pod, verdict);
      return { reasons, numNodes: allNodes.length };
    }
    if (feasible.length === 1) {
      const node = feasible[0].node.metadata!.name!;
      this.explained.record(pod, { ...verdict, node });
      return { node, evaluated, feasible: 1 };
    }
    // Scores per feasible node in arrays (index = position in `feasible`); a Map only for plugins that normalize.
    const names = feasible.map((n) => n.node.metadata!.name!);
    const totals = new Float64Array(feasible.length);
    for (const { plugin, weight } of profile.scores) {
      if (plugin.preScore?.(pod, feasible, state).code === 'Skip') {
        scores.push({ plugin: plugin.name, weight, skipped: true });
        continue;
      }
      const values = new Float64Array(feasible.length);
      for (let i = 0; i < feasible.length; i++) values[i] = plugin.score(pod, feasible[i], state);
      if (plugin.normalize) {
        const byName = new Map<string, number>();
        for (let i = 0; i < feasible.length; i++) byName.set(names[i], values[i]);
        plugin.normalize(pod, byName, state);
        for (let i = 0; i < feasible.length; i++) values[i] = byName.get(names[i])!;
      }
      for (let i = 0; i < feasible.length; i++) {
        const v = values[i] > MAX_NODE_SCORE ? MAX_NODE_SCORE : values[i] > 0 ? values[i] : 0;
        values[i] = v;
        totals[i] += v * weight;
      }
      scores.push({ plugin: plugin.name, weight, scores: values });
    }
    // Highest total wins; ties are broken at random (reservoir sampling, as upstream's selectHost).
    let best = -Infinity;
    let chosen = '';
    let ties = 0;
    for (let i = 0; i < feasible.length; i++) {
      const total = totals[i];
      if (total > best) { best = total; chosen = names[i]; ties = 1; } else if (total === best && this.random() * ++ties < 1) chosen = names[i];
    }
    this.explained.record(pod, { ...verdict, node: chosen });
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
      for (const p of this.opts.profile.preBinds ?? []) {
        const info = this.cache.nodeInfo(node);
        if (!info) throw new Error(`node "${node}" not found`);
        await p.preBind(pod, info).catch((err: unknown) => {
          const message = `running PreBind plugin "${p.name}": ${(err as Error).message}`;
          void this.events.record(eventTarget({ ...pod, kind: 'Pod', apiVersion: 'v1' }), 'Warning', 'FailedScheduling', message);
          throw new Error(message, { cause: err });
        });
      }
      await this.opts.client.request('POST', `/api/v1/namespaces/${encodeURIComponent(namespace!)}/pods/${encodeURIComponent(name!)}/binding`, {
        body: { apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace, uid: pod.metadata!.uid }, target: { apiVersion: 'v1', kind: 'Node', name: node } },
      });
      this.cache.finishBinding(pod);
      this.queue.done(pod);
      this.stats.scheduled++;
      this.log.debug({ pod: `${namespace}/${name}`, node }, 'bound pod');
      // Dated now, though written later: the kubelet's events for the pod (which follow) must not come before it.
      const at = this.clock.now();
      this.background.add(() => this.events.record(eventTarget({ ...pod, kind: 'Pod', apiVersion: 'v1' }), 'Normal', 'Scheduled', `Successfully assigned ${namespace}/${name} to ${node}`, at));
    } catch (err) {
      this.cache.forget(pod);
      this.stats.bindErrors++;
      if (err instanceof ApiError && (err.isNotFound || (err.isConflict && /already assigned|being deleted/.test(err.message)))) return;
      this.log.warn({ err, pod: `${namespace}/${name}`, node }, 'binding failed; retrying');
      this.queue.addBackoff(qp);
    }
  }

  /** FailedScheduling Event and PodScheduled=False, written in the background (never awaited by a cycle). */
  private reportUnschedulable(pod: Pod, message: string): void {
    const at = this.clock.now();
    this.background.add(() => this.events.record(eventTarget({ ...pod, kind: 'Pod', apiVersion: 'v1' }), 'Warning', 'FailedScheduling', message, at));
    const prev = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (prev?.status === 'False' && prev.message === message) return;
    this.statusWrites.add(async () => {
      try {
        await this.opts.client.patch(PODS, pod.metadata!.namespace, pod.metadata!.name!, {
          status: { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null, lastTransitionTime: rfc3339(this.clock.now()) }] },
        }, 'strategic', { subresource: 'status' });
      } catch (err) {
        if (!(err instanceof ApiError && err.isNotFound)) this.log.warn({ err, pod: podKey(pod) }, 'cannot record PodScheduled=False');
      }
    });
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
      this.background.add(() => this.events.record(eventTarget({ ...v, kind: 'Pod', apiVersion: 'v1' }), 'Normal', 'Preempted', `Preempted by pod ${pod.metadata!.uid} on node ${best.node}`));
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
