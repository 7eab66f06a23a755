import {
  ApiError, isNamespaceTerminating, byOwnerUid, EventRecorder, eventTarget, getControllerOf, JOBS, labelSelectorRequirements, matchesLabels, newControllerRef,
  objectKey, PODS, realClock, rfc3339, runWorkers, silentLogger, WorkQueue,
  type ApiClient, type Clock, type InformerFactory, type Job, type Logger, type Pod, type SharedInformer,
} from '@k8ts/api';
import { ControllerExpectations } from '../expectations.js';
import { deletionOrder, isPodActive, isPodReady, podFromTemplate, slowStartBatch } from '../pods.js';
import { claim } from '../ref-manager.js';
import {
  backoffRemainingMs, completionIndex, DEFAULT_JOB_POD_FAILURE_BACKOFF_MS, ensureCondition, formatIndexes, hasTrackingFinalizer,
  isJobFinished, JOB_COMPLETION_INDEX_ANNOTATION, JOB_COMPLETION_INDEX_ENV, JOB_INDEX_LABEL, JOB_TRACKING_FINALIZER, matchPodFailurePolicy,
  MAX_JOB_POD_FAILURE_BACKOFF_MS, MAX_POD_CREATE_DELETE_PER_SYNC, MAX_UNCOUNTED_PODS, newCondition, nextBackoffRecord, parseIndexes,
  trueCondition, type BackoffRecord, type JobCondition,
} from './job-util.js';

/** The managedBy value of Jobs this controller owns (upstream's JobControllerName). */
export const JOB_CONTROLLER_NAME = 'kubernetes.io/job-controller';
/** How long pod events are batched before a Job is synced (upstream's syncJobBatchPeriod). */
export const SYNC_JOB_BATCH_PERIOD_MS = 1000;

export interface JobControllerDeps {
  client: ApiClient;
  informers: InformerFactory;
  log?: Logger;
  clock?: Clock;
  /** Delay that batches pod events into one sync (default 1 s, as upstream). */
  syncBatchPeriodMs?: number;
  /** First and largest delay before a failed pod is replaced (10 s and 6 min, as upstream). */
  podFailureBackoffMs?: number;
  maxPodFailureBackoffMs?: number;
}

type JobStatus = NonNullable<Job['status']>;

/** Terminating: being deleted and not yet terminal (upstream's IsPodTerminating). */
function isPodTerminating(pod: Pod): boolean {
  return !!pod.metadata?.deletionTimestamp && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';
}

/** Pods that failed or, without a pod failure policy, are being deleted before they succeeded (upstream's isPodFailed). */
export function isPodFailed(pod: Pod, job: Job): boolean {
  if (pod.status?.phase === 'Failed') return true;
  if (job.spec?.podFailurePolicy || onlyReplaceFailedPods(job)) return false;
  // A pod deleted before it finished (an orphan, an evicted pod) may never reach Failed: it counts as failed.
  return !!pod.metadata?.deletionTimestamp && pod.status?.phase !== 'Succeeded';
}

function onlyReplaceFailedPods(job: Job): boolean {
  return job.spec?.podReplacementPolicy === 'Failed' || !!job.spec?.podFailurePolicy;
}

/** JSON with sorted keys, so that status comparisons never depend on key order. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x)
    ? Object.fromEntries(Object.entries(x as Record<string, unknown>).filter(([, y]) => y !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : x));
}

/** JSON patch operations removing finalizers[i] if it is still ours; the last one takes the (then empty) list with it. */
function removeFinalizerOps(finalizers: readonly string[], i: number): object[] {
  const test = { op: 'test', path: `/metadata/finalizers/${i}`, value: JOB_TRACKING_FINALIZER };
  return finalizers.length === 1
    ? [test, { op: 'remove', path: '/metadata/finalizers' }]
    : [test, { op: 'remove', path: `/metadata/finalizers/${i}` }];
}

/** Drops the counters that are zero and the empty completedIndexes, as upstream's omitempty fields are on the wire. */
function omitZeros(status: JobStatus): void {
  for (const f of ['active', 'succeeded', 'failed'] as const) if (!status[f]) delete status[f];
  if (!status.completedIndexes) delete status.completedIndexes;
}

/** With restartPolicy OnFailure, the container restarts of running pods count against backoffLimit (pastBackoffLimitOnFailure). */
function pastBackoffLimitOnFailure(job: Job, pods: readonly Pod[]): boolean {
  if (job.spec?.template?.spec?.restartPolicy !== 'OnFailure') return false;
  let restarts = 0;
  for (const p of pods) {
    if (p.status?.phase !== 'Running' && p.status?.phase !== 'Pending') continue;
    for (const s of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) restarts += s.restartCount ?? 0;
  }
  const limit = job.spec?.backoffLimit ?? 6;
  return limit === 0 ? restarts > 0 : restarts >= limit;
}

