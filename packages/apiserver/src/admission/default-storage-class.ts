import type { KubeObject } from '@k8ts/api';
import { isDefaultClass } from '../registry/storage/storageclass.js';
import type { ResourceStore } from '../rest-store.js';
import type { AdmissionAttributes, AdmissionPlugin } from './chain.js';

/** The beta annotation that named a claim's class before spec.storageClassName (upstream still honours it). */
const BETA_STORAGE_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';

/**
 * The default class among these (upstream's util.GetDefaultClass): of the classes marked default, the newest
 * (then the name, for a stable answer), so that a cluster briefly holding two defaults while switching picks the new one.
 */
export function defaultStorageClass(classes: Iterable<KubeObject>): KubeObject | undefined {
  let best: KubeObject | undefined;
  for (const sc of classes) {
    if (!isDefaultClass(sc)) continue;
    const t = String(sc.metadata?.creationTimestamp ?? '');
    const bt = String(best?.metadata?.creationTimestamp ?? '');
    if (!best || t > bt || (t === bt && String(sc.metadata?.name) < String(best.metadata?.name))) best = sc;
  }
  return best;
}

/**
 * Upstream's DefaultStorageClass admission (plugin/pkg/admission/storage/storageclass/setdefault): a new
 * PersistentVolumeClaim that names no class (spec.storageClassName unset, no beta annotation) gets the default
 * class's name. A claim with `storageClassName: ""` asked for no class and is left alone. Reads the classes'
 * watch cache, as upstream reads its informer.
 */
export class DefaultStorageClass implements AdmissionPlugin {
  readonly name = 'DefaultStorageClass';
  private classes: ResourceStore | undefined;

  attach(classes: ResourceStore): void {
    this.classes = classes;
  }

  mutate(a: AdmissionAttributes): void {
    if (a.operation !== 'CREATE' || a.subresource || !a.object || !this.classes) return;
    if (a.def.group !== '' || a.def.resource !== 'persistentvolumeclaims') return;
    const pvc = a.object as KubeObject & { spec?: { storageClassName?: string | null } };
    if (pvc.spec?.storageClassName !== undefined && pvc.spec.storageClassName !== null) return;
    if (pvc.metadata?.annotations?.[BETA_STORAGE_CLASS_ANNOTATION] !== undefined) return;
    const sc = defaultStorageClass(this.classes.cache.objects.values());
    if (!sc) return;
    (pvc.spec ??= {}).storageClassName = sc.metadata!.name;
  }
}
