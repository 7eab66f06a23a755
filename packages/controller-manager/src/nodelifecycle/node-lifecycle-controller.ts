import {
  ApiError, byNodeName, EventRecorder, eventTarget, LEASES, NODES, objectKey, PODS, realClock, rfc3339, runWorkers, silentLogger,
  sleep, TokenBucketRateLimiter, WorkQueue,
  type ApiClient, type Clock, type InformerFactory, type KubeObject, type Lease, type Logger, type Node, type Pod, type SharedInformer,
} from '@k8ts/api';
import {
  matchTaint, nodeCondition, swapNodeTaints, TAINT_NODE_DISK_PRESSURE, TAINT_NODE_MEMORY_PRESSURE, TAINT_NODE_NETWORK_UNAVAILABLE,
  TAINT_NODE_NOT_READY, TAINT_NODE_PID_PRESSURE, TAINT_NODE_UNREACHABLE, TAINT_NODE_UNSCHEDULABLE, type NodeCondition, type Taint,
} from '../taints.js';

/** The namespace of the kubelets' heartbeat Leases (v1.NamespaceNodeLease), each named after its node. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
/** The NoExecute taint of a node whose Ready condition is Unknown (UnreachableTaintTemplate). */
export const UNREACHABLE_TAINT: Taint = { key: TAINT_NODE_UNREACHABLE, effect: 'NoExecute' };
/** The NoExecute taint of a node whose Ready condition is False (NotReadyTaintTemplate). */
export const NOT_READY_TAINT: Taint = { key: TAINT_NODE_NOT_READY, effect: 'NoExecute' };
/** How often the rate-limited NoExecute tainting runs (scheduler.NodeEvictionPeriod). */
export const NODE_EVICTION_PERIOD_MS = 100;

/** Which condition status gives which NoSchedule taint (nodeConditionToTaintKeyStatusMap). */
const CONDITION_TAINTS: Record<string, Record<string, string>> = {
  Ready: { False: TAINT_NODE_NOT_READY, Unknown: TAINT_NODE_UNREACHABLE },
  MemoryPressure: { True: TAINT_NODE_MEMORY_PRESSURE },
  DiskPressure: { True: TAINT_NODE_DISK_PRESSURE },
  NetworkUnavailable: { True: TAINT_NODE_NETWORK_UNAVAILABLE },
  PIDPressure: { True: TAINT_NODE_PID_PRESSURE },
};
const CONDITION_TAINT_KEYS = new Set(Object.values(CONDITION_TAINTS).flatMap((m) => Object.values(m)));
/** The conditions set to Unknown when a node stops reporting (NetworkUnavailable is the control plane's). */
const MONITORED_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];
const ZONE_LABEL = 'topology.kubernetes.io/zone';
const REGION_LABEL = 'topology.kubernetes.io/region';
const EXCLUDE_DISRUPTION_LABEL = 'node.kubernetes.io/exclude-disruption';

type ZoneState = 'Initial' | 'Normal' | 'FullDisruption' | 'PartialDisruption';

/** The timings and rates of upstream's NodeLifecycleController, as kube-controller-manager's flags name them. */
export interface NodeLifecycleOptions {
  /** `--node-monitor-period`: how often node health is checked (5 s). */
  nodeMonitorPeriodMs?: number;
  /** `--node-monitor-grace-period`: silence after which a node is Unknown (40 s). */
  nodeMonitorGracePeriodMs?: number;
  /** `--node-startup-grace-period`: the same for a node that never posted status (60 s). */
  nodeStartupGracePeriodMs?: number;
  /** `--node-eviction-rate`: nodes per second tainted NoExecute in a healthy zone (0.1). */
  nodeEvictionRate?: number;
  /** `--secondary-node-eviction-rate`: the rate in a large, partially disrupted zone (0.01). */
  secondaryNodeEvictionRate?: number;
  /** `--large-cluster-size-threshold`: above this many nodes a zone is large (50). */
  largeClusterSizeThreshold?: number;
  /** `--unhealthy-zone-threshold`: fraction of not-ready nodes (at least 3) that makes a zone partially disrupted (0.55). */
  unhealthyZoneThreshold?: number;
}

