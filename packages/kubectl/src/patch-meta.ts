/**
 * The strategic-merge metadata kubectl compiles in from k8s.io/api's struct tags (`patchStrategy`,
 * `patchMergeKey`): which lists merge by a key, which are sets, which maps keep only the keys sent (`retainKeys`).
 * kubectl reads no schema from the server for built-in kinds; neither do we. Kinds not listed here (CRDs) are
 * patched with a JSON merge patch, as kubectl does.
 */

/** How one field merges. */
export interface FieldMeta { strategy: 'merge' | 'retainKeys' | 'merge,retainKeys'; mergeKey?: string }

/** A field path (list items as `[]`) → its metadata; undefined for atomic lists and plain maps. */
export type PatchMeta = (path: readonly string[]) => FieldMeta | undefined;

type Table = Record<string, FieldMeta>;
const byKey = (mergeKey: string): FieldMeta => ({ strategy: 'merge', mergeKey });
const SET: FieldMeta = { strategy: 'merge' };

function under(prefix: string, t: Table): Table {
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [`${prefix}.${k}`, v]));
}

const OBJECT_META: Table = { ownerReferences: byKey('uid'), finalizers: SET };
const CONTAINER: Table = { ports: byKey('containerPort'), env: byKey('name'), volumeMounts: byKey('mountPath'), volumeDevices: byKey('devicePath') };
const POD_SPEC: Table = {
  volumes: { strategy: 'merge,retainKeys', mergeKey: 'name' },
  containers: byKey('name'), initContainers: byKey('name'), ephemeralContainers: byKey('name'),
  imagePullSecrets: byKey('name'), hostAliases: byKey('ip'), topologySpreadConstraints: byKey('topologyKey'),
  schedulingGates: byKey('name'), resourceClaims: { strategy: 'merge,retainKeys', mergeKey: 'name' },
  ...under('containers[]', CONTAINER), ...under('initContainers[]', CONTAINER), ...under('ephemeralContainers[]', CONTAINER),
};
const POD_TEMPLATE: Table = { ...under('metadata', OBJECT_META), ...under('spec', POD_SPEC) };
const CONDITIONS: Table = { 'status.conditions': byKey('type') };
const WORKLOAD: Table = { ...under('spec.template', POD_TEMPLATE), ...CONDITIONS };

/** Per `group/Kind` (core group: `/Pod`). */
const KINDS: Record<string, Table> = {
  '/Pod': { ...under('spec', POD_SPEC), ...CONDITIONS, 'status.podIPs': byKey('ip'), 'status.hostIPs': byKey('ip') },
  '/PodTemplate': under('template', POD_TEMPLATE),
  '/ReplicationController': WORKLOAD,
  '/Service': { 'spec.ports': byKey('port'), ...CONDITIONS },
  '/Node': { 'status.conditions': byKey('type'), 'status.addresses': byKey('type'), 'spec.podCIDRs': SET },
  '/Namespace': CONDITIONS,
  '/Endpoints': {},
  '/ConfigMap': {}, '/Secret': {}, '/ServiceAccount': { secrets: byKey('name') },
  '/PersistentVolumeClaim': CONDITIONS, '/PersistentVolume': {},
  '/Event': {}, '/LimitRange': {}, '/ResourceQuota': {},
  'apps/Deployment': { ...WORKLOAD, 'spec.strategy': { strategy: 'retainKeys' } },
  'apps/ReplicaSet': WORKLOAD,
  'apps/StatefulSet': WORKLOAD,
  'apps/DaemonSet': WORKLOAD,
  'apps/ControllerRevision': {},
  'batch/Job': WORKLOAD,
  'batch/CronJob': under('spec.jobTemplate.spec.template', POD_TEMPLATE),
  'autoscaling/HorizontalPodAutoscaler': CONDITIONS,
  'policy/PodDisruptionBudget': CONDITIONS,
  'networking.k8s.io/Ingress': {}, 'networking.k8s.io/IngressClass': {}, 'networking.k8s.io/NetworkPolicy': {},
  'discovery.k8s.io/EndpointSlice': {},
  'coordination.k8s.io/Lease': {},
  'scheduling.k8s.io/PriorityClass': {},
  'storage.k8s.io/StorageClass': {},
  'rbac.authorization.k8s.io/Role': {}, 'rbac.authorization.k8s.io/ClusterRole': {},
  'rbac.authorization.k8s.io/RoleBinding': {}, 'rbac.authorization.k8s.io/ClusterRoleBinding': {},
  'events.k8s.io/Event': {},
};

const compiled = new Map<string, Map<string, FieldMeta>>();

/** The patch metadata of a built-in kind, or undefined for kinds kubectl does not know (JSON merge patch then). */
export function patchMetaFor(apiVersion: string, kind: string): PatchMeta | undefined {
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
  const key = `${group}/${kind}`;
  const table = KINDS[key];
  if (!table) return undefined;
  let index = compiled.get(key);
  if (!index) {
    index = new Map(Object.entries({ ...table, ...under('metadata', OBJECT_META) }).map(([p, m]) => [p.replaceAll('[]', '.[]'), m]));
    compiled.set(key, index);
  }
  const idx = index;
  return (path) => idx.get(path.join('.'));
}

/** No lists merge and no maps retain keys: what a JSON merge patch means. */
export const NO_META: PatchMeta = () => undefined;
