import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeApiServer, waitFor } from '../test/fake-apiserver.js';
import { ApiClient } from './client.js';
import { Informer, objectKey } from './informer.js';
import { PODS } from './resources.js';
import type { KubeObject, Pod } from './types.js';

const PODS_PATH = '/api/v1/namespaces/default/pods';

const pod = (name: string, labels: Record<string, string> = {}, ns = 'default'): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels } });

let server: FakeApiServer;
let client: ApiClient;
let ctl: AbortController;
let running: Promise<void> | undefined;

beforeEach(async () => {
  server = await new FakeApiServer().start();
  client = new ApiClient({ server: server.url });
  ctl = new AbortController();
  running = undefined;
});

afterEach(async () => {
  ctl.abort();
  await running;
  await client.close();
  await server.close();
});

/** An informer over default/pods with fast, deterministic backoff, and a log of handler calls. */
function start(opts: { pageSize?: number; namespace?: string } = {}): { informer: Informer<Pod>; calls: string[] } {
  const informer = new Informer<Pod>({
    client, def: PODS, namespace: opts.namespace ?? 'default', pageSize: opts.pageSize,
    minBackoffMs: 1, maxBackoffMs: 20, random: () => 0,
  });
  const calls: string[] = [];
  const rv = (o: Pod): string => o.metadata?.resourceVersion ?? '?';
  informer.addHandler({
    onAdd: (o) => calls.push(`add ${objectKey(o)}@${rv(o)}`),
    onUpdate: (old, o) => calls.push(`update ${objectKey(o)}@${rv(old)}->${rv(o)}`),
    onDelete: (o) => calls.push(`delete ${objectKey(o)}`),
  });
  running = informer.run(ctl.signal);
  return { informer, calls };
}

const watches = (): string[] => server.requestsTo('GET', PODS_PATH, { watch: true }).map((r) => r.query.get('resourceVersion') ?? '');
const lists = (): number => server.requestsTo('GET', PODS_PATH, { watch: false }).length;

describe('objectKey', () => {
  it('is ns/name, or name when cluster-scoped', () => {
    expect(objectKey(pod('a'))).toBe('default/a');
    expect(objectKey({ metadata: { name: 'node-1' } })).toBe('node-1');
  });
});

