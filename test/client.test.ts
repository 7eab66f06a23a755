import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, ApiError, findResource, Informer, LeaderElector, WorkQueue, type KubeObject } from '@k8ts/api';
import { call, eventually, startTestApiserver, type TestApiserver } from './harness.js';

const CM = findResource('', 'v1', 'configmaps')!;
const LEASES = findResource('coordination.k8s.io', 'v1', 'leases')!;
let s: TestApiserver;
let client: ApiClient;

beforeAll(async () => {
  s = await startTestApiserver({ compactionIntervalMs: 0 });
  client = new ApiClient({ server: s.url });
  await client.create(findResource('', 'v1', 'namespaces')!, undefined, { metadata: { name: 'clients' } });
});
afterAll(async () => { await client?.close(); await s?.stop(); });

describe('@k8ts/api against the real apiserver and etcd', () => {
  it('does every verb and surfaces typed errors', async () => {
    const created = await client.create(CM, 'clients', { metadata: { name: 'c1' }, data: { a: '1' } } as KubeObject);
    expect(created.metadata?.uid).toBeTruthy();
    const got = await client.get(CM, 'clients', 'c1');
    expect((got as any).data).toEqual({ a: '1' });
    const updated = await client.update(CM, 'clients', { ...got, data: { a: '2' } } as KubeObject);
    const stale = await client.update(CM, 'clients', { ...got, data: { a: '3' } } as KubeObject).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(ApiError);
    expect((stale as ApiError).isConflict).toBe(true);
    const patched = await client.patch(CM, 'clients', 'c1', { data: { b: '3' } }, 'merge');
    expect((patched as any).data).toEqual({ a: '2', b: '3' });
    expect(Number(patched.metadata?.resourceVersion)).toBeGreaterThan(Number(updated.metadata?.resourceVersion));
    const list = await client.list(CM, 'clients', { labelSelector: '' });
    expect(list.items.map((i) => i.metadata?.name)).toEqual(['c1']);
    await client.delete(CM, 'clients', 'c1');
    const gone = await client.get(CM, 'clients', 'c1').catch((e: unknown) => e);
    expect((gone as ApiError).isNotFound).toBe(true);
    expect((gone as ApiError).message).toBe('configmaps "c1" not found');
  });

  it('informs: list, then watch, with handlers in event order and a cache that matches the server', async () => {
    const informer = new Informer({ client, def: CM, namespace: 'clients' });
    const seen: string[] = [];
    informer.addHandler({
      onAdd: (o) => seen.push(`add ${o.metadata?.name}`),
      onUpdate: (_old, o) => seen.push(`update ${o.metadata?.name}`),
      onDelete: (o) => seen.push(`delete ${o.metadata?.name}`),
    });
    await client.create(CM, 'clients', { metadata: { name: 'before' } } as KubeObject);
    const ac = new AbortController();
    const running = informer.run(ac.signal);
    await informer.waitForSync(ac.signal);
    expect(informer.get('clients/before')).toBeTruthy();
    await client.create(CM, 'clients', { metadata: { name: 'after' } } as KubeObject);
    await client.patch(CM, 'clients', 'after', { data: { x: 'y' } }, 'merge');
    await client.delete(CM, 'clients', 'before');
    await eventually(() => seen.length === 4, 'four events');
    expect(seen).toEqual(['add before', 'add after', 'update after', 'delete before']);
    expect(informer.list().map((o) => o.metadata?.name)).toEqual(['after']);
    ac.abort();
    await running;
  });

  it('feeds a work queue that hands each key to one worker at a time', async () => {
    const queue = new WorkQueue<string>();
    const informer = new Informer({ client, def: CM, namespace: 'clients' });
    informer.addHandler({ onAdd: (o) => queue.add(`clients/${o.metadata?.name}`), onUpdate: (_o, n) => queue.add(`clients/${n.metadata?.name}`) });
    const ac = new AbortController();
    const running = informer.run(ac.signal);
    await informer.waitForSync(ac.signal);
    for (let i = 0; i < 5; i++) await client.patch(CM, 'clients', 'after', { data: { i: String(i) } }, 'merge');
    const synced: string[] = [];
    await eventually(async () => {
      while (queue.len() > 0) {
        const key = await queue.get();
        if (key) { synced.push(key); queue.done(key); }
      }
      return informer.get('clients/after') && (informer.get('clients/after') as any).data.i === '4';
    }, 'the informer to see the last write');
    expect(synced.length).toBeGreaterThanOrEqual(1);
    expect(synced.every((k) => k === 'clients/after')).toBe(true);
    queue.shutDown();
    ac.abort();
    await running;
  });

  it('elects one leader on a Lease and fails over when it stops', async () => {
    const leaders: string[] = [];
    const elector = (identity: string) => new LeaderElector({
      client, namespace: 'clients', name: 'demo-leader', identity, leaseDurationSeconds: 3, renewDeadlineSeconds: 2, retryPeriodSeconds: 1,
    });
    const a = elector('a');
    const b = elector('b');
    const acA = new AbortController();
    const acB = new AbortController();
    const runA = a.run(acA.signal, { onStartedLeading: (sig) => { leaders.push('a'); return new Promise<void>((r) => sig.addEventListener('abort', () => r())); } });
    await eventually(() => a.isLeader(), 'a to lead');
    const runB = b.run(acB.signal, { onStartedLeading: (sig) => { leaders.push('b'); return new Promise<void>((r) => sig.addEventListener('abort', () => r())); } });
    const lease = await client.get(LEASES, 'clients', 'demo-leader');
    expect((lease as any).spec.holderIdentity).toBe('a');
    expect(b.isLeader()).toBe(false);
    acA.abort(); // a releases the lease on shutdown: b takes over
    await runA;
    await eventually(() => b.isLeader(), 'b to take over', 15_000);
    expect(leaders).toEqual(['a', 'b']);
    acB.abort();
    await runB;
  });

  it('says where it looked when the apiserver is down', async () => {
    const dead = new ApiClient({ server: 'http://127.0.0.1:1' });
    const err = await dead.get(CM, 'default', 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(503);
    expect((err as ApiError).message).toContain('127.0.0.1:1');
    await dead.close();
  });

  it('survives a flood of requests: every answer is a 2xx or a 429, and the server stays up', async () => {
    const flood = await startTestApiserver({ maxRequestsInflight: 20, compactionIntervalMs: 0 });
    try {
      const codes = await Promise.all(Array.from({ length: 400 }, (_, i) =>
        call(flood.url, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: `f-${i}` } }).then((r) => r.status)));
      expect(codes.every((c) => c === 201 || c === 429)).toBe(true);
      expect(codes.filter((c) => c === 201).length).toBeGreaterThan(0);
      expect((await call(flood.url, 'GET', '/readyz')).status).toBe(200);
      const stored = (await call(flood.url, 'GET', '/api/v1/namespaces/default/configmaps')).body.items.length;
      expect(stored).toBe(codes.filter((c) => c === 201).length);
    } finally {
      await flood.stop();
    }
  });
});
