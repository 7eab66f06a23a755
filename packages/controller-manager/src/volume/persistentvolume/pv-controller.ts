import {
  ANN_BETA_STORAGE_PROVISIONER, ANN_BIND_COMPLETED, ANN_BOUND_BY_CONTROLLER, ANN_DYNAMICALLY_PROVISIONED, ANN_SELECTED_NODE,
  ANN_STORAGE_PROVISIONER, ApiError, claimClass, rfc3339, EventRecorder, eventTarget, findMatchingVolume, isDelayBindingMode,
  isVolumeBoundToClaim, NO_PROVISIONER, PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES, realClock, runWorkers, silentLogger,
  STORAGECLASSES, WorkQueue, type ApiClient, type Clock, type InformerFactory, type Logger, type PersistentVolume,
  type PersistentVolumeClaim, type SharedInformer, type StorageClass,
} from '@k8ts/api';

/** Upstream's --pvclaimbinder-sync-period: every claim and volume is synced this often besides their events. */
export const DEFAULT_SYNC_PERIOD_MS = 15_000;

export interface PersistentVolumeControllerDeps {
  client: ApiClient;
  informers: InformerFactory;
  log?: Logger;
  clock?: Clock;
  syncPeriodMs?: number;
}

type Writable<T> = { -readonly [K in keyof T]: T[K] extends object ? Writable<T[K]> : T[K] };
type PV = Writable<PersistentVolume>;
type PVC = Writable<PersistentVolumeClaim>;

const claimKey = (c: { metadata?: { namespace?: string; name?: string } }) => `${c.metadata?.namespace}/${c.metadata?.name}`;
const has = (o: { metadata?: { annotations?: Record<string, string> } }, a: string) => o.metadata?.annotations?.[a] !== undefined;

/**
 * The PersistentVolume binder (upstream's pkg/controller/volume/persistentvolume, `persistentvolume-binder`): binds
 * each claim to the smallest matching Available volume (class, access modes, size, selector, volume mode; a
 * volume pre-bound by claimRef or a claim's volumeName wins), or, with none, asks the class's provisioner by
 * annotating the claim `volume.kubernetes.io/storage-provisioner`; WaitForFirstConsumer claims wait until the
 * scheduler sets `volume.kubernetes.io/selected-node`. Binding writes the volume's claimRef and phase Bound, then
 * the claim's volumeName with `pv.kubernetes.io/bind-completed` and its phase Bound (capacity and access modes
 * of the volume), each step idempotent. A volume whose claim is gone is Released and reclaimed by its policy:
 * Retain keeps it, Delete is its provisioner's (local-path here), others fail. Claims whose volume is gone are Lost.
 */
export class PersistentVolumeController {
  readonly queue: WorkQueue<string>;
  private readonly volumes: SharedInformer<PersistentVolume>;
  private readonly claims: SharedInformer<PersistentVolumeClaim>;
  private readonly classes: SharedInformer<StorageClass>;
  private readonly events: EventRecorder;
  private readonly log: Logger;
  private readonly clock: Clock;

  constructor(private readonly deps: PersistentVolumeControllerDeps) {
    this.clock = deps.clock ?? realClock;
    this.log = (deps.log ?? silentLogger).child({ controller: 'persistentvolume-binder' });
    this.queue = new WorkQueue<string>({ clock: this.clock });
    this.volumes = deps.informers.informerFor<PersistentVolume>(PERSISTENTVOLUMES);
    this.claims = deps.informers.informerFor<PersistentVolumeClaim>(PERSISTENTVOLUMECLAIMS);
    this.classes = deps.informers.informerFor<StorageClass>(STORAGECLASSES);
    this.events = new EventRecorder({ client: deps.client, component: 'persistentvolume-controller', log: this.log, now: () => this.clock.now() });
    const volume = (pv: PersistentVolume) => {
      this.queue.add(`volume:${pv.metadata!.name}`);
      const ref = pv.spec?.claimRef;
      if (ref?.name) this.queue.add(`claim:${ref.namespace}/${ref.name}`);
    };
    const claim = (c: PersistentVolumeClaim) => {
      this.queue.add(`claim:${claimKey(c)}`);
      if (c.spec?.volumeName) this.queue.add(`volume:${c.spec.volumeName}`);
    };
    this.volumes.addHandler({ onAdd: volume, onUpdate: (_o, n) => volume(n), onDelete: volume });
    this.claims.addHandler({ onAdd: claim, onUpdate: (_o, n) => claim(n), onDelete: claim });
    // A class created after its claims lets them provision now.
    this.classes.addHandler({ onAdd: () => { for (const c of this.claims.list()) if (!c.spec?.volumeName) claim(c); } });
  }

