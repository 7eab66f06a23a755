import type { KubeObject } from '@k8ts/api';

/*
 * Upstream's defaulting (pkg/apis/<group>/<version>/defaults.go and the declarative
 * `+default` markers), applied to the JSON form of objects. Every function only fills what is missing, so applying
 * them twice changes nothing.
 */

type Obj = Record<string, any>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The object at `parent[key]`, created empty when missing. */
function child(parent: Obj, key: string): Obj {
  if (!isObj(parent[key])) parent[key] = {};
  return parent[key] as Obj;
}

/** Sets `o[key]` when it is missing (undefined or null). */
function fill(o: Obj, key: string, value: unknown): void {
  if (o[key] === undefined || o[key] === null) o[key] = value;
}

/** As fill, but also replaces Go's zero values (0, ''), which upstream treats as unset for these fields. */
function fillZero(o: Obj, key: string, value: unknown): void {
  if (o[key] === undefined || o[key] === null || o[key] === 0 || o[key] === '') o[key] = value;
}

const each = (list: unknown, fn: (o: Obj) => void): void => {
  if (Array.isArray(list)) for (const item of list) if (isObj(item)) fn(item);
};

// ---------------------------------------------------------------------------------------------------------------
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

function defaultContainer(c: Obj): void {
  if (!c.imagePullPolicy) c.imagePullPolicy = imageTag(String(c.image ?? '')) === 'latest' ? 'Always' : 'IfNotPresent';
  fillZero(c, 'terminationMessagePath', '/dev/termination-log');
  fillZero(c, 'terminationMessagePolicy', 'File');
  each(c.ports, (p) => fillZero(p, 'protocol', 'TCP'));
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) defaultProbe(c[probe]);
  if (isObj(c.lifecycle)) for (const hook of ['postStart', 'preStop']) defaultHTTPGet(c.lifecycle[hook]?.httpGet);
  each(c.env, (e) => defaultFieldRef(e.valueFrom?.fieldRef));
}

const defaultPVCSpec = (spec: unknown): void => { if (isObj(spec)) fillZero(spec, 'volumeMode', 'Filesystem'); };

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
function defaultPodSpec(spec: Obj, opts: { restartPolicy: boolean }): void {
  fillZero(spec, 'dnsPolicy', 'ClusterFirst');
  if (opts.restartPolicy) fillZero(spec, 'restartPolicy', 'Always');
  fill(spec, 'securityContext', {});
  fill(spec, 'terminationGracePeriodSeconds', 30);
  fillZero(spec, 'schedulerName', 'default-scheduler');
  for (const list of ['initContainers', 'containers', 'ephemeralContainers']) each(spec[list], defaultContainer);
  each(spec.volumes, defaultVolume);
}

/** SetDefaults_Pod: what only Pods get, not pod templates. */
function defaultPod(pod: Obj): void {
  const spec = child(pod, 'spec');
  defaultPodSpec(spec, { restartPolicy: true });
  fill(spec, 'enableServiceLinks', true);
  for (const list of ['initContainers', 'containers']) {
    each(spec[list], (c) => {
      // Requests default to limits, resource by resource.
      const limits = c.resources?.limits;
      if (!isObj(limits)) return;
      const requests = child(c.resources, 'requests');
      for (const [k, v] of Object.entries(limits)) fill(requests, k, v);
    });
    // With host networking, container ports are host ports.
    if (spec.hostNetwork) each(spec[list], (c) => each(c.ports, (p) => fillZero(p, 'hostPort', p.containerPort)));
  }
}

function defaultTemplate(owner: Obj, opts = { restartPolicy: true }): void {
  if (isObj(owner.template)) defaultPodSpec(child(owner.template, 'spec'), opts);
}

// ---------------------------------------------------------------------------------------------------------------
// Core kinds

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

function defaultNamespace(ns: Obj): void {
  const name = ns.metadata?.name;
  // Upstream labels every namespace with its own name, so selectors can pick namespaces by name.
  if (name) child(child(ns, 'metadata'), 'labels')['kubernetes.io/metadata.name'] = name;
  fill(child(ns, 'spec'), 'finalizers', ['kubernetes']);
  fillZero(child(ns, 'status'), 'phase', 'Active');
}

function defaultNode(node: Obj): void {
  const status = node.status;
  if (isObj(status) && isObj(status.capacity) && status.allocatable === undefined) status.allocatable = { ...status.capacity };
}

// ---------------------------------------------------------------------------------------------------------------
// apps/v1

function defaultDeployment(d: Obj): void {
  const spec = child(d, 'spec');
  fill(spec, 'replicas', 1);
  const strategy = child(spec, 'strategy');
  fillZero(strategy, 'type', 'RollingUpdate');
  if (strategy.type === 'RollingUpdate') {
    const ru = child(strategy, 'rollingUpdate');
    fill(ru, 'maxUnavailable', '25%');
    fill(ru, 'maxSurge', '25%');
  }
  fill(spec, 'revisionHistoryLimit', 10);
  fill(spec, 'progressDeadlineSeconds', 600);
  defaultTemplate(spec);
}

function defaultReplicaSet(rs: Obj): void {
  const spec = child(rs, 'spec');
  fill(spec, 'replicas', 1);
  defaultTemplate(spec);
}

function defaultDaemonSet(ds: Obj): void {
  const spec = child(ds, 'spec');
  const strategy = child(spec, 'updateStrategy');
  fillZero(strategy, 'type', 'RollingUpdate');
  if (strategy.type === 'RollingUpdate') {
    const ru = child(strategy, 'rollingUpdate');
    fill(ru, 'maxUnavailable', 1);
    fill(ru, 'maxSurge', 0);
  }
  fill(spec, 'revisionHistoryLimit', 10);
  defaultTemplate(spec);
}

