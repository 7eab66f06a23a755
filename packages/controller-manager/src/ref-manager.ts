import {
  ApiError, getControllerOf, matchesLabels, newControllerRef, objectKey,
  type ApiClient, type KubeObjectLike, type LabelRequirement, type ResourceDef,
} from '@k8ts/api';

export interface ClaimOptions {
  client: ApiClient;
  /** The controller claiming, and its resource. */
  owner: KubeObjectLike;
  ownerDef: ResourceDef;
  /** The resource of what is claimed (pods for a ReplicaSet, ReplicaSets for a Deployment). */
  dependentDef: ResourceDef;
  selector: readonly LabelRequirement[];
}

/**
 * What `owner` controls after adoption and release (upstream's ControllerRefManager.Claim*): its own that still
 * match, plus matching orphans it adopts; its own that stopped matching are released. Adoption rechecks the owner
 * from the apiserver once (canAdopt), so that an owner being deleted adopts nothing. Patches carry the
 * dependent's uid, so a dependent replaced under the same name is never patched.
 */
export async function claim<T extends KubeObjectLike>(opts: ClaimOptions, candidates: readonly T[]): Promise<T[]> {
  const { client, owner, ownerDef, dependentDef, selector } = opts;
  const uid = owner.metadata!.uid!;
  const deleting = !!owner.metadata?.deletionTimestamp;
  const claimed: T[] = [];
  let checked = false;
  const patch = async (obj: T, body: unknown): Promise<boolean> => {
    try {
      await client.patch(dependentDef, obj.metadata!.namespace, obj.metadata!.name!, body, 'strategic');
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.isNotFound) return false;
      throw e;
    }
  };
  for (const obj of candidates) {
    const ref = getControllerOf(obj);
    const matches = matchesLabels(selector, obj.metadata?.labels);
    if (ref) {
      if (ref.uid !== uid) continue;
      if (matches) { claimed.push(obj); continue; }
      if (!deleting) await patch(obj, { metadata: { ownerReferences: [{ $patch: 'delete', uid }], uid: obj.metadata!.uid } });
      continue;
    }
    if (!matches || deleting || obj.metadata?.deletionTimestamp) continue;
    if (!checked) {
      const fresh = await client.get<KubeObjectLike>(ownerDef, owner.metadata!.namespace, owner.metadata!.name!);
      if (fresh.metadata?.uid !== uid) throw new Error(`original ${objectKey(owner)} is gone: got uid ${fresh.metadata?.uid}, wanted ${uid}`);
      if (fresh.metadata?.deletionTimestamp) throw new Error(`${objectKey(owner)} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
      checked = true;
    }
    if (await patch(obj, { metadata: { ownerReferences: [newControllerRef(owner, ownerDef)], uid: obj.metadata!.uid } })) claimed.push(obj);
  }
  return claimed;
}
