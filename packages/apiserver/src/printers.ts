import type {
  ConfigMap, DaemonSet, Deployment, EndpointSlice, Endpoints, Event, HorizontalPodAutoscaler, Job, KubeObject,
  LabelSelector, Lease, Namespace, Node, ObjectMeta, Pod, PriorityClass, ReplicaSet, Secret, Service, ServiceAccount,
  StatefulSet,
} from '@k8ts/api';

/** One column of a meta.k8s.io/v1 Table. */
export interface ColumnDefinition {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format: string;
  description: string;
  priority: number;
}

/** How one resource prints in `kubectl get`: its columns, and one row of cells per object. */
export interface Printer {
  columns: ColumnDefinition[];
  row(obj: KubeObject, now: Date): unknown[];
}

type Container = NonNullable<Pod['spec']>['containers'][number];

// ---------------------------------------------------------------------------------------------------------------
// Durations and small formatters

/**
 * Upstream's human duration (k8s.io/apimachinery util/duration HumanDuration): about two significant figures,
 * e.g. 45s, 2m30s, 15m, 3h5m, 20h, 3d4h, 120d, 2y30d, 9y. Up to 2s in the future still reads as 0s.
 */
export function humanDuration(ms: number): string {
  // Go truncates toward zero when turning a Duration into whole units.
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${years}y` : `${years}y${days % 365}d`;
  return `${years}y`;
}

/** Time since an RFC 3339 timestamp, or `<unknown>` when it is missing (upstream's translateTimestampSince). */
function since(timestamp: string | undefined, now: Date): string {
  if (!timestamp) return '<unknown>';
  const t = Date.parse(timestamp);
  return Number.isNaN(t) ? '<unknown>' : humanDuration(now.getTime() - t);
}

type WithMeta = { metadata?: ObjectMeta };
const age = (obj: WithMeta, now: Date): string => since(obj.metadata?.creationTimestamp, now);
const nameOf = (obj: WithMeta): string => obj.metadata?.name ?? '';

/** `a=1,b=2` sorted by key, or `<none>` (upstream labels.FormatLabels). */
function formatLabels(labels: Record<string, string> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  return keys.length ? keys.map((k) => `${k}=${labels![k]}`).join(',') : '<none>';
}

/**
 * A LabelSelector as upstream's Selector.String(): requirements sorted by key, `k=v`, `k in (a,b)`, `k notin (a)`,
 * `k`, `!k`; '' when it selects everything or nothing.
 */
function selectorString(sel: LabelSelector | undefined): string {
  if (!sel) return '';
  const reqs: [string, string][] = Object.entries(sel.matchLabels ?? {}).map(([k, v]) => [k, `${k}=${v}`]);
  for (const e of sel.matchExpressions ?? []) {
    const values = [...new Set(e.values ?? [])].sort().join(',');
    switch (e.operator) {
      case 'In': reqs.push([e.key, `${e.key} in (${values})`]); break;
      case 'NotIn': reqs.push([e.key, `${e.key} notin (${values})`]); break;
      case 'Exists': reqs.push([e.key, e.key]); break;
      case 'DoesNotExist': reqs.push([e.key, `!${e.key}`]); break;
      default: return '<error>';
    }
  }
  return reqs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, s]) => s).join(',');
}

/** As selectorString, with `<none>` for an empty result (upstream metav1.FormatLabelSelector). */
const formatSelector = (sel: LabelSelector | undefined): string => selectorString(sel) || '<none>';

/** The CONTAINERS and IMAGES cells of a pod template. */
function containerCells(containers: Container[] | undefined): [string, string] {
  const cs = containers ?? [];
  return [cs.map((c) => c.name).join(','), cs.map((c) => c.image ?? '').join(',')];
}

/** `a,b,c + 2 more...` for lists cut at three; `<unset>` when empty (upstream listWithMoreString). */
function listWithMore(items: string[], max = 3, empty = '<unset>'): string {
  if (items.length > max) return `${items.slice(0, max).join(',')} + ${items.length - max} more...`;
  return items.length ? items.join(',') : empty;
}

function joinHostPort(host: string, port: number | string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Column definitions

function column(name: string, description: string, priority = 0, type: ColumnDefinition['type'] = 'string'): ColumnDefinition {
  return { name, type, format: name === 'Name' ? 'name' : '', description, priority };
}

const NAME = column('Name', 'Name must be unique within a namespace. It is the identifier clients use to refer to the object.');
const AGE = column('Age', 'Time since the object was created (metadata.creationTimestamp).');
const CONTAINERS = column('Containers', 'Names of each container in the template.', 1);
const IMAGES = column('Images', 'Images referenced by each container in the template.', 1);
const SELECTOR = (what: string) => column('Selector', `Label query over ${what}.`, 1);

// ---------------------------------------------------------------------------------------------------------------
// Pods

/** A sidecar: an init container that keeps running (restartPolicy Always). */
const isRestartable = (c: Container | undefined): boolean => c?.restartPolicy === 'Always';
const later = (a: string, b: string | undefined): string => (b && (!a || Date.parse(b) > Date.parse(a)) ? b : a);

/** READY, STATUS and RESTARTS as upstream's printPod computes them. */
function podCells(pod: Pod, now: Date): [string, string, string] {
  const spec = pod.spec ?? { containers: [] };
  const status = pod.status ?? {};
  const conditions = status.conditions ?? [];
  let total = spec.containers?.length ?? 0;
  let ready = 0;
  let restarts = 0;
  let sidecarRestarts = 0;
  let lastRestart = '';
  let lastSidecarRestart = '';
  let reason = status.reason || status.phase || '';
  if (conditions.some((c) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated')) reason = 'SchedulingGated';

  const initContainers = new Map((spec.initContainers ?? []).map((c) => [c.name, c]));
  for (const c of spec.initContainers ?? []) if (isRestartable(c)) total++;

  let initializing = false;
  const initStatuses = status.initContainerStatuses ?? [];
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i];
    const sidecar = isRestartable(initContainers.get(cs.name));
    restarts += cs.restartCount ?? 0;
    lastRestart = later(lastRestart, cs.lastState?.terminated?.finishedAt);
    if (sidecar) {
      sidecarRestarts += cs.restartCount ?? 0;
      lastSidecarRestart = later(lastSidecarRestart, cs.lastState?.terminated?.finishedAt);
    }
    const terminated = cs.state?.terminated;
    const waiting = cs.state?.waiting;
    if (terminated && terminated.exitCode === 0) continue;
    if (sidecar && cs.started) {
      if (cs.ready) ready++;
      continue;
    }
    if (terminated) {
      if (terminated.reason) reason = `Init:${terminated.reason}`;
      else reason = terminated.signal ? `Init:Signal:${terminated.signal}` : `Init:ExitCode:${terminated.exitCode}`;
    } else if (waiting?.reason && waiting.reason !== 'PodInitializing') {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${i}/${spec.initContainers?.length ?? 0}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || conditions.some((c) => c.type === 'Initialized' && c.status === 'True')) {
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    const statuses = status.containerStatuses ?? [];
    // Upstream walks the statuses backwards, so the first container's state wins the STATUS column.
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i];
      restarts += cs.restartCount ?? 0;
      lastRestart = later(lastRestart, cs.lastState?.terminated?.finishedAt);
      const terminated = cs.state?.terminated;
      if (cs.state?.waiting?.reason) reason = cs.state.waiting.reason;
      else if (terminated?.reason) reason = terminated.reason;
      else if (terminated) reason = terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${terminated.exitCode}`;
      else if (cs.ready && cs.state?.running) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      reason = conditions.some((c) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
    }
  }

  if (pod.metadata?.deletionTimestamp) {
    if (status.reason === 'NodeLost') reason = 'Unknown';
    else if (status.phase !== 'Succeeded' && status.phase !== 'Failed') reason = 'Terminating';
  }

  const restartCell = restarts !== 0 && lastRestart ? `${restarts} (${since(lastRestart, now)} ago)` : String(restarts);
  return [`${ready}/${total}`, reason, restartCell];
}

