import { parseQuantity } from '@k8ts/api';
import { defineStrategy } from '../strategy.js';
import { age, AGE, column, NAME, nameOf, type Printer } from '../shared/printing.js';
import { asList, asObj, invalid, notSupported, type Errors, type Obj } from '../shared/validation.js';

const SCOPES = ['BestEffort', 'CrossNamespacePodAffinity', 'NotBestEffort', 'NotTerminating', 'PriorityClass', 'Terminating'];
const OPERATORS = ['DoesNotExist', 'Exists', 'In', 'NotIn'];

/** ValidateResourceQuota's main rules: hard limits are non-negative quantities; scopes are known ones. */
function validateResourceQuota(rq: Obj): Errors {
  const spec = asObj(rq.spec);
  const errs: Errors = [];
  for (const [k, v] of Object.entries(asObj(spec.hard))) {
    let n: number;
    try {
      n = parseQuantity(String(v));
    } catch (err) {
      errs.push(invalid(`spec.hard[${k}]`, v, (err as Error).message));
      continue;
    }
    if (n < 0) errs.push(invalid(`spec.hard[${k}]`, v, 'must be greater than or equal to 0'));
  }
  (Array.isArray(spec.scopes) ? spec.scopes : []).forEach((s: unknown, i: number) => {
    if (!SCOPES.includes(String(s))) errs.push(notSupported(`spec.scopes[${i}]`, s, SCOPES));
  });
  asList(asObj(spec.scopeSelector).matchExpressions).forEach((e, i) => {
    const p = `spec.scopeSelector.matchExpressions[${i}]`;
    if (!SCOPES.includes(e.scopeName)) errs.push(notSupported(`${p}.scopeName`, e.scopeName, SCOPES));
    if (!OPERATORS.includes(e.operator)) errs.push(notSupported(`${p}.operator`, e.operator, OPERATORS));
  });
  return errs;
}

/** REQUEST and LIMIT: `used/hard` of each resource in status, `requests.*` and plain names under REQUEST (printResourceQuota). */
function quotaCells(rq: Obj): [string, string] {
  const hard = asObj(rq.status?.hard);
  const used = asObj(rq.status?.used);
  const requests: string[] = [];
  const limits: string[] = [];
  for (const k of Object.keys(hard).sort()) {
    const cell = `${k}: ${String(used[k] ?? '0')}/${String(hard[k])}`;
    (k.startsWith('limits.') ? limits : requests).push(cell);
  }
  return [requests.join(', '), limits.join(', ')];
}

const printer: Printer = {
  columns: [
    NAME, AGE,
    column('Request', 'Used and hard requests of the quota.'),
    column('Limit', 'Used and hard limits of the quota.'),
  ],
  row(rq: Obj, now) {
    const [request, limit] = quotaCells(rq);
    return [nameOf(rq), age(rq, now), request, limit];
  },
};

/** ResourceQuotas (upstream's pkg/registry/core/resourcequota); the quota controller and admission plugin come later. */
export const resourceQuotaStrategy = defineStrategy('', 'v1', 'resourcequotas', {
  validate: validateResourceQuota,
  printer,
});
