import { isDeepStrictEqual } from 'node:util';
import {
  isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue, labelSelectorRequirements,
  matchesLabels, maxLenError, regexError, RESOURCES,
} from '@k8ts/api';
import type { FieldError, KubeObject, LabelSelector } from '@k8ts/api';
import { HIGHEST_USER_DEFINABLE_PRIORITY, SYSTEM_PRIORITY_CLASS_PREFIX, unknownSystemPriorityClass } from './priority.js';

/*
 * Upstream's validation (pkg/apis/<group>/validation, apimachinery util/validation) for the kinds k8ts serves: the rules
 * clients trip over, with upstream's field paths and messages. Objects arrive defaulted (applyDefaults).
 */

type Obj = Record<string, any>;
type Errors = FieldError[];

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const asObj = (v: unknown): Obj => (isObj(v) ? v : {});
const asList = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(asObj) : []);
const isSet = (v: unknown): boolean => v !== undefined && v !== null;

// ---------------------------------------------------------------------------------------------------------------
// field.Error constructors

const required = (field: string, message = ''): FieldError => ({ field, type: 'FieldValueRequired', message });
const invalid = (field: string, value: unknown, message: string): FieldError => ({ field, type: 'FieldValueInvalid', message, value });
const duplicate = (field: string, value: unknown): FieldError => ({ field, type: 'FieldValueDuplicate', message: '', value });
const forbidden = (field: string, message: string): FieldError => ({ field, type: 'FieldValueForbidden', message });
const tooLong = (field: string, max: number): FieldError => ({ field, type: 'FieldValueTooLong', message: `may not be more than ${max} bytes` });
const notSupported = (field: string, value: unknown, supported: string[]): FieldError => ({
  field, type: 'FieldValueNotSupported', value, message: `supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`,
});
const immutable = (field: string, value: unknown): FieldError => invalid(field, value, 'field is immutable');
const invalidEach = (field: string, value: unknown, msgs: string[]): Errors => msgs.map((m) => invalid(field, value, m));

function nonNegative(field: string, value: unknown): Errors {
  return typeof value === 'number' && value < 0 ? [invalid(field, value, 'must be greater than or equal to 0')] : [];
}

// ---------------------------------------------------------------------------------------------------------------
// String formats (apimachinery util/validation), with upstream's messages; the name and label checks are @k8ts/api's

const CONFIG_KEY_FMT = '[-._a-zA-Z0-9]+';
const CONFIG_KEY_RE = new RegExp(`^${CONFIG_KEY_FMT}$`);

function isConfigMapKey(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 253) errs.push(maxLenError(253));
  if (!CONFIG_KEY_RE.test(v)) errs.push(regexError("a valid config key must consist of alphanumeric characters, '-', '_' or '.'", CONFIG_KEY_FMT, 'key.name', 'KEY_NAME', 'key-name'));
  if (v === '.') errs.push("must not be '.'");
  else if (v === '..') errs.push("must not be '..'");
  else if (v.startsWith('..')) errs.push("must not start with '..'");
  return errs;
}

const isValidPortNum = (p: unknown): string[] =>
  (typeof p === 'number' && Number.isInteger(p) && p >= 1 && p <= 65535 ? [] : ['must be between 1 and 65535, inclusive']);

function isValidPortName(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 15) errs.push(maxLenError(15));
  if (!/^[-a-z0-9]+$/.test(v)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(v)) errs.push('must contain at least one letter (a-z)');
  if (v.includes('--')) errs.push('must not contain consecutive hyphens');
  if (v.startsWith('-') || v.endsWith('-')) errs.push('must not begin or end with a hyphen');
  return errs;
}

// ---------------------------------------------------------------------------------------------------------------
// Metadata, labels, selectors

/** Label keys must be qualified names and values valid label values; errors are reported at `path`, as upstream. */
export function validateLabels(labels: unknown, path: string): FieldError[] {
  if (!isSet(labels)) return [];
  if (!isObj(labels)) return [invalid(path, labels, 'must be a map of string keys to string values')];
  const errs: Errors = [];
  for (const [k, v] of Object.entries(labels)) {
    errs.push(...invalidEach(path, k, isQualifiedName(k)));
    if (typeof v !== 'string') errs.push(invalid(path, v, 'must be a string'));
    else errs.push(...invalidEach(path, v, isValidLabelValue(v)));
  }
  return errs;
}

const ANNOTATIONS_MAX_BYTES = 256 * 1024;

