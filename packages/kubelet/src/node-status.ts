import { readFileSync } from 'node:fs';
import os from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import {
  ApiError, LEASES, microTime, NODES, realClock, rfc3339, silentLogger, sleep,
  type ApiClient, type Clock, type Lease, type Logger, type Node,
} from '@k8ts/api';
import type { ContainerRuntime } from './runtime.js';

type NodeStatus = NonNullable<Node['status']>;
type NodeCondition = NonNullable<NodeStatus['conditions']>[number];

const LEASE_NAMESPACE = 'kube-node-lease';
const KUBELET_VERSION = 'v1.32.4-k8ts';
/** A runtime that does not answer `version()` within this is as down as one that refuses. */
const RUNTIME_TIMEOUT_MS = 10_000;
const MAX_BACKOFF_MS = 7_000;

export interface NodeAgentOptions {
  client: ApiClient; nodeName: string; runtime: ContainerRuntime; log?: Logger; clock?: Clock;
  internalIP: string; kubeletPort: number;
  /** Defaults: os.cpus().length, os.totalmem() as "<n>Ki", 110 pods. */
  capacity?: { cpu?: string; memory?: string; pods?: number };
  labels?: Record<string, string>;
  /** 40 as upstream. */
  leaseDurationSeconds?: number;
  /** 10_000. */
  renewIntervalMs?: number;
  /** Status is written at least this often even when unchanged (upstream's nodeStatusReportFrequency): 60_000. */
  statusUpdateIntervalMs?: number;
  /** How often status is recomputed and written when changed (upstream's nodeStatusUpdateFrequency): 10_000. */
  statusCheckIntervalMs?: number;
}

/**
 * The kubelet's node agent: registers the Node (creating it, or adopting an existing one), renews its Lease
 * in kube-node-lease, and keeps its status (conditions, addresses, capacity, nodeInfo) current, writing it
 * only when it changed or the report interval passed.
 */
export class NodeAgent {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly name: string;
  private nodeUid = '';
  private lease?: Lease;
  private lastReport = 0;
  private runtimeVersion = '';
  private poked = false;
  private wake = new AbortController();

  constructor(private readonly opts: NodeAgentOptions) {
    this.clock = opts.clock ?? realClock;
    this.log = opts.log ?? silentLogger;
    this.name = opts.nodeName;
  }

