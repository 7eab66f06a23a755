import { defineStrategy } from '../strategy.js';
import { age, AGE, column, NAME, nameOf, type Printer } from '../shared/printing.js';
import { asObj, invalid, isObj, isSet, notSupported, validateLabelSelector, type Errors, type Obj } from '../shared/validation.js';

const EVICTION_POLICIES = ['AlwaysAllow', 'IfHealthyBudget'];

/** An IntOrString that must be a non-negative integer or a percentage up to 100% (ValidatePositiveIntOrPercent). */
function intOrPercent(v: unknown, path: string): Errors {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? [] : [invalid(path, v, 'must be greater than or equal to 0')];
  const m = /^(\d+)%$/.exec(String(v));
  if (!m) return [invalid(path, v, 'a valid percent string must be a numeric string followed by an ending \'%\' (e.g. \'1%\',  or \'93%\', regex used for validation is \'[0-9]+%\')')];
  return Number(m[1]) > 100 ? [invalid(path, v, 'must not be greater than 100%')] : [];
}

/** ValidatePodDisruptionBudgetSpec: minAvailable or maxUnavailable (not both), a valid selector and eviction policy. */
function validatePodDisruptionBudget(pdb: Obj): Errors {
  const spec = asObj(pdb.spec);
  const errs: Errors = [];
  if (isSet(spec.minAvailable) && isSet(spec.maxUnavailable)) {
    errs.push(invalid('spec', spec, 'minAvailable and maxUnavailable cannot be both set'));
  }
  if (isSet(spec.minAvailable)) errs.push(...intOrPercent(spec.minAvailable, 'spec.minAvailable'));
  if (isSet(spec.maxUnavailable)) errs.push(...intOrPercent(spec.maxUnavailable, 'spec.maxUnavailable'));
  if (isObj(spec.selector)) errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
  if (isSet(spec.unhealthyPodEvictionPolicy) && !EVICTION_POLICIES.includes(spec.unhealthyPodEvictionPolicy)) {
    errs.push(notSupported('spec.unhealthyPodEvictionPolicy', spec.unhealthyPodEvictionPolicy, EVICTION_POLICIES));
  }
  return errs;
}

const printer: Printer = {
  columns: [
    NAME,
    column('Min Available', 'The minimum number of pods that must be available.'),
    column('Max Unavailable', 'The maximum number of pods that may be unavailable.'),
    column('Allowed Disruptions', 'Calculated number of pods that may be disrupted at this time.', 0, 'integer'),
    AGE,
  ],
  row: (pdb: Obj, now) => [
    nameOf(pdb), isSet(pdb.spec?.minAvailable) ? String(pdb.spec.minAvailable) : 'N/A',
    isSet(pdb.spec?.maxUnavailable) ? String(pdb.spec.maxUnavailable) : 'N/A', pdb.status?.disruptionsAllowed ?? 0, age(pdb, now),
  ],
};

/** policy/v1 PodDisruptionBudgets (upstream's pkg/registry/policy/poddisruptionbudget); the disruption controller comes later. */
export const podDisruptionBudgetStrategy = defineStrategy('policy', 'v1', 'poddisruptionbudgets', {
  tracksGeneration: true,
  validate: validatePodDisruptionBudget,
  initialStatus: () => ({ disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 }),
  printer,
});
