import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, eventually, readWatch, startTestApiserver, startTestControllers, type TestApiserver } from './harness.js';

let s: TestApiserver;
const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => call(s.url, method, path, body, headers);
const CM = '/api/v1/namespaces/default/configmaps';
const PODS = '/api/v1/namespaces/default/pods';
const DEPLOY = '/apis/apps/v1/namespaces/default/deployments';
const cm = (name: string, data: Record<string, string> = {}, labels?: Record<string, string>) =>
  ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...(labels ? { labels } : {}) }, data });
const pod = (name: string, extra: Record<string, unknown> = {}) =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'app', image: 'k8ts/busybox:latest' }], ...extra } });
const deployment = (name: string, replicas = 1) => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
  spec: {
    replicas, selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'nginx:1.25', env: [{ name: 'A', value: '1' }] }] } },
  },
});

beforeAll(async () => { s = await startTestApiserver({ bookmarkIntervalMs: 200 }); });
afterAll(async () => { await s?.stop(); });

describe('apiserver against a real etcd', () => {
  it('starts with the four namespaces and the kubernetes service', async () => {
    const r = await api('GET', '/api/v1/namespaces');
    expect(r.body.items.map((n: any) => n.metadata.name).sort()).toEqual(['default', 'kube-node-lease', 'kube-public', 'kube-system']);
    expect(r.body.items[0].status.phase).toBe('Active');
    const svc = await api('GET', '/api/v1/namespaces/default/services/kubernetes');
    expect(svc.body.spec.clusterIP).toBe('10.96.0.1');
  });

  it('creates, gets and refuses duplicates and unknown names with Status errors', async () => {
    const created = await api('POST', CM, cm('one', { a: '1' }));
    expect(created.status).toBe(201);
    expect(created.body.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.body.metadata.resourceVersion).toMatch(/^\d+$/);
    expect(created.body.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const dup = await api('POST', CM, cm('one'));
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ kind: 'Status', apiVersion: 'v1', reason: 'AlreadyExists', message: 'configmaps "one" already exists' });
    const missing = await api('GET', `${CM}/nope`);
    expect(missing.body).toMatchObject({ kind: 'Status', code: 404, reason: 'NotFound', message: 'configmaps "nope" not found', details: { name: 'nope', kind: 'configmaps' } });
    const dep = await api('GET', `${DEPLOY}/nope`);
    expect(dep.body.message).toBe('deployments.apps "nope" not found');
  });

  it('drops unknown fields with a warning, as upstream; keeps labels and annotations intact', async () => {
    const body = { ...cm('roundtrip', { k: 'v' }), metadata: { name: 'roundtrip', labels: { 'x.io/y': 'z' }, annotations: { note: 'a\nb' } }, extraField: { nested: [1, { two: 2 }] } };
    const created = await api('POST', CM, body);
    expect(created.headers.get('warning')).toBe('299 - "unknown field \\"extraField\\""');
    const got = await api('GET', `${CM}/roundtrip`);
    expect(got.body).not.toHaveProperty('extraField');
    expect(got.body.data).toEqual({ k: 'v' });
    expect(got.body.metadata.labels).toEqual({ 'x.io/y': 'z' });
    expect(got.body.metadata.annotations).toEqual({ note: 'a\nb' });
  });

  it('accepts YAML bodies and answers YAML when asked', async () => {
    const r = await api('POST', CM, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  x: "1"\n', { 'content-type': 'application/yaml' });
    expect(r.status).toBe(201);
    const y = await fetch(`${s.url}${CM}/from-yaml`, { headers: { accept: 'application/yaml' } });
    expect(y.headers.get('content-type')).toMatch(/yaml/);
    expect(await y.text()).toMatch(/name: from-yaml/);
  });

  it('generateName makes a unique name', async () => {
    const r = await api('POST', CM, { metadata: { generateName: 'gen-' }, data: {} });
    expect(r.status).toBe(201);
    expect(r.body.metadata.name).toMatch(/^gen-[a-z0-9]{5}$/);
  });

  it('refuses a stale update with 409 Conflict and keeps the newer data', async () => {
    const created = (await api('POST', CM, cm('stale', { v: '1' }))).body;
    const first = await api('PUT', `${CM}/stale`, { ...created, data: { v: '2' } });
    expect(first.status).toBe(200);
    const second = await api('PUT', `${CM}/stale`, { ...created, data: { v: '3' } });
    expect(second.status).toBe(409);
    expect(second.body.reason).toBe('Conflict');
    expect(second.body.message).toBe('Operation cannot be fulfilled on configmaps "stale": the object has been modified; please apply your changes to the latest version and try again');
    expect((await api('GET', `${CM}/stale`)).body.data).toEqual({ v: '2' });
  });

  it('bumps generation on spec changes only and keeps status on PUT; /status writes status only', async () => {
    const d = (await api('POST', DEPLOY, deployment('gen'))).body;
    expect(d.metadata.generation).toBe(1);
    expect(d.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } });
    const st = await api('PUT', `${DEPLOY}/gen/status`, { ...d, spec: { ...d.spec, replicas: 9 }, status: { replicas: 1, observedGeneration: 1 } });
    expect(st.body.status).toEqual({ replicas: 1, observedGeneration: 1 });
    expect(st.body.spec.replicas).toBe(1);
    expect(st.body.metadata.generation).toBe(1);
    const labels = await api('PATCH', `${DEPLOY}/gen`, { metadata: { labels: { a: 'b' } } }, { 'content-type': 'application/merge-patch+json' });
    expect(labels.body.metadata.generation).toBe(1);
    const put = await api('PUT', `${DEPLOY}/gen`, { ...labels.body, spec: { ...labels.body.spec, replicas: 3 }, status: {} });
    expect(put.body.metadata.generation).toBe(2);
    expect(put.body.status).toEqual({ replicas: 1, observedGeneration: 1 });
  });

  it('serves the scale subresource (GET, merge PATCH, PUT with resourceVersion check)', async () => {
    await api('POST', DEPLOY, deployment('scaled', 2));
    const scale = await api('GET', `${DEPLOY}/scaled/scale`);
    expect(scale.body).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 2 }, status: { replicas: 0, selector: 'app=scaled' } });
    const patched = await api('PATCH', `${DEPLOY}/scaled/scale`, { spec: { replicas: 3 } }, { 'content-type': 'application/merge-patch+json' });
    expect(patched.body.spec.replicas).toBe(3);
    const stale = await api('PUT', `${DEPLOY}/scaled/scale`, { ...scale.body, spec: { replicas: 5 } }, { 'content-type': '' });
    expect(stale.status).toBe(409);
    const fresh = await api('PUT', `${DEPLOY}/scaled/scale`, { ...patched.body, spec: { replicas: 5 } });
    expect(fresh.body.spec.replicas).toBe(5);
    expect((await api('GET', `${DEPLOY}/scaled`)).body.spec.replicas).toBe(5);
    const bad = await api('PATCH', `${DEPLOY}/scaled/scale`, { spec: { replicas: -1 } }, { 'content-type': 'application/merge-patch+json' });
    expect(bad.status).toBe(422);
  });

  it('applies every patch type', async () => {
    await api('POST', DEPLOY, deployment('patched'));
    const merge = await api('PATCH', `${DEPLOY}/patched`, { metadata: { labels: { m: '1' } }, spec: { paused: true } }, { 'content-type': 'application/merge-patch+json' });
    expect(merge.status).toBe(200);
    expect(merge.body.metadata.labels).toEqual({ m: '1' });
    const json = await api('PATCH', `${DEPLOY}/patched`, [{ op: 'replace', path: '/spec/replicas', value: 4 }, { op: 'remove', path: '/metadata/labels/m' }], { 'content-type': 'application/json-patch+json' });
    expect(json.body.spec.replicas).toBe(4);
    expect(json.body.metadata.labels ?? {}).toEqual({});
    const failedTest = await api('PATCH', `${DEPLOY}/patched`, [{ op: 'test', path: '/spec/replicas', value: 1 }], { 'content-type': 'application/json-patch+json' });
    expect(failedTest.status).toBe(422);
    const smp = await api('PATCH', `${DEPLOY}/patched`, {
      spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'app' }, { name: 'side' }], containers: [{ name: 'side', image: 'busybox' }] } } },
    }, { 'content-type': 'application/strategic-merge-patch+json' });
    expect(smp.body.spec.template.spec.containers.map((c: any) => c.name)).toEqual(['app', 'side']);
    const retain = await api('PATCH', `${DEPLOY}/patched`, { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } }, { 'content-type': 'application/strategic-merge-patch+json' });
    expect(retain.body.spec.strategy).toEqual({ type: 'Recreate' });
    const apply = await api('PATCH', `${DEPLOY}/applied?fieldManager=kubectl&force=false`, deployment('applied', 2), { 'content-type': 'application/apply-patch+yaml' });
    expect(apply.status).toBe(201);
    const reapply = await api('PATCH', `${DEPLOY}/applied?fieldManager=kubectl`, { ...deployment('applied', 3) }, { 'content-type': 'application/apply-patch+yaml' });
    expect(reapply.status).toBe(200);
    expect(reapply.body.spec.replicas).toBe(3);
    const unknown = await api('PATCH', `${DEPLOY}/applied`, { a: 1 }, { 'content-type': 'text/plain' });
    expect(unknown.status).toBe(415);
  });

  it('filters lists by label and field selectors', async () => {
    await api('POST', '/api/v1/namespaces', { metadata: { name: 'sel' } });
    const P = '/api/v1/namespaces/sel/pods';
    await api('POST', P, { ...pod('a'), metadata: { name: 'a', labels: { app: 'web', tier: 'fe' } }, spec: { ...pod('a').spec, nodeName: 'node-1' } });
    await api('POST', P, { ...pod('b'), metadata: { name: 'b', labels: { app: 'web', tier: 'be' } }, spec: { ...pod('b').spec, nodeName: 'node-2' } });
    await api('POST', P, { ...pod('c'), metadata: { name: 'c', labels: { app: 'db' } } });
    const names = async (q: string) => (await api('GET', `${P}?${q}`)).body.items.map((p: any) => p.metadata.name).sort();
    expect(await names('labelSelector=app%3Dweb')).toEqual(['a', 'b']);
    expect(await names('labelSelector=app%3D%3Dweb,tier!%3Dfe')).toEqual(['b']);
    expect(await names(`labelSelector=${encodeURIComponent('tier in (fe,be)')}`)).toEqual(['a', 'b']);
    expect(await names(`labelSelector=${encodeURIComponent('app notin (web)')}`)).toEqual(['c']);
    expect(await names('labelSelector=tier')).toEqual(['a', 'b']);
    expect(await names('labelSelector=!tier')).toEqual(['c']);
    expect(await names('fieldSelector=spec.nodeName%3Dnode-1')).toEqual(['a']);
    expect(await names('fieldSelector=spec.nodeName%3D')).toEqual(['c']);
    expect(await names('fieldSelector=status.phase%3DPending,metadata.name!%3Da')).toEqual(['b', 'c']);
    expect((await api('GET', `${P}?fieldSelector=spec.bogus%3Dx`)).status).toBe(400);
    expect((await api('GET', `${P}?labelSelector=${encodeURIComponent('a in (')}`)).status).toBe(400);
    const all = await api('GET', `/api/v1/pods?labelSelector=app%3Dweb`);
    expect(all.body.items.length).toBeGreaterThanOrEqual(2);
  });

  it('pages lists with limit and continue at one revision', async () => {
    await api('POST', '/api/v1/namespaces', { metadata: { name: 'paged' } });
    const P = '/api/v1/namespaces/paged/configmaps';
    for (let i = 0; i < 25; i++) await api('POST', P, cm(`cm-${String(i).padStart(2, '0')}`, {}, { even: String(i % 2 === 0) }));
    const seen: string[] = [];
    let token = '';
    let pages = 0;
    let rv = '';
    do {
      const r = await api('GET', `${P}?limit=10${token ? `&continue=${encodeURIComponent(token)}` : ''}`);
      expect(r.status).toBe(200);
      if (!rv) rv = r.body.metadata.resourceVersion;
      else expect(r.body.metadata.resourceVersion).toBe(rv);
      seen.push(...r.body.items.map((c: any) => c.metadata.name));
      token = r.body.metadata.continue ?? '';
      pages++;
      if (pages === 1) await api('POST', P, cm('zz-late')); // written after the first page: not in this list
    } while (token);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(25);
    expect(new Set(seen).size).toBe(25);
    const evens: string[] = [];
    token = '';
    do {
      const r = await api('GET', `${P}?limit=4&labelSelector=even%3Dtrue${token ? `&continue=${encodeURIComponent(token)}` : ''}`);
      evens.push(...r.body.items.map((c: any) => c.metadata.name));
      token = r.body.metadata.continue ?? '';
    } while (token);
    expect(evens).toHaveLength(13);
    expect((await api('GET', `${P}?limit=2&continue=garbage`)).status).toBe(400);
  });

  it('deletes pods gracefully: bound pods wait for the kubelet, unbound ones go at once', async () => {
    await api('POST', PODS, { ...pod('bound'), spec: { ...pod('bound').spec, nodeName: 'node-1' } });
    const events: any[] = [];
    const ac = new AbortController();
    const rv = (await api('GET', `${PODS}/bound`)).body.metadata.resourceVersion;
    const watching = readWatch(`${s.url}${PODS}?watch=true&resourceVersion=${rv}&fieldSelector=metadata.name%3Dbound`, (ev) => {
      events.push(ev);
      return ev.type === 'DELETED';
    }, { signal: ac.signal });
    const del = await api('DELETE', `${PODS}/bound`, { propagationPolicy: 'Background' });
    expect(del.status).toBe(200);
    const still = await api('GET', `${PODS}/bound`);
    expect(still.status).toBe(200);
    expect(still.body.metadata.deletionGracePeriodSeconds).toBe(30);
    expect(Date.parse(still.body.metadata.deletionTimestamp)).toBeGreaterThan(Date.now() + 20_000);
    const force = await api('DELETE', `${PODS}/bound`, { gracePeriodSeconds: 0 });
    expect(force.status).toBe(200);
    expect((await api('GET', `${PODS}/bound`)).status).toBe(404);
    await watching;
    ac.abort();
    expect(events.map((e) => e.type)).toEqual(['MODIFIED', 'DELETED']);
    await api('POST', PODS, pod('unbound'));
    await api('DELETE', `${PODS}/unbound`);
    expect((await api('GET', `${PODS}/unbound`)).status).toBe(404);
  });

  it('keeps objects with finalizers until the last one is removed', async () => {
    await api('POST', CM, { ...cm('fin'), metadata: { name: 'fin', finalizers: ['example.com/hold'] } });
    await api('DELETE', `${CM}/fin`);
    const held = await api('GET', `${CM}/fin`);
    expect(held.body.metadata.deletionTimestamp).toBeTruthy();
    const pre = await api('DELETE', `${CM}/fin`, { preconditions: { uid: 'not-the-uid' } });
    expect(pre.status).toBe(409);
    const removed = await api('PATCH', `${CM}/fin`, { metadata: { finalizers: null } }, { 'content-type': 'application/merge-patch+json' });
    expect(removed.status).toBe(200);
    expect((await api('GET', `${CM}/fin`)).status).toBe(404);
  });

  it('binds pods to nodes once', async () => {
    await api('POST', PODS, pod('tobind'));
    const b = await api('POST', `${PODS}/tobind/binding`, { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'tobind' }, target: { kind: 'Node', name: 'node-2' } });
    expect(b.status).toBe(201);
    const p = (await api('GET', `${PODS}/tobind`)).body;
    expect(p.spec.nodeName).toBe('node-2');
    expect(p.status.conditions).toContainEqual(expect.objectContaining({ type: 'PodScheduled', status: 'True' }));
    const again = await api('POST', `${PODS}/tobind/binding`, { target: { kind: 'Node', name: 'node-1' } });
    expect(again.status).toBe(409);
  });

  it('refuses content in missing and terminating namespaces, and empties deleted namespaces', async () => {
    expect((await api('POST', '/api/v1/namespaces/ghost/configmaps', cm('x'))).body).toMatchObject({ code: 404, message: 'namespaces "ghost" not found' });
    await api('POST', '/api/v1/namespaces', { metadata: { name: 'doomed' } });
    await api('POST', '/api/v1/namespaces/doomed/configmaps', { ...cm('held'), metadata: { name: 'held', finalizers: ['example.com/hold'] } });
    // Emptying it is the namespace controller's job (the controller-manager's), no longer the apiserver's.
    const controllers = await startTestControllers(s.url, ['namespace']);
    await api('DELETE', '/api/v1/namespaces/doomed');
    const ns = await api('GET', '/api/v1/namespaces/doomed');
    expect(ns.body.status.phase).toBe('Terminating');
    const refused = await api('POST', '/api/v1/namespaces/doomed/configmaps', cm('late'));
    expect(refused.status).toBe(403);
    expect(refused.body.message).toMatch(/because it is being terminated/);
    await eventually(async () => (await api('GET', '/api/v1/namespaces/doomed/configmaps/held')).body.metadata?.deletionTimestamp, 'held configmap marked');
    await api('PATCH', '/api/v1/namespaces/doomed/configmaps/held', { metadata: { finalizers: null } }, { 'content-type': 'application/merge-patch+json' });
    await eventually(async () => (await api('GET', '/api/v1/namespaces/doomed')).status === 404, 'namespace removed', 30_000);
    await controllers.stop();
  }, 40_000);

  it('answers bad input with Status errors, never a 500', async () => {
    const cases: [string, string, unknown, Record<string, string>, number][] = [
      ['POST', CM, '{"metadata": ', {}, 400],
      ['POST', CM, 'a: [b', { 'content-type': 'application/yaml' }, 400],
      ['POST', CM, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } }, {}, 400],
      ['POST', CM, 'k8s\0\x01', { 'content-type': 'application/vnd.kubernetes.protobuf' }, 400],
      ['POST', CM, '<x/>', { 'content-type': 'application/xml' }, 415],
      ['POST', CM, { metadata: { name: 'Bad_Name' } }, {}, 422],
      ['POST', CM, [1, 2], {}, 400],
      ['GET', '/api/v1/namespaces/default/widgets', undefined, {}, 404],
      ['GET', '/apis/nope.io/v1/things', undefined, {}, 404],
      ['GET', `${CM}?limit=abc`, undefined, {}, 400],
      ['GET', `${CM}?watch=true&resourceVersion=abc`, undefined, {}, 400],
      ['PUT', `${CM}/one`, { metadata: { name: 'other' } }, {}, 400],
    ];
    for (const [method, path, body, headers, code] of cases) {
      const r = await api(method, path, body, headers);
      expect({ method, path, code: r.status }).toEqual({ method, path, code });
      expect(r.body.kind).toBe('Status');
    }
    const invalid = await api('POST', CM, { metadata: { name: 'Bad_Name' } });
    expect(invalid.body.reason).toBe('Invalid');
    expect(invalid.body.details.causes[0].field).toBe('metadata.name');
    const big = await api('POST', CM, cm('big', { blob: 'x'.repeat(3 * 1024 * 1024 + 10) }));
    expect(big.status).toBe(413);
    expect(big.body.reason).toBe('RequestEntityTooLarge');
  });

  it('serves Tables for lists and single objects', async () => {
    const accept = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';
    const list = await api('GET', `${PODS}?limit=500`, undefined, { accept });
    expect(list.body.kind).toBe('Table');
    expect(list.body.columnDefinitions.map((c: any) => c.name).slice(0, 5)).toEqual(['Name', 'Ready', 'Status', 'Restarts', 'Age']);
    expect(typeof list.body.metadata.resourceVersion).toBe('string');
    expect(list.body.rows[0].object.kind).toBe('PartialObjectMetadata');
    const one = await api('GET', `${CM}/one`, undefined, { accept });
    expect(one.body.rows).toHaveLength(1);
    expect(one.body.rows[0].cells[0]).toBe('one');
  });

  it('serves discovery, aggregated and legacy, and the openapi v3 index', async () => {
    const agg = await fetch(`${s.url}/apis`, { headers: { accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json' } });
    expect(agg.headers.get('content-type')).toMatch(/as=APIGroupDiscoveryList/);
    const body = await agg.json() as any;
    expect(body.items.map((g: any) => g.metadata.name)).toContain('apps');
    const legacy = await api('GET', '/api/v1');
    const pods = legacy.body.resources.find((r: any) => r.name === 'pods');
    expect(pods).toMatchObject({ kind: 'Pod', namespaced: true, shortNames: ['po'], categories: ['all'] });
    expect(legacy.body.resources.map((r: any) => r.name)).toContain('pods/eviction');
    expect((await api('GET', '/version')).body.minor).toBe('32');
    const idx = await api('GET', '/openapi/v3');
    const url = idx.body.paths['apis/apps/v1'].serverRelativeURL;
    const doc = await api('GET', url);
    const patch = doc.body.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].patch;
    expect(patch['x-kubernetes-group-version-kind']).toEqual({ group: 'apps', version: 'v1', kind: 'Deployment' });
    expect(patch.parameters).toContainEqual(expect.objectContaining({ name: 'fieldValidation', in: 'query' }));
    // /openapi/v2 is protobuf only (gnostic's Document), as kubectl reads it.
    const v2 = await fetch(`${s.url}/openapi/v2`, { headers: { accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' } });
    expect(v2.status).toBe(200);
    expect(v2.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await v2.arrayBuffer()).includes(Buffer.from('2.0'))).toBe(true);
  });
});

describe('watch', () => {
  it('replays from any resourceVersion with no lost or duplicated events across 1,000 writes', async () => {
    await api('POST', '/api/v1/namespaces', { metadata: { name: 'watched' } });
    const P = '/api/v1/namespaces/watched/configmaps';
    const start = (await api('GET', P)).body.metadata.resourceVersion;
    const live: any[] = [];
    const ac = new AbortController();
    const done = readWatch(`${s.url}${P}?watch=true&resourceVersion=${start}`, (ev) => { live.push(ev); return live.length === 1000; }, { signal: ac.signal });
    const writes: Promise<unknown>[] = [];
    for (let w = 0; w < 10; w++) {
      writes.push((async () => {
        for (let i = 0; i < 100; i++) {
          const name = `w${w}-${Math.floor(i / 2)}`;
          if (i % 2 === 0) await api('POST', P, cm(name, { i: String(i) }));
          else await api('PATCH', `${P}/${name}`, { data: { i: String(i) } }, { 'content-type': 'application/merge-patch+json' });
        }
      })());
    }
    await Promise.all(writes);
    await done;
    ac.abort();
    const rvs = live.map((e) => Number(e.object.metadata.resourceVersion));
    expect(live).toHaveLength(1000);
    expect(new Set(rvs).size).toBe(1000);
    expect(rvs).toEqual([...rvs].sort((a, b) => a - b));
    expect(live.filter((e) => e.type === 'ADDED')).toHaveLength(500);
    expect(live.filter((e) => e.type === 'MODIFIED')).toHaveLength(500);
    expect(live.every((e) => e.object.kind === 'ConfigMap' && e.object.apiVersion === 'v1')).toBe(true);
    // Resume from the middle: exactly the events after it, in the same order.
    const mid = rvs[499];
    const resumed: any[] = [];
    await readWatch(`${s.url}${P}?watch=true&resourceVersion=${mid}&timeoutSeconds=30`, (ev) => { resumed.push(ev); return resumed.length === 500; });
    expect(resumed.map((e) => Number(e.object.metadata.resourceVersion))).toEqual(rvs.slice(500));
  });

  it('sends ADDED for the current state without a resourceVersion, bookmarks when asked, and ends at timeoutSeconds', async () => {
    const events: any[] = [];
    await readWatch(`${s.url}${CM}?watch=true&fieldSelector=metadata.name%3Done&allowWatchBookmarks=true&timeoutSeconds=1`, (ev) => { events.push(ev); });
    expect(events[0]).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'one' } } });
    expect(events.some((e) => e.type === 'BOOKMARK' && /^\d+$/.test(e.object.metadata.resourceVersion))).toBe(true);
  });

  it('turns label changes into ADDED and DELETED for selector watches', async () => {
    await api('POST', CM, cm('flip', {}, { on: 'no' }));
    const rv = (await api('GET', `${CM}/flip`)).body.metadata.resourceVersion;
    const events: any[] = [];
    const w = readWatch(`${s.url}${CM}?watch=true&resourceVersion=${rv}&labelSelector=on%3Dyes`, (ev) => { events.push(ev); return events.length === 2; });
    await api('PATCH', `${CM}/flip`, { metadata: { labels: { on: 'yes' } } }, { 'content-type': 'application/merge-patch+json' });
    await api('PATCH', `${CM}/flip`, { metadata: { labels: { on: 'no' } } }, { 'content-type': 'application/merge-patch+json' });
    await w;
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'DELETED']);
  });

  it('flushes headers at once for a quiet watch', async () => {
    const ac = new AbortController();
    const res = await fetch(`${s.url}/apis/batch/v1/namespaces/default/jobs?watch=true&resourceVersion=${(await api('GET', CM)).body.metadata.resourceVersion}`, { signal: ac.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    ac.abort();
  });
});

