import type { StatefulSet } from '@k8ts/api';
import { defineStrategy } from '../strategy.js';
import { child, each, fill, fillZero, } from '../shared/defaults.js';
import { defaultPVCSpec, defaultTemplate } from '../shared/pod.js';
import { age, AGE, column, CONTAINERS, containerCells, IMAGES, NAME, nameOf, type Printer } from '../shared/printing.js';
import { isDNS1123Label } from '@k8ts/api';
import { asList, asObj, forbidden, invalid, invalidEach, isObj, isSet, nonNegative, notSupported, required, sameJSON, type Errors, type Obj } from '../shared/validation.js';
import { validateIntOrPercent, workload } from '../shared/workload.js';

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

/** ValidateStatefulSetSpec beyond the shared workload rules: policy, update strategy, retention policy, claim templates, ordinals. */
function statefulSetSpecRules(spec: Obj): Errors {
  const errs: Errors = [];
  if (spec.podManagementPolicy !== undefined && !['OrderedReady', 'Parallel'].includes(spec.podManagementPolicy)) {
    errs.push(notSupported('spec.podManagementPolicy', spec.podManagementPolicy, ['OrderedReady', 'Parallel']));
  }
  const strategy = asObj(spec.updateStrategy);
  const path = 'spec.updateStrategy';
  if (!strategy.type) errs.push(required(`${path}.type`));
  else if (!['OnDelete', 'RollingUpdate'].includes(strategy.type)) errs.push(notSupported(`${path}.type`, strategy.type, ['OnDelete', 'RollingUpdate']));
  if (strategy.type === 'OnDelete' && isSet(strategy.rollingUpdate)) {
    errs.push(invalid(`${path}.rollingUpdate`, strategy.rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'"));
  }
  if (strategy.type === 'RollingUpdate' && isObj(strategy.rollingUpdate)) {
    const ru = strategy.rollingUpdate;
    errs.push(...nonNegative(`${path}.rollingUpdate.partition`, ru.partition));
    if (isSet(ru.maxUnavailable)) {
      const p = `${path}.rollingUpdate.maxUnavailable`;
      const e = validateIntOrPercent(ru.maxUnavailable, p);
      errs.push(...e);
      if (!e.length && (ru.maxUnavailable === 0 || ru.maxUnavailable === '0%')) errs.push(invalid(p, ru.maxUnavailable, 'must be greater than 0'));
    }
  }
  const retention = asObj(spec.persistentVolumeClaimRetentionPolicy);
  for (const f of ['whenDeleted', 'whenScaled']) {
    if (retention[f] !== undefined && !['Retain', 'Delete'].includes(retention[f])) {
      errs.push(notSupported(`spec.persistentVolumeClaimRetentionPolicy.${f}`, retention[f], ['Retain', 'Delete']));
    }
  }
  asList(spec.volumeClaimTemplates).forEach((t, i) => {
    const name = asObj(t.metadata).name;
    const p = `spec.volumeClaimTemplates[${i}].metadata.name`;
    if (!name) errs.push(required(p, 'name or generateName is required'));
    else errs.push(...invalidEach(p, name, isDNS1123Label(String(name))));
  });
  if (isObj(spec.ordinals)) errs.push(...nonNegative('spec.ordinals.start', spec.ordinals.start));
  return errs;
}

function statefulSetRules(spec: Obj, oldSpec?: Obj): Errors {
  const errs = statefulSetSpecRules(spec);
  if (!oldSpec) return errs;
  const strip = (s: Obj) => Object.fromEntries(Object.entries(s).filter(([k]) => !STS_MUTABLE.includes(k)));
  if (sameJSON(strip(spec), strip(oldSpec))) return errs;
  return [...errs, forbidden('spec', "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', "
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
});
