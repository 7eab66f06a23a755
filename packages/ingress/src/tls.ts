import { createSecureContext, type SecureContext } from 'node:tls';
import { generate } from 'selfsigned';
import type { Secret } from '@k8ts/api';
import { tlsHostMatches, type TlsRoute } from './routes.js';

/** A key and certificate in PEM. */
export interface KeyPair {
  key: string;
  cert: string;
}

/**
 * The fallback certificate for server names no Ingress has one for (ingress-nginx's "Kubernetes Ingress Controller
 * Fake Certificate"): self-signed, made at start.
 */
export async function fakeCertificate(): Promise<KeyPair> {
  const pems = await generate([{ name: 'commonName', value: 'k8ts Ingress Controller Fake Certificate' }], {
    keySize: 2048, algorithm: 'sha256', days: 365,
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'ingress.local' }] }],
  } as Parameters<typeof generate>[1]);
  return { key: pems.private, cert: pems.cert };
}

/** The key pair of a `kubernetes.io/tls` Secret, or why it cannot be used. */
export function keyPairOf(secret: Secret | undefined): KeyPair | { error: string } {
  if (!secret) return { error: 'secret not found' };
  if (secret.type !== undefined && secret.type !== 'kubernetes.io/tls' && secret.type !== 'Opaque') return { error: `secret type ${secret.type} is not kubernetes.io/tls` };
  const crt = secret.data?.['tls.crt'];
  const key = secret.data?.['tls.key'];
  if (!crt || !key) return { error: 'secret has no tls.crt and tls.key' };
  return { cert: Buffer.from(crt, 'base64').toString('utf8'), key: Buffer.from(key, 'base64').toString('utf8') };
}

/**
 * Server name → certificate for the HTTPS listener's SNI callback, from the Ingresses' `tls` sections; contexts are
 * cached by Secret resourceVersion so a rebuild costs nothing when no Secret changed.
 */
export class CertificateStore {
  private entries: { hosts: string[]; context: SecureContext }[] = [];
  private readonly cache = new Map<string, { version: string; context: SecureContext }>();

  readonly fallback: SecureContext;

  /** `fallbackPair` is the certificate for names no Ingress covers (and clients that send no SNI). */
  constructor(readonly fallbackPair: KeyPair) {
    this.fallback = createSecureContext(fallbackPair);
  }

  /** Rebuilds the table; returns the TLS sections whose Secret could not be used, with why. */
  update(tls: readonly TlsRoute[], secretOf: (namespace: string, name: string) => Secret | undefined): { route: TlsRoute; error: string }[] {
    const problems: { route: TlsRoute; error: string }[] = [];
    const entries: typeof this.entries = [];
    const used = new Set<string>();
    for (const route of tls) {
      const key = `${route.namespace}/${route.secretName}`;
      const secret = secretOf(route.namespace, route.secretName);
      const version = secret?.metadata?.resourceVersion ?? '';
      let cached = this.cache.get(key);
      if (!cached || cached.version !== version) {
        const pair = keyPairOf(secret);
        if ('error' in pair) { problems.push({ route, error: pair.error }); continue; }
        try {
          cached = { version, context: createSecureContext({ key: pair.key, cert: pair.cert }) };
        } catch (err) {
          problems.push({ route, error: `bad key pair: ${(err as Error).message}` });
          continue;
        }
        this.cache.set(key, cached);
      }
      used.add(key);
      entries.push({ hosts: route.hosts, context: cached.context });
    }
    for (const k of this.cache.keys()) if (!used.has(k)) this.cache.delete(k);
    this.entries = entries;
    return problems;
  }

  /** The context for a server name: the first TLS section listing it (exact or wildcard), else the fallback. */
  contextFor(serverName: string | undefined): SecureContext {
    const name = (serverName ?? '').toLowerCase();
    for (const e of this.entries) if (e.hosts.some((h) => tlsHostMatches(h, name))) return e.context;
    return this.fallback;
  }
}