/** What one sync of a Job works with (upstream's syncJobCtx). */
interface SyncCtx {
  key: string;
  job: Job;
  /** The Job as the apiserver last answered it (status writes go on top of its resourceVersion). */
  written: Job;
  pods: Pod[];
  indexed: boolean;
  completions: number;
  finished?: JobCondition;
  uncountedSucceeded: Set<string>;
  uncountedFailed: Set<string>;
  expectedRm: Set<string>;
  succeededIndexes: Set<number>;
  terminating: number;
}

/**
 * Runs Jobs as upstream's job controller (pkg/controller/job): pods up to parallelism until completions succeed
 * (NonIndexed, or Indexed with one pod per completion index), replacements after failures with exponential backoff,
 * backoffLimit, activeDeadlineSeconds, suspend and podFailurePolicy; tracks every pod's result with the
 * `batch.kubernetes.io/job-tracking` finalizer and status.uncountedTerminatedPods so none is lost or counted twice;
 * conditions FailureTarget → Failed and SuccessCriteriaMet → Complete as 1.32.
 */
export class JobController {
  readonly queue: WorkQueue<string>;
  /** Pods whose finalizer must go because their Job is gone or finished (upstream's orphanQueue). */
  readonly orphanQueue: WorkQueue<string>;
  readonly expectations: ControllerExpectations;
  /** Pod uids whose finalizer removal is in flight, by Job key (upstream's uidTrackingExpectations). */
  private readonly finalizerExpectations = new Map<string, Set<string>>();
  private readonly backoff = new Map<string, BackoffRecord>();
  private readonly jobs: SharedInformer<Job>;
  private readonly pods: SharedInformer<Pod>;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly events: EventRecorder;
  private readonly batchMs: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;

  constructor(private readonly deps: JobControllerDeps) {
    this.clock = deps.clock ?? realClock;
    this.log = (deps.log ?? silentLogger).child({ controller: 'job' });
    this.queue = new WorkQueue<string>({ clock: this.clock });
    this.orphanQueue = new WorkQueue<string>({ clock: this.clock });
    this.expectations = new ControllerExpectations(this.clock);
    this.batchMs = deps.syncBatchPeriodMs ?? SYNC_JOB_BATCH_PERIOD_MS;
    this.backoffMs = deps.podFailureBackoffMs ?? DEFAULT_JOB_POD_FAILURE_BACKOFF_MS;
    this.maxBackoffMs = deps.maxPodFailureBackoffMs ?? MAX_JOB_POD_FAILURE_BACKOFF_MS;
    this.events = new EventRecorder({ client: deps.client, component: 'job-controller', log: this.log, now: () => this.clock.now() });
    this.jobs = deps.informers.informerFor<Job>(JOBS);
    this.pods = deps.informers.informerFor<Pod>(PODS, { indexers: { byOwnerUid } });
    this.jobs.addHandler({
      onAdd: (j) => this.queue.add(objectKey(j)),
      onUpdate: (old, j) => this.updateJob(old, j),
      onDelete: (j) => this.deleteJob(j),
    });
    this.pods.addHandler({ onAdd: (p) => this.addPod(p), onUpdate: (o, p) => this.updatePod(o, p), onDelete: (p) => this.deletePod(p, true) });
  }

  /** Waits for the caches, then syncs Jobs with `workers` workers (and orphan pods with one) until the signal aborts. */
  async run(signal: AbortSignal, workers = 5): Promise<void> {
    await Promise.all([this.jobs.waitForSync(signal), this.pods.waitForSync(signal)]).catch(() => undefined);
    if (signal.aborted) return;
    await Promise.all([
      runWorkers(this.queue, (key) => this.sync(key), { workers, log: this.log, signal, keyField: 'job' }),
      runWorkers(this.orphanQueue, (key) => this.syncOrphanPod(key), { workers: 1, log: this.log, signal, keyField: 'pod' }),
    ]);
  }

  private updateJob(old: Job, job: Job): void {
    const key = objectKey(job);
    this.queue.add(key);
    // A new or changed deadline: look again when it passes.
    const ads = job.spec?.activeDeadlineSeconds;
    if (ads && job.status?.startTime && ads !== old.spec?.activeDeadlineSeconds) {
      const left = Date.parse(job.status.startTime) + ads * 1000 - this.clock.now();
      this.queue.addAfter(key, Math.max(0, left));
    }
  }

