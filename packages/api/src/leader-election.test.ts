import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeApiServer, waitFor } from '../test/fake-apiserver.js';
import { ApiClient } from './client.js';
import { realClock } from './clock.js';
import { LeaderElector, microTime, type LeaderElectorOptions } from './leader-election.js';
import type { Lease } from './types.js';

const LEASES_PATH = '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases';
const MICRO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

let server: FakeApiServer;
let client: ApiClient;
const stops: (() => Promise<void>)[] = [];

beforeEach(async () => {
  server = await new FakeApiServer().start();
  client = new ApiClient({ server: server.url });
});

afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
  await client.close();
  await server.close();
});

const lease = (): Lease | undefined => server.get(LEASES_PATH, 'kube-system', 'controller-manager') as Lease | undefined;

/** Runs an elector with fast timings; records its callbacks. */
function campaign(identity: string, opts: Partial<LeaderElectorOptions> = {}) {
  const elector = new LeaderElector({
    client, namespace: 'kube-system', name: 'controller-manager', identity,
    leaseDurationSeconds: 2, renewDeadlineSeconds: 0.2, retryPeriodSeconds: 0.02, random: () => 0, ...opts,
  });
  const ctl = new AbortController();
  const events: string[] = [];
  let leaderSignal: AbortSignal | undefined;
  const done = elector.run(ctl.signal, {
    onStartedLeading: async (signal) => {
      leaderSignal = signal;
      events.push('started');
      // The leader's work runs until leadership ends.
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      events.push('work done');
    },
    onStoppedLeading: () => events.push('stopped'),
    onNewLeader: (id) => events.push(`leader ${id}`),
  });
  const stop = async (): Promise<void> => {
    ctl.abort();
    await done;
  };
  stops.push(stop);
  return { elector, events, done, stop, leaderSignal: () => leaderSignal };
}

describe('microTime', () => {
  it('formats MicroTime with six fractional digits', () => {
    expect(microTime(Date.UTC(2026, 10, 24, 7, 32, 17, 123))).toBe('2026-11-24T07:32:17.123000Z');
  });
});

