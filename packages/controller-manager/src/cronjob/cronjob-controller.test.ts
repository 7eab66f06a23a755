import { describe, expect, it } from 'vitest';
import { CRONJOBS, EVENTS, JOBS, rfc3339, type CronJob, type Job, type KubeObject } from '@k8ts/api';
import { FakeClock, FakeInformerFactory, RecordingClient } from '@k8ts/api/testing';
import { CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION, CronJobController, jobNameFor } from './cronjob-controller.js';
import { formatInZone, mostRecentScheduleTime, nextScheduleDelay, parseSchedule } from './schedule.js';

const at = (s: string) => Date.parse(s);
const iso = (t: number) => new Date(t).toISOString().replace('.000Z', 'Z');

describe('parseSchedule', () => {
  const nexts = (schedule: string, from: string, n: number, tz?: string) => {
    const s = parseSchedule(schedule, tz);
    const out: string[] = [];
    for (let t = at(from), i = 0; i < n; i++) out.push(iso((t = s.next(t))));
    return out;
  };
  it.each([
    ['@hourly', ['2026-03-08T07:00:00Z', '2026-03-08T08:00:00Z']],
    ['@daily', ['2026-03-09T00:00:00Z', '2026-03-10T00:00:00Z']],
    ['@midnight', ['2026-03-09T00:00:00Z', '2026-03-10T00:00:00Z']],
    ['@weekly', ['2026-03-15T00:00:00Z', '2026-03-22T00:00:00Z']],
    ['@monthly', ['2026-04-01T00:00:00Z', '2026-05-01T00:00:00Z']],
    ['@yearly', ['2027-01-01T00:00:00Z', '2028-01-01T00:00:00Z']],
    ['@annually', ['2027-01-01T00:00:00Z', '2028-01-01T00:00:00Z']],
    ['@every 90s', ['2026-03-08T06:31:30Z', '2026-03-08T06:33:00Z']],
    ['*/15 * * * *', ['2026-03-08T06:45:00Z', '2026-03-08T07:00:00Z']],
    ['0 0 13 * 5', ['2026-03-13T00:00:00Z', '2026-03-20T00:00:00Z']], // day-of-month OR day-of-week, as cron
  ])('%s', (schedule, want) => {
    expect(nexts(schedule, '2026-03-08T06:30:00Z', 2)).toEqual(want);
  });

  it('reads the schedule in timeZone', () => {
    expect(nexts('0 9 * * *', '2026-06-01T12:00:00Z', 1, 'Asia/Tokyo')).toEqual(['2026-06-02T00:00:00Z']);
    expect(nexts('0 9 * * *', '2026-06-01T12:00:00Z', 1, 'America/New_York')).toEqual(['2026-06-01T13:00:00Z']);
  });

  it('DST: hourly stays an hour apart across both transitions; a daily time in the repeated hour runs once', () => {
    expect(nexts('0 * * * *', '2026-11-01T04:30:00Z', 4, 'America/New_York'))
      .toEqual(['2026-11-01T05:00:00Z', '2026-11-01T06:00:00Z', '2026-11-01T07:00:00Z', '2026-11-01T08:00:00Z']);
    expect(nexts('0 * * * *', '2026-03-08T05:30:00Z', 3, 'America/New_York'))
      .toEqual(['2026-03-08T06:00:00Z', '2026-03-08T07:00:00Z', '2026-03-08T08:00:00Z']);
    // 01:30 happens twice on 1 November in New York: one run, on the first.
    expect(nexts('30 1 * * *', '2026-10-31T12:00:00Z', 2, 'America/New_York')).toEqual(['2026-11-01T05:30:00Z', '2026-11-02T06:30:00Z']);
    // 02:30 does not exist on 8 March: no run is skipped for the day.
    const spring = nexts('30 2 * * *', '2026-03-07T12:00:00Z', 2, 'America/New_York');
    expect(spring[1]).toBe('2026-03-09T06:30:00Z');
    expect(at(spring[0])).toBeGreaterThan(at('2026-03-08T06:00:00Z'));
    expect(at(spring[0])).toBeLessThan(at('2026-03-09T00:00:00Z'));
  });

  it('refuses what is not a five-field schedule', () => {
    expect(() => parseSchedule('* * * *')).toThrow(/exactly 5 fields/);
    expect(() => parseSchedule('@fortnightly')).toThrow(/descriptor/);
    expect(() => parseSchedule('61 * * * *')).toThrow();
    expect(() => parseSchedule('TZ=UTC * * * * *')).toThrow(/timeZone/);
  });

  it('formats the scheduled time in the CronJob time zone, as Go RFC 3339', () => {
    expect(formatInZone(at('2026-12-02T00:00:00Z'))).toBe('2026-12-02T00:00:00Z');
    expect(formatInZone(at('2026-12-02T00:00:00Z'), 'Europe/Paris')).toBe('2026-12-02T01:00:00+01:00');
    expect(formatInZone(at('2026-07-02T00:00:00Z'), 'America/New_York')).toBe('2026-07-01T20:00:00-04:00');
    expect(formatInZone(at('2026-07-02T00:00:00Z'), 'Asia/Kolkata')).toBe('2026-07-02T05:30:00+05:30');
  });
});

