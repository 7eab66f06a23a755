import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger, type KubeObject } from '@k8ts/api';
import { Storage } from '@k8ts/apiserver';
import { startTestEtcd, type TestEtcd } from './harness.js';

let etcd: TestEtcd;
let storage: Storage;
let raw: Etcd3;

beforeAll(async () => {
  etcd = await startTestEtcd();
  raw = new Etcd3({ hosts: etcd.endpoint });
  storage = new Storage(new Etcd3({ hosts: etcd.endpoint }), silentLogger);
});
afterAll(async () => { raw?.close(); storage?.close(); await etcd?.stop(); });

const obj = (n: number): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'd' }, data: { n: String(n) } } as KubeObject);

describe('Storage.guaranteedUpdate from a cached copy (as upstream\'s Cacher passes the watch cache\'s object)', () => {
  it('writes from a current cached copy without reading etcd first, and retries from the live value when the copy is stale', async () => {
    const key = '/registry/configmaps/d/c';
    const created = await storage.create(key, obj(1), () => new Error('exists') as never);
    const stale = { key, object: created, modRevision: Number(created.metadata!.resourceVersion) };
    // Someone else writes: the cached copy is now stale.
    await raw.put(key).value(JSON.stringify(obj(2)));
    const seen: string[] = [];
    const r = await storage.guaranteedUpdate(key, (current) => {
      seen.push((current!.object as { data: { n: string } }).data.n);
      return { ...current!.object, data: { n: String(Number((current!.object as { data: { n: string } }).data.n) + 10) } } as KubeObject;
    }, { cached: stale });
    // First from the stale copy (its write refused), then from the live value the refusal returned.
    expect(seen).toEqual(['1', '2']);
    expect((r.object as { data: { n: string } }).data.n).toBe('12');
    expect(JSON.parse((await raw.get(key).string())!).data.n).toBe('12');
  });

  it('does not trust an error or "no change" computed from a cached copy: it asks again with the live value', async () => {
    const key = '/registry/configmaps/d/e';
    const created = await storage.create(key, obj(1), () => new Error('exists') as never);
    const stale = { key, object: created, modRevision: Number(created.metadata!.resourceVersion) };
    await raw.put(key).value(JSON.stringify(obj(5)));
    const seen: string[] = [];
    await expect(storage.guaranteedUpdate(key, (current) => {
      const n = (current!.object as { data: { n: string } }).data.n;
      seen.push(n);
      throw new Error(`refused at ${n}`);
    }, { cached: stale })).rejects.toThrow('refused at 5');
    expect(seen).toEqual(['1', '5']);
  });
});
