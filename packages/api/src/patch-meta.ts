/*
 * The strategic-merge metadata of the built-in kinds: k8s.io/api's struct tags (`patchStrategy`, `patchMergeKey`),
 * which say which lists merge by a key, which are sets, and which maps keep only the keys sent (`retainKeys`). The
 * apiserver applies strategic-merge patches with it; kubectl computes them with it (upstream's kubectl compiles the
 * same tags in and reads no schema from the server for built-in kinds). One table, so the two cannot drift.
 */

/** How one list field merges: by a merge key, as a set of primitives, or replaced whole (atomic). Also retainKeys for unions. */
export interface FieldMeta { strategy: 'merge' | 'replace' | 'retainKeys' | 'merge,retainKeys'; mergeKey?: string; }

/** Patch metadata for a kind: a function from a field path (array of keys; list items are represented by the segment '[]') to its FieldMeta, or undefined (= atomic list / plain map). */
export type PatchMeta = (path: readonly string[]) => FieldMeta | undefined;

/** Field patterns relative to some struct: `containers[].env` is the env list of any item of containers. */
export type PatchTable = Record<string, FieldMeta>;

/** A list merged by the value of one key of its items (`patchMergeKey`). */
export const byKey = (mergeKey: string): FieldMeta => ({ strategy: 'merge', mergeKey });
/** A list of primitives merged as a set. */
const SET: FieldMeta = { strategy: 'merge' };
/** Listed so a table documents upstream's choice; any field not listed is atomic too. */
const ATOMIC: FieldMeta = { strategy: 'replace' };
/** Conditions and addresses: merged by `type`. */
const BY_TYPE = byKey('type');

/** Re-roots a table under a prefix (`spec.template`). */
function under(prefix: string, table: PatchTable): PatchTable {
  return Object.fromEntries(Object.entries(table).map(([path, meta]) => [`${prefix}.${path}`, meta]));
}

/** The struct tags of ObjectMeta, which every kind has at `metadata`. */
const OBJECT_META: PatchTable = { ownerReferences: byKey('uid'), finalizers: SET };

const CONTAINER: PatchTable = {
  ports: byKey('containerPort'), env: byKey('name'), volumeMounts: byKey('mountPath'),
  volumeDevices: byKey('devicePath'), envFrom: ATOMIC, resizePolicy: ATOMIC,
};

/** PodSpec's list fields. */
const POD_SPEC: PatchTable = {
  volumes: { strategy: 'merge,retainKeys', mergeKey: 'name' },
  containers: byKey('name'), initContainers: byKey('name'), ephemeralContainers: byKey('name'),
  imagePullSecrets: byKey('name'), hostAliases: byKey('ip'), topologySpreadConstraints: byKey('topologyKey'),
  schedulingGates: byKey('name'), resourceClaims: { strategy: 'merge,retainKeys', mergeKey: 'name' },
  tolerations: ATOMIC, readinessGates: ATOMIC,
  ...under('containers[]', CONTAINER), ...under('initContainers[]', CONTAINER), ...under('ephemeralContainers[]', CONTAINER),
};

/** PodTemplateSpec: its metadata and spec. */
const POD_TEMPLATE: PatchTable = { ...under('metadata', OBJECT_META), ...under('spec', POD_SPEC) };

const CONDITIONS: PatchTable = { 'status.conditions': BY_TYPE };

/** A workload: a pod template at spec.template and conditions by type in its status. */
const WORKLOAD: PatchTable = { ...under('spec.template', POD_TEMPLATE), ...CONDITIONS };

/**
 * Per `group/Kind` (core group: `/Pod`), without ObjectMeta's (compilePatchMeta adds it). A kind not listed has no
 * table: the apiserver patches it with ObjectMeta's alone, kubectl with a JSON merge patch.
 */
const KINDS: Readonly<Record<string, PatchTable>> = {
  '/Pod': {
    ...under('spec', POD_SPEC),
    ...under('status', {
      conditions: BY_TYPE, podIPs: byKey('ip'), hostIPs: byKey('ip'),
      resourceClaimStatuses: { strategy: 'merge,retainKeys', mergeKey: 'name' },
    }),
  },
  '/PodTemplate': under('template', POD_TEMPLATE),
  '/ReplicationController': WORKLOAD,
  '/Service': { 'spec.ports': byKey('port'), ...CONDITIONS },
  '/Node': { 'spec.podCIDRs': SET, 'spec.taints': ATOMIC, 'status.conditions': BY_TYPE, 'status.addresses': BY_TYPE },
  '/Namespace': CONDITIONS,
  '/Endpoints': { subsets: ATOMIC },
  '/ConfigMap': {}, '/Secret': {}, '/ServiceAccount': { secrets: byKey('name') },
  '/PersistentVolumeClaim': CONDITIONS, '/PersistentVolume': {},
  '/Event': {}, '/LimitRange': {}, '/ResourceQuota': {},
  'apps/Deployment': { ...WORKLOAD, 'spec.strategy': { strategy: 'retainKeys' } },
  'apps/ReplicaSet': WORKLOAD,
  'apps/StatefulSet': WORKLOAD,
  'apps/DaemonSet': WORKLOAD,
  'apps/ControllerRevision': {},
  'batch/Job': WORKLOAD,
  'batch/CronJob': {
    ...under('spec.jobTemplate', { ...under('metadata', OBJECT_META), ...under('spec.template', POD_TEMPLATE) }),
    ...CONDITIONS,
  },
  'autoscaling/HorizontalPodAutoscaler': CONDITIONS,
  'policy/PodDisruptionBudget': CONDITIONS,
  'networking.k8s.io/Ingress': {}, 'networking.k8s.io/IngressClass': {}, 'networking.k8s.io/NetworkPolicy': {},
  'discovery.k8s.io/EndpointSlice': { endpoints: ATOMIC, ports: ATOMIC },
  'coordination.k8s.io/Lease': {},
  'scheduling.k8s.io/PriorityClass': {},
  'storage.k8s.io/StorageClass': {},
  'rbac.authorization.k8s.io/Role': {}, 'rbac.authorization.k8s.io/ClusterRole': {},
  'rbac.authorization.k8s.io/RoleBinding': {}, 'rbac.authorization.k8s.io/ClusterRoleBinding': {},
  'events.k8s.io/Event': {},
};

/** The patch table of a built-in kind by API group ('' for core) and kind; undefined for any other kind. */
export function patchTableFor(group: string, kind: string): PatchTable | undefined {
  return Object.hasOwn(KINDS, `${group}/${kind}`) ? KINDS[`${group}/${kind}`] : undefined;
}

// Path segments joined with NUL, which no real field name contains, so keys with dots (`a.b`) cannot collide.
const keyOf = (path: readonly string[]) => path.join('\0');

/** Compiles a kind's table (plus ObjectMeta's) into a lookup by field path. */
export function compilePatchMeta(table: PatchTable): PatchMeta {
  const all = { ...table, ...under('metadata', OBJECT_META) };
  const index = new Map(Object.entries(all).map(([p, meta]) => [keyOf(p.replaceAll('[]', '.[]').split('.')), meta]));
  return (path) => index.get(keyOf(path));
}
