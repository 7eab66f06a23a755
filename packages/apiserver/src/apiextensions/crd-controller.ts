import { ApiError, runWorkers, WorkQueue, type KubeObject, type Logger, type ResourceDef } from '@k8ts/api';
import type { AdmissionChain } from '../admission/chain.js';
import {
  CRD_CLEANUP_FINALIZER, crdCondition, crdConditionTrue, setCrdCondition, type CRD,
} from '../registry/apiextensions/customresourcedefinition.js';
import { ResourceStore } from '../rest-store.js';
import type { Storage } from '../storage.js';
import { WatchCache } from '../watch-cache.js';
import { registerManagedFieldsSchema } from '../managed-fields/index.js';
import { CUSTOM_INFO, servedVersions, type ServedVersion } from './custom-resource.js';

/*
 * Serving CustomResourceDefinitions inside the apiserver, as upstream's apiextensions-apiserver: every apiserver
 * follows the CRDs through its own watch cache (so a CRD written through another apiserver is served here too) and
 *  - names them (status controller, naming_controller.go: NamesAccepted, acceptedNames),
 *  - establishes them (establishing controller: Established),
 *  - serves each established CRD's versions (crdHandler: one watch cache per custom resource, started on
 *    Established and stopped on delete; the stores swapped when the CRD changes),
 *  - and cleans up a deleted CRD (crd_finalizer.go: every custom object deleted, then the finalizer removed).
 */

interface Serving {
  crd: CRD;
  /** group/plural/scope: a CRD change that keeps these keeps the watch cache. */
  cacheKey: string;
  cache: WatchCache;
  versions: ServedVersion[];
  stores: ResourceStore[];
}

export interface CustomResourcesDeps {
  storage: Storage;
  log: Logger;
  admission: AdmissionChain;
  /** The CRDs' store and watch cache. */
  crds: ResourceStore;
  crdCache: WatchCache;
  /** The apiserver's maps of stores and caches by row, which custom rows are added to and removed from. */
  stores: Map<ResourceDef, ResourceStore>;
  caches: Map<ResourceDef, WatchCache>;
  watchCacheSize?: number;
  /** Requeue delay while custom objects of a deleted CRD still wait on their finalizers. */
  cleanupRetryMs?: number;
}

/** The custom resources one apiserver serves, and the controllers that keep CRDs' status and cleanup. */
export class CustomResources {
  private readonly serving = new Map<string, Serving>();
  private readonly byGvr = new Map<string, ResourceDef>();
  private readonly queue = new WorkQueue<string>({ qps: 1000, burst: 1000 });
  private readonly listeners = new Set<() => void>();
  private readonly abort = new AbortController();
  private workers: Promise<void> | undefined;
  private subscription: { close(): void } | undefined;
  /** Bumped on every change of what is served (discovery and OpenAPI caches key on it). */
  generation = 0;

  constructor(private readonly deps: CustomResourcesDeps) {}

  /** The custom row at group/version/resource, served now, or undefined: one map lookup. */
  find(group: string, version: string, resource: string): ResourceDef | undefined {
    return this.byGvr.get(`${group}/${version}/${resource}`);
  }

  /** Every served custom row (each served version of each established CRD). */
  defs(): ResourceDef[] {
    return [...this.byGvr.values()];
  }

  /** The CRDs served now, with their served versions. */
  served(): { crd: CRD; versions: ServedVersion[] }[] {
    return [...this.serving.values()].map((s) => ({ crd: s.crd, versions: s.versions }));
  }

  /** Called after every change of what is served. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Forwards an etcd compaction to the custom resources' watch caches. */
  compacted(revision: number): void {
    for (const s of this.serving.values()) s.cache.compacted(revision);
  }

  /** Follows the CRD watch cache and starts the workers; CRDs already stored are served before it returns. */
  async start(): Promise<void> {
    await this.deps.crdCache.ready;
    this.subscribe();
    const names = [...this.deps.crdCache.objects.values()].map((c) => c.metadata!.name!);
    await Promise.all(names.map((n) => this.sync(n).catch((err: unknown) => {
      this.deps.log.warn({ err, crd: n }, 'serving a CustomResourceDefinition failed; retrying');
      this.queue.addRateLimited(n);
    })));
    this.workers = runWorkers(this.queue, (name) => this.sync(name), { signal: this.abort.signal, log: this.deps.log, keyField: 'crd' });
  }

  private subscribe(): void {
    if (this.abort.signal.aborted) return;
    // Re-subscribed from the current state when the cache resyncs (it drops its subscribers then).
    this.subscription = this.deps.crdCache.subscribe(undefined, (ev) => this.queue.add(ev.object.metadata!.name!), () => {
      void this.deps.crdCache.ready.then(() => {
        this.subscribe();
        for (const name of this.serving.keys()) this.queue.add(name);
      });
    });
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.subscription?.close();
    await this.workers;
    await Promise.all([...this.serving.values()].map((s) => s.cache.stop()));
    this.serving.clear();
    this.byGvr.clear();
  }

