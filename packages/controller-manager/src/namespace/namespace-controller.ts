import {
  ApiError, discoverResources, NAMESPACES, PODS, RESOURCES, storedResources, realClock, rfc3339, runWorkers, silentLogger, WorkQueue,
  type ApiClient, type Clock, type InformerFactory, type KubeObjectLike, type Logger, type Namespace, type Pod, type ResourceDef,
  type SharedInformer,
} from '@k8ts/api';

/** The finalizer the apiserver puts on every namespace and this controller removes (v1.FinalizerKubernetes). */
export const FINALIZER_KUBERNETES = 'kubernetes';
/** How long a namespace event waits before it is handled (upstream's namespaceDeletionGracePeriod). */
export const NAMESPACE_DELETION_GRACE_PERIOD_MS = 5000;
/** The time given to objects held by finalizers (upstream's finalizerEstimateSeconds). */
export const FINALIZER_ESTIMATE_SECONDS = 15;

type NamespaceCondition = NonNullable<NonNullable<Namespace['status']>['conditions']>[number];

/** The condition types upstream's namespaced resources deleter keeps on a terminating namespace, in its order. */
export const DELETION_CONDITION_TYPES = [
  'NamespaceDeletionDiscoveryFailure', 'NamespaceDeletionGroupVersionParsingFailure', 'NamespaceDeletionContentFailure',
  'NamespaceContentRemaining', 'NamespaceFinalizersRemaining',
] as const;

const OK: Record<(typeof DELETION_CONDITION_TYPES)[number], { reason: string; message: string }> = {
  NamespaceDeletionDiscoveryFailure: { reason: 'ResourcesDiscovered', message: 'All resources successfully discovered' },
  NamespaceDeletionGroupVersionParsingFailure: { reason: 'ParsedGroupVersions', message: 'All legacy kube types successfully parsed' },
  NamespaceDeletionContentFailure: { reason: 'ContentDeleted', message: 'All content successfully deleted, may be waiting on finalization' },
  NamespaceContentRemaining: { reason: 'ContentRemoved', message: 'All content successfully removed' },
  NamespaceFinalizersRemaining: { reason: 'ContentHasNoFinalizers', message: 'All content-preserving finalizers finished' },
};

export interface NamespaceControllerDeps {
  client: ApiClient;
  informers: InformerFactory;
  log?: Logger;
  clock?: Clock;
  /** The namespaced resources to empty (default: every namespaced resource of the registry that can be deleted). */
  resources?: readonly ResourceDef[];
  /** Delay before a namespace event is handled (default NAMESPACE_DELETION_GRACE_PERIOD_MS). */
  deletionGracePeriodMs?: number;
  /**
   * The resources served beyond the registry (custom resources), read at each deletion as upstream reads discovery.
   * Default: aggregated discovery through the client when `resources` is not given; null: none.
   */
  discover?: ((signal?: AbortSignal) => Promise<ResourceDef[]>) | null;
}

/** The namespaced resources a namespace deletion empties: deletable and listable, once per kind. */
function deletable(all: readonly ResourceDef[]): ResourceDef[] {
  return storedResources(all).filter((d) => d.namespaced && d.verbs.includes('delete') && d.verbs.includes('list'));
}

/** What one pass over a resource left behind (upstream's gvrDeletionMetadata). */
interface Remaining { estimate: number; count: number; finalizers: Map<string, number> }

/** Raised when content remains: the namespace is looked at again after about half the estimate (upstream's ResourcesRemainingError). */
export class ResourcesRemainingError extends Error {
  constructor(readonly estimateSeconds: number) { super(`some content remains in the namespace; estimate ${estimateSeconds}s`); }
}

/**
 * Empties terminating namespaces, as upstream's namespace controller and namespaced_resources_deleter: deletes
 * every namespaced object (pods gracefully, Background propagation), keeps the deletion conditions in status, and
 * when nothing is left removes the `kubernetes` finalizer through `namespaces/{name}/finalize`, after which the
 * apiserver removes the namespace.
 */
export class NamespaceController {
  readonly queue: WorkQueue<string>;
  private readonly namespaces: SharedInformer<Namespace>;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly resources: readonly ResourceDef[];
  private readonly discover: ((signal?: AbortSignal) => Promise<ResourceDef[]>) | null;
  private readonly graceMs: number;

  constructor(private readonly deps: NamespaceControllerDeps) {
    this.clock = deps.clock ?? realClock;
    this.log = (deps.log ?? silentLogger).child({ controller: 'namespace' });
    this.queue = new WorkQueue<string>({ clock: this.clock });
    this.graceMs = deps.deletionGracePeriodMs ?? NAMESPACE_DELETION_GRACE_PERIOD_MS;
    this.resources = deps.resources ?? deletable(RESOURCES);
    this.discover = deps.discover !== undefined ? deps.discover : deps.resources ? null : (signal) => discoverResources(deps.client, signal);
    this.namespaces = deps.informers.informerFor<Namespace>(NAMESPACES);
    this.namespaces.addHandler({ onAdd: (ns) => this.enqueue(ns), onUpdate: (_old, ns) => this.enqueue(ns) });
  }

