// k8ts-kubectl auth can-i and auth whoami side by side with the real kubectl against a k8ts apiserver (AlwaysAllow:
// every answer is yes), and the act-as flags and kubeconfig fields shown by whoami.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, eventually, startTestApiserver, type TestApiserver } from './harness.js';
import { exact, kubectlPair, type KubectlPair } from './kubectl-compare.js';

let api: TestApiserver;
let k: KubectlPair;

/** creationTimestamp is the time of each answer: masked. */
const timeMasked = (text: string): string => text.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/g, 'TIME');

beforeAll(async () => {
  api = await startTestApiserver();
  k = kubectlPair(api.url);
  await call(api.url, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } });
});
afterAll(async () => {
  k?.cleanup();
  await api?.stop();
});

describe('k8ts-kubectl auth can-i, side by side with kubectl', () => {
  it('answers yes for resources named as kubectl resolves them', async () => {
    for (const args of [
      ['get', 'pods'], ['create', 'deploy'], ['list', 'deployments.apps'], ['get', 'deployments.v1.apps'], ['list', 'jobs.batch/bar', '-n', 'foo'],
      ['delete', 'Pods/Web'], ['*', '*'], ['create', 'pods', '--all-namespaces'], ['watch', 'hpa', '-A'], ['impersonate', 'users'], ['impersonate', 'groups'],
      ['bind', 'roles'], ['approve', 'secrets'], ['list', 'po', '-n', 'other'],
    ]) {
      const out = await k.same(['auth', 'can-i', ...args], { scrub: exact });
      expect(out).toEqual({ code: 0, stdout: 'yes\n', stderr: '' });
    }
  });

  it('--subresource, non-resource URLs and -q', async () => {
    expect((await k.same(['auth', 'can-i', 'get', 'pods', '--subresource=log'], { scrub: exact })).stdout).toBe('yes\n');
    await k.same(['auth', 'can-i', 'update', 'deploy/web', '--subresource', 'scale'], { scrub: exact });
    expect((await k.same(['auth', 'can-i', 'get', '/logs/'], { scrub: exact })).stdout).toBe('yes\n');
    await k.same(['auth', 'can-i', 'post', '/apis', '-A'], { scrub: exact });
    expect(await k.same(['auth', 'can-i', 'get', 'pods', '-q'], { scrub: exact })).toEqual({ code: 0, stdout: '', stderr: '' });
    await k.same(['auth', 'can-i', '--quiet', 'get', 'foo'], { scrub: exact });
  });

  it('warns as kubectl does: unknown types, verbs, cluster-scoped resources', async () => {
    const unknown = await k.same(['auth', 'can-i', 'get', 'foo'], { scrub: exact });
    expect(unknown.stderr).toBe("Warning: the server doesn't have a resource type 'foo'\n\n");
    await k.same(['auth', 'can-i', 'get', 'foos.example.com'], { scrub: exact });
    await k.same(['auth', 'can-i', 'get', 'deployments.v9.apps'], { scrub: exact });
    await k.same(['auth', 'can-i', 'frob', 'pods'], { scrub: exact });
    await k.same(['auth', 'can-i', 'frob', 'pods', '-A'], { scrub: exact });
    await k.same(['auth', 'can-i', 'frob', '/healthz'], { scrub: exact });
    await k.same(['auth', 'can-i', 'frob', 'nothings'], { scrub: exact });
    expect((await k.same(['auth', 'can-i', 'get', 'nodes'], { scrub: exact })).stderr).toBe("Warning: resource 'nodes' is not namespace scoped\n\n");
    await k.same(['auth', 'can-i', 'get', 'nodes/node-1', '-A'], { scrub: exact });
    await k.same(['auth', 'can-i', 'list', 'clusterroles'], { scrub: exact });
  });

  it('--list prints the rules table', async () => {
    const list = await k.same(['auth', 'can-i', '--list'], { scrub: exact });
    expect(list.stdout).toBe('Resources   Non-Resource URLs   Resource Names   Verbs\n*.*         []                  []               [*]\n            [*]                 []               [*]\n');
    await k.same(['auth', 'can-i', '--list', '--no-headers'], { scrub: exact });
    await k.same(['auth', 'can-i', '--list', '-n', 'other'], { scrub: exact });
    await k.same(['auth', 'can-i', '--list', '--as', 'jane'], { scrub: exact });
  });

  it("reports kubectl's usage errors", async () => {
    for (const args of [[], ['get'], ['get', 'pods', 'extra'], ['--list', 'pods'], ['--list', '-q'], ['--list', '-A'], ['--list', '--subresource=log'],
      ['get', 'pods', '--no-headers'], ['get', '/logs', '--subresource=x'], ['get', 'pods', '--as-group', 'dev']]) {
      const out = await k.same(['auth', 'can-i', ...args], { scrub: exact });
      expect(out.code).toBe(1);
    }
  });

  it('looks again at the server for a type created after discovery was cached', async () => {
    const cache = path.join(k.dir, 'crd-cache');
    const both = (args: string[]) => Promise.all([k.ours(['--cache-dir', cache, ...args]), k.real(['--cache-dir', `${cache}-real`, ...args])]);
    const [ours0, real0] = await both(['auth', 'can-i', 'get', 'gizmos']);
    expect(ours0).toEqual(real0);
    expect(ours0.stderr).toContain("resource type 'gizmos'");
    const crd = await call(api.url, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'gizmos.auth.example.com' },
      spec: {
        group: 'auth.example.com', scope: 'Cluster', names: { plural: 'gizmos', singular: 'gizmo', kind: 'Gizmo' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
      },
    });
    expect(crd.status).toBe(201);
    await eventually(async () => (await call(api.url, 'GET', '/apis/auth.example.com/v1')).status === 200 || undefined, 'the CRD is served');
    const [ours, real] = await both(['auth', 'can-i', 'get', 'gizmos']);
    expect(ours).toEqual(real);
    expect(ours.stderr).toBe("Warning: resource 'gizmos' is not namespace scoped in group 'auth.example.com'\n\n");
  });
});

