import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeApiServer, waitFor } from '../test/fake-apiserver.js';
import { ApiClient } from './client.js';
import { byNodeName, byOwnerUid } from './indexer.js';
import { SharedInformerFactory } from './informer-factory.js';
import { NODES, PODS } from './resources.js';
import type { Pod } from './types.js';

let server: FakeApiServer;
let client: ApiClient;
let ac: AbortController;
let factory: SharedInformerFactory;

beforeEach(async () => {
  server = await new FakeApiServer().start();
  client = new ApiClient({ server: server.url });
  ac = new AbortController();
  factory = new SharedInformerFactory({ client, minBackoffMs: 1, maxBackoffMs: 20, random: () => 0 });
});

afterEach(async () => {
  ac.abort();
  await factory.shutdown();
  await client.close();
  await server.close();
});

describe('SharedInformerFactory', () => {
  it('hands every caller of one (resource, namespace, selectors) the same informer, and lists and watches it once', async () => {
    server.put('/api/v1/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'default', name: 'p1' }, spec: { nodeName: 'n1' } });
    const a = factory.informerFor<Pod>(PODS);
    const b = factory.informerFor<Pod>(PODS, { indexers: { byNodeName } });
    const onNode = factory.informerFor<Pod>(PODS, { fieldSelector: 'spec.nodeName=n1' });
    const inNs = factory.informerFor<Pod>(PODS, { namespace: 'default' });
    const nodes = factory.informerFor(NODES);
    expect(b).toBe(a);
    expect(onNode).not.toBe(a);
    expect(inNs).not.toBe(a);
    expect(nodes).not.toBe(a);

    factory.start(ac.signal);
    factory.start(ac.signal); // idempotent
    expect(await factory.waitForCacheSync(ac.signal)).toBe(true);
    await waitFor(() => server.watchCount() === 4, 5000, 'four watches');
    expect(server.requestsTo('GET', '/api/v1/pods', { watch: false })).toHaveLength(2);
    expect(server.requestsTo('GET', '/api/v1/namespaces/default/pods', { watch: false })).toHaveLength(1);
    expect(server.requestsTo('GET', '/api/v1/pods', { watch: true })).toHaveLength(2);
    // Indexes asked for by a later caller are there for everyone.
    expect(a.byIndex('byNodeName', 'n1').map((p) => p.metadata?.name)).toEqual(['p1']);
    expect(onNode.get('default/p1')?.metadata?.name).toBe('p1');
  });

  it('keeps indexes up to date from watch events', async () => {
    const pods = factory.informerFor<Pod>(PODS, { indexers: { byOwnerUid } });
    factory.start(ac.signal);
    await factory.waitForCacheSync(ac.signal);
    await waitFor(() => server.watchCount() === 1, 5000, 'the watch');
    const owner = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'rs-1', controller: true }];
    server.put('/api/v1/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'default', name: 'a', ownerReferences: owner } });
    server.put('/api/v1/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'default', name: 'b' } });
    await waitFor(() => pods.list().length === 2, 5000, 'two pods');
    expect(pods.lister().byIndex('byOwnerUid', 'rs-1').map((p) => p.metadata?.name)).toEqual(['a']);
    server.remove('/api/v1/pods', 'default', 'a');
    await waitFor(() => pods.list().length === 1, 5000, 'one pod');
    expect(pods.byIndex('byOwnerUid', 'rs-1')).toEqual([]);
  });

  it('starts informers asked for after the first start on the next start', async () => {
    factory.informerFor(PODS);
    factory.start(ac.signal);
    await factory.waitForCacheSync(ac.signal);
    const nodes = factory.informerFor(NODES);
    expect(nodes.hasSynced()).toBe(false);
    factory.start(ac.signal);
    expect(await factory.waitForCacheSync(ac.signal)).toBe(true);
    expect(nodes.hasSynced()).toBe(true);
  });

  it('waitForCacheSync answers false when the signal aborts first', async () => {
    server.intercept = (req, res) => { if (req.query.get('watch') !== 'true') { res.writeHead(500).end(); return true; } return false; };
    factory.informerFor(PODS);
    factory.start(ac.signal);
    const synced = factory.waitForCacheSync(ac.signal);
    ac.abort();
    expect(await synced).toBe(false);
  });
});
