import { describe, expect, it } from 'vitest';
import { EVENTS, JOBS, PODS, rfc3339, type Job, type KubeObject, type Pod } from '@k8ts/api';
import { FakeClock, FakeInformerFactory, RecordingClient } from '@k8ts/api/testing';
import { JobController } from './job-controller.js';
import {
  backoffRemainingMs, formatIndexes, JOB_TRACKING_FINALIZER, matchPodFailurePolicy, nextBackoffRecord, parseIndexes,
} from './job-util.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const UID = 'job-uid';

function job(spec: Partial<NonNullable<Job['spec']>> = {}, status: Job['status'] = {}): Job {
  return {
    apiVersion: 'batch/v1', kind: 'Job',
    metadata: { name: 'pi', namespace: 'default', uid: UID, generation: 1, resourceVersion: '5', creationTimestamp: rfc3339(T0) },
    spec: {
      completions: 1, parallelism: 1, backoffLimit: 6, completionMode: 'NonIndexed', suspend: false, podReplacementPolicy: 'TerminatingOrFailed',
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': UID } },
      template: {
        metadata: { labels: { 'batch.kubernetes.io/controller-uid': UID, 'batch.kubernetes.io/job-name': 'pi', 'job-name': 'pi', 'controller-uid': UID } },
        spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] },
      },
      ...spec,
    },
    status,
  };
}

/** Harness: the recording client is the apiserver; `observe()` plays the watch, copying its store into the informers. */
function setup(j: Job, opts: { clock?: FakeClock } = {}) {
  const clock = opts.clock ?? new FakeClock(T0);
  const client = new RecordingClient({ objects: [j], clock });
  // As the apiserver: a pod with finalizers is only marked for deletion.
  client.prependReactor('delete', 'pods', (a) => {
    const p = client.stored<Pod>(PODS, a.namespace, a.name!);
    if (!p?.metadata?.finalizers?.length) return undefined;
    const marked = { ...p, metadata: { ...p.metadata, deletionTimestamp: rfc3339(clock.now()), deletionGracePeriodSeconds: 30 } };
    client.seed(marked);
    return marked;
  });
  const informers = new FakeInformerFactory([j]);
  const controller = new JobController({ client, informers, clock });
  const podInformer = informers.informerFor<Pod>(PODS);
  const jobInformer = informers.informerFor<Job>(JOBS);
  const observe = async () => {
    const pods = (await client.list<Pod>(PODS, 'default')).items;
    const live = new Set(pods.map((p) => p.metadata!.name));
    for (const p of podInformer.list()) if (!live.has(p.metadata!.name)) podInformer.delete(p);
    for (const p of pods) podInformer.update(p);
    const stored = client.stored<Job>(JOBS, 'default', 'pi');
    if (stored) jobInformer.update(stored);
  };
  /** Sync, then let the informers see what it did. */
  const step = async () => { await controller.sync('default/pi'); await observe(); };
  const pods = () => podInformer.list().sort((a, b) => (a.metadata!.name! < b.metadata!.name! ? -1 : 1));
  const status = () => client.stored<Job>(JOBS, 'default', 'pi')!.status!;
  /** Plays the kubelet: the pod ends in `phase`, its container with `exitCode`. */
  const finish = (p: Pod, phase: 'Succeeded' | 'Failed', exitCode = phase === 'Succeeded' ? 0 : 1, at = clock.now()) => {
    client.seed({
      ...p, metadata: { ...p.metadata, resourceVersion: undefined }, status: {
        phase, conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: rfc3339(at) }],
        containerStatuses: [{ name: 'main', image: 'busybox', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode, finishedAt: rfc3339(at) } } }],
      },
    } as KubeObject);
  };
  /** The pod's last finalizer went and the apiserver removed it. */
  const gone = async (p: Pod) => {
    const cur = client.stored<Pod>(PODS, 'default', p.metadata!.name!)!;
    client.seed({ ...cur, metadata: { ...cur.metadata, finalizers: [], resourceVersion: undefined } } as KubeObject);
    await client.delete(PODS, 'default', p.metadata!.name!);
  };
  const creates = () => client.writes().filter((w) => w.verb === 'create' && w.resource === 'pods');
  const events = async () => (await client.list<KubeObject & { reason?: string; message?: string }>(EVENTS, 'default')).items.map((e) => `${e.reason}: ${e.message}`);
  return { clock, client, informers, controller, observe, step, pods, status, finish, gone, creates, events };
}