function validateAnnotations(annotations: unknown, path: string): Errors {
  if (!isObj(annotations)) return [];
  const errs: Errors = [];
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) {
    errs.push(...invalidEach(path, k, isQualifiedName(k.toLowerCase())));
    size += Buffer.byteLength(k) + Buffer.byteLength(String(v ?? ''));
  }
  if (size > ANNOTATIONS_MAX_BYTES) errs.push(tooLong(path, ANNOTATIONS_MAX_BYTES));
  return errs;
}

type NameCheck = (name: string) => string[];

function validateObjectMeta(obj: KubeObject, namespaced: boolean, nameCheck: NameCheck): Errors {
  const meta = asObj(obj.metadata);
  const errs: Errors = [];
  if (!meta.name) errs.push(required('metadata.name', 'name or generateName is required'));
  else errs.push(...invalidEach('metadata.name', meta.name, nameCheck(String(meta.name))));
  if (namespaced) {
    if (!meta.namespace) errs.push(required('metadata.namespace'));
    else errs.push(...invalidEach('metadata.namespace', meta.namespace, isDNS1123Label(String(meta.namespace))));
  } else if (meta.namespace) {
    errs.push(forbidden('metadata.namespace', 'not allowed on this type'));
  }
  errs.push(...validateLabels(meta.labels, 'metadata.labels'));
  errs.push(...validateAnnotations(meta.annotations, 'metadata.annotations'));
  return errs;
}

function validateLabelSelector(sel: Obj, path: string): Errors {
  const errs = validateLabels(sel.matchLabels, `${path}.matchLabels`);
  asList(sel.matchExpressions).forEach((e, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    const values = Array.isArray(e.values) ? e.values : [];
    switch (e.operator) {
      case 'In':
      case 'NotIn':
        if (!values.length) errs.push(required(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length) errs.push(forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        errs.push(invalid(`${p}.operator`, e.operator, 'not a valid selector operator'));
    }
    errs.push(...invalidEach(`${p}.key`, e.key, isQualifiedName(String(e.key ?? ''))));
    values.forEach((v: unknown, j: number) => errs.push(...invalidEach(`${p}.values[${j}]`, v, isValidLabelValue(String(v)))));
  });
  return errs;
}

/** Whether a (valid, non-empty) selector matches the labels; true when it cannot be evaluated (reported elsewhere). */
function selectorMatches(sel: Obj, labels: unknown): boolean {
  try {
    const reqs = labelSelectorRequirements(sel as LabelSelector);
    return !reqs?.length || matchesLabels(reqs, isObj(labels) ? labels as Record<string, string> : undefined);
  } catch {
    return true;
  }
}

/** JSON equality where absent, undefined and null are the same, as they are after Go decodes them. */
function sameJSON(a: unknown, b: unknown): boolean {
  const norm = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(norm);
    if (!isObj(v)) return v;
    return Object.fromEntries(Object.entries(v).filter(([, x]) => isSet(x)).map(([k, x]) => [k, norm(x)]));
  };
  return isDeepStrictEqual(norm(a), norm(b));
}

// ---------------------------------------------------------------------------------------------------------------
// Pod specs

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

function validateContainerPorts(ports: unknown, path: string): Errors {
  const errs: Errors = [];
  const names = new Set<string>();
  asList(ports).forEach((port, i) => {
    const p = `${path}[${i}]`;
    if (port.name) {
      const msgs = isValidPortName(String(port.name));
      if (msgs.length) errs.push(...invalidEach(`${p}.name`, port.name, msgs));
      else if (names.has(port.name)) errs.push(duplicate(`${p}.name`, port.name));
      else names.add(port.name);
    }
    if (!port.containerPort) errs.push(required(`${p}.containerPort`));
    else errs.push(...invalidEach(`${p}.containerPort`, port.containerPort, isValidPortNum(port.containerPort)));
    if (port.hostPort) errs.push(...invalidEach(`${p}.hostPort`, port.hostPort, isValidPortNum(port.hostPort)));
    if (!port.protocol) errs.push(required(`${p}.protocol`));
    else if (!PROTOCOLS.includes(port.protocol)) errs.push(notSupported(`${p}.protocol`, port.protocol, PROTOCOLS));
  });
  return errs;
}

function validateContainers(list: unknown, path: string, names: Set<string>, requireOne: boolean): Errors {
  const containers = asList(list);
  if (requireOne && !containers.length) return [required(path)];
  const errs: Errors = [];
  containers.forEach((c, i) => {
    const p = `${path}[${i}]`;
    if (!c.name) errs.push(required(`${p}.name`));
    else errs.push(...invalidEach(`${p}.name`, c.name, isDNS1123Label(String(c.name))));
    if (c.name && names.has(c.name)) errs.push(duplicate(`${p}.name`, c.name));
    else names.add(c.name);
    if (!c.image) errs.push(required(`${p}.image`));
    if (c.imagePullPolicy && !['Always', 'IfNotPresent', 'Never'].includes(c.imagePullPolicy)) {
      errs.push(notSupported(`${p}.imagePullPolicy`, c.imagePullPolicy, ['Always', 'IfNotPresent', 'Never']));
    }
    if (c.terminationMessagePolicy && !['File', 'FallbackToLogsOnError'].includes(c.terminationMessagePolicy)) {
      errs.push(notSupported(`${p}.terminationMessagePolicy`, c.terminationMessagePolicy, ['File', 'FallbackToLogsOnError']));
    }
    errs.push(...validateContainerPorts(c.ports, `${p}.ports`));
    for (const probe of ['livenessProbe', 'startupProbe']) {
      const threshold = c[probe]?.successThreshold;
      if (isSet(threshold) && threshold !== 1) errs.push(invalid(`${p}.${probe}.successThreshold`, threshold, 'must be 1'));
    }
  });
  return errs;
}

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];

