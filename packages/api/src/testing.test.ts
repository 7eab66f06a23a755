import { describe, expect, it } from 'vitest';
import { ApiError } from './errors.js';
import { byNodeName } from './indexer.js';
import { NODES, PODS } from './resources.js';
import { FakeClock, FakeInformer, FakeInformerFactory, RecordingClient } from './testing.js';
import type { Node, Pod } from './types.js';

const pod = (name: string, node?: string, ns = 'default'): Pod =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace: ns, name, uid: `uid-${name}`, labels: { app: name } }, spec: { containers: [], ...(node ? { nodeName: node } : {}) } });

describe('FakeInformer', () => {
  it('is synced, holds what it is seeded with, and calls handlers as a watch would', () => {
    const inf = new FakeInformer<Pod>([pod('a')], { byNodeName });
    expect(inf.hasSynced()).toBe(true);
    const seen: string[] = [];
    inf.addHandler({
      onAdd: (p) => seen.push(`add ${p.metadata!.name}`),
      onUpdate: (_o, p) => seen.push(`update ${p.metadata!.name}`),
      onDelete: (p) => seen.push(`delete ${p.metadata!.name}`),
    });
    inf.add(pod('b', 'n1'));
    inf.update({ ...pod('b', 'n2'), metadata: { ...pod('b').metadata, resourceVersion: '2' } });
    expect(inf.byIndex('byNodeName', 'n2').map((p) => p.metadata?.name)).toEqual(['b']);
    inf.delete(pod('a'));
    expect(seen).toEqual(['add a', 'add b', 'update b', 'delete a']);
    expect(inf.list().map((p) => p.metadata?.name)).toEqual(['b']);
  });
});

describe('FakeInformerFactory', () => {
  it('dedupes as the real factory and gives each informer the seeded objects its namespace and selectors match', () => {
    const f = new FakeInformerFactory([pod('a', 'n1'), pod('b', 'n2'), pod('c', 'n1', 'other')]);
    const onN1 = f.informerFor<Pod>(PODS, { fieldSelector: 'spec.nodeName=n1' });
    expect(f.informerFor<Pod>(PODS, { fieldSelector: 'spec.nodeName=n1' })).toBe(onN1);
    expect(onN1.list().map((p) => p.metadata?.name).sort()).toEqual(['a', 'c']);
    expect(f.informerFor<Pod>(PODS, { namespace: 'default', labelSelector: 'app in (a,b)' }).list()).toHaveLength(2);
    // Seeding later reaches informers already handed out.
    f.seed(pod('d', 'n1'), { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } } as Node);
    expect(onN1.get('default/d')).toBeDefined();
    expect(f.informerFor<Node>(NODES).list().map((n) => n.metadata?.name)).toEqual(['n1']);
    expect(f.requests.map((r) => [r.def.resource, r.request.fieldSelector])).toEqual([
      ['pods', 'spec.nodeName=n1'], ['pods', undefined], ['nodes', undefined],
    ]);
    expect(() => f.seed({ apiVersion: 'v9', kind: 'Nope', metadata: { name: 'x' } })).toThrow(/not a served kind/);
  });
});

describe('RecordingClient', () => {
  it('records calls in order and answers from its store as the apiserver would', async () => {
    const clock = new FakeClock();
    const c = new RecordingClient({ objects: [{ ...pod('a'), status: { phase: 'Pending' } }], clock });
    const got = await c.get<Pod>(PODS, 'default', 'a');
    expect(got.metadata?.uid).toBe('uid-a');
    await expect(c.get(PODS, 'default', 'zz')).rejects.toMatchObject({ code: 404, message: 'pods "zz" not found' });
    const created = await c.create<Pod>(PODS, 'default', { metadata: { generateName: 'web-' }, spec: { containers: [] } });
    expect(created.metadata?.name).toMatch(/^web-/);
    expect(created.metadata?.uid).toBeTruthy();
    expect(created.metadata?.creationTimestamp).toBe('2026-11-24T07:32:17Z');
    await expect(c.create(PODS, 'default', pod('a'))).rejects.toMatchObject({ code: 409, reason: 'AlreadyExists' });
    await c.patch(PODS, 'default', 'a', [{ op: 'replace', path: '/status', value: { phase: 'Running' } }], 'json', { subresource: 'status' });
    await c.patch(PODS, 'default', 'a', { metadata: { labels: { extra: 'yes', app: null } } }, 'merge');
    const stored = c.stored<Pod>(PODS, 'default', 'a')!;
    expect(stored.status?.phase).toBe('Running');
    expect(stored.metadata?.labels).toEqual({ extra: 'yes' });
    await expect(c.delete(PODS, 'default', 'a', { preconditions: { uid: 'other' } })).rejects.toMatchObject({ code: 409 });
    await c.delete(PODS, 'default', 'a', { gracePeriodSeconds: 0, preconditions: { uid: 'uid-a' } });
    expect(c.stored(PODS, 'default', 'a')).toBeUndefined();
    expect(c.writes().map((a) => `${a.verb} ${a.resource}${a.subresource ? `/${a.subresource}` : ''} ${a.name ?? ''}`)).toEqual([
      'create pods ', 'create pods a', 'patch pods/status a', 'patch pods a', 'delete pods a', 'delete pods a',
    ]);
    expect(c.actions.filter((a) => a.verb === 'get')).toHaveLength(2);
  });

  it('records a Binding POSTed by path as a create of pods/binding and binds the stored pod', async () => {
    const c = new RecordingClient({ objects: [pod('a')] });
    await c.request('POST', '/api/v1/namespaces/default/pods/a/binding', { body: { kind: 'Binding', target: { kind: 'Node', name: 'n1' } } });
    expect(c.writes()).toEqual([{
      verb: 'create', group: '', resource: 'pods', subresource: 'binding', namespace: 'default', name: 'a',
      object: { kind: 'Binding', target: { kind: 'Node', name: 'n1' } },
    }]);
    expect(c.stored<Pod>(PODS, 'default', 'a')?.spec?.nodeName).toBe('n1');
  });

  it('lets a reactor answer or fail an action before the store', async () => {
    const c = new RecordingClient({ objects: [pod('a')] });
    c.prependReactor('patch', 'pods/status', () => { throw new ApiError(500, 'InternalError', 'boom'); });
    await expect(c.patch(PODS, 'default', 'a', {}, 'merge', { subresource: 'status' })).rejects.toThrow('boom');
    await c.patch(PODS, 'default', 'a', { metadata: { labels: { x: 'y' } } }, 'merge');
    expect(c.writes()).toHaveLength(2);
  });

  it('lists with selectors; a watch records itself and ends with its signal', async () => {
    const c = new RecordingClient({ objects: [pod('a', 'n1'), pod('b', 'n2')] });
    const list = await c.list<Pod>(PODS, undefined, { fieldSelector: 'spec.nodeName=n2' });
    expect(list.items.map((p) => p.metadata?.name)).toEqual(['b']);
    const ac = new AbortController();
    const events: unknown[] = [];
    const watching = (async () => { for await (const ev of c.watch(PODS, undefined, { signal: ac.signal })) events.push(ev); })();
    ac.abort();
    await watching;
    expect(events).toEqual([]);
    expect(c.actions.map((a) => a.verb)).toEqual(['list', 'watch']);
  });
});
