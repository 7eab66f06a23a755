import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from './cli.js';
import { headerKeyEscape, impersonationHeaders } from './impersonation.js';

/** What the fake server saw: method, path and the Impersonate-* headers as sent (repeats kept, names lower-cased). */
interface Seen { method: string; path: string; impersonate: [string, string][] }

const POD = { kind: 'Pod', apiVersion: 'v1', metadata: { name: 'web', namespace: 'default' }, spec: { containers: [{ name: 'main', ports: [{ containerPort: 80 }] }] }, status: { phase: 'Running' } };
const FORBIDDEN = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'no streams here', reason: 'Forbidden', code: 403 };

let server: Server;
let url = '';
let seen: Seen[] = [];
const dir = mkdtempSync(path.join(tmpdir(), 'k8ts-impersonate-'));

function record(req: IncomingMessage): void {
  const impersonate: [string, string][] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (/^impersonate-/i.test(req.rawHeaders[i])) impersonate.push([req.rawHeaders[i].toLowerCase(), req.rawHeaders[i + 1]]);
  }
  seen.push({ method: req.method ?? '', path: (req.url ?? '').split('?')[0], impersonate });
}

beforeAll(async () => {
  // Just enough of an API server: legacy discovery, one pod, 403 for everything else (upgrades included).
  server = createServer((req, res) => {
    record(req);
    const send = (code: number, body: unknown) => { res.writeHead(code, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
    const p = (req.url ?? '').split('?')[0];
    if (p === '/api') send(200, { kind: 'APIVersions', versions: ['v1'] });
    else if (p === '/apis') send(200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [] });
    else if (p === '/api/v1') send(200, { kind: 'APIResourceList', groupVersion: 'v1', resources: [{ name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['get', 'list'], shortNames: ['po'] }] });
    else if (p === '/api/v1/namespaces/default/pods/web' && req.method === 'GET') send(200, POD);
    else send(403, FORBIDDEN);
  });
  server.on('upgrade', (req, socket) => {
    record(req);
    const body = JSON.stringify(FORBIDDEN);
    socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

async function kubectl(args: string[], kubeconfig = path.join(dir, 'none')): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const code = await run([`--cache-dir=${dir}/cache`, ...args], {
    in: Readable.from(['']), out: { write: () => true }, err: { write: (s: string) => { stderr += s; return true; } },
  }, { ...process.env, HOME: dir, KUBECONFIG: kubeconfig });
  return { code, stderr };
}

describe('impersonation (client-go rest.ImpersonationConfig)', () => {
  it('escapes extra keys as client-go does', () => {
    expect(headerKeyEscape('scopes.example/key')).toBe('scopes.example%2Fkey');
    expect(headerKeyEscape('with space%')).toBe('with%20space%25');
    expect(headerKeyEscape('ü')).toBe('%C3%BC');
    expect(impersonationHeaders(undefined)).toEqual({});
    expect(impersonationHeaders({ user: 'u', groups: [], extra: { a: [] } })).toEqual({ 'Impersonate-User': 'u' });
  });

  it('sends --as, each --as-group and --as-uid on every request, discovery included', async () => {
    seen = [];
    const r = await kubectl(['-s', url, 'get', 'pods', '--as', 'jane', '--as-group', 'dev', '--as-group', 'ops,qa', '--as-uid', '42']);
    expect(r.stderr).toContain('no streams here');
    expect(seen.map((s) => s.path)).toEqual(['/api', '/apis', '/api/v1', '/api/v1/namespaces/default/pods']);
    for (const s of seen) {
      expect(s.impersonate).toEqual([['impersonate-user', 'jane'], ['impersonate-uid', '42'], ['impersonate-group', 'dev'], ['impersonate-group', 'ops,qa']]);
    }
  });

  it("sends the kubeconfig user's act-as fields, the flags over them, on streaming requests too", async () => {
    const kubeconfig = path.join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, `apiVersion: v1
kind: Config
current-context: c
clusters: [{name: c, cluster: {server: "${url}"}}]
contexts: [{name: c, context: {cluster: c, user: bob}}]
users:
- name: bob
  user: {as: bob, as-uid: "7", as-groups: [dev], as-user-extra: {"Scopes/x": [a, b]}}
`);
    const expected: [string, string][] = [['impersonate-user', 'bob'], ['impersonate-uid', '7'], ['impersonate-group', 'dev'], ['impersonate-extra-scopes%2fx', 'a'], ['impersonate-extra-scopes%2fx', 'b']];
    seen = [];
    const exec = await kubectl(['exec', 'web', '--', 'ls'], kubeconfig);
    expect(exec.code).toBe(1);
    const upgrades = seen.filter((s) => s.path.endsWith('/exec'));
    // The WebSocket upgrade (refused here) carries them as the plain requests do.
    expect(upgrades.length).toBeGreaterThan(0);
    for (const s of seen) expect(s.impersonate.map(([k, v]) => [k.toLowerCase(), v])).toEqual(expected);

    seen = [];
    await kubectl(['port-forward', 'web', '18080:80', '--address', '127.0.0.1'], kubeconfig);
    expect(seen.some((s) => s.path.endsWith('/portforward'))).toBe(true);
    for (const s of seen) expect(s.impersonate.map(([k, v]) => [k.toLowerCase(), v])).toEqual(expected);

    seen = [];
    await kubectl(['get', 'pods', '--as', 'alice', '--as-group', 'g'], kubeconfig);
    expect(seen.length).toBeGreaterThan(0);
    for (const s of seen) expect(s.impersonate).toEqual([['impersonate-user', 'alice'], ['impersonate-uid', '7'], ['impersonate-group', 'g'], ['impersonate-extra-scopes%2fx', 'a'], ['impersonate-extra-scopes%2fx', 'b']]);
  });

  it('refuses groups, uid or extra without a user, before any request', async () => {
    seen = [];
    expect(await kubectl(['-s', url, 'get', 'pods', '--as-group', 'dev'])).toEqual({ code: 1, stderr: 'error: requesting uid, groups or user-extra for  without impersonating a user\n' });
    expect(await kubectl(['-s', url, 'get', 'pods', '--as-uid', '1'])).toMatchObject({ code: 1 });
    expect(seen).toEqual([]);
  });
});