describe('Informer', () => {
  it('lists, syncs, then watches from the list resourceVersion with bookmarks', async () => {
    const a = server.put(PODS_PATH, pod('a'));
    server.put(PODS_PATH, pod('b'));
    server.put('/api/v1/namespaces/other/pods', pod('x', {}, 'other'));
    const { informer, calls } = start();
    expect(informer.hasSynced()).toBe(false);
    await informer.waitForSync(ctl.signal);
    expect(informer.hasSynced()).toBe(true);
    expect(calls).toEqual([`add default/a@${a.metadata!.resourceVersion}`, 'add default/b@102']);
    expect(informer.list().map(objectKey)).toEqual(['default/a', 'default/b']);
    // List items come without kind/apiVersion; the cache restores them.
    expect(informer.get('default/a')).toMatchObject({ kind: 'Pod', apiVersion: 'v1', metadata: { name: 'a' } });

    await waitFor(() => server.watchCount() === 1);
    const w = server.requestsTo('GET', PODS_PATH, { watch: true })[0].query;
    expect(w.get('resourceVersion')).toBe('103');
    expect(w.get('allowWatchBookmarks')).toBe('true');
    expect(Number(w.get('timeoutSeconds'))).toBeGreaterThanOrEqual(300);

    server.put(PODS_PATH, { ...pod('a', { v: '2' }) });
    server.put(PODS_PATH, pod('c'));
    server.remove(PODS_PATH, 'default', 'b');
    await waitFor(() => calls.length === 5);
    expect(calls.slice(2)).toEqual(['update default/a@101->104', 'add default/c@105', 'delete default/b']);
    expect(informer.get('default/a')?.metadata?.labels).toEqual({ v: '2' });
    expect(informer.get('default/b')).toBeUndefined();

    server.bookmark('Pod', 'v1');
    await waitFor(() => informer.lastSyncResourceVersion() === '106');
    expect(calls).toHaveLength(5);
  });

  it('follows list pages', async () => {
    for (const n of ['a', 'b', 'c', 'd', 'e']) server.put(PODS_PATH, pod(n));
    const { informer } = start({ pageSize: 2 });
    await informer.waitForSync(ctl.signal);
    expect(informer.list()).toHaveLength(5);
    const pages = server.requestsTo('GET', PODS_PATH, { watch: false }).map((r) => [r.query.get('limit'), r.query.get('continue')]);
    expect(pages).toEqual([['2', null], ['2', '2'], ['2', '4']]);
  });

  it('re-watches from the last resourceVersion seen after a dropped connection, without duplicate adds', async () => {
    server.put(PODS_PATH, pod('a'));
    const { informer, calls } = start();
    await informer.waitForSync(ctl.signal);
    await waitFor(() => server.watchCount() === 1);
    server.put(PODS_PATH, pod('b'));
    await waitFor(() => calls.length === 2);

    // Changes made while the connection is down reach the informer once, through the replay.
    server.muted = true;
    server.put(PODS_PATH, pod('c'));
    server.put(PODS_PATH, pod('a', { v: '2' }));
    server.dropWatches();
    server.muted = false;
    await waitFor(() => calls.length === 4);
    expect(watches()).toEqual(['101', '102']);
    expect(lists()).toBe(1);
    expect(calls).toEqual(['add default/a@101', 'add default/b@102', 'add default/c@103', 'update default/a@101->104']);

    // And once more, with the connection cut at once.
    await waitFor(() => server.watchCount() === 1);
    server.dropWatches();
    await waitFor(() => server.watchCount() === 1);
    server.put(PODS_PATH, pod('d'));
    await waitFor(() => calls.length === 5);
    expect(watches()).toEqual(['101', '102', '104']);
    expect(calls.filter((c) => c.startsWith('add'))).toEqual(['add default/a@101', 'add default/b@102', 'add default/c@103', 'add default/d@105']);
  });

  it('re-watches at once when the server ends the stream', async () => {
    const { informer, calls } = start();
    await informer.waitForSync(ctl.signal);
    await waitFor(() => server.watchCount() === 1);
    server.put(PODS_PATH, pod('a'));
    await waitFor(() => calls.length === 1);
    server.endWatches();
    await waitFor(() => server.watchCount() === 1);
    expect(watches()).toEqual(['100', '101']);
    server.put(PODS_PATH, pod('b'));
    await waitFor(() => calls.length === 2);
    expect(calls).toEqual(['add default/a@101', 'add default/b@102']);
  });

  it('relists on 410 and reconciles: deletes for vanished objects, updates for changed ones, adds for new ones', async () => {
    for (const n of ['a', 'b', 'c']) server.put(PODS_PATH, pod(n));
    const { informer, calls } = start();
    await informer.waitForSync(ctl.signal);
    await waitFor(() => server.watchCount() === 1);

    // While the informer is cut off, the history it would need is compacted away.
    server.muted = true;
    server.remove(PODS_PATH, 'default', 'a');
    server.put(PODS_PATH, pod('b', { v: '2' }));
    server.put(PODS_PATH, pod('d'));
    server.compactedRv = server.rv;
    server.dropWatches();
    server.muted = false;

    await waitFor(() => lists() === 2);
    await waitFor(() => server.watchCount() === 1);
    expect(calls.slice(3).sort()).toEqual(['add default/d@106', 'delete default/a', 'update default/b@102->105']);
    expect(informer.list().map(objectKey).sort()).toEqual(['default/b', 'default/c', 'default/d']);
    // The first re-watch hit the 410; the one after the relist starts from the new list's version.
    expect(watches()).toEqual(['103', '103', '106']);

    server.put(PODS_PATH, pod('e'));
    await waitFor(() => calls.length === 7);
    expect(calls[6]).toBe('add default/e@107');
  });

  it('retries a failed list with backoff', async () => {
    let failures = 2;
    server.intercept = (req, res) => {
      if (req.query.get('watch') === 'true' || failures === 0) return false;
      failures--;
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"kind":"Status","apiVersion":"v1","status":"Failure","code":500,"reason":"InternalError","message":"etcd down"}');
      return true;
    };
    server.put(PODS_PATH, pod('a'));
    const { informer, calls } = start();
    await informer.waitForSync(ctl.signal);
    expect(lists()).toBe(3);
    expect(calls).toEqual(['add default/a@101']);
  });

  it('replays the cache to late handlers and isolates a throwing handler', async () => {
    server.put(PODS_PATH, pod('a'));
    const { informer, calls } = start();
    await informer.waitForSync(ctl.signal);
    const late: string[] = [];
    informer.addHandler({ onAdd: () => { throw new Error('boom'); } });
    const remove = informer.addHandler({ onAdd: (o) => late.push(objectKey(o)) });
    expect(late).toEqual(['default/a']);
    await waitFor(() => server.watchCount() === 1);
    server.put(PODS_PATH, pod('b'));
    await waitFor(() => late.length === 2);
    expect(calls).toEqual(['add default/a@101', 'add default/b@102']);
    remove();
    server.put(PODS_PATH, pod('c'));
    await waitFor(() => calls.length === 3);
    expect(late).toEqual(['default/a', 'default/b']);
  });

  it('watches all namespaces when none is given', async () => {
    server.put(PODS_PATH, pod('a'));
    server.put('/api/v1/namespaces/other/pods', pod('b', {}, 'other'));
    const informer = new Informer({ client, def: PODS });
    running = informer.run(ctl.signal);
    await informer.waitForSync(ctl.signal);
    expect(informer.list().map(objectKey).sort()).toEqual(['default/a', 'other/b']);
    expect(server.requests[0].path).toBe('/api/v1/pods');
  });

  it('waitForSync rejects when aborted first; run resolves on abort', async () => {
    server.intercept = () => true; // never answers
    const informer = new Informer({ client, def: PODS });
    running = informer.run(ctl.signal);
    const wait = informer.waitForSync(ctl.signal);
    await waitFor(() => server.requests.length === 1);
    ctl.abort(new Error('stopping'));
    await expect(wait).rejects.toThrow('stopping');
    await running;
    expect(informer.hasSynced()).toBe(false);
  });
});
