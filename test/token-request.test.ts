import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestApiserver, testKubectl, type TestApiserver, type TestKubectl } from './harness.js';

// serviceaccounts/<name>/token (TokenRequest) with the real kubectl: `kubectl create token`.
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;

function claimsOf(token: string): any {
  const parts = token.split('.');
  expect(parts).toHaveLength(3);
  return JSON.parse(Buffer.from(parts[1], 'base64url').toString());
}

describe.skipIf(!hasKubectl)('TokenRequest', () => {
  let api: TestApiserver;
  let kubectl: TestKubectl;
  beforeAll(async () => {
    api = await startTestApiserver();
    kubectl = testKubectl(api.url);
    await kubectl('create', 'serviceaccount', 'robot');
  }, 60_000);
  afterAll(async () => {
    kubectl?.cleanup();
    await api?.stop();
  });

  it('kubectl create token: a signed JWT for the service account, with its audiences and expiry', async () => {
    const sa = JSON.parse(await kubectl('get', 'sa', 'robot', '-o', 'json'));
    const token = (await kubectl('create', 'token', 'robot', '--duration=2h', '--audience=api', '--audience=vault')).trim();
    const claims = claimsOf(token);
    expect(claims).toMatchObject({
      aud: ['api', 'vault'], iss: 'https://kubernetes.default.svc.cluster.local', sub: 'system:serviceaccount:default:robot',
      'kubernetes.io': { namespace: 'default', serviceaccount: { name: 'robot', uid: sa.metadata.uid } },
    });
    expect(claims.exp - claims.iat).toBe(7200);
    expect(JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()).alg).toBe('RS256');
    expect(claimsOf((await kubectl('create', 'token', 'robot')).trim()).aud).toStrictEqual(['https://kubernetes.default.svc.cluster.local']);
  });

  it('the TokenRequest answer: status.token, expirationTimestamp, spec defaults; errors as upstream', async () => {
    const r = await call(api.url, 'POST', '/api/v1/namespaces/default/serviceaccounts/robot/token',
      { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1', spec: { expirationSeconds: 3600, audiences: ['https://kubernetes.default.svc.cluster.local'] } });
    const exp = claimsOf(r.body.status.token).exp;
    expect(Date.parse(r.body.status.expirationTimestamp) / 1000).toBe(exp);
    const short = await call(api.url, 'POST', '/api/v1/namespaces/default/serviceaccounts/robot/token', { spec: { expirationSeconds: 60 } });
    expect(short.status).toBe(422);
    expect(short.body.message).toContain('may not specify a duration less than 10 minutes');
    const missing = await call(api.url, 'POST', '/api/v1/namespaces/default/serviceaccounts/nobody/token', { spec: {} });
    expect(missing.status).toBe(404);
    const unbound = await call(api.url, 'POST', '/api/v1/namespaces/default/serviceaccounts/robot/token', { spec: { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'none' } } });
    expect(unbound.status).toBe(404);
  });
});
