import type { StatefulSet } from '@k8ts/api';
import { defineStrategy } from '../strategy.js';
import { child, each, fill, fillZero, } from '../shared/defaults.js';
import { defaultPVCSpec, defaultTemplate, WORKLOAD_PATCH } from '../shared/pod.js';
import { age, AGE, column, CONTAINERS, containerCells, IMAGES, NAME, nameOf, type Printer } from '../shared/printing.js';
import { forbidden, isObj, sameJSON, type Errors, type Obj } from '../shared/validation.js';
import { workload } from '../shared/workload.js';

function defaultStatefulSet(sts: Obj): void {
  const spec = child(sts, 'spec');
  fillZero(spec, 'podManagementPolicy', 'OrderedReady');
  const strategy = child(spec, 'updateStrategy');
  if (!strategy.type) {
    strategy.type = 'RollingUpdate';
    fill(strategy, 'rollingUpdate', {});
  }
  if (strategy.type === 'RollingUpdate' && isObj(strategy.rollingUpdate)) fill(strategy.rollingUpdate, 'partition', 0);
  const retention = child(spec, 'persistentVolumeClaimRetentionPolicy');
  fillZero(retention, 'whenDeleted', 'Retain');
  fillZero(retention, 'whenScaled', 'Retain');
  fill(spec, 'replicas', 1);
  fill(spec, 'revisionHistoryLimit', 10);
  each(spec.volumeClaimTemplates, (pvc) => {
    defaultPVCSpec(pvc.spec);
    fillZero(child(pvc, 'status'), 'phase', 'Pending');
  });
  defaultTemplate(spec);
}

const STS_MUTABLE = ['replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'];

function statefulSetRules(spec: Obj, oldSpec?: Obj): Errors {
  if (!oldSpec) return [];
  const strip = (s: Obj) => Object.fromEntries(Object.entries(s).filter(([k]) => !STS_MUTABLE.includes(k)));
  if (sameJSON(strip(spec), strip(oldSpec))) return [];
  return [forbidden('spec', "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', "
    + "'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")];
}

const printer: Printer = {
  columns: [NAME, column('Ready', 'Number of the pod with ready state'), AGE, CONTAINERS, IMAGES],
  row(obj, now) {
    const sts = obj as StatefulSet;
    const [names, images] = containerCells(sts.spec?.template?.spec?.containers);
    return [nameOf(sts), `${sts.status?.readyReplicas ?? 0}/${sts.spec?.replicas ?? 0}`, age(sts, now), names, images];
  },
};

/** StatefulSets (upstream's pkg/registry/apps/statefulset/strategy.go). */
export const statefulSetStrategy = defineStrategy('apps', 'v1', 'statefulsets', {
  tracksGeneration: true,
  defaults: defaultStatefulSet,
  validate: workload('statefulset', statefulSetRules),
  printer,
  patchMeta: WORKLOAD_PATCH,
});
