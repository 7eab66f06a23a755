import { ApiError } from './errors.js';
import { silentLogger, type Logger } from './logger.js';
import type { WorkQueue } from './workqueue.js';

export interface RunWorkersOptions {
  /** How many keys are synced at once (never the same key twice: the queue sees to that). */
  workers?: number;
  log?: Logger;
  /** Shuts the queue down when it aborts; the workers return once their current syncs end. */
  signal?: AbortSignal;
  /** The log field naming the key (`pod`, `replicaset`, …); `key` by default. */
  keyField?: string;
  /** After this many retries in a row a key is dropped (forgotten, not re-added) until something adds it again. */
  maxRetries?: number;
  /**
   * Errors that are an expected requeue rather than a failure (the EndpointSlice controller's stale cache, as upstream's
   * `isStaleInformerCacheErr`): retried the same way, but logged at debug with the message only.
   */
  isRequeue?: (err: unknown) => boolean;
}

/**
 * The one worker loop of every controller (sample-controller's runWorker/processNextWorkItem): take a key,
 * sync it, then forget its backoff on success or re-add it rate-limited (per-key exponential backoff) when the
 * sync throws, and mark it done. Resolves when the queue is shut down and every worker has finished.
 */
export async function runWorkers<K>(queue: WorkQueue<K>, sync: (key: K) => Promise<void>, opts: RunWorkersOptions = {}): Promise<void> {
  const log = opts.log ?? silentLogger;
  const field = opts.keyField ?? 'key';
  const { signal, maxRetries } = opts;
  if (signal?.aborted) queue.shutDown();
  else signal?.addEventListener('abort', () => queue.shutDown(), { once: true });

  const worker = async (): Promise<void> => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await sync(key);
        queue.forget(key);
      } catch (err) {
        // A sync that throws is a transient failure: try again later, later each time.
        if (maxRetries !== undefined && queue.numRequeues(key) >= maxRetries) {
          log.warn({ err, [field]: key, retries: queue.numRequeues(key) }, 'sync failed too often; dropping the key');
          queue.forget(key);
        } else if (opts.isRequeue?.(err) || isOptimisticConflict(err)) {
          log.debug({ [field]: key, reason: (err as Error).message }, 'sync requeued');
          queue.addRateLimited(key);
        } else {
          log.warn({ err, [field]: key }, 'sync failed; retrying');
          queue.addRateLimited(key);
        }
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.workers ?? 1) }, worker));
}

/**
 * A write that lost an optimistic-concurrency race (409: Conflict on a stale resourceVersion, AlreadyExists for an
 * object another sync created meanwhile), directly or as the cause of the error a sync threw: the next sync starts
 * from the newer state. Upstream's controllers log these retries at V(2), not as errors.
 */
function isOptimisticConflict(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof ApiError && (e.isConflict || e.isAlreadyExists)) return true;
  }
  return false;
}
