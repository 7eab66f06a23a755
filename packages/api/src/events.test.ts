import { describe, expect, it } from 'vitest';
import type { ApiClient } from './client.js';
import { EventRecorder } from './events.js';

function recordingClient() {
  const calls: { verb: string; name?: string; body: any }[] = [];
  const client = {
    create: async (_def: unknown, _ns: string, body: any) => { calls.push({ verb: 'create', body }); return body; },
    patch: async (_def: unknown, _ns: string, name: string, body: any) => { calls.push({ verb: 'patch', name, body }); return body; },
  } as unknown as ApiClient;
  return { client, calls };
}

describe('EventRecorder', () => {
  it('names events as upstream, <object>.<UnixNano in hex>, so that they list in the order they happened; `at` dates one', async () => {
    const { client, calls } = recordingClient();
    const now = Date.parse('2026-11-24T08:00:00.250Z');
    const rec = new EventRecorder({ client, component: 'default-scheduler', now: () => now });
    const pod = { kind: 'Pod', apiVersion: 'v1', namespace: 'default', name: 'web', uid: 'u1' };
    await rec.record(pod, 'Normal', 'Scheduled', 'Successfully assigned default/web to node-1', now - 1500);
    for (let i = 0; i < 5; i++) await rec.record(pod, 'Normal', `R${i}`, 'm');
    const names = calls.map((c) => c.body.metadata.name as string);
    const nanos = names.map((n) => BigInt(`0x${n.slice('web.'.length)}`));
    expect(nanos[0] / 1_000_000n).toBe(BigInt(now - 1500));
    expect(nanos.slice(1).every((n) => n / 1_000_000n === BigInt(now))).toBe(true);
    expect([...names].sort()).toEqual(names);
    expect(calls[0].body).toMatchObject({ firstTimestamp: '2026-11-24T07:59:58Z', lastTimestamp: '2026-11-24T07:59:58Z' });
  });

  it('creates an Event, then counts repeats of the same one', async () => {
    const { client, calls } = recordingClient();
    let now = Date.parse('2026-11-24T08:00:00Z');
    const rec = new EventRecorder({ client, component: 'kubelet', host: 'node-1', now: () => now });
    const pod = { kind: 'Pod', apiVersion: 'v1', namespace: 'default', name: 'web', uid: 'u1', fieldPath: 'spec.containers{app}' };
    await rec.record(pod, 'Normal', 'Started', 'Started container app');
    expect(calls[0].verb).toBe('create');
    expect(calls[0].body).toMatchObject({
      involvedObject: pod, reason: 'Started', message: 'Started container app', type: 'Normal', count: 1,
      firstTimestamp: '2026-11-24T08:00:00Z', source: { component: 'kubelet', host: 'node-1' },
    });
    expect(calls[0].body.metadata.name).toMatch(/^web\.[0-9a-f]{16}$/);
    now += 5_000;
    await rec.record(pod, 'Normal', 'Started', 'Started container app');
    expect(calls[1]).toEqual({ verb: 'patch', name: calls[0].body.metadata.name, body: { count: 2, lastTimestamp: '2026-11-24T08:00:05Z' } });
    await rec.record(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
    expect(calls[2].verb).toBe('create');
    now += 11 * 60_000;
    await rec.record(pod, 'Normal', 'Started', 'Started container app');
    expect(calls[3].verb).toBe('create');
  });

  it('combines more than ten messages of one object and reason, and writes at most 25 events per object, then one per 5 minutes', async () => {
    const { client, calls } = recordingClient();
    let now = Date.parse('2026-11-24T08:00:00Z');
    const rec = new EventRecorder({ client, component: 'replicaset-controller', now: () => now });
    const rs = { kind: 'ReplicaSet', apiVersion: 'apps/v1', namespace: 'default', name: 'web', uid: 'rs1' };
    for (let i = 0; i < 40; i++) await rec.record(rs, 'Normal', 'SuccessfulCreate', `Created pod: web-${i}`);
    // 9 distinct events, then the 10th starts one combined event whose count grows; 25 writes in all, then the filter drops.
    expect(calls).toHaveLength(25);
    expect(calls.slice(0, 9).every((c) => c.verb === 'create' && !c.body.message.startsWith('('))).toBe(true);
    expect(calls[9]).toMatchObject({ verb: 'create', body: { message: '(combined from similar events): Created pod: web-9', count: 1 } });
    expect(calls[24]).toMatchObject({ verb: 'patch', name: calls[9].body.metadata.name, body: { count: 16, message: '(combined from similar events): Created pod: web-24' } });
    now += 300_000; // one token back
    await rec.record(rs, 'Normal', 'SuccessfulCreate', 'Created pod: web-40');
    await rec.record(rs, 'Normal', 'SuccessfulCreate', 'Created pod: web-41');
    expect(calls).toHaveLength(26);
    // Another object has its own bucket.
    await rec.record({ ...rs, name: 'db', uid: 'rs2' }, 'Normal', 'SuccessfulCreate', 'Created pod: db-0');
    expect(calls).toHaveLength(27);
  });

  it('never throws when the API refuses', async () => {
    const client = { create: async () => { throw new Error('down'); } } as unknown as ApiClient;
    await expect(new EventRecorder({ client, component: 'x' }).record({ kind: 'Pod', name: 'p' }, 'Normal', 'R', 'm')).resolves.toBeUndefined();
  });
});