describe('compaction', () => {
  it('answers 410 Expired for watches and continues older than the compacted revision', async () => {
    const c = await startTestApiserver({ compactionIntervalMs: 200 });
    try {
      const P = '/api/v1/namespaces/default/configmaps';
      await call(c.url, 'POST', P, cm('a'));
      await call(c.url, 'POST', P, cm('b'));
      const first = await call(c.url, 'GET', `${P}?limit=1`);
      const old = first.body.metadata.resourceVersion;
      const token = first.body.metadata.continue;
      await call(c.url, 'POST', P, cm('c'));
      const err = await eventually(async () => {
        await call(c.url, 'PATCH', `${P}/c`, { data: { t: String(Date.now()) } }, { 'content-type': 'application/merge-patch+json' });
        let got: any;
        await readWatch(`${c.url}${P}?watch=true&resourceVersion=${old}&timeoutSeconds=1`, (ev) => { if (ev.type === 'ERROR') { got = ev; return true; } });
        return got;
      }, 'a 410 after compaction');
      expect(err.object).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
      expect(err.object.message).toMatch(/too old resource version/);
      const cont = await call(c.url, 'GET', `${P}?limit=1&continue=${encodeURIComponent(token)}`);
      expect(cont.status).toBe(410);
      expect(cont.body.reason).toBe('Expired');
    } finally {
      await c.stop();
    }
  });
});
