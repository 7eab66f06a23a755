import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, eventually, readWatch, startTestApiserver, type TestApiserver } from './harness.js';

// Issue 18, item by item: each hostile request gets upstream's status code and message, and the server stays up.
let s: TestApiserver;
const NS = '/api/v1/namespaces/hostile';
const TABLE = 'application/json;as=Table;g=meta.k8s.io;v=v1';
const pod = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox' }] }, ...extra,
});
const deploy = (name: string) => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
  spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
});
const nested = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
const MERGE = { 'content-type': 'application/merge-patch+json' };
const JSONP = { 'content-type': 'application/json-patch+json' };
const SMP = { 'content-type': 'application/strategic-merge-patch+json' };
const APPLY = { 'content-type': 'application/apply-patch+yaml' };

function expectStatus(r: { status: number; body: any }, code: number, message?: string | RegExp) {
  expect(r.status, JSON.stringify(r.body).slice(0, 400)).toBe(code);
  expect(r.body).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code });
  if (typeof message === 'string') expect(r.body.message).toBe(message);
  else if (message) expect(r.body.message).toMatch(message);
}

/** A raw HTTP exchange, for requests fetch refuses to send (bad URLs, huge headers). */
function raw(request: string): Promise<{ status: number; body: any }> {
  const { port } = new URL(s.url);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(port), '127.0.0.1');
    let data = '';
    sock.on('data', (c) => { data += c.toString(); });
    sock.on('end', () => {
      const [head, ...rest] = data.split('\r\n\r\n');
      const status = Number(head.split(' ')[1]);
      let body: any = rest.join('\r\n\r\n');
      try { body = JSON.parse(body); } catch { /* not JSON */ }
      resolve({ status, body });
    });
    sock.on('error', reject);
    sock.write(request);
    setTimeout(() => sock.end(), 1000).unref();
  });
}

beforeAll(async () => {
  s = await startTestApiserver();
  await call(s.url, 'POST', '/api/v1/namespaces', { metadata: { name: 'hostile' } });
  await call(s.url, 'POST', `${NS}/pods`, pod('victim'));
  await call(s.url, 'POST', '/apis/apps/v1/namespaces/hostile/deployments', deploy('web'));
});
afterAll(async () => { await s?.stop(); });

describe('1. a malformed object never takes the process down', () => {
  it('refuses an EndpointSlice with "ports": "x" or "endpoints": {} with upstream\'s decode error, while a Table watch is open', async () => {
    const ac = new AbortController();
    const events: any[] = [];
    const watching = readWatch(`${s.url}/apis/discovery.k8s.io/v1/endpointslices?watch=true`, (ev) => { events.push(ev); }, { signal: ac.signal, headers: { accept: TABLE } });
    const base = { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'x' }, addressType: 'IPv4' };
    expectStatus(await call(s.url, 'POST', '/apis/discovery.k8s.io/v1/namespaces/hostile/endpointslices', { ...base, ports: 'x' }), 400,
      'EndpointSlice in version "v1" cannot be handled as a EndpointSlice: json: cannot unmarshal string into Go struct field EndpointSlice.ports of type []v1.EndpointPort');
    expectStatus(await call(s.url, 'POST', '/apis/discovery.k8s.io/v1/namespaces/hostile/endpointslices', { ...base, endpoints: {} }), 400,
      'EndpointSlice in version "v1" cannot be handled as a EndpointSlice: json: cannot unmarshal object into Go struct field EndpointSlice.endpoints of type []v1.Endpoint');
    expect((await call(s.url, 'POST', '/apis/discovery.k8s.io/v1/namespaces/hostile/endpointslices', { ...base, ports: [{ port: 80 }] })).status).toBe(201);
    await eventually(() => events.some((e) => e.type === 'ADDED'), 'the valid slice on the Table watch');
    const list = await call(s.url, 'GET', '/apis/discovery.k8s.io/v1/endpointslices', undefined, { accept: TABLE });
    expect(list.status).toBe(200);
    // The valid slice, and the apiserver's own `kubernetes` slice in default.
    expect(list.body.rows.map((r: any) => r.cells[0])).toEqual(['kubernetes', 'x']);
    ac.abort();
    await watching;
  });

  it('names the field path of nested type errors (pod spec.containers: 5, metadata.name: true)', async () => {
    expectStatus(await call(s.url, 'POST', `${NS}/pods`, { ...pod('p5'), spec: { containers: 5 } }), 400,
      'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal number into Go struct field PodSpec.spec.containers of type []v1.Container');
    expectStatus(await call(s.url, 'POST', `${NS}/pods`, { ...pod('p6'), metadata: { name: true } }), 400,
      'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal bool into Go struct field ObjectMeta.metadata.name of type string');
    expectStatus(await call(s.url, 'POST', `${NS}/pods`, { ...pod('p7'), spec: { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 'x' }] }] } }), 400,
      /Go struct field ContainerPort\.spec\.containers\.ports\.containerPort of type int32$/);
    expectStatus(await call(s.url, 'PUT', `${NS}/pods/victim`, { ...pod('victim'), spec: { containers: 'x' } }), 400,
      /cannot unmarshal string into Go struct field PodSpec\.spec\.containers/);
  });
});

