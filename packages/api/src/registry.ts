/** A subresource a resource serves, and the kind its requests and answers carry. */
export interface SubresourceDef {
  name: 'status' | 'scale' | 'binding' | 'eviction' | 'log' | 'finalize' | 'scheduling' | 'exec' | 'attach' | 'portforward' | 'token'
    | 'ephemeralcontainers';
  group: string;
  version: string;
  kind: string;
  verbs: string[];
}

/** One row of the kind registry: everything the API, discovery and clients need to know about a resource. */
export interface ResourceDef {
  group: string;           // '' for core
  version: string;
  resource: string;        // plural, lower case: 'pods'
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: string[];
  subresources: SubresourceDef[];
  /**
   * Set on a further version of a kind served from another version's storage (autoscaling/v1 HPAs are stored as
   * autoscaling/v2): the version objects are stored in, and converted from and to on every request. Clients that
   * walk all kinds (garbage collector, namespace deletion) skip these rows: they are the same objects.
   */
  storageVersion?: string;
  /**
   * With `storageVersion`, the group objects are stored in when it is not the row's own: events.k8s.io/v1 Events are
   * core/v1 Events (upstream's cohabitating resources: one etcd prefix, `/registry/events`).
   */
  storageGroup?: string;
  /**
   * A create-only kind the apiserver answers without storing anything (the access and token reviews, upstream's
   * non-storage REST): POST only, no etcd prefix, no watch cache; clients that walk stored kinds skip it.
   */
  virtual?: boolean;
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const STATUS = (group: string, version: string, kind: string): SubresourceDef =>
  ({ name: 'status', group, version, kind, verbs: ['get', 'patch', 'update'] });
const SCALE: SubresourceDef = { name: 'scale', group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] };

function def(group: string, version: string, kind: string, resource: string, namespaced: boolean,
  opts: { shortNames?: string[]; categories?: string[]; verbs?: string[]; subresources?: SubresourceDef[]; storageVersion?: string; storageGroup?: string; virtual?: boolean } = {}): ResourceDef {
  return {
    group, version, kind, resource, namespaced,
    singular: kind.toLowerCase(),
    listKind: `${kind}List`,
    shortNames: opts.shortNames ?? [],
    categories: opts.categories ?? [],
    verbs: opts.verbs ?? ALL_VERBS,
    subresources: opts.subresources ?? [],
    ...(opts.storageVersion ? { storageVersion: opts.storageVersion } : {}),
    ...(opts.storageGroup !== undefined ? { storageGroup: opts.storageGroup } : {}),
    ...(opts.virtual ? { virtual: true } : {}),
  };
}

