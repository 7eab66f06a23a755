import type { Job, Pod } from '@k8ts/api';
import { rfc3339 } from '@k8ts/api';

/** The finalizer the Job controller puts on its pods so that no result is lost before it is counted. */
export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
/** Annotation and label carrying an Indexed Job pod's completion index. */
export const JOB_COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';
export const JOB_INDEX_LABEL = 'batch.kubernetes.io/job-completion-index';
/** The env var an Indexed Job's containers read their index from. */
export const JOB_COMPLETION_INDEX_ENV = 'JOB_COMPLETION_INDEX';
/** First delay before a failed pod is replaced (upstream's DefaultJobPodFailureBackOff); doubles per failure. */
export const DEFAULT_JOB_POD_FAILURE_BACKOFF_MS = 10_000;
/** The cap of that delay (upstream's MaxJobPodFailureBackOff as documented: six minutes). */
export const MAX_JOB_POD_FAILURE_BACKOFF_MS = 6 * 60_000;
/** Most pods created or deleted by one sync (upstream's MaxPodCreateDeletePerSync). */
export const MAX_POD_CREATE_DELETE_PER_SYNC = 500;
/** Most pod uids held in status.uncountedTerminatedPods at once (upstream's MaxUncountedPods). */
export const MAX_UNCOUNTED_PODS = 500;

export type JobCondition = NonNullable<NonNullable<Job['status']>['conditions']>[number];

/** The condition of `type` whose status is True. */
export function trueCondition(job: Job, type: string): JobCondition | undefined {
  return job.status?.conditions?.find((c) => c.type === type && c.status === 'True');
}

/** Complete or Failed (upstream's IsJobFinished). */
export function isJobFinished(job: Job): boolean {
  return !!(trueCondition(job, 'Complete') ?? trueCondition(job, 'Failed'));
}

/** A job condition as upstream's newCondition makes it: probe and transition time now. */
export function newCondition(type: string, status: 'True' | 'False', reason: string, message: string, now: number): JobCondition {
  const t = rfc3339(now);
  return { type, status, reason, message, lastProbeTime: t, lastTransitionTime: t };
}

/**
 * Sets the condition of `type` to `status` (upstream's ensureJobConditionStatus): replaced when status, reason or
 * message differ, added when missing unless it would be False. Returns whether anything changed.
 */
export function ensureCondition(job: Job, type: string, status: 'True' | 'False', reason: string, message: string, now: number): boolean {
  const list = ((job.status ??= {}).conditions ??= []);
  const i = list.findIndex((c) => c.type === type);
  if (i >= 0) {
    const c = list[i];
    if (c.status === status && c.reason === reason && c.message === message) return false;
    list[i] = newCondition(type, status, reason, message, now);
    return true;
  }
  if (status === 'False') return false;
  list.push(newCondition(type, status, reason, message, now));
  return true;
}

export function hasTrackingFinalizer(pod: Pod): boolean {
  return !!pod.metadata?.finalizers?.includes(JOB_TRACKING_FINALIZER);
}

/** The pod's completion index, or -1 when it has none or a malformed one. */
export function completionIndex(pod: Pod): number {
  const v = pod.metadata?.annotations?.[JOB_COMPLETION_INDEX_ANNOTATION];
  if (v === undefined || !/^\d+$/.test(v)) return -1;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : -1;
}

/** Parses `status.completedIndexes` ("1,3-5,7") into a set; entries at or past `completions` are dropped. */
export function parseIndexes(s: string | undefined, completions: number): Set<number> {
  const out = new Set<number>();
  for (const part of (s ?? '').split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    for (let i = from; i <= to && i < completions; i++) out.add(i);
  }
  return out;
}

/** Formats indexes as upstream's orderedIntervals.String(): sorted, runs of two or more as `a-b`. */
export function formatIndexes(set: Iterable<number>): string {
  const sorted = [...new Set(set)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j > i ? `${sorted[i]}-${sorted[j]}` : String(sorted[i]));
    i = j + 1;
  }
  return parts.join(',');
}

/**
 * When a pod finished (upstream's getFinishedTime): the latest container finish when every container finished,
 * else the Ready=False transition, else the deletion time less its grace period, else its creation.
 */
export function podFinishedTime(pod: Pod): number {
  const statuses = pod.status?.containerStatuses ?? [];
  if (statuses.length > 0 && statuses.every((s) => s.state?.terminated?.finishedAt)) {
    return Math.max(...statuses.map((s) => Date.parse(s.state!.terminated!.finishedAt!)));
  }
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status === 'False' && ready.lastTransitionTime) return Date.parse(ready.lastTransitionTime);
  if (pod.metadata?.deletionTimestamp) return Date.parse(pod.metadata.deletionTimestamp) - (pod.metadata.deletionGracePeriodSeconds ?? 0) * 1000;
  return pod.metadata?.creationTimestamp ? Date.parse(pod.metadata.creationTimestamp) : 0;
}