describe('mostRecentScheduleTime', () => {
  const everyMinute = parseSchedule('*/1 * * * *');
  const created = at('2026-12-01T10:00:30Z');
  it('nothing due before the first activation; the one due after it', () => {
    expect(mostRecentScheduleTime(everyMinute, at('2026-12-01T10:00:59Z'), { creationTime: created }).mostRecent).toBeUndefined();
    expect(mostRecentScheduleTime(everyMinute, at('2026-12-01T10:01:10Z'), { creationTime: created })).toMatchObject({ mostRecent: at('2026-12-01T10:01:00Z'), missed: 'none' });
  });
  it('several missed: only the latest is started', () => {
    const r = mostRecentScheduleTime(everyMinute, at('2026-12-01T10:07:10Z'), { creationTime: created, lastScheduleTime: at('2026-12-01T10:02:00Z') });
    expect(r).toMatchObject({ mostRecent: at('2026-12-01T10:07:00Z'), missed: 'few' });
  });
  it('more than 100 missed is "many"; startingDeadlineSeconds bounds how far back it looks', () => {
    const now = at('2026-12-01T14:00:10Z');
    expect(mostRecentScheduleTime(everyMinute, now, { creationTime: created })).toMatchObject({ mostRecent: at('2026-12-01T14:00:00Z'), missed: 'many' });
    expect(mostRecentScheduleTime(everyMinute, now, { creationTime: created, startingDeadlineSeconds: 200 })).toMatchObject({ mostRecent: at('2026-12-01T14:00:00Z'), missed: 'few' });
    expect(mostRecentScheduleTime(parseSchedule('0 * * * *'), now, { creationTime: now - 3600_000 + 20_000, startingDeadlineSeconds: 5 }).mostRecent).toBeUndefined();
  });
  it('the next sync is 100 ms after the next activation', () => {
    expect(nextScheduleDelay(everyMinute, at('2026-12-01T10:01:10Z'), { creationTime: created, lastScheduleTime: at('2026-12-01T10:01:00Z') })).toBe(50_100);
    expect(nextScheduleDelay(parseSchedule('@hourly'), at('2026-12-01T10:01:10Z'), { creationTime: created })).toBe(at('2026-12-01T11:00:00Z') - at('2026-12-01T10:01:10Z') + 100);
  });
});

const T0 = at('2026-12-01T10:00:30Z');
const CJ_UID = 'cj-uid';

function cronJob(spec: Partial<CronJob['spec']> = {}, status: CronJob['status'] = {}): CronJob {
  return {
    apiVersion: 'batch/v1', kind: 'CronJob',
    metadata: { name: 'tick', namespace: 'default', uid: CJ_UID, resourceVersion: '3', creationTimestamp: rfc3339(T0) },
    spec: {
      schedule: '*/1 * * * *', concurrencyPolicy: 'Allow', suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1,
      jobTemplate: { metadata: { labels: { app: 'tick' }, annotations: { note: 'x' } }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } },
      ...spec,
    },
    status,
  };
}

function ownedJob(name: string, opts: { finished?: 'Complete' | 'Failed'; start?: number; done?: number } = {}): Job {
  return {
    apiVersion: 'batch/v1', kind: 'Job',
    metadata: {
      name, namespace: 'default', uid: `uid-${name}`, resourceVersion: '7',
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'tick', uid: CJ_UID, controller: true, blockOwnerDeletion: true }],
    },
    spec: { template: { spec: { containers: [] } } },
    status: {
      ...(opts.start ? { startTime: rfc3339(opts.start) } : {}),
      ...(opts.finished ? { conditions: [{ type: opts.finished, status: 'True', lastTransitionTime: rfc3339(opts.done ?? T0) }] } : {}),
      ...(opts.finished === 'Complete' ? { completionTime: rfc3339(opts.done ?? T0) } : {}),
    },
  };
}