  private deleteJob(job: Job): void {
    const key = objectKey(job);
    this.expectations.delete(key);
    this.queue.add(key);
    // Its pods' finalizers must go, or they could never be deleted.
    for (const p of this.pods.byIndex('byOwnerUid', job.metadata?.uid ?? '')) {
      if (getControllerOf(p)?.uid === job.metadata?.uid && hasTrackingFinalizer(p)) this.orphanQueue.add(objectKey(p));
    }
  }

  private resolve(pod: Pod, ref = getControllerOf(pod)): Job | undefined {
    if (!ref || ref.kind !== 'Job' || !ref.apiVersion?.startsWith('batch/')) return undefined;
    const job = this.jobs.get(`${pod.metadata!.namespace}/${ref.name}`);
    return job?.metadata?.uid === ref.uid ? job : undefined;
  }

  private enqueueBatched(job: Job): void {
    this.queue.addAfter(objectKey(job), this.batchMs);
  }

  private matchingJobs(pod: Pod): Job[] {
    return this.jobs.lister().listNamespace(pod.metadata?.namespace ?? '').filter((j) => {
      const sel = labelSelectorRequirements(j.spec?.selector as never);
      return !!sel?.length && matchesLabels(sel, pod.metadata?.labels);
    });
  }

  private finalizerRemovalObserved(jobKey: string, uid: string): void {
    this.finalizerExpectations.get(jobKey)?.delete(uid);
  }

  private addPod(pod: Pod): void {
    if (pod.metadata?.deletionTimestamp) { this.deletePod(pod, false); return; }
    const ref = getControllerOf(pod);
    if (ref) {
      const job = this.resolve(pod, ref);
      if (!job) { if (hasTrackingFinalizer(pod)) this.orphanQueue.add(objectKey(pod)); return; }
      this.expectations.creationObserved(objectKey(job));
      this.enqueueBatched(job);
      return;
    }
    if (hasTrackingFinalizer(pod)) this.orphanQueue.add(objectKey(pod));
    for (const job of this.matchingJobs(pod)) this.enqueueBatched(job);
  }

  private updatePod(old: Pod, pod: Pod): void {
    if (old.metadata?.resourceVersion === pod.metadata?.resourceVersion) return;
    if (pod.metadata?.deletionTimestamp) { this.deletePod(pod, false); return; }
    const finalizerRemoved = !hasTrackingFinalizer(pod);
    const oldRef = getControllerOf(old);
    const ref = getControllerOf(pod);
    const refChanged = oldRef?.uid !== ref?.uid;
    if (refChanged && oldRef) {
      const prev = this.resolve(old, oldRef);
      if (prev) {
        if (finalizerRemoved) this.finalizerRemovalObserved(objectKey(prev), pod.metadata!.uid!);
        this.enqueueBatched(prev);
      }
    }
    if (ref) {
      const job = this.resolve(pod, ref);
      if (!job) { if (hasTrackingFinalizer(pod)) this.orphanQueue.add(objectKey(pod)); return; }
      if (finalizerRemoved) this.finalizerRemovalObserved(objectKey(job), pod.metadata!.uid!);
      this.enqueueBatched(job);
      return;
    }
    if (hasTrackingFinalizer(pod)) this.orphanQueue.add(objectKey(pod));
    const labelsChanged = canonical(old.metadata?.labels ?? {}) !== canonical(pod.metadata?.labels ?? {});
    if (labelsChanged || refChanged) for (const job of this.matchingJobs(pod)) this.enqueueBatched(job);
  }

  /** A pod is gone (`final`) or being deleted. */
  private deletePod(pod: Pod, final: boolean): void {
    const job = this.resolve(pod);
    if (!job) { if (hasTrackingFinalizer(pod) && !final) this.orphanQueue.add(objectKey(pod)); return; }
    const key = objectKey(job);
    this.expectations.deletionObserved(key, objectKey(pod));
    // Gone means its finalizer is gone too; an update that only set the deletion timestamp may still carry it.
    if (final || !hasTrackingFinalizer(pod)) this.finalizerRemovalObserved(key, pod.metadata!.uid!);
    this.enqueueBatched(job);
  }

  /** Removes the tracking finalizer of a pod whose Job is gone, finished, or not its controller (syncOrphanPod). */
  async syncOrphanPod(key: string): Promise<void> {
    const pod = this.pods.get(key);
    if (!pod || !hasTrackingFinalizer(pod)) return;
    const ref = getControllerOf(pod);
    if (ref) {
      if (ref.kind !== 'Job' || !ref.apiVersion?.startsWith('batch/')) return;
      const job = this.resolve(pod, ref);
      if (job && job.spec?.managedBy && job.spec.managedBy !== JOB_CONTROLLER_NAME) return;
      if (job && !isJobFinished(job)) return; // adopted, or still running: its Job counts it
    }
    await this.removeFinalizer(pod);
  }