function readinessGates(pod: Pod): string {
  const gates = pod.spec?.readinessGates ?? [];
  if (!gates.length) return '<none>';
  const conditions = pod.status?.conditions ?? [];
  const ok = gates.filter((g) => conditions.find((c) => c.type === g.conditionType)?.status === 'True').length;
  return `${ok}/${gates.length}`;
}

const pods: Printer = {
  columns: [
    NAME,
    column('Ready', 'The aggregate readiness state of this pod for accepting traffic.'),
    column('Status', 'The aggregate status of the containers in this pod.'),
    column('Restarts', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
    AGE,
    column('IP', 'The IP address allocated to the pod.', 1),
    column('Node', 'The node the pod is bound to.', 1),
    column('Nominated Node', 'The node the scheduler nominated for the pod after preemption.', 1),
    column('Readiness Gates', 'Readiness gate conditions that are true, of those the pod declares.', 1),
  ],
  row(obj, now) {
    const pod = obj as Pod;
    const [ready, status, restarts] = podCells(pod, now);
    return [
      nameOf(pod), ready, status, restarts, age(pod, now),
      pod.status?.podIPs?.[0]?.ip || pod.status?.podIP || '<none>',
      pod.spec?.nodeName || '<none>',
      pod.status?.nominatedNodeName || '<none>',
      readinessGates(pod),
    ];
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Cluster-scoped and core kinds

/** Roles from `node-role.kubernetes.io/<role>` keys and the `kubernetes.io/role` value, sorted. */
function nodeRoles(node: Node): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata?.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const role = k.slice('node-role.kubernetes.io/'.length);
      if (role) roles.add(role);
    } else if (k === 'kubernetes.io/role' && v) roles.add(v);
  }
  return roles.size ? [...roles].sort().join(',') : '<none>';
}