/** Every resource k8ts serves. Adding a resource is adding a row here plus its strategy file in packages/apiserver/src/registry. */
export const RESOURCES: readonly ResourceDef[] = [
  def('', 'v1', 'Namespace', 'namespaces', false, {
    shortNames: ['ns'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    subresources: [{ name: 'finalize', group: '', version: 'v1', kind: 'Namespace', verbs: ['update'] }, STATUS('', 'v1', 'Namespace')],
  }),
  def('', 'v1', 'Node', 'nodes', false, { shortNames: ['no'], subresources: [STATUS('', 'v1', 'Node')] }),
  def('', 'v1', 'Pod', 'pods', true, {
    shortNames: ['po'], categories: ['all'],
    subresources: [
      STATUS('', 'v1', 'Pod'),
      { name: 'binding', group: '', version: 'v1', kind: 'Binding', verbs: ['create'] },
      // Ephemeral containers are added only here (upstream's EphemeralContainersREST): the Pod in, the Pod out.
      { name: 'ephemeralcontainers', group: '', version: 'v1', kind: 'Pod', verbs: ['get', 'patch', 'update'] },
      { name: 'eviction', group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] },
      { name: 'log', group: '', version: 'v1', kind: 'Pod', verbs: ['get'] },
      // k8ts's own: the pod's last scheduling cycle, from the leading scheduler ("scheduling explained").
      { name: 'scheduling', group: 'k8ts.io', version: 'v1alpha1', kind: 'SchedulingExplanation', verbs: ['get'] },
      // Connect subresources: an upgraded connection proxied to the pod's kubelet (GET or POST).
      { name: 'exec', group: '', version: 'v1', kind: 'PodExecOptions', verbs: ['create', 'get'] },
      { name: 'attach', group: '', version: 'v1', kind: 'PodAttachOptions', verbs: ['create', 'get'] },
      { name: 'portforward', group: '', version: 'v1', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
    ],
  }),
  def('', 'v1', 'Service', 'services', true, {
    shortNames: ['svc'], categories: ['all'], verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    subresources: [STATUS('', 'v1', 'Service')],
  }),
  def('', 'v1', 'Endpoints', 'endpoints', true, { shortNames: ['ep'] }),
  def('', 'v1', 'ConfigMap', 'configmaps', true, { shortNames: ['cm'] }),
  def('', 'v1', 'Secret', 'secrets', true),
  def('', 'v1', 'Event', 'events', true, { shortNames: ['ev'] }),
  def('', 'v1', 'ServiceAccount', 'serviceaccounts', true, {
    shortNames: ['sa'], subresources: [{ name: 'token', group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] }],
  }),
  def('', 'v1', 'ReplicationController', 'replicationcontrollers', true, {
    shortNames: ['rc'], categories: ['all'], subresources: [STATUS('', 'v1', 'ReplicationController'), SCALE],
  }),
  def('', 'v1', 'PodTemplate', 'podtemplates', true),
  def('', 'v1', 'PersistentVolume', 'persistentvolumes', false, { shortNames: ['pv'], subresources: [STATUS('', 'v1', 'PersistentVolume')] }),
  def('', 'v1', 'PersistentVolumeClaim', 'persistentvolumeclaims', true, {
    shortNames: ['pvc'], subresources: [STATUS('', 'v1', 'PersistentVolumeClaim')],
  }),
  def('', 'v1', 'LimitRange', 'limitranges', true, { shortNames: ['limits'] }),
  def('', 'v1', 'ResourceQuota', 'resourcequotas', true, { shortNames: ['quota'], subresources: [STATUS('', 'v1', 'ResourceQuota')] }),
  def('apps', 'v1', 'Deployment', 'deployments', true, {
    shortNames: ['deploy'], categories: ['all'], subresources: [STATUS('apps', 'v1', 'Deployment'), SCALE],
  }),
  def('apps', 'v1', 'ReplicaSet', 'replicasets', true, {
    shortNames: ['rs'], categories: ['all'], subresources: [STATUS('apps', 'v1', 'ReplicaSet'), SCALE],
  }),
  def('apps', 'v1', 'DaemonSet', 'daemonsets', true, {
    shortNames: ['ds'], categories: ['all'], subresources: [STATUS('apps', 'v1', 'DaemonSet')],
  }),
  def('apps', 'v1', 'StatefulSet', 'statefulsets', true, {
    shortNames: ['sts'], categories: ['all'], subresources: [STATUS('apps', 'v1', 'StatefulSet'), SCALE],
  }),
  def('apps', 'v1', 'ControllerRevision', 'controllerrevisions', true),
  // Core Events in the API upstream's recorders write (after apps, as upstream's group order has it).
  def('events.k8s.io', 'v1', 'Event', 'events', true, { shortNames: ['ev'], storageVersion: 'v1', storageGroup: '' }),
  // The reviews: answered at once from the request, nothing stored (upstream's group order: after events.k8s.io).
  def('authentication.k8s.io', 'v1', 'SelfSubjectReview', 'selfsubjectreviews', false, { verbs: ['create'], virtual: true }),
  def('authentication.k8s.io', 'v1', 'TokenReview', 'tokenreviews', false, { verbs: ['create'], virtual: true }),
  def('authorization.k8s.io', 'v1', 'LocalSubjectAccessReview', 'localsubjectaccessreviews', true, { verbs: ['create'], virtual: true }),
  def('authorization.k8s.io', 'v1', 'SelfSubjectAccessReview', 'selfsubjectaccessreviews', false, { verbs: ['create'], virtual: true }),
  def('authorization.k8s.io', 'v1', 'SelfSubjectRulesReview', 'selfsubjectrulesreviews', false, { verbs: ['create'], virtual: true }),
  def('authorization.k8s.io', 'v1', 'SubjectAccessReview', 'subjectaccessreviews', false, { verbs: ['create'], virtual: true }),
  def('batch', 'v1', 'Job', 'jobs', true, { categories: ['all'], subresources: [STATUS('batch', 'v1', 'Job')] }),
  def('batch', 'v1', 'CronJob', 'cronjobs', true, { shortNames: ['cj'], categories: ['all'], subresources: [STATUS('batch', 'v1', 'CronJob')] }),
  def('coordination.k8s.io', 'v1', 'Lease', 'leases', true),
  def('autoscaling', 'v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', true, {
    shortNames: ['hpa'], categories: ['all'], subresources: [STATUS('autoscaling', 'v2', 'HorizontalPodAutoscaler')],
  }),
  // After v2, so that v2 is the group's preferred version and the one names resolve to.
  def('autoscaling', 'v1', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', true, {
    shortNames: ['hpa'], categories: ['all'], subresources: [STATUS('autoscaling', 'v1', 'HorizontalPodAutoscaler')], storageVersion: 'v2',
  }),
  def('discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices', true),
  def('scheduling.k8s.io', 'v1', 'PriorityClass', 'priorityclasses', false, { shortNames: ['pc'] }),
  def('networking.k8s.io', 'v1', 'Ingress', 'ingresses', true, { shortNames: ['ing'], subresources: [STATUS('networking.k8s.io', 'v1', 'Ingress')] }),
  def('networking.k8s.io', 'v1', 'IngressClass', 'ingressclasses', false),
  def('policy', 'v1', 'PodDisruptionBudget', 'poddisruptionbudgets', true, {
    shortNames: ['pdb'], subresources: [STATUS('policy', 'v1', 'PodDisruptionBudget')],
  }),
  def('storage.k8s.io', 'v1', 'StorageClass', 'storageclasses', false, { shortNames: ['sc'] }),
  def('rbac.authorization.k8s.io', 'v1', 'Role', 'roles', true),
  def('rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', false),
  def('rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings', true),
  def('rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'clusterrolebindings', false),
  def('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', 'customresourcedefinitions', false, {
    shortNames: ['crd', 'crds'], categories: ['api-extensions'], subresources: [STATUS('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition')],
  }),
];

