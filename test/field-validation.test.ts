import { execFile, spawnSync } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestApiserver, testKubectl, type TestApiserver, type TestKubectl } from './harness.js';

// Server-side field validation (?fieldValidation=Strict|Warn|Ignore) as kubectl v1.32 drives it.
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
const execFileP = promisify(execFile);

const deployment = (name: string, extra = '') => `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  replicas: 1
${extra}  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec: { containers: [{ name: c, image: busybox }] }
`;

describe.skipIf(!hasKubectl)('field validation', () => {
  let api: TestApiserver;
  let kubectl: TestKubectl;
  /** kubectl with its stderr, whatever its exit code. */
  const run = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await execFileP('kubectl', [`--kubeconfig=${path.join(kubectl.dir, 'kubeconfig')}`, `--cache-dir=${kubectl.dir}/cache`, ...args],
        { env: { ...process.env, HOME: kubectl.dir }, timeout: 60_000 });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  beforeAll(async () => {
    api = await startTestApiserver();
    kubectl = testKubectl(api.url);
  }, 60_000);
  afterAll(async () => {
    kubectl?.cleanup();
    await api?.stop();
  });

  it('kubectl apply (Strict) refuses an unknown field with upstream\'s message; --validate=warn warns; --validate=false is silent', async () => {
    const bad = kubectl.file('bad.yaml', deployment('typo', '  replica: 2\n'));
    const strict = await run('apply', '-f', bad);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain('Error from server (BadRequest): error when creating');
    expect(strict.stderr).toContain('Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.replica"');
    const warn = await run('apply', '--validate=warn', '-f', bad);
    expect(warn.code).toBe(0);
    expect(warn.stderr).toContain('Warning: unknown field "spec.replica"');
    expect(warn.stdout).toBe('deployment.apps/typo created\n');
    // The object exists now: a second apply is a strategic merge patch, refused under Strict too.
    const patch = await run('apply', '-f', kubectl.file('bad2.yaml', deployment('typo', '  replica: 3\n  paused: true\n')));
    expect(patch.code).toBe(1);
    expect(patch.stderr).toContain('strict decoding error: unknown field "spec.replica"');
    const ignore = await run('apply', '--validate=false', '-f', kubectl.file('bad3.yaml', deployment('quiet', '  replica: 2\n')));
    expect(ignore).toMatchObject({ code: 0, stdout: 'deployment.apps/quiet created\n', stderr: '' });
  });

  it('kubectl create -f and replace -f are strict too; a valid manifest with every kind of nested field passes', async () => {
    const ok = kubectl.file('ok.yaml', `apiVersion: v1
kind: Pod
metadata: { name: full, labels: { a: b }, annotations: { x: "z" } }
spec:
  volumes: [{ name: d, emptyDir: { sizeLimit: 1Gi } }, { name: s, secret: { secretName: s, optional: true } }]
  initContainers: [{ name: i, image: busybox, command: ["true"] }]
  containers:
  - name: c
    image: busybox
    ports: [{ name: http, containerPort: 80 }]
    env: [{ name: A, valueFrom: { fieldRef: { fieldPath: metadata.name } } }]
    envFrom: [{ configMapRef: { name: cm, optional: true } }]
    resources: { requests: { cpu: 100m }, limits: { memory: 64Mi } }
    readinessProbe: { httpGet: { path: /, port: http }, periodSeconds: 3 }
    livenessProbe: { exec: { command: ["true"] } }
    securityContext: { runAsUser: 0, allowPrivilegeEscalation: false }
    volumeMounts: [{ name: d, mountPath: /d }]
  tolerations: [{ key: k, operator: Exists }]
  affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: k, operator: Exists }] }] } } }
  dnsConfig: { options: [{ name: ndots, value: "2" }] }
`);
    expect(await run('create', '-f', ok)).toMatchObject({ stderr: '', stdout: 'pod/full created\n' });
    const cm = kubectl.file('cm.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: cm }\ndata: { a: b }\ndta: { c: d }\n');
    const created = await run('create', '-f', cm);
    expect(created.stderr).toContain('ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "dta"');
  });

  it('Strict, Warn (also the default) and Ignore on the API: upstream\'s order of duplicate and unknown fields, Warning headers', async () => {
    const body = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dupe","name":"dupe","unknownMeta":1},"data":{"a":"b"},"dta":{}}';
    const post = (q: string) => fetch(`${api.url}/api/v1/namespaces/default/configmaps${q}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const strict = await post('?fieldValidation=Strict');
    expect(strict.status).toBe(400);
    expect((await strict.json()).message).toBe('ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: duplicate field "metadata.name", unknown field "metadata.unknownMeta", unknown field "dta"');
    const warn = await post('?fieldValidation=Warn&dryRun=All');
    expect(warn.status).toBe(201);
    expect(warn.headers.get('warning')).toBe('299 - "duplicate field \\"metadata.name\\"", 299 - "unknown field \\"metadata.unknownMeta\\"", 299 - "unknown field \\"dta\\""');
    expect(await warn.json()).not.toHaveProperty('dta');
    const byDefault = await post('?dryRun=All');
    expect(byDefault.headers.get('warning')).toContain('unknown field \\"dta\\"');
    const ignore = await post('?fieldValidation=Ignore');
    expect(ignore.status).toBe(201);
    expect(ignore.headers.get('warning')).toBeNull();
    const merge = await call(api.url, 'PATCH', '/api/v1/namespaces/default/configmaps/dupe?fieldValidation=Strict', '{"data":{"a":"1","a":"2"},"datta":{}}',
      { 'content-type': 'application/merge-patch+json' });
    expect(merge.status).toBe(422);
    expect(merge.body.message).toContain('strict decoding error: duplicate field "data.a", unknown field "datta"');
    const bad = await call(api.url, 'POST', '/api/v1/namespaces/default/configmaps?fieldValidation=strict', { metadata: { name: 'x' } });
    expect(bad.status).toBe(422);
    expect(bad.body.message).toContain('fieldValidation: Unsupported value: "strict": supported values: "Ignore", "Warn", "Strict"');
  });
});
