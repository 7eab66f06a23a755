import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cpuMillis, quantityValue, realClock, silentLogger, type Clock, type Container, type Logger, type Pod, type PodStatus, type Service } from '@k8ts/api';
import { formatResolvConf, managedHostsFile, podDnsConfig, podHostnameAndDomain, type ClusterDnsSettings } from './dns.js';
import { containerEnv, EnvError, expandVars, type ObjectSource } from './env.js';
import { computePodStatus, instancesOf, restartCountWithoutInstances, type Waiting } from './pod-status.js';
import type { ProbeManager } from './probes.js';
import { ImagePullError, LABELS, type ContainerRuntime, type RuntimeContainer } from './runtime.js';
import type { VolumeManager } from './volumes.js';

/** Restart back-off as upstream's (10 s doubling to 5 min; forgotten after 2 × max without a failure). */
export interface BackoffOptions { initialMs: number; maxMs: number }

export interface PodSyncDeps {
  runtime: ContainerRuntime;
  volumes: Pick<VolumeManager, 'prepare' | 'mounts' | 'cleanup'>;
  source: ObjectSource;
  probes: Pick<ProbeManager, 'sync' | 'result' | 'remove'>;
  /** Records an Event about the pod (a container of it when `container` is given). */
  event(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string, container?: Container): void;
  nodeName: string;
  hostIP: string;
  network: string;
  /** Cluster DNS settings: each pod's resolv.conf follows its dnsPolicy (Docker's own defaults without them). */
  dns?: ClusterDnsSettings;
  /** Every Service the kubelet knows (its informer), for the service environment variables. */
  services?: () => readonly Service[];
  /** The pod's directory (`<root-dir>/pods/<uid>`): where the managed /etc/hosts is written; none without it. */
  podDir?: (uid: string) => string;
  backoff?: BackoffOptions;
  clock?: Clock;
  log?: Logger;
}

/** What one sync produced: the status to report, and when to look again if nothing else triggers it. */
export interface SyncResult { status: PodStatus; requeueAfterMs?: number }

/** A stable hash of a container spec: a changed spec restarts the container (upstream's container hash). */
export function containerHash(c: Container): string {
  return createHash('sha256').update(JSON.stringify(c)).digest('hex').slice(0, 8);
}

const ms = (iso: string) => (iso ? Date.parse(iso) : 0);

/**
 * Converges one pod's containers towards its spec (upstream's SyncPod): sandbox, init containers in order, app
 * containers with restart policy and back-off, liveness restarts; and computes the status to report.
 * Never called concurrently for the same pod.
 */
export class PodSyncer {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly backoff: BackoffOptions;
  private readonly backoffs = new Map<string, { delayMs: number; lastUpdate: number }>();
  private readonly unhealthy = new Set<string>();
  private readonly podIPs = new Map<string, string>();
  /** Pods whose lost sandbox has been reported (not ready) and is to be recreated at the next sync. */
  private readonly lossReported = new Set<string>();

  constructor(private readonly deps: PodSyncDeps) {
    this.clock = deps.clock ?? realClock;
    this.log = deps.log ?? silentLogger;
    this.backoff = deps.backoff ?? { initialMs: 10_000, maxMs: 300_000 };
  }

  /** A liveness probe failed: the container is restarted at the next sync. */
  markUnhealthy(podUid: string, container: string): void {
    this.unhealthy.add(`${podUid}/${container}`);
  }