/** ValidatePodSpec's main rules. Job templates check restartPolicy themselves (`jobTemplate`). */
function validatePodSpec(specIn: unknown, path: string, opts: { jobTemplate?: boolean } = {}): Errors {
  const spec = asObj(specIn);
  const errs: Errors = [];
  const volumes = new Set<string>();
  asList(spec.volumes).forEach((v, i) => {
    const p = `${path}.volumes[${i}].name`;
    if (!v.name) errs.push(required(p));
    else if (volumes.has(v.name)) errs.push(duplicate(p, v.name));
    else errs.push(...invalidEach(p, v.name, isDNS1123Label(String(v.name))));
    volumes.add(v.name);
  });
  // Containers first, so a clash is reported on the init container, as upstream does.
  const names = new Set<string>();
  errs.push(...validateContainers(spec.containers, `${path}.containers`, names, true));
  errs.push(...validateContainers(spec.initContainers, `${path}.initContainers`, names, false));
  if (!opts.jobTemplate) {
    if (!spec.restartPolicy) errs.push(required(`${path}.restartPolicy`));
    else if (!RESTART_POLICIES.includes(spec.restartPolicy)) errs.push(notSupported(`${path}.restartPolicy`, spec.restartPolicy, RESTART_POLICIES));
  }
  if (spec.nodeName) errs.push(...invalidEach(`${path}.nodeName`, spec.nodeName, isDNS1123Subdomain(String(spec.nodeName))));
  if (isSet(spec.activeDeadlineSeconds)) {
    const v = spec.activeDeadlineSeconds;
    if (typeof v !== 'number' || v < 1 || v > 2147483647) errs.push(invalid(`${path}.activeDeadlineSeconds`, v, 'must be between 1 and 2147483647, inclusive'));
  }
  return errs;
}

/** ValidatePodTemplateSpec (labels are reported at `<template>.labels`, as upstream). */
function validatePodTemplate(templateIn: unknown, path: string, opts: { jobTemplate?: boolean } = {}): Errors {
  const template = asObj(templateIn);
  const meta = asObj(template.metadata);
  return [
    ...validateLabels(meta.labels, `${path}.labels`),
    ...validateAnnotations(meta.annotations, `${path}.annotations`),
    ...validatePodSpec(template.spec, `${path}.spec`, opts),
  ];
}

const POD_UPDATE_FORBIDDEN = 'pod updates may not change fields other than `spec.containers[*].image`,'
  + '`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),'
  + '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/** ValidatePodUpdate's spec rule: copy the few mutable fields from the new spec onto the old one; anything else differing is forbidden. */