describe('k8ts-kubectl auth whoami, side by side with kubectl', () => {
  it('prints the caller as a table, and as json, yaml, name, jsonpath and templates', async () => {
    const table = await k.same(['auth', 'whoami'], { scrub: exact });
    expect(table.stdout).toBe('ATTRIBUTE   VALUE\nUsername    system:unsecured\nGroups      [system:masters system:authenticated]\n');
    for (const o of ['json', 'yaml', 'name', 'jsonpath={.status}', 'jsonpath-as-json={.status.userInfo}', 'go-template={{.status.userInfo.username}}', 'wide', 'custom-columns=A:.kind', 'nope']) {
      await k.same(['auth', 'whoami', '-o', o], { scrub: timeMasked });
    }
    await k.same(['auth', 'whoami', 'extra', 'args'], { scrub: exact });
  });

  it('shows who --as, --as-group and --as-uid make the caller', async () => {
    const table = await k.same(['auth', 'whoami', '--as', 'jane', '--as-group', 'dev', '--as-group', 'ops'], { scrub: exact });
    expect(table.stdout).toBe('ATTRIBUTE   VALUE\nUsername    jane\nGroups      [dev ops system:authenticated]\n');
    const json = await k.same(['auth', 'whoami', '--as', 'jane', '--as-group', 'dev', '--as-uid', '1234', '-o', 'json'], { scrub: timeMasked });
    expect(JSON.parse(json.stdout).status.userInfo).toEqual({ username: 'jane', uid: '1234', groups: ['dev', 'system:authenticated'] });
    await k.same(['auth', 'whoami', '--as', 'system:serviceaccount:other:robot'], { scrub: exact });
    await k.same(['auth', 'whoami', '--as', 'system:anonymous', '-o', 'yaml'], { scrub: timeMasked });
    await k.same(['auth', 'whoami', '--as-group', 'dev'], { scrub: exact });
    await k.same(['auth', 'whoami', '--as-uid', '1'], { scrub: exact });
  });

  it("acts as the kubeconfig user's as, as-uid, as-groups and as-user-extra, flags over them", async () => {
    const kubeconfig = k.file('act-as', [
      'apiVersion: v1', 'kind: Config', 'current-context: bob',
      'clusters:', '- name: test', '  cluster:', `    server: ${api.url}`,
      'contexts:', '- name: bob', '  context: {cluster: test, user: bob}', '- name: groups-only', '  context: {cluster: test, user: groups-only}',
      'users:',
      '- name: bob', '  user:', '    as: bob', '    as-uid: "42"', '    as-groups: [dev, ops]',
      '    as-user-extra:', '      reason: [testing, more]', '      Scopes.Example/Key: [a]', '      "with space": [x]',
      '- name: groups-only', '  user: {as-groups: [dev]}', '',
    ].join('\n'));
    const env = { KUBECONFIG: kubeconfig };
    const table = await k.same(['auth', 'whoami'], { scrub: exact, env });
    expect(table.stdout).toContain('Extra: scopes.example/key   [a]\n');
    await k.same(['auth', 'whoami', '-o', 'json'], { scrub: timeMasked, env });
    await k.same(['auth', 'whoami', '-o', 'yaml', '--as', 'alice', '--as-group', 'g'], { scrub: timeMasked, env });
    await k.same(['auth', 'can-i', 'get', 'pods'], { scrub: exact, env });
    expect((await k.same(['auth', 'whoami', '--context', 'groups-only'], { scrub: exact, env })).stderr)
      .toBe('error: requesting uid, groups or user-extra for groups-only without impersonating a user\n');
    await k.same(['auth', 'whoami', '--context', 'groups-only', '--as', 'zed'], { scrub: exact, env });
  });
});

describe('k8ts-kubectl auth', () => {
  it('without a subcommand prints its help on stderr and fails, as kubectl', async () => {
    const { ours, real } = await k.both(['auth']);
    expect([ours.code, ours.stdout, real.code, real.stdout]).toEqual([1, '', 1, '']);
    // kubectl also lists `reconcile`, which k8ts-kubectl lacks.
    expect(ours.stderr).toBe(real.stderr.replace(/^ {2}reconcile .*\n/m, ''));
  });
});
