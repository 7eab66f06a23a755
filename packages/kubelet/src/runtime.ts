import type { Duplex, Readable } from 'node:stream';

/** Labels every container the kubelet creates carries (upstream's dockershim labels). */
export const LABELS = {
  podUid: 'io.kubernetes.pod.uid',
  podName: 'io.kubernetes.pod.name',
  podNamespace: 'io.kubernetes.pod.namespace',
  containerName: 'io.kubernetes.container.name',
  restartCount: 'io.kubernetes.container.restartCount',
  nodeName: 'io.kubernetes.node.name',
  /** The cluster the kubelet serves (`--cluster-name`; k8ts addition): clusters sharing one engine keep apart. */
  cluster: 'io.k8ts.cluster',
  /** 'podsandbox' for the infra (pause) container, 'container' for app and init containers. */
  type: 'io.kubernetes.docker.type',
  /** 'init', 'ephemeral' or 'app' (k8ts addition, to rebuild status after a restart). */
  kind: 'io.k8ts.container.kind',
  /** The pod's terminationGracePeriodSeconds and the container's spec hash, to detect spec changes. */
  hash: 'io.kubernetes.container.hash',
} as const;

/** The pod a container belongs to, as read back from its labels. */
export interface PodRef { uid: string; name: string; namespace: string }

/** A container as the runtime reports it: enough to adopt it after a kubelet restart and to build pod status. */
export interface RuntimeContainer {
  id: string;
  /** The pod container name ('POD' for the infra container). */
  name: string;
  pod: PodRef;
  sandbox: boolean;
  init: boolean;
  /** An ephemeral container (spec.ephemeralContainers): run once, never restarted. */
  ephemeral?: boolean;
  restartCount: number;
  hash: string;
  image: string;
  imageID: string;
  state: 'created' | 'running' | 'exited' | 'unknown';
  /** ISO timestamps; '' when never started / not finished. */
  createdAt: string;
  startedAt: string;
  finishedAt: string;
  exitCode: number;
  /** Runtime's reason (e.g. 'OOMKilled', 'Error', 'Completed'); '' when running. */
  reason: string;
  labels: Record<string, string>;
  /** The sandbox's IP on its network ('' for app containers or when unknown). */
  ip?: string;
}

/** A mount of a host path into a container. */
export interface Mount { hostPath: string; containerPath: string; readOnly: boolean }

/** Everything needed to create one app or init container of a pod, resolved by the kubelet. */
export interface ContainerConfig {
  pod: PodRef;
  name: string;
  init: boolean;
  /** An ephemeral container: labelled as one, and with `pidTarget` in that container's process namespace. */
  ephemeral?: boolean;
  /** The id of the container whose PID namespace this one joins (an ephemeral container's targetContainerName). */
  pidTarget?: string;
  /** The pod's hostPID and hostIPC: the host's process and IPC namespaces instead of the pod's. */
  hostPID?: boolean;
  hostIPC?: boolean;
  restartCount: number;
  hash: string;
  image: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env: { name: string; value: string }[];
  mounts: Mount[];
  /** CPU limit in cores (Docker NanoCpus = cores * 1e9); memory limit in bytes. */
  cpuLimit?: number;
  memoryLimit?: number;
  tty?: boolean;
  stdin?: boolean;
  /** Closes the container's stdin once the first attached caller closes its own (the pod spec's stdinOnce). */
  stdinOnce?: boolean;
  labels: Record<string, string>;
}

/** The infra container holding a pod's network namespace. */
export interface SandboxConfig {
  pod: PodRef;
  hostname: string;
  /** Docker network the sandbox joins (`--pod-network`). */
  network: string;
  /** The pod's hostNetwork, hostPID and hostIPC: the host's namespaces instead of new ones (and its hostname). */
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  /** hostPort publications: containerPort → hostPort (on hostIP when set). */
  ports: { containerPort: number; hostPort: number; protocol: 'TCP' | 'UDP'; hostIP?: string }[];
  dns?: { servers: string[]; searches: string[]; options: string[] };
  labels: Record<string, string>;
}