function validatePodSpecUpdate(specIn: unknown, oldSpecIn: unknown): Errors {
  const spec = asObj(specIn);
  const oldSpec = asObj(oldSpecIn);
  if (asList(spec.containers).length !== asList(oldSpec.containers).length) {
    return [forbidden('spec.containers', 'pod updates may not add or remove containers')];
  }
  const deadline = spec.activeDeadlineSeconds;
  const oldDeadline = oldSpec.activeDeadlineSeconds;
  if (isSet(deadline)) {
    if (typeof deadline !== 'number' || deadline < 0 || deadline > 2147483647) {
      return [invalid('spec.activeDeadlineSeconds', deadline, 'must be between 0 and 2147483647, inclusive')];
    }
    if (isSet(oldDeadline) && oldDeadline < deadline) return [invalid('spec.activeDeadlineSeconds', deadline, 'must be less than or equal to previous value')];
  } else if (isSet(oldDeadline)) {
    return [invalid('spec.activeDeadlineSeconds', null, 'must not update from a positive integer to nil value')];
  }

  const munged = structuredClone(spec);
  for (const list of ['containers', 'initContainers']) {
    const olds = asList(oldSpec[list]);
    if (Array.isArray(munged[list]) && munged[list].length === olds.length) {
      munged[list].forEach((c: Obj, i: number) => { if (isObj(c)) c.image = olds[i].image; });
    }
  }
  munged.activeDeadlineSeconds = oldDeadline;
  const tolerations = asList(spec.tolerations);
  if (asList(oldSpec.tolerations).every((t) => tolerations.some((n) => sameJSON(n, t)))) munged.tolerations = oldSpec.tolerations;
  if (typeof oldSpec.terminationGracePeriodSeconds === 'number' && oldSpec.terminationGracePeriodSeconds < 0
    && spec.terminationGracePeriodSeconds === 1) munged.terminationGracePeriodSeconds = oldSpec.terminationGracePeriodSeconds;
  // Scheduling gates may only be removed.
  const oldGates = asList(oldSpec.schedulingGates);
  if (asList(spec.schedulingGates).every((g) => oldGates.some((o) => sameJSON(o, g)))) munged.schedulingGates = oldSpec.schedulingGates;
  return sameJSON(munged, oldSpec) ? [] : [forbidden('spec', POD_UPDATE_FORBIDDEN)];
}

function validatePod(pod: Obj, old?: Obj): Errors {
  const errs = validatePodSpec(pod.spec, 'spec');
  if (old) errs.push(...validatePodSpecUpdate(pod.spec, old.spec));
  return errs;
}

// ---------------------------------------------------------------------------------------------------------------
// Services

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

// ---------------------------------------------------------------------------------------------------------------
// ConfigMaps and Secrets

const MAX_DATA_BYTES = 1024 * 1024;

/** ConfigMap and Secret keys: `[-._a-zA-Z0-9]+`, reported at `<map>[<key>]`. */
function validateKeys(path: string, map: Obj): Errors {
  return Object.keys(map).flatMap((k) => invalidEach(`${path}[${k}]`, k, isConfigMapKey(k)));
}

const base64Bytes = (v: unknown): number => Buffer.from(String(v ?? ''), 'base64').length;
const utf8Bytes = (v: unknown): number => Buffer.byteLength(String(v ?? ''));
const sum = (values: unknown[], size: (v: unknown) => number): number => values.reduce((n: number, v) => n + size(v), 0);

function immutableData(obj: Obj, old: Obj | undefined, fields: string[]): Errors {
  if (old?.immutable !== true) return [];
  const errs: Errors = [];
  if (obj.immutable !== true) errs.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
  for (const f of fields) if (!sameJSON(obj[f] ?? {}, old[f] ?? {})) errs.push(forbidden(f, 'field is immutable when `immutable` is set'));
  return errs;
}

function validateConfigMap(cm: Obj, old?: Obj): Errors {
  const errs: Errors = [];
  const data = asObj(cm.data);
  const binary = asObj(cm.binaryData);
  for (const k of Object.keys(data)) if (k in binary) errs.push(invalid(`data[${k}]`, k, 'duplicate of key present in binaryData'));
  errs.push(...validateKeys('data', data), ...validateKeys('binaryData', binary));
  // binaryData travels base64-encoded; its size is the decoded size.
  if (sum(Object.values(data), utf8Bytes) + sum(Object.values(binary), base64Bytes) > MAX_DATA_BYTES) errs.push(tooLong('data', MAX_DATA_BYTES));
  errs.push(...immutableData(cm, old, ['data', 'binaryData']));
  return errs;
}

