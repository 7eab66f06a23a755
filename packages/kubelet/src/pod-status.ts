import { rfc3339, type Container, type Pod, type PodStatus } from '@k8ts/api';
import type { RuntimeContainer } from './runtime.js';

/** Why a container is not running, as the sync loop last saw it (ErrImagePull, CrashLoopBackOff, ...). */
export interface Waiting { reason: string; message?: string }

export interface StatusInput {
  pod: Pod;
  /** Every runtime instance of the pod's containers (all restarts), sandbox included. */
  containers: RuntimeContainer[];
  waiting: ReadonlyMap<string, Waiting>;
  /** Readiness of a running container (true when it has no readiness probe and is running). */
  ready(name: string): boolean;
  podIP: string;
  hostIP: string;
  now: Date;
}

type ContainerStatus = NonNullable<PodStatus['containerStatuses']>[number];
type State = NonNullable<ContainerStatus['state']>;

/** Which of the pod's lists names a container: app (spec.containers), init or ephemeral; undefined for none. */
export type ContainerKind = 'app' | 'init' | 'ephemeral';

export function containerKind(pod: Pod, name: string): ContainerKind | undefined {
  if ((pod.spec?.containers ?? []).some((c) => c.name === name)) return 'app';
  if ((pod.spec?.initContainers ?? []).some((c) => c.name === name)) return 'init';
  if ((pod.spec?.ephemeralContainers ?? []).some((c) => c.name === name)) return 'ephemeral';
  return undefined;
}

/** The instances of one container name, newest (highest restart count, then newest creation) first. */
export function instancesOf(containers: RuntimeContainer[], name: string, init: boolean, ephemeral = false): RuntimeContainer[] {
  return containers
    .filter((c) => !c.sandbox && c.name === name && c.init === init && !!c.ephemeral === ephemeral)
    .sort((a, b) => b.restartCount - a.restartCount || b.createdAt.localeCompare(a.createdAt));
}

function terminated(c: RuntimeContainer): State {
  return {
    terminated: {
      exitCode: c.exitCode, reason: c.reason || (c.exitCode === 0 ? 'Completed' : 'Error'),
      startedAt: c.startedAt ? rfc3339(c.startedAt) : undefined, finishedAt: c.finishedAt ? rfc3339(c.finishedAt) : undefined,
      containerID: `docker://${c.id}`,
    },
  } as State;
}

