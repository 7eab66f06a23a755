import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESOURCES, groupVersion } from '@k8ts/api';
import { call, readWatch, startTestApiserver, type TestApiserver } from '../harness.js';

// Issue 18's storm, seeded and bounded: thousands of malformed and hostile requests (at most 32 in flight)
// against a real apiserver on real etcd, with a JSON and a Table watch open on every resource.
const SEED = 18;
const REQUESTS = 8000;
const IN_FLIGHT = 32;
const DEADLINE_MS = 80_000;
const TABLE = 'application/json;as=Table;g=meta.k8s.io;v=v1';
const NS = 'fuzz';

/** mulberry32: a small deterministic PRNG. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] };
}

interface Req { method: string; path: string; body?: string; headers?: Record<string, string>; seed?: boolean; creates?: string }

const podBody = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox', ports: [{ containerPort: 80 }] }] } });
const templates: Record<string, { path: string; body: (n: string) => any; fields: string[][] }> = {
  pods: { path: `/api/v1/namespaces/${NS}/pods`, body: podBody, fields: [['spec'], ['spec', 'containers'], ['spec', 'containers', '0'], ['spec', 'containers', '0', 'name'], ['spec', 'containers', '0', 'ports'], ['spec', 'containers', '0', 'ports', '0', 'containerPort'], ['metadata'], ['metadata', 'name'], ['metadata', 'labels'], ['status']] },
  configmaps: { path: `/api/v1/namespaces/${NS}/configmaps`, body: (n) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: n }, data: { a: 'b' } }), fields: [['data'], ['data', 'a'], ['metadata', 'annotations'], ['binaryData'], ['immutable']] },
  services: { path: `/api/v1/namespaces/${NS}/services`, body: (n) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: n }, spec: { ports: [{ port: 80 }], selector: { a: 'b' } } }), fields: [['spec', 'ports'], ['spec', 'ports', '0', 'port'], ['spec', 'ports', '0', 'targetPort'], ['spec', 'selector'], ['spec', 'type']] },
  endpointslices: { path: `/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices`, body: (n) => ({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: n }, addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.1'] }], ports: [{ port: 80 }] }), fields: [['ports'], ['endpoints'], ['endpoints', '0', 'addresses'], ['endpoints', '0', 'conditions'], ['ports', '0', 'port']] },
  deployments: { path: `/apis/apps/v1/namespaces/${NS}/deployments`, body: (n) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: n }, spec: { replicas: 1, selector: { matchLabels: { app: n } }, template: { metadata: { labels: { app: n } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } } }), fields: [['spec', 'replicas'], ['spec', 'selector'], ['spec', 'template'], ['spec', 'template', 'spec', 'containers'], ['spec', 'strategy']] },
  // The kinds kubectl expects beyond the first ones: their type checks and printers face the same storm.
  replicationcontrollers: { path: `/api/v1/namespaces/${NS}/replicationcontrollers`, body: (n) => ({ apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: n }, spec: { replicas: 1, selector: { app: n }, template: { metadata: { labels: { app: n } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } } }), fields: [['spec', 'replicas'], ['spec', 'selector'], ['spec', 'template'], ['spec', 'template', 'spec', 'containers'], ['status', 'replicas']] },
  podtemplates: { path: `/api/v1/namespaces/${NS}/podtemplates`, body: (n) => ({ apiVersion: 'v1', kind: 'PodTemplate', metadata: { name: n }, template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } } }), fields: [['template'], ['template', 'spec'], ['template', 'spec', 'containers', '0', 'image']] },
  persistentvolumes: { path: '/api/v1/persistentvolumes', body: (n) => ({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: n }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/tmp/pv' } } }), fields: [['spec', 'capacity'], ['spec', 'capacity', 'storage'], ['spec', 'accessModes'], ['spec', 'hostPath'], ['spec', 'claimRef']] },
  persistentvolumeclaims: { path: `/api/v1/namespaces/${NS}/persistentvolumeclaims`, body: (n) => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: n }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }), fields: [['spec', 'accessModes'], ['spec', 'resources'], ['spec', 'resources', 'requests', 'storage'], ['spec', 'selector'], ['status', 'capacity']] },
  limitranges: { path: `/api/v1/namespaces/${NS}/limitranges`, body: (n) => ({ apiVersion: 'v1', kind: 'LimitRange', metadata: { name: n }, spec: { limits: [{ type: 'Container', default: { cpu: '100m' } }] } }), fields: [['spec', 'limits'], ['spec', 'limits', '0', 'default'], ['spec', 'limits', '0', 'type'], ['spec', 'limits', '0', 'max', 'cpu']] },
  resourcequotas: { path: `/api/v1/namespaces/${NS}/resourcequotas`, body: (n) => ({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: n }, spec: { hard: { pods: '10' } } }), fields: [['spec', 'hard'], ['spec', 'hard', 'pods'], ['spec', 'scopes'], ['status', 'used']] },
  controllerrevisions: { path: `/apis/apps/v1/namespaces/${NS}/controllerrevisions`, body: (n) => ({ apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: n }, data: { a: 1 }, revision: 1 }), fields: [['revision'], ['metadata', 'ownerReferences']] },
  cronjobs: { path: `/apis/batch/v1/namespaces/${NS}/cronjobs`, body: (n) => ({ apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: n }, spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox' }] } } } } } }), fields: [['spec', 'schedule'], ['spec', 'jobTemplate'], ['spec', 'jobTemplate', 'spec', 'template'], ['spec', 'suspend'], ['status', 'active'], ['status', 'lastScheduleTime']] },
  ingresses: { path: `/apis/networking.k8s.io/v1/namespaces/${NS}/ingresses`, body: (n) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: n }, spec: { rules: [{ host: 'a.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 's', port: { number: 80 } } } }] } }] } }), fields: [['spec', 'rules'], ['spec', 'rules', '0', 'http', 'paths'], ['spec', 'rules', '0', 'http', 'paths', '0', 'backend', 'service', 'port', 'number'], ['spec', 'tls'], ['status', 'loadBalancer', 'ingress']] },
  ingressclasses: { path: '/apis/networking.k8s.io/v1/ingressclasses', body: (n) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: n }, spec: { controller: 'example.com/ingress' } }), fields: [['spec', 'controller'], ['spec', 'parameters']] },
  poddisruptionbudgets: { path: `/apis/policy/v1/namespaces/${NS}/poddisruptionbudgets`, body: (n) => ({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: n }, spec: { minAvailable: 1, selector: { matchLabels: { a: 'b' } } } }), fields: [['spec', 'minAvailable'], ['spec', 'selector'], ['spec', 'maxUnavailable'], ['status', 'disruptedPods']] },
};
const wrongValues: unknown[] = ['x', 5, -1, 1e308, 1.5, true, false, [], [1, 'a'], {}, { a: { b: 1 } }, '', [null], [{}], { '': 1 }];

function setPath(obj: any, path: string[], value: unknown): void {
  let o = obj;
  for (const k of path.slice(0, -1)) {
    if (typeof o[k] !== 'object' || o[k] === null) o[k] = /^\d+$/.test(k) ? [] : {};
    o = o[k];
  }
  o[path[path.length - 1]] = value;
}

function generator(rng: ReturnType<typeof prng>) {
  const deep = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
  const deepText = deep(10_001);
  const huge = 'x'.repeat(2 * 1024 * 1024);
  const tooBig = 'x'.repeat(3 * 1024 * 1024 + 10);
  const seedPod = `/api/v1/namespaces/${NS}/pods/seed`;
  const seedDeploy = `/apis/apps/v1/namespaces/${NS}/deployments/seed`;
  const seedCm = `/api/v1/namespaces/${NS}/configmaps/seed`;
  const seeds = [seedPod, seedDeploy, seedCm];
  const ct = (t: string) => ({ 'content-type': t });
  const MERGE = ct('application/merge-patch+json');
  const JSONP = ct('application/json-patch+json');
  const SMP = ct('application/strategic-merge-patch+json');
  const APPLY = ct('application/apply-patch+yaml');
  const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...'bcdefgh'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(',')}]`), 'metadata: {name: bomb}'].join('\n');

  const kinds: ((i: number) => Req)[] = [
    // A valid object of some kind with one field of the wrong type.
    (i) => {
      const [res, t] = rng.pick(Object.entries(templates));
      const name = `f-${i}`;
      const body = t.body(name);
      setPath(body, rng.pick(t.fields), structuredClone(rng.pick(wrongValues)));
      if (body.metadata?.name !== name) return { method: 'POST', path: t.path, body: JSON.stringify(body) };
      void res;
      return { method: 'POST', path: t.path, body: JSON.stringify(body), creates: `${t.path}/${name}` };
    },
    // Patches of the wrong shape on the seeds.
    () => ({ method: 'PATCH', path: rng.pick(seeds), body: JSON.stringify({ metadata: rng.pick(['x', 5, true, []]) }), headers: rng.pick([MERGE, SMP]), seed: true }),
    () => ({ method: 'PATCH', path: rng.pick(seeds), body: JSON.stringify([rng.pick([{ op: 'remove', path: '' }, { op: 'replace', path: '', value: {} }, { op: 'add', path: '/metadata/__proto__/x', value: 1 }, { op: 'add', path: '/__proto__/polluted', value: 1 }, { op: 'move', from: '/metadata', path: '/metadata/x' }, { op: 'remove', path: '/nope/nope' }, { op: 'bogus', path: '/a' }, 5, null])]), headers: JSONP, seed: true }),
    () => ({ method: 'PATCH', path: seedPod, body: JSON.stringify({ spec: { containers: rng.pick([5, 'x', {}, [5]]) } }), headers: rng.pick([MERGE, SMP]), seed: true }),
    () => ({ method: 'PATCH', path: seedCm, body: JSON.stringify([{ op: 'add', path: '/metadata/annotations', value: { a: 'x'.repeat(30_000) } }, ...Array.from({ length: 120 }, (_, k) => ({ op: 'copy', from: '/metadata/annotations', path: `/metadata/annotations/k${k}` }))]), headers: JSONP, seed: true }),
    () => ({ method: 'PATCH', path: seedCm, body: JSON.stringify(Array.from({ length: 10_001 }, () => ({ op: 'test', path: '/kind', value: 'ConfigMap' }))), headers: JSONP, seed: true }),
    // Nesting past the decoder's limit, in every write.
    (i) => rng.pick<Req>([
      { method: 'POST', path: templates.configmaps.path, body: `{"metadata":{"name":"d-${i}"},"data":${deepText}}` },
      { method: 'PUT', path: seedPod, body: `{"metadata":{"name":"seed"},"spec":${deepText}}`, seed: true },
      { method: 'PATCH', path: seedPod, body: `{"spec":${deepText}}`, headers: rng.pick([MERGE, SMP]), seed: true },
      { method: 'PATCH', path: seedPod, body: `[{"op":"add","path":"/spec/x","value":${deepText}}]`, headers: JSONP, seed: true },
      { method: 'PATCH', path: `${seedPod}?fieldManager=f`, body: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"seed"},"spec":${deepText}}`, headers: APPLY, seed: true },
      { method: 'POST', path: templates.configmaps.path, body: `${'['.repeat(5000)}${']'.repeat(5000)}`, headers: ct('application/yaml') },
      { method: 'POST', path: templates.configmaps.path, body: `${'- '.repeat(3000)}x`, headers: ct('application/yaml') },
    ]),
    // YAML aliases.
    () => ({ method: 'POST', path: templates.configmaps.path, body: rng.pick(['metadata: {name: *x}', 'metadata: &m {name: n, self: *m}', bomb, 'a: [\n', ': : :']), headers: ct('application/yaml') }),
    // Sizes.
    (i) => rng.int(4) === 0
      ? { method: 'POST', path: templates.configmaps.path, body: JSON.stringify({ metadata: { name: `big-${i}` }, data: { x: tooBig } }) }
      : { method: 'POST', path: templates.pods.path, body: JSON.stringify({ ...podBody(`big-${i}`), spec: { containers: [{ name: 'c', image: 'i', args: [huge] }] } }), creates: `${templates.pods.path}/big-${i}` },
    (i) => ({ method: 'POST', path: templates.configmaps.path, body: JSON.stringify({ metadata: { name: `ann-${i}`, annotations: { a: 'x'.repeat(262_145) } } }), creates: `${templates.configmaps.path}/ann-${i}` }),
    // Verbs upstream does not route, and bodies of the wrong type for deletes and evictions.
    () => rng.pick<Req>([
      { method: 'DELETE', path: '/api/v1/namespaces', seed: true },
      { method: 'DELETE', path: '/api/v1/pods', seed: true },
      { method: 'DELETE', path: '/apis/apps/v1/deployments', seed: true },
      { method: 'DELETE', path: '/api/v1/configmaps', seed: true },
      { method: 'DELETE', path: seedPod, body: rng.pick(['[]', '5', '"x"', '{"gracePeriodSeconds":"x"}', '{"preconditions":5}', '{"propagationPolicy":1}']), seed: true },
      { method: 'POST', path: `${seedPod}/eviction`, body: JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'seed' }, deleteOptions: rng.pick([5, 'x', [], true]) }), seed: true },
      { method: 'POST', path: `/api/v1/watch/namespaces/${NS}/configmaps`, body: JSON.stringify({ metadata: { name: 'watch-created' } }), creates: `${templates.configmaps.path}/watch-created` },
      { method: 'PUT', path: `/api/v1/watch/namespaces/${NS}/configmaps/seed`, body: '{}', seed: true },
      { method: 'PROPFIND', path: seedPod, seed: true },
    ]),
    // Apply without a fieldManager, with one too long, or with a body of another kind.
    (i) => rng.pick<Req>([
      { method: 'PATCH', path: `${templates.configmaps.path}/ap-${i}`, body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `ap-${i}` } }), headers: APPLY, creates: `${templates.configmaps.path}/ap-${i}` },
      { method: 'PATCH', path: `${templates.configmaps.path}/ap-${i}?fieldManager=${'m'.repeat(129)}`, body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `ap-${i}` } }), headers: APPLY, creates: `${templates.configmaps.path}/ap-${i}` },
      { method: 'PATCH', path: `${seedCm}?fieldManager=f`, body: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'seed' } }), headers: APPLY, seed: true },
      { method: 'PATCH', path: `${seedCm}?fieldManager=f`, body: JSON.stringify({ apiVersion: 'apps/v1', kind: 'ConfigMap', metadata: { name: 'seed' } }), headers: APPLY, seed: true },
    ]),
    // Scale.
    () => rng.pick<Req>([
      { method: 'PATCH', path: `${seedDeploy}/scale`, body: `{"spec":{"replicas":${rng.pick(['1e308', '-1', '1.5', '"x"', '[]', '2147483648'])}}}`, headers: MERGE, seed: true },
      { method: 'PUT', path: `${seedDeploy}/scale`, body: `{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"seed"},"spec":{"replicas":${rng.pick(['1e308', '"x"', '{}'])}}}`, seed: true },
    ]),
    // Malformed documents and media types.
    () => {
      const good = JSON.stringify(templates.pods.body('seed'));
      return rng.pick<Req>([
        { method: 'PUT', path: seedPod, body: good.slice(0, rng.int(good.length)), seed: true },
        { method: 'PUT', path: seedPod, body: '\u0000\u00ff{', seed: true },
        { method: 'PUT', path: seedPod, body: good, headers: ct('application/vnd.kubernetes.protobuf'), seed: true },
        { method: 'PATCH', path: seedPod, body: '{}', headers: ct('text/html'), seed: true },
        { method: 'PUT', path: seedPod, body: '[]', seed: true },
        { method: 'PUT', path: seedPod, body: JSON.stringify({ ...templates.pods.body('seed'), metadata: { name: true } }), seed: true },
        { method: 'PUT', path: seedPod, body: JSON.stringify({ ...templates.pods.body('other') }), seed: true },
      ]);
    },
    // Query parameters and paths.
    () => {
      const token = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: 1e9 + rng.int(1000), start: 'a' })).toString('base64url');
      return rng.pick<Req>([
        { method: 'GET', path: `/api/v1/namespaces/${NS}/pods?limit=1&continue=${token}` },
        { method: 'GET', path: `/api/v1/namespaces/${NS}/pods?limit=1&continue=garbage` },
        { method: 'GET', path: `/api/v1/namespaces/${NS}/pods?limit=abc` },
        { method: 'GET', path: `/api/v1/namespaces/${NS}/pods?labelSelector=${encodeURIComponent('a in (')}` },
        { method: 'GET', path: `/api/v1/namespaces/${NS}/pods?fieldSelector=nope=1` },
        { method: 'GET', path: `/api/v1/namespaces/${NS}/pods?watch=true&resourceVersion=x` },
        { method: 'GET', path: `/api/v1/namespaces/%zz/pods` },
        { method: 'GET', path: `/api/v1/namespaces/${NS}/pods/${'a'.repeat(300)}` },
        { method: 'GET', path: '/apis/nope/v1/things' },
        { method: 'POST', path: `${seedPod}?dryRun=maybe`, body: '{}', seed: true },
      ]);
    },
  ];
  return (i: number): Req => rng.pick(kinds)(i);
}

let s: TestApiserver;
beforeAll(async () => {
  s = await startTestApiserver();
  await call(s.url, 'POST', '/api/v1/namespaces', { metadata: { name: NS } });
  await call(s.url, 'POST', templates.pods.path, podBody('seed'));
  await call(s.url, 'POST', templates.configmaps.path, templates.configmaps.body('seed'));
  await call(s.url, 'POST', templates.deployments.path, templates.deployments.body('seed'));
});
afterAll(async () => { await s?.stop(); });

describe('the hostile-input storm', () => {
  it('answers every malformed request with a 4xx metav1.Status, changes nothing, and stays ready', async () => {
    const seedPaths = [`${templates.pods.path}/seed`, `${templates.configmaps.path}/seed`, `${templates.deployments.path}/seed`, '/api/v1/namespaces/default', '/api/v1/namespaces/kube-system'];
    const before = await Promise.all(seedPaths.map(async (p) => (await call(s.url, 'GET', p)).body));
    for (const b of before) expect(b.metadata?.resourceVersion).toBeTruthy();

    // A JSON and a Table watch on every resource, for the whole storm.
    const ac = new AbortController();
    const watchErrors: unknown[] = [];
    const watches = RESOURCES.flatMap((r) => {
      const base = r.group ? `/apis/${groupVersion(r.group, r.version)}` : `/api/${r.version}`;
      return [{}, { accept: TABLE }].map((headers) => readWatch(`${s.url}${base}/${r.resource}?watch=true`, (ev) => {
        if (ev.type === 'ERROR') watchErrors.push(ev.object);
      }, { signal: ac.signal, headers }).catch((err: unknown) => { watchErrors.push(String(err)); }));
    });

    // /readyz is probed throughout and must keep answering ok (its latency is printed; speed lives in the benchmarks).
    let probing = true;
    const readyz: number[] = [];
    const prober = (async () => {
      while (probing) {
        const t0 = performance.now();
        const r = await call(s.url, 'GET', '/readyz');
        readyz.push(performance.now() - t0);
        expect(r.body).toBe('ok');
        await new Promise((res) => setTimeout(res, 200));
      }
    })();

    const rng = prng(SEED);
    const next = generator(rng);
    const failures: string[] = [];
    const rejectedCreates = new Set<string>();
    const codes = new Map<number, number>();
    const deadline = Date.now() + DEADLINE_MS;
    let i = 0;
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      while (i < REQUESTS && Date.now() < deadline) {
        const n = i++;
        const req = next(n);
        const headers = { 'content-type': 'application/json', ...req.headers };
        const r = await call(s.url, req.method, req.path, req.body, headers);
        codes.set(r.status, (codes.get(r.status) ?? 0) + 1);
        const what = `#${n} ${req.method} ${req.path.slice(0, 80)} ${String(req.body ?? '').slice(0, 80)} -> ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`;
        if (r.status >= 500) failures.push(`5xx: ${what}`);
        if (r.status >= 400 && !(r.body?.kind === 'Status' && r.body.code === r.status && r.body.status === 'Failure')) failures.push(`not a Status: ${what}`);
        if (req.seed && r.status < 400) failures.push(`accepted on a seed: ${what}`);
        if (req.creates && r.status >= 400) rejectedCreates.add(req.creates);
      }
    }));
    probing = false;
    await prober;

    expect(failures.slice(0, 20)).toEqual([]);
    expect(i).toBeGreaterThanOrEqual(2000); // thousands, within the deadline
    expect(readyz.length).toBeGreaterThan(0);
    expect(watchErrors).toEqual([]);
    const after = await Promise.all(seedPaths.map(async (p) => (await call(s.url, 'GET', p)).body));
    expect(after.map((o) => o.metadata?.resourceVersion)).toEqual(before.map((o) => o.metadata?.resourceVersion));
    for (const p of rejectedCreates) expect((await call(s.url, 'GET', p)).status, p).toBe(404);
    // The watches are still open (none was ended by a bad event) and the server still serves.
    expect((await call(s.url, 'GET', '/api/v1/namespaces/fuzz/pods', undefined, { accept: TABLE })).status).toBe(200);
    ac.abort();
    await Promise.all(watches);
    console.log(`storm: ${i} requests, codes ${JSON.stringify(Object.fromEntries([...codes].sort()))}, readyz max ${Math.max(...readyz).toFixed(0)} ms`);
  }, 120_000);
});
