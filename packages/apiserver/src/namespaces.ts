import { ApiError, errors, findResource, RESOURCES, type KubeObject, type Logger, type ResourceDef } from '@k8ts/api';
import type { ResourceStore } from './rest-store.js';

/** Namespaces that can never be deleted (upstream's immortalNamespaces). */
export const IMMORTAL_NAMESPACES: readonly string[] = ['default', 'kube-system', 'kube-public'];

/**
 * Namespace lifecycle: refuses content in missing or terminating namespaces (upstream's NamespaceLifecycle
 * admission), and empties a terminating namespace, then removes it (upstream's namespace controller, kept
 * in the apiserver until the controller-manager lands).
 */
export class NamespaceLifecycle {
  private stores = new Map<ResourceDef, ResourceStore>();
  private namespaces: ResourceStore | undefined;
  private pending = new Map<string, NodeJS.Timeout | 'running'>();
  private stopped = false;
  private sub: { close(): void } | undefined;

  /**
   * @param startDelayMs how long a deleted namespace waits before its content is removed, so that a client
   *   deleting the namespace and its objects in one go (`kubectl delete -f`) finds them still there.
   */
  constructor(private readonly log: Logger, private readonly retryMs = 1000, private readonly startDelayMs = 2000) {}

  attach(stores: Map<ResourceDef, ResourceStore>): void {
    this.stores = stores;
    this.namespaces = stores.get(findResource('', 'v1', 'namespaces')!)!;
    const subscribe = () => {
      if (this.stopped) return;
      this.sub = this.namespaces!.cache.subscribe(undefined, (ev) => {
        if (ev.type !== 'DELETED' && ev.object.metadata?.deletionTimestamp) this.schedule(ev.object.metadata.name!, this.startDelayMs);
      }, () => setTimeout(subscribe, 100).unref());
    };
    subscribe();
  }

  /** Refuses deleting `default`, `kube-system` and `kube-public`, as upstream's NamespaceLifecycle admission. */
  checkDelete(def: ResourceDef, name: string): void {
    if (def.group === '' && def.resource === 'namespaces' && IMMORTAL_NAMESPACES.includes(name)) {
      throw new ApiError(403, 'Forbidden', `namespaces "${name}" is forbidden: this namespace may not be deleted`, { name, kind: 'namespaces' });
    }
  }

  /** Admission for creates: the namespace must exist and not be terminating. */
  async admit(def: ResourceDef, obj: KubeObject): Promise<void> {
    if (!def.namespaced || !this.namespaces) return;
    const name = obj.metadata?.namespace ?? '';
    if (!name) throw errors.badRequest('the namespace of the object is required');
    let ns = this.namespaces.cache.objects.get(`/${name}`);
    if (!ns) {
      // The cache may lag a namespace created a moment ago: ask etcd before refusing.
      ns = await this.namespaces.get(undefined, name);
    }
    if (ns.metadata?.deletionTimestamp) {
      throw new ApiError(403, 'Forbidden', `${def.resource} "${obj.metadata?.name ?? ''}" is forbidden: unable to create new content in namespace ${name} because it is being terminated`,
        { name: obj.metadata?.name, kind: def.resource, ...(def.group ? { group: def.group } : {}) });
    }
  }

  private schedule(name: string, delayMs: number): void {
    if (this.stopped || this.pending.has(name)) return;
    const timer = setTimeout(() => {
      this.pending.set(name, 'running');
      this.finalize(name).then((done) => {
        this.pending.delete(name);
        if (!done) this.schedule(name, this.retryMs);
      }, (err: unknown) => {
        this.pending.delete(name);
        this.log.warn({ err, namespace: name }, 'namespace cleanup failed; retrying');
        this.schedule(name, this.retryMs);
      });
    }, delayMs);
    timer.unref();
    this.pending.set(name, timer);
  }

  /** One pass: deletes what is left in the namespace; once nothing is, drops the `kubernetes` finalizer. */
  private async finalize(name: string): Promise<boolean> {
    let remaining = 0;
    for (const def of RESOURCES) {
      if (!def.namespaced) continue;
      const store = this.stores.get(def)!;
      const { items } = await store.list(name, {});
      remaining += items.length;
      for (const item of items) {
        if (item.metadata?.deletionTimestamp) continue;
        await store.delete(name, item.metadata!.name!, { propagationPolicy: 'Background' }).catch((err: unknown) => {
          if (!(err instanceof ApiError && err.isNotFound)) throw err;
        });
      }
    }
    if (remaining > 0) return false;
    try {
      await this.namespaces!.mutate(undefined, name, (ns: any) => {
        ns.spec = { ...ns.spec, finalizers: (ns.spec?.finalizers ?? []).filter((f: string) => f !== 'kubernetes') };
        return ns;
      }, { subresource: 'internal' });
    } catch (err) {
      if (!(err instanceof ApiError && err.isNotFound)) throw err;
    }
    this.log.info({ namespace: name }, 'namespace emptied and removed');
    return true;
  }

  stop(): void {
    this.stopped = true;
    this.sub?.close();
    for (const t of this.pending.values()) if (t !== 'running') clearTimeout(t);
  }
}