function validateSecret(secret: Obj, old?: Obj): Errors {
  const errs: Errors = [];
  const data = asObj(secret.data);
  const stringData = asObj(secret.stringData);
  // stringData is write-only sugar for data; upstream reports its keys as data keys.
  errs.push(...validateKeys('data', { ...data, ...stringData }));
  const fromData = Object.entries(data).filter(([k]) => !(k in stringData)).map(([, v]) => v);
  if (sum(fromData, base64Bytes) + sum(Object.values(stringData), utf8Bytes) > MAX_DATA_BYTES) errs.push(tooLong('data', MAX_DATA_BYTES));
  if (old) {
    if ((secret.type ?? '') !== (old.type ?? '')) errs.push(immutable('type', secret.type));
    errs.push(...immutableData({ ...secret, data: effectiveData(secret) }, { ...old, data: effectiveData(old) }, ['data']));
  }
  return errs;
}

/** A secret's data as it will be stored: stringData values, base64-encoded, win over data. */
function effectiveData(secret: Obj): Obj {
  const encoded = Object.entries(asObj(secret.stringData)).map(([k, v]) => [k, Buffer.from(String(v ?? '')).toString('base64')]);
  return { ...asObj(secret.data), ...Object.fromEntries(encoded) };
}

// ---------------------------------------------------------------------------------------------------------------
// Workloads (apps/v1, batch/v1)

type WorkloadKind = 'deployment' | 'replicaset' | 'daemonset' | 'statefulset';

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

