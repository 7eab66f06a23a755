import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, verify, createHash, type KeyObject } from 'node:crypto';
import { errors, type KubeObject } from '@k8ts/api';
import type { ResourceStore } from '../rest-store.js';
import { rfc3339 } from '../registry/strategy.js';

/** The issuer and default audience of service-account tokens (upstream's usual --service-account-issuer). */
export const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
const MIN_EXPIRATION = 600;
const MAX_EXPIRATION = 2 ** 32;

interface TokenRequestBody {
  spec?: { audiences?: string[]; expirationSeconds?: number; boundObjectRef?: { kind?: string; apiVersion?: string; name?: string; uid?: string } | null };
}

/**
 * The signer of service-account tokens: RS256 JWTs with upstream's claims. The key is the PEM file given, or one
 * made when the first token is asked for (its tokens then end with the process). Tokens are checked only where a
 * request asks who it is or asks for a review (TokenReview, SelfSubjectReview): k8ts refuses no request.
 */
export class TokenSigner {
  private key?: KeyObject;
  private kid = '';
  constructor(private readonly keyPem?: string) {}

  private signingKey(): KeyObject {
    if (!this.key) {
      this.key = this.keyPem ? createPrivateKey(this.keyPem) : generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      // As upstream's keyIDFromPublicKey: a digest of the public key's DER.
      const der = this.key.export({ format: 'der', type: 'pkcs1' });
      this.kid = createHash('sha256').update(der).digest('base64url');
    }
    return this.key;
  }

  /**
   * The claims of a token this signer made, as upstream's JWT authenticator reads it: undefined when it is not a
   * compact JWT of this issuer (not ours to judge), `{ error }` when its signature does not verify.
   */
  verify(token: string): { claims: Record<string, unknown> } | { error: string } | undefined {
    const parts = token.split('.');
    if (token.trimStart().startsWith('{') || parts.length !== 3) return undefined;
    let header: { alg?: unknown; kid?: unknown };
    let claims: Record<string, unknown>;
    try {
      header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as typeof header;
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      return undefined;
    }
    if (typeof claims !== 'object' || claims === null || claims.iss !== SERVICE_ACCOUNT_ISSUER) return undefined;
    const key = this.signingKey();
    if (typeof header.kid === 'string' && header.kid && header.kid !== this.kid) return { error: 'invalid signature, no keys found' };
    if (header.alg !== 'RS256') return { error: 'go-jose/go-jose: unexpected signature algorithm' };
    const ok = verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), createPublicKey(key), Buffer.from(parts[2], 'base64url'));
    return ok ? { claims } : { error: 'go-jose/go-jose: error in cryptographic primitive' };
  }

  sign(claims: Record<string, unknown>): string {
    const key = this.signingKey();
    const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const input = `${enc({ alg: 'RS256', kid: this.kid })}.${enc(claims)}`;
    return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
  }
}

/**
 * POST serviceaccounts/{name}/token (upstream's TokenREST): a TokenRequest answered with a signed token for the
 * service account, valid `spec.expirationSeconds` (default 3600, at least 600), for `spec.audiences` (default the
 * issuer), optionally bound to a Pod, Secret or Node that must exist.
 */
export async function createToken(storeOf: (resource: 'pods' | 'secrets' | 'nodes') => ResourceStore, serviceAccounts: ResourceStore, namespace: string, name: string,
  body: TokenRequestBody | undefined, signer: TokenSigner, now = Date.now()): Promise<KubeObject> {
  const sa = await serviceAccounts.get(namespace, name);
  const spec = body?.spec ?? {};
  const expirationSeconds = spec.expirationSeconds ?? 3600;
  const audiences = spec.audiences?.length ? spec.audiences : [SERVICE_ACCOUNT_ISSUER];
  if (expirationSeconds < MIN_EXPIRATION) {
    throw errors.invalid('TokenRequest', 'authentication.k8s.io', '', [{ field: 'spec.expirationSeconds', type: 'FieldValueInvalid', value: expirationSeconds, message: 'may not specify a duration less than 10 minutes' }]);
  }
  if (expirationSeconds > MAX_EXPIRATION) {
    throw errors.invalid('TokenRequest', 'authentication.k8s.io', '', [{ field: 'spec.expirationSeconds', type: 'FieldValueInvalid', value: expirationSeconds, message: 'may not specify a duration larger than 2^32 seconds' }]);
  }
  const claims: Record<string, unknown> = {};
  const k8s: Record<string, unknown> = { namespace, serviceaccount: { name, uid: sa.metadata?.uid } };
  const ref = spec.boundObjectRef;
  if (ref) {
    const resource = ref.kind === 'Pod' ? 'pods' : ref.kind === 'Secret' ? 'secrets' : ref.kind === 'Node' ? 'nodes' : undefined;
    if (!resource || (ref.apiVersion ?? 'v1') !== 'v1') {
      throw errors.badRequest(`cannot bind token for object of type ${String(ref.apiVersion ?? '')}, Kind=${String(ref.kind ?? '')}`);
    }
    const obj = await storeOf(resource).get(resource === 'nodes' ? undefined : namespace, ref.name ?? '');
    if (ref.uid && ref.uid !== obj.metadata?.uid) {
      throw errors.conflict(resource, '', ref.name ?? '', `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
    }
    k8s[ref.kind!.toLowerCase()] = { name: obj.metadata?.name, uid: obj.metadata?.uid };
  }
  const iat = Math.floor(now / 1000);
  const exp = iat + expirationSeconds;
  Object.assign(claims, { aud: audiences, exp, iat, iss: SERVICE_ACCOUNT_ISSUER, jti: randomUUID(), 'kubernetes.io': k8s, nbf: iat, sub: `system:serviceaccount:${namespace}:${name}` });
  return {
    kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1',
    metadata: { name, namespace, creationTimestamp: null },
    spec: { audiences, expirationSeconds, boundObjectRef: ref ?? null },
    status: { token: signer.sign(claims), expirationTimestamp: rfc3339(new Date(exp * 1000)) },
  } as unknown as KubeObject;
}