  /** Only terminating namespaces matter, and only after the grace period (upstream's enqueueNamespace). */
  private enqueue(ns: Namespace): void {
    if (!ns.metadata?.deletionTimestamp) return;
    this.queue.addAfter(ns.metadata.name!, this.graceMs);
  }

  async run(signal: AbortSignal, workers = 10): Promise<void> {
    await this.namespaces.waitForSync(signal).catch(() => undefined);
    if (signal.aborted) return;
    await runWorkers(this.queue, (key) => this.sync(key), { workers, log: this.log, signal, keyField: 'namespace' });
  }

  /** Handles one namespace by name; content left is looked at again later. Idempotent. */
  async sync(name: string): Promise<void> {
    try {
      await this.delete(name);
    } catch (e) {
      if (!(e instanceof ResourcesRemainingError)) throw e;
      const waitMs = (Math.floor(e.estimateSeconds / 2) + 1) * 1000;
      this.log.debug({ namespace: name, waitMs }, 'content remaining; checking again later');
      this.queue.addAfter(name, waitMs);
    }
  }

  /** upstream's namespacedResourcesDeleter.Delete. */
  private async delete(name: string): Promise<void> {
    if (!this.namespaces.get(name)) return;
    let ns = await this.getNamespace(name);
    if (!ns?.metadata?.deletionTimestamp) return;
    ns = await this.ensureTerminating(ns);
    if (!ns || !(ns.spec?.finalizers ?? []).includes(FINALIZER_KUBERNETES)) return;
    const estimate = await this.deleteAllContent(ns);
    if (estimate > 0) throw new ResourcesRemainingError(estimate);
    await this.finalize(ns);
  }

  private async getNamespace(name: string): Promise<Namespace | undefined> {
    try {
      return await this.deps.client.get<Namespace>(NAMESPACES, undefined, name);
    } catch (e) {
      if (e instanceof ApiError && e.isNotFound) return undefined;
      throw e;
    }
  }

  /** status.phase Terminating (the apiserver sets it on delete; an older writer may not have). */
  private async ensureTerminating(ns: Namespace): Promise<Namespace | undefined> {
    if (ns.status?.phase === 'Terminating') return ns;
    return this.writeStatus({ ...ns, status: { ...ns.status, phase: 'Terminating' } });
  }