  /** Converges one CRD: its status, its cleanup when deleted, and what this apiserver serves for it. */
  async sync(name: string): Promise<void> {
    const crd = this.deps.crdCache.objects.get(`/${name}`) as CRD | undefined;
    if (!crd) { await this.unserve(name); return; }
    if (crd.metadata?.deletionTimestamp) {
      if (crd.metadata.finalizers?.includes(CRD_CLEANUP_FINALIZER)) {
        await this.serve(crd);
        await this.finalize(crd);
      }
      return;
    }
    if (await this.updateStatus(crd)) return; // the write comes back through the watch
    if (crdConditionTrue(crd, 'Established')) await this.serve(crd);
    else await this.unserve(name);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Naming and establishing

  /** The names another CRD of the same group has accepted, which this one may not take. */
  private namesInUse(crd: CRD): { resources: Set<string>; kinds: Set<string> } {
    const resources = new Set<string>();
    const kinds = new Set<string>();
    for (const o of this.deps.crdCache.objects.values()) {
      const other = o as unknown as CRD;
      if (other.metadata?.name === crd.metadata?.name || other.spec?.group !== crd.spec.group) continue;
      const a = other.status?.acceptedNames;
      if (!a) continue;
      for (const n of [a.plural, a.singular, ...(a.shortNames ?? [])]) if (n) resources.add(n);
      for (const k of [a.kind, a.listKind]) if (k) kinds.add(k);
    }
    return { resources, kinds };
  }

  /**
   * NamesAccepted and acceptedNames (naming controller) and Established (establishing controller) as upstream
   * words them; writes the status when it changed. Returns whether it wrote.
   */
  private async updateStatus(crd: CRD): Promise<boolean> {
    const next = structuredClone(crd);
    const names = crd.spec.names;
    const { resources, kinds } = this.namesInUse(crd);
    const conflict = (reason: string, value: string | undefined, used: Set<string>) =>
      value && used.has(value) ? { reason, message: `${JSON.stringify(value)} is already in use` } : undefined;
    const problem = conflict('PluralConflict', names.plural, resources) ?? conflict('SingularConflict', names.singular, resources)
      ?? (names.shortNames ?? []).map((s) => conflict('ShortNamesConflict', s, resources)).find(Boolean)
      ?? conflict('KindConflict', names.kind, kinds) ?? conflict('ListKindConflict', names.listKind, kinds);
    if (problem) {
      setCrdCondition(next, { type: 'NamesAccepted', status: 'False', ...problem });
    } else {
      next.status!.acceptedNames = structuredClone(names);
      setCrdCondition(next, { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' });
    }
    const accepted = !problem;
    const established = crdCondition(next, 'Established');
    if (accepted && established?.status !== 'True') {
      setCrdCondition(next, { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' });
    } else if (!accepted && !established) {
      setCrdCondition(next, { type: 'Established', status: 'False', reason: 'NotAccepted', message: 'not all names are accepted' });
    }
    if (JSON.stringify(next.status) === JSON.stringify(crd.status)) return false;
    // Served before Established is written, as upstream's handler serves from NamesAccepted on: a client that waits
    // for the condition finds the resource there.
    if (crdConditionTrue(next, 'Established')) await this.serve(next);
    await this.writeStatus(crd, next.status!);
    return true;
  }

  private async writeStatus(crd: CRD, status: NonNullable<CRD['status']>): Promise<void> {
    try {
      await this.deps.crds.mutate(undefined, crd.metadata!.name!, (current) => {
        // Another apiserver (or a client) changed it meanwhile: converge from the newer state on its event.
        if (current.metadata?.resourceVersion !== crd.metadata?.resourceVersion) throw this.deps.crds.conflict(crd.metadata!.name!);
        return { ...current, status } as KubeObject;
      }, { subresource: 'status' });
    } catch (err) {
      if (err instanceof ApiError && (err.isConflict || err.isNotFound)) return;
      throw err;
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Serving

  private async serve(crd: CRD): Promise<void> {
    const name = crd.metadata!.name!;
    const current = this.serving.get(name);
    if (current && current.crd.metadata?.resourceVersion === crd.metadata?.resourceVersion) return;
    const versions = servedVersions(crd);
    if (!versions.length) { await this.unserve(name); return; }
    const storageDef = versions[0].strategy.def;
    const cacheKey = `${storageDef.group}/${storageDef.resource}/${storageDef.namespaced}`;
    let cache = current?.cacheKey === cacheKey ? current.cache : undefined;
    if (!cache) {
      cache = new WatchCache(storageDef, this.deps.storage, this.deps.log, this.deps.watchCacheSize);
      await cache.start();
    }
    const stores = versions.map((v) => new ResourceStore(v.strategy, this.deps.storage, cache, this.deps.log, this.deps.admission, v.conversion));
    if (current) this.removeRows(current);
    const terminating = !!crd.metadata?.deletionTimestamp;
    versions.forEach((v, i) => {
      this.byGvr.set(`${v.def.group}/${v.def.version}/${v.def.resource}`, v.def);
      this.deps.stores.set(v.def, stores[i]);
      this.deps.caches.set(v.def, cache);
      CUSTOM_INFO.set(v.def, { crdName: name, printer: v.printer, schema: v.schema, warning: v.warning, terminating });
      registerManagedFieldsSchema(v.def.group, v.def.version, v.def.kind, { definitions: {}, root: managedFieldsRoot(v.schema.schema) });
    });
    if (current && current.cache !== cache) await current.cache.stop();
    this.serving.set(name, { crd, cacheKey, cache, versions, stores });
    if (!current) this.deps.log.info({ crd: name, versions: versions.map((v) => v.def.version) }, 'serving custom resource');
    this.changed();
  }

  private removeRows(s: Serving): void {
    for (const v of s.versions) {
      this.byGvr.delete(`${v.def.group}/${v.def.version}/${v.def.resource}`);
      this.deps.stores.delete(v.def);
      this.deps.caches.delete(v.def);
      registerManagedFieldsSchema(v.def.group, v.def.version, v.def.kind, undefined);
    }
  }

  private async unserve(name: string): Promise<void> {
    const s = this.serving.get(name);
    if (!s) return;
    this.serving.delete(name);
    this.removeRows(s);
    await s.cache.stop();
    this.deps.log.info({ crd: name }, 'stopped serving custom resource');
    this.changed();
  }

  private changed(): void {
    this.generation++;
    for (const l of this.listeners) l();
  }

  // -------------------------------------------------------------------------------------------------------------
  // Cleanup of a deleted CRD (crd_finalizer.go)

  private async finalize(crd: CRD): Promise<void> {
    const name = crd.metadata!.name!;
    const s = this.serving.get(name);
    const terminating = crdCondition(crd, 'Terminating');
    if (!terminating || terminating.reason === 'InstanceDeletionPending') {
      const next = structuredClone(crd);
      setCrdCondition(next, { type: 'Terminating', status: 'True', reason: 'InstanceDeletionInProgress', message: 'CustomResource deletion is in progress' });
      await this.writeStatus(crd, next.status!);
      return;
    }
    if (s) {
      const store = s.stores[0];
      const page = await store.list(undefined, {});
      for (const item of page.items) {
        try {
          await store.delete(item.metadata?.namespace, item.metadata!.name!, {});
        } catch (err) {
          if (!(err instanceof ApiError && err.isNotFound)) throw err;
        }
      }
      const left = (await store.list(undefined, { limit: 1 })).items.length;
      if (left > 0) {
        // Objects with finalizers of their own go when those are removed: look again shortly.
        this.queue.addAfter(name, this.deps.cleanupRetryMs ?? 1000);
        return;
      }
    }
    const next = structuredClone(crd);
    setCrdCondition(next, { type: 'Terminating', status: 'False', reason: 'InstanceDeletionCompleted', message: 'removed all instances' });
    await this.writeStatus(crd, next.status!);
    try {
      await this.deps.crds.mutate(undefined, name, (current) => {
        current.metadata!.finalizers = (current.metadata!.finalizers ?? []).filter((f) => f !== CRD_CLEANUP_FINALIZER);
        return current;
      });
    } catch (err) {
      if (!(err instanceof ApiError && (err.isNotFound || err.isConflict))) throw err;
      if (err.isConflict) this.queue.add(name);
    }
  }
}

/** ObjectMeta's shape as field ownership needs it (upstream's published schema refers to ObjectMeta). */
const OBJECT_META = {
  type: 'object',
  properties: {
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
    finalizers: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
    ownerReferences: { type: 'array', items: { type: 'object' }, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['uid'] },
  },
};

/**
 * The schema managed fields use for a custom kind: the version's openAPIV3Schema with ObjectMeta in place of the
 * `metadata` it may not describe, so list types and map keys of the CRD decide ownership as upstream.
 */
function managedFieldsRoot(schema: Record<string, unknown>): Record<string, unknown> {
  const props = (schema.properties ?? {}) as Record<string, unknown>;
  if (!Object.keys(props).length) return schema;
  return { ...schema, properties: { ...props, apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: OBJECT_META } };
}
