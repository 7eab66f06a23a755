import { isDNS1035Label, isDNS1123Label, type FieldError, type Service } from '@k8ts/api';
import { defineStrategy } from '../strategy.js';
import { child, each, fill, fillZero } from '../shared/defaults.js';
import { age, AGE, column, formatLabels, NAME, nameOf, SELECTOR, type Printer } from '../shared/printing.js';
import {
  asList, asObj, duplicate, forbidden, invalid, invalidEach, isValidPortName, isValidPortNum, notSupported, PROTOCOLS,
  isSet, required, validateLabels, type Errors, type Obj,
} from '../shared/validation.js';

function defaultService(svc: Obj): void {
  const spec = child(svc, 'spec');
  fillZero(spec, 'sessionAffinity', 'None');
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === 'ClientIP' && typeof spec.sessionAffinityConfig?.clientIP?.timeoutSeconds !== 'number') {
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10800 } };
  }
  fillZero(spec, 'type', 'ClusterIP');
  each(spec.ports, (p) => {
    fillZero(p, 'protocol', 'TCP');
    fillZero(p, 'targetPort', p.port);
  });
  const externallyAccessible = spec.type === 'LoadBalancer' || spec.type === 'NodePort'
    || (spec.type === 'ClusterIP' && Array.isArray(spec.externalIPs) && spec.externalIPs.length > 0);
  if (externallyAccessible) fillZero(spec, 'externalTrafficPolicy', 'Cluster');
  if (['ClusterIP', 'NodePort', 'LoadBalancer'].includes(spec.type)) fill(spec, 'internalTrafficPolicy', 'Cluster');
  if (spec.type === 'LoadBalancer') fill(spec, 'allocateLoadBalancerNodePorts', true);
}

const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];

function validateService(svc: Obj, old?: Obj): Errors {
  const spec = asObj(svc.spec);
  const errs: Errors = [];
  const type = spec.type;
  if (!SERVICE_TYPES.includes(type)) errs.push(notSupported('spec.type', type, SERVICE_TYPES));
  if (type === 'ExternalName' && !spec.externalName) errs.push(required('spec.externalName'));
  if (spec.sessionAffinity && !['ClientIP', 'None'].includes(spec.sessionAffinity)) {
    errs.push(notSupported('spec.sessionAffinity', spec.sessionAffinity, ['ClientIP', 'None']));
  }
  const ports = asList(spec.ports);
  const headless = spec.clusterIP === 'None';
  if (!ports.length && !headless && type !== 'ExternalName') errs.push(required('spec.ports'));
  const names = new Set<string>();
  ports.forEach((port, i) => {
    const p = `spec.ports[${i}]`;
    if (ports.length > 1 && !port.name) errs.push(required(`${p}.name`));
    if (port.name) {
      errs.push(...invalidEach(`${p}.name`, port.name, isDNS1123Label(String(port.name))));
      if (names.has(port.name)) errs.push(duplicate(`${p}.name`, port.name));
      names.add(port.name);
    }
    errs.push(...invalidEach(`${p}.port`, port.port, isValidPortNum(port.port)));
    if (!port.protocol) errs.push(required(`${p}.protocol`));
    else if (!PROTOCOLS.includes(port.protocol)) errs.push(notSupported(`${p}.protocol`, port.protocol, PROTOCOLS));
    if (typeof port.targetPort === 'string') errs.push(...invalidEach(`${p}.targetPort`, port.targetPort, isValidPortName(port.targetPort)));
    else if (isSet(port.targetPort)) errs.push(...invalidEach(`${p}.targetPort`, port.targetPort, isValidPortNum(port.targetPort)));
    if (port.nodePort) {
      if (type === 'ClusterIP') errs.push(forbidden(`${p}.nodePort`, "may not be used when `type` is 'ClusterIP'"));
      else errs.push(...invalidEach(`${p}.nodePort`, port.nodePort, isValidPortNum(port.nodePort)));
    }
  });
  errs.push(...validateLabels(spec.selector, 'spec.selector'));
  if (old) {
    const oldSpec = asObj(old.spec);
    // The cluster IP may change only to or from ExternalName, which has none.
    if (type !== 'ExternalName' && oldSpec.type !== 'ExternalName' && oldSpec.clusterIP && spec.clusterIP
      && spec.clusterIP !== oldSpec.clusterIP) {
      errs.push(invalid('spec.clusterIPs[0]', spec.clusterIPs ?? [spec.clusterIP], 'may not change once set'));
    }
  }
  return errs;
}

/** EXTERNAL-IP of a service (upstream getServiceExternalIP, wide form). */
function serviceExternalIP(svc: Service): string {
  const spec = svc.spec ?? {};
  const externalIPs = spec.externalIPs ?? [];
  switch (spec.type) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = new Set<string>();
      for (const ing of svc.status?.loadBalancer?.ingress ?? []) {
        if (ing.ip) lb.add(ing.ip);
        else if (ing.hostname) lb.add(ing.hostname);
      }
      const all = [...lb, ...externalIPs];
      return all.length ? all.join(',') : '<pending>';
    }
    case 'ExternalName':
      return spec.externalName ?? '';
    default:
      return '<unknown>';
  }
}

