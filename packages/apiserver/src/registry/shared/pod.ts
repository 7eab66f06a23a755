import { isDNS1123Label, isDNS1123Subdomain } from '@k8ts/api';
import { child, each, fill, fillZero } from './defaults.js';
import {
  asList, asObj, duplicate, forbidden, invalid, invalidEach, isSet, isValidPortName, isValidPortNum, notSupported, PROTOCOLS,
  isObj, required, sameJSON, validateAnnotations, validateLabels, type Errors, type Obj,
} from './validation.js';

/*
 * What pods and every kind with a pod template share (upstream's ValidatePodSpec and SetDefaults_PodSpec; the
 * PodSpec struct tags are in @k8ts/api's patch tables): used by pods, pod templates, workloads, jobs and cron jobs.
 */

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

/** The rules every kind of container shares: a DNS label name unique in the pod, an image, the enum fields. */
function validateContainerCommon(c: Obj, p: string, names: Set<string>): Errors {
  const errs: Errors = [];
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
  return errs;
}

function validateContainers(list: unknown, path: string, names: Set<string>, requireOne: boolean): Errors {
  const containers = asList(list);
  if (requireOne && !containers.length) return [required(path)];
  const errs: Errors = [];
  containers.forEach((c, i) => {
    const p = `${path}[${i}]`;
    errs.push(...validateContainerCommon(c, p, names));
    errs.push(...validateContainerPorts(c.ports, `${p}.ports`));
    for (const probe of ['livenessProbe', 'startupProbe']) {
      const threshold = c[probe]?.successThreshold;
      if (isSet(threshold) && threshold !== 1) errs.push(invalid(`${p}.${probe}.successThreshold`, threshold, 'must be 1'));
    }
  });
  return errs;
}

export const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];

/**
 * The fields of an EphemeralContainer that may be set (upstream's allowedEphemeralContainerFields, by JSON name):
 * ephemeral containers must not be relied upon for the pod's own service, so no ports, probes, lifecycle, resources
 * or restart policy.
 */
const EPHEMERAL_ALLOWED = new Set([
  'name', 'image', 'command', 'args', 'workingDir', 'envFrom', 'env', 'volumeMounts', 'volumeDevices',
  'terminationMessagePath', 'terminationMessagePolicy', 'imagePullPolicy', 'securityContext', 'stdin', 'stdinOnce', 'tty',
  'targetContainerName',
]);
const EPHEMERAL_FORBIDDEN = 'cannot be set for an Ephemeral Container';

/** Whether a container field is at its Go zero value (resources is a struct; the others are pointers or slices). */
function zeroField(key: string, v: unknown): boolean {
  if (!isSet(v)) return true;
  if (key === 'resources') return isObj(v) && Object.values(v).every((x) => !isSet(x));
  return false;
}

/**
 * validateEphemeralContainers: the common container rules, a name unique across every container of the pod,
 * targetContainerName naming a container or init container, only the allowed fields, no volume subPaths.
 */
function validateEphemeralContainers(spec: Obj, path: string, names: Set<string>): Errors {
  const errs: Errors = [];
  const others = new Set([...asList(spec.containers), ...asList(spec.initContainers)].map((c) => c.name).filter(Boolean));
  asList(spec.ephemeralContainers).forEach((c, i) => {
    const p = `${path}[${i}]`;
    errs.push(...validateContainerCommon(c, p, names));
    if (c.targetContainerName && !others.has(c.targetContainerName)) {
      errs.push({ field: `${p}.targetContainerName`, type: 'FieldValueNotFound', message: '', value: c.targetContainerName });
    }
    for (const [key, value] of Object.entries(c)) {
      if (!EPHEMERAL_ALLOWED.has(key) && !zeroField(key, value)) errs.push(forbidden(`${p}.${key}`, EPHEMERAL_FORBIDDEN));
    }
    asList(c.volumeMounts).forEach((m, j) => {
      for (const sub of ['subPath', 'subPathExpr']) if (m[sub]) errs.push(forbidden(`${p}.volumeMounts[${j}].${sub}`, EPHEMERAL_FORBIDDEN));
    });
  });
  return errs;
}

/** The annotation of a static pod's mirror (upstream's core.MirrorPodAnnotationKey). */
const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';

/**
 * ValidatePodEphemeralContainersUpdate's own part (the new pod's spec is validated as on create): static pods take
 * none; existing ephemeral containers may be neither removed nor changed, each compared by name as patches need not
 * keep their order.
 */
export function validateEphemeralContainersUpdate(pod: Obj, old: Obj): Errors {
  if (isObj(old.metadata?.annotations) && MIRROR_POD_ANNOTATION in old.metadata.annotations) {
    return [forbidden('', 'static pods do not support ephemeral containers')];
  }
  const errs: Errors = [];
  const path = 'spec.ephemeralContainers';
  const byName = new Map(asList(pod.spec?.ephemeralContainers).map((c) => [c.name, c]));
  for (const was of asList(old.spec?.ephemeralContainers)) {
    const now = byName.get(was.name);
    if (!now) errs.push(forbidden(path, `existing ephemeral containers ${JSON.stringify(was.name)} may not be removed\n`));
    else if (!sameJSON(was, now)) errs.push(forbidden(path, `existing ephemeral containers ${JSON.stringify(was.name)} may not be changed\n${containerDiff(was, now)}`));
  }
  return errs;
}

