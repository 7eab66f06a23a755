import { describe, expect, it } from 'vitest';
import { byNodeName, byOwnerUid, Indexer, Lister, NAMESPACE_INDEX } from './indexer.js';
import type { Pod } from './types.js';

const pod = (ns: string, name: string, opts: { owner?: string; node?: string; labels?: Record<string, string> } = {}): Pod => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: {
    namespace: ns, name, labels: opts.labels,
    ...(opts.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: opts.owner, controller: true }] } : {}),
  },
  spec: { containers: [], ...(opts.node ? { nodeName: opts.node } : {}) },
});
const key = (p: Pod) => `${p.metadata!.namespace}/${p.metadata!.name}`;
const names = (pods: Pod[]) => pods.map((p) => p.metadata!.name).sort();

describe('Indexer', () => {
  it('indexes by namespace always, and by the named indexes it is given', () => {
    const ix = new Indexer<Pod>({ byOwnerUid, byNodeName });
    for (const p of [pod('a', 'p1', { owner: 'u1', node: 'n1' }), pod('a', 'p2', { owner: 'u1' }), pod('b', 'p3', { owner: 'u2', node: 'n1' })]) ix.set(key(p), p);
    expect(names(ix.byIndex(NAMESPACE_INDEX, 'a'))).toEqual(['p1', 'p2']);
    expect(names(ix.byIndex('byOwnerUid', 'u1'))).toEqual(['p1', 'p2']);
    expect(names(ix.byIndex('byNodeName', 'n1'))).toEqual(['p1', 'p3']);
    expect(ix.byIndex('byNodeName', 'n2')).toEqual([]);
    expect(ix.indexKeys('byOwnerUid', 'u2')).toEqual(['b/p3']);
  });

  it('moves an object between index values when it changes, and drops it on delete', () => {
    const ix = new Indexer<Pod>({ byNodeName });
    ix.set('a/p', pod('a', 'p'));
    expect(ix.byIndex('byNodeName', 'n1')).toEqual([]);
    ix.set('a/p', pod('a', 'p', { node: 'n1' }));
    expect(names(ix.byIndex('byNodeName', 'n1'))).toEqual(['p']);
    ix.set('a/p', pod('a', 'p', { node: 'n2' }));
    expect(ix.byIndex('byNodeName', 'n1')).toEqual([]);
    expect(names(ix.byIndex('byNodeName', 'n2'))).toEqual(['p']);
    expect(ix.delete('a/p')?.metadata?.name).toBe('p');
    expect(ix.byIndex('byNodeName', 'n2')).toEqual([]);
    expect(ix.byIndex(NAMESPACE_INDEX, 'a')).toEqual([]);
    expect(ix.delete('a/p')).toBeUndefined();
  });

  it('builds an index added later over what is stored; the same function again is a no-op, another one throws', () => {
    const ix = new Indexer<Pod>();
    ix.set('a/p', pod('a', 'p', { owner: 'u1' }));
    ix.addIndexers({ byOwnerUid });
    expect(names(ix.byIndex('byOwnerUid', 'u1'))).toEqual(['p']);
    expect(() => ix.addIndexers({ byOwnerUid })).not.toThrow();
    expect(() => ix.addIndexers({ byOwnerUid: (p) => [p.metadata?.name ?? ''] })).toThrow(/already exists/);
    expect(() => ix.byIndex('byColour', 'red')).toThrow(/no index named "byColour"/);
  });

  it('indexes by any function: one object under several values', () => {
    const ix = new Indexer<Pod>({ byLabelValue: (p) => Object.values(p.metadata?.labels ?? {}) });
    ix.set('a/p', pod('a', 'p', { labels: { app: 'web', tier: 'front' } }));
    expect(names(ix.byIndex('byLabelValue', 'web'))).toEqual(['p']);
    expect(names(ix.byIndex('byLabelValue', 'front'))).toEqual(['p']);
  });
});

describe('Lister', () => {
  it('gets by namespace and name, lists by namespace and label selector, reads indexes', () => {
    const ix = new Indexer<Pod>({ byOwnerUid });
    for (const p of [pod('a', 'web', { labels: { app: 'web' }, owner: 'u1' }), pod('a', 'db', { labels: { app: 'db' } }), pod('b', 'web', { labels: { app: 'web' } })]) ix.set(key(p), p);
    const lister = new Lister(ix);
    expect(lister.get('a', 'db')?.metadata?.name).toBe('db');
    expect(lister.get('b', 'db')).toBeUndefined();
    expect(lister.list()).toHaveLength(3);
    expect(lister.list('app=web').map(key).sort()).toEqual(['a/web', 'b/web']);
    expect(lister.listNamespace('a').map(key).sort()).toEqual(['a/db', 'a/web']);
    expect(lister.listNamespace('a', 'app!=web').map(key)).toEqual(['a/db']);
    expect(lister.byIndex('byOwnerUid', 'u1').map(key)).toEqual(['a/web']);
  });

  it('gets cluster-scoped objects by name', () => {
    const ix = new Indexer<Pod>();
    ix.set('n1', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } } as Pod);
    expect(new Lister(ix).get(undefined, 'n1')?.metadata?.name).toBe('n1');
  });
});