export interface NodeLifecycleControllerDeps extends NodeLifecycleOptions {
  client: ApiClient;
  informers: InformerFactory;
  log?: Logger;
  clock?: Clock;
}

/** What the controller last saw of a node, with its own clock's times (nodeHealthData): never trusts node clocks. */
interface NodeHealth {
  probeTimestamp: number;
  readyTransitionTimestamp: number;
  status: Node['status'];
  lease?: Lease;
}

/** A zone's NoExecute tainting queue with its limiter (scheduler.RateLimitedTimedQueue); qps 0 never accepts. */
interface ZoneTainter {
  qps: number;
  limiter?: TokenBucketRateLimiter;
  /** Node name → when it may be tried next (ms), in the order nodes were added. */
  queue: Map<string, number>;
}

const zoneKey = (node: Node): string => {
  const l = node.metadata?.labels ?? {};
  const region = l[REGION_LABEL] ?? l['failure-domain.beta.kubernetes.io/region'] ?? '';
  const zone = l[ZONE_LABEL] ?? l['failure-domain.beta.kubernetes.io/zone'] ?? '';
  return region || zone ? `${region}:\x00:${zone}` : '';
};
const time = (t: string | undefined): number => (t ? Date.parse(t) : 0);

/**
 * Upstream's NodeLifecycleController (pkg/controller/nodelifecycle): every `--node-monitor-period` it checks each
 * node's heartbeat (its Lease in kube-node-lease, and its Ready condition's lastHeartbeatTime) against the controller's
 * own clock; a node silent for `--node-monitor-grace-period` (`--node-startup-grace-period` if it never posted status)
 * gets Ready, MemoryPressure, DiskPressure and PIDPressure set to Unknown (`NodeStatusUnknown`), a `NodeNotReady`
 * Event, and its pods' Ready condition set to False. Nodes whose Ready is Unknown or False get the unreachable or
 * not-ready NoExecute taint, rate-limited per zone (`--node-eviction-rate`) and not at all when every zone is fully
 * disrupted (then the controller assumes its own network is the problem); a node Ready again loses them. Node
 * updates queue the node for the NoSchedule pass: taints mirroring its conditions and `spec.unschedulable`
 * (node.kubernetes.io/unschedulable). Evicting pods is the taint-eviction-controller's job.
 */
export class NodeLifecycleController {
  /** Node names for the NoSchedule tainting pass (`sync`). */
  readonly queue: WorkQueue<string>;
  /** Pod keys of pods just bound to a node (`syncPod`). */
  readonly podQueue: WorkQueue<string>;
  private readonly nodes: SharedInformer<Node>;
  private readonly leases: SharedInformer<Lease>;
  private readonly pods: SharedInformer<Pod>;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly events: EventRecorder;
  private readonly opts: Required<NodeLifecycleOptions>;
  private readonly health = new Map<string, NodeHealth>();
  private readonly known = new Map<string, Node>();
  private readonly nodesToRetry = new Set<string>();
  private readonly zoneStates = new Map<string, ZoneState>();
  private readonly tainters = new Map<string, ZoneTainter>();

  constructor(private readonly deps: NodeLifecycleControllerDeps) {
    this.clock = deps.clock ?? realClock;
    this.log = (deps.log ?? silentLogger).child({ controller: 'nodelifecycle' });
    this.opts = {
      nodeMonitorPeriodMs: deps.nodeMonitorPeriodMs ?? 5_000,
      nodeMonitorGracePeriodMs: deps.nodeMonitorGracePeriodMs ?? 40_000,
      nodeStartupGracePeriodMs: deps.nodeStartupGracePeriodMs ?? 60_000,
      nodeEvictionRate: deps.nodeEvictionRate ?? 0.1,
      secondaryNodeEvictionRate: deps.secondaryNodeEvictionRate ?? 0.01,
      largeClusterSizeThreshold: deps.largeClusterSizeThreshold ?? 50,
      unhealthyZoneThreshold: deps.unhealthyZoneThreshold ?? 0.55,
    };
    this.queue = new WorkQueue<string>({ clock: this.clock });
    this.podQueue = new WorkQueue<string>({ clock: this.clock });
    this.events = new EventRecorder({ client: deps.client, component: 'node-controller', log: this.log, now: () => this.clock.now() });
    this.nodes = deps.informers.informerFor<Node>(NODES);
    this.leases = deps.informers.informerFor<Lease>(LEASES, { namespace: NODE_LEASE_NAMESPACE });
    this.pods = deps.informers.informerFor<Pod>(PODS, { indexers: { byNodeName } });
    this.nodes.addHandler({
      onAdd: (n) => this.queue.add(n.metadata!.name!),
      onUpdate: (_o, n) => this.queue.add(n.metadata!.name!),
      onDelete: (n) => this.nodesToRetry.delete(n.metadata!.name!),
    });
    this.pods.addHandler({
      onAdd: (p) => { if (p.spec?.nodeName) this.podQueue.add(objectKey(p)); },
      onUpdate: (o, p) => { if (p.spec?.nodeName && p.spec.nodeName !== o.spec?.nodeName) this.podQueue.add(objectKey(p)); },
    });
  }

