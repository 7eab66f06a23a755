import { ApiError, findResource, type ResourceDef } from '@k8ts/api';
import { SYSTEM_PRIORITY_CLASSES } from './registry/scheduling/priorityclass.js';
import type { ResourceStore } from './rest-store.js';

/** A hook run once the stores are up, before the server answers (upstream's PostStartHookFunc). Idempotent. */
export interface PostStartHook {
  name: string;
  run(stores: ReadonlyMap<ResourceDef, ResourceStore>): Promise<void>;
}

const store = (stores: ReadonlyMap<ResourceDef, ResourceStore>, group: string, version: string, resource: string) =>
  stores.get(findResource(group, version, resource)!)!;

const ignoreExists = (err: unknown) => {
  if (!(err instanceof ApiError && err.isAlreadyExists)) throw err;
};

/** Creates the built-in classes that are missing (upstream's AddSystemPriorityClasses post-start hook). Idempotent. */
export async function bootstrapSystemPriorityClasses(classes: ResourceStore): Promise<void> {
  for (const c of SYSTEM_PRIORITY_CLASSES) {
    await classes.create(undefined, { metadata: { name: c.name }, value: c.value, description: c.description }).catch(ignoreExists);
  }
}

/** The provisioner of the local-path class: rancher's, so manifests written for k3s's default class work unchanged. */
export const LOCAL_PATH_PROVISIONER = 'rancher.io/local-path';

/**
 * The cluster's default StorageClass, as k3s ships it (its local-storage manifest): `local-path`, provisioned on the
 * node the first pod is scheduled to (WaitForFirstConsumer), deleted with its claim. Created when missing, never
 * changed: an administrator's edits (even dropping the default annotation) stay.
 */
export async function bootstrapLocalPathStorageClass(classes: ResourceStore): Promise<void> {
  await classes.create(undefined, {
    metadata: { name: 'local-path', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    provisioner: LOCAL_PATH_PROVISIONER, reclaimPolicy: 'Delete', volumeBindingMode: 'WaitForFirstConsumer',
  }).catch(ignoreExists);
}

/**
 * Objects every cluster starts with: the four namespaces, the system priority classes and the local-path class. The `kubernetes` Service is
 * kept by kubernetes-service.ts, a post-start hook that keeps running.
 */
export const POST_START_HOOKS: readonly PostStartHook[] = [
  {
    name: 'bootstrap-namespaces',
    run: async (stores) => {
      const ns = store(stores, '', 'v1', 'namespaces');
      for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
        await ns.create(undefined, { metadata: { name } }).catch(ignoreExists);
      }
    },
  },
  {
    // Services stored before their cluster IPs and node ports were reservations get them (upstream's repair loops).
    name: 'start-service-ip-repair',
    run: async (stores) => { await store(stores, '', 'v1', 'services').repairReservations(); },
  },
  {
    name: 'scheduling/bootstrap-system-priority-classes',
    run: (stores) => bootstrapSystemPriorityClasses(store(stores, 'scheduling.k8s.io', 'v1', 'priorityclasses')),
  },
  {
    name: 'storage/bootstrap-local-path-storage-class',
    run: (stores) => bootstrapLocalPathStorageClass(store(stores, 'storage.k8s.io', 'v1', 'storageclasses')),
  },
];