  /** A JSON patch that removes the finalizer only if it is still where we saw it (and the pod is the one we saw). */
  private async removeFinalizer(pod: Pod): Promise<void> {
    const i = pod.metadata?.finalizers?.indexOf(JOB_TRACKING_FINALIZER) ?? -1;
    if (i < 0) return;
    const patch = [
      { op: 'test', path: '/metadata/uid', value: pod.metadata!.uid },
      ...removeFinalizerOps(pod.metadata!.finalizers!, i),
    ];
    try {
      await this.deps.client.patch(PODS, pod.metadata!.namespace, pod.metadata!.name!, patch, 'json');
    } catch (e) {
      if (e instanceof ApiError && e.isNotFound) return;
      // The finalizers moved under us (a 422 from the failed test): look up where it is now and try once more.
      if (e instanceof ApiError && (e.code === 422 || e.isConflict)) {
        const fresh = await this.deps.client.get<Pod>(PODS, pod.metadata!.namespace, pod.metadata!.name!).catch((err: unknown) => {
          if (err instanceof ApiError && err.isNotFound) return undefined;
          throw err;
        });
        if (!fresh || fresh.metadata?.uid !== pod.metadata?.uid) return;
        const j = fresh.metadata?.finalizers?.indexOf(JOB_TRACKING_FINALIZER) ?? -1;
        if (j < 0) return;
        await this.deps.client.patch(PODS, pod.metadata!.namespace, pod.metadata!.name!, removeFinalizerOps(fresh.metadata!.finalizers!, j), 'json');
        return;
      }
      throw e;
    }
  }

