import { readFileSync } from 'node:fs';

/**
 * Where the bin (bin/k8ts-kubectl.cjs) moves `NODE_EXTRA_CA_CERTS` before it starts Node. Node 20 reads and parses that
 * file, and builds its whole root store, while it starts, before any JavaScript runs (tens of milliseconds for a
 * system CA bundle), though most commands never open a TLS connection; k8ts-kubectl adds the file's certificates
 * itself, only for a TLS connection that needs them (extraCaCerts below).
 */
export const DEFERRED_EXTRA_CA_CERTS_ENV = 'K8TS_KUBECTL_NODE_EXTRA_CA_CERTS';

let deferredFile: string | undefined;
let trust: Promise<string[] | undefined> | undefined;

/**
 * At process start: takes the file the bin moved aside, and puts `NODE_EXTRA_CA_CERTS` back as it was, so that the
 * processes kubectl starts (an editor, a diff program, a credential plugin) get the environment it was given.
 */
export function takeDeferredExtraCaCerts(env: NodeJS.ProcessEnv = process.env): void {
  const file = env[DEFERRED_EXTRA_CA_CERTS_ENV];
  if (file === undefined) return;
  delete env[DEFERRED_EXTRA_CA_CERTS_ENV];
  env.NODE_EXTRA_CA_CERTS = file;
  deferredFile = file || undefined;
  trust = undefined;
}

/**
 * The `ca` option for a TLS connection the kubeconfig gives no CA for: Node's bundled roots plus the deferred file's
 * certificates, the store Node would have built from `NODE_EXTRA_CA_CERTS`. Undefined (Node's own default store)
 * when nothing was deferred. A file that cannot be read adds nothing, as with Node (which only warns).
 */
export function extraCaCerts(): Promise<string[] | undefined> {
  const file = deferredFile;
  if (!file) return Promise.resolve(undefined);
  trust ??= (async () => {
    const { rootCertificates } = await import('node:tls');
    let pem = '';
    try {
      pem = readFileSync(file, 'utf8');
    } catch {
      // Node warns and goes on without them.
    }
    return pem.includes('-----BEGIN CERTIFICATE-----') ? [...rootCertificates, pem] : undefined;
  })();
  return trust;
}
