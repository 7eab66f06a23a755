import { quantityValue } from './quantity.js';
import { labelSelectorRequirements, matchesLabels } from './selectors.js';
import type { PersistentVolume, PersistentVolumeClaim, StorageClass } from './types.js';

/*
 * Persistent-volume helpers the binder, the provisioner, the scheduler and the kubelet share (upstream's
 * k8s.io/component-helpers/storage/volume and pkg/controller/volume/persistentvolume/util): the annotations,
 * the class of a claim or volume, and the claim-to-volume match.
 */

/** On a claim: the binder finished binding it (its volumeName is final). */
export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
/** On a claim (volumeName) or volume (claimRef): the binder, not the user, set the reference. */
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
/** On a claim: the node the scheduler picked for a WaitForFirstConsumer claim's first pod. */
export const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node';
/** On a claim: the provisioner asked to provision it. */
export const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
/** The beta spelling upstream still writes next to it. */
export const ANN_BETA_STORAGE_PROVISIONER = 'volume.beta.kubernetes.io/storage-provisioner';
/** On a volume: the provisioner that created it (and deletes it on Delete reclaim). */
export const ANN_DYNAMICALLY_PROVISIONED = 'pv.kubernetes.io/provisioned-by';
/** The beta annotation that named a class before spec.storageClassName. */
export const ANN_BETA_STORAGE_CLASS = 'volume.beta.kubernetes.io/storage-class';
/** A class whose volumes are never provisioned, only matched (static local volumes). */
export const NO_PROVISIONER = 'kubernetes.io/no-provisioner';

/** The class a claim asks for ('' = none): the beta annotation wins, as upstream's GetPersistentVolumeClaimClass. */
export function claimClass(claim: PersistentVolumeClaim): string {
  return claim.metadata?.annotations?.[ANN_BETA_STORAGE_CLASS] ?? claim.spec?.storageClassName ?? '';
}

/** The class a volume belongs to ('' = none), as upstream's GetPersistentVolumeClass. */
export function volumeClass(pv: PersistentVolume): string {
  return pv.metadata?.annotations?.[ANN_BETA_STORAGE_CLASS] ?? pv.spec?.storageClassName ?? '';
}

/** Whether a claim's binding waits for its first pod to be scheduled (class WaitForFirstConsumer). */
export function isDelayBindingMode(claim: PersistentVolumeClaim, classOf: (name: string) => StorageClass | undefined): boolean {
  const name = claimClass(claim);
  if (!name) return false;
  return classOf(name)?.volumeBindingMode === 'WaitForFirstConsumer';
}

/** Whether the volume's claimRef names this claim (and its uid, when the reference carries one). */
export function isVolumeBoundToClaim(pv: PersistentVolume, claim: PersistentVolumeClaim): boolean {
  const ref = pv.spec?.claimRef;
  if (!ref) return false;
  if (ref.name !== claim.metadata?.name || ref.namespace !== claim.metadata?.namespace) return false;
  return !ref.uid || ref.uid === claim.metadata?.uid;
}

/** The requested storage of a claim in bytes (0 when unparseable: validation has refused those). */
export function requestedStorage(claim: PersistentVolumeClaim): number {
  const q = claim.spec?.resources?.requests?.storage;
  try { return q === undefined ? 0 : quantityValue(q); } catch { return 0; }
}

function capacity(pv: PersistentVolume): number {
  const q = pv.spec?.capacity?.storage;
  try { return q === undefined ? 0 : quantityValue(q); } catch { return 0; }
}

/**
 * The smallest volume that satisfies a claim (upstream's FindMatchingVolume): a volume pre-bound to the claim wins
 * outright; otherwise an Available, unclaimed volume of the claim's class and volume mode, matching its selector,
 * offering every requested access mode and at least the requested size. With `delayBinding` (WaitForFirstConsumer
 * and no node yet) only pre-bound volumes count: the scheduler picks the others. `fits` filters volumes by
 * node (the scheduler's node affinity check).
 */
export function findMatchingVolume(claim: PersistentVolumeClaim, volumes: readonly PersistentVolume[],
  opts: { delayBinding?: boolean; fits?: (pv: PersistentVolume) => boolean; excluded?: ReadonlySet<string> } = {}): PersistentVolume | undefined {
  const requested = requestedStorage(claim);
  const cls = claimClass(claim);
  const modes = claim.spec?.accessModes ?? [];
  const mode = claim.spec?.volumeMode ?? 'Filesystem';
  let selector: ReturnType<typeof labelSelectorRequirements> = [];
  try { selector = claim.spec?.selector ? labelSelectorRequirements(claim.spec.selector) : []; } catch { return undefined; }
  let best: PersistentVolume | undefined;
  for (const pv of volumes) {
    if (opts.excluded?.has(pv.metadata!.name!)) continue;
    if ((pv.spec?.volumeMode ?? 'Filesystem') !== mode) continue;
    if (pv.metadata?.deletionTimestamp) continue;
    const size = capacity(pv);
    if (isVolumeBoundToClaim(pv, claim)) {
      // Pre-bound (by the user, the scheduler or a provisioner): it is the claim's if it is big enough.
      if (size < requested) continue;
      if (opts.fits && !opts.fits(pv)) continue;
      return pv;
    }
    if (opts.delayBinding) continue;
    if (pv.spec?.claimRef) continue;
    if (pv.status?.phase && pv.status.phase !== 'Available') continue;
    if (selector !== null && !matchesLabels(selector, pv.metadata?.labels)) continue;
    if (volumeClass(pv) !== cls) continue;
    if (!modes.every((m) => (pv.spec?.accessModes ?? []).includes(m))) continue;
    if (size < requested) continue;
    if (opts.fits && !opts.fits(pv)) continue;
    if (!best || size < capacity(best)) best = pv;
  }
  return best;
}
