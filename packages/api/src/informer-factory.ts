import type { KubeObjectLike } from './client.js';
import type { Indexers } from './indexer.js';
import { Informer, type InformerOptions, type SharedInformer } from './informer.js';
import type { ResourceDef } from './registry.js';

/** Which objects of a resource an informer holds, and the indexes a caller needs over them. */
export interface InformerRequest<T> {
  /** One namespace; all namespaces when omitted. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Added to the shared informer's indexes (the same name must mean the same function). */
  indexers?: Indexers<T>;
}

/**
 * Hands out shared informers (client-go's SharedInformerFactory): the real one is `SharedInformerFactory`,
 * tests use `FakeInformerFactory` from `@k8ts/api/testing`.
 */
export interface InformerFactory {
  /** The one informer for (resource, namespace, selectors) in this process; created on first request. */
  informerFor<T extends KubeObjectLike>(def: ResourceDef, request?: InformerRequest<T>): SharedInformer<T>;
  /** Starts every informer requested so far and not yet started; call again after requesting more. */
  start(signal: AbortSignal): void;
  /** Waits until every started informer has synced: true, or false if `signal` aborted first. */
  waitForCacheSync(signal: AbortSignal): Promise<boolean>;
  /** Resolves once every started informer has stopped (after the start signal aborted). */
  shutdown(): Promise<void>;
}

/** The client and the tuning every informer of the factory gets (see InformerOptions). */
export type SharedInformerFactoryOptions = Pick<InformerOptions, 'client' | 'log' | 'clock' | 'minBackoffMs' | 'maxBackoffMs' | 'pageSize' | 'random'>;

/** What tells shared informers of one resource apart. */
export type InformerSelectors = Pick<InformerRequest<unknown>, 'namespace' | 'labelSelector' | 'fieldSelector'>;

/** The informer key: one list+watch per (group, version, resource, namespace, label selector, field selector). */
export function informerKey(def: ResourceDef, r: InformerSelectors): string {
  return JSON.stringify([def.group, def.version, def.resource, r.namespace ?? '', r.labelSelector ?? '', r.fieldSelector ?? '']);
}

/**
 * One list+watch per (resource, namespace, selectors) per process, handed to every controller that asks, so
 * that ten controllers reading pods cost the apiserver one watch (client-go's informers.SharedInformerFactory).
 */
export class SharedInformerFactory implements InformerFactory {
  private readonly informers = new Map<string, Informer<KubeObjectLike>>();
  private readonly running = new Map<string, Promise<void>>();

  constructor(private readonly opts: SharedInformerFactoryOptions) {}

  informerFor<T extends KubeObjectLike>(def: ResourceDef, request: InformerRequest<T> = {}): SharedInformer<T> {
    const key = informerKey(def, request);
    let informer = this.informers.get(key) as Informer<T> | undefined;
    if (!informer) {
      informer = new Informer<T>({
        ...this.opts, def, namespace: request.namespace, labelSelector: request.labelSelector, fieldSelector: request.fieldSelector,
      });
      this.informers.set(key, informer as unknown as Informer<KubeObjectLike>);
    }
    if (request.indexers) informer.addIndexers(request.indexers);
    return informer;
  }

  start(signal: AbortSignal): void {
    for (const [key, informer] of this.informers) {
      if (this.running.has(key) || signal.aborted) continue;
      this.running.set(key, informer.run(signal));
    }
  }

  async waitForCacheSync(signal: AbortSignal): Promise<boolean> {
    const started = [...this.running.keys()].map((key) => this.informers.get(key)!);
    try {
      await Promise.all(started.map((i) => i.waitForSync(signal)));
      return true;
    } catch {
      return false;
    }
  }

  async shutdown(): Promise<void> {
    await Promise.allSettled([...this.running.values()]);
  }
}
