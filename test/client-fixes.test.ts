import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, eventually, readWatch, startTestApiserver, type TestApiserver } from './harness.js';

/*
 * What real clients (kubectl's own test/cmd scripts, the official Python client) found: dry runs that wrote,
 * deletable system namespaces, pod updates losing their priority, and booleans spelled `True`.
 */

let s: TestApiserver;
const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => call(s.url, method, path, body, headers);
const CM = '/api/v1/namespaces/default/configmaps';
const PODS = '/api/v1/namespaces/default/pods';
const MERGE = { 'content-type': 'application/merge-patch+json' };
const cm = (name: string, data: Record<string, string> = { a: '1' }) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });
const pod = (name: string, extra: Record<string, unknown> = {}) =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'app', image: 'k8ts/busybox:latest' }], ...extra } });

beforeAll(async () => {
  s = await startTestApiserver({ bookmarkIntervalMs: 200 });
  // The kubernetes service's reconciler writes its Endpoints once the server listens: let it settle, so that the
  // etcd revision below moves only for what the tests write.
  await eventually(async () => (await api('GET', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes')).status === 200, 'the kubernetes EndpointSlice');
});
afterAll(async () => { await s?.stop(); });

/** The etcd revision: it moves on every write, so an unchanged one proves nothing was written. */
const revision = async () => Number((await api('GET', '/api/v1/namespaces/default/configmaps')).body.metadata.resourceVersion);

describe('dry runs write nothing', () => {
  it('honours dryRun from the query for create, update, patch and delete, and writes nothing', async () => {
    await api('POST', CM, cm('dry'));
    const before = await revision();
    const created = await api('POST', `${CM}?dryRun=All`, cm('dry-new'));
    expect(created.status).toBe(201);
    expect(created.body.metadata.uid).toBeTruthy();
    const put = await api('PUT', `${CM}/dry?dryRun=All`, cm('dry', { a: '2' }));
    expect(put.body.data).toEqual({ a: '2' });
    const patched = await api('PATCH', `${CM}/dry?dryRun=All`, { data: { a: '3' } }, MERGE);
    expect(patched.body.data).toEqual({ a: '3' });
    expect((await api('DELETE', `${CM}/dry?dryRun=All`)).status).toBe(200);
    expect((await api('DELETE', `${CM}?dryRun=All`)).status).toBe(200);
    expect(await revision()).toBe(before);
    expect((await api('GET', `${CM}/dry-new`)).status).toBe(404);
    expect((await api('GET', `${CM}/dry`)).body.data).toEqual({ a: '1' });
  });

  it('honours dryRun: ["All"] in a DeleteOptions body, for delete and deletecollection', async () => {
    const before = await revision();
    const del = await api('DELETE', `${CM}/dry`, { apiVersion: 'v1', kind: 'DeleteOptions', dryRun: ['All'], propagationPolicy: 'Background' });
    expect(del.status).toBe(200);
    const all = await api('DELETE', CM, { kind: 'DeleteOptions', apiVersion: 'v1', dryRun: ['All'] });
    expect(all.status).toBe(200);
    expect(all.body.items.map((i: any) => i.metadata.name)).toContain('dry');
    expect(await revision()).toBe(before);
    expect((await api('GET', `${CM}/dry`)).status).toBe(200);
  });

  it('honours dryRun on subresources: status, scale, binding', async () => {
    await api('POST', PODS, pod('dry-pod'));
    await api('POST', '/apis/apps/v1/namespaces/default/deployments', {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'dry-deploy' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'd' } }, template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'a', image: 'x' }] } } },
    });
    const before = await revision();
    const status = await api('PATCH', `${PODS}/dry-pod/status?dryRun=All`, { status: { phase: 'Running' } }, MERGE);
    expect(status.body.status.phase).toBe('Running');
    const scale = await api('PATCH', '/apis/apps/v1/namespaces/default/deployments/dry-deploy/scale?dryRun=All', { spec: { replicas: 5 } }, MERGE);
    expect(scale.body.spec.replicas).toBe(5);
    const bind = await api('POST', `${PODS}/dry-pod/binding?dryRun=All`, { target: { kind: 'Node', name: 'node-1' } });
    expect(bind.status).toBe(201);
    expect(await revision()).toBe(before);
    const p = (await api('GET', `${PODS}/dry-pod`)).body;
    expect(p.status.phase).toBe('Pending');
    expect(p.spec.nodeName).toBeUndefined();
    expect((await api('GET', '/apis/apps/v1/namespaces/default/deployments/dry-deploy')).body.spec.replicas).toBe(1);
  });

  it('does not evict on an Eviction whose deleteOptions.dryRun is set, nor with ?dryRun=All', async () => {
    await api('POST', PODS, pod('evictee', { nodeName: 'node-1' }));
    const before = await revision();
    const eviction = (deleteOptions?: unknown) => ({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'evictee', namespace: 'default' }, ...(deleteOptions ? { deleteOptions } : {}) });
    expect((await api('POST', `${PODS}/evictee/eviction`, eviction({ dryRun: ['All'] }))).status).toBe(201);
    expect((await api('POST', `${PODS}/evictee/eviction?dryRun=All`, eviction())).status).toBe(201);
    expect((await api('POST', `${PODS}/evictee/eviction?dryRun=All`, eviction({ gracePeriodSeconds: 0 }))).status).toBe(201);
    expect(await revision()).toBe(before);
    expect((await api('GET', `${PODS}/evictee`)).body.metadata.deletionTimestamp).toBeUndefined();
    // A real eviction still evicts.
    expect((await api('POST', `${PODS}/evictee/eviction`, eviction())).status).toBe(201);
    expect((await api('GET', `${PODS}/evictee`)).body.metadata.deletionTimestamp).toBeTruthy();
  });

  it('refuses dryRun values other than All with a 422 Status, as upstream', async () => {
    const create = await api('POST', `${CM}?dryRun=Some`, cm('never'));
    expect(create.status).toBe(422);
    expect(create.body).toMatchObject({ kind: 'Status', reason: 'Invalid', details: { kind: 'CreateOptions', group: 'meta.k8s.io' } });
    expect(create.body.message).toBe('CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: ["Some"]: supported values: "All"');
    expect((await api('PATCH', `${CM}/dry?dryRun=`, { data: { a: '9' } }, MERGE)).body.details.kind).toBe('PatchOptions');
    expect((await api('PUT', `${CM}/dry?dryRun=all`, cm('dry'))).body.details.kind).toBe('UpdateOptions');
    const body = await api('DELETE', `${CM}/dry`, { dryRun: ['All', 'Nope'] });
    expect(body.status).toBe(422);
    expect(body.body.details.kind).toBe('DeleteOptions');
    const mismatch = await api('POST', `${PODS}/dry-pod/eviction?dryRun=All`, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'dry-pod' }, deleteOptions: { dryRun: ['All', 'All'] } });
    expect(mismatch.status).toBe(400);
    expect((await api('GET', `${CM}/dry`)).body.data).toEqual({ a: '1' });
    expect((await api('GET', `${CM}/never`)).status).toBe(404);
  });
});