function defaultStatefulSet(sts: Obj): void {
  const spec = child(sts, 'spec');
  fillZero(spec, 'podManagementPolicy', 'OrderedReady');
  const strategy = child(spec, 'updateStrategy');
  if (!strategy.type) {
    strategy.type = 'RollingUpdate';
    fill(strategy, 'rollingUpdate', {});
  }
  if (strategy.type === 'RollingUpdate' && isObj(strategy.rollingUpdate)) fill(strategy.rollingUpdate, 'partition', 0);
  const retention = child(spec, 'persistentVolumeClaimRetentionPolicy');
  fillZero(retention, 'whenDeleted', 'Retain');
  fillZero(retention, 'whenScaled', 'Retain');
  fill(spec, 'replicas', 1);
  fill(spec, 'revisionHistoryLimit', 10);
  each(spec.volumeClaimTemplates, (pvc) => {
    defaultPVCSpec(pvc.spec);
    fillZero(child(pvc, 'status'), 'phase', 'Pending');
  });
  defaultTemplate(spec);
}

// ---------------------------------------------------------------------------------------------------------------
// batch/v1

/**
 * Upstream's job strategy generates the selector from the job's uid unless spec.manualSelector is true; done
 * here when metadata.uid is already set and no selector was given, so callers must assign the uid first.
 */
function generateJobSelector(job: Obj, spec: Obj): void {
  const uid = job.metadata?.uid;
  if (!uid || spec.manualSelector === true || spec.selector !== undefined || !isObj(spec.template)) return;
  const labels = child(child(spec.template, 'metadata'), 'labels');
  const name = job.metadata?.name ?? '';
  for (const key of ['job-name', 'batch.kubernetes.io/job-name']) fill(labels, key, name);
  for (const key of ['controller-uid', 'batch.kubernetes.io/controller-uid']) fill(labels, key, uid);
  spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
}

function defaultJob(job: Obj): void {
  const spec = child(job, 'spec');
  if (spec.completions == null && spec.parallelism == null) spec.completions = 1;
  fill(spec, 'parallelism', 1);
  fill(spec, 'backoffLimit', spec.backoffLimitPerIndex != null ? 2147483647 : 6);
  fill(spec, 'completionMode', 'NonIndexed');
  fill(spec, 'suspend', false);
  fill(spec, 'podReplacementPolicy', spec.podFailurePolicy != null ? 'Failed' : 'TerminatingOrFailed');
  const copyTemplateLabels = () => {
    const templateLabels = spec.template?.metadata?.labels;
    if (isObj(templateLabels) && Object.keys(job.metadata?.labels ?? {}).length === 0) {
      child(job, 'metadata').labels = { ...templateLabels };
    }
  };
  copyTemplateLabels();
  generateJobSelector(job, spec);
  // Upstream defaults again whenever the job is read back, which copies the generated labels to a job that had none.
  copyTemplateLabels();
  defaultTemplate(spec, { restartPolicy: false });
}

// ---------------------------------------------------------------------------------------------------------------
// autoscaling/v2, discovery.k8s.io/v1

function scalingRules(given: unknown, defaults: Obj): Obj {
  const rules = isObj(given) ? given : {};
  for (const [k, v] of Object.entries(defaults)) fill(rules, k, structuredClone(v));
  return rules;
}

function defaultHPA(hpa: Obj): void {
  const spec = child(hpa, 'spec');
  fill(spec, 'minReplicas', 1);
  if (!Array.isArray(spec.metrics) || spec.metrics.length === 0) {
    spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
  }
  // Behavior is filled in only when the user gave one.
  if (isObj(spec.behavior)) {
    spec.behavior.scaleUp = scalingRules(spec.behavior.scaleUp, {
      stabilizationWindowSeconds: 0, selectPolicy: 'Max',
      policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }],
    });
    spec.behavior.scaleDown = scalingRules(spec.behavior.scaleDown, {
      selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
    });
  }
}

function defaultEndpointSlice(slice: Obj): void {
  each(slice.ports, (p) => {
    fill(p, 'name', '');
    fill(p, 'protocol', 'TCP');
  });
}

// ---------------------------------------------------------------------------------------------------------------
// scheduling.k8s.io/v1

function defaultPriorityClass(pc: Obj): void {
  // value is a plain int32 upstream: a class sent without one decodes, and is stored, as 0.
  fill(pc, 'value', 0);
  fill(pc, 'preemptionPolicy', 'PreemptLowerPriority');
}

// ---------------------------------------------------------------------------------------------------------------

const DEFAULTERS: Record<string, (obj: Obj) => void> = {
  '/Pod': defaultPod,
  '/PodTemplate': (t) => defaultTemplate(t),
  '/Service': defaultService,
  '/Endpoints': (ep) => each(ep.subsets, (ss) => each(ss.ports, (p) => fillZero(p, 'protocol', 'TCP'))),
  '/Secret': (s) => fillZero(s, 'type', 'Opaque'),
  '/Namespace': defaultNamespace,
  '/Node': defaultNode,
  'apps/Deployment': defaultDeployment,
  'apps/ReplicaSet': defaultReplicaSet,
  'apps/DaemonSet': defaultDaemonSet,
  'apps/StatefulSet': defaultStatefulSet,
  'batch/Job': defaultJob,
  'autoscaling/HorizontalPodAutoscaler': defaultHPA,
  'discovery.k8s.io/EndpointSlice': defaultEndpointSlice,
  'scheduling.k8s.io/PriorityClass': defaultPriorityClass,
};

/** Fills in upstream's defaults in place for a new or updated object of this kind (group/kind). Idempotent. */
export function applyDefaults(group: string, kind: string, obj: KubeObject): void {
  DEFAULTERS[`${group}/${kind}`]?.(obj);
}
