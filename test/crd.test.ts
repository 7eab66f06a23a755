import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, eventually, readWatch, startTestApiserver, testKubectl, type TestApiserver, type TestKubectl } from './harness.js';

/* CustomResourceDefinitions end to end: a real etcd, the real apiserver, the real kubectl. */

const CRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names:
    plural: crontabs
    singular: crontab
    kind: CronTab
    shortNames: [ct]
    categories: [all]
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        description: A CronTab runs a command on a schedule.
        properties:
          spec:
            type: object
            description: What to run and when.
            properties:
              cronSpec:
                type: string
                description: The schedule, in cron format.
                pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$'
              image:
                type: string
              replicas:
                type: integer
                minimum: 0
                maximum: 10
                default: 1
              maxReplicas:
                type: integer
            required: [cronSpec]
            x-kubernetes-validations:
            - rule: "!has(self.maxReplicas) || self.replicas <= self.maxReplicas"
              message: replicas must not exceed maxReplicas
          status:
            type: object
            properties:
              replicas:
                type: integer
              labelSelector:
                type: string
    subresources:
      status: {}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
        labelSelectorPath: .status.labelSelector
    additionalPrinterColumns:
    - name: Spec
      type: string
      jsonPath: .spec.cronSpec
    - name: Replicas
      type: integer
      jsonPath: .spec.replicas
    - name: Image
      type: string
      priority: 1
      jsonPath: .spec.image
    - name: Age
      type: date
      jsonPath: .metadata.creationTimestamp
    selectableFields:
    - jsonPath: .spec.image
  - name: v1beta1
    served: true
    storage: false
    deprecated: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
`;

const TAB = (name: string, extra = '') => `
apiVersion: stable.example.com/v1
kind: CronTab
metadata:
  name: ${name}
spec:
  cronSpec: "*/5 * * * *"
  image: my-cron-image