/** The rows of the versions objects are stored in: every kind once (the rows clients walk to see every object). */
export function storedResources(all: readonly ResourceDef[] = RESOURCES): ResourceDef[] {
  return all.filter((r) => r.storageVersion === undefined && !r.virtual);
}

/** `v1` or `apps/v1`. */
export function groupVersion(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

/** The apiVersion field of a resource's objects. */
export function apiVersionOf(def: ResourceDef): string {
  return groupVersion(def.group, def.version);
}

/** Splits `apps/v1` into group and version (`v1` → core). */
export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

const byGvr = new Map(RESOURCES.map((r) => [`${r.group}/${r.version}/${r.resource}`, r]));
const byGvk = new Map(RESOURCES.map((r) => [`${r.group}/${r.version}/${r.kind}`, r]));

/** The resource at `group/version/resource`, or undefined. */
export function findResource(group: string, version: string, resource: string): ResourceDef | undefined {
  return byGvr.get(`${group}/${version}/${resource}`);
}

/** The resource whose objects have this apiVersion and kind, or undefined. */
export function findKind(apiVersion: string, kind: string): ResourceDef | undefined {
  const { group, version } = parseApiVersion(apiVersion);
  return byGvk.get(`${group}/${version}/${kind}`);
}

/** Finds a resource by any name a user may type: plural, singular, short name, kind, optionally `name.group`. */
export function resolveResource(name: string): ResourceDef | undefined {
  const lower = name.toLowerCase();
  const dot = lower.indexOf('.');
  const [base, group] = dot < 0 ? [lower, undefined] : [lower.slice(0, dot), lower.slice(dot + 1)];
  return RESOURCES.find((r) => (group === undefined || r.group === group) &&
    (r.resource === base || r.singular === base || r.shortNames.includes(base) || r.kind.toLowerCase() === base));
}

/** The REST path of a collection or object: `/api/v1/namespaces/ns/pods[/name]`, `/apis/apps/v1/...`. */
export function resourcePath(def: ResourceDef, namespace?: string, name?: string, subresource?: string): string {
  let p = def.group ? `/apis/${def.group}/${def.version}` : `/api/${def.version}`;
  if (def.namespaced && namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${def.resource}`;
  if (name !== undefined) p += `/${encodeURIComponent(name)}`;
  if (subresource) p += `/${subresource}`;
  return p;
}
