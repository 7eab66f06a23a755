import { ApiError, errors, findResource, type KubeObject, type ResourceDef } from '@k8ts/api';
import type { ResourceStore } from './rest-store.js';

/**
 * Namespace lifecycle admission (upstream's NamespaceLifecycle): refuses content in missing or terminating
 * namespaces. Emptying a terminating namespace is the controller-manager's namespace controller's job (GC change:
 * the in-apiserver cleanup is gone; it finishes through namespaces/{name}/finalize).
 */
export class NamespaceLifecycle {
  private namespaces: ResourceStore | undefined;

  attach(stores: Map<ResourceDef, ResourceStore>): void {
    this.namespaces = stores.get(findResource('', 'v1', 'namespaces')!)!;
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
        { name: obj.metadata?.name, kind: def.resource, ...(def.group ? { group: def.group } : {}), causes: [{ reason: 'NamespaceTerminating', message: `namespace ${name} is being terminated`, field: 'metadata.namespace' }] });
    }
  }
}