  /** Registers (retrying with backoff until it succeeds or the signal aborts), then loops heartbeats until aborted. */
  async run(signal: AbortSignal): Promise<void> {
    const onAbort = (): void => this.wake.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      for (let backoff = 100; !signal.aborted; backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)) {
        try {
          await this.register(signal);
          break;
        } catch (err) {
          if (!signal.aborted) this.log.warn({ err, node: this.name }, 'unable to register node with the API server');
          await sleep(this.clock, backoff, signal);
        }
      }
      await Promise.all([this.leaseLoop(signal), this.statusLoop(signal)]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Forces a status check now (e.g. the runtime came back). */
  poke(): void {
    this.poked = true;
    this.wake.abort();
  }

  /** Creates the Node with its full status, or adopts an existing one: labels patched in, status rewritten. */
  private async register(signal: AbortSignal): Promise<void> {
    const labels = this.labels();
    let node: Node;
    try {
      node = await this.opts.client.create<Node>(NODES, undefined, {
        apiVersion: 'v1', kind: 'Node', metadata: { name: this.name, labels }, spec: {}, status: await this.buildStatus(undefined),
      }, { signal });
      this.log.info({ node: this.name, uid: node.metadata?.uid }, 'registered node');
    } catch (err) {
      if (!(err instanceof ApiError && err.isAlreadyExists)) throw err;
      node = await this.opts.client.get<Node>(NODES, undefined, this.name, { signal });
      const stale = Object.entries(labels).some(([k, v]) => node.metadata?.labels?.[k] !== v);
      if (stale) node = await this.opts.client.patch<Node>(NODES, undefined, this.name, { metadata: { labels } }, 'merge', { signal });
      await this.writeStatus(node.status, await this.buildStatus(node.status), signal);
      this.log.info({ node: this.name, uid: node.metadata?.uid }, 'adopted existing node');
    }
    this.nodeUid = node.metadata?.uid ?? '';
    this.lastReport = this.clock.now();
  }

  private async statusLoop(signal: AbortSignal): Promise<void> {
    const checkMs = this.opts.statusCheckIntervalMs ?? 10_000;
    while (!signal.aborted) {
      try {
        await this.syncStatus(signal);
      } catch (err) {
        if (!signal.aborted) this.log.warn({ err, node: this.name }, 'unable to update node status');
      }
      if (!this.poked) {
        this.wake = new AbortController();
        if (signal.aborted) break;
        await sleep(this.clock, checkMs, this.wake.signal);
      }
      this.poked = false;
    }
  }

  /** Recomputes status; writes it when it changed (heartbeats aside) or the report interval passed. */
  private async syncStatus(signal: AbortSignal): Promise<void> {
    let node: Node;
    try {
      node = await this.opts.client.get<Node>(NODES, undefined, this.name, { signal });
    } catch (err) {
      // Someone deleted our Node: register it again rather than heartbeat into the void.
      if (err instanceof ApiError && err.isNotFound) return this.register(signal);
      throw err;
    }
    this.nodeUid = node.metadata?.uid ?? this.nodeUid;
    const status = await this.buildStatus(node.status);
    const reportMs = this.opts.statusUpdateIntervalMs ?? 60_000;
    if (!statusChanged(node.status, status) && this.clock.now() - this.lastReport < reportMs) return;
    await this.writeStatus(node.status, status, signal);
    this.lastReport = this.clock.now();
  }

  private async writeStatus(prev: NodeStatus | undefined, next: NodeStatus, signal: AbortSignal): Promise<void> {
    await this.opts.client.patch(NODES, undefined, this.name, { status: next }, 'merge', { subresource: 'status', signal });
    const ready = (s?: NodeStatus): string | undefined => s?.conditions?.find((c) => c.type === 'Ready')?.status;
    if (ready(prev) !== ready(next)) this.log.info({ node: this.name, ready: ready(next) }, 'node readiness changed');
  }

  /** Every renewInterval: get-or-create the Lease once, then update its renewTime (refetching after a failure). */
  private async leaseLoop(signal: AbortSignal): Promise<void> {
    const renewMs = this.opts.renewIntervalMs ?? 10_000;
    let backoff = 200;
    while (!signal.aborted) {
      try {
        await this.renewLease(signal);
        backoff = 200;
        await sleep(this.clock, renewMs, signal);
      } catch (err) {
        if (signal.aborted) break;
        this.log.warn({ err, node: this.name }, 'failed to renew node lease');
        this.lease = undefined;
        await sleep(this.clock, Math.min(backoff, renewMs), signal);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }

  private async renewLease(signal: AbortSignal): Promise<void> {
    const { client } = this.opts;
    const spec = {
      holderIdentity: this.name, leaseDurationSeconds: this.opts.leaseDurationSeconds ?? 40, renewTime: microTime(this.clock.now()),
    };
    const ownerReferences = this.nodeUid ? [{ apiVersion: 'v1', kind: 'Node', name: this.name, uid: this.nodeUid }] : undefined;
    if (!this.lease) {
      try {
        this.lease = await client.get<Lease>(LEASES, LEASE_NAMESPACE, this.name, { signal });
      } catch (err) {
        if (!(err instanceof ApiError && err.isNotFound)) throw err;
        this.lease = await client.create<Lease>(LEASES, LEASE_NAMESPACE, {
          apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
          metadata: { name: this.name, namespace: LEASE_NAMESPACE, ownerReferences }, spec,
        }, { signal });
        return;
      }
    }
    const next = structuredClone(this.lease);
    next.spec = { ...next.spec, ...spec };
    // The owner may be missing (Lease made before the Node) or stale (Node re-created): point it at our Node.
    if (ownerReferences && next.metadata?.ownerReferences?.[0]?.uid !== this.nodeUid) {
      next.metadata = { ...next.metadata, ownerReferences };
    }
    this.lease = await client.update<Lease>(LEASES, LEASE_NAMESPACE, next, { signal });
  }

  private labels(): Record<string, string> {
    return {
      'kubernetes.io/hostname': this.name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': goArch(), ...this.opts.labels,
    };
  }

  /** The status this node reports now; transition times carried over from `prev` for unchanged conditions. */
  private async buildStatus(prev: NodeStatus | undefined): Promise<NodeStatus> {
    let runtimeError = '';
    try {
      const v = await withTimeout(this.opts.runtime.version(), RUNTIME_TIMEOUT_MS, this.clock);
      this.runtimeVersion = `${v.runtimeName}://${v.runtimeVersion}`;
    } catch (err) {
      runtimeError = (err as Error).message;
    }
    const now = rfc3339(this.clock.now());
    const condition = (type: string, status: 'True' | 'False', reason: string, message: string): NodeCondition => {
      const old = prev?.conditions?.find((c) => c.type === type);
      const lastTransitionTime = old?.status === status && old.lastTransitionTime ? old.lastTransitionTime : now;
      return { type, status, reason, message, lastHeartbeatTime: now, lastTransitionTime };
    };
    const cap = this.opts.capacity ?? {};
    const capacity = {
      cpu: cap.cpu ?? String(os.cpus().length),
      memory: cap.memory ?? `${Math.floor(os.totalmem() / 1024)}Ki`,
      pods: String(cap.pods ?? 110),
    };
    return {
      conditions: [
        condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        runtimeError
          ? condition('Ready', 'False', 'KubeletNotReady', `container runtime is down: ${runtimeError}`)
          : condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
      addresses: [{ type: 'InternalIP', address: this.opts.internalIP }, { type: 'Hostname', address: this.name }],
      capacity,
      allocatable: { ...capacity },
      daemonEndpoints: { kubeletEndpoint: { Port: this.opts.kubeletPort } },
      nodeInfo: { ...hostInfo(), containerRuntimeVersion: this.runtimeVersion, kubeletVersion: KUBELET_VERSION },
    };
  }
}

/** Whether anything but heartbeat times differs in the fields the agent reports (upstream's nodeStatusHasChanged). */
function statusChanged(prev: NodeStatus | undefined, next: NodeStatus): boolean {
  const strip = (s: NodeStatus | undefined): unknown => ({
    conditions: s?.conditions?.map(({ lastHeartbeatTime: _, ...c }) => c),
    addresses: s?.addresses, capacity: s?.capacity, allocatable: s?.allocatable,
    daemonEndpoints: s?.daemonEndpoints, nodeInfo: s?.nodeInfo,
  });
  return !isDeepStrictEqual(strip(prev), strip(next));
}

let cachedHostInfo: Omit<NonNullable<NodeStatus['nodeInfo']>, 'containerRuntimeVersion' | 'kubeletVersion'> | undefined;

/** What the machine says about itself; files that cannot be read leave their field empty. */
function hostInfo(): NonNullable<typeof cachedHostInfo> {
  if (cachedHostInfo) return cachedHostInfo;
  const read = (path: string): string => {
    try { return readFileSync(path, 'utf8').trim(); } catch { return ''; }
  };
  const prettyName = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(read('/etc/os-release'))?.[1];
  const machineID = read('/etc/machine-id');
  cachedHostInfo = {
    machineID,
    systemUUID: read('/sys/class/dmi/id/product_uuid').toLowerCase() || machineID,
    bootID: read('/proc/sys/kernel/random/boot_id'),
    kernelVersion: os.release(),
    osImage: prettyName || `${os.type()} ${os.release()}`,
    operatingSystem: 'linux',
    architecture: goArch(),
    kubeProxyVersion: '',
  };
  return cachedHostInfo;
}

/** Node's process.arch as Go's GOARCH, which Kubernetes labels and nodeInfo use. */
function goArch(): string {
  const arch = os.arch();
  return ({ x64: 'amd64', ia32: '386', ppc64: 'ppc64le' } as Record<string, string>)[arch] ?? arch;
}

function withTimeout<T>(promise: Promise<T>, ms: number, clock: Clock): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => reject(new Error(`no answer within ${ms / 1000}s`)), ms);
    promise.then(
      (value) => { clock.clearTimeout(timer); resolve(value); },
      (err: unknown) => { clock.clearTimeout(timer); reject(err as Error); },
    );
  });
}