const nodes: Printer = {
  columns: [
    NAME,
    column('Status', 'The status of the node'),
    column('Roles', 'The roles of the node'),
    AGE,
    column('Version', 'Kubelet version reported by the node.'),
    column('Internal-IP', 'The first InternalIP address of the node.', 1),
    column('External-IP', 'The first ExternalIP address of the node.', 1),
    column('OS-Image', 'OS image reported by the node.', 1),
    column('Kernel-Version', 'Kernel version reported by the node.', 1),
    column('Container-Runtime', 'Container runtime version reported by the node.', 1),
  ],
  row(obj, now) {
    const node = obj as Node;
    const readyCondition = node.status?.conditions?.find((c) => c.type === 'Ready');
    const status = [readyCondition ? (readyCondition.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown'];
    if (node.spec?.unschedulable) status.push('SchedulingDisabled');
    const address = (type: string) => node.status?.addresses?.find((a) => a.type === type)?.address ?? '<none>';
    const info = node.status?.nodeInfo;
    return [
      nameOf(node), status.join(','), nodeRoles(node), age(node, now), info?.kubeletVersion ?? '',
      address('InternalIP'), address('ExternalIP'),
      info?.osImage || '<unknown>', info?.kernelVersion || '<unknown>', info?.containerRuntimeVersion || '<unknown>',
    ];
  },
};

const namespaces: Printer = {
  columns: [NAME, column('Status', 'The status of the namespace'), AGE],
  row: (obj, now) => [nameOf(obj), (obj as Namespace).status?.phase ?? '', age(obj, now)],
};

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

const services: Printer = {
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

/** ENDPOINTS of an Endpoints object: up to three `ip:port`, then `+ N more...` (upstream formatEndpoints). */
function formatEndpoints(ep: Endpoints): string {
  const subsets = ep.subsets ?? [];
  if (!subsets.length) return '<none>';
  const list: string[] = [];
  let count = 0;
  for (const ss of subsets) {
    const addresses = ss.addresses ?? [];
    // Headless services may have addresses without ports.
    const ports: (number | undefined)[] = ss.ports?.length ? ss.ports.map((p) => p.port) : [undefined];
    for (const port of ports) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length < 3) list.push(port === undefined ? a.ip : joinHostPort(a.ip, port));
      }
    }
  }
  return count > 3 ? `${list.join(',')} + ${count - 3} more...` : list.join(',');
}

const endpoints: Printer = {
  columns: [NAME, column('Endpoints', 'The addresses and ports backing the service.'), AGE],
  row: (obj, now) => [nameOf(obj), formatEndpoints(obj as Endpoints), age(obj, now)],
};

const configmaps: Printer = {
  columns: [NAME, column('Data', 'Number of keys in data and binaryData.'), AGE],
  row(obj, now) {
    const cm = obj as ConfigMap;
    return [nameOf(cm), Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length, age(cm, now)];
  },
};

