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

  it('never throws when the API refuses', async () => {
    const client = { create: async () => { throw new Error('down'); } } as unknown as ApiClient;
    await expect(new EventRecorder({ client, component: 'x' }).record({ kind: 'Pod', name: 'p' }, 'Normal', 'R', 'm')).resolves.toBeUndefined();
  });
});
