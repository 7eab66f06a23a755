import { PassThrough, pipeline, type Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { silentLogger, type Logger } from '@k8ts/api';
import {
  ImagePullError, LABELS, type ContainerConfig, type ContainerRuntime, type ContainerStats, type ExecResult, type LogOptions,
  type RuntimeContainer, type SandboxConfig,
} from '../runtime.js';
import { DockerClient, DockerError, demux, type ContainerCreateBody, type ContainerInspect } from './docker-client.js';

/** The infra container's image, built locally by `scripts/images.mjs`. */
export const PAUSE_IMAGE = 'k8ts/pause:latest';

/** Output an exec keeps per stream; the rest is dropped (probes and hooks only look at the start). */
const MAX_EXEC_OUTPUT = 1024 * 1024;

export interface DockerRuntimeOptions {
  /** `unix:///path/to/docker.sock` or a path. */
  socket: string;
  /**
   * The node this kubelet runs. Kubelets of several nodes may share one engine: every listing is filtered on the
   * `io.kubernetes.node.name` label at the Engine API, so containers of other nodes (or unlabelled ones) are never seen.
   */
  nodeName: string;
  /**
   * The cluster this kubelet belongs to (`--cluster-name`): when set, every container gets the `io.k8ts.cluster` label
   * and listings see only that cluster's, so two clusters whose nodes share names (node-1 of the local cluster and of a
   * test's) never adopt or remove each other's containers on one engine. Unset: no label and no filter on it.
   */
  clusterName?: string;
  log?: Logger;
  pauseImage?: string;
}

/**
 * ContainerRuntime on the Docker Engine API, after upstream's dockershim: a pause container per pod holds the network
 * and IPC namespaces, app containers join it; every container carries the LABELS so that a restarted kubelet finds
 * them again; names are `k8s_<container>_<pod>_<namespace>_<uid>_<restartCount>`.
 */
export class DockerRuntime implements ContainerRuntime {
  readonly docker: DockerClient;
  private readonly log: Logger;
  private readonly pauseImage: string;
  readonly nodeName: string;
  readonly clusterName: string | undefined;

  constructor(opts: DockerRuntimeOptions) {
    this.docker = new DockerClient(opts.socket);
    this.nodeName = opts.nodeName;
    this.clusterName = opts.clusterName || undefined;
    this.log = opts.log ?? silentLogger;
    this.pauseImage = opts.pauseImage ?? PAUSE_IMAGE;
  }

  close(): Promise<void> {
    return this.docker.close();
  }

  /** Whether a container with these labels is this node's (and this cluster's, when it has a name). */
  private owns(labels: Record<string, string>): boolean {
    return labels[LABELS.nodeName] === this.nodeName && (!this.clusterName || labels[LABELS.cluster] === this.clusterName);
  }

  /** The labels that mark a container as this node's. */
  private ownLabels(): Record<string, string> {
    return { [LABELS.nodeName]: this.nodeName, ...(this.clusterName ? { [LABELS.cluster]: this.clusterName } : {}) };
  }

  async version(): Promise<{ runtimeName: string; runtimeVersion: string }> {
    const v = await this.docker.version();
    return { runtimeName: 'docker', runtimeVersion: v.Version };
  }

  async listContainers(podUid?: string): Promise<RuntimeContainer[]> {
    const list = await this.docker.listContainers({
      all: true,
      labels: [podUid ? `${LABELS.podUid}=${podUid}` : LABELS.podUid, `${LABELS.nodeName}=${this.nodeName}`,
        ...(this.clusterName ? [`${LABELS.cluster}=${this.clusterName}`] : [])],
    });
    // The list lacks start/finish times and exit details: inspect each. One removed meanwhile is simply gone.
    const all = await Promise.all(list.map((c) => this.inspect(c.Id)));
    return all.filter((c): c is RuntimeContainer => c !== undefined);
  }

  /** The container, when it exists and belongs to this node. */
  async inspect(id: string): Promise<RuntimeContainer | undefined> {
    try {
      const c = toRuntimeContainer(await this.docker.inspectContainer(id));
      return this.owns(c.labels) ? c : undefined;
    } catch (err) {
      if (err instanceof DockerError && err.isNotFound) return undefined;
      throw err;
    }
  }

  /**
   * Never: present or ErrImageNeverPull. IfNotPresent: pulls when absent. Always: pulls; when the pull fails but the
   * image is present, uses it and logs a warning (upstream fails with ErrImagePull: a deliberate departure so that
   * `:latest` images, Always by default, run on offline clusters).
   */
  async ensureImage(image: string, pullPolicy: 'Always' | 'IfNotPresent' | 'Never'): Promise<{ imageID: string; pulled: boolean }> {
    if (!image.trim() || /\s/.test(image)) throw new ImagePullError(`invalid image name "${image}"`, 'InvalidImageName');
    if (pullPolicy !== 'Always') {
      const local = await this.localImageID(image);
      if (local) return { imageID: local, pulled: false };
      if (pullPolicy === 'Never') {
        throw new ImagePullError(`Container image "${image}" is not present with pull policy of Never`, 'ErrImageNeverPull');
      }
    }
    try {
      await this.docker.pullImage(image);
    } catch (err) {
      if (!(err instanceof DockerError) || err.isUnreachable) throw err;
      const local = pullPolicy === 'Always' ? await this.localImageID(image) : undefined;
      if (local) {
        this.log.warn({ image, err: err.message }, 'pull failed; using the image present on this node');
        return { imageID: local, pulled: false };
      }
      const reason = err.statusCode === 400 ? 'InvalidImageName' : 'ErrImagePull';
      throw new ImagePullError(err.message, reason, { cause: err });
    }
    const pulled = await this.localImageID(image);
    if (!pulled) throw new ImagePullError(`pulled image "${image}" but the engine does not have it`, 'ErrImagePull');
    return { imageID: pulled, pulled: true };
  }

  async runSandbox(config: SandboxConfig): Promise<{ id: string; ip: string }> {
    await this.ensureImage(this.pauseImage, 'IfNotPresent');
    const ports = config.ports.map((p) => ({ ...p, key: `${p.containerPort}/${p.protocol.toLowerCase()}` }));
    const bindings: Record<string, { HostIp?: string; HostPort: string }[]> = {};
    for (const p of ports) (bindings[p.key] ??= []).push({ ...(p.hostIP ? { HostIp: p.hostIP } : {}), HostPort: String(p.hostPort) });
    // A hostNetwork pod is in the host's network and UTS namespaces (its hostname is the host's), as dockershim put it.
    const host = config.hostNetwork ?? false;
    const body: ContainerCreateBody = {
      Image: this.pauseImage,
      ...(host ? {} : { Hostname: config.hostname }),
      Labels: podLabels(config.pod, this.ownLabels(), config.labels, { [LABELS.containerName]: 'POD', [LABELS.type]: 'podsandbox', [LABELS.restartCount]: '0' }),
      ...(host ? {} : { ExposedPorts: Object.fromEntries(ports.map((p) => [p.key, {}])) }),
      HostConfig: {
        NetworkMode: host ? 'host' : config.network,
        ...(host ? { UTSMode: 'host' } : { PortBindings: bindings }),
        // App containers join this IPC namespace, which Docker allows only from a shareable one.
        IpcMode: config.hostIPC ? 'host' : 'shareable',
        ...(config.hostPID ? { PidMode: 'host' } : {}),
        ...(config.dns && !host ? { Dns: config.dns.servers, DnsSearch: config.dns.searches, DnsOptions: config.dns.options } : {}),
        RestartPolicy: { Name: 'no' },
      },
    };
    const { pod } = config;
    const id = await this.create(`k8s_POD_${pod.name}_${pod.namespace}_${pod.uid}_0`, body);
    try {
      await this.docker.startContainer(id);
    } catch (err) {
      // A sandbox that cannot start (a hostPort taken, say) would only block its name for the next attempt.
      await this.removeContainer(id).catch(() => undefined);
      throw err;
    }
    const ip = sandboxIP(await this.docker.inspectContainer(id));
    this.log.debug({ pod: `${pod.namespace}/${pod.name}`, id, ip }, 'started pod sandbox');
    return { id, ip };
  }

  async createContainer(sandboxId: string, config: ContainerConfig): Promise<string> {
    const { pod } = config;
    const body: ContainerCreateBody = {
      Image: config.image,
      // Kubernetes semantics: command replaces the image's ENTRYPOINT (and drops its CMD), args replaces CMD. With
      // args alone Entrypoint is left out, so the engine keeps the image's.
      ...(config.command?.length ? { Entrypoint: config.command } : {}),
      ...(config.args?.length ? { Cmd: config.args } : {}),
      Env: config.env.map((e) => `${e.name}=${e.value}`),
      ...(config.workingDir ? { WorkingDir: config.workingDir } : {}),
      Labels: podLabels(pod, this.ownLabels(), config.labels, {
        [LABELS.containerName]: config.name, [LABELS.type]: 'container', [LABELS.kind]: config.init ? 'init' : config.ephemeral ? 'ephemeral' : 'app',
        [LABELS.restartCount]: String(config.restartCount), [LABELS.hash]: config.hash,
      }),
      Tty: config.tty ?? false,
      OpenStdin: config.stdin ?? false,
      // As dockershim: the engine then closes the container's stdin when the first attach closes its stdin, and
      // that attach keeps its output until the container exits (without it the engine ends the attach at once).
      StdinOnce: (config.stdin && config.stdinOnce) ?? false,
      HostConfig: {
        NetworkMode: `container:${sandboxId}`,
        // A host-IPC sandbox is not shareable: its containers take the host's IPC namespace themselves.
        IpcMode: config.hostIPC ? 'host' : `container:${sandboxId}`,
        // An ephemeral container with a target sees its processes (upstream's NamespaceMode_TARGET); hostPID the host's.
        ...(config.pidTarget ? { PidMode: `container:${config.pidTarget}` } : config.hostPID ? { PidMode: 'host' } : {}),
        Binds: config.mounts.map((m) => `${m.hostPath}:${m.containerPath}${m.readOnly ? ':ro' : ''}`),
        ...(config.cpuLimit ? { NanoCpus: Math.round(config.cpuLimit * 1e9) } : {}),
        ...(config.memoryLimit ? { Memory: Math.round(config.memoryLimit) } : {}),
        RestartPolicy: { Name: 'no' },
        // json-file whatever the engine's default, so that `logs` works; rotated like the kubelet's 10Mi × 5.
        LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '5' } },
      },
    };
    return this.create(`k8s_${config.name}_${pod.name}_${pod.namespace}_${pod.uid}_${config.restartCount}`, body);
  }

  async startContainer(id: string): Promise<void> {
    await this.docker.startContainer(id);
  }

  async stopContainer(id: string, graceSeconds: number): Promise<void> {
    try {
      await this.docker.stopContainer(id, Math.max(0, Math.ceil(graceSeconds)));
    } catch (err) {
      if (!(err instanceof DockerError && err.isNotFound)) throw err;
    }
  }

  async removeContainer(id: string): Promise<void> {
    try {
      await this.docker.removeContainer(id, { force: true, volumes: true });
    } catch (err) {
      // 409: a removal of it is already in progress.
      if (!(err instanceof DockerError && (err.isNotFound || err.isConflict))) throw err;
    }
  }

  /**
   * Runs `command` in the container and collects its exit code and output (1 MiB per stream at most). Past
   * `timeoutMs` it stops waiting and throws (`… timed out after N ms`); the process itself is not killed, as upstream.
   */
  async exec(id: string, command: string[], timeoutMs: number): Promise<ExecResult> {
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const { Id: execId } = await this.docker.createExec(id, { Cmd: command, AttachStdout: true, AttachStderr: true }, signal);
      const stdout = new Collector();
      const stderr = new Collector();
      const raw = await this.docker.startExec(execId, signal);
      const output = pipeline(raw, demux({ onStderr: (c) => stderr.add(c) }), () => undefined);
      for await (const chunk of output) stdout.add(chunk as Buffer);
      // The stream ends as the process exits; the engine may record the exit code a moment later.
      for (;;) {
        const state = await this.docker.inspectExec(execId, signal);
        if (!state.Running && state.ExitCode !== null) return { exitCode: state.ExitCode, stdout: stdout.text(), stderr: stderr.text() };
        await sleep(20, undefined, { signal });
      }
    } catch (err) {
      if (signal.aborted) throw new Error(`command ${JSON.stringify(command.join(' '))} timed out after ${timeoutMs} ms`, { cause: err });
      throw err;
    }
  }

  /**
   * The container's output (stdout and stderr merged in order, demultiplexed unless it has a TTY). With follow it
   * lasts until the container stops or `signal` aborts (the stream then just ends, without an error).
   */
  async logs(id: string, opts: LogOptions, signal?: AbortSignal): Promise<Readable> {
    const { Config } = await this.docker.inspectContainer(id);
    const since = opts.sinceTime ? Date.parse(opts.sinceTime) / 1000
      : opts.sinceSeconds !== undefined ? Date.now() / 1000 - opts.sinceSeconds : undefined;
    const body = await this.docker.containerLogs(id, {
      follow: opts.follow ?? false, tail: opts.tailLines ?? 'all', timestamps: opts.timestamps ?? false,
      ...(since !== undefined && Number.isFinite(since) ? { since: Math.max(0, since) } : {}),
    }, signal);
    const out = Config.Tty ? new PassThrough() : demux();
    body.on('error', (err) => out.destroy(signal?.aborted ? undefined : err));
    out.on('close', () => body.destroy());
    body.pipe(out);
    return out;
  }

  /** One sample: cumulative CPU time, and the working set as cadvisor computes it (usage − inactive_file). */
  async stats(id: string): Promise<ContainerStats> {
    const s = await this.docker.containerStats(id);
    const mem = s.memory_stats;
    // cgroup v1 reports total_inactive_file, v2 inactive_file.
    const inactive = mem.stats?.total_inactive_file ?? mem.stats?.inactive_file ?? 0;
    const usage = mem.usage ?? 0;
    const read = Date.parse(s.read);
    return {
      cpuCoreNanoSeconds: s.cpu_stats?.cpu_usage?.total_usage ?? 0,
      memoryWorkingSetBytes: Math.max(0, usage - inactive),
      timestamp: new Date(read > 0 ? read : Date.now()).toISOString(),
    };
  }

  private async localImageID(image: string): Promise<string | undefined> {
    try {
      return (await this.docker.inspectImage(image)).Id;
    } catch (err) {
      if (err instanceof DockerError && (err.isNotFound || err.statusCode === 400)) return undefined;
      throw err;
    }
  }

  /** Creates a container; a leftover of the same name that is not running is removed and the create retried once. */
  private async create(name: string, body: ContainerCreateBody): Promise<string> {
    try {
      return (await this.docker.createContainer(name, body)).Id;
    } catch (err) {
      if (!(err instanceof DockerError && err.isConflict)) throw err;
      const old = await this.inspect(name);
      if (old?.state === 'running') throw err;
      this.log.info({ name, id: old?.id }, 'removing a stopped container holding the name');
      await this.removeContainer(name);
      return (await this.docker.createContainer(name, body)).Id;
    }
  }
}