const secrets: Printer = {
  columns: [NAME, column('Type', 'Used to facilitate programmatic handling of secret data.'), column('Data', 'Number of keys in data.'), AGE],
  row(obj, now) {
    const s = obj as Secret;
    return [nameOf(s), s.type ?? '', Object.keys(s.data ?? {}).length, age(s, now)];
  },
};

const serviceaccounts: Printer = {
  columns: [NAME, column('Secrets', 'Number of secrets the service account lists.'), AGE],
  row: (obj, now) => [nameOf(obj), (obj as ServiceAccount).secrets?.length ?? 0, age(obj, now)],
};

const events: Printer = {
  columns: [
    column('Last Seen', 'Time since the event was last observed.'),
    column('Type', 'Type of this event (Normal, Warning).'),
    column('Reason', 'Short, machine understandable reason for the event.'),
    column('Object', 'The object this event is about.'),
    column('Subobject', 'The part of the object this event is about (involvedObject.fieldPath).', 1),
    column('Source', 'The component and host reporting this event.', 1),
    column('Message', 'A human-readable description of the event.'),
    column('First Seen', 'Time since the event was first observed.', 1),
    column('Count', 'The number of times this event has occurred.', 1),
    column('Name', 'Name of the event object.', 1),
  ],
  row(obj, now) {
    const e = obj as unknown as Event;
    const first = e.firstTimestamp ? since(e.firstTimestamp, now) : since(e.eventTime, now);
    let last = e.lastTimestamp ? since(e.lastTimestamp, now) : first;
    let count = e.count ?? 0;
    if (e.series) {
      last = since(e.series.lastObservedTime, now);
      count = e.series.count ?? 0;
    } else if (count === 0) {
      count = 1; // singleton events of the new API carry no count
    }
    const io = e.involvedObject ?? {};
    const kind = (io.kind ?? '').toLowerCase();
    const component = e.source?.component || e.reportingComponent || '';
    const host = e.source?.host || e.reportingInstance || '';
    return [
      last, e.type ?? '', e.reason ?? '', io.name ? `${kind}/${io.name}` : kind, io.fieldPath ?? '',
      host ? `${component}, ${host}` : component, (e.message ?? '').trim(), first, count, nameOf(e),
    ];
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Workloads

const deployments: Printer = {
  columns: [
    NAME,
    column('Ready', 'Number of the pod with ready state'),
    column('Up-to-date', 'Total number of non-terminated pods that run the current template.'),
    column('Available', 'Total number of available pods (ready for at least minReadySeconds).'),
    AGE, CONTAINERS, IMAGES, SELECTOR('the pods the deployment manages'),
  ],
  row(obj, now) {
    const d = obj as Deployment;
    const st = d.status ?? {};
    const [names, images] = containerCells(d.spec?.template?.spec?.containers);
    return [
      nameOf(d), `${st.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}`, st.updatedReplicas ?? 0, st.availableReplicas ?? 0,
      age(d, now), names, images, selectorString(d.spec?.selector),
    ];
  },
};

const replicasets: Printer = {
  columns: [
    NAME,
    column('Desired', 'Number of desired pods.', 0, 'integer'),
    column('Current', 'Number of pods the replica set has created.', 0, 'integer'),
    column('Ready', 'Number of pods that are ready.', 0, 'integer'),
    AGE, CONTAINERS, IMAGES, SELECTOR('the pods the replica set manages'),
  ],
  row(obj, now) {
    const rs = obj as ReplicaSet;
    const [names, images] = containerCells(rs.spec?.template?.spec?.containers);
    return [
      nameOf(rs), rs.spec?.replicas ?? 0, rs.status?.replicas ?? 0, rs.status?.readyReplicas ?? 0, age(rs, now),
      names, images, formatSelector(rs.spec?.selector),
    ];
  },
};

const daemonsets: Printer = {
  columns: [
    NAME,
    column('Desired', 'Number of nodes that should run the daemon pod.', 0, 'integer'),
    column('Current', 'Number of nodes running at least one daemon pod.', 0, 'integer'),
    column('Ready', 'Number of nodes whose daemon pod is ready.', 0, 'integer'),
    column('Up-to-date', 'Number of nodes running the updated daemon pod.', 0, 'integer'),
    column('Available', 'Number of nodes whose daemon pod is available.', 0, 'integer'),
    column('Node Selector', 'The node selector of the pod template.'),
    AGE, CONTAINERS, IMAGES, SELECTOR('the pods the daemon set manages'),
  ],
  row(obj, now) {
    const ds = obj as DaemonSet;
    const st = ds.status ?? { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 };
    const [names, images] = containerCells(ds.spec?.template?.spec?.containers);
    return [
      nameOf(ds), st.desiredNumberScheduled ?? 0, st.currentNumberScheduled ?? 0, st.numberReady ?? 0,
      st.updatedNumberScheduled ?? 0, st.numberAvailable ?? 0, formatLabels(ds.spec?.template?.spec?.nodeSelector),
      age(ds, now), names, images, formatSelector(ds.spec?.selector),
    ];
  },
};

const statefulsets: Printer = {
  columns: [NAME, column('Ready', 'Number of the pod with ready state'), AGE, CONTAINERS, IMAGES],
  row(obj, now) {
    const sts = obj as StatefulSet;
    const [names, images] = containerCells(sts.spec?.template?.spec?.containers);
    return [nameOf(sts), `${sts.status?.readyReplicas ?? 0}/${sts.spec?.replicas ?? 0}`, age(sts, now), names, images];
  },
};

function jobStatus(job: Job): string {
  const has = (type: string) => job.status?.conditions?.find((c) => c.type === type)?.status === 'True';
  if (has('Complete')) return 'Complete';
  if (has('Failed')) return 'Failed';
  if (job.metadata?.deletionTimestamp) return 'Terminating';
  if (has('Suspended')) return 'Suspended';
  if (has('FailureTarget')) return 'FailureTarget';
  return 'Running';
}

const jobs: Printer = {
  columns: [
    NAME,
    column('Status', 'Status of the job.'),
    column('Completions', 'Succeeded pods out of the wanted completions.'),
    column('Duration', 'Time required to complete the job.'),
    AGE, CONTAINERS, IMAGES, SELECTOR('the pods the job runs'),
  ],
  row(obj, now) {
    const job = obj as Job;
    const succeeded = job.status?.succeeded ?? 0;
    let completions: string;
    if (job.spec?.completions !== undefined) completions = `${succeeded}/${job.spec.completions}`;
    else if ((job.spec?.parallelism ?? 0) > 1) completions = `${succeeded}/1 of ${job.spec!.parallelism}`;
    else completions = `${succeeded}/1`;
    const start = job.status?.startTime;
    const end = job.status?.completionTime;
    let duration = '';
    if (start) duration = end ? humanDuration(Date.parse(end) - Date.parse(start)) : since(start, now);
    const [names, images] = containerCells(job.spec?.template?.spec?.containers);
    return [nameOf(job), jobStatus(job), completions, duration, age(job, now), names, images, formatSelector(job.spec?.selector)];
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Other groups

const leases: Printer = {
  columns: [NAME, column('Holder', 'The identity of the holder of the lease.'), AGE],
  row: (obj, now) => [nameOf(obj), (obj as Lease).spec?.holderIdentity ?? '', age(obj, now)],
};

type MetricSpec = NonNullable<NonNullable<HorizontalPodAutoscaler['spec']>['metrics']>[number];
type MetricStatus = NonNullable<NonNullable<HorizontalPodAutoscaler['status']>['currentMetrics']>[number];

/** One TARGETS entry, `cpu: 40%/80%`, `<unknown>/500m (avg)`, as upstream's formatHPAMetrics. */
function formatMetric(spec: MetricSpec, status: MetricStatus | undefined): string {
  const unknown = '<unknown>';
  const q = (v: unknown) => (v === undefined || v === null ? unknown : String(v));
  switch (spec.type) {
    case 'External':
    case 'Object': {
      const src = spec.type === 'External' ? spec.external : spec.object;
      const cur = (spec.type === 'External' ? status?.external : status?.object)?.current;
      if (src?.target.averageValue !== undefined) return `${q(cur?.averageValue)}/${src.target.averageValue} (avg)`;
      return `${q(cur?.value)}/${q(src?.target.value)}`;
    }
    case 'Pods':
      return `${q(status?.pods?.current.averageValue)}/${q(spec.pods?.target.averageValue)}`;
    case 'Resource':
    case 'ContainerResource': {
      const src = spec.type === 'Resource' ? spec.resource : spec.containerResource;
      const cur = (spec.type === 'Resource' ? status?.resource : status?.containerResource)?.current;
      if (src?.target.averageValue !== undefined) return `${src.name}: ${q(cur?.averageValue)}/${src.target.averageValue}`;
      const current = cur?.averageUtilization !== undefined ? `${cur.averageUtilization}%` : unknown;
      const target = src?.target.averageUtilization !== undefined ? `${src.target.averageUtilization}%` : '<auto>';
      return `${src?.name ?? ''}: ${current}/${target}`;
    }
    default:
      return '<unknown type>';
  }
}

const horizontalpodautoscalers: Printer = {
  columns: [
    NAME,
    column('Reference', 'The scale target: kind/name.'),
    column('Targets', 'Current and target values of the metrics.'),
    column('MinPods', 'The lower limit for the number of replicas.'),
    column('MaxPods', 'The upper limit for the number of replicas.'),
    column('Replicas', 'Current number of replicas of the scale target.'),
    AGE,
  ],
  row(obj, now) {
    const hpa = obj as HorizontalPodAutoscaler;
    const spec = hpa.spec;
    const metrics = spec?.metrics ?? [];
    const statuses = hpa.status?.currentMetrics ?? [];
    const entries = metrics.map((m, i) => formatMetric(m, statuses[i]));
    const targets = !entries.length ? '<none>'
      : entries.length > 2 ? `${entries.slice(0, 2).join(', ')} + ${entries.length - 2} more...` : entries.join(', ');
    return [
      nameOf(hpa), `${spec?.scaleTargetRef?.kind ?? ''}/${spec?.scaleTargetRef?.name ?? ''}`, targets,
      spec?.minReplicas !== undefined ? String(spec.minReplicas) : '<unset>', spec?.maxReplicas ?? 0,
      hpa.status?.currentReplicas ?? 0, age(hpa, now),
    ];
  },
};

const endpointslices: Printer = {
  columns: [
    NAME,
    column('AddressType', 'The type of address carried by this slice: IPv4, IPv6 or FQDN.'),
    column('Ports', 'The ports of the endpoints in this slice.'),
    column('Endpoints', 'The addresses of the endpoints in this slice.'),
    AGE,
  ],
  row(obj, now) {
    const slice = obj as unknown as EndpointSlice;
    const ports = (slice.ports ?? []).map((p) => (p.port !== undefined ? String(p.port) : p.name ?? '*'));
    const addresses = (slice.endpoints ?? []).flatMap((e) => e.addresses);
    return [nameOf(slice), slice.addressType ?? '', listWithMore(ports), listWithMore(addresses), age(slice, now)];
  },
};

const priorityclasses: Printer = {
  columns: [
    NAME,
    column('Value', 'The priority pods of this class receive.', 0, 'integer'),
    column('Global-Default', 'Whether pods without a priority class get this one.', 0, 'boolean'),
    AGE,
    column('PreemptionPolicy', 'Whether pods of this class may preempt lower-priority pods: PreemptLowerPriority or Never.'),
  ],
  row(obj, now) {
    const pc = obj as unknown as PriorityClass;
    return [nameOf(pc), pc.value ?? 0, pc.globalDefault ?? false, age(pc, now), pc.preemptionPolicy ?? ''];
  },
};

// ---------------------------------------------------------------------------------------------------------------

const defaultPrinter: Printer = {
  columns: [NAME, AGE],
  row: (obj, now) => [nameOf(obj), age(obj, now)],
};

const PRINTERS: Record<string, Printer> = {
  '/pods': pods, '/nodes': nodes, '/namespaces': namespaces, '/services': services, '/endpoints': endpoints,
  '/configmaps': configmaps, '/secrets': secrets, '/events': events, '/serviceaccounts': serviceaccounts,
  'apps/deployments': deployments, 'apps/replicasets': replicasets, 'apps/daemonsets': daemonsets,
  'apps/statefulsets': statefulsets, 'batch/jobs': jobs, 'coordination.k8s.io/leases': leases,
  'autoscaling/horizontalpodautoscalers': horizontalpodautoscalers, 'discovery.k8s.io/endpointslices': endpointslices,
  'scheduling.k8s.io/priorityclasses': priorityclasses,
};

/** The Table printer for a resource (keyed by group + '/' + resource, e.g. '/pods', 'apps/deployments'); a default NAME/AGE printer for anything else. */
export function printerFor(group: string, resource: string): Printer {
  return PRINTERS[`${group}/${resource}`] ?? defaultPrinter;
}
