import { groupVersion, type ResourceDef } from './registry.js';
import type { KubeObjectLike } from './client.js';
import type { OwnerReference } from './types.js';

/** The owner reference marked `controller: true`, if any (metav1.GetControllerOf). */
export function getControllerOf(obj: KubeObjectLike): OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((r) => r.controller === true);
}

/**
 * An owner reference making `owner` the controller of what carries it, with blockOwnerDeletion set
 * (metav1.NewControllerRef). `def` gives the owner's apiVersion and kind.
 */
export function newControllerRef(owner: KubeObjectLike, def: Pick<ResourceDef, 'group' | 'version' | 'kind'>): OwnerReference {
  const { name, uid } = owner.metadata ?? {};
  if (!name || !uid) throw new Error(`newControllerRef: the owner ${def.kind} needs metadata.name and metadata.uid`);
  return { apiVersion: groupVersion(def.group, def.version), kind: def.kind, name, uid, controller: true, blockOwnerDeletion: true };
}

/** True when `owner` is the controller of `obj`: same uid as its controller reference (metav1.IsControlledBy). */
export function isControlledBy(obj: KubeObjectLike, owner: KubeObjectLike): boolean {
  const ref = getControllerOf(obj);
  return ref !== undefined && ref.uid === owner.metadata?.uid;
}
