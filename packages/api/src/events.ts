import type { ApiClient, KubeObjectLike } from './client.js';
import { ApiError } from './errors.js';
import { silentLogger, type Logger } from './logger.js';
import { EVENTS } from './resources.js';
import { rfc3339 } from './time.js';
import type { KubeObject } from './types.js';

/** What an event is about, as core/v1 Event.involvedObject. */
export interface EventTarget {
  apiVersion?: string;
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
  resourceVersion?: string;
  fieldPath?: string;
}

/** The target of an event about an object (optionally a field of it, e.g. `spec.containers{app}`). */
export function eventTarget(obj: KubeObjectLike, fieldPath?: string): EventTarget {
  return {
    apiVersion: obj.apiVersion, kind: obj.kind ?? '', namespace: obj.metadata?.namespace, name: obj.metadata?.name ?? '',
    uid: obj.metadata?.uid, resourceVersion: obj.metadata?.resourceVersion, ...(fieldPath ? { fieldPath } : {}),
  };
}

/** Events of one object with the same reason but other messages, beyond which they are combined (upstream's defaultAggregateMaxEvents). */
const AGGREGATE_MAX_EVENTS = 10;
/** How long a count, a combination or a spam bucket lasts (upstream's 10 minutes). */
const INTERVAL_MS = 10 * 60_000;
/** Events one object may get at once, then one per 5 minutes (upstream's EventSourceObjectSpamFilter: burst 25, qps 1/300). */
const SPAM_BURST = 25;
const SPAM_REFILL_MS = 300_000;
/** Most keys remembered by each cache (upstream's LRU of 4096). */
const CACHE_SIZE = 4096;

function remember<V>(cache: Map<string, V>, key: string, value: V): void {
  cache.delete(key);
  cache.set(key, value);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
}

/**
 * Records core/v1 Events as client-go's recorder and EventCorrelator do: the same event again within ten minutes
 * grows the count of the one Event; more than ten events of one object and reason with different messages are
 * combined into one ("(combined from similar events): …"); and an object gets at most 25 events at once, then one
 * every five minutes, so a controller creating a thousand pods does not write a thousand Events. Recording never
 * throws: events are best effort.
 */
export class EventRecorder {
  private readonly seen = new Map<string, { name: string; namespace: string; count: number; last: number }>();
  private readonly similar = new Map<string, { messages: Set<string>; last: number }>();
  private readonly spam = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly opts: { client: ApiClient; component: string; host?: string; log?: Logger; now?: () => number }) {}

  /** `at`: when it happened (ms), for an event recorded later than that (off a hot path); now by default. */
  async record(target: EventTarget, type: 'Normal' | 'Warning', reason: string, message: string, at?: number): Promise<void> {
    const now = at ?? (this.opts.now ?? Date.now)();
    const namespace = target.namespace || 'default';
    const object = [this.opts.component, this.opts.host, target.kind, namespace, target.name, target.uid, target.apiVersion];
    // The aggregator: past ten messages for one (object, type, reason), they share one combined Event.
    const aggregateKey = JSON.stringify([...object, type, reason]);
    let similar = this.similar.get(aggregateKey);
    if (!similar || now - similar.last > INTERVAL_MS) similar = { messages: new Set(), last: now };
    similar.messages.add(message);
    similar.last = now;
    remember(this.similar, aggregateKey, similar);
    const combined = similar.messages.size >= AGGREGATE_MAX_EVENTS;
    const key = combined ? aggregateKey : JSON.stringify([...object, target.fieldPath, type, reason, message]);
    const text = combined ? `(combined from similar events): ${message}` : message;
    // The spam filter: a token bucket per object, whatever the reason.
    const spamKey = JSON.stringify(object);
    const bucket = this.spam.get(spamKey) ?? { tokens: SPAM_BURST, at: now };
    bucket.tokens = Math.min(SPAM_BURST, bucket.tokens + (now - bucket.at) / SPAM_REFILL_MS);
    bucket.at = now;
    remember(this.spam, spamKey, bucket);
    if (bucket.tokens < 1) return;
    bucket.tokens--;
    const prior = this.seen.get(key);
    try {
      if (prior && now - prior.last < INTERVAL_MS) {
        prior.count++;
        prior.last = now;
        await this.opts.client.patch(EVENTS, prior.namespace, prior.name, { count: prior.count, lastTimestamp: rfc3339(now), ...(combined ? { message: text } : {}) }, 'merge');
        return;
      }
      const name = `${target.name}.${eventNameSuffix(now)}`;
      remember(this.seen, key, { name, namespace, count: 1, last: now });
      await this.opts.client.create(EVENTS, namespace, {
        metadata: { name, namespace },
        involvedObject: target, reason, message: text, type, count: 1,
        firstTimestamp: rfc3339(now), lastTimestamp: rfc3339(now),
        source: { component: this.opts.component, ...(this.opts.host ? { host: this.opts.host } : {}) },
        reportingComponent: this.opts.component, reportingInstance: this.opts.host ?? '',
      } as KubeObject);
    } catch (err) {
      if (err instanceof ApiError && err.isNotFound) this.seen.delete(key);
      (this.opts.log ?? silentLogger).debug({ err, reason }, 'could not record event');
    }
  }
}

let lastNanos = 0n;

/**
 * As upstream's recorder names an Event: `<object>.<UnixNano in hex>`. The names then list in the order the events
 * happened, which is the order kubectl shows events of the same second in (`describe` sorts by seconds, stably for
 * a pod's few events). The clock has milliseconds: the nanoseconds below are random (two components naming an event
 * of one object in the same millisecond), and rise within a process.
 */
function eventNameSuffix(ms: number): string {
  let nanos = BigInt(Math.floor(ms)) * 1_000_000n + BigInt(Math.floor(Math.random() * 1_000_000));
  if (nanos <= lastNanos) nanos = lastNanos + 1n;
  lastNanos = nanos;
  return nanos.toString(16);
}
