import {
  ApiError, CRONJOBS, EventRecorder, eventTarget, getControllerOf, JOBS, newControllerRef, objectKey, realClock, runWorkers, silentLogger,
  WorkQueue, type ApiClient, type Clock, type CronJob, type InformerFactory, type Job, type Logger, type SharedInformer,
} from '@k8ts/api';
import { formatInZone, mostRecentScheduleTime, nextScheduleDelay, parseSchedule, type Schedule } from './schedule.js';

/** The annotation a CronJob's Job carries: its scheduled time, RFC 3339 in the CronJob's time zone. */
export const CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

export interface CronJobControllerDeps {
  client: ApiClient;
  informers: InformerFactory;
  log?: Logger;
  clock?: Clock;
}

type ObjectRef = NonNullable<NonNullable<CronJob['status']>['active']>[number];

/** Complete or Failed, and which (upstream's getFinishedStatus). */
function finishedType(job: Job): 'Complete' | 'Failed' | undefined {
  for (const c of job.status?.conditions ?? []) {
    if ((c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') return c.type;
  }
  return undefined;
}

/** `<cronjob>-<scheduled time in minutes since the epoch>` (upstream's getJobName): one name per scheduled time. */
export function jobNameFor(cronJobName: string, scheduledTime: number): string {
  return `${cronJobName}-${Math.floor(scheduledTime / 60_000)}`;
}

/** Oldest first by status.startTime, jobs that never started last, then by name (upstream's byJobStartTime). */
function byStartTime(a: Job, b: Job): number {
  const sa = a.status?.startTime; const sb = b.status?.startTime;
  if (!sa && sb) return 1;
  if (sa && !sb) return -1;
  if (sa && sb && sa !== sb) return Date.parse(sa) - Date.parse(sb);
  return (a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1;
}

/**
 * Starts Jobs on a cron schedule as upstream's CronJob controller (cronjob_controllerv2): the most recent missed
 * activation only (too many missed → a TooManyMissedTimes warning), within startingDeadlineSeconds, honouring
 * concurrencyPolicy and suspend; keeps status.active, lastScheduleTime and lastSuccessfulTime; removes finished
 * Jobs beyond the history limits; and requeues each CronJob at its next activation rather than polling.
 */
export class CronJobController {
  readonly queue: WorkQueue<string>;
  private readonly cronJobs: SharedInformer<CronJob>;
  private readonly jobs: SharedInformer<Job>;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly events: EventRecorder;

  constructor(private readonly deps: CronJobControllerDeps) {
    this.clock = deps.clock ?? realClock;
    this.log = (deps.log ?? silentLogger).child({ controller: 'cronjob' });
    this.queue = new WorkQueue<string>({ clock: this.clock });
    this.events = new EventRecorder({ client: deps.client, component: 'cronjob-controller', log: this.log, now: () => this.clock.now() });
    this.cronJobs = deps.informers.informerFor<CronJob>(CRONJOBS);
    this.jobs = deps.informers.informerFor<Job>(JOBS);
    this.cronJobs.addHandler({
      onAdd: (cj) => this.queue.add(objectKey(cj)),
      onUpdate: (old, cj) => this.updateCronJob(old, cj),
      onDelete: (cj) => this.queue.add(objectKey(cj)),
    });
    const enqueueOwner = (job: Job) => {
      const ref = getControllerOf(job);
      if (ref?.kind !== 'CronJob') return;
      const cj = this.cronJobs.get(`${job.metadata!.namespace}/${ref.name}`);
      if (cj?.metadata?.uid === ref.uid) this.queue.add(objectKey(cj));
    };
    this.jobs.addHandler({
      onAdd: enqueueOwner,
      onUpdate: (old, job) => {
        if (old.metadata?.resourceVersion === job.metadata?.resourceVersion) return;
        if (getControllerOf(old)?.uid !== getControllerOf(job)?.uid) enqueueOwner(old);
        enqueueOwner(job);
      },
      onDelete: enqueueOwner,
    });
  }

  /** Waits for the caches, then syncs with `workers` workers until the signal aborts. */
  async run(signal: AbortSignal, workers = 5): Promise<void> {
    await Promise.all([this.cronJobs.waitForSync(signal), this.jobs.waitForSync(signal)]).catch(() => undefined);
    if (signal.aborted) return;
    await runWorkers(this.queue, (key) => this.sync(key), { workers, log: this.log, signal, keyField: 'cronjob' });
  }

  /** A changed schedule or time zone: look again at the new next activation; anything else: now. */
  private updateCronJob(old: CronJob, cj: CronJob): void {
    const key = objectKey(cj);
    if (old.spec?.schedule !== cj.spec?.schedule || old.spec?.timeZone !== cj.spec?.timeZone) {
      try {
        const s = parseSchedule(cj.spec?.schedule ?? '', cj.spec?.timeZone);
        this.queue.addAfter(key, Math.max(0, nextScheduleDelay(s, this.clock.now(), this.times(cj))));
        return;
      } catch {
        // an unparseable schedule is reported by sync
      }
    }
    this.queue.add(key);
  }

  private times(cj: CronJob): { lastScheduleTime?: number; creationTime: number } {
    const last = cj.status?.lastScheduleTime;
    return { lastScheduleTime: last ? Date.parse(last) : undefined, creationTime: Date.parse(cj.metadata?.creationTimestamp ?? '') || this.clock.now() };
  }

  /** Converges one CronJob by key. Idempotent; never called concurrently for the same key. */
  async sync(key: string): Promise<void> {
    const cached = this.cronJobs.get(key);
    if (!cached) return;
    const cj = structuredClone(cached);
    const jobs = this.jobs.lister().listNamespace(cj.metadata!.namespace!)
      .filter((j) => getControllerOf(j)?.uid === cj.metadata?.uid);
    let updateStatus = await this.cleanupFinishedJobs(cj, jobs);
    let requeueAfter: number | undefined;
    let syncErr: unknown;
    try {
      const r = await this.syncCronJob(cj, jobs);
      requeueAfter = r.requeueAfter;
      updateStatus ||= r.updateStatus;
    } catch (e) {
      syncErr = e;
      updateStatus = true;
    }
    if (updateStatus && JSON.stringify(cj.status ?? {}) !== JSON.stringify(cached.status ?? {})) {
      try {
        await this.deps.client.update<CronJob>(CRONJOBS, cj.metadata!.namespace, cj, { subresource: 'status' });
      } catch (e) {
        if (!(e instanceof ApiError && e.isNotFound)) throw new Error(`updating the status of cronjob ${key}: ${(e as Error).message}`, { cause: e });
      }
    }
    if (requeueAfter !== undefined) this.queue.addAfter(key, Math.max(0, requeueAfter));
    if (syncErr) throw syncErr;
  }

  private async syncCronJob(cj: CronJob, jobs: Job[]): Promise<{ requeueAfter?: number; updateStatus: boolean }> {
    const status = (cj.status ??= {});
    let updateStatus = false;
    const now = this.clock.now();
    const children = new Set<string>();
    for (const j of jobs) {
      const uid = j.metadata!.uid!;
      children.add(uid);
      const inActive = (status.active ?? []).some((r) => r.uid === uid);
      const finished = finishedType(j);
      if (!inActive && !finished) {
        // Created by us before a crash, or by someone wanting us to adopt it: say so, as upstream, and leave it.
        const fresh = await this.deps.client.get<CronJob>(CRONJOBS, cj.metadata!.namespace, cj.metadata!.name!).catch(() => undefined);
        if (fresh?.status?.active?.some((r) => r.uid === uid)) {
          // Our cache was behind our own status write: take the fresh status.
          for (const k of Object.keys(status)) delete status[k as keyof typeof status];
          Object.assign(status, structuredClone(fresh.status));
          cj.metadata = { ...cj.metadata, resourceVersion: fresh.metadata?.resourceVersion };
          continue;
        }
        void this.events.record(eventTarget(cj), 'Warning', 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${j.metadata!.name}`);
      } else if (inActive && finished) {
        status.active = status.active!.filter((r) => r.uid !== uid);
        void this.events.record(eventTarget(cj), 'Normal', 'SawCompletedJob', `Saw completed job: ${j.metadata!.name}, condition: ${finished}`);
        updateStatus = true;
      }
      if (finished === 'Complete' && j.status?.completionTime) {
        const done = j.status.completionTime;
        if (!status.lastSuccessfulTime || Date.parse(done) > Date.parse(status.lastSuccessfulTime)) {
          status.lastSuccessfulTime = done;
          updateStatus = true;
        }
      }
    }
    // An active Job that is gone (asked of the apiserver: the cache may just be slow) leaves the list.
    for (const ref of [...(status.active ?? [])]) {
      if (children.has(ref.uid ?? '')) continue;
      try {
        await this.deps.client.get<Job>(JOBS, ref.namespace, ref.name!);
      } catch (e) {
        if (!(e instanceof ApiError && e.isNotFound)) throw e;
        void this.events.record(eventTarget(cj), 'Normal', 'MissingJob', `Active job went missing: ${ref.name}`);
        status.active = status.active!.filter((r) => r.uid !== ref.uid);
        updateStatus = true;
      }
    }
    if (status.active?.length === 0) delete status.active;
    if (cj.metadata?.deletionTimestamp) return { updateStatus };
    const spec = cj.spec!;
    if (spec.timeZone) {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: spec.timeZone });
      } catch (e) {
        void this.events.record(eventTarget(cj), 'Warning', 'UnknownTimeZone', `invalid timeZone: "${spec.timeZone}": ${(e as Error).message}`);
        return { updateStatus };
      }
    }
    if (spec.suspend) return { updateStatus };
    let sched: Schedule;
    try {
      sched = parseSchedule(spec.schedule, spec.timeZone);
    } catch (e) {
      void this.events.record(eventTarget(cj), 'Warning', 'UnparseableSchedule', `unparseable schedule: "${spec.schedule}" : ${(e as Error).message}`);
      return { updateStatus };
    }
    const times = this.times(cj);
    let scheduled: number | undefined;
    try {
      const r = mostRecentScheduleTime(sched, now, { ...times, startingDeadlineSeconds: spec.startingDeadlineSeconds });
      scheduled = r.mostRecent !== undefined && r.mostRecent <= now ? r.mostRecent : undefined;
      if (scheduled !== undefined && r.missed === 'many') {
        void this.events.record(eventTarget(cj), 'Warning', 'TooManyMissedTimes',
          'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
        this.log.info({ cronjob: objectKey(cj) }, 'too many missed times');
      }
    } catch (e) {
      void this.events.record(eventTarget(cj), 'Warning', 'InvalidSchedule', `invalid schedule: ${spec.schedule} : ${(e as Error).message}`);
      return { updateStatus };
    }
    const next = () => nextScheduleDelay(sched, now, this.times(cj));
    // Nothing due: the queue was filled after a restart; come back at the next activation.
    if (scheduled === undefined) return { requeueAfter: next(), updateStatus };
    if (spec.startingDeadlineSeconds !== undefined && spec.startingDeadlineSeconds !== null
      && scheduled + spec.startingDeadlineSeconds * 1000 < now) {
      void this.events.record(eventTarget(cj), 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${new Date(scheduled).toUTCString().replace('GMT', '+0000')}`);
      return { requeueAfter: next(), updateStatus };
    }
    const name = jobNameFor(cj.metadata!.name!, scheduled);
    if ((status.active ?? []).some((r) => r.name === name) || (status.lastScheduleTime && Date.parse(status.lastScheduleTime) === scheduled)) {
      return { requeueAfter: next(), updateStatus };
    }
    if (spec.concurrencyPolicy === 'Forbid' && (status.active?.length ?? 0) > 0) {
      void this.events.record(eventTarget(cj), 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      return { requeueAfter: next(), updateStatus };
    }
    if (spec.concurrencyPolicy === 'Replace') {
      for (const ref of [...(status.active ?? [])]) {
        let job: Job;
        try {
          job = await this.deps.client.get<Job>(JOBS, ref.namespace, ref.name!);
        } catch (e) {
          void this.events.record(eventTarget(cj), 'Warning', 'FailedGet', `Get job: ${(e as Error).message}`);
          throw e;
        }
        await this.deleteJob(cj, job);
        updateStatus = true;
      }
    }
    const created = await this.createJob(cj, scheduled, name);
    (status.active ??= []).push(this.refOf(created));
    status.lastScheduleTime = new Date(scheduled).toISOString().replace(/\.\d+Z$/, 'Z');
    return { requeueAfter: next(), updateStatus: true };
  }

  /** Creates the Job for `scheduled` (upstream's getJobFromTemplate2); an existing one of ours is taken as it is. */
  private async createJob(cj: CronJob, scheduled: number, name: string): Promise<Job> {
    const template = cj.spec!.jobTemplate;
    const job: Job = {
      apiVersion: 'batch/v1', kind: 'Job',
      metadata: {
        name, namespace: cj.metadata!.namespace,
        labels: { ...template.metadata?.labels },
        annotations: { ...template.metadata?.annotations, [CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION]: formatInZone(scheduled, cj.spec!.timeZone) },
        ownerReferences: [newControllerRef(cj, CRONJOBS)],
      },
      spec: structuredClone(template.spec),
    };
    try {
      const created = await this.deps.client.create<Job>(JOBS, cj.metadata!.namespace, job);
      void this.events.record(eventTarget(cj), 'Normal', 'SuccessfulCreate', `Created job ${created.metadata!.name}`);
      return created;
    } catch (e) {
      if (e instanceof ApiError && e.code === 409 && e.reason === 'AlreadyExists') {
        const existing = await this.deps.client.get<Job>(JOBS, cj.metadata!.namespace, name);
        if (getControllerOf(existing)?.uid !== cj.metadata?.uid) throw new Error(`job ${cj.metadata!.namespace}/${name} already exists but is not controlled by cronjob ${cj.metadata!.name}`);
        this.log.info({ cronjob: objectKey(cj), job: name }, 'job already exists');
        return existing;
      }
      if (!(e instanceof ApiError && e.code === 403 && /being terminated|is terminating/.test(e.message))) {
        void this.events.record(eventTarget(cj), 'Warning', 'FailedCreate', `Error creating job: ${(e as Error).message}`);
      }
      throw e;
    }
  }

  private refOf(job: Job): ObjectRef {
    return { kind: 'Job', namespace: job.metadata!.namespace, name: job.metadata!.name, uid: job.metadata!.uid, apiVersion: 'batch/v1', resourceVersion: job.metadata!.resourceVersion };
  }

  /** Deletes a Job in the background (its pods go through the garbage collector) and drops it from status.active. */
  private async deleteJob(cj: CronJob, job: Job): Promise<void> {
    try {
      await this.deps.client.delete(JOBS, job.metadata!.namespace, job.metadata!.name!, { propagationPolicy: 'Background' });
    } catch (e) {
      if (!(e instanceof ApiError && e.isNotFound)) {
        void this.events.record(eventTarget(cj), 'Warning', 'FailedDelete', `Deleted job: ${(e as Error).message}`);
        throw e;
      }
    }
    if (cj.status?.active) {
      cj.status.active = cj.status.active.filter((r) => r.uid !== job.metadata?.uid);
      if (cj.status.active.length === 0) delete cj.status.active;
    }
    void this.events.record(eventTarget(cj), 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata!.name}`);
  }

  /** Removes the oldest finished Jobs beyond successfulJobsHistoryLimit and failedJobsHistoryLimit (cleanupFinishedJobs). */
  private async cleanupFinishedJobs(cj: CronJob, jobs: Job[]): Promise<boolean> {
    const spec = cj.spec!;
    if (spec.successfulJobsHistoryLimit == null && spec.failedJobsHistoryLimit == null) return false;
    let changed = false;
    const prune = async (list: Job[], limit: number | null | undefined) => {
      if (limit == null || list.length <= limit) return;
      for (const job of list.sort(byStartTime).slice(0, list.length - limit)) {
        if (job.metadata?.deletionTimestamp) continue;
        try {
          await this.deleteJob(cj, job);
          changed = true;
        } catch (e) {
          this.log.warn({ cronjob: objectKey(cj), job: job.metadata!.name, err: e }, 'could not delete a job past the history limit');
        }
      }
    };
    await prune(jobs.filter((j) => finishedType(j) === 'Complete'), spec.successfulJobsHistoryLimit);
    await prune(jobs.filter((j) => finishedType(j) === 'Failed'), spec.failedJobsHistoryLimit);
    return changed;
  }
}
