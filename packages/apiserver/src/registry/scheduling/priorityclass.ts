import type { PriorityClass } from '@k8ts/api';
import { defineStrategy } from '../strategy.js';
import { fill } from '../shared/defaults.js';
import { age, AGE, column, NAME, nameOf, type Printer } from '../shared/printing.js';
import { asObj, forbidden, immutable, invalid, isSet, notSupported, required, sameJSON, type Errors, type Obj } from '../shared/validation.js';

/*
 * scheduling.k8s.io/v1 PriorityClass: the built-in `system-*` classes (upstream's pkg/apis/scheduling) and the
 * class strategy (pkg/registry/scheduling/priorityclass).
 */

/** The highest value a user-defined PriorityClass may have (upstream's HighestUserDefinablePriority). */
export const HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000;
/** The value of system-cluster-critical; system-node-critical is 1000 above it. */
export const SYSTEM_CRITICAL_PRIORITY = 2 * HIGHEST_USER_DEFINABLE_PRIORITY;
/** Class names with this prefix are reserved for the built-in classes. */
export const SYSTEM_PRIORITY_CLASS_PREFIX = 'system-';
/** The preemption policy of pods whose class names none. */
export const DEFAULT_PREEMPTION_POLICY = 'PreemptLowerPriority';

/** The built-in classes every cluster has, as upstream's SystemPriorityClasses(). */
export const SYSTEM_PRIORITY_CLASSES: readonly { name: string; value: number; description: string }[] = [
  { name: 'system-node-critical', value: SYSTEM_CRITICAL_PRIORITY + 1000, description: 'Used for system critical pods that must not be moved from their current node.' },
  { name: 'system-cluster-critical', value: SYSTEM_CRITICAL_PRIORITY, description: 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.' },
];

/**
 * Why a `system-` class is not one of the built-in ones, as upstream's IsKnownSystemPriorityClass words it; ''
 * when it is (same name, value and globalDefault; description, labels and the rest do not matter).
 */
export function unknownSystemPriorityClass(name: string, value: number, globalDefault: boolean): string {
  const known = SYSTEM_PRIORITY_CLASSES.find((c) => c.name === name);
  if (!known) return `${name} is not a known system priority class`;
  if (known.value !== value) return `value of ${name} PriorityClass must be ${known.value}`;
  if (globalDefault) return `globalDefault of ${name} PriorityClass must be false`;
  return '';
}

function setDefaults(pc: Obj): void {
  // value is a plain int32 upstream: a class sent without one decodes, and is stored, as 0.
  fill(pc, 'value', 0);
  fill(pc, 'preemptionPolicy', DEFAULT_PREEMPTION_POLICY);
}

const PREEMPTION_POLICIES = ['PreemptLowerPriority', 'Never'];
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** ValidatePriorityClass on create (the `system-` prefix and the user ceiling), ValidatePriorityClassUpdate on update. */
function validatePriorityClass(pc: Obj, old?: Obj): Errors {
  const errs: Errors = [];
  const value = pc.value;
  if (old) {
    if (!sameJSON(value, old.value)) errs.push(forbidden('value', 'may not be changed in an update.'));
    if (!sameJSON(pc.preemptionPolicy, old.preemptionPolicy)) errs.push(immutable('preemptionPolicy', pc.preemptionPolicy));
    return errs;
  }
  const name = String(asObj(pc.metadata).name ?? '');
  if (typeof value !== 'number' || !Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) {
    // Upstream's decoder refuses a non-int32 value before validation; here it is a field error.
    errs.push(invalid('value', value, 'must be a 32-bit integer'));
  } else if (name.startsWith(SYSTEM_PRIORITY_CLASS_PREFIX)) {
    const why = unknownSystemPriorityClass(name, value, pc.globalDefault === true);
    if (why) {
      errs.push(forbidden('metadata.name', `priority class names with '${SYSTEM_PRIORITY_CLASS_PREFIX}' prefix are reserved for system use only. error: ${why}`));
    }
  } else if (value > HIGHEST_USER_DEFINABLE_PRIORITY) {
    errs.push(forbidden('value', `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}`));
  }
  if (isSet(pc.preemptionPolicy)) {
    if (pc.preemptionPolicy === '') errs.push(required('preemptionPolicy'));
    else if (!PREEMPTION_POLICIES.includes(pc.preemptionPolicy)) errs.push(notSupported('preemptionPolicy', pc.preemptionPolicy, PREEMPTION_POLICIES));
  }
  return errs;
}

const printer: Printer = {
  columns: [
    NAME,
    column('Value', 'The priority pods of this class receive.', 0, 'integer'),
    column('Global-Default', 'Whether pods without a priority class get this one.', 0, 'boolean'),
    AGE,
    column('PreemptionPolicy', 'Whether pods of this class may preempt lower-priority pods: PreemptLowerPriority or Never.'),
  ],
  row(obj, now) {
    const pc = obj as unknown as PriorityClass;
    return [nameOf(pc), pc.value ?? 0, pc.globalDefault ?? false, age(pc, now), pc.preemptionPolicy ?? ''];
  },
};

/** PriorityClasses; the one-default rule and protected built-ins are the Priority admission plugin's. */
export const priorityClassStrategy = defineStrategy('scheduling.k8s.io', 'v1', 'priorityclasses', {
  defaults: setDefaults,
  validate: validatePriorityClass,
  printer,
});
