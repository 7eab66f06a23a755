import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../cli.js';
import { accessTable } from './auth.js';

describe('auth can-i --list table', () => {
  it('breaks rules down, compacts them per group, resource and name, and sorts them as kubectl does', () => {
    const table = accessTable({
      resourceRules: [
        { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', 'pods/log'] },
        { verbs: ['watch'], apiGroups: [''], resources: ['pods'] },
        { verbs: ['get'], apiGroups: ['apps'], resources: ['deployments'], resourceNames: ['web', 'api'] },
      ],
      nonResourceRules: [{ verbs: ['get', 'post'], nonResourceURLs: ['/healthz'] }],
    }, false);
    const row = (...cells: string[]) => `${cells[0].padEnd(19)}${cells[1].padEnd(20)}${cells[2].padEnd(17)}${cells[3]}\n`;
    // Sorted by rbac/v1 PolicyRule's String(), whose first field is the verbs: `[get list watch]` < `[get list]` < `[get]`.
    expect(table).toBe([
      row('Resources', 'Non-Resource URLs', 'Resource Names', 'Verbs'),
      row('pods', '[]', '[]', '[get list watch]'),
      row('pods/log', '[]', '[]', '[get list]'),
      row('', '[/healthz]', '[]', '[get]'),
      row('deployments.apps', '[]', '[api]', '[get]'),
      row('deployments.apps', '[]', '[web]', '[get]'),
      row('', '[/healthz]', '[]', '[post]'),
    ].join(''));
    expect(accessTable({}, true)).toBe('');
  });
});

// A server that denies (as RBAC would) and lacks SelfSubjectReview (an older one): what k8ts' AlwaysAllow never answers.
describe('auth against a server that denies', () => {
  let server: Server;
  let url = '';
  const posted: string[] = [];
  const dir = mkdtempSync(path.join(tmpdir(), 'k8ts-auth-'));
  let whoamiCode = 404;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const p = (req.url ?? '').split('?')[0];
      const send = (code: number, body: unknown) => { res.writeHead(code, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
      if (req.method === 'POST') posted.push(p);
      if (p === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews') send(201, { kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', status: { allowed: false, reason: 'no RBAC policy matched', evaluationError: 'role "x" not found' } });
      else if (p.endsWith('/selfsubjectreviews')) send(whoamiCode, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'nope', reason: whoamiCode === 404 ? 'NotFound' : 'Forbidden', code: whoamiCode });
      else send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'the server could not find the requested resource', reason: 'NotFound', code: 404 });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const addr = server.address();
    url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });
  const kubectl = async (args: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await run(['-s', url, ...args], {
      in: Readable.from(['']), out: { write: (s: string) => { stdout += s; return true; } }, err: { write: (s: string) => { stderr += s; return true; } },
    }, { ...process.env, HOME: dir, KUBECONFIG: path.join(dir, 'none') });
    return { code, stdout, stderr };
  };

  it('can-i says no with the reason and the evaluation error, and exits 1', async () => {
    expect(await kubectl(['auth', 'can-i', 'get', '/healthz'])).toEqual({ code: 1, stdout: 'no - no RBAC policy matched - role "x" not found\n', stderr: '' });
    expect(await kubectl(['auth', 'can-i', 'get', '/healthz', '-q'])).toEqual({ code: 1, stdout: '', stderr: '' });
  });

  it('whoami falls back from v1 to v1beta1 to v1alpha1, then says the API is not there (or forbidden)', async () => {
    posted.length = 0;
    expect(await kubectl(['auth', 'whoami'])).toEqual({ code: 1, stdout: '', stderr: 'error: the selfsubjectreviews API is not enabled in the cluster\nenable APISelfSubjectReview feature gate and authentication.k8s.io/v1alpha1 or authentication.k8s.io/v1beta1 API\n' });
    expect(posted).toEqual(['v1', 'v1beta1', 'v1alpha1'].map((v) => `/apis/authentication.k8s.io/${v}/selfsubjectreviews`));
    whoamiCode = 403;
    expect(await kubectl(['auth', 'whoami'])).toEqual({ code: 1, stdout: '', stderr: 'error: the selfsubjectreviews API is not enabled in the cluster or you do not have permission to call it\n' });
  });
});
