import { isDeepStrictEqual } from 'node:util';
import {
  ApiError, CONFIGMAPS, EventRecorder, eventTarget, NODES, PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES, PODS, realClock, runWorkers, SECRETS,
  SERVICES, SharedInformerFactory, silentLogger, sleep, WorkQueue, type ApiClient, type ConfigMap, type InformerFactory, type Logger,
  type PersistentVolume, type PersistentVolumeClaim, type Pod, type Secret, type Service, type SharedInformer,
} from '@k8ts/api';
import path from 'node:path';
import type { ClusterDnsSettings } from './dns.js';
import type { ObjectSource } from './env.js';
import { NodeAgent } from './node-status.js';
import { gracePeriod, PodSyncer, type BackoffOptions } from './pod-sync.js';
import { containerKind } from './pod-status.js';
import { ProbeManager } from './probes.js';
import { LABELS, type ContainerRuntime, type RuntimeContainer } from './runtime.js';
import { readStaticPods, STATIC } from './static-pods.js';
import { VolumeManager } from './volumes.js';

export interface KubeletOptions {
  client: ApiClient;
  /** Where the pod informer comes from (main.ts's shared factory); the kubelet makes and runs its own if omitted. */
  informers?: InformerFactory;
  runtime: ContainerRuntime;
  nodeName: string;
  /** The node's InternalIP: pods' hostIP, and where the kubelet serves. */
  nodeIP: string;
  port: number;
  /** Docker network pod sandboxes join. */
  network: string;
  /** Volumes live under `<rootDir>/pods/<uid>/volumes`. */
  rootDir: string;
  log?: Logger;
  backoff?: BackoffOptions;
  /** How often the runtime is relisted to notice exits (upstream's PLEG relist period). */
  relistIntervalMs?: number;
  /** How often every pod is synced even when nothing changed (ConfigMap/Secret volume refresh, probes). */
  resyncIntervalMs?: number;
  /** `--cluster-dns`, `--cluster-domain` and the host's resolv.conf: each pod's resolv.conf per its dnsPolicy. */
  dns?: ClusterDnsSettings;
  capacity?: { cpu?: string; memory?: string; pods?: number };
  workers?: number;
  /** A directory of static pod manifests, run without the apiserver and mirrored into it. */
  podManifestPath?: string;
}

/**
 * The node agent: registers the Node (NodeAgent), watches the pods bound to it, and runs one level-triggered
 * sync per pod through a work queue (never two at once for one pod). A relist of the runtime notices container
 * exits, adopts what a previous kubelet started (containers carry pod labels) and removes orphans.
 */
export class Kubelet {
  readonly pods: SharedInformer<Pod>;
  /** Every Service, for the service environment variables of containers (upstream's kubelet serviceLister). */
  readonly services: SharedInformer<Service>;
  readonly syncer: PodSyncer;
  private readonly queue = new WorkQueue<string>();
  private readonly informers: InformerFactory;
  private readonly log: Logger;
  private readonly events: EventRecorder;
  private readonly probes: ProbeManager;
  private readonly uidOf = new Map<string, string>();
  private readonly reported = new Map<string, unknown>();
  /** The API object a pod's status was last written to, by key (a static pod's mirror changes uid when recreated). */
  private readonly mirrorUids = new Map<string, string>();
  private readonly fingerprints = new Map<string, string>();
  private containers: RuntimeContainer[] = [];
  /** Static pods by `namespace/name`, as read from the manifest directory: their source of truth. */
  private readonly staticPods = new Map<string, Pod>();

