import { validatePodTemplate } from './pod.js';
import {
  asList, asObj, immutable, invalid, isObj, isSet, nonNegative, notSupported, required, sameJSON, selectorMatches,
  validateLabelSelector, type Errors, type Obj,
} from './validation.js';

/*
 * What the apps/v1 workloads (and ReplicationControllers) share: a selector that must select the pod template,
 * a template whose pods restart Always, non-negative counts, an immutable selector.
 */

export type WorkloadKind = 'deployment' | 'replicaset' | 'daemonset' | 'statefulset';

/** Selector present, non-empty and valid; template valid, its labels selected, restartPolicy Always. */
function validateWorkloadSpec(spec: Obj, what: WorkloadKind): Errors {
  const errs: Errors = [];
  const sel = spec.selector;
  if (!isObj(sel)) {
    errs.push(required('spec.selector'));
  } else {
    errs.push(...validateLabelSelector(sel, 'spec.selector'));
    if (!Object.keys(asObj(sel.matchLabels)).length && !asList(sel.matchExpressions).length) {
      // Upstream's ReplicaSet validation reuses the Deployment message.
      errs.push(invalid('spec.selector', sel, `empty selector is invalid for ${what === 'replicaset' ? 'deployment' : what}`));
    }
  }
  const template = asObj(spec.template);
  const labels = asObj(template.metadata).labels;
  if (isObj(sel) && !selectorMatches(sel, labels)) {
    errs.push(invalid('spec.template.metadata.labels', labels ?? {}, '`selector` does not match template `labels`'));
  }
  errs.push(...validatePodTemplate(template, 'spec.template'));
  const podSpec = asObj(template.spec);
  if (podSpec.restartPolicy && podSpec.restartPolicy !== 'Always') {
    errs.push(notSupported('spec.template.spec.restartPolicy', podSpec.restartPolicy, ['Always']));
  }
  if (isSet(podSpec.activeDeadlineSeconds)) {
    errs.push(invalid('spec.template.spec.activeDeadlineSeconds', podSpec.activeDeadlineSeconds, 'activeDeadlineSeconds in ReplicaSet is not Supported'));
  }
  if (what !== 'daemonset') errs.push(...nonNegative('spec.replicas', spec.replicas));
  errs.push(...nonNegative('spec.revisionHistoryLimit', spec.revisionHistoryLimit));
  errs.push(...nonNegative('spec.minReadySeconds', spec.minReadySeconds));
  return errs;
}

/** A workload kind's validation: the shared rules, plus `extra` ones on its spec. */
export function workload(what: WorkloadKind, extra?: (spec: Obj, oldSpec?: Obj) => Errors) {
  return (obj: Obj, old?: Obj): Errors => {
    const spec = asObj(obj.spec);
    const errs = validateWorkloadSpec(spec, what);
    if (extra) errs.push(...extra(spec, old ? asObj(old.spec) : undefined));
    if (old && isSet(asObj(old.spec).selector) && !sameJSON(spec.selector, asObj(old.spec).selector)) {
      errs.push(immutable('spec.selector', spec.selector));
    }
    return errs;
  };
}

/** An IntOrString that must be a non-negative integer or a percentage up to 100% (ValidatePositiveIntOrPercent, IsNotMoreThan100Percent). */
export function validateIntOrPercent(v: unknown, path: string): Errors {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? [] : [invalid(path, v, 'must be greater than or equal to 0')];
  const m = /^(\d+)%$/.exec(String(v));
  if (!m) return [invalid(path, v, 'a valid percent string must be a numeric string followed by an ending \'%\' (e.g. \'1%\',  or \'93%\', regex used for validation is \'[0-9]+%\')')];
  return Number(m[1]) > 100 ? [invalid(path, v, 'must not be greater than 100%')] : [];
}
