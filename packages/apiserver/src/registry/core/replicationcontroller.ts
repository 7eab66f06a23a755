import { defineStrategy } from '../strategy.js';
import { child, fill } from '../shared/defaults.js';
import { defaultTemplate, validatePodTemplate } from '../shared/pod.js';
import { age, AGE, column, CONTAINERS, containerCells, formatLabels, IMAGES, NAME, nameOf, SELECTOR, type Printer } from '../shared/printing.js';
import {
  asObj, invalid, isObj, isSet, nonNegative, notSupported, required, validateLabels, type Errors, type Obj,
} from '../shared/validation.js';

/** SetDefaults_ReplicationController: selector and labels from the template's labels, one replica. */
function defaultReplicationController(rc: Obj): void {
  const spec = child(rc, 'spec');
  const templateLabels = spec.template?.metadata?.labels;
  if (isObj(templateLabels) && Object.keys(templateLabels).length) {
    if (!isObj(spec.selector) || !Object.keys(spec.selector).length) spec.selector = { ...templateLabels };
    if (!isObj(rc.metadata?.labels) || !Object.keys(rc.metadata.labels).length) child(rc, 'metadata').labels = { ...templateLabels };
  }
  fill(spec, 'replicas', 1);
  defaultTemplate(spec);
}

/**
 * ValidateReplicationControllerSpec: a non-empty selector (a plain map) that selects the template's labels. Unlike
 * the apps/v1 workloads, the selector may change on update.
 */
function validateReplicationController(rc: Obj): Errors {
  const spec = asObj(rc.spec);
  const errs: Errors = [];
  const selector = spec.selector;
  if (!isObj(selector) || !Object.keys(selector).length) errs.push(required('spec.selector'));
  else errs.push(...validateLabels(selector, 'spec.selector'));
  errs.push(...nonNegative('spec.replicas', spec.replicas), ...nonNegative('spec.minReadySeconds', spec.minReadySeconds));
  if (!isObj(spec.template)) {
    errs.push(required('spec.template'));
  } else {
    const labels = asObj(spec.template.metadata).labels;
    if (isObj(selector) && !Object.entries(selector).every(([k, v]) => asObj(labels)[k] === v)) {
      errs.push(invalid('spec.template.metadata.labels', labels ?? {}, '`selector` does not match template `labels`'));
    }
    errs.push(...validatePodTemplate(spec.template, 'spec.template'));
    const restartPolicy = asObj(spec.template.spec).restartPolicy;
    if (restartPolicy && restartPolicy !== 'Always') errs.push(notSupported('spec.template.spec.restartPolicy', restartPolicy, ['Always']));
    if (isSet(asObj(spec.template.spec).activeDeadlineSeconds)) {
      errs.push(invalid('spec.template.spec.activeDeadlineSeconds', spec.template.spec.activeDeadlineSeconds, 'activeDeadlineSeconds in ReplicationController is not Supported'));
    }
  }
  return errs;
}

/** The selector of a plain label map, as the Scale and the SELECTOR column print it: `a=1,b=2`. */
const mapSelector = (selector: unknown): string =>
  Object.entries(asObj(selector)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${String(v)}`).join(',');

const printer: Printer = {
  columns: [
    NAME,
    column('Desired', 'Number of desired pods.', 0, 'integer'),
    column('Current', 'Number of actually running pods.', 0, 'integer'),
    column('Ready', 'Number of pods that are ready.', 0, 'integer'),
    AGE, CONTAINERS, IMAGES, SELECTOR('the pods the replication controller manages'),
  ],
  row(rc: Obj, now) {
    const [names, images] = containerCells(rc.spec?.template?.spec?.containers);
    return [
      nameOf(rc), rc.spec?.replicas ?? 0, rc.status?.replicas ?? 0, rc.status?.readyReplicas ?? 0, age(rc, now),
      names, images, formatLabels(rc.spec?.selector),
    ];
  },
};

/** ReplicationControllers (upstream's pkg/registry/core/replicationcontroller): served with /status and /scale. */
export const replicationControllerStrategy = defineStrategy('', 'v1', 'replicationcontrollers', {
  tracksGeneration: true,
  defaults: defaultReplicationController,
  validate: validateReplicationController,
  initialStatus: () => ({ replicas: 0 }),
  scaleSelector: (rc: Obj) => mapSelector(rc.spec?.selector),
  printer,
});
