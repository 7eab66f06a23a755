import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadKubeconfig, resolveClientConfig } from './kubeconfig.js';

const dir = mkdtempSync(path.join(tmpdir(), 'k8ts-kc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('the kubeconfig chain', () => {
  const a = file('a', 'clusters:\n- name: c1\n  cluster: { server: "https://a:6443" }\ncontexts:\n- name: x\n  context: { cluster: c1, user: u1, namespace: team }\nusers:\n- name: u1\n  user: { token: first }\n');
  const b = file('b', 'current-context: x\nclusters:\n- name: c1\n  cluster: { server: "https://b:6443" }\n- name: c2\n  cluster: { server: "127.0.0.1:8080" }\nusers:\n- name: u1\n  user: { token: second }\n');

  it('merges as kubectl: the first file to define a name or current-context wins', () => {
    const cfg = loadKubeconfig(undefined, { KUBECONFIG: `${a}:${path.join(dir, 'missing')}:${b}` });
    expect(cfg.currentContext).toBe('x');
    expect(cfg.currentContextFile).toBe(b);
    const c = resolveClientConfig(cfg, {});
    expect(c).toMatchObject({ server: 'https://a:6443', token: 'first', namespace: 'team', contextName: 'x' });
    // Flags override the context; a bare host:port without TLS is http, as client-go's DefaultServerURL.
    expect(resolveClientConfig(cfg, { cluster: 'c2', token: 't', namespace: 'n' })).toMatchObject({ server: 'http://127.0.0.1:8080', token: 't' });
  });

  it("reports kubectl's configuration errors", () => {
    const cfg = loadKubeconfig(undefined, { KUBECONFIG: a });
    expect(() => resolveClientConfig(cfg, { context: 'nope' })).toThrow('Error in configuration: context was not found for specified context: nope');
    expect(() => loadKubeconfig(path.join(dir, 'none'))).toThrow(/no such file or directory/);
    // Nothing at all: kubectl's default server.
    expect(resolveClientConfig(loadKubeconfig(undefined, { KUBECONFIG: path.join(dir, 'none') }), {}).server).toBe('http://localhost:8080');
  });
});
