import { errors } from '@k8ts/api';
import type { ResourceStore } from '../rest-store.js';
import { forbidden, type AdmissionAttributes, type AdmissionPlugin } from './chain.js';

/** Namespaces that can never be deleted (upstream's immortalNamespaces). */
export const IMMORTAL_NAMESPACES: readonly string[] = ['default', 'kube-system', 'kube-public'];

/**
 * Upstream's NamespaceLifecycle admission (plugin/pkg/admission/namespace/lifecycle): `default`, `kube-system` and
 * `kube-public` cannot be deleted; new content needs a namespace that exists and is not terminating. Reads the
 * namespaces watch cache, and etcd when the cache may lag.
 */
export class NamespaceLifecycle implements AdmissionPlugin {
  readonly name = 'NamespaceLifecycle';
  private namespaces: ResourceStore | undefined;

  attach(namespaces: ResourceStore): void {
    this.namespaces = namespaces;
  }

  async mutate(a: AdmissionAttributes): Promise<void> {
    if (a.operation === 'DELETE' && a.def.group === '' && a.def.resource === 'namespaces' && IMMORTAL_NAMESPACES.includes(a.name)) {
      throw forbidden(a.def, a.name, 'this namespace may not be deleted');
    }
    if (a.operation !== 'CREATE' || !a.def.namespaced || !this.namespaces) return;
    const name = a.namespace ?? '';
    if (!name) throw errors.badRequest('the namespace of the object is required');
    let ns = this.namespaces.cache.objects.get(`/${name}`);
    if (!ns) {
      // The cache may lag a namespace created a moment ago: ask etcd before refusing.
      ns = await this.namespaces.get(undefined, name);
    }
    if (ns.metadata?.deletionTimestamp) {
      throw forbidden(a.def, a.name, `unable to create new content in namespace ${name} because it is being terminated`,
        [{ reason: 'NamespaceTerminating', message: `namespace ${name} is being terminated`, field: 'metadata.namespace' }]);
    }
  }
}
