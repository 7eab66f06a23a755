import {
  ApiError, byNodeName, EventRecorder, NODES, objectKey, PODS, realClock, runWorkers, silentLogger, WorkQueue,
  type ApiClient, type Clock, type InformerFactory, type Logger, type Node, type Pod, type SharedInformer,
} from '@k8ts/api';
import { matchingTolerations, type Taint, type Toleration } from '../taints.js';

export interface TaintEvictionControllerDeps {
  client: ApiClient;
  informers: InformerFactory;
  log?: Logger;
  clock?: Clock;
}

/** A pod's eviction as scheduled (TimedWorker): when it was decided, and when it fires; `fired` once deleted. */
interface Scheduled { createdAt: number; fireAt: number; fired: boolean }

const noExecute = (node: Node | undefined): Taint[] => (node?.spec?.taints ?? []).filter((t) => t.effect === 'NoExecute');
const sameJSON = (a: unknown, b: unknown) => JSON.stringify(a ?? []) === JSON.stringify(b ?? []);

/**
 * The shortest tolerationSeconds among the tolerations used, 0 when one is zero or negative or none were used, -1
 * when all tolerate forever (upstream's getMinTolerationTime), in ms.
 */
export function minTolerationMs(used: readonly Toleration[]): number {
  if (used.length === 0) return 0;
  let min = Infinity;
  for (const t of used) {
    if (t.tolerationSeconds === undefined || t.tolerationSeconds === null) continue;
    if (t.tolerationSeconds <= 0) return 0;
    min = Math.min(min, t.tolerationSeconds);
  }
  return min === Infinity ? -1 : min * 1000;
}

/**
 * Upstream's taint-eviction-controller (pkg/controller/tainteviction, split from node lifecycle in v1.29 and run
 * on its own since): a pod on a node with NoExecute taints it does not tolerate is deleted at once; one that
 * tolerates them for tolerationSeconds is deleted when the shortest of those runs out, counted from when this
 * controller first saw it tainted; one that tolerates them forever stays. Before deleting it records
 * `TaintManagerEviction` ("Marking for deletion Pod ns/name") and adds the `DisruptionTarget` condition
 * (`DeletionByTaintManager`); a scheduled eviction that no longer applies is cancelled ("Cancelling deletion of Pod").
 * Keys are pods; a node's taint change queues the pods bound to it.
 */
export class TaintEvictionController {
  readonly queue: WorkQueue<string>;
  private readonly nodes: SharedInformer<Node>;
  private readonly pods: SharedInformer<Pod>;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly events: EventRecorder;
  private readonly scheduled = new Map<string, Scheduled>();

  constructor(private readonly deps: TaintEvictionControllerDeps) {
    this.clock = deps.clock ?? realClock;
    this.log = (deps.log ?? silentLogger).child({ controller: 'taint-eviction-controller' });
    this.queue = new WorkQueue<string>({ clock: this.clock });
    this.events = new EventRecorder({ client: deps.client, component: 'taint-eviction-controller', log: this.log, now: () => this.clock.now() });
    this.nodes = deps.informers.informerFor<Node>(NODES);
    this.pods = deps.informers.informerFor<Pod>(PODS, { indexers: { byNodeName } });
    this.pods.addHandler({
      onAdd: (p) => this.queue.add(objectKey(p)),
      onUpdate: (o, p) => {
        if (o.spec?.nodeName === p.spec?.nodeName && sameJSON(o.spec?.tolerations, p.spec?.tolerations)) return;
        this.queue.add(objectKey(p));
      },
      onDelete: (p) => this.queue.add(objectKey(p)),
    });
    this.nodes.addHandler({
      onAdd: (n) => this.nodeChanged(n),
      onUpdate: (o, n) => { if (!sameJSON(noExecute(o), noExecute(n))) this.nodeChanged(n); },
      onDelete: (n) => this.nodeChanged(n),
    });
  }

  private nodeChanged(node: Node): void {
    for (const p of this.pods.byIndex('byNodeName', node.metadata!.name!)) this.queue.add(objectKey(p));
  }