describe('2. no 500s', () => {
  it('refuses JSON patches on the document root and through __proto__ with 422', async () => {
    for (const patch of [[{ op: 'remove', path: '' }], [{ op: 'replace', path: '', value: {} }], [{ op: 'add', path: '/metadata/__proto__/x', value: 1 }]]) {
      const r = await call(s.url, 'PATCH', `${NS}/pods/victim`, patch, JSONP);
      expectStatus(r, 422, /operation does not apply: doc is missing path/);
    }
  });

  it('refuses {"metadata": "x"} (or 5, true) in merge and strategic patches with 422 on patch', async () => {
    for (const headers of [MERGE, SMP]) {
      for (const v of ['x', 5, true]) {
        const r = await call(s.url, 'PATCH', `${NS}/pods/victim`, { metadata: v }, headers);
        expectStatus(r, 422, /^ ?"" is invalid: patch: Invalid value: .*json: cannot unmarshal (string|number|bool) into Go struct field Pod\.metadata of type v1\.ObjectMeta$/);
      }
    }
  });

  it('refuses nesting of 10,000 levels and more in create, update and every patch type with a 4xx', async () => {
    const deep = nested(10_001);
    const bodies: [string, string, string, Record<string, string>][] = [
      ['POST', `${NS}/configmaps`, `{"metadata":{"name":"deep"},"data":${deep}}`, { 'content-type': 'application/json' }],
      ['PUT', `${NS}/pods/victim`, `{"metadata":{"name":"victim"},"spec":${deep}}`, { 'content-type': 'application/json' }],
      ['PATCH', `${NS}/pods/victim`, `{"spec":${deep}}`, MERGE],
      ['PATCH', `${NS}/pods/victim`, `{"spec":${deep}}`, SMP],
      ['PATCH', `${NS}/pods/victim`, `[{"op":"add","path":"/spec/x","value":${deep}}]`, JSONP],
      ['PATCH', `${NS}/pods/victim?fieldManager=t`, `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"victim"},"spec":${deep}}`, APPLY],
      ['POST', `${NS}/configmaps`, `${'['.repeat(20_000)}${']'.repeat(20_000)}`, { 'content-type': 'application/yaml' }],
    ];
    for (const [method, path, body, headers] of bodies) {
      const r = await call(s.url, method, path, body, headers);
      expect(r.status, `${method} ${headers['content-type']}`).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(r.body.kind).toBe('Status');
    }
    expect((await call(s.url, 'GET', '/readyz')).body).toBe('ok');
  });

  it('refuses YAML with an unresolved alias, a self-referencing alias, or an alias bomb with 400', async () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...'bcdefgh'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(',')}]`), 'metadata: {name: bomb}'].join('\n');
    for (const y of ['metadata: {name: *x}', 'metadata: &m {name: n, self: *m}', bomb]) {
      expectStatus(await call(s.url, 'POST', `${NS}/configmaps`, y, { 'content-type': 'application/yaml' }), 400);
    }
  });
});

describe('3. limits are 4xx, never an outage', () => {
  it('answers 413 for an object over etcd\'s limit, then serves every other request at once', async () => {
    const big = pod('big');
    big.spec.containers[0] = { ...big.spec.containers[0], args: ['x'.repeat(2 * 1024 * 1024)] } as any;
    expectStatus(await call(s.url, 'POST', `${NS}/pods`, big), 413, 'Request entity too large: etcdserver: request is too large');
    for (let i = 0; i < 4; i++) expectStatus(await call(s.url, 'POST', `${NS}/pods`, { ...big, metadata: { name: `big${i}` } }), 413);
    expect((await call(s.url, 'GET', `${NS}/pods/victim`)).status).toBe(200);
    expect((await call(s.url, 'GET', '/readyz')).body).toBe('ok');
  });

  it('answers 413 for a body over 3 MiB with upstream\'s message', async () => {
    expectStatus(await call(s.url, 'POST', `${NS}/configmaps`, { metadata: { name: 'huge' }, data: { x: 'x'.repeat(3 * 1024 * 1024) } }), 413,
      'Request entity too large: limit is 3145728');
  });

  it('bounds a JSON patch that copies itself up, and the number of operations', async () => {
    const ops = [{ op: 'add', path: '/metadata/annotations', value: { a: 'x'.repeat(30_000) } }, ...Array.from({ length: 200 }, (_, i) => ({ op: 'copy', from: '/metadata/annotations', path: `/metadata/annotations/k${i}` }))];
    const r = await call(s.url, 'PATCH', `${NS}/pods/victim`, ops, JSONP);
    expect([413, 422]).toContain(r.status);
    expect(r.body.kind).toBe('Status');
    const many = Array.from({ length: 10_001 }, () => ({ op: 'test', path: '/kind', value: 'Pod' }));
    expectStatus(await call(s.url, 'PATCH', `${NS}/pods/victim`, many, JSONP), 413, 'The allowed maximum operations in a JSON patch is 10000, got 10001');
    expect((await call(s.url, 'GET', `${NS}/pods/victim`)).status).toBe(200);
  });

  it('refuses annotations over 256 KiB and a Deployment with 10,000 labels with a 4xx', async () => {
    const annotations = { a: 'x'.repeat(262_144) };
    expectStatus(await call(s.url, 'POST', `${NS}/configmaps`, { metadata: { name: 'ann', annotations } }), 422,
      /metadata\.annotations: Too long: may not be more than 262144 bytes/);
    const labels = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`label-${i}`, 'v'.repeat(63)]));
    const d = deploy('many-labels');
    (d.metadata as any).labels = labels;
    (d.spec.template.metadata as any).labels = { ...labels, app: 'many-labels' };
    const r = await call(s.url, 'POST', '/apis/apps/v1/namespaces/hostile/deployments', d);
    expect(r.status).toBe(413);
    expect((await call(s.url, 'GET', '/readyz')).body).toBe('ok');
  });

  it('answers 400 for a continue token naming a future revision', async () => {
    const token = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: 1e9, start: 'a' })).toString('base64url');
    expectStatus(await call(s.url, 'GET', `${NS}/pods?limit=1&continue=${token}`), 400, /continue key is not valid/);
  });

  it('reports etcd on /readyz as upstream', async () => {
    const r = await call(s.url, 'GET', '/readyz?verbose');
    expect(r.status).toBe(200);
    expect(r.body).toContain('[+]etcd ok');
    expect(r.body).toContain('readyz check passed');
    expect((await call(s.url, 'GET', '/readyz')).body).toBe('ok');
  });
});

describe('4. verbs and options as upstream', () => {
  it('has no deletecollection on namespaces and no collection writes across namespaces (405)', async () => {
    expectStatus(await call(s.url, 'DELETE', '/api/v1/namespaces'), 405, 'the server does not allow this method on the requested resource');
    expectStatus(await call(s.url, 'DELETE', '/api/v1/pods'), 405);
    expectStatus(await call(s.url, 'DELETE', '/apis/apps/v1/deployments'), 405);
    expect((await call(s.url, 'GET', '/api/v1/namespaces/default')).status).toBe(200);
    expect((await call(s.url, 'GET', `${NS}/pods/victim`)).status).toBe(200);
  });

  it('refuses writes on /watch/ paths (405)', async () => {
    expectStatus(await call(s.url, 'POST', '/api/v1/watch/namespaces/hostile/configmaps', { metadata: { name: 'w' } }), 405);
    expect((await call(s.url, 'GET', `${NS}/configmaps/w`)).status).toBe(404);
  });

  it('validates DeleteOptions and Eviction bodies (400) and keeps the pod', async () => {
    for (const body of ['[]', '5', '{"gracePeriodSeconds":"x"}']) {
      expectStatus(await call(s.url, 'DELETE', `${NS}/pods/victim`, body), 400);
    }
    expectStatus(await call(s.url, 'POST', `${NS}/pods/victim/eviction`, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'victim' }, deleteOptions: 5 }), 400,
      'Eviction in version "v1" cannot be handled as a Eviction: json: cannot unmarshal number into Go struct field Eviction.deleteOptions of type v1.DeleteOptions');
    expect((await call(s.url, 'GET', `${NS}/pods/victim`)).status).toBe(200);
  });

  it('requires fieldManager (at most 128 bytes) and a body of the resource\'s kind for apply', async () => {
    const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'applied' } });
    expectStatus(await call(s.url, 'PATCH', `${NS}/configmaps/applied`, body, APPLY), 422,
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
    expectStatus(await call(s.url, 'PATCH', `${NS}/configmaps/applied?fieldManager=${'m'.repeat(129)}`, body, APPLY), 422,
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than 128 bytes');
    expectStatus(await call(s.url, 'PATCH', `${NS}/configmaps/applied?fieldManager=t`, JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'applied' } }), APPLY), 400,
      'Incorrect kind specified in apply patch. Specified patch kind: Secret, expected: ConfigMap');
    expect((await call(s.url, 'GET', `${NS}/configmaps/applied`)).status).toBe(404);
    expect((await call(s.url, 'PATCH', `${NS}/configmaps/applied?fieldManager=t`, body, APPLY)).status).toBe(201);
  });

  it('refuses replicas: 1e308 through /scale (422 for a patch, 400 for a put)', async () => {
    const path = '/apis/apps/v1/namespaces/hostile/deployments/web/scale';
    expectStatus(await call(s.url, 'PATCH', path, '{"spec":{"replicas":1e308}}', MERGE), 422,
      /json: cannot unmarshal number 1e308 into Go struct field ScaleSpec\.spec\.replicas of type int32$/);
    expectStatus(await call(s.url, 'PUT', path, '{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"web"},"spec":{"replicas":1e308}}'), 400,
      /cannot unmarshal number 1e308 into Go struct field ScaleSpec\.spec\.replicas of type int32$/);
    expect((await call(s.url, 'GET', path)).body.spec.replicas).toBe(1);
  });
});

describe('5. every error is a metav1.Status', () => {
  it('for malformed JSON, bad URLs, unknown methods and oversized headers', async () => {
    expectStatus(await call(s.url, 'POST', `${NS}/configmaps`, '{"metadata":'), 400,
      'the object provided is unrecognized (must be of type ConfigMap): couldn\'t get version/kind; json parse error: Unexpected end of JSON input ({"metadata":)');
    expectStatus(await raw('GET /api/v1/namespaces/%zz/pods HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), 400);
    expectStatus(await raw(`GET /api/v1/pods HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`), 431, 'request header fields too large');
    expectStatus(await raw('GARBAGE\r\n\r\n'), 400);
    expectStatus(await call(s.url, 'GET', '/nothing/here'), 404);
    expectStatus(await call(s.url, 'POST', '/version', {}), 404);
  });
});