function setup(cj: CronJob, jobs: Job[] = [], now = T0) {
  const clock = new FakeClock(now);
  const client = new RecordingClient({ objects: [cj, ...jobs], clock });
  const informers = new FakeInformerFactory([cj, ...jobs]);
  const controller = new CronJobController({ client, informers, clock });
  const stored = () => client.stored<CronJob>(CRONJOBS, 'default', 'tick')!;
  /** Sync, and let the informers see the CronJob and Jobs as they now are. */
  const step = async () => {
    await controller.sync('default/tick');
    informers.informerFor<CronJob>(CRONJOBS).update(stored());
    const ji = informers.informerFor<Job>(JOBS);
    const all = (await client.list<Job>(JOBS, 'default')).items;
    for (const j of ji.list()) if (!all.some((x) => x.metadata!.name === j.metadata!.name)) ji.delete(j);
    for (const j of all) ji.update(j);
  };
  const createdJobs = () => client.writes().filter((w) => w.verb === 'create' && w.resource === 'jobs').map((w) => w.object as Job);
  const deletedJobs = () => client.writes().filter((w) => w.verb === 'delete' && w.resource === 'jobs').map((w) => w.name);
  const events = async () => (await client.list<KubeObject & { reason?: string; message?: string }>(EVENTS, 'default')).items.map((e) => `${e.reason}: ${e.message}`);
  /** Drains what is queued now; answers whether the key was due. */
  const due = async () => {
    if (controller.queue.len() === 0) return false;
    const k = await controller.queue.get();
    controller.queue.done(k!);
    return true;
  };
  return { clock, client, informers, controller, stored, step, createdJobs, deletedJobs, events, due };
}