  async sync(pod: Pod): Promise<SyncResult> {
    const uid = pod.metadata!.uid!;
    const waiting = new Map<string, Waiting>();
    let requeueAfterMs: number | undefined;
    const later = (delay: number) => { requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, Math.max(delay, 100)); };
    let containers = await this.deps.runtime.listContainers(uid);
    const finished = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
    if (finished) {
      // A finished pod keeps its containers (for logs) but nothing runs and nothing restarts.
      await this.stopAll(pod, containers.filter((c) => c.state === 'running'), 0);
      return { status: pod.status! };
    }
    try {
      await this.deps.volumes.prepare(pod);
    } catch (err) {
      this.deps.event(pod, 'Warning', 'FailedMount', (err as Error).message);
      for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) waiting.set(c.name, { reason: 'ContainerCreating' });
      later(2_000);
      return { status: this.status(pod, containers, waiting), requeueAfterMs };
    }
    if (!containers.some((c) => c.sandbox && c.state === 'running') && !this.lossReported.has(uid)
      && pod.status?.containerStatuses?.some((s) => s.state?.running)) {
      // The pod ran and its sandbox is gone (the node restarted, the engine lost it): report its containers not
      // running first, so that Services stop sending to the dead address while the pod is recreated. Upstream's SyncPod
      // sets the status before the runtime's sync does the same.
      this.lossReported.add(uid);
      later(0);
      return { status: this.status(pod, containers, waiting), requeueAfterMs };
    }
    const sandbox = await this.ensureSandbox(pod, containers);
    if (sandbox.changed) this.lossReported.delete(uid);
    if (sandbox.changed) containers = await this.deps.runtime.listContainers(uid);
    // Ephemeral containers first, as upstream: one can debug a pod whose init containers fail.
    let acted = await this.syncEphemeral(pod, containers, sandbox.id, waiting, later);
    const initDone = await this.syncInit(pod, containers, sandbox.id, waiting, later);
    if (initDone.acted) acted = true;
    if (initDone.done) {
      for (const spec of pod.spec?.containers ?? []) {
        if (await this.syncContainer(pod, spec, false, containers, sandbox.id, waiting, later)) acted = true;
      }
    }
    if (acted) containers = await this.deps.runtime.listContainers(uid);
    await this.removeOldInstances(pod, containers);
    const running = containers.filter((c) => !c.sandbox && c.state === 'running' && !c.init && !c.ephemeral);
    this.deps.probes.sync(pod, running.map((c) => ({ name: c.name, containerId: c.id, startedAt: c.startedAt })));
    return { status: this.status(pod, containers, waiting), requeueAfterMs };
  }

  private status(pod: Pod, containers: RuntimeContainer[], waiting: Map<string, Waiting>): PodStatus {
    const uid = pod.metadata!.uid!;
    return computePodStatus({
      pod, containers, waiting,
      ready: (name) => this.deps.probes.result(uid, name, 'readiness') !== 'failure',
      podIP: this.podIPs.get(uid) ?? pod.status?.podIP ?? '',
      hostIP: this.deps.hostIP,
      now: new Date(this.clock.now()),
    });
  }

  /** Keeps one running infra container; a dead one takes the pod's containers with it, as upstream. */
  private async ensureSandbox(pod: Pod, containers: RuntimeContainer[]): Promise<{ id: string; changed: boolean }> {
    const uid = pod.metadata!.uid!;
    const sandboxes = containers.filter((c) => c.sandbox).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    const live = sandboxes.find((c) => c.state === 'running');
    if (live) {
      if (pod.spec?.hostNetwork) this.podIPs.set(uid, this.deps.hostIP);
      else if (live.ip) this.podIPs.set(uid, live.ip);
      return { id: live.id, changed: false };
    }
    if (sandboxes.length) this.log.info({ pod: uid }, 'pod sandbox is not running; recreating the pod');
    for (const c of containers.filter((x) => !x.sandbox && x.state === 'running')) await this.deps.runtime.stopContainer(c.id, 0);
    for (const s of sandboxes) await this.deps.runtime.removeContainer(s.id);
    const spec = pod.spec!;
    const { id, ip } = await this.deps.runtime.runSandbox({
      pod: podRef(pod),
      hostname: podHostnameAndDomain(pod, this.deps.dns?.clusterDomain ?? '').hostname,
      network: this.deps.network,
      ...(spec.hostNetwork ? { hostNetwork: true } : {}), ...(spec.hostPID ? { hostPID: true } : {}), ...(spec.hostIPC ? { hostIPC: true } : {}),
      ports: (spec.containers ?? []).flatMap((c) => (c.ports ?? []).filter((p) => p.hostPort).map((p) => ({
        containerPort: p.containerPort, hostPort: p.hostPort!, protocol: (p.protocol ?? 'TCP') as 'TCP' | 'UDP', ...(p.hostIP ? { hostIP: p.hostIP } : {}),
      }))),
      // App containers share the sandbox's resolv.conf (Docker's container: network mode), as upstream's dockershim.
      ...(this.deps.dns ? { dns: podDnsConfig(pod, this.deps.dns) } : {}),
      labels: baseLabels(pod, 'POD', this.deps.nodeName),
    });
    // A hostNetwork pod's address is its node's (upstream reports the node IP as the pod IP).
    this.podIPs.set(uid, spec.hostNetwork ? this.deps.hostIP : ip);
    return { id, changed: true };
  }

  /**
   * Starts each ephemeral container once (upstream's SyncPod, step 5): never restarted, whatever its exit, and not
   * again once it has run (reported with a container id) even if its instance was removed. With targetContainerName
   * it joins that container's PID namespace, so it waits for the target to run; otherwise the pod's (the sandbox's
   * with shareProcessNamespace).
   */
  private async syncEphemeral(pod: Pod, containers: RuntimeContainer[], sandboxId: string, waiting: Map<string, Waiting>,
    later: (ms: number) => void): Promise<boolean> {
    let acted = false;
    for (const spec of pod.spec?.ephemeralContainers ?? []) {
      const [latest] = instancesOf(containers, spec.name, false, true);
      if (latest && latest.state !== 'created') continue;
      if (pod.status?.ephemeralContainerStatuses?.some((s) => s.name === spec.name && s.containerID)) continue;
      if (latest) await this.deps.runtime.removeContainer(latest.id);
      let pidTarget: string | undefined;
      if (spec.targetContainerName) {
        const targetInit = !(pod.spec?.containers ?? []).some((c) => c.name === spec.targetContainerName);
        const [target] = instancesOf(containers, spec.targetContainerName, targetInit);
        if (target?.state !== 'running') {
          waiting.set(spec.name, { reason: 'ContainerCreating' });
          later(1_000);
          continue;
        }
        pidTarget = target.id;
      } else if (pod.spec?.shareProcessNamespace) pidTarget = sandboxId;
      const container = spec as Container;
      if (await this.startContainer(pod, container, false, 0, containerHash(container), sandboxId, waiting, later, { ephemeral: true, pidTarget })) acted = true;
    }
    return acted;
  }

  /** Runs init containers one at a time, in order. `done` once all have succeeded. */
  private async syncInit(pod: Pod, containers: RuntimeContainer[], sandboxId: string, waiting: Map<string, Waiting>,
    later: (ms: number) => void): Promise<{ done: boolean; acted: boolean }> {
    for (const spec of pod.spec?.initContainers ?? []) {
      const [latest] = instancesOf(containers, spec.name, true);
      if (latest?.state === 'exited' && latest.exitCode === 0) continue;
      if (latest?.state === 'running') return { done: false, acted: false };
      if (latest && pod.spec?.restartPolicy === 'Never') return { done: false, acted: false }; // failed for good
      const acted = await this.syncContainer(pod, spec, true, containers, sandboxId, waiting, later);
      return { done: false, acted };
    }
    return { done: true, acted: false };
  }

  /** Starts, restarts (with back-off) or kills one container. Returns whether it changed anything. */
  private async syncContainer(pod: Pod, spec: Container, init: boolean, containers: RuntimeContainer[], sandboxId: string,
    waiting: Map<string, Waiting>, later: (ms: number) => void): Promise<boolean> {
    const uid = pod.metadata!.uid!;
    const [latest] = instancesOf(containers, spec.name, init);
    const hash = containerHash(spec);
    if (latest?.state === 'running') {
      const unhealthy = this.unhealthy.delete(`${uid}/${spec.name}`);
      if (!unhealthy && latest.hash === hash) return false;
      const why = unhealthy ? `Container ${spec.name} failed liveness probe, will be restarted` : `Container ${spec.name} definition changed, will be restarted`;
      this.deps.event(pod, 'Normal', 'Killing', why, spec);
      await this.deps.runtime.stopContainer(latest.id, gracePeriod(pod));
      later(0);
      return true;
    }
    if (latest?.state === 'created') await this.deps.runtime.removeContainer(latest.id);
    const restartCount = latest && latest.state !== 'created' ? latest.restartCount + 1
      : latest?.restartCount ?? restartCountWithoutInstances(pod, spec.name, init);
    if (latest && latest.state !== 'created') {
      const policy = pod.spec?.restartPolicy ?? 'Always';
      const restart = init ? policy !== 'Never' : policy === 'Always' || (policy === 'OnFailure' && latest.exitCode !== 0);
      if (!restart) return false;
      const key = `${uid}/${spec.name}`;
      const wait = this.backoffRemaining(key, ms(latest.finishedAt) || this.clock.now());
      if (wait > 0) {
        const delay = this.backoffs.get(key)!.delayMs;
        waiting.set(spec.name, { reason: 'CrashLoopBackOff', message: `back-off ${formatDelay(delay)} restarting failed container=${spec.name} pod=${pod.metadata!.name}_${pod.metadata!.namespace}(${uid})` });
        this.deps.event(pod, 'Warning', 'BackOff', `Back-off restarting failed container ${spec.name} in pod ${pod.metadata!.name}_${pod.metadata!.namespace}(${uid})`, spec);
        later(wait);
        return false;
      }
      this.backoffNext(key, ms(latest.finishedAt) || this.clock.now());
    }
    return this.startContainer(pod, spec, init, restartCount, hash, sandboxId, waiting, later);
  }

  private async startContainer(pod: Pod, spec: Container, init: boolean, restartCount: number, hash: string, sandboxId: string,
    waiting: Map<string, Waiting>, later: (ms: number) => void, extra: { ephemeral?: boolean; pidTarget?: string } = {}): Promise<boolean> {
    const uid = pod.metadata!.uid!;
    const image = spec.image ?? '';
    const pullKey = `${uid}/${spec.name}/pull`;
    const pullWait = this.backoffRemaining(pullKey, this.backoffs.get(pullKey)?.lastUpdate ?? 0);
    if (pullWait > 0) {
      waiting.set(spec.name, { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` });
      this.deps.event(pod, 'Normal', 'BackOff', `Back-off pulling image "${image}"`, spec);
      later(pullWait);
      return false;
    }
    const started = this.clock.now();
    try {
      const policy = (spec.imagePullPolicy ?? 'IfNotPresent') as 'Always' | 'IfNotPresent' | 'Never';
      const { pulled } = await this.deps.runtime.ensureImage(image, policy);
      if (pulled) {
        this.deps.event(pod, 'Normal', 'Pulling', `Pulling image "${image}"`, spec);
        this.deps.event(pod, 'Normal', 'Pulled', `Successfully pulled image "${image}" in ${((this.clock.now() - started) / 1000).toFixed(3)}s`, spec);
      } else {
        this.deps.event(pod, 'Normal', 'Pulled', `Container image "${image}" already present on machine`, spec);
      }
      this.backoffs.delete(pullKey);
    } catch (err) {
      if (!(err instanceof ImagePullError)) throw err;
      this.deps.event(pod, 'Warning', 'Failed', `Failed to pull image "${image}": ${err.message}`, spec);
      this.deps.event(pod, 'Warning', 'Failed', `Error: ${err.reason}`, spec);
      waiting.set(spec.name, { reason: err.reason, message: err.message });
      this.backoffNext(pullKey, this.clock.now());
      later(this.backoffs.get(pullKey)!.delayMs);
      return false;
    }
    let env: { name: string; value: string }[];
    try {
      env = await containerEnv(pod, spec, {
        podIP: this.podIPs.get(uid) ?? '', hostIP: this.deps.hostIP, nodeName: this.deps.nodeName, source: this.deps.source,
        warn: (reason, message) => this.deps.event(pod, 'Warning', reason, message, spec),
        services: this.deps.services?.() ?? [],
      });
    } catch (err) {
      if (!(err instanceof EnvError)) throw err;
      this.deps.event(pod, 'Warning', 'Failed', `Error: ${err.message}`, spec);
      waiting.set(spec.name, { reason: err.reason, message: err.message });
      later(2_000);
      return false;
    }
    const limits = spec.resources?.limits ?? {};
    // $(VAR) in command and args expands against the container's environment, as upstream.
    const vars = new Map(env.map((e) => [e.name, e.value]));
    const expand = (list?: string[]) => list?.map((a) => expandVars(a, vars));
    const id = await this.deps.runtime.createContainer(sandboxId, {
      pod: podRef(pod), name: spec.name, init, restartCount, hash, image,
      ...(extra.ephemeral ? { ephemeral: true } : {}), ...(extra.pidTarget ? { pidTarget: extra.pidTarget } : {}),
      ...(spec.command ? { command: expand(spec.command) } : {}), ...(spec.args ? { args: expand(spec.args) } : {}),
      ...(spec.workingDir ? { workingDir: spec.workingDir } : {}),
      env, mounts: [...this.deps.volumes.mounts(pod, spec), ...await this.podFileMounts(pod)],
      ...(limits.cpu !== undefined ? { cpuLimit: cpuMillis(String(limits.cpu)) / 1000 } : {}),
      ...(limits.memory !== undefined ? { memoryLimit: quantityValue(String(limits.memory)) } : {}),
      tty: spec.tty ?? false, stdin: spec.stdin ?? false, stdinOnce: spec.stdinOnce ?? false,
      ...(pod.spec?.hostPID ? { hostPID: true } : {}), ...(pod.spec?.hostIPC ? { hostIPC: true } : {}),
      labels: { ...baseLabels(pod, spec.name, this.deps.nodeName) },
    });
    this.deps.event(pod, 'Normal', 'Created', `Created container ${spec.name}`, spec);
    await this.deps.runtime.startContainer(id);
    this.deps.event(pod, 'Normal', 'Started', `Started container ${spec.name}`, spec);
    return true;
  }

  /**
   * Writes the pod's managed /etc/hosts (its address and names, hostAliases) and its resolv.conf, and returns their
   * mounts, as upstream's kubelet does for every container of a pod not on the host network. The resolv.conf is
   * mounted too because Docker gives containers of user-defined networks its embedded resolver (127.0.0.11) instead
   * of the servers asked for. Written in place, so mounted copies follow.
   */
  private async podFileMounts(pod: Pod): Promise<{ hostPath: string; containerPath: string; readOnly: boolean }[]> {
    if (!this.deps.podDir || pod.spec?.hostNetwork) return [];
    const uid = pod.metadata!.uid!;
    const dir = this.deps.podDir(uid);
    const files: [string, string, string][] = [
      ['etc-hosts', '/etc/hosts', managedHostsFile(pod, this.podIPs.get(uid) ?? pod.status?.podIP ?? '', this.deps.dns?.clusterDomain ?? '')],
    ];
    const dns = this.deps.dns && podDnsConfig(pod, this.deps.dns);
    // No nameserver at all (Default without a readable host file): Docker's own resolv.conf is the better guess.
    if (dns?.servers.length) files.push(['resolv.conf', '/etc/resolv.conf', formatResolvConf(dns)]);
    await mkdir(dir, { recursive: true });
    for (const [name, , text] of files) {
      const file = path.join(dir, name);
      if (await readFile(file, 'utf8').catch(() => undefined) !== text) await writeFile(file, text);
    }
    return files.map(([name, containerPath]) => ({ hostPath: path.join(dir, name), containerPath, readOnly: false }));
  }

  /** Keeps the newest two instances of each container (the current one and the previous, for `logs --previous`). */
  private async removeOldInstances(pod: Pod, containers: RuntimeContainer[]): Promise<void> {
    for (const spec of [...(pod.spec?.initContainers ?? []).map((c) => [c, true] as const), ...(pod.spec?.containers ?? []).map((c) => [c, false] as const)]) {
      for (const old of instancesOf(containers, spec[0].name, spec[1]).slice(2)) {
        if (old.state !== 'running') await this.deps.runtime.removeContainer(old.id);
      }
    }
  }

  /**
   * Kills a pod: preStop hooks, SIGTERM, up to the grace period, SIGKILL; then removes its containers, sandbox and
   * volumes. Works from runtime state alone, so it also cleans up after pods the API no longer has.
   */
  async terminate(pod: Pod | undefined, podUid: string, graceSeconds: number): Promise<void> {
    const containers = await this.deps.runtime.listContainers(podUid);
    await this.stopAll(pod, containers.filter((c) => c.state === 'running' && !c.sandbox), graceSeconds);
    for (const c of containers.filter((x) => x.sandbox && x.state === 'running')) await this.deps.runtime.stopContainer(c.id, 0);
    for (const c of containers) await this.deps.runtime.removeContainer(c.id);
    await this.deps.volumes.cleanup(podUid);
    this.deps.probes.remove(podUid);
    this.podIPs.delete(podUid);
    this.lossReported.delete(podUid);
    for (const key of this.backoffs.keys()) if (key.startsWith(`${podUid}/`)) this.backoffs.delete(key);
  }

  private async stopAll(pod: Pod | undefined, running: RuntimeContainer[], graceSeconds: number): Promise<void> {
    await Promise.all(running.map(async (c) => {
      const spec = pod?.spec?.containers?.find((s) => s.name === c.name) ?? pod?.spec?.initContainers?.find((s) => s.name === c.name)
        ?? pod?.spec?.ephemeralContainers?.find((s) => s.name === c.name) as Container | undefined;
      const deadline = this.clock.now() + graceSeconds * 1000;
      if (pod && spec) this.deps.event(pod, 'Normal', 'Killing', `Stopping container ${c.name}`, spec);
      const preStop = spec?.lifecycle?.preStop;
      if (preStop && graceSeconds > 0) await this.runPreStop(pod!, spec!, c, preStop, graceSeconds * 1000);
      const left = Math.max(0, Math.ceil((deadline - this.clock.now()) / 1000));
      await this.deps.runtime.stopContainer(c.id, left);
    }));
  }

  private async runPreStop(pod: Pod, spec: Container, c: RuntimeContainer, hook: NonNullable<NonNullable<Container['lifecycle']>['preStop']>, timeoutMs: number): Promise<void> {
    try {
      if (hook.exec?.command) {
        const res = await this.deps.runtime.exec(c.id, hook.exec.command, timeoutMs);
        if (res.exitCode !== 0) throw new Error(`command '${hook.exec.command.join(' ')}' exited with ${res.exitCode}: ${res.stderr || res.stdout}`);
      } else if (hook.httpGet) {
        const host = hook.httpGet.host || this.podIPs.get(pod.metadata!.uid!) || pod.status?.podIP || '127.0.0.1';
        const port = typeof hook.httpGet.port === 'number' ? hook.httpGet.port
          : spec.ports?.find((p) => p.name === hook.httpGet!.port)?.containerPort ?? Number(hook.httpGet.port);
        const res = await fetch(`${(hook.httpGet.scheme ?? 'HTTP').toLowerCase()}://${host}:${port}${hook.httpGet.path ?? '/'}`, { signal: AbortSignal.timeout(timeoutMs) });
        await res.body?.cancel();
      }
    } catch (err) {
      this.deps.event(pod, 'Warning', 'FailedPreStopHook', `PreStopHook failed: ${(err as Error).message}`, spec);
    }
  }

  /** Milliseconds left of the back-off that started at `since`; 0 when the container may restart now. */
  private backoffRemaining(key: string, since: number): number {
    const e = this.backoffs.get(key);
    const now = this.clock.now();
    if (!e || now - e.lastUpdate > 2 * this.backoff.maxMs) return 0;
    return Math.max(0, since + e.delayMs - now);
  }

  private backoffNext(key: string, at: number): void {
    const e = this.backoffs.get(key);
    if (!e || at - e.lastUpdate > 2 * this.backoff.maxMs) this.backoffs.set(key, { delayMs: this.backoff.initialMs, lastUpdate: at });
    else this.backoffs.set(key, { delayMs: Math.min(e.delayMs * 2, this.backoff.maxMs), lastUpdate: at });
  }
}

function podRef(pod: Pod) {
  return { uid: pod.metadata!.uid!, name: pod.metadata!.name!, namespace: pod.metadata!.namespace! };
}

function baseLabels(pod: Pod, container: string, nodeName: string): Record<string, string> {
  return {
    [LABELS.podUid]: pod.metadata!.uid!, [LABELS.podName]: pod.metadata!.name!, [LABELS.podNamespace]: pod.metadata!.namespace!,
    [LABELS.containerName]: container, [LABELS.nodeName]: nodeName,
  };
}

/** The grace period a kill uses: the deletion's when the pod is being deleted, else the pod's. */
export function gracePeriod(pod: Pod): number {
  return pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
}

function formatDelay(delayMs: number): string {
  const s = Math.round(delayMs / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : '0s'}` : `${s}s`;
}
