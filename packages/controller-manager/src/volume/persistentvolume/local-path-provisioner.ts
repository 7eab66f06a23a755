import { chmod, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import {
  ANN_DYNAMICALLY_PROVISIONED, ANN_SELECTED_NODE, ANN_STORAGE_PROVISIONER, ApiError, claimClass, EventRecorder, eventTarget,
  PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES, realClock, runWorkers, silentLogger, STORAGECLASSES, WorkQueue,
  type ApiClient, type Clock, type InformerFactory, type Logger, type PersistentVolume, type PersistentVolumeClaim,
  type SharedInformer, type StorageClass,
} from '@k8ts/api';

/** The provisioner name: rancher's, so classes written for k3s's `local-path` work unchanged. */
export const LOCAL_PATH_PROVISIONER = 'rancher.io/local-path';
/** Where volumes go when not told (rancher's default path, one directory per node since nodes share the host here). */
export const DEFAULT_LOCAL_PATH_DIR = '/opt/local-path-provisioner/{node}';

/** The directory on the host that holds a node's volumes: the template with `{node}` replaced. */
export function nodeVolumeDir(template: string, node: string): string {
  if (!node || node !== path.basename(node) || node === '.' || node === '..') throw new Error(`invalid node name ${JSON.stringify(node)}`);
  return path.resolve(template.includes('{node}') ? template.replaceAll('{node}', node) : path.join(template, node));
}

/** rancher's folder name for a claim's volume: `pvc-<uid>_<namespace>_<name>`. */
export function volumeFolder(claim: PersistentVolumeClaim): string {
  return `pvc-${claim.metadata!.uid}_${claim.metadata!.namespace}_${claim.metadata!.name}`;
}

/** The node a local volume is pinned to: its nodeAffinity's `kubernetes.io/hostname In [node]`. */
export function volumeNode(pv: PersistentVolume): string | undefined {
  for (const term of pv.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? []) {
    const e = (term.matchExpressions ?? []).find((x) => x.key === 'kubernetes.io/hostname' && x.operator === 'In' && x.values?.length === 1);
    if (e) return e.values![0];
  }
  return undefined;
}

/** The PersistentVolume rancher's local-path provisioner makes for a claim on a node. */
export function localPathVolume(claim: PersistentVolumeClaim, cls: StorageClass, node: string, dir: string): PersistentVolume {
  return {
    apiVersion: 'v1', kind: 'PersistentVolume',
    metadata: { name: `pvc-${claim.metadata!.uid}`, annotations: { [ANN_DYNAMICALLY_PROVISIONED]: LOCAL_PATH_PROVISIONER } },
    spec: {
      capacity: { storage: claim.spec?.resources?.requests?.storage ?? '0' },
      accessModes: claim.spec?.accessModes ?? ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: cls.reclaimPolicy ?? 'Delete',
      storageClassName: claimClass(claim),
      volumeMode: claim.spec?.volumeMode ?? 'Filesystem',
      claimRef: {
        apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: claim.metadata!.namespace, name: claim.metadata!.name,
        uid: claim.metadata!.uid, resourceVersion: claim.metadata!.resourceVersion,
      },
      hostPath: { path: path.join(dir, volumeFolder(claim)), type: 'DirectoryOrCreate' },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } },
    },
  };
}

export interface LocalPathProvisionerDeps {
  client: ApiClient;
  informers: InformerFactory;
  log?: Logger;
  clock?: Clock;
  /** The per-node volume directory, `{node}` for the node's name (DEFAULT_LOCAL_PATH_DIR). */
  dir?: string;
  /** Filesystem operations (tests pass fakes). */
  fs?: { mkdir(dir: string): Promise<void>; rm(dir: string): Promise<void> };
}

const realFs = {
  async mkdir(dir: string) {
    await mkdir(dir, { recursive: true });
    // World-writable as rancher's setup script makes it, so containers running as any user can write.
    await chmod(dir, 0o777);
  },
  rm: (dir: string) => rm(dir, { recursive: true, force: true }),
};

/**
 * rancher's local-path provisioner, in the controller-manager: a claim of a class provisioned by
 * `rancher.io/local-path`, once the scheduler has chosen its node (`volume.kubernetes.io/selected-node`), gets a
 * PersistentVolume `pvc-<uid>` with a hostPath (DirectoryOrCreate) under that node's directory, node affinity to
 * the node and a claimRef to the claim (the binder completes the binding). When such a volume is Released with
 * reclaim policy Delete, its directory is removed and the volume deleted. Nodes share one host here, so the
 * directories are made and removed by this process directly, where rancher's provisioner runs a helper pod on
 * the node.
 */
export class LocalPathProvisioner {
  readonly queue: WorkQueue<string>;
  private readonly volumes: SharedInformer<PersistentVolume>;
  private readonly claims: SharedInformer<PersistentVolumeClaim>;
  private readonly classes: SharedInformer<StorageClass>;
  private readonly events: EventRecorder;
  private readonly log: Logger;
  private readonly dir: string;
  private readonly fs: NonNullable<LocalPathProvisionerDeps['fs']>;

