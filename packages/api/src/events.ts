import { randomBytes } from 'node:crypto';
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

/**
 * Records core/v1 Events as client-go's recorder does: one Event per (object, type, reason, message), whose
 * count and lastTimestamp grow when the same thing happens again within ten minutes. Recording never throws:
 * events are best effort.
 */
export class EventRecorder {
  private readonly seen = new Map<string, { name: string; namespace: string; count: number; first: number; last: number }>();

  constructor(private readonly opts: { client: ApiClient; component: string; host?: string; log?: Logger; now?: () => number }) {}

  async record(target: EventTarget, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const now = (this.opts.now ?? Date.now)();
    const namespace = target.namespace || 'default';
    const key = JSON.stringify([target.kind, namespace, target.name, target.uid, target.fieldPath, type, reason, message]);
    const prior = this.seen.get(key);
    try {
      if (prior && now - prior.last < 10 * 60_000) {
        prior.count++;
        prior.last = now;
        await this.opts.client.patch(EVENTS, prior.namespace, prior.name, { count: prior.count, lastTimestamp: rfc3339(now) }, 'merge');
        return;
      }
      const name = `${target.name}.${randomBytes(8).toString('hex')}`;
      await this.opts.client.create(EVENTS, namespace, {
        metadata: { name, namespace },
        involvedObject: target, reason, message, type, count: 1,
        firstTimestamp: rfc3339(now), lastTimestamp: rfc3339(now),
        source: { component: this.opts.component, ...(this.opts.host ? { host: this.opts.host } : {}) },
        reportingComponent: this.opts.component, reportingInstance: this.opts.host ?? '',
      } as KubeObject);
      this.seen.set(key, { name, namespace, count: 1, first: now, last: now });
      if (this.seen.size > 4096) this.seen.delete(this.seen.keys().next().value!);
    } catch (err) {
      if (prior && err instanceof ApiError && err.isNotFound) this.seen.delete(key);
      (this.opts.log ?? silentLogger).debug({ err, reason }, 'could not record event');
    }
  }
}