const printer: Printer = {
  columns: [
    NAME,
    column('Type', 'How the service is exposed: ClusterIP, NodePort, LoadBalancer or ExternalName.'),
    column('Cluster-IP', 'The IP address of the service inside the cluster.'),
    column('External-IP', 'Addresses outside the cluster at which the service is reachable.'),
    column('Port(s)', 'The ports the service exposes.'),
    AGE,
    SELECTOR('the pods the service routes traffic to'),
  ],
  row(obj, now) {
    const svc = obj as Service;
    const spec = svc.spec ?? {};
    const ports = (spec.ports ?? [])
      .map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`))
      .join(',');
    return [
      nameOf(svc), spec.type ?? '', spec.clusterIPs?.[0] || spec.clusterIP || '<none>', serviceExternalIP(svc),
      ports || '<none>', age(svc, now), formatLabels(spec.selector),
    ];
  },
};

const usesNodePorts = (type: unknown) => type === 'NodePort' || type === 'LoadBalancer';

/**
 * What a change of `type` leaves behind is dropped, when the client left it as it was (upstream's
 * dropTypeDependentFields): the cluster IP on a move to ExternalName, node ports on a move to ClusterIP or
 * ExternalName, LoadBalancer-only fields on a move away from LoadBalancer. Released with them are their reservations.
 */
function dropTypeDependentFields(next: Obj, old: Obj): void {
  const spec = asObj(next.spec);
  const oldSpec = asObj(old.spec);
  if (spec.type === oldSpec.type) return;
  if (spec.type === 'ExternalName' && oldSpec.type !== 'ExternalName') {
    if (spec.clusterIP === oldSpec.clusterIP) delete spec.clusterIP;
    if (JSON.stringify(spec.clusterIPs) === JSON.stringify(oldSpec.clusterIPs)) delete spec.clusterIPs;
    if (JSON.stringify(spec.ipFamilies) === JSON.stringify(oldSpec.ipFamilies)) delete spec.ipFamilies;
    if (spec.ipFamilyPolicy === oldSpec.ipFamilyPolicy) delete spec.ipFamilyPolicy;
  }
  if (!usesNodePorts(spec.type) && usesNodePorts(oldSpec.type)) {
    const oldPorts = asList(oldSpec.ports);
    for (const p of asList(spec.ports)) {
      if (p.nodePort && oldPorts.some((o) => o.nodePort === p.nodePort)) delete p.nodePort;
    }
  }
  if (spec.type !== 'LoadBalancer' && oldSpec.type === 'LoadBalancer') {
    if (spec.allocateLoadBalancerNodePorts === oldSpec.allocateLoadBalancerNodePorts) delete spec.allocateLoadBalancerNodePorts;
    if (spec.loadBalancerClass === oldSpec.loadBalancerClass) delete spec.loadBalancerClass;
  }
  if (spec.type !== 'LoadBalancer' && spec.type !== 'NodePort' && !(spec.externalIPs?.length)) {
    if (spec.externalTrafficPolicy === oldSpec.externalTrafficPolicy) delete spec.externalTrafficPolicy;
  }
}

/** The cluster IP and node ports a Service holds (`serviceips/<ip>`, `servicenodeports/<port>`). */
function serviceReservations(svc: Obj): string[] {
  const spec = asObj(svc.spec);
  const out: string[] = [];
  if (spec.type !== 'ExternalName' && typeof spec.clusterIP === 'string' && spec.clusterIP && spec.clusterIP !== 'None') out.push(`serviceips/${spec.clusterIP}`);
  for (const p of asList(spec.ports)) {
    // One node port may serve a TCP and a UDP port of the same Service.
    if (typeof p.nodePort === 'number' && p.nodePort > 0 && !out.includes(`servicenodeports/${p.nodePort}`)) out.push(`servicenodeports/${p.nodePort}`);
  }
  return out;
}

function serviceReservationTaken(svc: Obj, reservation: string): FieldError {
  const spec = asObj(svc.spec);
  const [kind, value] = reservation.split('/');
  if (kind === 'serviceips') {
    return invalid('spec.clusterIPs', spec.clusterIPs ?? [value], `failed to allocate IP ${value}: provided IP is already allocated`);
  }
  const i = asList(spec.ports).findIndex((p) => String(p.nodePort) === value);
  return invalid(`spec.ports[${i}].nodePort`, Number(value), 'provided port is already allocated');
}

/** Services (upstream's pkg/registry/core/service): ClusterIPs and NodePorts come from the allocation admission. */
export const serviceStrategy = defineStrategy('', 'v1', 'services', {
  nameCheck: isDNS1035Label,
  defaults: defaultService,
  validate: validateService,
  prepareForUpdate: (next, old) => {
    if (old.status === undefined) delete next.status; else next.status = structuredClone(old.status);
    dropTypeDependentFields(next as Obj, old as Obj);
  },
  reservations: (obj) => serviceReservations(obj as Obj),
  reservationTaken: (obj, reservation) => serviceReservationTaken(obj as Obj, reservation),
  initialStatus: () => ({ loadBalancer: {} }),
  printer,
});