describe('LeaderElector', () => {
  it('acquires a missing lease, renews it, and releases it on shutdown after the work ends', async () => {
    const a = campaign('a');
    await waitFor(() => a.events.includes('started'));
    expect(a.elector.isLeader()).toBe(true);
    const first = lease()!;
    expect(first.spec).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 2, leaseTransitions: 0 });
    expect(first.spec!.acquireTime).toMatch(MICRO);
    expect(first.spec!.renewTime).toMatch(MICRO);

    // Renewals keep the holder and acquireTime and move renewTime, each write conditional on resourceVersion.
    await waitFor(() => server.requestsTo('PUT', LEASES_PATH).length >= 3);
    const renewed = lease()!;
    expect(renewed.spec).toMatchObject({ holderIdentity: 'a', acquireTime: first.spec!.acquireTime, leaseTransitions: 0 });
    expect(Date.parse(renewed.spec!.renewTime!)).toBeGreaterThanOrEqual(Date.parse(first.spec!.renewTime!));
    expect((server.requestsTo('PUT', LEASES_PATH).at(-1)!.body as Lease).metadata?.resourceVersion).toBeDefined();

    await a.stop();
    expect(a.events).toEqual(['leader a', 'started', 'stopped', 'work done']);
    expect(a.leaderSignal()!.aborted).toBe(true);
    expect(a.elector.isLeader()).toBe(false);
    expect(lease()!.spec).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
  });

  it('sets its annotations on the lease when it creates or takes it over, keeping the others', async () => {
    const a = campaign('a', { annotations: { 'k8ts.io/scheduler-debug-url': 'http://127.0.0.1:1' } });
    await waitFor(() => a.events.includes('started'));
    expect(lease()!.metadata?.annotations).toEqual({ 'k8ts.io/scheduler-debug-url': 'http://127.0.0.1:1' });
    await a.stop();
    const released = lease()!;
    server.put(LEASES_PATH, { ...released, metadata: { ...released.metadata, annotations: { ...released.metadata?.annotations, other: 'kept' } } });
    const b = campaign('b', { annotations: { 'k8ts.io/scheduler-debug-url': 'http://127.0.0.2:2' } });
    await waitFor(() => b.events.includes('started'));
    expect(lease()!.metadata?.annotations).toEqual({ 'k8ts.io/scheduler-debug-url': 'http://127.0.0.2:2', other: 'kept' });
  });

  it('waits while another holds a live lease, and takes over once it is released', async () => {
    const a = campaign('a');
    await waitFor(() => a.events.includes('started'));
    const b = campaign('b');
    await waitFor(() => server.requestsTo('GET', LEASES_PATH).length >= 6);
    expect(b.events).toEqual(['leader a']);
    expect(b.elector.isLeader()).toBe(false);
    expect(b.elector.leader()).toBe('a');

    await a.stop();
    await waitFor(() => b.events.includes('started'));
    expect(lease()!.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1, leaseDurationSeconds: 2 });
  });

  it('takes over an expired lease (renewTime + leaseDuration < now)', async () => {
    const old = Date.now() - 60_000;
    server.put(LEASES_PATH, {
      apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'controller-manager', namespace: 'kube-system' },
      spec: { holderIdentity: 'dead', leaseDurationSeconds: 15, acquireTime: microTime(old), renewTime: microTime(old), leaseTransitions: 3 },
    });
    const b = campaign('b');
    await waitFor(() => b.events.includes('started'));
    expect(b.events).toEqual(['leader dead', 'leader b', 'started']);
    const spec = lease()!.spec!;
    expect(spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 4 });
    expect(Date.parse(spec.acquireTime!)).toBeGreaterThan(old);
  });

  it('stops leading (without releasing) when someone else took the lease over', async () => {
    const a = campaign('a');
    await waitFor(() => a.events.includes('started'));
    // b's clock runs ahead past a's lease: to b, a's lease has expired.
    const b = campaign('b', { clock: { ...realClock, now: () => Date.now() + 10_000 } });
    await waitFor(() => b.events.includes('started'));
    await a.done;
    expect(a.events).toEqual(['leader a', 'started', 'leader b', 'stopped', 'work done']);
    expect(a.leaderSignal()!.aborted).toBe(true);
    expect(lease()!.spec!.holderIdentity).toBe('b');
  });

  it('stops leading when renewals fail for renewDeadline', async () => {
    const a = campaign('a');
    await waitFor(() => a.events.includes('started'));
    let failedAt = 0;
    server.intercept = (req, res) => {
      if (req.method !== 'PUT') return false;
      failedAt ||= Date.now();
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"kind":"Status","apiVersion":"v1","status":"Failure","code":500,"reason":"InternalError","message":"etcd down"}');
      return true;
    };
    await a.done;
    expect(Date.now() - failedAt).toBeGreaterThanOrEqual(150);
    expect(a.events).toEqual(['leader a', 'started', 'stopped', 'work done']);
    expect(server.requestsTo('PUT', LEASES_PATH).length).toBeGreaterThan(2);
    // Lost, so no release: the lease still names a until it expires.
    expect(lease()!.spec!.holderIdentity).toBe('a');
  });

  it('retries after a 409 from a concurrent writer', async () => {
    const old = Date.now() - 60_000;
    server.put(LEASES_PATH, {
      apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'controller-manager', namespace: 'kube-system' },
      spec: { holderIdentity: 'dead', leaseDurationSeconds: 15, renewTime: microTime(old) },
    });
    let conflicts = 1;
    server.intercept = (req) => {
      // Someone else writes just before our first PUT lands: its resourceVersion is stale.
      if (req.method === 'PUT' && conflicts-- > 0) {
        const current = lease()!;
        server.put(LEASES_PATH, { ...current, spec: { ...current.spec, renewTime: microTime(old + 1) } });
      }
      return false;
    };
    const b = campaign('b');
    await waitFor(() => b.events.includes('started'));
    const puts = server.requestsTo('PUT', LEASES_PATH);
    expect(puts.length).toBeGreaterThanOrEqual(2);
    expect(lease()!.spec!.holderIdentity).toBe('b');
  });

  it('keeps campaigning through an unreachable server', async () => {
    let down = 3;
    server.intercept = (_req, res) => {
      if (down-- <= 0) return false;
      res.socket?.destroy();
      return true;
    };
    const a = campaign('a');
    await waitFor(() => a.events.includes('started'));
    expect(lease()!.spec!.holderIdentity).toBe('a');
  });

  it('rejects inconsistent timings', () => {
    expect(() => new LeaderElector({ client, namespace: 'n', name: 'l', identity: 'a', leaseDurationSeconds: 5, renewDeadlineSeconds: 10 }))
      .toThrow(/leaseDurationSeconds must be greater/);
  });
});
