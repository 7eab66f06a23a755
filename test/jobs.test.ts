import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, CRONJOBS, EVENTS, FakeClock, JOBS, PODS, rfc3339, SharedInformerFactory, type CronJob, type Job, type KubeObject, type Pod } from '@k8ts/api';
import { CronJobController, JOB_TRACKING_FINALIZER } from '@k8ts/controller-manager';
import {
  call, eventually, startTestApiserver, startTestControllers, testKubectl, type TestApiserver, type TestControllers, type TestKubectl,
} from './harness.js';

const NS = 'batch-test';
let s: TestApiserver;
let controllers: TestControllers;
let client: ApiClient;
let kubectl: TestKubectl;

const jobYaml = (name: string, spec: string) => `apiVersion: batch/v1
kind: Job
metadata:
  name: ${name}
  namespace: ${NS}
spec:
${spec}
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 0
      containers:
      - name: main
        image: busybox
        command: ["sh", "-c", "true"]
`;

const podsOf = async (job: string) => (await client.list<Pod>(PODS, NS, { labelSelector: `batch.kubernetes.io/job-name=${job}` })).items;
const getJob = (name: string) => client.get<Job>(JOBS, NS, name);
const cond = (j: Job, type: string) => j.status?.conditions?.find((c) => c.type === type && c.status === 'True');

/** Plays the kubelet: pods not yet finished (and not being deleted) end in `phase`, their container with `exitCode`. */
async function finishPods(job: string, phase: 'Succeeded' | 'Failed', limit = Infinity, exitCode = phase === 'Succeeded' ? 0 : 1): Promise<number> {
  let n = 0;
  for (const p of await podsOf(job)) {
    if (n >= limit || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed' || p.metadata?.deletionTimestamp) continue;
    const now = rfc3339(Date.now());
    await client.patch(PODS, NS, p.metadata!.name!, {
      status: {
        phase, conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: now }],
        containerStatuses: [{ name: 'main', image: 'busybox', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode, finishedAt: now, reason: phase === 'Succeeded' ? 'Completed' : 'Error' } } }],
      },
    }, 'merge', { subresource: 'status' });
    n++;
  }
  return n;
}