/** The kubelet's labels: the caller's, then the pod identity, the node and `own` (which always win). */
function podLabels(pod: ContainerConfig['pod'], node: Record<string, string>, labels: Record<string, string>, own: Record<string, string>): Record<string, string> {
  return {
    ...labels, [LABELS.podUid]: pod.uid, [LABELS.podName]: pod.name, [LABELS.podNamespace]: pod.namespace,
    ...node, ...own,
  };
}

/** The runtime's view of an inspected container. */
export function toRuntimeContainer(c: ContainerInspect): RuntimeContainer {
  const labels = c.Config.Labels ?? {};
  const sandbox = labels[LABELS.type] === 'podsandbox';
  const status = c.State.Status;
  const state = status === 'created' || status === 'running' || status === 'exited' ? status : 'unknown';
  const exitCode = c.State.ExitCode ?? 0;
  const ended = state === 'exited' || state === 'unknown';
  const restartCount = Number(labels[LABELS.restartCount] ?? 0);
  return {
    id: c.Id,
    name: labels[LABELS.containerName] ?? (sandbox ? 'POD' : c.Name.replace(/^\//, '')),
    pod: { uid: labels[LABELS.podUid] ?? '', name: labels[LABELS.podName] ?? '', namespace: labels[LABELS.podNamespace] ?? '' },
    sandbox,
    init: labels[LABELS.kind] === 'init',
    ...(labels[LABELS.kind] === 'ephemeral' ? { ephemeral: true } : {}),
    restartCount: Number.isFinite(restartCount) ? restartCount : 0,
    hash: labels[LABELS.hash] ?? '',
    image: c.Config.Image,
    imageID: c.Image,
    state,
    createdAt: timestamp(c.Created),
    startedAt: timestamp(c.State.StartedAt),
    finishedAt: timestamp(c.State.FinishedAt),
    exitCode,
    reason: !ended ? '' : c.State.OOMKilled ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error',
    labels,
    ...(sandbox ? { ip: sandboxIP(c) } : {}),
  };
}

/** The sandbox's address on the network it was started on (`NetworkSettings.IPAddress` on the default bridge). */
function sandboxIP(c: ContainerInspect): string {
  const networks = c.NetworkSettings.Networks ?? {};
  return networks[c.HostConfig.NetworkMode]?.IPAddress || c.NetworkSettings.IPAddress
    || Object.values(networks).find((n) => n.IPAddress)?.IPAddress || '';
}

/**
 * Docker's RFC 3339 time with its fraction padded to 9 digits (the engine trims trailing zeros), so that strings
 * sort in time order; '' for Go's zero time.
 */
function timestamp(t: string | undefined): string {
  if (!t || t.startsWith('0001-01-01')) return '';
  return t.replace(/(?:\.(\d+))?Z$/, (_, frac: string | undefined) => `.${(frac ?? '').padEnd(9, '0')}Z`);
}

/** Collects a stream's output up to MAX_EXEC_OUTPUT bytes. */
class Collector {
  private readonly chunks: Buffer[] = [];
  private size = 0;

  add(chunk: Buffer): void {
    if (this.size >= MAX_EXEC_OUTPUT) return;
    const part = chunk.subarray(0, MAX_EXEC_OUTPUT - this.size);
    this.chunks.push(part);
    this.size += part.length;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
