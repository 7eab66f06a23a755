import { describe, expect, it } from 'vitest';
import { FakeClock, type Pod } from '@k8ts/api';
import { SchedulingQueue } from './queue.js';

const pod = (name: string, priority?: number, extra: Partial<Pod> = {}): Pod => ({
  metadata: { name, namespace: 'default', uid: `uid-${name}`, resourceVersion: '1' },
  spec: { containers: [{ name: 'c', image: 'nginx' }], priority },
  ...extra,
});
const names = (pods: Pod[]) => pods.map((p) => p.metadata!.name);

function setup() {
  const clock = new FakeClock();
  const q = new SchedulingQueue({ clock });
  const pending = () => {
    const { active, backoff, unschedulable } = q.pendingPods();
    return { active: names(active), backoff: names(backoff), unschedulable: names(unschedulable) };
  };
  return { clock, q, pending };
}

/** Pops `name` (which must be next) and fails the attempt as unschedulable. */
async function fail(q: SchedulingQueue, name: string, opts?: { backoff?: boolean }) {
  const qp = await q.pop();
  expect(qp?.pod.metadata?.name).toBe(name);
  q.addUnschedulable(qp!, opts);
  return qp!;
}

describe('SchedulingQueue', () => {
  it('pops higher priority first, then in arrival order', async () => {
    const { clock, q, pending } = setup();
    q.add(pod('a'));
    q.add(pod('b', 10));
    clock.advance(1);
    q.add(pod('c', 0));
    q.add(pod('d', 10));
    q.add(pod('e', -5));
    expect(pending().active).toEqual(['b', 'd', 'a', 'c', 'e']);
    const popped = [];
    for (let i = 0; i < 5; i++) popped.push((await q.pop())!.pod.metadata!.name);
    expect(popped).toEqual(['b', 'd', 'a', 'c', 'e']);
    expect(q.len()).toBe(0);
  });

  it('pop blocks until a pod arrives, and resolves undefined on abort and close', async () => {
    const { q } = setup();
    const waiting = q.pop();
    q.add(pod('a'));
    const qp = await waiting;
    expect(qp).toMatchObject({ pod: { metadata: { name: 'a' } }, attempts: 1 });
    expect(qp!.initialAttemptTimestamp).toBe(qp!.timestamp);

    const ac = new AbortController();
    const aborted = q.pop(ac.signal);
    ac.abort();
    expect(await aborted).toBeUndefined();

    const closed = q.pop();
    q.close();
    expect(await closed).toBeUndefined();
    q.add(pod('b'));
    expect(await q.pop()).toBeUndefined();
  });

  it('backs a pod off for 1, 2, 4, 8, 10, 10 s after successive failures', async () => {
    const { clock, q, pending } = setup();
    q.add(pod('a'));
    for (const seconds of [1, 2, 4, 8, 10, 10]) {
      const qp = (await q.pop())!;
      q.addBackoff(qp);
      expect(pending().backoff).toEqual(['a']);
      clock.advance(seconds * 1000 - 1);
      expect(pending().backoff).toEqual(['a']);
      clock.advance(1);
      expect(pending().active).toEqual(['a']);
    }
    expect((await q.pop())!.attempts).toBe(7);
  });

  it('keeps an unschedulable pod until an event moves it: to backoffQ while backing off, else activeQ', async () => {
    const { clock, q, pending } = setup();
    q.add(pod('a'));
    q.add(pod('b'));
    await fail(q, 'a');
    await fail(q, 'b');
    clock.advance(20_000);
    expect(pending()).toEqual({ active: [], backoff: [], unschedulable: ['a', 'b'] });

    q.moveAllToActiveOrBackoff('NodeAdd');
    expect(pending()).toEqual({ active: ['a', 'b'], backoff: [], unschedulable: [] });

    await fail(q, 'a'); // second failure: 2 s backoff
    clock.advance(500);
    q.moveAllToActiveOrBackoff('NodeUpdate');
    expect(pending()).toEqual({ active: ['b'], backoff: ['a'], unschedulable: [] });
    clock.advance(1_500);
    // b's timestamp is its failure at 0 s, a's its failure at 20 s.
    expect(pending()).toEqual({ active: ['b', 'a'], backoff: [], unschedulable: [] });
  });

  it('sends a failed pod to backoffQ when an event arrived during its attempt, or when asked to', async () => {
    const { q, pending } = setup();
    q.add(pod('a'));
    q.add(pod('b'));
    const a = (await q.pop())!;
    q.moveAllToActiveOrBackoff('NodeAdd');
    q.addUnschedulable(a);
    await fail(q, 'b', { backoff: true });
    expect(pending()).toEqual({ active: [], backoff: ['a', 'b'], unschedulable: [] });
  });

  it('retries pods left unschedulable for 60 s, checking every 30 s', async () => {
    const { clock, q, pending } = setup();
    q.add(pod('a'));
    await fail(q, 'a');
    clock.advance(10_000);
    q.add(pod('b'));
    await fail(q, 'b');
    clock.advance(50_000); // t=60 s: a has waited 60 s, b 50 s
    expect(pending()).toEqual({ active: ['a'], backoff: [], unschedulable: ['b'] });
    clock.advance(30_000); // t=90 s
    expect(pending()).toEqual({ active: ['a', 'b'], backoff: [], unschedulable: [] });
  });

  it('updates pods in place, and moves an unschedulable pod whose spec changed', async () => {
    const { clock, q, pending } = setup();
    q.add(pod('a'));
    q.add(pod('b'));
    q.add(pod('c'));
    q.update(pod('a'), pod('a', undefined, { metadata: { ...pod('a').metadata, labels: { x: 'y' } } }));
    expect(pending().active).toEqual(['a', 'b', 'c']);
    expect(q.pendingPods().active[0].metadata?.labels).toEqual({ x: 'y' });
    q.add(pod('b')); // a re-list: no duplicate
    expect(q.len()).toBe(3);

    await fail(q, 'a');
    // Status and resourceVersion only (e.g. our own PodScheduled=False): stays, but the object is replaced.
    const statusOnly = pod('a', undefined, {
      metadata: { ...pod('a').metadata, resourceVersion: '2' },
      status: { conditions: [{ type: 'PodScheduled', status: 'False' }] },
    });
    q.update(pod('a'), statusOnly);
    expect(pending().unschedulable).toEqual(['a']);
    expect(q.pendingPods().unschedulable[0]).toBe(statusOnly);

    const relabelled = pod('a', undefined, { metadata: { ...pod('a').metadata, labels: { x: 'z' } } });
    q.update(statusOnly, relabelled);
    expect(pending()).toEqual({ active: ['b', 'c'], backoff: ['a'], unschedulable: [] }); // still within its 1 s
    clock.advance(1_000);
    expect(pending().active).toEqual(['b', 'c', 'a']); // same timestamp as b and c, which came first

    q.delete(pod('b'));
    q.delete(pod('c'));
    await fail(q, 'a');
    clock.advance(5_000);
    q.update(relabelled, pod('a', undefined, { spec: { containers: [{ name: 'c', image: 'nginx:2' }] } }));
    expect(pending()).toEqual({ active: ['a'], backoff: [], unschedulable: [] });
  });

  it('treats a spec change during an attempt like an event, and keeps the newest object', async () => {
    const { q, pending } = setup();
    q.add(pod('a'));
    const qp = (await q.pop())!;
    const changed = pod('a', undefined, { spec: { containers: [{ name: 'c', image: 'nginx:2' }] } });
    q.update(pod('a'), changed);
    expect(q.len()).toBe(0); // not queued twice while in flight
    q.addUnschedulable(qp);
    expect(pending().backoff).toEqual(['a']);
    expect(q.pendingPods().backoff[0]).toBe(changed);
  });

  it('deletes a pod from any sub-queue, and from flight', async () => {
    const { q, pending } = setup();
    for (const n of ['a', 'b', 'c', 'd', 'e']) q.add(pod(n));
    await fail(q, 'a');
    await fail(q, 'b', { backoff: true });
    const c = (await q.pop())!;
    expect(pending()).toEqual({ active: ['d', 'e'], backoff: ['b'], unschedulable: ['a'] });
    for (const n of ['a', 'b', 'c', 'd']) q.delete(pod(n));
    q.addUnschedulable(c); // deleted while in flight: dropped
    expect(pending()).toEqual({ active: ['e'], backoff: [], unschedulable: [] });
    expect(q.len()).toBe(1);
  });

  it('drops pods once bound or finished, and never queues them', async () => {
    const { q, pending } = setup();
    q.add(pod('a'));
    q.add(pod('b'));
    q.update(pod('a'), pod('a', undefined, { spec: { containers: [], nodeName: 'n1' } }));
    q.update(pod('b'), pod('b', undefined, { status: { phase: 'Failed' } }));
    q.add(pod('c', undefined, { spec: { containers: [], nodeName: 'n1' } }));
    expect(pending()).toEqual({ active: [], backoff: [], unschedulable: [] });
  });

  it('stops its timers on close', async () => {
    const { clock, q } = setup();
    q.add(pod('a'));
    q.addBackoff((await q.pop())!);
    expect(clock.pending()).toBe(2); // the backoff flush and the leftover check
    q.close();
    expect(clock.pending()).toBe(0);
  });
});
