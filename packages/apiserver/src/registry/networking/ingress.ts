import { isDNS1035Label, isDNS1123Subdomain } from '@k8ts/api';
import { defineStrategy } from '../strategy.js';
import { age, AGE, column, NAME, nameOf, type Printer } from '../shared/printing.js';
import {
  asList, asObj, invalid, invalidEach, isObj, isValidPortNum, notSupported, required, type Errors, type Obj,
} from '../shared/validation.js';

const PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix'];

/** An IngressBackend: exactly one of service (name, and a port by name or number) or resource. */
function validateBackend(backend: Obj, path: string): Errors {
  const errs: Errors = [];
  const service = backend.service;
  if (isObj(service) && isObj(backend.resource)) return [invalid(path, '', 'cannot set both resource and service backends')];
  if (isObj(backend.resource)) {
    if (!backend.resource.kind) errs.push(required(`${path}.resource.kind`));
    if (!backend.resource.name) errs.push(required(`${path}.resource.name`));
    return errs;
  }
  if (!isObj(service)) return [invalid(path, '', 'resource or service backend is required')];
  if (!service.name) errs.push(required(`${path}.service.name`));
  else errs.push(...invalidEach(`${path}.service.name`, service.name, isDNS1035Label(String(service.name))));
  const port = asObj(service.port);
  if (port.name && port.number) errs.push(invalid(`${path}.service.port`, port, 'cannot set both port name & port number'));
  else if (port.name) errs.push(...invalidEach(`${path}.service.port.name`, port.name, isDNS1035Label(String(port.name))));
  else if (port.number !== undefined) errs.push(...invalidEach(`${path}.service.port.number`, port.number, isValidPortNum(port.number)));
  else errs.push(required(`${path}.service.port`, 'port name or number is required'));
  return errs;
}

/** ValidateIngressSpec's main rules: rules or a default backend; hosts, paths and backends well-formed. */
function validateIngress(ing: Obj): Errors {
  const spec = asObj(ing.spec);
  const errs: Errors = [];
  const rules = asList(spec.rules);
  if (!rules.length && !isObj(spec.defaultBackend)) errs.push(invalid('spec.rules', [], 'either `defaultBackend` or `rules` must be specified'));
  if (isObj(spec.defaultBackend)) errs.push(...validateBackend(spec.defaultBackend, 'spec.defaultBackend'));
  if (spec.ingressClassName) errs.push(...invalidEach('spec.ingressClassName', spec.ingressClassName, isDNS1123Subdomain(String(spec.ingressClassName))));
  rules.forEach((rule, i) => {
    const p = `spec.rules[${i}]`;
    if (rule.host) {
      const host = String(rule.host);
      // A leading `*.` is a wildcard for one DNS label.
      const msgs = isDNS1123Subdomain(host.startsWith('*.') ? host.slice(2) : host);
      errs.push(...invalidEach(`${p}.host`, rule.host, msgs));
    }
    if (!isObj(rule.http)) return;
    const paths = asList(rule.http.paths);
    if (!paths.length) errs.push(required(`${p}.http.paths`));
    paths.forEach((hp, j) => {
      const pp = `${p}.http.paths[${j}]`;
      if (!hp.pathType) errs.push(required(`${pp}.pathType`, 'pathType must be specified'));
      else if (!PATH_TYPES.includes(hp.pathType)) errs.push(notSupported(`${pp}.pathType`, hp.pathType, PATH_TYPES));
      if ((hp.pathType === 'Exact' || hp.pathType === 'Prefix') && !String(hp.path ?? '').startsWith('/')) {
        errs.push(invalid(`${pp}.path`, hp.path ?? '', 'must be an absolute path'));
      }
      errs.push(...validateBackend(asObj(hp.backend), `${pp}.backend`));
    });
  });
  asList(spec.tls).forEach((tls, i) => {
    if (tls.secretName) errs.push(...invalidEach(`spec.tls[${i}].secretName`, tls.secretName, isDNS1123Subdomain(String(tls.secretName))));
  });
  return errs;
}

/** HOSTS: up to three hosts, `*` for a rule without one (formatHosts). */
function hosts(ing: Obj): string {
  const list = asList(ing.spec?.rules).map((r) => (r.host ? String(r.host) : '*'));
  if (!list.length) return '*';
  return list.length > 3 ? `${list.slice(0, 3).join(',')} + ${list.length - 3} more...` : list.join(',');
}

/** ADDRESS: the load balancer's IPs and hostnames, cut to 16 characters as upstream's narrow output. */
function address(ing: Obj): string {
  const all = asList(ing.status?.loadBalancer?.ingress).map((i) => String(i.ip || i.hostname || '')).filter(Boolean).join(',');
  return all.length > 16 ? `${all.slice(0, 13)}...` : all;
}

const printer: Printer = {
  columns: [
    NAME,
    column('Class', 'The ingress class that serves this ingress.'),
    column('Hosts', 'Hosts that incoming requests are matched against before the ingress rule'),
    column('Address', 'Address is a list containing ingress points for the load-balancer'),
    column('Ports', 'Ports of TLS configurations that open'),
    AGE,
  ],
  row: (ing: Obj, now) => [
    nameOf(ing), ing.spec?.ingressClassName || '<none>', hosts(ing), address(ing),
    asList(ing.spec?.tls).length ? '80, 443' : '80', age(ing, now),
  ],
};

/** networking.k8s.io/v1 Ingresses (upstream's pkg/registry/networking/ingress); packages/ingress serves them. */
export const ingressStrategy = defineStrategy('networking.k8s.io', 'v1', 'ingresses', {
  tracksGeneration: true,
  validate: validateIngress,
  initialStatus: () => ({ loadBalancer: {} }),
  printer,
});

