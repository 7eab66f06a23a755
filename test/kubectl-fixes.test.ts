import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, eventually, startTestApiserver, startTestControllers, type TestApiserver } from './harness.js';

/* The real kubectl against an in-process apiserver: the symptoms kubectl users hit, each fixed. */

const run = promisify(execFile);
let s: TestApiserver;
let dir = '';
let env: NodeJS.ProcessEnv = {};

/** Runs kubectl; resolves with stdout, or (expectFailure) with stderr of a failed run. */
async function kubectl(args: string[], expectFailure = false): Promise<string> {
  try {
    const { stdout } = await run('kubectl', [`--cache-dir=${dir}/kube-cache`, ...args], { env, timeout: 60_000 });
    if (expectFailure) throw new Error(`kubectl ${args.join(' ')} succeeded: ${stdout}`);
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; code?: unknown };
    if (!expectFailure || e.stderr === undefined) throw err;
    return e.stderr;
  }
}
const file = (name: string, text: string) => { const f = path.join(dir, name); writeFileSync(f, text); return f; };
const api = (method: string, p: string, body?: unknown) => call(s.url, method, p, body);

const POD = `apiVersion: v1
kind: Pod
metadata:
  name: replaced
  namespace: default
spec:
  containers:
  - name: main
    image: k8ts/busybox:latest
`;

beforeAll(async () => {
  s = await startTestApiserver();
  dir = mkdtempSync(path.join(tmpdir(), 'k8ts-kubectl-fixes-'));
  writeFileSync(path.join(dir, 'kubeconfig'), [
    'apiVersion: v1', 'kind: Config', 'current-context: test',
    'clusters:', '- name: test', '  cluster:', `    server: ${s.url}`,
    'contexts:', '- name: test', '  context:', '    cluster: test', '    user: test',
    'users:', '- name: test', '  user: {}', '',
  ].join('\n'));
  env = { ...process.env, KUBECONFIG: path.join(dir, 'kubeconfig'), HOME: dir };
}, 60_000);

afterAll(async () => {
  await s?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the real kubectl', () => {
  it('delete --dry-run=server leaves the object', async () => {
    await kubectl(['apply', '-f', file('cm.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: keep, namespace: default }\ndata: { a: "1" }\n')]);
    expect((await kubectl(['delete', 'configmap', 'keep', '--dry-run=server'])).trim()).toBe('configmap "keep" deleted (server dry run)');
    expect((await kubectl(['delete', '-f', path.join(dir, 'cm.yaml'), '--dry-run=server'])).trim()).toBe('configmap "keep" deleted (server dry run)');
    expect(await kubectl(['get', 'configmap', 'keep', '-o', 'jsonpath={.data.a}'])).toBe('1');
    expect((await api('GET', '/api/v1/namespaces/default/configmaps/keep')).body.metadata.deletionTimestamp).toBeUndefined();
  });

  it('drain --dry-run=server evicts nothing', async () => {
    await api('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' } });
    await api('POST', '/api/v1/namespaces/default/pods', {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'drained' }, spec: { nodeName: 'node-1', containers: [{ name: 'a', image: 'k8ts/busybox:latest' }] },
    });
    const out = await kubectl(['drain', 'node-1', '--dry-run=server', '--force', '--ignore-daemonsets']);
    expect(out).toContain('node/node-1 cordoned (server dry run)');
    expect(out).toContain('evicting pod default/drained (server dry run)');
    expect(out).toContain('node/node-1 drained (server dry run)');
    const pod = (await api('GET', '/api/v1/namespaces/default/pods/drained')).body;
    expect(pod.metadata.deletionTimestamp).toBeUndefined();
    expect((await api('GET', '/api/v1/nodes/node-1')).body.spec?.unschedulable).toBeUndefined();
  });

  it('refuses delete namespace default, and delete namespace --all keeps the system namespaces and the kubernetes service', async () => {
    const refused = await kubectl(['delete', 'namespace', 'default'], true);
    expect(refused).toContain('Error from server (Forbidden): namespaces "default" is forbidden: this namespace may not be deleted');
    await kubectl(['apply', '-f', file('ns.yaml', 'apiVersion: v1\nkind: Namespace\nmetadata: { name: extra }\n')]);
    const all = await kubectl(['delete', 'namespace', '--all'], true);
    for (const name of ['default', 'kube-system', 'kube-public']) expect(all).toContain(`namespaces "${name}" is forbidden: this namespace may not be deleted`);
    // Emptying and finalizing a deleted namespace is the controller manager's namespace controller's job.
    const controllers = await startTestControllers(s.url, ['namespace']);
    try {
      await eventually(async () => (await api('GET', '/api/v1/namespaces/extra')).status === 404, 'namespace extra removed');
    } finally {
      await controllers.stop();
    }
    const left = await kubectl(['get', 'namespaces', '-o', 'jsonpath={.items[*].metadata.name}']);
    expect(left.split(' ').sort()).toEqual(['default', 'kube-public', 'kube-system']);
    expect(await kubectl(['get', 'service', 'kubernetes', '-o', 'jsonpath={.spec.clusterIP}'])).toBe('10.96.0.1');
  });

  it('replace -f of a pod works, with and without --save-config', async () => {
    const f = file('pod.yaml', POD);
    expect((await kubectl(['create', '-f', f])).trim()).toBe('pod/replaced created');
    expect((await kubectl(['replace', '-f', f])).trim()).toBe('pod/replaced replaced');
    expect((await kubectl(['replace', '--save-config', '-f', f])).trim()).toBe('pod/replaced replaced');
    const pod = (await api('GET', '/api/v1/namespaces/default/pods/replaced')).body;
    expect(pod.spec).toMatchObject({ priority: 0, preemptionPolicy: 'PreemptLowerPriority' });
    expect(pod.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']).toContain('"name":"replaced"');
  });
});
