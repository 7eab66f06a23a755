import {
  ApiError, JOBS, objectKey, realClock, runWorkers, silentLogger, WorkQueue,
  type ApiClient, type Clock, type InformerFactory, type Job, type Logger, type SharedInformer,
} from '@k8ts/api';

export interface TTLAfterFinishedControllerDeps {
  client: ApiClient;
  informers: InformerFactory;
  log?: Logger;
  clock?: Clock;
}

/** ttlSecondsAfterFinished is set and the Job is Complete or Failed (upstream's needsCleanup). */
function needsCleanup(job: Job): boolean {
  return job.spec?.ttlSecondsAfterFinished != null && (job.status?.conditions ?? [])
    .some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

/** When the Job finished: the lastTransitionTime of its Complete or Failed condition (jobFinishTime). */
export function jobFinishTime(job: Job): number {
  const c = job.status?.conditions?.find((x) => (x.type === 'Complete' || x.type === 'Failed') && x.status === 'True');
  const t = c?.lastTransitionTime ? Date.parse(c.lastTransitionTime) : NaN;
  if (Number.isNaN(t)) throw new Error(`unable to find the time when the Job ${objectKey(job)} finished`);
  return t;
}

/**
 * Deletes finished Jobs once their ttlSecondsAfterFinished has passed, as upstream's TTL-after-finished controller:
 * requeued at the expiry time, rechecked against a fresh read before the delete, deleted in the foreground with
 * a uid precondition (so a Job re-created under the name, or given a longer TTL, is left alone).
 */
export class TTLAfterFinishedController {
  readonly queue: WorkQueue<string>;
  private readonly jobs: SharedInformer<Job>;
  private readonly log: Logger;
  private readonly clock: Clock;

  constructor(private readonly deps: TTLAfterFinishedControllerDeps) {
    this.clock = deps.clock ?? realClock;
    this.log = (deps.log ?? silentLogger).child({ controller: 'ttl-after-finished' });
    this.queue = new WorkQueue<string>({ clock: this.clock });
    this.jobs = deps.informers.informerFor<Job>(JOBS);
    const enqueue = (job: Job) => { if (!job.metadata?.deletionTimestamp && needsCleanup(job)) this.queue.add(objectKey(job)); };
    this.jobs.addHandler({ onAdd: enqueue, onUpdate: (_old, job) => enqueue(job) });
  }

  /** Waits for the cache, then works with `workers` workers until the signal aborts. */
  async run(signal: AbortSignal, workers = 5): Promise<void> {
    await this.jobs.waitForSync(signal).catch(() => undefined);
    if (signal.aborted) return;
    await runWorkers(this.queue, (key) => this.sync(key), { workers, log: this.log, signal, keyField: 'job' });
  }

  /** Deletes the Job under `key` if its TTL truly expired, or requeues it for when it will (processJob). */
  async sync(key: string): Promise<void> {
    const job = this.jobs.get(key);
    if (!job || !this.expired(key, job)) return;
    // The cached TTL may be stale: decide on a fresh read.
    let fresh: Job;
    try {
      fresh = await this.deps.client.get<Job>(JOBS, job.metadata!.namespace, job.metadata!.name!);
    } catch (e) {
      if (e instanceof ApiError && e.isNotFound) return;
      throw e;
    }
    if (!this.expired(key, fresh)) return;
    this.log.info({ job: key }, 'cleaning up a finished job past its ttlSecondsAfterFinished');
    try {
      await this.deps.client.delete(JOBS, fresh.metadata!.namespace, fresh.metadata!.name!, {
        propagationPolicy: 'Foreground', preconditions: { uid: fresh.metadata!.uid },
      });
    } catch (e) {
      if (e instanceof ApiError && e.isNotFound) return;
      throw e;
    }
  }

  /** True once the TTL has passed; otherwise requeues the key for the moment it will (processTTL). */
  private expired(key: string, job: Job): boolean {
    if (job.metadata?.deletionTimestamp || !needsCleanup(job)) return false;
    const left = jobFinishTime(job) + job.spec!.ttlSecondsAfterFinished! * 1000 - this.clock.now();
    if (left <= 0) return true;
    this.queue.addAfter(key, left);
    return false;
  }
}