describe('system namespaces and the kubernetes service', () => {
  it('refuses to delete default, kube-system and kube-public with upstream\'s 403, dry run or not', async () => {
    for (const name of ['default', 'kube-system', 'kube-public']) {
      for (const q of ['', '?dryRun=All']) {
        const r = await api('DELETE', `/api/v1/namespaces/${name}${q}`);
        expect(r.status).toBe(403);
        expect(r.body).toMatchObject({
          kind: 'Status', reason: 'Forbidden', code: 403, message: `namespaces "${name}" is forbidden: this namespace may not be deleted`,
          details: { name, kind: 'namespaces' },
        });
      }
      expect((await api('GET', `/api/v1/namespaces/${name}`)).body.status.phase).toBe('Active');
    }
  });

  it('keeps Endpoints and an EndpointSlice of the kubernetes service at the apiserver\'s address and port', async () => {
    const port = Number(new URL(s.url).port);
    const ep = await eventually(async () => {
      const r = await api('GET', '/api/v1/namespaces/default/endpoints/kubernetes');
      return r.status === 200 && r.body;
    }, 'the kubernetes endpoints');
    expect(ep.subsets).toEqual([{ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'https', port, protocol: 'TCP' }] }]);
    const svc = (await api('GET', '/api/v1/namespaces/default/services/kubernetes')).body;
    expect(svc.spec).toMatchObject({ clusterIP: '10.96.0.1', type: 'ClusterIP', ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: port }] });
    const slice = (await api('GET', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes')).body;
    expect(slice).toMatchObject({ addressType: 'IPv4', endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }], ports: [{ name: 'https', port, protocol: 'TCP' }] });
    expect(slice.metadata.labels['kubernetes.io/service-name']).toBe('kubernetes');
  });

  it('recreates the kubernetes service and endpoints when deleted, and puts changed ports back', async () => {
    const port = Number(new URL(s.url).port);
    const oldUid = (await api('GET', '/api/v1/namespaces/default/services/kubernetes')).body.metadata.uid;
    expect((await api('DELETE', '/api/v1/namespaces/default/services/kubernetes')).status).toBe(200);
    expect((await api('DELETE', '/api/v1/namespaces/default/endpoints/kubernetes')).status).toBe(200);
    const svc = await eventually(async () => {
      const r = await api('GET', '/api/v1/namespaces/default/services/kubernetes');
      return r.status === 200 && r.body.metadata.uid !== oldUid && r.body;
    }, 'the kubernetes service recreated', 5000);
    expect(svc.spec.clusterIP).toBe('10.96.0.1');
    await eventually(async () => (await api('GET', '/api/v1/namespaces/default/endpoints/kubernetes')).body.subsets?.[0]?.ports?.[0]?.port === port,
      'the kubernetes endpoints recreated', 5000);
    await api('PATCH', '/api/v1/namespaces/default/services/kubernetes', { spec: { ports: [{ name: 'https', port: 8443, protocol: 'TCP', targetPort: 1 }] } }, MERGE);
    await eventually(async () => (await api('GET', '/api/v1/namespaces/default/services/kubernetes')).body.spec.ports[0].port === 443,
      'the kubernetes service ports put back', 5000);
  });
});

