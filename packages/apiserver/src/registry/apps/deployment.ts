import type { Deployment } from '@k8ts/api';
import { defineStrategy } from '../strategy.js';
import { child, fill, fillZero } from '../shared/defaults.js';
import { defaultTemplate } from '../shared/pod.js';
import {
  age, AGE, column, CONTAINERS, containerCells, IMAGES, NAME, nameOf, SELECTOR, selectorString, type Printer,
} from '../shared/printing.js';
import { asObj, forbidden, invalid, isSet, notSupported, type Errors, type Obj } from '../shared/validation.js';
import { workload } from '../shared/workload.js';

function defaultDeployment(d: Obj): void {
  const spec = child(d, 'spec');
  fill(spec, 'replicas', 1);
  const strategy = child(spec, 'strategy');
  fillZero(strategy, 'type', 'RollingUpdate');
  if (strategy.type === 'RollingUpdate') {
    const ru = child(strategy, 'rollingUpdate');
    fill(ru, 'maxUnavailable', '25%');
    fill(ru, 'maxSurge', '25%');
  }
  fill(spec, 'revisionHistoryLimit', 10);
  fill(spec, 'progressDeadlineSeconds', 600);
  defaultTemplate(spec);
}

function deploymentRules(spec: Obj): Errors {
  const errs: Errors = [];
  const strategy = asObj(spec.strategy);
  if (strategy.type && !['Recreate', 'RollingUpdate'].includes(strategy.type)) {
    errs.push(notSupported('spec.strategy.type', strategy.type, ['Recreate', 'RollingUpdate']));
  }
  if (strategy.type === 'Recreate' && isSet(strategy.rollingUpdate)) {
    errs.push(forbidden('spec.strategy.rollingUpdate', "may not be specified when strategy `type` is 'Recreate'"));
  }
  const ru = asObj(strategy.rollingUpdate);
  const zero = (v: unknown) => v === 0 || v === '0%';
  if (strategy.type === 'RollingUpdate' && zero(ru.maxUnavailable) && zero(ru.maxSurge)) {
    errs.push(invalid('spec.strategy.rollingUpdate.maxUnavailable', ru.maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
  }
  const deadline = spec.progressDeadlineSeconds;
  if (typeof deadline === 'number' && deadline <= (spec.minReadySeconds ?? 0)) {
    errs.push(invalid('spec.progressDeadlineSeconds', deadline, 'must be greater than minReadySeconds'));
  }
  return errs;
}

const printer: Printer = {
  columns: [
    NAME,
    column('Ready', 'Number of the pod with ready state'),
    column('Up-to-date', 'Total number of non-terminated pods that run the current template.'),
    column('Available', 'Total number of available pods (ready for at least minReadySeconds).'),
    AGE, CONTAINERS, IMAGES, SELECTOR('the pods the deployment manages'),
  ],
  row(obj, now) {
    const d = obj as Deployment;
    const st = d.status ?? {};
    const [names, images] = containerCells(d.spec?.template?.spec?.containers);
    return [
      nameOf(d), `${st.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}`, st.updatedReplicas ?? 0, st.availableReplicas ?? 0,
      age(d, now), names, images, selectorString(d.spec?.selector),
    ];
  },
};

/** Deployments (upstream's pkg/registry/apps/deployment/strategy.go). */
export const deploymentStrategy = defineStrategy('apps', 'v1', 'deployments', {
  tracksGeneration: true,
  defaults: defaultDeployment,
  validate: workload('deployment', deploymentRules),
  printer,
});