/** What changed in an ephemeral container, field by field (upstream prints a cmp.Diff of the two). */
function containerDiff(was: Obj, now: Obj): string {
  const keys = [...new Set([...Object.keys(was), ...Object.keys(now)])].sort();
  return keys.filter((k) => !sameJSON(was[k], now[k]))
    .map((k) => `  ${k}:\n-   ${JSON.stringify(was[k]) ?? '<unset>'}\n+   ${JSON.stringify(now[k]) ?? '<unset>'}`).join('\n');
}

/** ValidatePodSpec's main rules. Job templates check restartPolicy themselves (`jobTemplate`). */
export function validatePodSpec(specIn: unknown, path: string, opts: { jobTemplate?: boolean } = {}): Errors {
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
  errs.push(...validateEphemeralContainers(spec, `${path}.ephemeralContainers`, names));
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
export function validatePodTemplate(templateIn: unknown, path: string, opts: { jobTemplate?: boolean } = {}): Errors {
  const template = asObj(templateIn);
  const meta = asObj(template.metadata);
  return [
    ...validateLabels(meta.labels, `${path}.labels`),
    ...validateAnnotations(meta.annotations, `${path}.annotations`),
    ...validatePodSpec(template.spec, `${path}.spec`, opts),
    // As upstream's ValidatePodTemplateSpec: ephemeral containers are added to running pods only.
    ...(asList(asObj(template.spec).ephemeralContainers).length ? [forbidden(`${path}.spec.ephemeralContainers`, 'ephemeral containers not allowed in pod template')] : []),
  ];
}

const POD_UPDATE_FORBIDDEN = 'pod updates may not change fields other than `spec.containers[*].image`,'
  + '`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),'
  + '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/** ValidatePodUpdate's spec rule: copy the few mutable fields from the new spec onto the old one; anything else differing is forbidden. */
export function validatePodSpecUpdate(specIn: unknown, oldSpecIn: unknown): Errors {
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

// Pods and pod templates

/** The tag upstream's ParseImageName finds: `latest` when the reference has neither tag nor digest. */
function imageTag(image: string): string {
  if (!image) return '';
  const at = image.indexOf('@');
  const name = at < 0 ? image : image.slice(0, at);
  const colon = name.lastIndexOf(':');
  const tag = colon > name.lastIndexOf('/') ? name.slice(colon + 1) : '';
  return tag || (at < 0 ? 'latest' : '');
}

function defaultHTTPGet(action: unknown): void {
  if (!isObj(action)) return;
  fillZero(action, 'path', '/');
  fillZero(action, 'scheme', 'HTTP');
}

function defaultProbe(probe: unknown): void {
  if (!isObj(probe)) return;
  fillZero(probe, 'timeoutSeconds', 1);
  fillZero(probe, 'periodSeconds', 10);
  fillZero(probe, 'successThreshold', 1);
  fillZero(probe, 'failureThreshold', 3);
  defaultHTTPGet(probe.httpGet);
}

const defaultFieldRef = (ref: unknown): void => { if (isObj(ref)) fillZero(ref, 'apiVersion', 'v1'); };

export function defaultContainer(c: Obj): void {
  if (!c.imagePullPolicy) c.imagePullPolicy = imageTag(String(c.image ?? '')) === 'latest' ? 'Always' : 'IfNotPresent';
  fillZero(c, 'terminationMessagePath', '/dev/termination-log');
  fillZero(c, 'terminationMessagePolicy', 'File');
  each(c.ports, (p) => fillZero(p, 'protocol', 'TCP'));
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) defaultProbe(c[probe]);
  if (isObj(c.lifecycle)) for (const hook of ['postStart', 'preStop']) defaultHTTPGet(c.lifecycle[hook]?.httpGet);
  each(c.env, (e) => defaultFieldRef(e.valueFrom?.fieldRef));
}

export const defaultPVCSpec = (spec: unknown): void => { if (isObj(spec)) fillZero(spec, 'volumeMode', 'Filesystem'); };

function defaultVolume(v: Obj): void {
  // A volume with no source is an emptyDir.
  if (Object.keys(v).every((k) => k === 'name' || v[k] === undefined || v[k] === null)) v.emptyDir = {};
  for (const source of ['secret', 'configMap', 'downwardAPI', 'projected']) if (isObj(v[source])) fill(v[source], 'defaultMode', 420);
  if (isObj(v.hostPath)) fill(v.hostPath, 'type', '');
  each(v.downwardAPI?.items, (i) => defaultFieldRef(i.fieldRef));
  each(v.projected?.sources, (s) => {
    if (isObj(s.serviceAccountToken)) fill(s.serviceAccountToken, 'expirationSeconds', 3600);
    each(s.downwardAPI?.items, (i) => defaultFieldRef(i.fieldRef));
  });
  defaultPVCSpec(v.ephemeral?.volumeClaimTemplate?.spec);
}

/** SetDefaults_PodSpec and what it reaches (containers, probes, volumes). Job templates keep restartPolicy as given. */
export function defaultPodSpec(spec: Obj, opts: { restartPolicy: boolean }): void {
  fillZero(spec, 'dnsPolicy', 'ClusterFirst');
  if (opts.restartPolicy) fillZero(spec, 'restartPolicy', 'Always');
  fill(spec, 'securityContext', {});
  fill(spec, 'terminationGracePeriodSeconds', 30);
  fillZero(spec, 'schedulerName', 'default-scheduler');
  for (const list of ['initContainers', 'containers', 'ephemeralContainers']) each(spec[list], defaultContainer);
  each(spec.volumes, defaultVolume);
}

export function defaultTemplate(owner: Obj, opts = { restartPolicy: true }): void {
  if (isObj(owner.template)) defaultPodSpec(child(owner.template, 'spec'), opts);
}