  /** Converges one Job by key. Idempotent; never called concurrently for the same key. */
  async sync(key: string): Promise<void> {
    const cached = this.jobs.get(key);
    if (!cached) {
      this.expectations.delete(key);
      this.finalizerExpectations.delete(key);
      this.backoff.delete(key);
      return;
    }
    if (cached.spec?.managedBy && cached.spec.managedBy !== JOB_CONTROLLER_NAME) return;
    if (isJobFinished(cached)) { this.backoff.delete(key); return; }
    const selector = labelSelectorRequirements(cached.spec?.selector as never);
    if (!selector?.length) {
      this.log.warn({ job: key }, 'job has an empty selector: it would match every pod; not syncing it');
      return;
    }
    const job = structuredClone(cached);
    const spec = job.spec!;
    const status: JobStatus = (job.status ??= {});
    const now = this.clock.now();
    const satisfied = this.expectations.satisfied(key);
    const pods = await claim({ client: this.deps.client, owner: job, ownerDef: JOBS, dependentDef: PODS, selector },
      this.pods.lister().listNamespace(job.metadata!.namespace!));
    const indexed = spec.completionMode === 'Indexed';
    const completions = spec.completions ?? 0;
    const ctx: SyncCtx = {
      key, job, written: cached, pods, indexed, completions,
      uncountedSucceeded: new Set(status.uncountedTerminatedPods?.succeeded ?? []),
      uncountedFailed: new Set(status.uncountedTerminatedPods?.failed ?? []),
      expectedRm: new Set(this.finalizerExpectations.get(key) ?? []),
      succeededIndexes: new Set(),
      terminating: pods.filter(isPodTerminating).length,
    };
    const activePods = pods.filter(isPodActive);
    let active = activePods.length;
    let ready = activePods.filter(isPodReady).length;

    // Pods finished since the last count: they still carry the finalizer and are not yet in uncountedTerminatedPods.
    const fresh = (p: Pod) => {
      const uid = p.metadata?.uid ?? '';
      if (!hasTrackingFinalizer(p) || ctx.uncountedSucceeded.has(uid) || ctx.uncountedFailed.has(uid) || ctx.expectedRm.has(uid)) return false;
      if (!indexed) return true;
      const ix = completionIndex(p);
      return ix >= 0 && ix < completions;
    };
    const newSucceeded = pods.filter((p) => fresh(p) && p.status?.phase === 'Succeeded');
    const newFailed = pods.filter((p) => fresh(p) && isPodFailed(p, job));
    let succeeded = (status.succeeded ?? 0) + newSucceeded.length + ctx.uncountedSucceeded.size;
    const failed = (status.failed ?? 0) + ctx.uncountedFailed.size
      + newFailed.filter((p) => matchPodFailurePolicy(spec.podFailurePolicy, p).countFailed).length;

    if (!status.startTime && !spec.suspend) status.startTime = rfc3339(now);
    const backoffRecord = nextBackoffRecord(this.backoff.get(key), newSucceeded, newFailed);

    const successMet = trueCondition(job, 'SuccessCriteriaMet');
    const failureTarget = trueCondition(job, 'FailureTarget');
    if (successMet) {
      ctx.finished = newCondition('Complete', 'True', successMet.reason ?? '', successMet.message ?? '', now);
    } else if (failureTarget) {
      ctx.finished = newCondition('Failed', 'True', failureTarget.reason ?? '', failureTarget.message ?? '', now);
    } else {
      const failJobMessage = spec.podFailurePolicy
        ? pods.filter((p) => isPodFailed(p, job)).map((p) => matchPodFailurePolicy(spec.podFailurePolicy, p).failJobMessage).find(Boolean)
        : undefined;
      if (failJobMessage) {
        ctx.finished = newCondition('FailureTarget', 'True', 'PodFailurePolicy', failJobMessage, now);
      } else if (failed > (spec.backoffLimit ?? 6) || pastBackoffLimitOnFailure(job, pods)) {
        ctx.finished = newCondition('FailureTarget', 'True', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit', now);
      } else if (this.pastActiveDeadline(job, now)) {
        ctx.finished = newCondition('FailureTarget', 'True', 'DeadlineExceeded', 'Job was active longer than specified deadline', now);
      } else if (spec.activeDeadlineSeconds && !spec.suspend && status.startTime) {
        this.queue.addAfter(key, Math.max(0, Date.parse(status.startTime) + spec.activeDeadlineSeconds * 1000 - now));
      }
    }

    if (indexed) {
      ctx.succeededIndexes = parseIndexes(status.completedIndexes, completions);
      for (const p of pods) {
        const uid = p.metadata?.uid ?? '';
        if (p.status?.phase !== 'Succeeded' || !(hasTrackingFinalizer(p) || ctx.uncountedSucceeded.has(uid))) continue;
        const ix = completionIndex(p);
        if (ix >= 0 && ix < completions) ctx.succeededIndexes.add(ix);
      }
      succeeded = ctx.succeededIndexes.size;
    }

    let manageErr: unknown;
    if (ctx.finished) {
      // Failing, or complete with pods left over: delete what still runs; finalizers are removed once counted.
      const { deleted, deletedReady, error } = await this.deleteActivePods(job, activePods);
      if (error || !satisfied) ctx.finished = undefined; // pods may still be missing from the cache: not finished yet
      active -= deleted;
      ready -= deletedReady;
      ctx.terminating += deleted;
      manageErr = error;
    } else {
      let manageCalled = false;
      if (satisfied && !job.metadata?.deletionTimestamp) {
        try {
          active = await this.manageJob(ctx, activePods, succeeded, backoffRecord);
        } catch (e) {
          manageErr = e;
        }
        manageCalled = true;
      }
      const complete = spec.completions === undefined || spec.completions === null
        ? succeeded > 0 && active === 0
        : succeeded >= spec.completions && active === 0;
      if (complete) {
        ctx.finished = newCondition('SuccessCriteriaMet', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods', now);
      } else if (manageCalled) {
        if (spec.suspend) {
          if (ensureCondition(job, 'Suspended', 'True', 'JobSuspended', 'Job suspended', now)) {
            void this.events.record(eventTarget(job), 'Normal', 'Suspended', 'Job suspended');
          }
        } else if (ensureCondition(job, 'Suspended', 'False', 'JobResumed', 'Job resumed', now)) {
          void this.events.record(eventTarget(job), 'Normal', 'Resumed', 'Job resumed');
          // activeDeadlineSeconds counts the time a Job is continuously active: resuming restarts the clock.
          status.startTime = rfc3339(now);
        }
      }
    }
    status.active = active;
    status.ready = ready;
    status.terminating = ctx.terminating;
    await this.trackJobStatusAndRemoveFinalizers(ctx);
    this.backoff.set(key, backoffRecord);
    if (manageErr) throw manageErr;
  }

  private pastActiveDeadline(job: Job, now: number): boolean {
    const ads = job.spec?.activeDeadlineSeconds;
    if (!ads || !job.status?.startTime || job.spec?.suspend) return false;
    return now - Date.parse(job.status.startTime) >= ads * 1000;
  }

  /**
   * Creates or deletes pods towards min(parallelism, completions left) (upstream's manageJob); a suspended Job
   * keeps none. Answers the number of active pods after it.
   */
  private async manageJob(ctx: SyncCtx, activePods: Pod[], succeeded: number, backoffRecord: BackoffRecord): Promise<number> {
    const { job, key } = ctx;
    const spec = job.spec!;
    let active = activePods.length;
    if (spec.suspend) {
      const { deleted, error } = await this.deleteJobPods(job, activePods);
      ctx.terminating += deleted;
      if (error) throw error;
      return active - deleted;
    }
    const parallelism = spec.parallelism ?? 1;
    let wantActive: number;
    if (spec.completions === undefined || spec.completions === null) {
      // Work-queue Jobs: once one pod succeeded, no new ones; the others are left to finish.
      wantActive = succeeded > 0 ? active : parallelism;
    } else {
      wantActive = Math.max(0, Math.min(spec.completions - succeeded, parallelism));
    }
    const toDelete = this.activePodsForRemoval(ctx, activePods, Math.max(0, active - wantActive)).slice(0, MAX_POD_CREATE_DELETE_PER_SYNC);
    if (toDelete.length) {
      const { deleted, error } = await this.deleteJobPods(job, toDelete);
      ctx.terminating += deleted;
      if (error) throw error;
      return active - deleted;
    }
    let diff = wantActive - active;
    if (onlyReplaceFailedPods(job)) diff -= ctx.terminating;
    if (diff <= 0) return active;
    const wait = backoffRemainingMs(backoffRecord, this.clock.now(), this.backoffMs, this.maxBackoffMs);
    if (wait > 0) {
      this.log.debug({ job: key, waitMs: wait }, 'waiting out the pod failure backoff');
      this.queue.addAfter(key, wait);
      return active;
    }
    diff = Math.min(diff, MAX_POD_CREATE_DELETE_PER_SYNC);
    let indexes: number[] = [];
    if (ctx.indexed) {
      indexes = this.firstPendingIndexes(ctx, activePods, diff);
      diff = indexes.length;
      if (diff === 0) return active;
    }
    this.expectations.expect(key, diff);
    const ref = newControllerRef(job, JOBS);
    let next = 0;
    const { successes, error } = await slowStartBatch(diff, async () => {
      const index = ctx.indexed ? indexes[next++] : -1;
      const pod = this.podFor(job, ref, index);
      try {
        const created = await this.deps.client.create<Pod>(PODS, job.metadata!.namespace, pod);
        void this.events.record(eventTarget(job), 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata!.name}`);
      } catch (e) {
        // The namespace is being deleted: nothing to retry.
        if (isNamespaceTerminating(e)) return;
        void this.events.record(eventTarget(job), 'Warning', 'FailedCreate', `Error creating: ${(e as Error).message}`);
        throw e;
      }
    });
    for (let i = successes; i < diff; i++) this.expectations.creationObserved(key);
    active += successes;
    if (error) throw error;
    return active;
  }

  /** A pod from the Job's template with the tracking finalizer; for Indexed Jobs with its index, hostname and env. */
  private podFor(job: Job, ref: ReturnType<typeof newControllerRef>, index: number): Pod {
    const name = job.metadata!.name!;
    const pod = podFromTemplate(job.spec?.template, name, ref);
    const meta = pod.metadata!;
    meta.finalizers = [...(meta.finalizers ?? []).filter((f) => f !== JOB_TRACKING_FINALIZER), JOB_TRACKING_FINALIZER];
    if (index < 0) return pod;
    meta.generateName = `${name}-${index}-`;
    meta.annotations = { ...meta.annotations, [JOB_COMPLETION_INDEX_ANNOTATION]: String(index) };
    meta.labels = { ...meta.labels, [JOB_INDEX_LABEL]: String(index) };
    const podSpec = pod.spec!;
    if (!podSpec.hostname) podSpec.hostname = `${name}-${index}`;
    const env = { name: JOB_COMPLETION_INDEX_ENV, valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${JOB_COMPLETION_INDEX_ANNOTATION}']` } } };
    for (const c of [...(podSpec.initContainers ?? []), ...podSpec.containers]) {
      if (!c.env?.some((e) => e.name === JOB_COMPLETION_INDEX_ENV)) c.env = [...(c.env ?? []), structuredClone(env)];
    }
    return pod;
  }

  /** The lowest indexes that have neither succeeded nor an active pod (upstream's firstPendingIndexes). */
  private firstPendingIndexes(ctx: SyncCtx, activePods: Pod[], count: number): number[] {
    const taken = new Set(ctx.succeededIndexes);
    for (const p of activePods) taken.add(completionIndex(p));
    if (onlyReplaceFailedPods(ctx.job)) for (const p of ctx.pods.filter(isPodTerminating)) taken.add(completionIndex(p));
    const out: number[] = [];
    for (let i = 0; i < ctx.completions && out.length < count; i++) if (!taken.has(i)) out.push(i);
    return out;
  }

  /**
   * The pods to delete (upstream's activePodsForRemoval): for Indexed Jobs first those with a bad, succeeded or
   * repeated index; then `atLeast` of the rest in the order controllers delete pods.
   */
  private activePodsForRemoval(ctx: SyncCtx, activePods: Pod[], atLeast: number): Pod[] {
    let rest = activePods;
    const out: Pod[] = [];
    if (ctx.indexed) {
      const seen = new Set<number>();
      rest = [];
      for (const p of deletionOrder(activePods, new Map(), this.clock.now()).reverse()) {
        const ix = completionIndex(p);
        if (ix < 0 || ix >= ctx.completions || ctx.succeededIndexes.has(ix) || seen.has(ix)) out.push(p);
        else { seen.add(ix); rest.push(p); }
      }
    }
    const more = Math.max(0, atLeast - out.length);
    return more ? [...out, ...deletionOrder(rest, new Map(), this.clock.now()).slice(0, more)] : out;
  }

  /** Deletes pods the Job no longer wants, their finalizer removed first: they are not results (deleteJobPods). */
  private async deleteJobPods(job: Job, pods: Pod[]): Promise<{ deleted: number; error?: unknown }> {
    const key = objectKey(job);
    this.expectations.expect(key, 0, pods.map(objectKey));
    const results = await Promise.allSettled(pods.map(async (pod) => {
      try {
        await this.removeFinalizer(pod);
        await this.deps.client.delete(PODS, pod.metadata!.namespace, pod.metadata!.name!);
        void this.events.record(eventTarget(job), 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata!.name}`);
      } catch (e) {
        this.expectations.deletionObserved(key, objectKey(pod));
        if (e instanceof ApiError && e.isNotFound) return;
        void this.events.record(eventTarget(job), 'Warning', 'FailedDelete', `Error deleting: ${(e as Error).message}`);
        throw e;
      }
    }));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    return { deleted: pods.length - failed.length, error: failed[0]?.reason };
  }

  /** Deletes the active pods of a failing Job, keeping their finalizers: they are counted as failed (deleteActivePods). */
  private async deleteActivePods(job: Job, pods: Pod[]): Promise<{ deleted: number; deletedReady: number; error?: unknown }> {
    let deleted = 0; let deletedReady = 0; let error: unknown;
    await Promise.all(pods.map(async (pod) => {
      try {
        await this.deps.client.delete(PODS, pod.metadata!.namespace, pod.metadata!.name!);
        deleted++;
        if (isPodReady(pod)) deletedReady++;
      } catch (e) {
        if (e instanceof ApiError && e.isNotFound) { deleted++; return; }
        error ??= e;
      }
    }));
    return { deleted, deletedReady, error };
  }

  /**
   * Counts finished pods without ever losing or double-counting one (upstream's trackJobStatusAndRemoveFinalizers):
   * their uids go into status.uncountedTerminatedPods first, then their finalizers are removed, then they move to
   * the succeeded/failed counters; the terminal condition is set only once nothing is uncounted or terminating.
   */
  private async trackJobStatusAndRemoveFinalizers(ctx: SyncCtx): Promise<void> {
    const { job, pods, indexed, completions } = ctx;
    const status = job.status!;
    const spec = job.spec!;
    const uidsWithFinalizer = new Set<string>([...ctx.expectedRm]);
    for (const p of pods) if (hasTrackingFinalizer(p)) uidsWithFinalizer.add(p.metadata!.uid!);
    const uncountedSucceeded = [...ctx.uncountedSucceeded];
    const uncountedFailed = [...ctx.uncountedFailed];
    const toRemove: Pod[] = [];
    let needsFlush = false;
    let reachedMax = false;
    const failing = !!ctx.finished && ctx.finished.type !== 'SuccessCriteriaMet' && ctx.finished.type !== 'Complete';
    for (const pod of pods) {
      const uid = pod.metadata!.uid!;
      if (!hasTrackingFinalizer(pod) || ctx.expectedRm.has(uid)) continue;
      const considerFailed = isPodFailed(pod, job);
      const canRemove = !!job.metadata?.deletionTimestamp || !!ctx.finished || pod.status?.phase === 'Succeeded' || considerFailed;
      if (!canRemove) continue;
      toRemove.push(pod);
      const ix = completionIndex(pod);
      if (pod.status?.phase === 'Succeeded' && !ctx.uncountedFailed.has(uid)) {
        if (indexed) {
          // The index is enough to never count a success twice: no uid to track.
          if (ix >= 0 && ix < completions && !ctx.succeededIndexes.has(ix)) { ctx.succeededIndexes.add(ix); needsFlush = true; }
        } else if (!ctx.uncountedSucceeded.has(uid)) {
          uncountedSucceeded.push(uid);
          needsFlush = true;
        }
      } else if (considerFailed || failing) {
        // Once the Job is failing, every pod not yet terminal counts as failed.
        if (!ctx.uncountedFailed.has(uid) && (!indexed || (ix >= 0 && ix < completions))) {
          if (matchPodFailurePolicy(spec.podFailurePolicy, pod).countFailed) { uncountedFailed.push(uid); needsFlush = true; }
        }
      }
      if (uncountedSucceeded.length + uncountedFailed.length >= MAX_UNCOUNTED_PODS) { reachedMax = true; break; }
    }
    if (indexed) {
      status.completedIndexes = formatIndexes(ctx.succeededIndexes);
      status.succeeded = ctx.succeededIndexes.size;
    }
    status.uncountedTerminatedPods = {
      ...(uncountedSucceeded.length ? { succeeded: uncountedSucceeded } : {}),
      ...(uncountedFailed.length ? { failed: uncountedFailed } : {}),
    };
    if (ctx.finished?.type === 'FailureTarget') {
      // The reason is recorded before any finalizer goes, so a restart cannot lose why the Job fails.
      (status.conditions ??= []).push(ctx.finished);
      needsFlush = true;
      ctx.finished = newCondition('Failed', 'True', ctx.finished.reason ?? '', ctx.finished.message ?? '', this.clock.now());
    }
    if (ctx.finished?.type === 'SuccessCriteriaMet') {
      if (!trueCondition(job, 'SuccessCriteriaMet')) { (status.conditions ??= []).push(ctx.finished); needsFlush = true; }
      ctx.finished = newCondition('Complete', 'True', ctx.finished.reason ?? '', ctx.finished.message ?? '', this.clock.now());
    }
    if (needsFlush) { omitZeros(status); await this.writeStatus(ctx); }

    // Remove the finalizers, remembering the removals we wait to see.
    let rmError: unknown;
    if (toRemove.length) {
      const expected = this.finalizerExpectations.get(ctx.key) ?? new Set<string>();
      this.finalizerExpectations.set(ctx.key, expected);
      for (const p of toRemove) expected.add(p.metadata!.uid!);
      await Promise.all(toRemove.map(async (p) => {
        try {
          await this.removeFinalizer(p);
          uidsWithFinalizer.delete(p.metadata!.uid!);
        } catch (e) {
          expected.delete(p.metadata!.uid!);
          rmError ??= e;
        }
      }));
    }
    // Uids whose pods no longer carry the finalizer move to the counters.
    const unc = status.uncountedTerminatedPods;
    const keepS = (unc.succeeded ?? []).filter((u) => uidsWithFinalizer.has(u));
    const keepF = (unc.failed ?? []).filter((u) => uidsWithFinalizer.has(u));
    status.succeeded = indexed ? status.succeeded : (status.succeeded ?? 0) + (unc.succeeded?.length ?? 0) - keepS.length;
    status.failed = (status.failed ?? 0) + (unc.failed?.length ?? 0) - keepF.length;
    status.uncountedTerminatedPods = { ...(keepS.length ? { succeeded: keepS } : {}), ...(keepF.length ? { failed: keepF } : {}) };

    let finishedNow = false;
    if (!reachedMax && !rmError && ctx.finished && keepS.length + keepF.length === 0 && ctx.terminating === 0) {
      ensureCondition(job, ctx.finished.type, 'True', ctx.finished.reason ?? '', ctx.finished.message ?? '', this.clock.now());
      if (ctx.finished.type === 'Complete') status.completionTime = rfc3339(this.clock.now());
      finishedNow = true;
    }
    omitZeros(status);
    await this.writeStatus(ctx);
    if (finishedNow) {
      if (ctx.finished!.type === 'Complete') void this.events.record(eventTarget(job), 'Normal', 'Completed', 'Job completed');
      else void this.events.record(eventTarget(job), 'Warning', ctx.finished!.reason ?? 'Failed', ctx.finished!.message ?? '');
    }
    if (rmError) throw rmError;
  }

  /** Writes the Job's status through `/status` when it differs from what the apiserver last answered. */
  private async writeStatus(ctx: SyncCtx): Promise<void> {
    if (canonical(ctx.written.status ?? {}) === canonical(ctx.job.status ?? {})) return;
    try {
      ctx.written = await this.deps.client.update<Job>(JOBS, ctx.job.metadata!.namespace, { ...ctx.written, status: ctx.job.status }, { subresource: 'status' });
    } catch (e) {
      throw new Error(`updating the status of job ${ctx.key}: ${(e as Error).message}`, { cause: e });
    }
  }
}