/** Upstream's state for a container the runtime no longer has although it was running (kubelet_pods.go). */
const LOST: State = {
  terminated: { exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container could not be located when the pod was terminated' },
} as State;

/** The status last reported for a container, from the pod object. */
function reportedStatus(pod: Pod, name: string, init: boolean, ephemeral = false): ContainerStatus | undefined {
  const list = ephemeral ? pod.status?.ephemeralContainerStatuses : init ? pod.status?.initContainerStatuses : pod.status?.containerStatuses;
  return list?.find((s) => s.name === name);
}

/**
 * The restart count a new instance of a container gets when the runtime has no instance of it: the count carries
 * on from the reported status when the container ran before (its instances were removed behind the kubelet's back),
 * as upstream recovers it instead of starting again from 0.
 */
export function restartCountWithoutInstances(pod: Pod, name: string, init: boolean): number {
  const reported = reportedStatus(pod, name, init);
  if (!reported) return 0;
  if (reported.containerID) return reported.restartCount + 1;
  return reported.state?.terminated?.reason === LOST.terminated!.reason ? reported.restartCount : 0;
}

function containerStatus(spec: Container, all: RuntimeContainer[], init: boolean, input: StatusInput, ephemeral = false): ContainerStatus {
  const [latest, previous] = instancesOf(all, spec.name, init, ephemeral);
  const waiting = input.waiting.get(spec.name);
  const reported = reportedStatus(input.pod, spec.name, init, ephemeral);
  // Reported as running with an instance the runtime no longer has (removed behind the kubelet's back).
  const lost = !!reported?.state?.running && !!reported.containerID && !all.some((c) => `docker://${c.id}` === reported.containerID);
  // An ephemeral container that ran and whose instance is gone is not run again: its last report stands.
  if (ephemeral && !latest && reported?.containerID && !lost) return reported;
  let state: State;
  let lastState: State = {};
  if (!latest && (lost || reported?.state?.terminated?.reason === LOST.terminated!.reason)) {
    // Never claim Running for a container that is gone: upstream reports it terminated, with the restart counted.
    return {
      name: spec.name, state: LOST, lastState: reported!.lastState ?? {}, ready: false,
      restartCount: lost ? reported!.restartCount + 1 : reported!.restartCount,
      image: spec.image ?? '', imageID: '', started: false,
    } as ContainerStatus;
  }
  if (latest?.state === 'running') {
    state = { running: { startedAt: rfc3339(latest.startedAt) } } as State;
    if (previous) lastState = terminated(previous);
    else if (lost || reported?.state?.terminated?.reason === LOST.terminated!.reason) lastState = LOST;
    // The run before this instance was lost (no instance of it is left): what was reported of it stays.
    else if (reported?.containerID === `docker://${latest.id}` && reported.lastState?.terminated) lastState = reported.lastState;
  } else if (latest && (latest.state === 'exited' || latest.state === 'unknown') && !waiting) {
    state = terminated(latest);
    if (previous) lastState = terminated(previous);
  } else {
    state = { waiting: { reason: waiting?.reason ?? 'ContainerCreating', ...(waiting?.message ? { message: waiting.message } : {}) } } as State;
    // A container waiting to restart reports its last run (upstream's lastTerminationState).
    if (latest && latest.state !== 'created') lastState = terminated(latest);
  }
  const running = latest?.state === 'running';
  return {
    name: spec.name,
    state,
    lastState,
    // Ephemeral containers are never ready and report no `started` (no probes), as upstream's.
    ready: running && !init && !ephemeral && input.ready(spec.name),
    restartCount: latest?.restartCount ?? 0,
    image: spec.image ?? '',
    imageID: latest?.imageID ? `docker://${latest.imageID}` : '',
    ...(latest ? { containerID: `docker://${latest.id}` } : {}),
    ...(ephemeral ? {} : { started: running }),
  } as ContainerStatus;
}

/** Upstream's pod phase rules (kubelet getPhase) over the container statuses. */
function phaseOf(pod: Pod, init: ContainerStatus[], app: ContainerStatus[]): PodStatus['phase'] {
  const policy = pod.spec?.restartPolicy ?? 'Always';
  const initFailed = init.some((s) => (s.state?.terminated?.exitCode ?? 0) !== 0 || (s.lastState?.terminated && s.state?.waiting));
  if (initFailed && policy === 'Never') return 'Failed';
  const initDone = init.every((s) => s.state?.terminated?.exitCode === 0);
  if (!initDone) return 'Pending';
  let running = 0; let waiting = 0; let stopped = 0; let succeeded = 0;
  for (const s of app) {
    if (s.state?.running) running++;
    else if (s.state?.terminated) { stopped++; if (s.state.terminated.exitCode === 0) succeeded++; }
    else if (s.lastState?.terminated) { stopped++; if (s.lastState.terminated.exitCode === 0) succeeded++; }
    else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped === app.length && app.length > 0) {
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    return policy === 'Never' ? 'Failed' : 'Running';
  }
  return 'Pending';
}

/** The PodStatus the kubelet reports, computed from what runs; condition times move only on change. */
export function computePodStatus(input: StatusInput): PodStatus {
  const { pod, containers, now } = input;
  const old = pod.status ?? {};
  const initSpecs = pod.spec?.initContainers ?? [];
  const appSpecs = pod.spec?.containers ?? [];
  const initStatuses = initSpecs.map((c) => containerStatus(c, containers, true, input));
  const initDone = initStatuses.every((s) => s.state?.terminated?.exitCode === 0);
  const appStatuses = appSpecs.map((c) => {
    const s = containerStatus(c, containers, false, input);
    if (!initDone && s.state?.waiting?.reason === 'ContainerCreating') s.state.waiting.reason = 'PodInitializing';
    return s;
  });
  // Ephemeral containers count for neither the phase nor readiness (upstream's getPhase ignores them).
  const ephemeralStatuses = (pod.spec?.ephemeralContainers ?? []).map((c) => containerStatus(c as Container, containers, false, input, true));
  const phase = phaseOf(pod, initStatuses, appStatuses);
  const allReady = appStatuses.length > 0 && appStatuses.every((s) => s.ready);
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  const reasonFor = (ok: boolean, what: 'ContainersNotReady' | 'ContainersNotInitialized') => {
    if (ok) return {};
    if (terminal) return { reason: 'PodCompleted' };
    const names = (what === 'ContainersNotInitialized' ? initStatuses.filter((s) => s.state?.terminated?.exitCode !== 0) : appStatuses.filter((s) => !s.ready)).map((s) => s.name);
    return { reason: what, message: `${what === 'ContainersNotInitialized' ? 'containers with incomplete status' : 'containers with unready status'}: [${names.join(' ')}]` };
  };
  const wanted: Record<string, { status: 'True' | 'False'; reason?: string; message?: string }> = {
    Initialized: { status: initDone ? 'True' : 'False', ...reasonFor(initDone, 'ContainersNotInitialized') },
    Ready: { status: allReady ? 'True' : 'False', ...reasonFor(allReady, 'ContainersNotReady') },
    ContainersReady: { status: allReady ? 'True' : 'False', ...reasonFor(allReady, 'ContainersNotReady') },
  };
  const conditions = (old.conditions ?? []).filter((c) => !(c.type in wanted));
  for (const [type, want] of Object.entries(wanted)) {
    const prev = old.conditions?.find((c) => c.type === type);
    const changed = !prev || prev.status !== want.status;
    conditions.push({
      type, status: want.status, lastProbeTime: null, ...(want.reason ? { reason: want.reason } : {}), ...(want.message ? { message: want.message } : {}),
      lastTransitionTime: changed ? rfc3339(now) : prev!.lastTransitionTime,
    } as unknown as NonNullable<PodStatus['conditions']>[number]);
  }
  const order = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'];
  conditions.sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
  const ip = input.podIP;
  return {
    ...old,
    phase,
    conditions,
    hostIP: input.hostIP,
    hostIPs: [{ ip: input.hostIP }],
    ...(ip ? { podIP: ip, podIPs: [{ ip }] } : {}),
    startTime: old.startTime ?? rfc3339(now),
    ...(initStatuses.length ? { initContainerStatuses: initStatuses } : {}),
    containerStatuses: appStatuses,
    ...(ephemeralStatuses.length ? { ephemeralContainerStatuses: ephemeralStatuses } : {}),
  } as PodStatus;
}