export interface ExecResult { exitCode: number; stdout: string; stderr: string }

export interface LogOptions { follow?: boolean; tailLines?: number; timestamps?: boolean; sinceSeconds?: number; sinceTime?: string }

export interface ContainerStats { cpuCoreNanoSeconds: number; memoryWorkingSetBytes: number; timestamp: string }

/**
 * The narrow interface the kubelet uses to run containers (STYLE §4). DockerRuntime implements it on the Docker
 * Engine API; pod-worker tests use a fake.
 */
export interface ContainerRuntime {
  /** Runtime name and version for NodeInfo (`docker://20.10.24`). Throws when the runtime is unreachable. */
  version(): Promise<{ runtimeName: string; runtimeVersion: string }>;
  /** Every container (running or not) that carries the kubelet's pod labels; only one pod's when podUid is given. */
  listContainers(podUid?: string): Promise<RuntimeContainer[]>;
  inspect(id: string): Promise<RuntimeContainer | undefined>;
  /** Ensures the image is present per pull policy; returns its image ID and whether it was pulled. Throws ImagePullError when it cannot. */
  ensureImage(image: string, pullPolicy: 'Always' | 'IfNotPresent' | 'Never'): Promise<{ imageID: string; pulled: boolean }>;
  /** Creates and starts the pod's infra container; returns its id and IP. */
  runSandbox(config: SandboxConfig): Promise<{ id: string; ip: string }>;
  /** Creates (does not start) a container joined to the sandbox's network namespace. */
  createContainer(sandboxId: string, config: ContainerConfig): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** SIGTERM, wait up to graceSeconds, SIGKILL. No error when already stopped. */
  stopContainer(id: string, graceSeconds: number): Promise<void>;
  /** Removes a container (forcefully); no error when already gone. */
  removeContainer(id: string): Promise<void>;
  exec(id: string, command: string[], timeoutMs: number): Promise<ExecResult>;
  logs(id: string, opts: LogOptions, signal?: AbortSignal): Promise<Readable>;
  stats(id: string): Promise<ContainerStats>;
}

/** The image could not be pulled or is absent with pullPolicy Never. */
export class ImagePullError extends Error {
  constructor(message: string, readonly reason: 'ErrImagePull' | 'ErrImageNeverPull' | 'InvalidImageName', options?: ErrorOptions) {
    super(message, options);
    this.name = 'ImagePullError';
  }
}

/** What a caller asked of an exec or attach: which standard streams to join, and whether there is a TTY. */
export interface StreamOptions { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean }

/**
 * A process's standard streams joined to the caller (upstream's CRI streaming Exec/Attach). With a TTY the
 * terminal's output is all on `stdout`.
 */
export interface StreamSession {
  /** Ending it closes the process's stdin. Absent without stdin. */
  stdin?: NodeJS.WritableStream;
  stdout: Readable;
  stderr: Readable;
  /** Sets the TTY size; a no-op without a TTY. */
  resize(size: { width: number; height: number }): Promise<void>;
  /** Settles once the output has ended: the exit code for an exec, undefined for an attach. */
  done: Promise<number | undefined>;
  /** Tears the session down (the caller went away). */
  close(): void;
}

/** The streaming half of the runtime: exec and attach with live streams, and connections into a pod's network. */
export interface StreamingRuntime {
  execStream(containerId: string, command: string[], opts: StreamOptions): Promise<StreamSession>;
  attachStream(containerId: string, opts: StreamOptions): Promise<StreamSession>;
  /** A TCP connection to `port` on localhost inside the network namespace of the pod whose sandbox is `sandboxId`. */
  dialPod(sandboxId: string, port: number): Promise<Duplex>;
  close(): void;
}