const condition = (j: { conditions?: { type: string; status: string; reason?: string }[] }, type: string) => j.conditions?.find((c) => c.type === type);

describe('JobController.sync', () => {
  it('creates min(parallelism, completions) pods with the tracking finalizer, then counts successes through uncountedTerminatedPods to Complete', async () => {
    const h = setup(job({ completions: 4, parallelism: 2 }));
    await h.step();
    expect(h.creates()).toHaveLength(2);
    expect(h.creates()[0].object).toMatchObject({
      metadata: {
        generateName: 'pi-', finalizers: [JOB_TRACKING_FINALIZER], labels: { 'job-name': 'pi', 'batch.kubernetes.io/controller-uid': UID },
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'pi', uid: UID, controller: true, blockOwnerDeletion: true }],
      },
    });
    expect(h.status()).toMatchObject({ active: 2, ready: 0, terminating: 0, startTime: rfc3339(T0), uncountedTerminatedPods: {} });
    expect(h.status().succeeded).toBeUndefined();

    // Both succeed: first recorded as uncounted, then finalizers removed, then counted; two more are created.
    for (const p of h.pods()) h.finish(p, 'Succeeded');
    await h.observe();
    h.client.clearActions();
    await h.step();
    const statusWrites = h.client.writes().filter((w) => w.resource === 'jobs' && w.subresource === 'status');
    expect(statusWrites).toHaveLength(2);
    const first = (statusWrites[0].object as Job).status!;
    expect(first.uncountedTerminatedPods?.succeeded).toHaveLength(2);
    expect(first.succeeded).toBeUndefined();
    const patches = h.client.writes().filter((w) => w.verb === 'patch' && w.resource === 'pods');
    expect(patches).toHaveLength(2);
    expect(h.client.writes().findIndex((w) => w.verb === 'patch')).toBeGreaterThan(h.client.writes().indexOf(statusWrites[0]));
    expect(h.status()).toMatchObject({ succeeded: 2, active: 2, uncountedTerminatedPods: {} });
    expect(h.creates()).toHaveLength(2);
    expect(h.pods().filter((p) => p.metadata!.finalizers?.includes(JOB_TRACKING_FINALIZER))).toHaveLength(2);

    for (const p of h.pods().filter((x) => !x.status?.phase)) h.finish(p, 'Succeeded');
    await h.observe();
    h.clock.advance(5000);
    await h.step();
    const s = h.status();
    expect(s.succeeded).toBe(4);
    expect(s.active).toBeUndefined();
    expect(s.conditions?.map((c) => `${c.type}=${c.status}/${c.reason}`)).toEqual(['SuccessCriteriaMet=True/CompletionsReached', 'Complete=True/CompletionsReached']);
    expect(condition(s, 'Complete')).toMatchObject({ message: 'Reached expected number of succeeded pods' });
    expect(s.completionTime).toBe(rfc3339(T0 + 5000));
    expect(await h.events()).toContain('Completed: Job completed');
    // A finished Job is left alone.
    h.client.clearActions();
    await h.step();
    expect(h.client.writes()).toHaveLength(0);
  });

  it('replaces failed pods only after the exponential backoff (10 s, then 20 s, …) on the injected clock', async () => {
    const h = setup(job({ backoffLimit: 6 }));
    await h.step();
    expect(h.creates()).toHaveLength(1);
    h.finish(h.pods()[0], 'Failed', 1, T0 + 1000);
    h.clock.advance(1000);
    await h.observe();
    h.client.clearActions();
    await h.step();
    expect(h.status()).toMatchObject({ failed: 1 });
    expect(h.creates()).toHaveLength(0); // 10 s from the failure at T0+1 s
    h.clock.advance(9_900);
    await h.step();
    expect(h.creates()).toHaveLength(0);
    h.clock.advance(100);
    await h.step();
    expect(h.creates()).toHaveLength(1);

    // The second failure waits 20 s.
    const second = h.pods().find((p) => !p.status?.phase)!;
    const failedAt = h.clock.now() + 2000;
    h.clock.advance(2000);
    h.finish(second, 'Failed', 1, failedAt);
    await h.observe();
    h.client.clearActions();
    await h.step();
    h.clock.advance(19_000);
    await h.step();
    expect(h.creates()).toHaveLength(0);
    h.clock.advance(1000);
    await h.step();
    expect(h.creates()).toHaveLength(1);
    expect(h.status()).toMatchObject({ failed: 2, active: 1 });
  });

  it('fails with FailureTarget then Failed/BackoffLimitExceeded once failures pass backoffLimit, and only after its pods are gone', async () => {
    const h = setup(job({ backoffLimit: 1, parallelism: 2, completions: 3 }));
    await h.step();
    const [a, b] = h.pods();
    h.finish(a, 'Failed');
    await h.observe();
    await h.step(); // failed: 1, not past the limit
    expect(h.status().failed).toBe(1);
    expect(h.status().conditions ?? []).toHaveLength(0);
    h.clock.advance(10_000);
    await h.step(); // the replacement, after the backoff
    expect(h.status().active).toBe(2);
    h.finish(b, 'Failed');
    await h.observe();
    await h.step();
    let s = h.status();
    // The replacement still running is deleted and, the Job failing, counted as failed too.
    expect(s.failed).toBe(3);
    expect(condition(s, 'FailureTarget')).toMatchObject({ status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' });
    // The replacement created after the first failure is being deleted: Failed waits for it.
    expect(condition(s, 'Failed')).toBeUndefined();
    expect(s.terminating).toBe(1);
    const left = h.pods().find((p) => p.metadata!.deletionTimestamp)!;
    expect(left).toBeDefined();
    // Its finalizer went when it was counted as failed; it terminates.
    await h.gone(left);
    await h.observe();
    await h.step();
    s = h.status();
    expect(condition(s, 'Failed')).toMatchObject({ status: 'True', reason: 'BackoffLimitExceeded' });
    expect(s.failed).toBe(3);
    expect(s.completionTime).toBeUndefined();
    expect(await h.events()).toContain('BackoffLimitExceeded: Job has reached the specified backoff limit');
  });

  it('fails with DeadlineExceeded after activeDeadlineSeconds, and requeues itself for the deadline', async () => {
    const h = setup(job({ activeDeadlineSeconds: 30 }));
    await h.step();
    h.clock.advance(29_000);
    await h.step();
    expect(h.status().conditions ?? []).toHaveLength(0);
    h.clock.advance(1000);
    await h.step();
    expect(condition(h.status(), 'FailureTarget')).toMatchObject({ reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' });
    await h.gone(h.pods()[0]);
    await h.observe();
    await h.step();
    expect(condition(h.status(), 'Failed')).toMatchObject({ reason: 'DeadlineExceeded' });
  });

  it('suspends (deleting its pods without counting them) and resumes with a new startTime', async () => {
    const h = setup(job({ parallelism: 2, completions: 2 }));
    await h.step();
    const j = h.client.stored<Job>(JOBS, 'default', 'pi')!;
    h.client.seed({ ...j, spec: { ...j.spec!, suspend: true }, metadata: { ...j.metadata, resourceVersion: undefined } } as KubeObject);
    await h.observe();
    h.client.clearActions();
    await h.step();
    expect(h.client.writes().filter((w) => w.verb === 'delete' && w.resource === 'pods')).toHaveLength(2);
    // the finalizer goes first: a pod deleted by suspension is not a failure
    expect(h.client.writes().filter((w) => w.verb === 'patch' && w.resource === 'pods')).toHaveLength(2);
    expect(h.pods()).toHaveLength(0);
    let s = h.status();
    expect(condition(s, 'Suspended')).toMatchObject({ status: 'True', reason: 'JobSuspended', message: 'Job suspended' });
    expect(s.failed).toBeUndefined();
    expect(s.active).toBeUndefined();

    h.clock.advance(60_000);
    const k = h.client.stored<Job>(JOBS, 'default', 'pi')!;
    h.client.seed({ ...k, spec: { ...k.spec!, suspend: false }, metadata: { ...k.metadata, resourceVersion: undefined } } as KubeObject);
    await h.observe();
    await h.step();
    s = h.status();
    expect(condition(s, 'Suspended')).toMatchObject({ status: 'False', reason: 'JobResumed' });
    expect(s.startTime).toBe(rfc3339(T0 + 60_000));
    expect(s.active).toBe(2);
    expect(await h.events()).toEqual(expect.arrayContaining(['Suspended: Job suspended', 'Resumed: Job resumed']));
  });

  it('Indexed: one pod per index with the index annotation, label, env and hostname, and completedIndexes', async () => {
    const h = setup(job({ completionMode: 'Indexed', completions: 3, parallelism: 2 }));
    await h.step();
    const made = h.creates().map((c) => c.object as Pod);
    expect(made.map((p) => p.metadata!.annotations!['batch.kubernetes.io/job-completion-index'])).toEqual(['0', '1']);
    expect(made[1]).toMatchObject({
      metadata: { generateName: 'pi-1-', labels: { 'batch.kubernetes.io/job-completion-index': '1' } },
      spec: {
        hostname: 'pi-1',
        containers: [{ env: [{ name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } }] }],
      },
    });
    const one = h.pods().find((p) => p.metadata!.annotations!['batch.kubernetes.io/job-completion-index'] === '1')!;
    h.finish(one, 'Succeeded');
    await h.observe();
    h.client.clearActions();
    await h.step();
    expect(h.status()).toMatchObject({ completedIndexes: '1', succeeded: 1, active: 2 });
    expect((h.creates()[0].object as Pod).metadata!.annotations!['batch.kubernetes.io/job-completion-index']).toBe('2');
    for (const p of h.pods().filter((x) => !x.status?.phase)) h.finish(p, 'Succeeded');
    await h.observe();
    await h.step();
    expect(h.status()).toMatchObject({ completedIndexes: '0-2', succeeded: 3 });
    expect(condition(h.status(), 'Complete')?.status).toBe('True');
  });

  it('podFailurePolicy: FailJob on an exit code fails the Job with PodFailurePolicy; Ignore does not count', async () => {
    const rules = [
      { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
      { action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'In', values: [42] } },
    ];
    const h = setup(job({ podFailurePolicy: { rules }, podReplacementPolicy: 'Failed' }));
    await h.step();
    const p = h.pods()[0];
    h.client.seed({
      ...p, metadata: { ...p.metadata, resourceVersion: undefined },
      status: { phase: 'Failed', conditions: [{ type: 'DisruptionTarget', status: 'True', lastTransitionTime: rfc3339(T0) }], containerStatuses: [] },
    } as KubeObject);
    await h.observe();
    await h.step();
    expect(h.status().failed).toBeUndefined(); // ignored
    expect(h.status().conditions ?? []).toHaveLength(0);
    // An ignored failure is not counted, but its replacement still waits out the backoff, as upstream.
    expect(h.pods().filter((x) => !x.status?.phase)).toHaveLength(0);
    h.clock.advance(10_000);
    await h.step();
    expect(h.pods().filter((x) => !x.status?.phase)).toHaveLength(1);
    const q = h.pods().find((x) => !x.status?.phase)!;
    h.clock.advance(20_000);
    h.finish(q, 'Failed', 42);
    await h.observe();
    await h.step();
    await h.step();
    const s = h.status();
    expect(condition(s, 'FailureTarget')).toMatchObject({
      reason: 'PodFailurePolicy', message: `Container main for pod default/${q.metadata!.name} failed with exit code 42 matching FailJob rule at index 1`,
    });
    expect(condition(s, 'Failed')).toMatchObject({ reason: 'PodFailurePolicy' });
    expect(s.failed).toBe(1);
  });

  it('counts a pod deleted before it finished as failed (TerminatingOrFailed) and replaces it', async () => {
    const h = setup(job({ backoffLimit: 3 }));
    await h.step();
    await h.client.delete(PODS, 'default', h.pods()[0].metadata!.name!);
    await h.observe();
    h.client.clearActions();
    await h.step();
    expect(h.status()).toMatchObject({ failed: 1, terminating: 1, active: 1 });
    expect(h.client.writes().filter((w) => w.verb === 'patch' && w.resource === 'pods')).toHaveLength(1);
    expect(h.creates()).toHaveLength(1);
  });

  it('removes the finalizer of a pod whose Job is gone (the orphan queue)', async () => {
    const h = setup(job());
    await h.step();
    const p = h.pods()[0];
    h.informers.informerFor<Job>(JOBS).delete(h.client.stored<Job>(JOBS, 'default', 'pi')!);
    expect(h.controller.orphanQueue.len()).toBe(1);
    h.client.clearActions();
    await h.controller.syncOrphanPod(`default/${p.metadata!.name}`);
    expect(h.client.writes()).toMatchObject([{ verb: 'patch', resource: 'pods', name: p.metadata!.name, patchType: 'json' }]);
    expect(h.client.stored<Pod>(PODS, 'default', p.metadata!.name!)!.metadata!.finalizers ?? []).not.toContain(JOB_TRACKING_FINALIZER);
  });

  it('OnFailure: container restarts of running pods count against backoffLimit', async () => {
    const h = setup(job({ backoffLimit: 2, template: { ...job().spec!.template, spec: { restartPolicy: 'OnFailure', containers: [{ name: 'main', image: 'busybox' }] } } }));
    await h.step();
    const p = h.pods()[0];
    h.client.seed({ ...p, metadata: { ...p.metadata, resourceVersion: undefined }, status: { phase: 'Running', containerStatuses: [{ name: 'main', image: 'b', imageID: '', ready: false, restartCount: 2 }] } } as KubeObject);
    await h.observe();
    await h.step();
    expect(condition(h.status(), 'FailureTarget')).toMatchObject({ reason: 'BackoffLimitExceeded' });
  });
});

describe('job backoff and helpers', () => {
  const failedAt = (t: number): Pod => ({ metadata: { uid: String(t) }, status: { phase: 'Failed', containerStatuses: [{ name: 'c', image: '', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 1, finishedAt: rfc3339(t) } } }] } });
  it.each([
    [1, 10_000], [2, 20_000], [3, 40_000], [4, 80_000], [5, 160_000], [6, 320_000], [7, 360_000], [20, 360_000],
  ])('%i failures in a row wait %i ms', (n, want) => {
    expect(backoffRemainingMs({ failuresAfterLastSuccess: n, lastFailureTime: T0 }, T0)).toBe(want);
    expect(backoffRemainingMs({ failuresAfterLastSuccess: n, lastFailureTime: T0 }, T0 + want)).toBe(0);
  });
  it('a success resets the count; failures after it count again', () => {
    const ok: Pod = { metadata: { uid: 's' }, status: { phase: 'Succeeded', containerStatuses: [{ name: 'c', image: '', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, finishedAt: rfc3339(T0 + 5000) } } }] } };
    const rec = nextBackoffRecord({ failuresAfterLastSuccess: 3, lastFailureTime: T0 }, [ok], [failedAt(T0 + 1000), failedAt(T0 + 9000)]);
    expect(rec).toEqual({ failuresAfterLastSuccess: 1, lastFailureTime: T0 + 9000 });
    expect(nextBackoffRecord(rec, [ok], [])).toEqual({ failuresAfterLastSuccess: 0 });
    expect(nextBackoffRecord(undefined, [], [failedAt(T0), failedAt(T0 + 3000)])).toEqual({ failuresAfterLastSuccess: 2, lastFailureTime: T0 + 3000 });
  });
  it('completedIndexes round-trip as intervals', () => {
    expect(formatIndexes([5, 0, 1, 2, 7, 8])).toBe('0-2,5,7-8');
    expect([...parseIndexes('0-2,5,7-8', 8)].sort()).toEqual([0, 1, 2, 5, 7]);
  });
  it('pod failure policy: NotIn, container names, first rule wins, no match counts', () => {
    const pod: Pod = { metadata: { name: 'p', namespace: 'n' }, status: { phase: 'Failed', containerStatuses: [{ name: 'a', image: '', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 3 } } }] } };
    expect(matchPodFailurePolicy({ rules: [{ action: 'Count', onExitCodes: { operator: 'NotIn', values: [1, 2] } }, { action: 'FailJob', onExitCodes: { operator: 'In', values: [3] } }] }, pod)).toEqual({ action: 'Count', countFailed: true });
    expect(matchPodFailurePolicy({ rules: [{ action: 'Ignore', onExitCodes: { containerName: 'b', operator: 'In', values: [3] } }] }, pod)).toEqual({ countFailed: true });
    expect(matchPodFailurePolicy({ rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [3] } }] }, pod).failJobMessage)
      .toBe('Container a for pod n/p failed with exit code 3 matching FailJob rule at index 0');
  });
});
