import type { DaemonSet } from '@k8ts/api';
import { defineStrategy } from '../strategy.js';
import { child, fill, fillZero } from '../shared/defaults.js';
import { defaultTemplate } from '../shared/pod.js';
import {
  age, AGE, column, CONTAINERS, containerCells, formatLabels, formatSelector, IMAGES, NAME, nameOf, SELECTOR, type Printer,
} from '../shared/printing.js';
import { asObj, forbidden, invalid, isSet, notSupported, required, type Errors, type Obj } from '../shared/validation.js';
import { validateIntOrPercent, workload } from '../shared/workload.js';

function defaultDaemonSet(ds: Obj): void {
  const spec = child(ds, 'spec');
  const strategy = child(spec, 'updateStrategy');
  fillZero(strategy, 'type', 'RollingUpdate');
  if (strategy.type === 'RollingUpdate') {
    const ru = child(strategy, 'rollingUpdate');
    fill(ru, 'maxUnavailable', 1);
    fill(ru, 'maxSurge', 0);
  }
  fill(spec, 'revisionHistoryLimit', 10);
  defaultTemplate(spec);
}

const zero = (v: unknown) => v === 0 || v === '0%';

/** ValidateDaemonSetUpdateStrategy and ValidateRollingUpdateDaemonSet: a known type; maxUnavailable and maxSurge not both 0. */
function daemonSetRules(spec: Obj): Errors {
  const errs: Errors = [];
  const strategy = asObj(spec.updateStrategy);
  const path = 'spec.updateStrategy';
  if (!strategy.type) errs.push(required(`${path}.type`));
  else if (!['OnDelete', 'RollingUpdate'].includes(strategy.type)) errs.push(notSupported(`${path}.type`, strategy.type, ['OnDelete', 'RollingUpdate']));
  if (strategy.type === 'RollingUpdate') {
    const ru = strategy.rollingUpdate;
    if (!isSet(ru)) {
      errs.push(required(`${path}.rollingUpdate`));
    } else {
      const r = asObj(ru);
      if (isSet(r.maxUnavailable)) errs.push(...validateIntOrPercent(r.maxUnavailable, `${path}.rollingUpdate.maxUnavailable`));
      if (isSet(r.maxSurge)) errs.push(...validateIntOrPercent(r.maxSurge, `${path}.rollingUpdate.maxSurge`));
      if (zero(r.maxUnavailable ?? 0) && zero(r.maxSurge ?? 0)) {
        errs.push(invalid(`${path}.rollingUpdate.maxUnavailable`, r.maxUnavailable ?? 0, 'may not be 0 when `maxSurge` is 0'));
      }
    }
  } else if (strategy.type === 'OnDelete' && isSet(strategy.rollingUpdate)) {
    errs.push(forbidden(`${path}.rollingUpdate`, "may not be specified when strategy `type` is 'OnDelete'"));
  }
  return errs;
}

const printer: Printer = {
  columns: [
    NAME,
    column('Desired', 'Number of nodes that should run the daemon pod.', 0, 'integer'),
    column('Current', 'Number of nodes running at least one daemon pod.', 0, 'integer'),
    column('Ready', 'Number of nodes whose daemon pod is ready.', 0, 'integer'),
    column('Up-to-date', 'Number of nodes running the updated daemon pod.', 0, 'integer'),
    column('Available', 'Number of nodes whose daemon pod is available.', 0, 'integer'),
    column('Node Selector', 'The node selector of the pod template.'),
    AGE, CONTAINERS, IMAGES, SELECTOR('the pods the daemon set manages'),
  ],
  row(obj, now) {
    const ds = obj as DaemonSet;
    const st = ds.status ?? { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 };
    const [names, images] = containerCells(ds.spec?.template?.spec?.containers);
    return [
      nameOf(ds), st.desiredNumberScheduled ?? 0, st.currentNumberScheduled ?? 0, st.numberReady ?? 0,
      st.updatedNumberScheduled ?? 0, st.numberAvailable ?? 0, formatLabels(ds.spec?.template?.spec?.nodeSelector),
      age(ds, now), names, images, formatSelector(ds.spec?.selector),
    ];
  },
};

/** DaemonSets (upstream's pkg/registry/apps/daemonset/strategy.go). */
export const daemonSetStrategy = defineStrategy('apps', 'v1', 'daemonsets', {
  tracksGeneration: true,
  defaults: defaultDaemonSet,
  validate: workload('daemonset', daemonSetRules),
  printer,
});
