import { describe, expect, it } from 'vitest';
import type { KubeObject } from '@k8ts/api';
import { SERVICE_ACCOUNT_ISSUER, TokenSigner } from './token-request.js';
import { authenticateToken, type ObjectLookup } from './token-review.js';

const now = 1_800_000_000_000;
const iat = now / 1000;
const objects = new Map<string, KubeObject>([
  ['serviceaccounts/ns1/robot', { metadata: { name: 'robot', namespace: 'ns1', uid: 'sa-uid' } } as KubeObject],
  ['pods/ns1/web', { metadata: { name: 'web', namespace: 'ns1', uid: 'pod-uid' } } as KubeObject],
]);
const lookup: ObjectLookup = async (resource, namespace, name) => objects.get(`${resource}/${namespace ?? ''}/${name}`);
const claims = (over: Record<string, unknown> = {}, k8s: Record<string, unknown> = {}) => ({
  aud: [SERVICE_ACCOUNT_ISSUER], exp: iat + 3600, iat, nbf: iat, iss: SERVICE_ACCOUNT_ISSUER, jti: 'j1', sub: 'system:serviceaccount:ns1:robot',
  'kubernetes.io': { namespace: 'ns1', serviceaccount: { name: 'robot', uid: 'sa-uid' }, ...k8s }, ...over,
});

describe('authenticateToken (upstream JWT authenticator, bound-token validator)', () => {
  const signer = new TokenSigner();

  it('a token of ours: the service account user, its groups, uid, credential id, and the audiences granted', async () => {
    expect(await authenticateToken(signer.sign(claims()), undefined, signer, lookup, now)).toEqual({
      authenticated: true,
      user: {
        username: 'system:serviceaccount:ns1:robot', uid: 'sa-uid',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:ns1', 'system:authenticated'],
        extra: { 'authentication.kubernetes.io/credential-id': ['JTI=j1'] },
      },
      audiences: [SERVICE_ACCOUNT_ISSUER],
    });
  });

  it('a pod-bound token names the pod in extra, and fails once the pod is another', async () => {
    const token = signer.sign(claims({}, { pod: { name: 'web', uid: 'pod-uid' } }));
    const ok = await authenticateToken(token, undefined, signer, lookup, now);
    expect(ok.authenticated && ok.user.extra).toMatchObject({ 'authentication.kubernetes.io/pod-name': ['web'], 'authentication.kubernetes.io/pod-uid': ['pod-uid'] });
    const stale = await authenticateToken(signer.sign(claims({}, { pod: { name: 'web', uid: 'old' } })), undefined, signer, lookup, now);
    expect(stale).toEqual({ authenticated: false, error: 'pod UID (pod-uid) does not match claim (old)' });
  });

  it('audiences: the requested ones must meet the token\'s', async () => {
    const token = signer.sign(claims({ aud: ['api', 'vault'] }));
    expect(await authenticateToken(token, ['vault'], signer, lookup, now)).toMatchObject({ authenticated: true, audiences: ['vault'] });
    expect(await authenticateToken(token, undefined, signer, lookup, now)).toEqual({
      authenticated: false, error: `token audiences ["api" "vault"] is invalid for the target audiences ["${SERVICE_ACCOUNT_ISSUER}"]`,
    });
  });

  it('refuses what is not ours, a bad signature, an expired token and a deleted service account', async () => {
    const fail = async (token: string) => authenticateToken(token, undefined, signer, lookup, now);
    expect(await fail('not-a-jwt')).toEqual({ authenticated: false, error: 'invalid bearer token' });
    const other = new TokenSigner();
    expect(await fail(other.sign(claims()))).toMatchObject({ authenticated: false, error: 'invalid signature, no keys found' });
    const [h, p] = signer.sign(claims()).split('.');
    expect(await fail(`${h}.${p}.${Buffer.from('junk').toString('base64url')}`)).toEqual({ authenticated: false, error: 'go-jose/go-jose: error in cryptographic primitive' });
    expect(await fail(signer.sign(claims({ exp: iat - 1 })))).toEqual({ authenticated: false, error: 'service account token has expired' });
    expect(await fail(signer.sign(claims({}, { serviceaccount: { name: 'gone', uid: 'x' } })))).toEqual({ authenticated: false, error: 'service account token has been invalidated' });
    expect(await fail(signer.sign(claims({}, { serviceaccount: { name: 'robot', uid: 'old' } })))).toEqual({ authenticated: false, error: 'service account UID (sa-uid) does not match claim (old)' });
  });
});
