import { describe, expect, it } from 'vitest';
import { JOBS, rfc3339, type Job } from '@k8ts/api';
import { FakeClock, FakeInformerFactory, RecordingClient } from '@k8ts/api/testing';
import { TTLAfterFinishedController } from './ttl-after-finished-controller.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');

function job(ttl: number | undefined, finished?: 'Complete' | 'Failed', at = T0): Job {
  return {
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j', namespace: 'default', uid: 'u1', resourceVersion: '4' },
    spec: { ...(ttl === undefined ? {} : { ttlSecondsAfterFinished: ttl }), template: { spec: { containers: [] } } },
    status: finished ? { conditions: [{ type: finished, status: 'True', lastTransitionTime: rfc3339(at) }] } : {},
  };
}

function setup(j: Job, fresh: Job = j) {
  const clock = new FakeClock(T0);
  const client = new RecordingClient({ objects: [fresh], clock });
  const informers = new FakeInformerFactory([j]);
  const controller = new TTLAfterFinishedController({ client, informers, clock });
  const deletes = () => client.writes().filter((w) => w.verb === 'delete');
  return { clock, client, controller, deletes };
}

describe('TTLAfterFinishedController.sync', () => {
  it('deletes a finished Job when its TTL passes, in the foreground with a uid precondition; requeued for that moment', async () => {
    const h = setup(job(30, 'Complete'));
    expect(h.controller.queue.len()).toBe(1);
    const k = await h.controller.queue.get(); h.controller.queue.done(k!);
    await h.controller.sync('default/j');
    expect(h.deletes()).toHaveLength(0);
    h.clock.advance(29_999);
    expect(h.controller.queue.len()).toBe(0);
    h.clock.advance(1);
    expect(h.controller.queue.len()).toBe(1);
    await h.controller.sync('default/j');
    expect(h.deletes()).toMatchObject([{ resource: 'jobs', name: 'j', options: { propagationPolicy: 'Foreground', preconditions: { uid: 'u1' } } }]);
    expect(h.client.stored(JOBS, 'default', 'j')).toBeUndefined();
  });

  it('leaves alone Jobs that have not finished, have no TTL, or whose fresh copy has a longer TTL', async () => {
    for (const j of [job(0), job(undefined, 'Failed')]) {
      const h = setup(j);
      h.clock.advance(3600_000);
      await h.controller.sync('default/j');
      expect(h.deletes()).toHaveLength(0);
    }
    const h = setup(job(10, 'Failed'), job(7200, 'Failed'));
    h.clock.advance(60_000);
    await h.controller.sync('default/j');
    expect(h.deletes()).toHaveLength(0);
    const failed = setup(job(0, 'Failed'));
    await failed.controller.sync('default/j');
    expect(failed.deletes()).toHaveLength(1);
  });
});
