/** How one list field merges: by a merge key, as a set of primitives, or replaced whole (atomic). Also retainKeys for unions. */
export interface FieldMeta { strategy: 'merge' | 'replace' | 'retainKeys' | 'merge,retainKeys'; mergeKey?: string; }

/** Patch metadata for a kind: a function from a field path (array of keys; list items are represented by the segment '[]') to its FieldMeta, or undefined (= atomic list / plain map). */
export type PatchMeta = (path: readonly string[]) => FieldMeta | undefined;

/** Field patterns relative to some struct: `containers[].env` is the env list of any item of containers. */
type Table = Record<string, FieldMeta>;

const byKey = (mergeKey: string): FieldMeta => ({ strategy: 'merge', mergeKey });
const SET: FieldMeta = { strategy: 'merge' };
// Listed so the table documents upstream's choice; any field not listed is atomic too.
const ATOMIC: FieldMeta = { strategy: 'replace' };
const BY_TYPE = byKey('type');

/** Re-roots a table under a prefix (`spec.template`). */
function under(prefix: string, table: Table): Table {
  return Object.fromEntries(Object.entries(table).map(([path, meta]) => [`${prefix}.${path}`, meta]));
}

// The struct tags (patchStrategy/patchMergeKey) of k8s.io/api, per struct.
const OBJECT_META: Table = { ownerReferences: byKey('uid'), finalizers: SET };

const CONTAINER: Table = {
  ports: byKey('containerPort'), env: byKey('name'), volumeMounts: byKey('mountPath'),
  volumeDevices: byKey('devicePath'), envFrom: ATOMIC, resizePolicy: ATOMIC,
};

const POD_SPEC: Table = {
  volumes: { strategy: 'merge,retainKeys', mergeKey: 'name' },
  containers: byKey('name'), initContainers: byKey('name'), ephemeralContainers: byKey('name'),
  imagePullSecrets: byKey('name'), hostAliases: byKey('ip'), topologySpreadConstraints: byKey('topologyKey'),
  schedulingGates: byKey('name'), resourceClaims: { strategy: 'merge,retainKeys', mergeKey: 'name' },
  tolerations: ATOMIC, readinessGates: ATOMIC,
  ...under('containers[]', CONTAINER), ...under('initContainers[]', CONTAINER), ...under('ephemeralContainers[]', CONTAINER),
};

const POD_STATUS: Table = {
  conditions: BY_TYPE, podIPs: byKey('ip'), hostIPs: byKey('ip'),
  resourceClaimStatuses: { strategy: 'merge,retainKeys', mergeKey: 'name' },
};

const POD_TEMPLATE: Table = { ...under('metadata', OBJECT_META), ...under('spec', POD_SPEC) };

const TEMPLATE: Table = under('spec.template', POD_TEMPLATE);
/** A workload: a pod template at spec.template and conditions by type in its status. */
const WORKLOAD: Table = { ...TEMPLATE, 'status.conditions': BY_TYPE };

const KINDS: Record<string, Table> = {
  'v1/Pod': { ...under('spec', POD_SPEC), ...under('status', POD_STATUS) },
  'v1/PodTemplate': under('template', POD_TEMPLATE),
  'v1/ReplicationController': WORKLOAD,
  'v1/Node': {
    'spec.podCIDRs': SET, 'spec.taints': ATOMIC, 'status.conditions': BY_TYPE, 'status.addresses': BY_TYPE,
  },
  'v1/Namespace': { 'status.conditions': BY_TYPE },
  'v1/Service': { 'spec.ports': byKey('port'), 'status.conditions': BY_TYPE },
  'v1/Endpoints': { subsets: ATOMIC },
  'v1/ServiceAccount': { secrets: byKey('name') },
  'v1/PersistentVolumeClaim': { 'status.conditions': BY_TYPE },
  'apps/v1/Deployment': { ...WORKLOAD, 'spec.strategy': { strategy: 'retainKeys' } },
  'apps/v1/ReplicaSet': WORKLOAD,
  'apps/v1/DaemonSet': WORKLOAD,
  'apps/v1/StatefulSet': WORKLOAD,
  'batch/v1/Job': WORKLOAD,
  'batch/v1/CronJob': under('spec.jobTemplate', { ...under('metadata', OBJECT_META), ...TEMPLATE }),
  'autoscaling/v2/HorizontalPodAutoscaler': { 'status.conditions': BY_TYPE },
  'discovery.k8s.io/v1/EndpointSlice': { endpoints: ATOMIC, ports: ATOMIC },
};

// Path segments joined with NUL, which no real field name contains, so keys with dots (`a.b`) cannot collide.
const keyOf = (path: readonly string[]) => path.join('\0');

function compile(table: Table): PatchMeta {
  const all = { ...table, ...under('metadata', OBJECT_META) };
  const index = new Map(Object.entries(all).map(([p, meta]) => [keyOf(p.replaceAll('[]', '.[]').split('.')), meta]));
  return (path) => index.get(keyOf(path));
}

const compiled = new Map(Object.entries(KINDS).map(([gvk, table]) => [gvk, compile(table)]));
const metadataOnly = compile({});

/** Patch metadata for a built-in kind by apiVersion+kind ('apps/v1','Deployment'); for unknown kinds returns a PatchMeta that knows only metadata (ownerReferences by uid, finalizers merge). */
export function patchMetaFor(apiVersion: string, kind: string): PatchMeta {
  return compiled.get(`${apiVersion}/${kind}`) ?? metadataOnly;
}