describe('Job, CronJob and TTL-after-finished controllers against a real apiserver', { timeout: 60_000 }, () => {
  beforeAll(async () => {
    s = await startTestApiserver();
    await call(s.url, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    controllers = await startTestControllers(s.url, ['job', 'ttl-after-finished', 'garbagecollector']);
    client = new ApiClient({ server: s.url });
    kubectl = testKubectl(s.url);
  });
  afterAll(async () => {
    kubectl?.cleanup();
    await controllers?.stop();
    await client?.close();
    await s?.stop();
  });

  it('completions 3 / parallelism 2: pods with the tracking finalizer, SuccessCriteriaMet then Complete; kubectl wait and get', async () => {
    await kubectl('apply', '-f', kubectl.file('pi.yaml', jobYaml('pi', '  completions: 3\n  parallelism: 2')));
    const first = await eventually(async () => { const p = await podsOf('pi'); return p.length === 2 && p; }, 'two pods');
    expect(first[0].metadata!.finalizers).toContain(JOB_TRACKING_FINALIZER);
    expect(first[0].metadata!.labels).toMatchObject({ 'job-name': 'pi', 'batch.kubernetes.io/job-name': 'pi' });
    await eventually(async () => (await getJob('pi')).status?.active === 2, 'active 2');
    const wait = kubectl('wait', '--for=condition=complete', 'job/pi', '-n', NS, '--timeout=30s');
    await finishPods('pi', 'Succeeded');
    await eventually(async () => (await finishPods('pi', 'Succeeded')) > 0 || cond(await getJob('pi'), 'Complete'), 'the third pod');
    expect((await wait).trim()).toBe('job.batch/pi condition met');
    const j = await getJob('pi');
    expect(j.status).toMatchObject({ succeeded: 3, ready: 0, terminating: 0, uncountedTerminatedPods: {} });
    expect(j.status?.active).toBeUndefined();
    expect(j.status?.conditions?.map((c) => c.type)).toEqual(['SuccessCriteriaMet', 'Complete']);
    expect(j.status?.completionTime).toBeDefined();
    // No result is held back: every pod's finalizer is gone.
    await eventually(async () => (await podsOf('pi')).every((p) => p.metadata?.finalizers === undefined), 'finalizers removed (the empty list too)');
    const table = (await kubectl('get', 'job', 'pi', '-n', NS)).trim().split('\n');
    expect(table[0].split(/\s{2,}/)).toEqual(['NAME', 'STATUS', 'COMPLETIONS', 'DURATION', 'AGE']);
    expect(table[1].split(/\s+/).slice(0, 3)).toEqual(['pi', 'Complete', '3/3']);
  });

  it('a failing Job (backoffLimit 1) ends FailureTarget, then Failed/BackoffLimitExceeded, with the backoff between pods', async () => {
    await kubectl('apply', '-f', kubectl.file('bad.yaml', jobYaml('bad', '  backoffLimit: 1')));
    await eventually(async () => (await podsOf('bad')).length === 1, 'first pod');
    await finishPods('bad', 'Failed');
    await eventually(async () => (await podsOf('bad')).length === 2, 'a replacement after the backoff');
    await finishPods('bad', 'Failed');
    const j = await eventually(async () => { const x = await getJob('bad'); return cond(x, 'Failed') && x; }, 'Failed');
    expect(j.status?.conditions?.map((c) => `${c.type}/${c.reason}`)).toEqual(['FailureTarget/BackoffLimitExceeded', 'Failed/BackoffLimitExceeded']);
    expect(cond(j, 'Failed')?.message).toBe('Job has reached the specified backoff limit');
    expect(j.status).toMatchObject({ failed: 2 });
    const events = (await client.list<KubeObject & { reason?: string }>(EVENTS, NS, { fieldSelector: 'involvedObject.name=bad' })).items.map((e) => e.reason);
    expect(events).toEqual(expect.arrayContaining(['SuccessfulCreate', 'BackoffLimitExceeded']));
    expect((await kubectl('get', 'job', 'bad', '-n', NS, '--no-headers')).split(/\s+/).slice(0, 3)).toEqual(['bad', 'Failed', '0/1']);
  });

  it('refuses a bad pod failure policy: a wrong type with upstream\'s decode error (400), a bad rule as Invalid (422)', async () => {
    const base = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'pfp' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } };
    const withRules = (rules: unknown) => ({ ...base, spec: { ...base.spec, podFailurePolicy: { rules } } });
    const bad = await call(s.url, 'POST', `/apis/batch/v1/namespaces/${NS}/jobs`, withRules([{ action: 'FailJob', onExitCodes: { operator: 'In', values: ['x'] } }]));
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/cannot unmarshal string into Go struct field .*values of type int32/);
    const invalid = await call(s.url, 'POST', `/apis/batch/v1/namespaces/${NS}/jobs`, withRules([{ action: 'Retry', onPodConditions: [{ type: 'DisruptionTarget' }] }]));
    expect(invalid.status).toBe(422);
    expect(invalid.body.message).toContain('spec.podFailurePolicy.rules[0].action: Unsupported value: "Retry"');
  });

  it('Indexed: one pod per index with its hostname and completion index; completedIndexes', async () => {
    await kubectl('apply', '-f', kubectl.file('idx.yaml', jobYaml('idx', '  completions: 3\n  parallelism: 3\n  completionMode: Indexed')));
    const pods = await eventually(async () => { const p = await podsOf('idx'); return p.length === 3 && p; }, 'three indexed pods');
    expect(pods.map((p) => p.spec!.hostname).sort()).toEqual(['idx-0', 'idx-1', 'idx-2']);
    expect(pods.map((p) => p.metadata!.labels!['batch.kubernetes.io/job-completion-index']).sort()).toEqual(['0', '1', '2']);
    await finishPods('idx', 'Succeeded');
    const j = await eventually(async () => { const x = await getJob('idx'); return cond(x, 'Complete') && x; }, 'Complete');
    expect(j.status).toMatchObject({ completedIndexes: '0-2', succeeded: 3 });
  });

  it('deleting a Job with running pods: the garbage collector deletes them and their finalizers go (nothing stuck)', async () => {
    await kubectl('apply', '-f', kubectl.file('long.yaml', jobYaml('long', '  parallelism: 2\n  completions: 2')));
    await eventually(async () => (await podsOf('long')).length === 2, 'two pods');
    await kubectl('delete', 'job', 'long', '-n', NS, '--wait=false');
    await eventually(async () => (await podsOf('long')).length === 0, 'pods gone', 30_000);
  });

  it('ttlSecondsAfterFinished: a finished Job is deleted once its TTL passed', async () => {
    await kubectl('apply', '-f', kubectl.file('ttl.yaml', jobYaml('ttl', '  ttlSecondsAfterFinished: 1')));
    await eventually(async () => (await podsOf('ttl')).length === 1, 'pod');
    await finishPods('ttl', 'Succeeded');
    await eventually(async () => cond(await getJob('ttl'), 'Complete'), 'Complete');
    await eventually(async () => getJob('ttl').then(() => false, (e: { code?: number }) => e.code === 404), 'the job deleted by its TTL', 15_000);
  });

  it('a CronJob every minute (its controller on a fake clock) starts Jobs named by their minute and keeps its history limit', async () => {
    // The CronJob controller alone runs on a clock the test moves, so minutes pass at once; the rest is real.
    const clock = new FakeClock(Date.now());
    const informers = new SharedInformerFactory({ client });
    const cronjobs = new CronJobController({ client, informers, clock });
    const ac = new AbortController();
    informers.start(ac.signal);
    const running = cronjobs.run(ac.signal, 1);
    try {
      const cj: CronJob = {
        apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'tick', namespace: NS },
        spec: {
          schedule: '*/1 * * * *', successfulJobsHistoryLimit: 1, concurrencyPolicy: 'Allow',
          jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] } } } },
        },
      };
      await client.create(CRONJOBS, NS, cj);
      const tickJobs = async () => (await client.list<Job>(JOBS, NS)).items.filter((j) => j.metadata?.ownerReferences?.[0]?.name === 'tick' && !j.metadata?.deletionTimestamp);
      const names: string[] = [];
      for (let minute = 1; minute <= 2; minute++) {
        const due = Math.ceil((clock.now() + 1) / 60_000) * 60_000;
        // The controller has seen the CronJob once it has a timer for the next schedule on its clock.
        await eventually(() => clock.pending() > 0, 'the controller\'s timer for the next schedule');
        clock.advance(due - clock.now() + 200);
        const job = await eventually(async () => (await tickJobs()).find((j) => !names.includes(j.metadata!.name!)), `the job of minute ${minute}`);
        expect(job.metadata!.name).toBe(`tick-${due / 60_000}`);
        expect(job.metadata!.annotations!['batch.kubernetes.io/cronjob-scheduled-timestamp']).toBe(rfc3339(due));
        names.push(job.metadata!.name!);
        await eventually(async () => (await finishPods(job.metadata!.name!, 'Succeeded')) > 0, 'its pod');
        await eventually(async () => cond(await getJob(job.metadata!.name!), 'Complete'), 'it completes');
      }
      // The history limit: the older completed Job goes, the newer stays.
      await eventually(async () => {
        const left = (await tickJobs()).map((j) => j.metadata!.name);
        return left.length === 1 && left[0] === names[1];
      }, 'one completed job kept');
      // The status follows the Job's completion on the controller's next sync of the CronJob.
      const stored = await eventually(async () => {
        const cur = await client.get<CronJob>(CRONJOBS, NS, 'tick');
        return cur.status?.lastSuccessfulTime && !cur.status?.active && cur;
      }, 'the CronJob status with no active Job and a last success');
      expect(stored.status).toMatchObject({ lastScheduleTime: rfc3339(Number(names[1].slice(5)) * 60_000) });
      const table = (await kubectl('get', 'cronjob', 'tick', '-n', NS)).trim().split('\n');
      expect(table[0].split(/\s{2,}/)).toEqual(['NAME', 'SCHEDULE', 'TIMEZONE', 'SUSPEND', 'ACTIVE', 'LAST SCHEDULE', 'AGE']);
      expect(table[1].split(/\s{2,}/).slice(0, 5)).toEqual(['tick', '*/1 * * * *', '<none>', 'False', '0']);
    } finally {
      ac.abort();
      await running;
      await informers.shutdown();
    }
  });
});
