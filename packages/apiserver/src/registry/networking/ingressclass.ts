import { isDNS1123Subdomain } from '@k8ts/api';
import { defineStrategy } from '../strategy.js';
import { age, AGE, column, NAME, nameOf, type Printer } from '../shared/printing.js';
import { asObj, immutable, invalid, isObj, required, tooLong, type Errors, type Obj } from '../shared/validation.js';

const MAX_CONTROLLER_LENGTH = 250;
const SCOPES = ['Cluster', 'Namespace'];

/** ValidateIngressClass(Update): a domain-prefixed controller name that never changes, and well-formed parameters. */
function validateIngressClass(ic: Obj, old?: Obj): Errors {
  const spec = asObj(ic.spec);
  const errs: Errors = [];
  const controller = String(spec.controller ?? '');
  if (!controller) errs.push(required('spec.controller'));
  else if (controller.length > MAX_CONTROLLER_LENGTH) errs.push(tooLong('spec.controller', MAX_CONTROLLER_LENGTH));
  else {
    const slash = controller.indexOf('/');
    const domain = slash < 0 ? '' : controller.slice(0, slash);
    if (slash <= 0 || isDNS1123Subdomain(domain).length || slash === controller.length - 1) {
      errs.push(invalid('spec.controller', controller, 'must be a domain-prefixed path (such as "acme.io/foo")'));
    }
  }
  if (isObj(spec.parameters)) {
    const params = spec.parameters;
    if (!params.kind) errs.push(required('spec.parameters.kind'));
    if (!params.name) errs.push(required('spec.parameters.name'));
    if (params.scope !== undefined && !SCOPES.includes(params.scope)) {
      errs.push({ field: 'spec.parameters.scope', type: 'FieldValueNotSupported', value: params.scope, message: 'supported values: "Cluster", "Namespace"' });
    }
    if (params.scope === 'Namespace' && !params.namespace) errs.push(required('spec.parameters.namespace', '`parameters.scope` is set to "Namespace"'));
  }
  if (old && controller !== String(asObj(old.spec).controller ?? '')) errs.push(immutable('spec.controller', controller));
  return errs;
}

/** PARAMETERS: `Kind.group/name`, `<none>` without (printIngressClass). */
function parameters(ic: Obj): string {
  const p = ic.spec?.parameters;
  if (!isObj(p)) return '<none>';
  return `${String(p.kind ?? '')}${p.apiGroup ? `.${String(p.apiGroup)}` : ''}/${String(p.name ?? '')}`;
}

const printer: Printer = {
  columns: [
    NAME,
    column('Controller', 'Controller that is responsible for handling this class'),
    column('Parameters', 'A reference to a resource with additional parameters'),
    AGE,
  ],
  row: (ic: Obj, now) => [nameOf(ic), ic.spec?.controller ?? '', parameters(ic), age(ic, now)],
};

/** networking.k8s.io/v1 IngressClasses (upstream's pkg/registry/networking/ingressclass). */
export const ingressClassStrategy = defineStrategy('networking.k8s.io', 'v1', 'ingressclasses', {
  validate: validateIngressClass,
  printer,
});
