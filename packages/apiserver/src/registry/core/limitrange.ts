import { compareQuantities, parseQuantity } from '@k8ts/api';
import { defineStrategy } from '../strategy.js';
import { child, each, fill } from '../shared/defaults.js';
import { column, NAME, nameOf, type Printer } from '../shared/printing.js';
import { asList, asObj, invalid, isObj, notSupported, required, type Errors, type Obj } from '../shared/validation.js';

const TYPES = ['Container', 'PersistentVolumeClaim', 'Pod'];
const BOUNDS = ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio'] as const;

/** SetDefaults_LimitRangeItem: a Container item's default limits come from max, its default requests from default, then min. */
function defaultLimitRange(lr: Obj): void {
  each(child(lr, 'spec').limits, (item) => {
    if (item.type !== 'Container') return;
    const defaults = isObj(item.default) ? item.default : {};
    for (const [k, v] of Object.entries(asObj(item.max))) fill(defaults, k, v);
    const requests = isObj(item.defaultRequest) ? item.defaultRequest : {};
    for (const [k, v] of Object.entries(defaults)) fill(requests, k, v);
    for (const [k, v] of Object.entries(asObj(item.min))) fill(requests, k, v);
    if (Object.keys(defaults).length) item.default = defaults;
    if (Object.keys(requests).length) item.defaultRequest = requests;
  });
}

/** Whether a quantity parses; its parse error message otherwise. */
function quantityError(v: unknown): string {
  try {
    parseQuantity(String(v));
    return '';
  } catch (err) {
    return (err as Error).message;
  }
}

/** ValidateLimitRange's main rules: supported types, valid quantities, min <= default request <= default <= max. */
function validateLimitRange(lr: Obj): Errors {
  const errs: Errors = [];
  asList(asObj(lr.spec).limits).forEach((item, i) => {
    const p = `spec.limits[${i}]`;
    if (!item.type) errs.push(required(`${p}.type`));
    else if (!TYPES.includes(item.type)) errs.push(notSupported(`${p}.type`, item.type, TYPES));
    let valid = true;
    for (const bound of BOUNDS) {
      for (const [k, v] of Object.entries(asObj(item[bound]))) {
        const why = quantityError(v);
        if (why) { valid = false; errs.push(invalid(`${p}.${bound}[${k}]`, v, why)); }
      }
    }
    if (!valid) return;
    if (item.type === 'Pod' && (isObj(item.default) || isObj(item.defaultRequest))) {
      if (isObj(item.default)) errs.push({ field: `${p}.default`, type: 'FieldValueForbidden', message: 'may not be specified when `type` is \'Pod\'' });
      if (isObj(item.defaultRequest)) errs.push({ field: `${p}.defaultRequest`, type: 'FieldValueForbidden', message: 'may not be specified when `type` is \'Pod\'' });
    }
    const order: [typeof BOUNDS[number], typeof BOUNDS[number], string][] = [
      ['min', 'max', 'min value %s is greater than max value %s'],
      ['defaultRequest', 'default', 'default request value %s is greater than default limit value %s'],
      ['min', 'defaultRequest', 'min value %s is greater than default request value %s'],
      ['default', 'max', 'default value %s is greater than max value %s'],
    ];
    for (const [lo, hi, msg] of order) {
      for (const [k, low] of Object.entries(asObj(item[lo]))) {
        const high = asObj(item[hi])[k];
        if (high !== undefined && compareQuantities(String(low), String(high)) > 0) {
          errs.push(invalid(`${p}.${lo}[${k}]`, low, msg.replace('%s', String(low)).replace('%s', String(high))));
        }
      }
    }
  });
  return errs;
}

const printer: Printer = {
  columns: [NAME, { ...column('Created At', 'Time the limit range was created (metadata.creationTimestamp).', 0, 'date') }],
  row: (lr: Obj) => [nameOf(lr), lr.metadata?.creationTimestamp ?? ''],
};

/** LimitRanges (upstream's pkg/registry/core/limitrange); the LimitRanger admission plugin that applies them comes later. */
export const limitRangeStrategy = defineStrategy('', 'v1', 'limitranges', {
  defaults: defaultLimitRange,
  validate: validateLimitRange,
  printer,
});
