import { defineStrategy } from '../strategy.js';
import { child, fillZero } from '../shared/defaults.js';
import { age, AGE, column, NAME, nameOf, type Printer } from '../shared/printing.js';
import { accessModesString, storageOf, validateAccessModes } from '../shared/volumes.js';
import { asObj, forbidden, isObj, notSupported, required, type Errors, type Obj } from '../shared/validation.js';

/** The volume sources a PersistentVolume may name (one of them, as upstream's PersistentVolumeSource). */
const SOURCES = [
  'awsElasticBlockStore', 'azureDisk', 'azureFile', 'cephfs', 'cinder', 'csi', 'fc', 'flexVolume', 'flocker',
  'gcePersistentDisk', 'glusterfs', 'hostPath', 'iscsi', 'local', 'nfs', 'photonPersistentDisk', 'portworxVolume',
  'quobyte', 'rbd', 'scaleIO', 'storageos', 'vsphereVolume',
];
const RECLAIM_POLICIES = ['Delete', 'Recycle', 'Retain'];
const VOLUME_MODES = ['Block', 'Filesystem'];

/** SetDefaults_PersistentVolume. */
function defaultPersistentVolume(pv: Obj): void {
  const spec = child(pv, 'spec');
  fillZero(spec, 'persistentVolumeReclaimPolicy', 'Retain');
  fillZero(spec, 'volumeMode', 'Filesystem');
}

/** ValidatePersistentVolumeSpec's main rules: capacity with storage, access modes, exactly one source. */
function validatePersistentVolume(pv: Obj): Errors {
  const spec = asObj(pv.spec);
  const errs: Errors = [];
  errs.push(...validateAccessModes(spec.accessModes, 'spec.accessModes'));
  if (!isObj(spec.capacity) || !Object.keys(spec.capacity).length) errs.push(required('spec.capacity'));
  else if (!storageOf(spec.capacity)) errs.push(notSupported('spec.capacity', Object.keys(spec.capacity)[0], ['storage']));
  if (spec.persistentVolumeReclaimPolicy && !RECLAIM_POLICIES.includes(spec.persistentVolumeReclaimPolicy)) {
    errs.push(notSupported('spec.persistentVolumeReclaimPolicy', spec.persistentVolumeReclaimPolicy, RECLAIM_POLICIES));
  }
  if (spec.volumeMode && !VOLUME_MODES.includes(spec.volumeMode)) errs.push(notSupported('spec.volumeMode', spec.volumeMode, VOLUME_MODES));
  const sources = SOURCES.filter((s) => isObj(spec[s]));
  if (!sources.length) errs.push(required('spec', 'must specify a volume type'));
  else if (sources.length > 1) errs.push(forbidden(`spec.${sources[1]}`, 'may not specify more than 1 volume type'));
  if (isObj(spec.hostPath) && !spec.hostPath.path) errs.push(required('spec.hostPath.path'));
  return errs;
}

const printer: Printer = {
  columns: [
    NAME,
    column('Capacity', 'The storage capacity of the volume.'),
    column('Access Modes', 'How the volume can be mounted.'),
    column('Reclaim Policy', 'What happens to the volume when its claim is released.'),
    column('Status', 'The phase of the volume.'),
    column('Claim', 'The claim bound to the volume.'),
    column('StorageClass', 'The storage class the volume belongs to.'),
    column('VolumeAttributesClass', 'The volume attributes class the volume belongs to.'),
    column('Reason', 'Why the volume is in its phase.'),
    AGE,
    column('VolumeMode', 'Whether the volume is a filesystem or a raw block device.', 1),
  ],
  row(pv: Obj, now) {
    const ref = pv.spec?.claimRef;
    return [
      nameOf(pv), storageOf(pv.spec?.capacity), accessModesString(pv.spec?.accessModes), pv.spec?.persistentVolumeReclaimPolicy ?? '',
      pv.metadata?.deletionTimestamp ? 'Terminating' : pv.status?.phase ?? '', ref ? `${ref.namespace ?? ''}/${ref.name ?? ''}` : '', pv.spec?.storageClassName ?? '',
      pv.spec?.volumeAttributesClassName || '<unset>', pv.status?.reason ?? '', age(pv, now), pv.spec?.volumeMode || '<unset>',
    ];
  },
};

/** PersistentVolumes (upstream's pkg/registry/core/persistentvolume): a new volume is Pending until bound. */
export const persistentVolumeStrategy = defineStrategy('', 'v1', 'persistentvolumes', {
  defaults: defaultPersistentVolume,
  validate: validatePersistentVolume,
  initialStatus: () => ({ phase: 'Pending' }),
  printer,
});
