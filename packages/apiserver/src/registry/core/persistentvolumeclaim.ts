import { defineStrategy } from '../strategy.js';
import { child } from '../shared/defaults.js';
import { defaultPVCSpec } from '../shared/pod.js';
import { age, AGE, column, NAME, nameOf, type Printer } from '../shared/printing.js';
import { accessModesString, storageOf, validateAccessModes } from '../shared/volumes.js';
import { asObj, forbidden, notSupported, required, sameJSON, validateLabelSelector, isObj, type Errors, type Obj } from '../shared/validation.js';

const VOLUME_MODES = ['Block', 'Filesystem'];

/** ValidatePersistentVolumeClaim(Update): access modes, a storage request; later only requests may change. */
function validatePersistentVolumeClaim(pvc: Obj, old?: Obj): Errors {
  const spec = asObj(pvc.spec);
  const errs: Errors = [];
  errs.push(...validateAccessModes(spec.accessModes, 'spec.accessModes'));
  if (!storageOf(asObj(spec.resources).requests)) errs.push(required('spec.resources[storage]'));
  if (spec.volumeMode && !VOLUME_MODES.includes(spec.volumeMode)) errs.push(notSupported('spec.volumeMode', spec.volumeMode, VOLUME_MODES));
  if (isObj(spec.selector)) errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
  if (old) {
    // Binding sets volumeName once; requests may grow (expansion); the rest is fixed.
    const fixed = (s: Obj) => ({ ...s, resources: { ...asObj(s.resources), requests: undefined }, volumeAttributesClassName: undefined, volumeName: undefined });
    const oldSpec = asObj(old.spec);
    if (!sameJSON(fixed(spec), fixed(oldSpec)) || (oldSpec.volumeName && spec.volumeName !== oldSpec.volumeName)) {
      errs.push(forbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims'));
    }
  }
  return errs;
}

const printer: Printer = {
  columns: [
    NAME,
    column('Status', 'The phase of the claim.'),
    column('Volume', 'The volume bound to the claim.'),
    column('Capacity', 'The storage capacity of the bound volume.'),
    column('Access Modes', 'How the bound volume can be mounted.'),
    column('StorageClass', 'The storage class the claim asks for.'),
    column('VolumeAttributesClass', 'The volume attributes class the claim asks for.'),
    AGE,
    column('VolumeMode', 'Whether the claim wants a filesystem or a raw block device.', 1),
  ],
  row(pvc: Obj, now) {
    // Capacity and access modes are the bound volume's, so they show once the claim is bound.
    const bound = !!pvc.spec?.volumeName;
    return [
      nameOf(pvc), pvc.metadata?.deletionTimestamp ? 'Terminating' : pvc.status?.phase ?? '', pvc.spec?.volumeName ?? '',
      bound ? storageOf(pvc.status?.capacity) : '', bound ? accessModesString(pvc.status?.accessModes) : '',
      pvc.spec?.storageClassName ?? '', pvc.spec?.volumeAttributesClassName || '<unset>', age(pvc, now), pvc.spec?.volumeMode || '<unset>',
    ];
  },
};

/** PersistentVolumeClaims (upstream's pkg/registry/core/persistentvolumeclaim): a new claim is Pending until bound. */
export const persistentVolumeClaimStrategy = defineStrategy('', 'v1', 'persistentvolumeclaims', {
  defaults: (pvc) => defaultPVCSpec(child(pvc, 'spec')),
  validate: validatePersistentVolumeClaim,
  initialStatus: () => ({ phase: 'Pending' }),
  printer,
});