describe('pod updates keep what admission set', () => {
  it('keeps spec.priority and spec.preemptionPolicy when a PUT leaves them out', async () => {
    const created = (await api('POST', PODS, pod('replaced'))).body;
    expect(created.spec).toMatchObject({ priority: 0, preemptionPolicy: 'PreemptLowerPriority' });
    const replaced = await api('PUT', `${PODS}/replaced`, { ...pod('replaced'), metadata: { name: 'replaced', labels: { new: 'label' } } });
    expect(replaced.status).toBe(200);
    expect(replaced.body.metadata.labels).toEqual({ new: 'label' });
    expect(replaced.body.spec).toMatchObject({ priority: 0, preemptionPolicy: 'PreemptLowerPriority' });
    const changed = await api('PUT', `${PODS}/replaced`, { ...pod('replaced', { priority: 7 }) });
    expect(changed.status).toBe(422);
    expect(changed.body.message).toMatch(/pod updates may not change fields/);
  });
});

describe('boolean query parameters', () => {
  it('watches for watch=True, watch=1 and watch= as upstream\'s parameter codec does; watch=False and watch=0 list', async () => {
    for (const v of ['True', 'TRUE', 't', '1', 'yes', '']) {
      const ac = new AbortController();
      const events: string[] = [];
      await readWatch(`${s.url}${CM}?watch=${v}`, (ev) => { events.push(ev.type); return true; }, { signal: ac.signal });
      ac.abort();
      expect(events, `watch=${v}`).toEqual(['ADDED']);
    }
    for (const v of ['False', 'FALSE', 'false', '0']) {
      const r = await api('GET', `${CM}?watch=${v}`);
      expect(r.body.kind, `watch=${v}`).toBe('ConfigMapList');
    }
  });

  it('sends bookmarks for allowWatchBookmarks=True, and the initial-events-end bookmark for sendInitialEvents', async () => {
    const rv = (await api('GET', CM)).body.metadata.resourceVersion;
    const ac = new AbortController();
    let bookmark: any;
    await readWatch(`${s.url}${CM}?watch=True&allowWatchBookmarks=True&resourceVersion=${rv}`, (ev) => {
      if (ev.type === 'BOOKMARK') { bookmark = ev; return true; }
    }, { signal: ac.signal });
    ac.abort();
    expect(bookmark.object.metadata.resourceVersion).toBeTruthy();
    const events: any[] = [];
    await readWatch(`${s.url}${CM}?watch=1&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&resourceVersion=${rv}`, (ev) => {
      events.push(ev);
      return ev.type === 'BOOKMARK';
    });
    expect(events.filter((e) => e.type === 'ADDED').map((e) => e.object.metadata.name)).toContain('dry');
    expect(events.at(-1).object.metadata.annotations).toEqual({ 'k8s.io/initial-events-end': 'true' });
    const refused = await api('GET', `${CM}?watch=1&sendInitialEvents=true`);
    expect(refused.status).toBe(422);
  });
});
