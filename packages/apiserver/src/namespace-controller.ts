import { ApiError, findResource, RESOURCES, type Logger, type ResourceDef } from '@k8ts/api';
import type { ResourceStore } from './rest-store.js';

/**
 * Empties a terminating namespace, then removes it (upstream's namespace controller, kept in the apiserver until
 * the controller-manager lands). Admission into namespaces is admission/namespace-lifecycle.ts.
 */
export class NamespaceController {
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

  start(stores: Map<ResourceDef, ResourceStore>): void {
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