  async run(signal: AbortSignal, workers = 1): Promise<void> {
    await Promise.all([this.volumes, this.claims, this.classes].map((i) => i.waitForSync(signal))).catch(() => undefined);
    if (signal.aborted) return;
    const resync = setInterval(() => {
      for (const pv of this.volumes.list()) this.queue.add(`volume:${pv.metadata!.name}`);
      for (const c of this.claims.list()) this.queue.add(`claim:${claimKey(c)}`);
    }, this.deps.syncPeriodMs ?? DEFAULT_SYNC_PERIOD_MS);
    try {
      await runWorkers(this.queue, (key) => this.sync(key), { workers, log: this.log, signal, keyField: 'key' });
    } finally {
      clearInterval(resync);
    }
  }

  /** `claim:<ns>/<name>` or `volume:<name>`. Idempotent. */
  async sync(key: string): Promise<void> {
    if (key.startsWith('claim:')) {
      const c = this.claims.get(key.slice('claim:'.length));
      if (c && !c.metadata?.deletionTimestamp) await this.syncClaim(structuredClone(c) as PVC);
    } else if (key.startsWith('volume:')) {
      const pv = this.volumes.get(key.slice('volume:'.length));
      if (pv) await this.syncVolume(structuredClone(pv) as PV);
    }
  }

  private classOf = (name: string) => this.classes.get(name);

  private async syncClaim(claim: PVC): Promise<void> {
    if (!has(claim, ANN_BIND_COMPLETED)) return this.syncUnboundClaim(claim);
    const name = claim.spec?.volumeName;
    if (!name) return this.claimLost(claim, 'ClaimLost', 'Bound claim has lost reference to PersistentVolume. Data on the volume is lost!');
    const pv = this.volumes.get(name);
    if (!pv) return this.claimLost(claim, 'ClaimLost', 'Bound claim has lost its PersistentVolume. Data on the volume is lost!');
    if (!pv.spec?.claimRef || pv.spec.claimRef.uid === claim.metadata?.uid || isVolumeBoundToClaim(pv, claim)) {
      return this.bind(structuredClone(pv) as PV, claim);
    }
    return this.claimLost(claim, 'ClaimMisbound', 'Two claims are bound to the same volume, this one is bound incorrectly');
  }

