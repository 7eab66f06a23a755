import type { KubeObject } from '@k8ts/api';
import { SERVICE_ACCOUNT_ISSUER, type TokenSigner } from './token-request.js';
import { ALL_AUTHENTICATED, serviceAccountUser, type UserInfo } from './user-info.js';

/** The objects a token's claims name, or undefined when there is none (the apiserver's own stores). */
export type ObjectLookup = (resource: 'serviceaccounts' | 'pods' | 'secrets' | 'nodes', namespace: string | undefined, name: string) => Promise<KubeObject | undefined>;

/** What authenticating a bearer token gives: the user and the audiences it is good for, or why not. */
export type TokenResult = { authenticated: true; user: UserInfo; audiences: string[] } | { authenticated: false; error: string };

/** Go's %q of a []string: `["a" "b"]`. */
const goQuote = (list: string[]) => `[${list.map((s) => JSON.stringify(s)).join(' ')}]`;

/** Upstream's extra keys of a service account's user (apiserver/pkg/authentication/serviceaccount). */
const EXTRA = {
  podName: 'authentication.kubernetes.io/pod-name', podUid: 'authentication.kubernetes.io/pod-uid',
  nodeName: 'authentication.kubernetes.io/node-name', nodeUid: 'authentication.kubernetes.io/node-uid',
  credentialId: 'authentication.kubernetes.io/credential-id',
};

interface Ref { name?: unknown; uid?: unknown }

/**
 * Authenticates a service-account token this apiserver signed (upstream's JWT authenticator with the bound-token
 * validator): signature and issuer, the audiences asked for (default: the issuer, upstream's --api-audiences),
 * expiry, and that the service account and the object the token is bound to still exist with the same UID.
 * Anything that is not such a token is "invalid bearer token", as upstream's bearer authenticator says.
 */
export async function authenticateToken(token: string, audiences: readonly string[] | undefined, signer: TokenSigner,
  lookup: ObjectLookup, now = Date.now()): Promise<TokenResult> {
  const fail = (error: string): TokenResult => ({ authenticated: false, error });
  const verified = signer.verify(token);
  if (!verified) return fail('invalid bearer token');
  if ('error' in verified) return fail(verified.error);
  const claims = verified.claims;
  const aud = claims.aud;
  const tokenAuds = (typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : []);
  const implicit = [SERVICE_ACCOUNT_ISSUER];
  const tokenAudiences = tokenAuds.length ? tokenAuds : implicit;
  const requested = audiences?.length ? [...audiences] : implicit;
  const granted = tokenAudiences.filter((a) => requested.includes(a));
  if (!granted.length) return fail(`token audiences ${goQuote(tokenAudiences)} is invalid for the target audiences ${goQuote(requested)}`);
  const nowSeconds = Math.floor(now / 1000);
  if (typeof claims.exp === 'number' && nowSeconds > claims.exp) return fail('service account token has expired');
  if (typeof claims.nbf === 'number' && nowSeconds < claims.nbf) return fail('service account token is not valid yet');
  const k8s = claims['kubernetes.io'] as { namespace?: unknown; serviceaccount?: Ref; pod?: Ref; secret?: Ref; node?: Ref } | undefined;
  const namespace = k8s?.namespace;
  const saRef = k8s?.serviceaccount;
  if (typeof namespace !== 'string' || typeof saRef?.name !== 'string') return fail('service account token claims could not be validated');
  const invalidated = 'service account token has been invalidated';
  const sa = await lookup('serviceaccounts', namespace, saRef.name);
  if (!sa || sa.metadata?.deletionTimestamp) return fail(invalidated);
  if (saRef.uid !== sa.metadata?.uid) return fail(`service account UID (${sa.metadata?.uid ?? ''}) does not match claim (${String(saRef.uid ?? '')})`);
  const extra: Record<string, string[]> = {};
  for (const [kind, resource] of [['pod', 'pods'], ['secret', 'secrets'], ['node', 'nodes']] as const) {
    const ref = k8s?.[kind];
    if (!ref || typeof ref.name !== 'string') continue;
    const obj = await lookup(resource, kind === 'node' ? undefined : namespace, ref.name);
    if (!obj || obj.metadata?.deletionTimestamp) return fail(invalidated);
    if (ref.uid !== obj.metadata?.uid) return fail(`${kind} UID (${obj.metadata?.uid ?? ''}) does not match claim (${String(ref.uid ?? '')})`);
    if (kind === 'pod') Object.assign(extra, { [EXTRA.podName]: [ref.name], [EXTRA.podUid]: [String(ref.uid)] });
    if (kind === 'node') Object.assign(extra, { [EXTRA.nodeName]: [ref.name], [EXTRA.nodeUid]: [String(ref.uid)] });
  }
  if (typeof claims.jti === 'string' && claims.jti) extra[EXTRA.credentialId] = [`JTI=${claims.jti}`];
  const { username, groups } = serviceAccountUser(namespace, saRef.name);
  return {
    authenticated: true,
    user: { username, uid: String(sa.metadata?.uid ?? ''), groups: [...groups, ALL_AUTHENTICATED], ...(Object.keys(extra).length ? { extra } : {}) },
    audiences: granted,
  };
}