function workload(what: WorkloadKind, extra?: (spec: Obj, oldSpec?: Obj) => Errors) {
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

const STS_MUTABLE = ['replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'];

function statefulSetRules(spec: Obj, oldSpec?: Obj): Errors {
  if (!oldSpec) return [];
  const strip = (s: Obj) => Object.fromEntries(Object.entries(s).filter(([k]) => !STS_MUTABLE.includes(k)));
  if (sameJSON(strip(spec), strip(oldSpec))) return [];
  return [forbidden('spec', "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', "
    + "'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")];
}

function validateJob(job: Obj, old?: Obj): Errors {
  const spec = asObj(job.spec);
  const errs: Errors = [];
  const sel = spec.selector;
  // Without manualSelector the selector is generated from the uid (applyDefaults), so only a manual one must be given.
  if (!isObj(sel)) {
    if (spec.manualSelector === true) errs.push(required('spec.selector'));
  } else {
    errs.push(...validateLabelSelector(sel, 'spec.selector'));
  }
  const template = asObj(spec.template);
  const labels = asObj(template.metadata).labels;
  if (isObj(sel) && !selectorMatches(sel, labels)) {
    errs.push(invalid('spec.template.metadata.labels', labels ?? {}, '`selector` does not match template `labels`'));
  }
  for (const f of ['parallelism', 'completions', 'backoffLimit']) errs.push(...nonNegative(`spec.${f}`, spec[f]));
  if (isSet(spec.activeDeadlineSeconds) && !(spec.activeDeadlineSeconds > 0)) {
    errs.push(invalid('spec.activeDeadlineSeconds', spec.activeDeadlineSeconds, 'must be greater than zero'));
  }
  if (spec.completionMode && !['Indexed', 'NonIndexed'].includes(spec.completionMode)) {
    errs.push(notSupported('spec.completionMode', spec.completionMode, ['Indexed', 'NonIndexed']));
  }
  if (spec.completionMode === 'Indexed' && !isSet(spec.completions)) errs.push(required('spec.completions', 'when completion mode is Indexed'));
  errs.push(...validatePodTemplate(template, 'spec.template', { jobTemplate: true }));
  const restartPolicy = asObj(template.spec).restartPolicy;
  if (!restartPolicy || restartPolicy === 'Always') {
    errs.push(required('spec.template.spec.restartPolicy', 'valid values: "OnFailure", "Never"'));
  } else if (restartPolicy !== 'OnFailure' && restartPolicy !== 'Never') {
    errs.push(notSupported('spec.template.spec.restartPolicy', restartPolicy, ['OnFailure', 'Never']));
  }
  if (old) errs.push(...validateJobUpdate(job, old));
  return errs;
}

function validateJobUpdate(job: Obj, old: Obj): Errors {
  const spec = asObj(job.spec);
  const oldSpec = asObj(old.spec);
  const errs: Errors = [];
  if (!sameJSON(spec.selector, oldSpec.selector)) errs.push(immutable('spec.selector', spec.selector));
  const elastic = spec.completionMode === 'Indexed' && spec.completions === spec.parallelism;
  if (!elastic && !sameJSON(spec.completions, oldSpec.completions)) errs.push(immutable('spec.completions', spec.completions));
  if (!sameJSON(spec.completionMode, oldSpec.completionMode)) errs.push(immutable('spec.completionMode', spec.completionMode));
  // A suspended job that never started may still change where its pods go.
  const oldTemplate = structuredClone(asObj(oldSpec.template));
  const template = asObj(spec.template);
  if (oldSpec.suspend === true && !isSet(asObj(old.status).startTime)) {
    const meta = (oldTemplate.metadata ??= {});
    const podSpec = (oldTemplate.spec ??= {});
    meta.labels = template.metadata?.labels;
    meta.annotations = template.metadata?.annotations;
    for (const f of ['nodeSelector', 'tolerations', 'schedulingGates']) podSpec[f] = template.spec?.[f];
    if (isObj(podSpec.affinity) || isObj(template.spec?.affinity)) {
      podSpec.affinity = { ...asObj(podSpec.affinity), nodeAffinity: template.spec?.affinity?.nodeAffinity };
    }
  }
  if (!sameJSON(template, oldTemplate)) errs.push(immutable('spec.template', spec.template));
  return errs;
}

// ---------------------------------------------------------------------------------------------------------------
// Everything else

function validateEvent(event: Obj): Errors {
  const io = event.involvedObject;
  if (!isObj(io)) return [required('involvedObject')];
  const errs: Errors = [];
  const ns = event.metadata?.namespace ?? '';
  // Legacy events (no eventTime) must live in their object's namespace; cluster-scoped objects' events in default.
  if (!event.eventTime) {
    const ioNs = io.namespace ?? '';
    if (ioNs ? ioNs !== ns : ns !== '' && ns !== 'default') errs.push(invalid('involvedObject.namespace', ioNs, 'does not match event.namespace'));
  }
  return errs;
}

function validateHPA(hpa: Obj): Errors {
  const spec = asObj(hpa.spec);
  const errs: Errors = [];
  const ref = asObj(spec.scaleTargetRef);
  if (!ref.kind) errs.push(required('spec.scaleTargetRef.kind'));
  if (!ref.name) errs.push(required('spec.scaleTargetRef.name'));
  const min = spec.minReplicas;
  const max = spec.maxReplicas;
  if (typeof min === 'number' && min < 1) errs.push(invalid('spec.minReplicas', min, 'must be greater than or equal to 1'));
  if (!(typeof max === 'number' && max >= 1)) errs.push(invalid('spec.maxReplicas', max ?? 0, 'must be greater than 0'));
  else if (typeof min === 'number' && max < min) errs.push(invalid('spec.maxReplicas', max, 'must be greater than or equal to `minReplicas`'));
  return errs;
}

function validateEndpointSlice(slice: Obj): Errors {
  const types = ['FQDN', 'IPv4', 'IPv6'];
  if (!slice.addressType) return [required('addressType')];
  return types.includes(slice.addressType) ? [] : [notSupported('addressType', slice.addressType, types)];
}

// ---------------------------------------------------------------------------------------------------------------
// scheduling.k8s.io/v1

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

const VALIDATORS: Record<string, (obj: Obj, old?: Obj) => Errors> = {
  '/Pod': validatePod,
  '/Service': validateService,
  '/ConfigMap': validateConfigMap,
  '/Secret': validateSecret,
  '/Event': validateEvent,
  'apps/Deployment': workload('deployment', deploymentRules),
  'apps/ReplicaSet': workload('replicaset'),
  'apps/DaemonSet': workload('daemonset'),
  'apps/StatefulSet': workload('statefulset', statefulSetRules),
  'batch/Job': validateJob,
  'autoscaling/HorizontalPodAutoscaler': validateHPA,
  'discovery.k8s.io/EndpointSlice': validateEndpointSlice,
  'scheduling.k8s.io/PriorityClass': validatePriorityClass,
};

/** The name rule of each kind: DNS-1123 subdomain unless listed. */
const NAME_CHECKS: Record<string, NameCheck> = {
  '/Namespace': isDNS1123Label,
  '/Service': isDNS1035Label,
};

/** Validates an object of this kind about to be created (old undefined) or updated (old given). Returns field errors; empty when valid. */
export function validate(group: string, kind: string, obj: KubeObject, old?: KubeObject): FieldError[] {
  const key = `${group}/${kind}`;
  const namespaced = RESOURCES.find((r) => r.group === group && r.kind === kind)?.namespaced ?? true;
  return [
    ...validateObjectMeta(obj, namespaced, NAME_CHECKS[key] ?? isDNS1123Subdomain),
    ...(VALIDATORS[key]?.(obj, old) ?? []),
  ];
}