/** The failures since the last success of a job, and when the last of them happened (upstream's backoffRecord). */
export interface BackoffRecord { failuresAfterLastSuccess: number; lastFailureTime?: number }

/** The record after newly finished pods are seen (upstream's newBackoffRecord). */
export function nextBackoffRecord(old: BackoffRecord | undefined, newSucceeded: readonly Pod[], newFailed: readonly Pod[]): BackoffRecord {
  const rec: BackoffRecord = { failuresAfterLastSuccess: old?.failuresAfterLastSuccess ?? 0, lastFailureTime: old?.lastFailureTime };
  const failedTimes = newFailed.map(podFinishedTime).sort((a, b) => a - b);
  if (newSucceeded.length === 0) {
    if (failedTimes.length === 0) return rec;
    return { failuresAfterLastSuccess: rec.failuresAfterLastSuccess + failedTimes.length, lastFailureTime: failedTimes.at(-1) };
  }
  const lastSuccess = Math.max(...newSucceeded.map(podFinishedTime));
  const after = failedTimes.filter((t) => t > lastSuccess);
  return after.length ? { failuresAfterLastSuccess: after.length, lastFailureTime: after.at(-1) } : { failuresAfterLastSuccess: 0 };
}

/** How long to wait before creating a replacement pod (upstream's getRemainingTime): 10 s doubling per failure, capped. */
export function backoffRemainingMs(rec: BackoffRecord | undefined, now: number, baseMs = DEFAULT_JOB_POD_FAILURE_BACKOFF_MS, maxMs = MAX_JOB_POD_FAILURE_BACKOFF_MS): number {
  if (!rec || rec.failuresAfterLastSuccess === 0 || rec.lastFailureTime === undefined) return 0;
  let delay = baseMs;
  for (let i = 1; i < rec.failuresAfterLastSuccess; i++) {
    delay *= 2;
    if (delay >= maxMs) { delay = maxMs; break; }
  }
  const elapsed = now - rec.lastFailureTime;
  return delay < elapsed ? 0 : delay - elapsed;
}

type PodFailurePolicy = NonNullable<NonNullable<Job['spec']>['podFailurePolicy']>;

/** What a pod failure policy says about a failed pod (upstream's matchPodFailurePolicy). */
export interface PolicyMatch { action?: 'Ignore' | 'Count' | 'FailJob' | 'FailIndex'; countFailed: boolean; failJobMessage?: string }

/** Matches a failed pod against the rules in order; the first matching rule decides; none matching counts it. */
export function matchPodFailurePolicy(policy: PodFailurePolicy | undefined, pod: Pod): PolicyMatch {
  if (!policy) return { countFailed: true };
  const ns = pod.metadata?.namespace; const name = pod.metadata?.name;
  const verdict = (action: string, index: number, what: string): PolicyMatch => {
    switch (action) {
      case 'Ignore': return { action: 'Ignore', countFailed: false };
      case 'Count': return { action: 'Count', countFailed: true };
      case 'FailIndex': return { action: 'FailIndex', countFailed: true };
      case 'FailJob': return { action: 'FailJob', countFailed: true, failJobMessage: `${what} matching FailJob rule at index ${index}` };
      default: return { countFailed: true };
    }
  };
  for (const [index, rule] of (policy.rules ?? []).entries()) {
    if (rule.onExitCodes) {
      const req = rule.onExitCodes;
      const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
      const hit = statuses.find((s) => {
        if (req.containerName && req.containerName !== s.name) return false;
        const code = s.state?.terminated?.exitCode;
        if (code === undefined || code === 0) return false;
        const inValues = req.values.includes(code);
        return req.operator === 'In' ? inValues : req.operator === 'NotIn' ? !inValues : false;
      });
      if (hit) return verdict(rule.action, index, `Container ${hit.name} for pod ${ns}/${name} failed with exit code ${hit.state!.terminated!.exitCode}`);
    } else if (rule.onPodConditions) {
      for (const pattern of rule.onPodConditions) {
        const c = pod.status?.conditions?.find((x) => x.type === pattern.type && x.status === (pattern.status || 'True'));
        if (c) return verdict(rule.action, index, `Pod ${ns}/${name} has condition ${c.type}`);
      }
    }
  }
  return { countFailed: true };
}