  constructor(private readonly opts: KubeletOptions) {
    this.log = opts.log ?? silentLogger;
    this.informers = opts.informers ?? new SharedInformerFactory({ client: opts.client, log: this.log });
    this.pods = this.informers.informerFor<Pod>(PODS, { fieldSelector: `spec.nodeName=${opts.nodeName}` });
    this.services = this.informers.informerFor<Service>(SERVICES);
    this.events = new EventRecorder({ client: opts.client, component: 'kubelet', host: opts.nodeName, log: this.log });
    const source: ObjectSource = {
      configMap: (ns, name) => this.getOptional<ConfigMap>(CONFIGMAPS, ns, name),
      secret: (ns, name) => this.getOptional<Secret>(SECRETS, ns, name),
      persistentVolumeClaim: (ns, name) => this.getOptional<PersistentVolumeClaim>(PERSISTENTVOLUMECLAIMS, ns, name),
      persistentVolume: (name) => this.getOptional<PersistentVolume>(PERSISTENTVOLUMES, undefined, name),
    };
    this.probes = new ProbeManager({
      runtime: opts.runtime, log: this.log,
      onChange: (uid, container, kind, result, message) => this.onProbe(uid, container, kind, result, message),
    });
    this.syncer = new PodSyncer({
      runtime: opts.runtime, source, probes: this.probes, nodeName: opts.nodeName, hostIP: opts.nodeIP, network: opts.network,
      volumes: new VolumeManager({ rootDir: opts.rootDir, source, log: this.log }),
      event: (pod, type, reason, message, container) => {
        // The field path names the container's own list, as upstream's (spec.initContainers{…}, spec.ephemeralContainers{…}).
        const list = container && { app: 'containers', init: 'initContainers', ephemeral: 'ephemeralContainers' }[containerKind(pod, container.name) ?? 'app'];
        void this.events.record(eventTarget({ ...pod, kind: 'Pod', apiVersion: 'v1' }, container ? `spec.${list}{${container.name}}` : undefined), type, reason, message);
      },
      backoff: opts.backoff, dns: opts.dns, log: this.log,
      services: () => this.services.list(),
      podDir: (uid) => path.join(path.resolve(opts.rootDir), 'pods', path.basename(uid)),
    });
  }

  private async getOptional<T>(def: typeof CONFIGMAPS, ns: string | undefined, name: string): Promise<T | undefined> {
    try {
      return await this.opts.client.get(def, ns, name) as T;
    } catch (err) {
      if (err instanceof ApiError && err.isNotFound) return undefined;
      throw err;
    }
  }

  /** Runs until the signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const node = new NodeAgent({
      client: this.opts.client, nodeName: this.opts.nodeName, runtime: this.opts.runtime, log: this.log,
      internalIP: this.opts.nodeIP, kubeletPort: this.opts.port, capacity: this.opts.capacity,
    });
    const key = (p: Pod) => `${p.metadata!.namespace}/${p.metadata!.name}`;
    this.pods.addHandler({
      onAdd: (p) => this.queue.add(key(p)),
      onUpdate: (_o, p) => this.queue.add(key(p)),
      onDelete: (p) => this.queue.add(key(p)),
    });
    signal.addEventListener('abort', () => this.queue.shutDown(), { once: true });
    this.informers.start(signal);
    const tasks = [node.run(signal)];
    // A factory of our own stops with us; a shared one is main.ts's to wait for.
    if (!this.opts.informers) tasks.push(this.informers.shutdown());
    // Containers started before the Services are known would miss their variables (upstream waits likewise).
    await Promise.all([this.pods.waitForSync(signal), this.services.waitForSync(signal)]).catch(() => undefined);
    if (signal.aborted) { await Promise.allSettled(tasks); return; }
    this.log.info({ node: this.opts.nodeName, pods: this.pods.list().length }, 'kubelet synced its pods');
    tasks.push(this.relistLoop(signal));
    if (this.opts.podManifestPath) tasks.push(this.staticPodLoop(signal, this.opts.podManifestPath));
    tasks.push(runWorkers(this.queue, (key) => this.syncKey(key), { workers: this.opts.workers ?? 4, log: this.log, keyField: 'pod', signal }));
    await Promise.allSettled(tasks);
    this.probes.stop();
  }

  /** Converges one pod by key (`namespace/name`). */
  async syncKey(key: string): Promise<void> {
    const staticPod = this.staticPods.get(key);
    const apiPod = this.pods.get(key);
    const mirror = apiPod?.metadata?.annotations?.[STATIC.mirror] !== undefined;
    if (mirror && (!staticPod || apiPod!.metadata?.deletionTimestamp)) {
      // A mirror is only a reflection: deleting it never stops a static pod, and one without a manifest goes.
      await this.deletePodObject(apiPod!);
      if (staticPod) this.queue.addAfter(key, 100);
    }
    const pod = staticPod ?? (mirror ? undefined : apiPod);
    const knownUid = this.uidOf.get(key);
    if (!pod || (knownUid && pod.metadata?.uid !== knownUid)) {
      // Gone from the API (or replaced by a new pod of the same name): whatever still runs is an orphan.
      if (knownUid) {
        await this.syncer.terminate(undefined, knownUid, 2);
        this.forget(key, knownUid);
      }
      if (!pod) return;
    }
    const uid = pod.metadata!.uid!;
    this.uidOf.set(key, uid);
    if (pod.metadata?.deletionTimestamp) {
      await this.syncer.terminate(pod, uid, gracePeriod(pod));
      try {
        await this.opts.client.delete(PODS, pod.metadata.namespace, pod.metadata.name!, { gracePeriodSeconds: 0, preconditions: { uid } });
      } catch (err) {
        if (!(err instanceof ApiError && (err.isNotFound || err.isConflict))) throw err;
      }
      this.forget(key, uid);
      return;
    }
    const result = await this.syncer.sync(pod);
    if (staticPod) {
      this.staticPods.set(key, { ...staticPod, status: result.status });
      if (!await this.ensureMirror(staticPod)) this.queue.addAfter(key, 2_000);
    }
    const target = staticPod ? this.pods.get(key) : pod;
    // What was last written is remembered per API object (a recreated mirror pod gets the status again).
    const targetUid = target?.metadata?.uid ?? '';
    if (target && !isDeepStrictEqual(result.status, target.status) && !isDeepStrictEqual(result.status, this.reported.get(targetUid))) {
      await this.opts.client.patch(PODS, pod.metadata!.namespace, pod.metadata!.name!, [{ op: 'replace', path: '/status', value: result.status }], 'json', { subresource: 'status' });
      if (staticPod) this.reported.delete(this.mirrorUids.get(key) ?? '');
      this.mirrorUids.set(key, targetUid);
      this.reported.set(targetUid, result.status);
    }
    if (result.requeueAfterMs !== undefined) this.queue.addAfter(key, result.requeueAfterMs);
  }

