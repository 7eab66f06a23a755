import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestApiserver, testKubectl, type TestApiserver, type TestKubectl } from './harness.js';

// authorization.k8s.io/v1 (the access and rules reviews) and authentication.k8s.io/v1 (SelfSubjectReview, TokenReview)
// against a real apiserver on real etcd, with the real kubectl v1.32 (`kubectl auth can-i`, `kubectl auth whoami`,
// which send protobuf bodies) and the official Python client. k8ts authorizes everything: AlwaysAllow's answers.
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const hasPythonClient = spawnSync(PYTHON, ['-c', 'import kubernetes'], { stdio: 'ignore' }).status === 0;
const execFileP = promisify(execFile);
const AUTHZ = '/apis/authorization.k8s.io/v1';
const AUTHN = '/apis/authentication.k8s.io/v1';

describe.skipIf(!hasKubectl)('access and token reviews', () => {
  let api: TestApiserver;
  let kubectl: TestKubectl;
  /** kubectl's exit code and output, whether it failed or not. */
  const run = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await execFileP('kubectl', [`--cache-dir=${kubectl.dir}/cache`, ...args], {
        env: { ...process.env, KUBECONFIG: path.join(kubectl.dir, 'kubeconfig'), HOME: kubectl.dir }, timeout: 60_000,
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  };
  beforeAll(async () => {
    api = await startTestApiserver();
    kubectl = testKubectl(api.url);
    await kubectl('create', 'serviceaccount', 'robot');
  }, 60_000);
  afterAll(async () => {
    kubectl?.cleanup();
    await api?.stop();
  });

  it('kubectl auth can-i: yes, exit 0, for resources, subresources, wildcards, other users and non-resource URLs', async () => {
    for (const args of [
      ['create', 'pods'], ['*', '*'], ['get', 'pods', '--as=jane'], ['get', 'pods', '--as=jane', '--as-group=dev'],
      ['get', 'pods', '--subresource=log'], ['delete', 'deployments.apps', '-n', 'kube-system'], ['list', 'nodes'],
      ['get', '/healthz'], ['create', 'selfsubjectaccessreviews.authorization.k8s.io'],
    ]) {
      const r = await run('auth', 'can-i', ...args);
      expect({ args, code: r.code, out: r.stdout }).toEqual({ args, code: 0, out: 'yes\n' });
    }
    // --quiet: the answer is the exit code alone.
    expect(await run('auth', 'can-i', 'create', 'pods', '--quiet')).toMatchObject({ code: 0, stdout: '' });
  });

  it('kubectl auth can-i --list: every verb on every resource and every URL', async () => {
    const r = await run('auth', 'can-i', '--list');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').map((l) => l.trim().split(/\s+/))).toEqual([
      ['Resources', 'Non-Resource', 'URLs', 'Resource', 'Names', 'Verbs'], ['*.*', '[]', '[]', '[*]'], ['[*]', '[]', '[*]'], [''],
    ]);
    expect((await run('auth', 'can-i', '--list', '--as=jane', '-n', 'kube-system')).code).toBe(0);
  });

  it('kubectl auth whoami: the insecure superuser, or whom the request impersonates', async () => {
    expect((await kubectl('auth', 'whoami')).split('\n').map((l) => l.trim().split(/\s{2,}/))).toEqual([
      ['ATTRIBUTE', 'VALUE'], ['Username', 'system:unsecured'], ['Groups', '[system:masters system:authenticated]'], [''],
    ]);
    const json = JSON.parse(await kubectl('auth', 'whoami', '-o', 'json'));
    expect(json).toEqual({
      kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: expect.any(String) },
      status: { userInfo: { username: 'system:unsecured', groups: ['system:masters', 'system:authenticated'] } },
    });
    const as = JSON.parse(await kubectl('auth', 'whoami', '--as=jane', '--as-group=dev', '--as-group=ops', '--as-uid=u-1', '-o', 'json'));
    expect(as.status.userInfo).toEqual({ username: 'jane', uid: 'u-1', groups: ['dev', 'ops', 'system:authenticated'] });
    const sa = JSON.parse(await kubectl('auth', 'whoami', '--as=system:serviceaccount:default:robot', '-o', 'json'));
    expect(sa.status.userInfo.groups).toEqual(['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated']);
    expect(await kubectl('auth', 'whoami', '--as=jane', '--as-group=dev')).toMatch(/Username\s+jane\nGroups\s+\[dev system:authenticated\]/);
  });

  it('a bearer token of ours is its service account in SelfSubjectReview', async () => {
    const token = (await kubectl('create', 'token', 'robot')).trim();
    const r = await call(api.url, 'POST', `${AUTHN}/selfsubjectreviews`, {}, { authorization: `Bearer ${token}` });
    expect(r.status).toBe(201);
    expect(r.body.status.userInfo).toMatchObject({ username: 'system:serviceaccount:default:robot', groups: ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated'] });
  });

  it('TokenReview: a token from kubectl create token is its service account; a bad one is not authenticated', async () => {
    const sa = JSON.parse(await kubectl('get', 'sa', 'robot', '-o', 'json'));
    const token = (await kubectl('create', 'token', 'robot')).trim();
    const jti = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).jti;
    const ok = await call(api.url, 'POST', `${AUTHN}/tokenreviews`, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } });
    expect(ok.status).toBe(201);
    expect(ok.body.status).toEqual({
      authenticated: true,
      user: {
        username: 'system:serviceaccount:default:robot', uid: sa.metadata.uid,
        groups: ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated'],
        extra: { 'authentication.kubernetes.io/credential-id': [`JTI=${jti}`] },
      },
      audiences: ['https://kubernetes.default.svc.cluster.local'],
    });
    const bad = await call(api.url, 'POST', `${AUTHN}/tokenreviews`, { spec: { token: 'not-a-token' } });
    expect(bad.status).toBe(201);
    expect(bad.body.status).toEqual({ user: {}, error: 'invalid bearer token' });
    // A token for another audience: refused for the apiserver's, good for its own.
    const api2 = (await kubectl('create', 'token', 'robot', '--audience=vault')).trim();
    const other = await call(api.url, 'POST', `${AUTHN}/tokenreviews`, { spec: { token: api2 } });
    expect(other.body.status).toEqual({ user: {}, error: 'token audiences ["vault"] is invalid for the target audiences ["https://kubernetes.default.svc.cluster.local"]' });
    const own = await call(api.url, 'POST', `${AUTHN}/tokenreviews`, { spec: { token: api2, audiences: ['vault', 'x'] } });
    expect(own.body.status).toMatchObject({ authenticated: true, audiences: ['vault'] });
    // Through kubectl create -f (a protobuf body): the review comes back, nothing is stored.
    const file = kubectl.file('tr.json', JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } }));
    expect(JSON.parse(await kubectl('create', '-f', file, '-o', 'json')).status.authenticated).toBe(true);
    // Deleting the service account invalidates its tokens.
    await kubectl('delete', 'sa', 'robot');
    const gone = await call(api.url, 'POST', `${AUTHN}/tokenreviews`, { spec: { token } });
    expect(gone.body.status).toEqual({ user: {}, error: 'service account token has been invalidated' });
    await kubectl('create', 'serviceaccount', 'robot');
  });

  it('SubjectAccessReview and LocalSubjectAccessReview: allowed, the posted object echoed', async () => {
    const sar = await call(api.url, 'POST', `${AUTHZ}/subjectaccessreviews`, {
      apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview',
      spec: { user: 'jane', groups: ['dev'], resourceAttributes: { verb: 'get', resource: 'secrets', namespace: 'default' } },
    });
    expect(sar.status).toBe(201);
    expect(sar.body).toEqual({
      kind: 'SubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', metadata: { creationTimestamp: null },
      spec: { user: 'jane', groups: ['dev'], resourceAttributes: { verb: 'get', resource: 'secrets', namespace: 'default' } },
      status: { allowed: true },
    });
    const local = await call(api.url, 'POST', `${AUTHZ}/namespaces/default/localsubjectaccessreviews`, {
      spec: { user: 'jane', resourceAttributes: { verb: 'list', resource: 'pods', namespace: 'default' } },
    });
    expect(local.status).toBe(201);
    expect(local.body.metadata).toEqual({ creationTimestamp: null, namespace: 'default' });
    expect(local.body.status).toEqual({ allowed: true });
  });

  it('validation: 422 with upstream\'s messages; a mismatched namespace is a 400', async () => {
    const post = (p: string, body: unknown) => call(api.url, 'POST', p, body);
    const cases: [string, unknown, string][] = [
      [`${AUTHZ}/selfsubjectaccessreviews`, { spec: {} },
        'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified'],
      [`${AUTHZ}/subjectaccessreviews`, { spec: { nonResourceAttributes: { path: '/healthz', verb: 'get' } } },
        'SubjectAccessReview.authorization.k8s.io "" is invalid: spec.user: Invalid value: "": at least one of user or group must be specified'],
      [`${AUTHZ}/namespaces/default/localsubjectaccessreviews`, { spec: { user: 'u', resourceAttributes: { namespace: 'other', verb: 'get' } } },
        'LocalSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes.namespace: Invalid value: "other": must match metadata.namespace'],
    ];
    for (const [p, body, message] of cases) {
      const r = await post(p, body);
      expect({ code: r.status, reason: r.body.reason, message: r.body.message }).toEqual({ code: 422, reason: 'Invalid', message });
    }
    const both = await post(`${AUTHZ}/selfsubjectaccessreviews`, { spec: { resourceAttributes: { verb: 'get' }, nonResourceAttributes: { path: '/', verb: 'get' } } });
    expect(both.status).toBe(422);
    expect(both.body.details.causes).toEqual([expect.objectContaining({ field: 'spec.nonResourceAttributes', message: expect.stringContaining('cannot be specified in combination with resourceAttributes') })]);
    const ns = await post(`${AUTHZ}/namespaces/default/localsubjectaccessreviews`, { metadata: { namespace: 'other' }, spec: { user: 'u', resourceAttributes: { namespace: 'other' } } });
    expect({ code: ns.status, message: ns.body.message }).toEqual({ code: 400, message: 'the namespace of the provided object does not match the namespace sent on the request' });
    const noToken = await post(`${AUTHN}/tokenreviews`, { spec: {} });
    expect({ code: noToken.status, message: noToken.body.message }).toEqual({ code: 400, message: 'token is required for TokenReview in authentication' });
    const noNs = await post(`${AUTHZ}/selfsubjectrulesreviews`, { spec: {} });
    expect({ code: noNs.status, message: noNs.body.message }).toEqual({ code: 400, message: 'no namespace on request' });
    const wrongType = await post(`${AUTHZ}/selfsubjectaccessreviews`, { spec: { resourceAttributes: { verb: 5 } } });
    expect(wrongType.status).toBe(400);
    // Field validation as for any create: kubectl create -f sends fieldValidation=Strict; Warn says so and drops the field.
    const file = kubectl.file('ssar.yaml', 'apiVersion: authorization.k8s.io/v1\nkind: SelfSubjectAccessReview\nspec:\n  bogus: 1\n  resourceAttributes: {verb: get, resource: pods}\n');
    const strict = await run('create', '-f', file, '-o', 'json');
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain('SelfSubjectAccessReview in version "v1" cannot be handled as a SelfSubjectAccessReview: strict decoding error: unknown field "spec.bogus"');
    const warn = await call(api.url, 'POST', `${AUTHZ}/selfsubjectaccessreviews?fieldValidation=Warn`, { spec: { bogus: 1, resourceAttributes: { verb: 'get' } } });
    expect(warn.headers.get('warning')).toBe('299 - "unknown field \\"spec.bogus\\""');
    expect(warn.body.spec).toEqual({ resourceAttributes: { verb: 'get' } });
  });

  it('create only: GET, LIST, watch and DELETE are 405; kubectl get says the server does not allow it', async () => {
    for (const [method, p] of [['GET', `${AUTHZ}/selfsubjectaccessreviews`], ['GET', `${AUTHZ}/subjectaccessreviews?watch=true`],
      ['DELETE', `${AUTHN}/tokenreviews`], ['GET', `${AUTHZ}/namespaces/default/localsubjectaccessreviews`], ['PUT', `${AUTHN}/selfsubjectreviews/x`]]) {
      const r = await call(api.url, method, p);
      expect({ method, p, code: r.status, reason: r.body.reason }).toEqual({ method, p, code: 405, reason: 'MethodNotAllowed' });
    }
    const r = await run('get', 'selfsubjectaccessreviews');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the server does not allow this method on the requested resource');
  });

  it('discovery lists the reviews as create-only, with no storage hash; OpenAPI has their schemas', async () => {
    const out = await kubectl('api-resources', '--api-group=authorization.k8s.io', '--no-headers');
    expect(out.split('\n').filter(Boolean).map((l) => l.split(/\s+/)[0])).toEqual(['localsubjectaccessreviews', 'selfsubjectaccessreviews', 'selfsubjectrulesreviews', 'subjectaccessreviews']);
    expect((await kubectl('api-resources', '--api-group=authentication.k8s.io', '--no-headers', '-o', 'name')).split('\n').filter(Boolean))
      .toEqual(['selfsubjectreviews.authentication.k8s.io', 'tokenreviews.authentication.k8s.io']);
    expect(await kubectl('api-resources', '--verbs=list', '-o', 'name')).not.toContain('review');
    const list = await call(api.url, 'GET', AUTHN);
    expect(list.body.resources).toEqual([
      { name: 'selfsubjectreviews', singularName: 'selfsubjectreview', namespaced: false, kind: 'SelfSubjectReview', verbs: ['create'] },
      { name: 'tokenreviews', singularName: 'tokenreview', namespaced: false, kind: 'TokenReview', verbs: ['create'] },
    ]);
    expect(await kubectl('explain', 'subjectaccessreview.spec.resourceAttributes')).toContain('verb\t<string>');
  });

  it.skipIf(!hasPythonClient)('the official Python client\'s AuthorizationV1Api and AuthenticationV1Api', async () => {
    const { stdout } = await execFileP(PYTHON, [path.join(import.meta.dirname, 'python', 'auth_reviews.py'), api.url], { timeout: 60_000 });
    expect(JSON.parse(stdout)).toEqual({
      ssar: true, sar: true,
      rules: { incomplete: false, nonResourceRules: [{ nonResourceURLs: ['*'], verbs: ['*'] }], resourceRules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }] },
      tr: { error: 'invalid bearer token', user: {} },
    });
  });
});