  /** Waits for the caches, then syncs pods with `workers` workers until the signal aborts. */
  async run(signal: AbortSignal, workers = 8): Promise<void> {
    await Promise.all([this.nodes.waitForSync(signal), this.pods.waitForSync(signal)]).catch(() => undefined);
    if (signal.aborted) return;
    await runWorkers(this.queue, (key) => this.sync(key), { workers, log: this.log, signal, keyField: 'pod' });
  }

  /** When the pod's eviction is due (ms on the controller's clock), if one is scheduled and not yet done. */
  scheduledAt(key: string): number | undefined {
    const s = this.scheduled.get(key);
    return s && !s.fired ? s.fireAt : undefined;
  }

  /**
   * Decides one pod (processPodOnNode): cancel, schedule, or evict now when due. Idempotent: a scheduled eviction
   * keeps its first decision time, and an evicted pod is not deleted twice.
   */
  async sync(key: string): Promise<void> {
    const pod = this.pods.get(key);
    const nodeName = pod?.spec?.nodeName;
    if (!pod || !nodeName) { this.cancel(key); return; }
    const taints = noExecute(this.nodes.get(nodeName));
    if (taints.length === 0) { this.cancel(key); return; }
    const now = this.clock.now();
    const { tolerated, used } = matchingTolerations(taints, pod.spec?.tolerations ?? []);
    let entry = this.scheduled.get(key);
    if (!tolerated) {
      this.log.info({ pod: key, node: nodeName }, 'not all NoExecute taints are tolerated');
      if (entry && !entry.fired && entry.fireAt > now) { this.cancel(key); entry = undefined; }
      entry ??= { createdAt: now, fireAt: now, fired: false };
    } else {
      const min = minTolerationMs(used);
      if (min < 0) { this.cancel(key); return; }
      // An eviction already scheduled keeps the time it was first decided, as upstream's timed worker queue.
      entry ??= { createdAt: now, fireAt: now + min, fired: false };
    }
    this.scheduled.set(key, entry);
    if (entry.fired) return;
    if (now < entry.fireAt) { this.queue.addAfter(key, entry.fireAt - now); return; }
    if (pod.metadata?.deletionTimestamp) { entry.fired = true; return; }
    await this.evict(pod);
    entry.fired = true;
  }

  /** Forgets a pod's eviction; records the cancellation when one was scheduled (or done), as upstream. */
  private cancel(key: string): void {
    if (!this.scheduled.delete(key)) return;
    const [namespace, name] = key.split('/');
    void this.events.record({ apiVersion: 'v1', kind: 'Pod', namespace, name }, 'Normal', 'TaintManagerEviction', `Cancelling deletion of Pod ${key}`);
  }

  /** Marks the pod DisruptionTarget and deletes it (addConditionAndDeletePod), with a `TaintManagerEviction` Event. */
  private async evict(cached: Pod): Promise<void> {
    const namespace = cached.metadata!.namespace!;
    const name = cached.metadata!.name!;
    this.log.info({ pod: `${namespace}/${name}`, node: cached.spec?.nodeName }, 'deleting pod');
    void this.events.record({ apiVersion: 'v1', kind: 'Pod', namespace, name }, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${namespace}/${name}`);
    try {
      const pod = await this.deps.client.get<Pod>(PODS, namespace, name);
      const conditions = pod.status?.conditions ?? [];
      const prior = conditions.find((c) => c.type === 'DisruptionTarget');
      if (prior?.status !== 'True' || prior.reason !== 'DeletionByTaintManager') {
        const now = new Date(this.clock.now()).toISOString().replace(/\.\d+Z$/, 'Z');
        const cond = { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint', lastTransitionTime: now };
        await this.deps.client.patch(PODS, namespace, name, { metadata: { uid: pod.metadata?.uid }, status: { conditions: [...conditions.filter((c) => c.type !== 'DisruptionTarget'), cond] } }, 'strategic', { subresource: 'status' });
      }
      await this.deps.client.delete(PODS, namespace, name, { preconditions: { uid: pod.metadata?.uid } });
    } catch (err) {
      if (err instanceof ApiError && (err.isNotFound || err.isConflict)) return;
      throw err;
    }
  }
}