  /** Waits for the caches, then runs the NoSchedule and pod workers, the tainting pass and the health monitor. */
  async run(signal: AbortSignal, workers = 8): Promise<void> {
    await Promise.all([this.nodes.waitForSync(signal), this.leases.waitForSync(signal), this.pods.waitForSync(signal)]).catch(() => undefined);
    if (signal.aborted) return;
    const every = async (ms: number, fn: () => Promise<void>, what: string) => {
      while (!signal.aborted) {
        try {
          await fn();
        } catch (err) {
          this.log.error({ err }, what);
        }
        await sleep(this.clock, ms, signal);
      }
    };
    await Promise.all([
      runWorkers(this.queue, (key) => this.sync(key), { workers, log: this.log, signal, keyField: 'node' }),
      runWorkers(this.podQueue, (key) => this.syncPod(key), { workers: 4, log: this.log, signal, keyField: 'pod' }),
      every(NODE_EVICTION_PERIOD_MS, () => this.doNoExecuteTaintingPass(), 'error tainting nodes'),
      every(this.opts.nodeMonitorPeriodMs, () => this.monitorNodeHealth(), 'error monitoring node health'),
    ]);
  }

  /**
   * The NoSchedule pass for one node (doNoScheduleTaintingPass): its NoSchedule taints for conditions and
   * unschedulable are made to match `status.conditions` and `spec.unschedulable`. Idempotent.
   */
  async sync(name: string): Promise<void> {
    const node = this.nodes.get(name);
    if (!node) return;
    const want: Taint[] = [];
    for (const c of node.status?.conditions ?? []) {
      const key = CONDITION_TAINTS[c.type]?.[c.status];
      if (key) want.push({ key, effect: 'NoSchedule' });
    }
    if (node.spec?.unschedulable) want.push({ key: TAINT_NODE_UNSCHEDULABLE, effect: 'NoSchedule' });
    const have = (node.spec?.taints ?? []).filter((t) => t.effect === 'NoSchedule' && (t.key === TAINT_NODE_UNSCHEDULABLE || CONDITION_TAINT_KEYS.has(t.key)));
    const add = want.filter((w) => !have.some((h) => matchTaint(h, w)));
    const remove = have.filter((h) => !want.some((w) => matchTaint(h, w)));
    if (!add.length && !remove.length) return;
    await swapNodeTaints(this.deps.client, this.clock, structuredClone(node), add, remove);
  }

  /** A pod bound to a node that is not Ready gets its Ready condition set to False (processPod). */
  async syncPod(key: string): Promise<void> {
    const pod = this.pods.get(key);
    const nodeName = pod?.spec?.nodeName;
    if (!pod || !nodeName) return;
    const health = this.health.get(nodeName);
    if (!health || !this.nodes.get(nodeName)) return;
    const ready = nodeCondition({ status: health.status }, 'Ready');
    if (ready && ready.status !== 'True') await this.markPodsNotReady([pod], nodeName);
  }