${extra}`;

let s: TestApiserver;
let kubectl: TestKubectl;
beforeAll(async () => {
  s = await startTestApiserver();
  kubectl = testKubectl(s.url);
}, 60_000);
afterAll(async () => { kubectl?.cleanup(); await s?.stop(); });

const established = async () => eventually(async () => {
  const r = await call(s.url, 'GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/crontabs.stable.example.com');
  return r.body.status?.conditions?.some((c: any) => c.type === 'Established' && c.status === 'True') && r.body;
}, 'the CRD established', 5_000);

describe('CustomResourceDefinitions with the real kubectl', () => {
  it('apply a CRD: established with its names within a second, in api-resources and both discovery forms', async () => {
    const t0 = Date.now();
    await kubectl('apply', '-f', kubectl.file('crd.yaml', CRD));
    const crd = await established();
    expect(Date.now() - t0).toBeLessThan(5_000);
    const conds = Object.fromEntries(crd.status.conditions.map((c: any) => [c.type, c]));
    expect(conds.NamesAccepted).toMatchObject({ status: 'True', reason: 'NoConflicts', message: 'no conflicts found' });
    expect(conds.Established).toMatchObject({ status: 'True', reason: 'InitialNamesAccepted' });
    expect(crd.status.acceptedNames).toMatchObject({ plural: 'crontabs', singular: 'crontab', kind: 'CronTab', listKind: 'CronTabList', shortNames: ['ct'] });
    expect(crd.status.storedVersions).toEqual(['v1']);

    const resources = await kubectl('api-resources', '--api-group=stable.example.com');
    expect(resources).toMatch(/crontabs\s+ct\s+stable\.example\.com\/v1\s+true\s+CronTab/);
    const legacy = await call(s.url, 'GET', '/apis/stable.example.com/v1');
    expect(legacy.body.resources.map((r: any) => r.name)).toEqual(['crontabs', 'crontabs/status', 'crontabs/scale']);
    const groups = await call(s.url, 'GET', '/apis');
    expect(groups.body.groups.find((g: any) => g.name === 'stable.example.com')).toMatchObject({ preferredVersion: { version: 'v1' } });
    const agg = await call(s.url, 'GET', '/apis', undefined, { accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' });
    const g = agg.body.items.find((i: any) => i.metadata.name === 'stable.example.com');
    expect(g.versions.map((v: any) => v.version)).toEqual(['v1', 'v1beta1']);
    expect(g.versions[0].resources[0]).toMatchObject({ resource: 'crontabs', scope: 'Namespaced', shortNames: ['ct'], categories: ['all'] });
    expect(await kubectl('get', 'crd')).toMatch(/crontabs\.stable\.example\.com/);
  });

  it('apply custom objects; get shows the printer columns (priority 1 only with -o wide); defaults and pruning as the schema says', async () => {
    // kubectl's default --validate=strict makes the server refuse an unknown field; without it, pruning drops it.
    const a0 = kubectl.file('a.yaml', TAB('a') + '  unknownField: dropped\n');
    await expect(kubectl('apply', '-f', a0)).rejects.toThrow(/strict decoding error: unknown field "spec\.unknownField"/);
    await kubectl('apply', '--validate=false', '-f', a0);
    await kubectl('apply', '-f', kubectl.file('b.yaml', TAB('b', '  replicas: 3')));
    const out = await kubectl('get', 'crontabs');
    expect(out.split('\n')[0]).toMatch(/^NAME\s+SPEC\s+REPLICAS\s+AGE$/);
    expect(out).toMatch(/a\s+\*\/5 \* \* \* \*\s+1\s+\d+s/);
    expect(out).toMatch(/b\s+\*\/5 \* \* \* \*\s+3\s+\d+s/);
    expect(await kubectl('get', 'ct', '-o', 'wide')).toMatch(/^NAME\s+SPEC\s+REPLICAS\s+IMAGE\s+AGE\n/);
    const a = JSON.parse(await kubectl('get', 'crontab', 'a', '-o', 'json'));
    expect(a.spec).toEqual({ cronSpec: '*/5 * * * *', image: 'my-cron-image', replicas: 1 });
    expect(a.metadata.generation).toBe(1);
    const raw = await call(s.url, 'GET', '/apis/stable.example.com/v1/namespaces/default/crontabs/a');
    expect(raw.body.apiVersion).toBe('stable.example.com/v1');
    expect(await kubectl('get', 'all')).toMatch(/crontab\.stable\.example\.com\/a/);
    // A second client-side apply is a JSON merge patch (kubectl has no strategic merge metadata for custom kinds).
    expect(await kubectl('apply', '-f', kubectl.file('b.yaml', TAB('b', '  replicas: 4')))).toMatch(/crontab\.stable\.example\.com\/b configured/);
    expect(JSON.parse(await kubectl('get', 'ct', 'b', '-o', 'json')).metadata.generation).toBe(2);
    await kubectl('apply', '-f', kubectl.file('b.yaml', TAB('b', '  replicas: 3')));
    const warn = await call(s.url, 'POST', '/apis/stable.example.com/v1/namespaces/default/crontabs?fieldValidation=Warn&dryRun=All',
      { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'warned', junk: 1 }, spec: { cronSpec: '* * * * *', extra: 1 } });
    expect(warn.status).toBe(201);
    expect(warn.headers.get('warning')).toBe('299 - "unknown field \\"metadata.junk\\"", 299 - "unknown field \\"spec.extra\\""');
    expect(warn.body.spec).toEqual({ cronSpec: '* * * * *', replicas: 1 });
    const described = await kubectl('describe', 'crontab', 'a');
    expect(described).toMatch(/Name:\s+a\nNamespace:\s+default/);
    expect(described).toMatch(/Kind:\s+CronTab/);
    expect(described).toMatch(/Cron Spec:\s+\*\/5 \* \* \* \*/);
  });

  it('a clear 422 for an object that breaks the schema; strict field validation refuses unknown fields', async () => {
    const bad = kubectl.file('bad.yaml', TAB('bad', '  replicas: 11'));
    await expect(kubectl('apply', '-f', bad)).rejects.toThrow(/The CronTab "bad" is invalid: spec\.replicas: Invalid value: 11: spec\.replicas in body should be less than or equal to 10/);
    const r = await call(s.url, 'POST', '/apis/stable.example.com/v1/namespaces/default/crontabs?fieldValidation=Strict',
      { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'strict' }, spec: { cronSpec: '* * * * *', extra: 1 } });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/unknown field "spec\.extra"/);
    const missing = await call(s.url, 'POST', '/apis/stable.example.com/v1/namespaces/default/crontabs',
      { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'nocron' }, spec: {} });
    expect(missing.status).toBe(422);
    expect(missing.body).toMatchObject({ reason: 'Invalid', details: { name: 'nocron', group: 'stable.example.com', kind: 'CronTab' } });
  });

  it('explain reads the published schema', async () => {
    const out = await kubectl('explain', 'crontabs.spec');
    expect(out).toMatch(/KIND:\s+CronTab/);
    expect(out).toMatch(/cronSpec\s+<string> -required-/);
    expect(out).toMatch(/The schedule, in cron format\./);
  });

  it('scale through /scale; status and spec change separately; generation follows spec only', async () => {
    expect(await kubectl('scale', 'crontab/a', '--replicas=4')).toMatch(/crontab\.stable\.example\.com\/a scaled/);
    const scale = await call(s.url, 'GET', '/apis/stable.example.com/v1/namespaces/default/crontabs/a/scale');
    expect(scale.body).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 4 }, status: { replicas: 0, selector: '' } });
    const st = await call(s.url, 'PATCH', '/apis/stable.example.com/v1/namespaces/default/crontabs/a/status',
      { status: { replicas: 4, labelSelector: 'app=a' } }, { 'content-type': 'application/merge-patch+json' });
    expect(st.status).toBe(200);
    expect(st.body.metadata.generation).toBe(2);
    const after = await call(s.url, 'GET', '/apis/stable.example.com/v1/namespaces/default/crontabs/a/scale');
    expect(after.body.status).toEqual({ replicas: 4, selector: 'app=a' });
    // The main resource ignores status; a status write ignores spec.
    const main = await call(s.url, 'PATCH', '/apis/stable.example.com/v1/namespaces/default/crontabs/a',
      { status: { replicas: 9 }, metadata: { labels: { x: 'y' } } }, { 'content-type': 'application/merge-patch+json' });
    expect(main.body.status.replicas).toBe(4);
    expect(main.body.metadata.generation).toBe(2);
    const smp = await call(s.url, 'PATCH', '/apis/stable.example.com/v1/namespaces/default/crontabs/a', { spec: {} },
      { 'content-type': 'application/strategic-merge-patch+json' });
    expect(smp.status).toBe(415);
    expect(smp.body.message).toBe('the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml');
  });

  it('watch sees changes; lists page; the deprecated version answers with a Warning and the v1beta1 apiVersion', async () => {
    const ac = new AbortController();
    const seen: string[] = [];
    const done = readWatch(`${s.url}/apis/stable.example.com/v1/namespaces/default/crontabs?watch=true`, (ev) => {
      seen.push(`${ev.type} ${ev.object.metadata.name}`);
      return seen.includes('ADDED c');
    }, { signal: ac.signal });
    await eventually(() => seen.includes('ADDED a'), 'the initial events');
    await kubectl('apply', '-f', kubectl.file('c.yaml', TAB('c')));
    await done;
    ac.abort();
    const page = await call(s.url, 'GET', '/apis/stable.example.com/v1/namespaces/default/crontabs?limit=2');
    expect(page.body.items).toHaveLength(2);
    expect(page.body.metadata.continue).toBeTruthy();
    const rest = await call(s.url, 'GET', `/apis/stable.example.com/v1/namespaces/default/crontabs?limit=2&continue=${page.body.metadata.continue}`);
    expect(rest.body.items.map((i: any) => i.metadata.name)).toEqual(['c']);
    const old = await call(s.url, 'GET', '/apis/stable.example.com/v1beta1/namespaces/default/crontabs/a');
    expect(old.body.apiVersion).toBe('stable.example.com/v1beta1');
    expect(old.headers.get('warning')).toBe('299 - "stable.example.com/v1beta1 CronTab is deprecated"');
    const w = await fetch(`${s.url}/apis/stable.example.com/v1beta1/namespaces/default/crontabs?watch=true&timeoutSeconds=1`);
    expect(w.headers.get('warning')).toBe('299 - "stable.example.com/v1beta1 CronTab is deprecated"');
    await w.text();
    const sel = await call(s.url, 'GET', '/apis/stable.example.com/v1/crontabs?labelSelector=x%3Dy');
    expect(sel.body.items.map((i: any) => i.metadata.name)).toEqual(['a']);
    expect(await kubectl('get', 'ct', '--field-selector=spec.image=my-cron-image', '-o', 'name')).toMatch(/crontab\.stable\.example\.com\/a\n/);
    const unknown = await call(s.url, 'GET', '/apis/stable.example.com/v1/crontabs?fieldSelector=spec.cronSpec%3Dx');
    expect(unknown).toMatchObject({ status: 400, body: { message: 'field label not supported: spec.cronSpec' } });
  });

  it('x-kubernetes-validations rules (CEL) refuse what they say, with their message', async () => {
    const f = kubectl.file('cel.yaml', TAB('cel', '  replicas: 5\n  maxReplicas: 3'));
    // Upstream says `Invalid value: "object": ...` (the schema type as the value); the schema module leaves it out for now.
    await expect(kubectl('apply', '-f', f)).rejects.toThrow(/The CronTab "cel" is invalid: spec: Invalid value: (?:"object": )?replicas must not exceed maxReplicas/);
    await kubectl('apply', '-f', kubectl.file('cel-ok.yaml', TAB('cel', '  replicas: 3\n  maxReplicas: 3')));
    await kubectl('delete', 'crontab', 'cel');
  });

  it('server-side apply creates and updates a custom object', async () => {
    const f = kubectl.file('ssa.yaml', TAB('ssa', '  replicas: 2'));
    expect(await kubectl('apply', '--server-side', '-f', f)).toMatch(/crontab\.stable\.example\.com\/ssa serverside-applied/);
    await kubectl('apply', '--server-side', '-f', kubectl.file('ssa.yaml', TAB('ssa', '  replicas: 6')));
    expect(JSON.parse(await kubectl('get', 'ct', 'ssa', '-o', 'json')).spec.replicas).toBe(6);
    await kubectl('delete', '-f', f);
  });

  it('kubectl get -w shows a custom object as it is created', async () => {
    const child = spawn('kubectl', [`--cache-dir=${kubectl.dir}/cache`, 'get', 'crontabs', '-w', '--output-watch-events'],
      { env: { ...process.env, KUBECONFIG: path.join(kubectl.dir, 'kubeconfig'), HOME: kubectl.dir } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    try {
      await eventually(() => /ADDED\s+a\s/.test(out), 'the initial list in the watch', 15_000);
      await kubectl('apply', '-f', kubectl.file('w.yaml', TAB('watched')));
      await eventually(() => /ADDED\s+watched\s+\*\/5 \* \* \* \*\s+1\s/.test(out), 'the new object in the watch', 15_000);
    } finally {
      child.kill();
    }
    await kubectl('delete', 'crontab', 'watched');
  });

  it('a CRD whose kind another CRD of the group holds is not accepted, established nor served', async () => {
    const clash = CRD.replace('name: crontabs.stable.example.com', 'name: crontabz.stable.example.com')
      .replace('plural: crontabs', 'plural: crontabz').replace('singular: crontab', 'singular: crontabz').replace('shortNames: [ct]', 'shortNames: [ctz]');
    await kubectl('apply', '-f', kubectl.file('clash.yaml', clash));
    const c = await eventually(async () => {
      const r = await call(s.url, 'GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/crontabz.stable.example.com');
      return r.body.status?.conditions?.length && r.body;
    }, 'the conditions', 5_000);
    const conds = Object.fromEntries(c.status.conditions.map((x: any) => [x.type, x]));
    expect(conds.NamesAccepted).toMatchObject({ status: 'False', reason: 'KindConflict', message: '"CronTab" is already in use' });
    expect(conds.Established).toMatchObject({ status: 'False', reason: 'NotAccepted' });
    expect((await call(s.url, 'GET', '/apis/stable.example.com/v1/crontabz')).status).toBe(404);
    await kubectl('delete', 'crd', 'crontabz.stable.example.com');
  });

  it('CRD validation: upstream\'s messages for a name, a group, versions', async () => {
    const bad = CRD.replace('name: crontabs.stable.example.com', 'name: wrong.stable.example.com').replace('storage: false', 'storage: true');
    await expect(kubectl('apply', '-f', kubectl.file('badcrd.yaml', bad))).rejects.toThrow(
      /metadata\.name: Invalid value: "wrong\.stable\.example\.com": must be spec\.names\.plural\+"\."\+spec\.group.*spec\.versions: Invalid value: .*must have exactly one version marked as storage version/s);
  });

  it('deleting the CRD deletes every custom object, then its routes and discovery', async () => {
    await kubectl('delete', 'crd', 'crontabs.stable.example.com');
    await eventually(async () => (await call(s.url, 'GET', '/apis/stable.example.com/v1/namespaces/default/crontabs')).status === 404, 'the routes gone', 10_000);
    const discovery = await call(s.url, 'GET', '/apis');
    expect(discovery.body.groups.some((g: any) => g.name === 'stable.example.com')).toBe(false);
    // Re-created, it starts empty: the objects were deleted from etcd, not only unserved.
    await kubectl('apply', '-f', kubectl.file('crd.yaml', CRD));
    await established();
    await eventually(async () => (await call(s.url, 'GET', '/apis/stable.example.com/v1/crontabs')).status === 200, 'served again', 5_000);
    expect((await call(s.url, 'GET', '/apis/stable.example.com/v1/crontabs')).body.items).toEqual([]);
  });
});