  private async deletePodObject(pod: Pod): Promise<void> {
    try {
      await this.opts.client.delete(PODS, pod.metadata!.namespace, pod.metadata!.name!, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata!.uid } });
    } catch (err) {
      if (!(err instanceof ApiError && (err.isNotFound || err.isConflict))) throw err;
    }
  }

  /** Keeps a mirror pod of a static pod in the API (upstream's mirror client). False when it could not. */
  private async ensureMirror(pod: Pod): Promise<boolean> {
    const key = `${pod.metadata!.namespace}/${pod.metadata!.name}`;
    const hash = pod.metadata!.annotations![STATIC.hash];
    const existing = this.pods.get(key);
    if (existing?.metadata?.annotations?.[STATIC.mirror] === hash && !existing.metadata.deletionTimestamp) return true;
    try {
      if (existing) { await this.deletePodObject(existing); return false; }
      const node = await this.opts.client.get(NODES, undefined, this.opts.nodeName);
      const { uid: _uid, resourceVersion: _rv, ...meta } = pod.metadata!;
      await this.opts.client.create(PODS, pod.metadata!.namespace, {
        apiVersion: 'v1', kind: 'Pod',
        metadata: {
          ...meta, annotations: { ...meta.annotations, [STATIC.mirror]: hash },
          ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: this.opts.nodeName, uid: node.metadata!.uid!, controller: true }],
        },
        spec: pod.spec,
      } as Pod);
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.isAlreadyExists) return false;
      this.log.warn({ err, pod: key }, 'cannot create the mirror pod of a static pod; retrying');
      return false;
    }
  }

  /** Re-reads the manifest directory every few seconds and queues static pods that appeared, changed or went. */
  private async staticPodLoop(signal: AbortSignal, dir: string): Promise<void> {
    while (!signal.aborted) {
      try {
        const pods = await readStaticPods(dir, this.opts.nodeName, this.log);
        const seen = new Set<string>();
        for (const p of pods) {
          const key = `${p.metadata!.namespace}/${p.metadata!.name}`;
          seen.add(key);
          const known = this.staticPods.get(key);
          if (known?.metadata?.uid === p.metadata!.uid) continue;
          this.staticPods.set(key, p);
          this.queue.add(key);
        }
        for (const key of [...this.staticPods.keys()]) {
          if (!seen.has(key)) { this.staticPods.delete(key); this.queue.add(key); }
        }
      } catch (err) {
        this.log.warn({ err, dir }, 'reading static pod manifests failed');
      }
      await sleep(realClock, 3_000, signal);
    }
  }

  private forget(key: string, uid: string): void {
    this.uidOf.delete(key);
    this.reported.delete(this.mirrorUids.get(key) ?? uid);
    this.mirrorUids.delete(key);
    this.fingerprints.delete(uid);
  }

  /** Upstream's PLEG: relists containers every interval. */
  private async relistLoop(signal: AbortSignal): Promise<void> {
    const every = this.opts.relistIntervalMs ?? 1000;
    const resync = this.opts.resyncIntervalMs ?? 10_000;
    let lastResync = Date.now();
    while (!signal.aborted) {
      try {
        await this.relist(Date.now() - lastResync >= resync);
        if (Date.now() - lastResync >= resync) lastResync = Date.now();
      } catch (err) {
        this.log.warn({ err }, 'relisting containers failed');
      }
      await sleep(realClock, every, signal);
    }
  }

  /**
   * One PLEG relist: queues pods whose containers changed (all pods when `all`) and removes orphans. Only containers
   * labelled with this node count: kubelets of several nodes may share one engine, and an orphan is never another
   * node's (nor one an older kubelet left without a node label).
   */
  async relist(all: boolean): Promise<void> {
    this.containers = (await this.opts.runtime.listContainers()).filter((c) => c.labels[LABELS.nodeName] === this.opts.nodeName);
    const byUid = new Map<string, RuntimeContainer[]>();
    for (const c of this.containers) {
      const list = byUid.get(c.pod.uid) ?? [];
      list.push(c);
      byUid.set(c.pod.uid, list);
    }
    const keyOfUid = new Map<string, string>();
    for (const p of [...this.pods.list(), ...this.staticPods.values()]) keyOfUid.set(p.metadata!.uid!, `${p.metadata!.namespace}/${p.metadata!.name}`);
    for (const [uid, list] of byUid) {
      const key = keyOfUid.get(uid);
      if (!key) {
        if ([...this.uidOf.values()].includes(uid)) continue; // its worker is on it
        this.log.info({ podUid: uid, pod: `${list[0].pod.namespace}/${list[0].pod.name}` }, 'removing containers of a pod this node no longer runs');
        await this.syncer.terminate(undefined, uid, 2);
        continue;
      }
      const fp = list.map((c) => `${c.id}:${c.state}`).sort().join(',');
      if (all || this.fingerprints.get(uid) !== fp) this.queue.add(key);
      this.fingerprints.set(uid, fp);
    }
    if (all) for (const key of keyOfUid.values()) this.queue.add(key);
  }

  /**
   * Stops and removes every container (sandboxes last) of every pod this node runs, as `--cleanup-on-exit` asks on the
   * way out: each pod gets its terminationGracePeriodSeconds (preStop hooks included) but at most `maxGraceSeconds`.
   * Call it after `run` has returned, so that no worker starts a container again meanwhile. The pods stay in the API.
   */
  async removeAllContainers(maxGraceSeconds: number): Promise<number> {
    const containers = await this.opts.runtime.listContainers();
    const uids = [...new Set(containers.filter((c) => c.labels[LABELS.nodeName] === this.opts.nodeName).map((c) => c.pod.uid))];
    const byUid = new Map([...this.pods.list(), ...this.staticPods.values()].map((p) => [p.metadata!.uid!, p]));
    const results = await Promise.allSettled(uids.map(async (uid) => {
      const pod = byUid.get(uid);
      await this.syncer.terminate(pod, uid, Math.min(pod ? gracePeriod(pod) : 0, maxGraceSeconds));
    }));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length) throw new Error(`could not remove the containers of ${failed.length} of ${uids.length} pods`, { cause: failed[0].reason });
    return uids.length;
  }

  /** The runtime's containers as of the last relist. */
  containersOf(podUid: string): RuntimeContainer[] {
    return this.containers.filter((c) => c.pod.uid === podUid);
  }

  /** The pod this node runs under `namespace/name`: a static pod's own object rather than its mirror. */
  podFor(key: string): Pod | undefined {
    return this.staticPods.get(key) ?? this.pods.get(key);
  }

  private onProbe(uid: string, container: string, kind: string, result: string, message: string): void {
    const pod = [...this.staticPods.values(), ...this.pods.list()].find((p) => p.metadata?.uid === uid);
    if (!pod) return;
    const spec = pod.spec?.containers?.find((c) => c.name === container);
    if (result === 'failure') {
      const what = kind === 'liveness' ? 'Liveness' : kind === 'readiness' ? 'Readiness' : 'Startup';
      void this.events.record(eventTarget({ ...pod, kind: 'Pod', apiVersion: 'v1' }, spec ? `spec.containers{${container}}` : undefined), 'Warning', 'Unhealthy', `${what} probe failed: ${message}`);
      if (kind === 'liveness' || kind === 'startup') this.syncer.markUnhealthy(uid, container);
    }
    this.queue.add(`${pod.metadata!.namespace}/${pod.metadata!.name}`);
  }
}
