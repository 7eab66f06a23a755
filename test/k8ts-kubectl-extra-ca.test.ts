// The bin (packages/kubectl/bin/k8ts-kubectl.cjs) moves NODE_EXTRA_CA_CERTS aside so that Node does not build its root
// store at start-up; the certificates of that file must still be trusted for a server the kubeconfig gives no CA for,
// and the variable must reach the processes kubectl starts as it was given.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFERRED_EXTRA_CA_CERTS_ENV, extraCaCerts, takeDeferredExtraCaCerts } from '../packages/kubectl/src/extra-ca-certs.js';

const BIN = path.resolve(import.meta.dirname, '../packages/kubectl/bin/k8ts-kubectl.cjs');
const BUILT = existsSync(path.resolve(import.meta.dirname, '../packages/kubectl/dist/bundle/main.cjs'));

function runBin(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(BIN, args, { env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('NODE_EXTRA_CA_CERTS, deferred by the bin', () => {
  let dir: string;
  let server: Server;
  let caFile: string;
  let kubeconfig: string;
  let seenEnv: string | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'k8ts-extra-ca-'));
    const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
      keySize: 2048, algorithm: 'sha256',
      extensions: [{ name: 'basicConstraints', cA: true }, { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    } as Parameters<typeof generate>[1]);
    caFile = path.join(dir, 'extra-ca.pem');
    writeFileSync(caFile, pems.cert);
    server = createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.end(req.url === '/healthz' ? 'ok' : 'not found');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    kubeconfig = path.join(dir, 'kubeconfig');
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: c\n  cluster:\n    server: ${url}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user: {}\n`);
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.runIf(BUILT)('trusts the file for a server the kubeconfig has no CA for, as Node would', async () => {
    const env = { ...process.env, KUBECONFIG: kubeconfig, HOME: dir };
    delete env.NODE_EXTRA_CA_CERTS;
    const without = await runBin(['get', '--raw', '/healthz'], env);
    expect(without.code).toBe(1);
    expect(without.stderr).toMatch(/certificate/i);
    const withCa = await runBin(['get', '--raw', '/healthz'], { ...env, NODE_EXTRA_CA_CERTS: caFile });
    expect(withCa).toEqual({ code: 0, stdout: 'ok', stderr: '' });
  });

  it('puts the variable back for child processes and adds the file to Node\'s roots', async () => {
    const env: NodeJS.ProcessEnv = { [DEFERRED_EXTRA_CA_CERTS_ENV]: caFile };
    takeDeferredExtraCaCerts(env);
    seenEnv = env.NODE_EXTRA_CA_CERTS;
    expect(seenEnv).toBe(caFile);
    expect(env[DEFERRED_EXTRA_CA_CERTS_ENV]).toBeUndefined();
    const ca = await extraCaCerts();
    const { rootCertificates } = await import('node:tls');
    expect(ca?.length).toBe(rootCertificates.length + 1);
    expect(ca?.at(-1)).toContain('-----BEGIN CERTIFICATE-----');
  });

  it('changes nothing when the bin deferred nothing', async () => {
    const env: NodeJS.ProcessEnv = { NODE_EXTRA_CA_CERTS: '/somewhere.pem' };
    takeDeferredExtraCaCerts(env);
    expect(env).toEqual({ NODE_EXTRA_CA_CERTS: '/somewhere.pem' });
  });
});