  /** Deletes everything in the namespace; the seconds to wait for what remains (0: nothing remains). */
  private async deleteAllContent(ns: Namespace): Promise<number> {
    const name = ns.metadata!.name!;
    const errors: string[] = [];
    const remaining = new Map<ResourceDef, number>();
    const finalizers = new Map<string, number>();
    let estimate = 0;
    let resources = this.resources;
    if (this.discover) {
      try {
        resources = [...resources, ...deletable(await this.discover())];
      } catch (e) {
        errors.push(`discovery failed: ${(e as Error).message}`);
      }
    }
    for (const def of resources) {
      try {
        const left = await this.deleteAllOf(def, name);
        estimate = Math.max(estimate, left.estimate);
        if (left.count) remaining.set(def, left.count);
        for (const [f, n] of left.finalizers) finalizers.set(f, (finalizers.get(f) ?? 0) + n);
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    await this.updateConditions(ns, this.conditions(ns, errors, remaining, finalizers));
    if (errors.length) throw new Error(`failed to delete all content of namespace ${name}: ${errors.join('; ')}`);
    return estimate;
  }

  /** One resource of a namespace (upstream's deleteAllContentForGroupVersionResource). */
  private async deleteAllOf(def: ResourceDef, namespace: string): Promise<Remaining> {
    const client = this.deps.client;
    const isPods = def.group === '' && def.resource === 'pods';
    // Pods get their grace period: the estimate is the longest one of a pod still running.
    let estimate = 0;
    if (isPods) {
      for (const p of (await client.list<Pod>(PODS, namespace)).items) {
        if (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
        estimate = Math.max(estimate, p.spec?.terminationGracePeriodSeconds ?? 0);
      }
    }
    if (def.verbs.includes('deletecollection')) {
      await client.deleteCollection(def, namespace, { propagationPolicy: 'Background' });
    } else {
      for (const item of (await client.list<KubeObjectLike>(def, namespace)).items) {
        if (item.metadata?.deletionTimestamp) continue;
        await client.delete(def, namespace, item.metadata!.name!, { propagationPolicy: 'Background' }).catch((e: unknown) => {
          if (!(e instanceof ApiError && e.isNotFound)) throw e;
        });
      }
    }
    const { items } = await client.list<KubeObjectLike>(def, namespace);
    const finalizers = new Map<string, number>();
    for (const item of items) for (const f of item.metadata?.finalizers ?? []) finalizers.set(f, (finalizers.get(f) ?? 0) + 1);
    if (items.length === 0) return { estimate: 0, count: 0, finalizers };
    if (estimate > 0) return { estimate, count: items.length, finalizers };
    // Objects held by finalizers are normal: give them time (upstream's finalizerEstimateSeconds).
    if (finalizers.size > 0) return { estimate: FINALIZER_ESTIMATE_SECONDS, count: items.length, finalizers };
    // Pods being deleted gracefully count as expected too.
    if (items.every((i) => i.metadata?.deletionTimestamp)) return { estimate: 1, count: items.length, finalizers };
    throw new Error(`unexpected items still remain in namespace: ${namespace} for gvr: ${def.group}/${def.version}, Resource=${def.resource}`);
  }

  /** The five deletion conditions, as upstream's namespaceConditionUpdater computes them. */
  private conditions(ns: Namespace, errors: string[], remaining: Map<ResourceDef, number>, finalizers: Map<string, number>): NamespaceCondition[] {
    const now = rfc3339(this.clock.now());
    const failed: Partial<Record<(typeof DELETION_CONDITION_TYPES)[number], { reason: string; message: string }>> = {};
    if (errors.length) {
      failed.NamespaceDeletionContentFailure = { reason: 'ContentDeletionFailed', message: `Failed to delete all resource types, ${errors.length} remaining: ${errors.join(', ')}` };
    }
    if (remaining.size) {
      const list = [...remaining].map(([d, n]) => `${d.resource}.${d.group} has ${n} resource instances`).sort();
      failed.NamespaceContentRemaining = { reason: 'SomeResourcesRemain', message: `Some resources are remaining: ${list.join(', ')}` };
    }
    if (finalizers.size) {
      const list = [...finalizers].map(([f, n]) => `${f} in ${n} resource instances`).sort();
      failed.NamespaceFinalizersRemaining = { reason: 'SomeFinalizersRemain', message: `Some content in the namespace has finalizers remaining: ${list.join(', ')}` };
    }
    const old = ns.status?.conditions ?? [];
    return DELETION_CONDITION_TYPES.map((type) => {
      const { reason, message } = failed[type] ?? OK[type];
      const status = failed[type] ? 'True' : 'False';
      const prev = old.find((c) => c.type === type);
      // An unchanged condition keeps its lastTransitionTime, so that a quiet pass writes nothing.
      if (prev && prev.status === status && prev.reason === reason && prev.message === message) return prev;
      return { type, status, lastTransitionTime: now, reason, message };
    });
  }

  private async updateConditions(ns: Namespace, conditions: NamespaceCondition[]): Promise<void> {
    const others = (ns.status?.conditions ?? []).filter((c) => !(DELETION_CONDITION_TYPES as readonly string[]).includes(c.type));
    const next = [...others, ...conditions];
    if (JSON.stringify(next) === JSON.stringify(ns.status?.conditions ?? [])) return;
    try {
      const updated = await this.writeStatus({ ...ns, status: { ...ns.status, conditions: next } });
      if (updated) ns.metadata = updated.metadata;
    } catch (e) {
      // Conditions are information: a failed write does not stop the deletion (upstream logs it too).
      this.log.warn({ err: e, namespace: ns.metadata?.name }, 'could not update namespace conditions');
    }
  }

  private async writeStatus(ns: Namespace): Promise<Namespace | undefined> {
    try {
      return await this.deps.client.update<Namespace>(NAMESPACES, undefined, ns, { subresource: 'status' });
    } catch (e) {
      if (e instanceof ApiError && e.isNotFound) return undefined;
      throw e;
    }
  }

  /** Removes our finalizer through namespaces/{name}/finalize, re-reading on a conflict (upstream's finalizeNamespace). */
  private async finalize(ns: Namespace): Promise<void> {
    let current: Namespace | undefined = ns;
    for (let attempt = 0; current; attempt++) {
      const finalizers = (current.spec?.finalizers ?? []).filter((f) => f !== FINALIZER_KUBERNETES);
      try {
        await this.deps.client.request('PUT', `/api/v1/namespaces/${encodeURIComponent(current.metadata!.name!)}/finalize`, {
          body: { ...current, spec: { ...current.spec, finalizers } },
        });
        this.log.info({ namespace: current.metadata!.name }, 'namespace emptied and finalized');
        return;
      } catch (e) {
        if (e instanceof ApiError && e.isNotFound) return;
        if (!(e instanceof ApiError && e.isConflict) || attempt >= 4) throw e;
        current = await this.getNamespace(current.metadata!.name!);
      }
    }
  }
}
