import { isQualifiedName } from '@k8ts/api';
import { defineStrategy } from '../strategy.js';
import { fillZero } from '../shared/defaults.js';
import { age, AGE, column, NAME, nameOf, type Printer } from '../shared/printing.js';
import { asList, forbidden, invalid, isObj, isSet, notSupported, required, sameJSON, type Errors, type Obj } from '../shared/validation.js';

/** The annotation marking the cluster's default class (upstream's storageutil.IsDefaultStorageClassAnnotation). */
export const IS_DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
/** The beta annotation upstream still honours. */
export const BETA_IS_DEFAULT_CLASS_ANNOTATION = 'storageclass.beta.kubernetes.io/is-default-class';

/** Whether a class is marked default (either annotation "true", as upstream's IsDefaultAnnotation). */
export function isDefaultClass(sc: Obj): boolean {
  const a = sc.metadata?.annotations ?? {};
  return a[IS_DEFAULT_CLASS_ANNOTATION] === 'true' || a[BETA_IS_DEFAULT_CLASS_ANNOTATION] === 'true';
}

const RECLAIM_POLICIES = ['Delete', 'Retain'];
const BINDING_MODES = ['Immediate', 'WaitForFirstConsumer'];
const MAX_PROVISIONER_PARAMETER_SIZE = 256 * 1024;
const MAX_PROVISIONER_PARAMETER_LEN = 512;

/** SetDefaults_StorageClass. */
function defaultStorageClass(sc: Obj): void {
  fillZero(sc, 'reclaimPolicy', 'Delete');
  fillZero(sc, 'volumeBindingMode', 'Immediate');
}

/** ValidateStorageClass(Update): a qualified provisioner, parameters within size, known policies; most fields fixed. */
function validateStorageClass(sc: Obj, old?: Obj): Errors {
  const errs: Errors = [];
  const provisioner = sc.provisioner;
  if (!provisioner) errs.push(required('provisioner'));
  else {
    for (const m of isQualifiedName(String(provisioner).toLowerCase())) errs.push(invalid('provisioner', provisioner, m));
    if (String(provisioner).length > 63) errs.push({ field: 'provisioner', type: 'FieldValueTooLong', value: provisioner, message: 'must have at most 63 bytes' });
  }
  if (isSet(sc.parameters)) {
    let size = 0;
    for (const [k, v] of Object.entries(isObj(sc.parameters) ? sc.parameters : {})) {
      if (!k) errs.push(invalid('parameters', k, 'field can not be empty.'));
      else if (k.length > MAX_PROVISIONER_PARAMETER_LEN) errs.push({ field: 'parameters', type: 'FieldValueTooLong', value: k, message: `may not be more than ${MAX_PROVISIONER_PARAMETER_LEN} bytes` });
      size += k.length + String(v).length;
    }
    if (size > MAX_PROVISIONER_PARAMETER_SIZE) errs.push({ field: 'parameters', type: 'FieldValueTooLong', message: `may not be more than ${MAX_PROVISIONER_PARAMETER_SIZE} bytes` });
  }
  if (isSet(sc.reclaimPolicy) && !RECLAIM_POLICIES.includes(sc.reclaimPolicy)) errs.push(notSupported('reclaimPolicy', sc.reclaimPolicy, RECLAIM_POLICIES));
  if (!sc.volumeBindingMode) errs.push(required('volumeBindingMode'));
  else if (!BINDING_MODES.includes(sc.volumeBindingMode)) errs.push(notSupported('volumeBindingMode', sc.volumeBindingMode, BINDING_MODES));
  asList(sc.allowedTopologies).forEach((term, i) => {
    const exprs = asList(term.matchLabelExpressions);
    if (!exprs.length) errs.push(required(`allowedTopologies[${i}].matchLabelExpressions`, 'must have at least one label selector'));
    exprs.forEach((e, j) => {
      if (!e.key) errs.push(required(`allowedTopologies[${i}].matchLabelExpressions[${j}].key`));
      if (!Array.isArray(e.values) || !e.values.length) errs.push(required(`allowedTopologies[${i}].matchLabelExpressions[${j}].values`, 'must specify as least one value'));
    });
  });
  if (old) {
    if (!sameJSON(sc.parameters ?? {}, old.parameters ?? {})) errs.push(forbidden('parameters', 'updates to parameters are forbidden.'));
    if (sc.provisioner !== old.provisioner) errs.push(forbidden('provisioner', 'updates to provisioner are forbidden.'));
    if (sc.reclaimPolicy !== old.reclaimPolicy) errs.push(forbidden('reclaimPolicy', 'updates to reclaimPolicy are forbidden.'));
    if (sc.volumeBindingMode !== old.volumeBindingMode) errs.push(invalid('volumeBindingMode', sc.volumeBindingMode, 'field is immutable'));
  }
  return errs;
}

/** printStorageClass: the default class's name carries ` (default)`. */
const printer: Printer = {
  columns: [
    NAME,
    column('Provisioner', 'Indicates the type of the provisioner.'),
    column('ReclaimPolicy', 'Indicates the type of the reclaim policy.'),
    column('VolumeBindingMode', 'Indicates when volume binding and dynamic provisioning should occur.'),
    column('AllowVolumeExpansion', 'Indicates whether the storage class allow volume expand.'),
    AGE,
  ],
  row: (sc: Obj, now) => [
    isDefaultClass(sc) ? `${nameOf(sc)} (default)` : nameOf(sc), sc.provisioner ?? '', sc.reclaimPolicy ?? 'Delete',
    sc.volumeBindingMode ?? 'Immediate', String(sc.allowVolumeExpansion ?? false), age(sc, now),
  ],
};

/** storage.k8s.io/v1 StorageClasses (upstream's pkg/registry/storage/storageclass). */
export const storageClassStrategy = defineStrategy('storage.k8s.io', 'v1', 'storageclasses', {
  defaults: defaultStorageClass,
  validate: validateStorageClass,
  printer,
});
