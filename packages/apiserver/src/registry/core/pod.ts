import type { Pod } from '@k8ts/api';
import { asField, defineStrategy } from '../strategy.js';
import { child, each, fill, fillZero } from '../shared/defaults.js';
import { defaultPodSpec, validateEphemeralContainersUpdate, validatePodSpec, validatePodSpecUpdate } from '../shared/pod.js';
import { age, column, NAME, AGE, nameOf, since, type Container, type Printer } from '../shared/printing.js';
import { forbidden, isObj, type Errors, type Obj } from '../shared/validation.js';

/**
 * ValidatePod, ValidatePodUpdate and (through pods/ephemeralcontainers) ValidatePodEphemeralContainersUpdate: a pod
 * is created without ephemeral containers; they are added only through the subresource, which changes nothing else.
 */
function validatePod(pod: Obj, old?: Obj, subresource?: string): Errors {
  const errs = validatePodSpec(pod.spec, 'spec');
  if (!old) {
    if (Array.isArray(pod.spec?.ephemeralContainers) && pod.spec.ephemeralContainers.length) {
      errs.push(forbidden('spec.ephemeralContainers', 'cannot be set on create'));
    }
  } else if (subresource === 'ephemeralcontainers') errs.push(...validateEphemeralContainersUpdate(pod, old));
  else errs.push(...validatePodSpecUpdate(pod.spec, old.spec));
  return errs;
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


/** Guaranteed, Burstable or BestEffort, from the containers' requests and limits (upstream's GetPodQOS, cpu+memory). */
export function qosClass(pod: any): string {
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  let any = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    for (const r of ['cpu', 'memory']) {
      if (req[r] !== undefined || lim[r] !== undefined) any = true;
      const request = req[r] ?? lim[r];
      if (lim[r] === undefined || String(request) !== String(lim[r])) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

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

const printer: Printer = {
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

/** Pods (upstream's pkg/registry/core/pod/strategy.go): status starts Pending with its QoS class; deletion is graceful. */
export const podStrategy = defineStrategy('', 'v1', 'pods', {
  defaults: defaultPod,
  validate: validatePod,
  initialStatus: (pod) => ({ phase: 'Pending', qosClass: qosClass(pod) }),
  fields: (p: Obj) => ({
    'spec.nodeName': asField(p.spec?.nodeName), 'spec.restartPolicy': asField(p.spec?.restartPolicy),
    'spec.schedulerName': asField(p.spec?.schedulerName), 'spec.serviceAccountName': asField(p.spec?.serviceAccountName),
    'spec.hostNetwork': String(Boolean(p.spec?.hostNetwork)), 'status.phase': asField(p.status?.phase),
    'status.podIP': asField(p.status?.podIP), 'status.nominatedNodeName': asField(p.status?.nominatedNodeName),
  }),
  // As upstream: a pod no kubelet runs (unscheduled, or finished) has nothing to wait for.
  gracePeriod: (pod: Obj, options) => (!pod.spec?.nodeName || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed'
    ? 0 : options.gracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30),
  printer,
});