  private async syncUnboundClaim(claim: PVC): Promise<void> {
    const volumes = this.volumes.list();
    if (!claim.spec?.volumeName) {
      const delayBinding = isDelayBindingMode(claim, this.classOf);
      const pv = findMatchingVolume(claim, volumes, { delayBinding });
      if (pv) return this.bind(structuredClone(pv) as PV, claim);
      if (delayBinding && !has(claim, ANN_SELECTED_NODE)) {
        void this.event(claim, 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding');
        return this.setClaimPhase(claim, 'Pending');
      }
      const className = claimClass(claim);
      const cls = className ? this.classes.get(className) : undefined;
      if (className && !cls) {
        void this.event(claim, 'Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io "${className}" not found`);
      } else if (cls && cls.provisioner !== NO_PROVISIONER) {
        await this.provisionClaim(claim, cls);
      } else {
        void this.event(claim, 'Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set');
      }
      return this.setClaimPhase(claim, 'Pending');
    }
    // The user asked for one volume by name.
    const pv = this.volumes.get(claim.spec.volumeName);
    if (!pv) return this.setClaimPhase(claim, 'Pending');
    if (!pv.spec?.claimRef || isVolumeBoundToClaim(pv, claim)) {
      if (!findMatchingVolume(claim, [pv], {}) && !isVolumeBoundToClaim(pv, claim)) {
        void this.event(claim, 'Warning', 'FailedBinding', `Cannot bind to requested volume "${pv.metadata!.name}": it does not satisfy the claim (class, access modes, size or selector)`);
        return this.setClaimPhase(claim, 'Pending');
      }
      return this.bind(structuredClone(pv) as PV, claim);
    }
    void this.event(claim, 'Warning', 'FailedBinding', `volume "${pv.metadata!.name}" already bound to a different claim.`);
    return this.setClaimPhase(claim, 'Pending');
  }

  /** Hands the claim to its class's provisioner (upstream's provisionClaimOperationExternal). */
  private async provisionClaim(claim: PVC, cls: StorageClass): Promise<void> {
    const provisioner = cls.provisioner;
    if (claim.metadata?.annotations?.[ANN_STORAGE_PROVISIONER] !== provisioner || claim.metadata?.annotations?.[ANN_BETA_STORAGE_PROVISIONER] !== provisioner) {
      claim.metadata!.annotations = { ...claim.metadata!.annotations, [ANN_STORAGE_PROVISIONER]: provisioner, [ANN_BETA_STORAGE_PROVISIONER]: provisioner };
      Object.assign(claim, await this.write(() => this.deps.client.update(PERSISTENTVOLUMECLAIMS, claim.metadata!.namespace, claim)) ?? {});
    }
    void this.event(claim, 'Normal', 'ExternalProvisioning',
      `Waiting for a volume to be created either by the external provisioner '${provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`);
  }

  /** Binds volume and claim both ways and sets both phases Bound; each step only when not yet done. */
  private async bind(pv: PV, claim: PVC): Promise<void> {
    const uid = claim.metadata!.uid!;
    const ref = pv.spec?.claimRef;
    if (!ref || ref.uid !== uid || ref.name !== claim.metadata!.name || ref.namespace !== claim.metadata!.namespace) {
      if (!ref) pv.metadata!.annotations = { ...pv.metadata!.annotations, [ANN_BOUND_BY_CONTROLLER]: 'yes' };
      pv.spec = {
        ...pv.spec,
        claimRef: { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: claim.metadata!.namespace, name: claim.metadata!.name, uid, resourceVersion: claim.metadata!.resourceVersion },
      };
      const updated = await this.write(() => this.deps.client.update(PERSISTENTVOLUMES, undefined, pv as PersistentVolume));
      if (!updated) return;
      Object.assign(pv, updated);
      this.log.info({ volume: pv.metadata!.name, claim: claimKey(claim) }, 'bound volume to claim');
    }
    if (pv.status?.phase !== 'Bound') {
      const updated = await this.setVolumePhase(pv, 'Bound');
      if (!updated) return;
      Object.assign(pv, updated);
    }
    if (claim.spec?.volumeName !== pv.metadata!.name || !has(claim, ANN_BIND_COMPLETED)) {
      const annotations: Record<string, string> = { ...claim.metadata!.annotations, [ANN_BIND_COMPLETED]: 'yes' };
      if (!claim.spec?.volumeName) annotations[ANN_BOUND_BY_CONTROLLER] = 'yes';
      claim.metadata!.annotations = annotations;
      claim.spec = { ...claim.spec, volumeName: pv.metadata!.name };
      const updated = await this.write(() => this.deps.client.update(PERSISTENTVOLUMECLAIMS, claim.metadata!.namespace, claim as PersistentVolumeClaim));
      if (!updated) return;
      Object.assign(claim, updated);
      this.log.info({ volume: pv.metadata!.name, claim: claimKey(claim) }, 'bound claim to volume');
    }
    const want = { phase: 'Bound', accessModes: pv.spec?.accessModes ?? [], capacity: pv.spec?.capacity ?? {} };
    const st = claim.status ?? {};
    if (st.phase !== want.phase || JSON.stringify(st.accessModes ?? []) !== JSON.stringify(want.accessModes) || JSON.stringify(st.capacity ?? {}) !== JSON.stringify(want.capacity)) {
      await this.write(() => this.deps.client.update(PERSISTENTVOLUMECLAIMS, claim.metadata!.namespace, { ...claim, status: { ...st, ...want } } as PersistentVolumeClaim, { subresource: 'status' }));
    }
  }

  private async syncVolume(pv: PV): Promise<void> {
    const ref = pv.spec?.claimRef;
    if (!ref || !ref.uid) { await this.setVolumePhase(pv, 'Available'); return; }
    const found = this.claims.get(`${ref.namespace}/${ref.name}`);
    const claim = found && found.metadata?.uid === ref.uid ? found : undefined;
    if (!claim) {
      // The claim may be new and not in our cache yet; a live read decides before the volume is released.
      const live = await this.deps.client.get<PersistentVolumeClaim>(PERSISTENTVOLUMECLAIMS, ref.namespace, ref.name!).catch((err: unknown) => {
        if (err instanceof ApiError && err.isNotFound) return undefined;
        throw err;
      });
      if (live && live.metadata?.uid === ref.uid) return;
      let released: PV = pv;
      if (pv.status?.phase !== 'Released' && pv.status?.phase !== 'Failed') {
        const updated = await this.setVolumePhase(pv, 'Released');
        if (!updated) return;
        released = updated as PV;
      }
      if (released.status?.phase === 'Released') await this.reclaim(released);
      return;
    }
    if (!claim.spec?.volumeName) return; // the claim's sync finishes the binding
    if (claim.spec.volumeName === pv.metadata!.name) {
      await this.setVolumePhase(pv, 'Bound');
      return;
    }
    // The claim is bound to another volume: undo our half-binding, or keep the user's pre-binding without the uid.
    if (has(pv, ANN_BOUND_BY_CONTROLLER)) {
      const annotations = { ...pv.metadata!.annotations };
      delete annotations[ANN_BOUND_BY_CONTROLLER];
      pv.metadata!.annotations = annotations;
      delete pv.spec!.claimRef;
    } else {
      pv.spec!.claimRef = { ...ref, uid: undefined };
    }
    const updated = await this.write(() => this.deps.client.update(PERSISTENTVOLUMES, undefined, pv as PersistentVolume));
    if (updated) await this.setVolumePhase(updated as PV, 'Available');
  }

  /** Upstream's reclaimVolume: Retain keeps, Delete is the provisioner's (or fails), Recycle is not supported. */
  private async reclaim(pv: PV): Promise<void> {
    const policy = pv.spec?.persistentVolumeReclaimPolicy ?? 'Retain';
    if (policy === 'Retain') return;
    if (policy === 'Delete') {
      if (has(pv, ANN_DYNAMICALLY_PROVISIONED)) return; // its provisioner deletes it
      void this.event(pv, 'Warning', 'VolumeFailedDelete', `error getting deleter volume plugin for volume "${pv.metadata!.name}": no deletable volume plugin matched`);
    } else {
      void this.event(pv, 'Warning', 'VolumeFailedRecycle', 'No recycler plugin found for the volume!');
    }
    await this.setVolumePhase(pv, 'Failed');
  }

  private async claimLost(claim: PVC, reason: string, message: string): Promise<void> {
    if (claim.status?.phase === 'Lost') return;
    void this.event(claim, 'Warning', reason, message);
    await this.setClaimPhase(claim, 'Lost');
  }

  private async setClaimPhase(claim: PVC, phase: string): Promise<void> {
    if (claim.status?.phase === phase) return;
    await this.write(() => this.deps.client.update(PERSISTENTVOLUMECLAIMS, claim.metadata!.namespace, { ...claim, status: { ...claim.status, phase } } as PersistentVolumeClaim, { subresource: 'status' }));
  }

  private async setVolumePhase(pv: PV, phase: string): Promise<PersistentVolume | undefined> {
    if (pv.status?.phase === phase) return pv as PersistentVolume;
    // lastPhaseTransitionTime as upstream sets it on every phase change (GA in 1.31).
    const status = { ...pv.status, phase, lastPhaseTransitionTime: rfc3339(new Date(this.clock.now())) };
    return this.write(() => this.deps.client.update(PERSISTENTVOLUMES, undefined, { ...pv, status } as PersistentVolume, { subresource: 'status' }));
  }

  /** One write; a vanished object ends the sync quietly (undefined), anything else is retried by the worker. */
  private async write<T>(fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ApiError && err.isNotFound) return undefined;
      throw err;
    }
  }

  private event(obj: PV | PVC, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const kind = obj.metadata?.namespace ? 'PersistentVolumeClaim' : 'PersistentVolume';
    return this.events.record(eventTarget({ ...obj, apiVersion: 'v1', kind } as never), type, reason, message);
  }
}