  /**
   * One pass over every node (monitorNodeHealth): records nodes seen and gone, updates each node's health from its
   * Lease and status (posting Unknown after the grace period), queues NoExecute taints or removes them, marks pods
   * not ready on a Ready → not-Ready transition, and adjusts the per-zone tainting rates to the zones' health.
   */
  async monitorNodeHealth(): Promise<void> {
    const nodes = this.nodes.list();
    const names = new Set(nodes.map((n) => n.metadata!.name!));
    for (const node of nodes) {
      const name = node.metadata!.name!;
      if (this.known.has(name)) {
        if (!this.zoneStates.has(zoneKey(node))) this.addZone(node);
        continue;
      }
      this.log.info({ node: name }, 'observed a new node');
      void this.events.record(nodeRef(node), 'Normal', 'RegisteredNode', `Node ${name} event: Registered Node ${name} in Controller`);
      this.known.set(name, node);
      this.addZone(node);
      await this.markNodeAsReachable(node).catch((err: unknown) => this.log.warn({ err, node: name }, 'could not remove NoExecute taints'));
    }
    for (const [name, node] of this.known) {
      if (names.has(name)) continue;
      this.log.info({ node: name }, 'observed a node deletion');
      void this.events.record(nodeRef(node), 'Normal', 'RemovingNode', `Node ${name} event: Removing Node ${name} from Controller`);
      this.known.delete(name);
      this.health.delete(name);
    }

    const zoneConditions = new Map<string, (NodeCondition | undefined)[]>();
    await Promise.all(nodes.map(async (cached) => {
      let node = structuredClone(cached);
      let result: { observed: NodeCondition; current: NodeCondition | undefined } | undefined;
      for (let attempt = 0; attempt < 5 && !result; attempt++) {
        try {
          result = await this.tryUpdateNodeHealth(node);
        } catch (err) {
          try {
            node = await this.deps.client.get<Node>(NODES, undefined, node.metadata!.name!);
          } catch {
            this.log.warn({ err, node: node.metadata!.name }, 'could not update node health; node probably deleted');
            return;
          }
        }
      }
      if (!result) {
        this.log.warn({ node: node.metadata!.name }, 'could not update node health; no pods will be evicted');
        return;
      }
      const name = node.metadata!.name!;
      const { observed, current } = result;
      // Nodes labelled node.kubernetes.io/exclude-disruption do not count towards their zone's health.
      if (node.metadata?.labels?.[EXCLUDE_DISRUPTION_LABEL] === undefined) {
        const zone = zoneKey(node);
        zoneConditions.set(zone, [...(zoneConditions.get(zone) ?? []), current]);
      }
      if (!current) return;
      const pods = this.pods.byIndex('byNodeName', name);
      await this.processTaintBaseEviction(node, observed);
      const needsRetry = this.nodesToRetry.has(name);
      const transition = current.status !== 'True' && observed.status === 'True';
      if (transition) {
        this.log.info({ node: name }, 'node is not ready');
        void this.events.record(nodeRef(node), 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
      }
      if (transition || (needsRetry && observed.status !== 'True')) {
        try {
          await this.markPodsNotReady(pods, name);
        } catch (err) {
          this.log.warn({ err, node: name }, 'unable to mark all pods NotReady; will retry');
          this.nodesToRetry.add(name);
          return;
        }
      }
      this.nodesToRetry.delete(name);
    }));
    await this.handleDisruption(zoneConditions, nodes);
  }

  /**
   * Updates what is known of one node's health (tryUpdateNodeHealth) and, once its heartbeat is older than the
   * grace period, writes its monitored conditions as Unknown. Returns the Ready condition as observed before and
   * as it is now.
   */
  private async tryUpdateNodeHealth(node: Node): Promise<{ observed: NodeCondition; current: NodeCondition | undefined }> {
    const name = node.metadata!.name!;
    const now = this.clock.now();
    let health = this.health.get(name);
    const created = time(node.metadata?.creationTimestamp);
    let current = nodeCondition(node, 'Ready');
    let observed: NodeCondition;
    let grace: number;
    const status = structuredClone(node.status ?? {});
    if (!current) {
      // Never posted: treat it as Unknown since its creation, with the startup grace period.
      observed = { type: 'Ready', status: 'Unknown', lastHeartbeatTime: node.metadata?.creationTimestamp, lastTransitionTime: node.metadata?.creationTimestamp };
      grace = this.opts.nodeStartupGracePeriodMs;
      health = health ? { ...health, status } : { status, probeTimestamp: created, readyTransitionTimestamp: created };
    } else {
      observed = structuredClone(current);
      grace = this.opts.nodeMonitorGracePeriodMs;
    }
    const saved = health ? nodeCondition({ status: health.status }, 'Ready') : undefined;
    const savedLease = health?.lease;
    if (!health) {
      health = { status, probeTimestamp: now, readyTransitionTimestamp: now };
    } else if (!saved && current) {
      health = { status, probeTimestamp: now, readyTransitionTimestamp: now };
    } else if (saved && !current) {
      this.log.error({ node: name }, 'Ready condition was removed from the status of the node');
      health = { status, probeTimestamp: now, readyTransitionTimestamp: now };
    } else if (saved && current && saved.lastHeartbeatTime !== current.lastHeartbeatTime) {
      const transition = saved.lastTransitionTime !== current.lastTransitionTime ? now : health.readyTransitionTimestamp;
      health = { status, probeTimestamp: now, readyTransitionTimestamp: transition };
    }
    // A renewed Lease is a heartbeat too (the kubelet renews it far more often than it posts status).
    const lease = this.leases.get(`${NODE_LEASE_NAMESPACE}/${name}`);
    if (lease && (!savedLease || time(savedLease.spec?.renewTime) < time(lease.spec?.renewTime))) {
      health = { ...health, lease, probeTimestamp: now };
    }
    this.health.set(name, health);

    if (now > health.probeTimestamp + grace) {
      const st = (node as { status?: Node['status'] }).status ??= {};
      const conditions: NodeCondition[] = st.conditions ??= [];
      for (const type of MONITORED_CONDITIONS) {
        const c = conditions.find((x) => x.type === type);
        if (!c) {
          conditions.push({
            type, status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.',
            lastHeartbeatTime: node.metadata?.creationTimestamp, lastTransitionTime: rfc3339(now),
          });
        } else if (c.status !== 'Unknown') {
          c.status = 'Unknown';
          c.reason = 'NodeStatusUnknown';
          c.message = 'Kubelet stopped posting node status.';
          c.lastTransitionTime = rfc3339(now);
        }
      }
      current = nodeCondition(node, 'Ready');
      if (JSON.stringify(current) !== JSON.stringify(observed)) {
        const updated = await this.deps.client.update<Node>(NODES, undefined, node, { subresource: 'status' });
        this.log.info({ node: name, silentForMs: now - health.probeTimestamp }, 'node stopped posting status; conditions set to Unknown');
        this.health.set(name, { status: structuredClone(updated.status ?? node.status), probeTimestamp: health.probeTimestamp, readyTransitionTimestamp: now, lease });
        node.metadata = { ...node.metadata, resourceVersion: updated.metadata?.resourceVersion };
      }
    }
    return { observed, current };
  }

  /** Queues or swaps the NoExecute taint for the node's observed Ready condition, or removes it when Ready. */
  private async processTaintBaseEviction(node: Node, observed: NodeCondition): Promise<void> {
    const taints = node.spec?.taints ?? [];
    const name = node.metadata!.name!;
    switch (observed.status) {
      case 'False':
        if (taints.some((t) => matchTaint(t, UNREACHABLE_TAINT))) {
          await swapNodeTaints(this.deps.client, this.clock, node, [NOT_READY_TAINT], [UNREACHABLE_TAINT])
            .catch((err: unknown) => this.log.warn({ err, node: name }, 'could not swap the unreachable taint for not-ready; next pass'));
        } else this.markNodeForTainting(node);
        break;
      case 'Unknown':
        if (taints.some((t) => matchTaint(t, NOT_READY_TAINT))) {
          await swapNodeTaints(this.deps.client, this.clock, node, [UNREACHABLE_TAINT], [NOT_READY_TAINT])
            .catch((err: unknown) => this.log.warn({ err, node: name }, 'could not swap the not-ready taint for unreachable; next pass'));
        } else this.markNodeForTainting(node);
        break;
      case 'True':
        try {
          if (await this.markNodeAsReachable(node)) this.log.info({ node: name }, 'node is healthy again; removed its NoExecute taints');
        } catch (err) {
          this.log.warn({ err, node: name }, 'could not remove NoExecute taints; next pass');
        }
        break;
    }
  }

  private markNodeForTainting(node: Node): void {
    const tainter = this.tainters.get(zoneKey(node));
    const name = node.metadata!.name!;
    if (tainter && !tainter.queue.has(name)) tainter.queue.set(name, this.clock.now());
  }

  /** Removes both NoExecute taints and the node from its zone's tainting queue; true when there were taints. */
  private async markNodeAsReachable(node: Node): Promise<boolean> {
    this.tainters.get(zoneKey(node))?.queue.delete(node.metadata!.name!);
    const had = (node.spec?.taints ?? []).some((t) => matchTaint(t, UNREACHABLE_TAINT) || matchTaint(t, NOT_READY_TAINT));
    if (!had) return false;
    await swapNodeTaints(this.deps.client, this.clock, node, [], [UNREACHABLE_TAINT, NOT_READY_TAINT]);
    return true;
  }

  /**
   * Taints queued nodes NoExecute as each zone's limiter allows (doNoExecuteTaintingPass): unreachable for Ready
   * Unknown, not-ready for Ready False, never both; a node Ready again by now leaves the queue untainted.
   */
  async doNoExecuteTaintingPass(): Promise<void> {
    for (const tainter of this.tainters.values()) {
      for (const [name, at] of [...tainter.queue]) {
        if (!tainter.limiter || !tainter.limiter.tryAccept()) break;
        const now = this.clock.now();
        if (now < at) break;
        const node = this.nodes.get(name);
        if (!node) { tainter.queue.delete(name); continue; }
        const ready = nodeCondition(node, 'Ready');
        if (!ready) { tainter.queue.set(name, now + 50); continue; }
        let add: Taint; let remove: Taint;
        if (ready.status === 'False') { add = NOT_READY_TAINT; remove = UNREACHABLE_TAINT; }
        else if (ready.status === 'Unknown') { add = UNREACHABLE_TAINT; remove = NOT_READY_TAINT; }
        else { tainter.queue.delete(name); continue; }
        try {
          await swapNodeTaints(this.deps.client, this.clock, structuredClone(node), [add], [remove]);
          this.log.info({ node: name, taint: add.key }, 'tainted node NoExecute');
          tainter.queue.delete(name);
        } catch (err) {
          this.log.warn({ err, node: name }, 'could not taint node; retrying');
          tainter.queue.set(name, now + 1);
        }
      }
    }
  }

  /** Pods' Ready condition set to False, with a `NodeNotReady` Event each (controllerutil.MarkPodsNotReady). */
  private async markPodsNotReady(pods: readonly Pod[], nodeName: string): Promise<void> {
    const errs: unknown[] = [];
    for (const cached of pods) {
      if (cached.spec?.nodeName !== nodeName) continue;
      const pod = structuredClone(cached);
      const cond = pod.status?.conditions?.find((c) => c.type === 'Ready');
      if (!cond || cond.status === 'False') continue;
      cond.status = 'False';
      cond.lastTransitionTime = rfc3339(this.clock.now());
      try {
        await this.deps.client.update<Pod>(PODS, pod.metadata!.namespace, pod, { subresource: 'status' });
      } catch (err) {
        if (err instanceof ApiError && err.isNotFound) continue;
        errs.push(err);
        continue;
      }
      void this.events.record(eventTarget(pod as KubeObject), 'Warning', 'NodeNotReady', 'Node is not ready');
    }
    if (errs.length) throw new Error(`could not mark ${errs.length} pod(s) not ready on node ${nodeName}`, { cause: errs[0] });
  }

  private addZone(node: Node): void {
    const zone = zoneKey(node);
    if (this.zoneStates.has(zone)) return;
    this.zoneStates.set(zone, 'Initial');
    if (!this.tainters.has(zone)) this.tainters.set(zone, this.newTainter(this.opts.nodeEvictionRate));
  }

  private newTainter(qps: number, queue = new Map<string, number>()): ZoneTainter {
    return { qps, limiter: qps > 0 ? new TokenBucketRateLimiter({ qps, burst: 1, clock: this.clock }) : undefined, queue };
  }

  private swapLimiter(zone: string, qps: number): void {
    const t = this.tainters.get(zone);
    if (!t || t.qps === qps) return;
    this.tainters.set(zone, this.newTainter(qps, t.queue));
  }

  /** Healthy, partially or fully disrupted (ComputeZoneState), and how many nodes are not ready. */
  private computeZoneState(conditions: (NodeCondition | undefined)[]): { unhealthy: number; state: ZoneState } {
    const ready = conditions.filter((c) => c?.status === 'True').length;
    const notReady = conditions.length - ready;
    if (ready === 0 && notReady > 0) return { unhealthy: notReady, state: 'FullDisruption' };
    if (notReady > 2 && notReady / conditions.length >= this.opts.unhealthyZoneThreshold) return { unhealthy: notReady, state: 'PartialDisruption' };
    return { unhealthy: notReady, state: 'Normal' };
  }

  private setLimiterInZone(zone: string, size: number, state: ZoneState): void {
    if (state === 'Normal' || state === 'FullDisruption') this.swapLimiter(zone, this.opts.nodeEvictionRate);
    else if (state === 'PartialDisruption') this.swapLimiter(zone, size > this.opts.largeClusterSizeThreshold ? this.opts.secondaryNodeEvictionRate : 0);
  }

  /**
   * Zone disruption handling (handleDisruption): when every zone is fully disrupted the controller stops all tainting
   * and removes the NoExecute taints (it is more likely cut off than every node dead); when that ends, every node's
   * probe time is reset so nodes get a full grace period again.
   */
  private async handleDisruption(zoneConditions: Map<string, (NodeCondition | undefined)[]>, nodes: Node[]): Promise<void> {
    const newStates = new Map<string, ZoneState>();
    let allAreFullyDisrupted = true;
    for (const [zone, conds] of zoneConditions) {
      const { state } = this.computeZoneState(conds);
      if (state !== 'FullDisruption') allAreFullyDisrupted = false;
      newStates.set(zone, state);
      if (!this.zoneStates.has(zone)) this.zoneStates.set(zone, 'Initial');
    }
    let allWasFullyDisrupted = true;
    for (const [zone, state] of [...this.zoneStates]) {
      if (!zoneConditions.has(zone)) { this.zoneStates.delete(zone); continue; }
      if (state !== 'FullDisruption') { allWasFullyDisrupted = false; break; }
    }
    if (allAreFullyDisrupted && allWasFullyDisrupted) return;
    if (allAreFullyDisrupted) {
      this.log.info('every node is not ready: entering master disruption mode (no NoExecute taints)');
      for (const n of nodes) await this.markNodeAsReachable(structuredClone(n)).catch((err: unknown) => this.log.warn({ err, node: n.metadata?.name }, 'could not remove taints'));
      for (const zone of this.zoneStates.keys()) { this.swapLimiter(zone, 0); this.zoneStates.set(zone, 'FullDisruption'); }
      return;
    }
    if (allWasFullyDisrupted) {
      this.log.info('some nodes are ready: leaving master disruption mode');
      const now = this.clock.now();
      for (const n of nodes) {
        const h = this.health.get(n.metadata!.name!);
        if (h) this.health.set(n.metadata!.name!, { ...h, probeTimestamp: now, readyTransitionTimestamp: now });
      }
      for (const zone of this.zoneStates.keys()) {
        const state = newStates.get(zone) ?? 'Normal';
        this.setLimiterInZone(zone, zoneConditions.get(zone)?.length ?? 0, state);
        this.zoneStates.set(zone, state);
      }
      return;
    }
    for (const [zone, state] of this.zoneStates) {
      const next = newStates.get(zone) ?? state;
      if (next === state) continue;
      this.log.info({ zone, state: next }, 'zone is in a new state');
      this.setLimiterInZone(zone, zoneConditions.get(zone)?.length ?? 0, next);
      this.zoneStates.set(zone, next);
    }
  }
}

function nodeRef(node: Node) {
  return { apiVersion: 'v1', kind: 'Node', name: node.metadata?.name ?? '', uid: node.metadata?.uid, namespace: '' };
}
