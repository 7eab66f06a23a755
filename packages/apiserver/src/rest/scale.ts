import { ApiError, errors, formatLabelSelector, labelSelectorRequirements, type KubeObject } from '@k8ts/api';
import { patchInvalid, type PatchType, type ResourceStore } from '../rest-store.js';
import { checkTypes } from '../type-check.js';

/** The selector string of a LabelSelector-typed spec.selector, as upstream's metav1.LabelSelectorAsSelector. */
function labelSelectorString(obj: any): string {
  const reqs = labelSelectorRequirements(obj.spec?.selector);
  return reqs ? formatLabelSelector(reqs) : '';
}

/** The autoscaling/v1 Scale of an object whose kind serves /scale (upstream's scale subresource REST). */
export function toScale(store: ResourceStore, obj: any) {
  const scale = store.strategy.scale;
  return {
    kind: 'Scale', apiVersion: 'autoscaling/v1',
    metadata: {
      name: obj.metadata.name, namespace: obj.metadata.namespace, uid: obj.metadata.uid,
      resourceVersion: obj.metadata.resourceVersion, creationTimestamp: obj.metadata.creationTimestamp,
    },
    ...(scale ? {
      spec: { replicas: scale.specReplicas(obj) },
      status: { replicas: scale.statusReplicas(obj), selector: scale.selector(obj) },
    } : {
      spec: { replicas: obj.spec?.replicas ?? 0 },
      status: { replicas: obj.status?.replicas ?? 0, selector: (store.strategy.scaleSelector ?? labelSelectorString)(obj) },
    }),
  };
}

/** A write to /scale: a PUT of a Scale, or a merge/JSON patch of one. */
export type ScaleWrite = { method: 'PUT'; body: unknown } | { method: 'PATCH'; patchType: PatchType; body: unknown };

/**
 * Sets spec.replicas from a Scale written by PUT or PATCH. A PUT with a stale resourceVersion conflicts; a PATCH
 * computed on a state that changed underneath is recomputed, as upstream's GuaranteedUpdate.
 */
export async function updateScale(store: ResourceStore, namespace: string | undefined, name: string, write: ScaleWrite, dryRun: boolean, manager?: string) {
  for (let attempt = 0; ; attempt++) {
    const obj = await store.get(namespace, name);
    const current = toScale(store, obj);
    let wanted: any;
    if (write.method === 'PUT') {
      wanted = write.body;
      if (typeof wanted !== 'object' || wanted === null) throw errors.badRequest('the body of the request was in an unknown format: expected a Scale');
      const rv = wanted.metadata?.resourceVersion;
      if (rv && rv !== obj.metadata?.resourceVersion) throw store.conflict(name);
    } else {
      wanted = store.applyPatch(current as KubeObject, write.patchType === 'json' ? 'json' : 'merge', write.body ?? {});
    }
    // A Scale's fields have their Go types (replicas is an int32): a PUT body fails to decode (400), a patch result is a 422.
    const typeErrors = typeof wanted === 'object' && wanted !== null ? checkTypes({ kind: 'Scale' }, wanted) : [];
    if (typeErrors.length) {
      if (write.method === 'PUT') throw errors.badRequest(`Scale in version "v1" cannot be handled as a Scale: ${typeErrors[0].message}`);
      throw patchInvalid(write.body, typeErrors[0].message);
    }
    const replicas = wanted?.spec?.replicas;
    if (!Number.isInteger(replicas) || replicas < 0) {
      throw errors.invalid('Scale', 'autoscaling', name, [{ field: 'spec.replicas', type: 'FieldValueInvalid', value: replicas, message: 'must be greater than or equal to 0' }]);
    }
    try {
      const updated = await store.mutate(namespace, name, (o: any) => {
        if (o.metadata.resourceVersion !== obj.metadata?.resourceVersion) throw store.conflict(name);
        if (store.strategy.scale) store.strategy.scale.setSpecReplicas(o, replicas);
        else o.spec = { ...o.spec, replicas };
        return o;
      }, { dryRun, manager, managerSubresource: 'scale' });
      return toScale(store, updated);
    } catch (err) {
      if (write.method === 'PATCH' && err instanceof ApiError && err.isConflict && attempt < 5) continue;
      throw err;
    }
  }
}