describe('CronJobController.sync', () => {
  it('starts the Job of the due minute, named <cronjob>-<minutes since epoch>, and requeues at the next activation', async () => {
    const h = setup(cronJob());
    await h.due(); // the informer's initial add
    await h.step();
    expect(h.createdJobs()).toHaveLength(0); // created at :30, nothing due before 10:01
    expect(await h.due()).toBe(false);
    h.clock.advance(29_900);
    expect(await h.due()).toBe(false);
    h.clock.advance(200); // 10:01:00.1
    expect(await h.due()).toBe(true);
    await h.step();
    const [made] = h.createdJobs();
    const scheduled = at('2026-12-01T10:01:00Z');
    expect(made.metadata).toMatchObject({
      name: `tick-${scheduled / 60_000}`, labels: { app: 'tick' },
      annotations: { note: 'x', [CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION]: '2026-12-01T10:01:00Z' },
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'tick', uid: CJ_UID, controller: true }],
    });
    expect(made.spec).toEqual(cronJob().spec!.jobTemplate.spec);
    expect(jobNameFor('tick', scheduled)).toBe('tick-29935321');
    const s = h.stored().status!;
    expect(s.lastScheduleTime).toBe('2026-12-01T10:01:00Z');
    expect(s.active).toMatchObject([{ kind: 'Job', name: made.metadata!.name, namespace: 'default', apiVersion: 'batch/v1' }]);
    expect(await h.events()).toContain(`SuccessfulCreate: Created job ${made.metadata!.name}`);
    // Synced again within the minute: nothing new (the name is the lock).
    h.client.clearActions();
    await h.step();
    expect(h.createdJobs()).toHaveLength(0);
  });

  it('after missing many activations starts only the latest, with a TooManyMissedTimes warning', async () => {
    const h = setup(cronJob(), [], at('2026-12-01T14:00:10Z'));
    await h.step();
    expect(h.createdJobs().map((j) => j.metadata!.name)).toEqual([jobNameFor('tick', at('2026-12-01T14:00:00Z'))]);
    expect(await h.events()).toContain('TooManyMissedTimes: too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
  });

  it('startingDeadlineSeconds: an activation missed by more than the deadline is not started', async () => {
    const h = setup(cronJob({ schedule: '0 * * * *', startingDeadlineSeconds: 30 }), [], at('2026-12-01T11:00:45Z'));
    await h.step();
    expect(h.createdJobs()).toHaveLength(0);
    const h2 = setup(cronJob({ schedule: '0 * * * *', startingDeadlineSeconds: 60 }), [], at('2026-12-01T11:00:45Z'));
    await h2.step();
    expect(h2.createdJobs()).toHaveLength(1);
  });

  it('concurrencyPolicy Forbid skips while a Job runs; Replace deletes the running one first', async () => {
    const running = ownedJob('tick-1', { start: T0 });
    const status = { active: [{ kind: 'Job', name: 'tick-1', namespace: 'default', uid: 'uid-tick-1', apiVersion: 'batch/v1' }], lastScheduleTime: '2026-12-01T10:01:00Z' };
    const forbid = setup(cronJob({ concurrencyPolicy: 'Forbid' }, status), [running], at('2026-12-01T10:02:01Z'));
    await forbid.step();
    expect(forbid.createdJobs()).toHaveLength(0);
    expect(await forbid.events()).toContain('JobAlreadyActive: Not starting job because prior execution is running and concurrency policy is Forbid');
    const replace = setup(cronJob({ concurrencyPolicy: 'Replace' }, status), [running], at('2026-12-01T10:02:01Z'));
    await replace.step();
    expect(replace.deletedJobs()).toEqual(['tick-1']);
    expect(replace.client.writes().find((w) => w.verb === 'delete')!.options).toMatchObject({ propagationPolicy: 'Background' });
    expect(replace.createdJobs()).toHaveLength(1);
    expect(replace.stored().status!.active!.map((r) => r.name)).toEqual([replace.createdJobs()[0].metadata!.name]);
    const allow = setup(cronJob(), [running].map((j) => structuredClone(j)), at('2026-12-01T10:02:01Z'));
    allow.client.seed(cronJob({}, status));
    allow.informers.informerFor<CronJob>(CRONJOBS).update(cronJob({}, status));
    await allow.step();
    expect(allow.stored().status!.active).toHaveLength(2);
  });

  it('suspend starts nothing', async () => {
    const h = setup(cronJob({ suspend: true }), [], at('2026-12-01T10:05:01Z'));
    await h.step();
    expect(h.createdJobs()).toHaveLength(0);
  });

  it('moves finished Jobs out of active, records lastSuccessfulTime, and keeps the history limits (oldest go first)', async () => {
    const done = (n: number, finished: 'Complete' | 'Failed') => ownedJob(`tick-${n}`, { finished, start: T0 + n * 60_000, done: T0 + n * 60_000 + 5000 });
    const jobs = [done(1, 'Complete'), done(2, 'Complete'), done(3, 'Failed'), done(4, 'Complete'), done(5, 'Failed')];
    const h = setup(cronJob({ successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 1 }, {
      active: [{ kind: 'Job', name: 'tick-5', namespace: 'default', uid: 'uid-tick-5', apiVersion: 'batch/v1' }],
      lastScheduleTime: rfc3339(T0 + 5 * 60_000),
    }), jobs, T0 + 5 * 60_000 + 10_000);
    await h.step();
    expect(h.deletedJobs().sort()).toEqual(['tick-1', 'tick-2', 'tick-3']);
    const s = h.stored().status!;
    expect(s.active).toBeUndefined();
    expect(s.lastSuccessfulTime).toBe(rfc3339(T0 + 4 * 60_000 + 5000));
    expect(await h.events()).toContain('SawCompletedJob: Saw completed job: tick-5, condition: Failed');
  });

  it('drops an active Job that is gone from the apiserver (MissingJob)', async () => {
    const h = setup(cronJob({}, { active: [{ kind: 'Job', name: 'tick-9', namespace: 'default', uid: 'uid-9', apiVersion: 'batch/v1' }], lastScheduleTime: rfc3339(T0) }), [], T0 + 10_000);
    await h.step();
    expect(h.stored().status!.active).toBeUndefined();
    expect(await h.events()).toContain('MissingJob: Active job went missing: tick-9');
  });

  it('in a time zone, the annotation carries the zone offset', async () => {
    const h = setup(cronJob({ schedule: '1 11 * * *', timeZone: 'Europe/Paris' }), [], at('2026-12-01T10:01:05Z'));
    await h.step();
    expect(h.createdJobs()[0].metadata!.annotations![CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION]).toBe('2026-12-01T11:01:00+01:00');
  });
});