  constructor(private readonly deps: LocalPathProvisionerDeps) {
    const clock = deps.clock ?? realClock;
    this.log = (deps.log ?? silentLogger).child({ controller: 'local-path-provisioner' });
    this.dir = deps.dir ?? DEFAULT_LOCAL_PATH_DIR;
    this.fs = deps.fs ?? realFs;
    this.queue = new WorkQueue<string>({ clock });
    this.volumes = deps.informers.informerFor<PersistentVolume>(PERSISTENTVOLUMES);
    this.claims = deps.informers.informerFor<PersistentVolumeClaim>(PERSISTENTVOLUMECLAIMS);
    this.classes = deps.informers.informerFor<StorageClass>(STORAGECLASSES);
    this.events = new EventRecorder({ client: deps.client, component: `${LOCAL_PATH_PROVISIONER}`, log: this.log, now: () => clock.now() });
    const claim = (c: PersistentVolumeClaim) => this.queue.add(`claim:${c.metadata!.namespace}/${c.metadata!.name}`);
    const volume = (pv: PersistentVolume) => this.queue.add(`volume:${pv.metadata!.name}`);
    this.claims.addHandler({ onAdd: claim, onUpdate: (_o, n) => claim(n) });
    this.volumes.addHandler({ onAdd: volume, onUpdate: (_o, n) => volume(n) });
  }

  async run(signal: AbortSignal, workers = 1): Promise<void> {
    await Promise.all([this.volumes, this.claims, this.classes].map((i) => i.waitForSync(signal))).catch(() => undefined);
    if (signal.aborted) return;
    await runWorkers(this.queue, (key) => this.sync(key), { workers, log: this.log, signal, keyField: 'key' });
  }

  async sync(key: string): Promise<void> {
    if (key.startsWith('claim:')) {
      const c = this.claims.get(key.slice('claim:'.length));
      if (c) await this.provision(c);
    } else if (key.startsWith('volume:')) {
      const pv = this.volumes.get(key.slice('volume:'.length));
      if (pv) await this.delete(pv);
    }
  }

  /** Whether the claim is ours to provision now (the external provisioner library's shouldProvision). */
  private ours(claim: PersistentVolumeClaim): StorageClass | undefined {
    if (claim.spec?.volumeName || claim.metadata?.deletionTimestamp) return undefined;
    const cls = this.classes.get(claimClass(claim));
    if (!cls || cls.provisioner !== LOCAL_PATH_PROVISIONER) return undefined;
    if (claim.metadata?.annotations?.[ANN_STORAGE_PROVISIONER] !== LOCAL_PATH_PROVISIONER) return undefined;
    return cls;
  }

  private async provision(claim: PersistentVolumeClaim): Promise<void> {
    const cls = this.ours(claim);
    if (!cls) return;
    const name = `pvc-${claim.metadata!.uid}`;
    if (this.volumes.get(name)) return;
    const node = claim.metadata?.annotations?.[ANN_SELECTED_NODE];
    if (!node) {
      // rancher's provisioner needs a node: its class must be WaitForFirstConsumer.
      void this.event(claim, 'Warning', 'ProvisioningFailed', 'failed to provision volume with StorageClass "' + cls.metadata!.name + '": configuration error, no node was specified');
      return;
    }
    let dir: string;
    try {
      dir = nodeVolumeDir(this.dir, node);
    } catch (err) {
      void this.event(claim, 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${cls.metadata!.name}": ${(err as Error).message}`);
      return;
    }
    void this.event(claim, 'Normal', 'Provisioning', `External provisioner is provisioning volume for claim "${claim.metadata!.namespace}/${claim.metadata!.name}"`);
    const pv = localPathVolume(claim, cls, node, dir);
    await this.fs.mkdir(pv.spec!.hostPath!.path);
    try {
      await this.deps.client.create(PERSISTENTVOLUMES, undefined, pv);
    } catch (err) {
      if (!(err instanceof ApiError && err.isAlreadyExists)) throw err;
      return;
    }
    this.log.info({ claim: `${claim.metadata!.namespace}/${claim.metadata!.name}`, volume: name, node, path: pv.spec!.hostPath!.path }, 'provisioned volume');
    void this.event(claim, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${name}`);
  }

  /** A Released volume of ours with reclaim policy Delete: its directory goes, then the volume. */
  private async delete(pv: PersistentVolume): Promise<void> {
    if (pv.metadata?.annotations?.[ANN_DYNAMICALLY_PROVISIONED] !== LOCAL_PATH_PROVISIONER) return;
    if (pv.status?.phase !== 'Released' || pv.spec?.persistentVolumeReclaimPolicy !== 'Delete' || pv.metadata?.deletionTimestamp) return;
    const p = pv.spec?.hostPath?.path ?? pv.spec?.local?.path;
    const node = volumeNode(pv);
    // Only a directory this provisioner could have made is removed: <node dir>/pvc-...
    let inside = false;
    try { inside = !!p && !!node && path.dirname(path.resolve(p)) === nodeVolumeDir(this.dir, node) && path.basename(p).startsWith('pvc-'); } catch { inside = false; }
    if (!inside) {
      void this.event(pv, 'Warning', 'VolumeFailedDelete', `failed to delete volume ${pv.metadata!.name}: path ${p ?? ''} is not under the provisioner's directory for node ${node ?? '<none>'}`);
      return;
    }
    await this.fs.rm(path.resolve(p!));
    try {
      await this.deps.client.delete(PERSISTENTVOLUMES, undefined, pv.metadata!.name!, { preconditions: { uid: pv.metadata!.uid } });
    } catch (err) {
      if (!(err instanceof ApiError && (err.isNotFound || err.isConflict))) throw err;
    }
    this.log.info({ volume: pv.metadata!.name, path: p }, 'deleted volume');
  }

  private event(obj: PersistentVolume | PersistentVolumeClaim, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const kind = obj.metadata?.namespace ? 'PersistentVolumeClaim' : 'PersistentVolume';
    return this.events.record(eventTarget({ ...obj, apiVersion: 'v1', kind } as never), type, reason, message);
  }
}
