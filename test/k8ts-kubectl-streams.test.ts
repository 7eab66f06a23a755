import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '@k8ts/api';
import { buildKubeletServer, type ContainerRuntime, type RuntimeContainer, type StreamingRuntime, type StreamOptions, type StreamSession } from '@k8ts/kubelet';
import { call, eventually, startTestApiserver, type TestApiserver } from './harness.js';
import { normalise, runOurs, runReal, type KubectlResult } from './kubectl-compare.js';

/*
 * exec, cp and port-forward of k8ts-kubectl and of the real kubectl without Docker: the real apiserver proxies to an
 * in-process kubelet whose runtime runs commands as host processes (inside a scratch directory) and dials a local
 * HTTP server for the pod's port 80. Both kubectls' output, exit codes and copied bytes are compared.
 */


const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '../packages/kubectl/dist/main.js');
const NS = '/api/v1/namespaces/default';

class HostStreaming implements StreamingRuntime {
  constructor(private readonly root: string, private readonly http: () => number) {}

  async execStream(_container: string, command: string[], opts: StreamOptions): Promise<StreamSession> {
    const child: ChildProcess = spawn(command[0], command.slice(1), { cwd: this.root, stdio: ['pipe', 'pipe', 'pipe'] });
    const done = new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => resolve(code ?? 1));
    });
    await new Promise<void>((resolve, reject) => { child.once('spawn', resolve); child.once('error', reject); });
    if (!opts.stdin) child.stdin!.end();
    return {
      ...(opts.stdin ? { stdin: child.stdin! } : {}), stdout: child.stdout!, stderr: child.stderr!, done,
      resize: async () => undefined,
      close: () => { child.kill('SIGKILL'); },
    };
  }

  async attachStream(container: string, opts: StreamOptions): Promise<StreamSession> {
    return this.execStream(container, ['cat'], opts);
  }

  async dialPod(_sandbox: string, port: number): Promise<Duplex> {
    if (port !== 80) throw new Error(`connect ECONNREFUSED 127.0.0.1:${port}`);
    const sock = connect({ host: '127.0.0.1', port: this.http() });
    await new Promise((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
    return sock;
  }

  close(): void {}
}

const container = (over: Partial<RuntimeContainer>): RuntimeContainer => ({
  id: 'c-app', name: 'app', pod: { uid: 'uid-web', name: 'web', namespace: 'default' }, sandbox: false, init: false, restartCount: 0,
  hash: '', image: 'busybox', imageID: '', state: 'running', createdAt: '', startedAt: '', finishedAt: '', exitCode: 0, reason: '', labels: {}, ...over,
});

let s: TestApiserver;
let kubelet: FastifyInstance;
let http: Server;
let dir: string;
let root: string;
let env: NodeJS.ProcessEnv;

const ours = (args: string[], stdin = ''): Promise<KubectlResult> => runOurs(args, env, stdin);
const real = (args: string[], stdin = ''): Promise<KubectlResult> => runReal(args, env, `${dir}/cache`, stdin);

/**
 * Both kubectls on `args(tag)`, output compared with the tag blanked. The remote tar's own notices are dropped:
 * kubectl cp stops reading once the archive ends, so whether a late stderr line is printed is a race in kubectl.
 */
async function same(args: (tag: string) => string[], stdin?: string): Promise<KubectlResult> {
  const mine = await ours(args('ours'), stdin);
  const theirs = await real(args('real'), stdin);
  const text = (t: string, tag: string) => normalise(t.replaceAll(tag, 'TAG').split('\n').filter((l) => !l.startsWith('tar: ')).join('\n'));
  const clean = (r: KubectlResult, tag: string) => ({ code: r.code, stdout: text(r.stdout, tag), stderr: text(r.stderr, tag) });
  expect.soft(clean(mine, 'ours')).toEqual(clean(theirs, 'real'));
  return mine;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'k8ts-kubectl-streams-'));
  root = path.join(dir, 'root');
  mkdirSync(path.join(root, 'data', 'sub'), { recursive: true });
  writeFileSync(path.join(root, 'data', 'a.txt'), 'top\n');
  writeFileSync(path.join(root, 'data', 'sub', 'b.txt'), 'deep\n');
  http = createHttpServer((req, res) => {
    if (req.url === '/big') res.end(Buffer.alloc(300_000, 7));
    else res.end(`hello ${req.url}\n`);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  s = await startTestApiserver();
  const pods = new Map<string, Pod>();
  const runtime = {
    listContainers: async () => [container({ id: 'sandbox', name: 'POD', sandbox: true }), container({})],
  } as unknown as ContainerRuntime;
  kubelet = buildKubeletServer({ runtime, nodeName: 'node-1', pod: (key) => pods.get(key), streaming: new HostStreaming(root, () => (http.address() as AddressInfo).port) });
  await kubelet.listen({ host: '127.0.0.1', port: 0 });
  const port = (kubelet.server.address() as AddressInfo).port;
  expect((await call(s.url, 'POST', '/api/v1/nodes', {
    metadata: { name: 'node-1' },
    status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: port } } },
  })).status).toBe(201);
  const res = await call(s.url, 'POST', `${NS}/pods`, { metadata: { name: 'web' }, spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'busybox' }] } });
  expect(res.status).toBe(201);
  pods.set('default/web', { ...res.body, metadata: { ...res.body.metadata, uid: 'uid-web' } });
  await call(s.url, 'PUT', `${NS}/pods/web/status`, { ...res.body, status: { phase: 'Running' } });
  const kubeconfig = path.join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\ncurrent-context: t\nclusters:\n- name: t\n  cluster: {server: "${s.url}"}\ncontexts:\n- name: t\n  context: {cluster: t, user: t}\nusers:\n- name: t\n  user: {}\n`);
  env = { ...process.env, KUBECONFIG: kubeconfig, HOME: dir };
});

afterAll(async () => {
  await kubelet?.close();
  await s?.stop();
  http?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('k8ts-kubectl exec, cp and port-forward against a kubelet running host processes', () => {
  it('exec: output, stdin and the exit code as kubectl', async () => {
    const r = await same(() => ['exec', 'web', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r).toEqual({ stdout: 'out\n', stderr: 'err\ncommand terminated with exit code 3\n', code: 3 });
    expect((await same(() => ['exec', '-i', 'web', '--', 'wc', '-c'], 'x'.repeat(100_000))).stdout.trim()).toBe('100000');
    // Acting as another user: the upgrade carries the Impersonate-* headers, which the apiserver accepts.
    expect(await same(() => ['exec', '--as', 'jane', '--as-group', 'dev', 'web', '--', 'echo', 'hi'])).toEqual({ stdout: 'hi\n', stderr: '', code: 0 });
  });

  it('cp: both ways, the bytes equal', async () => {
    await same((t) => ['cp', `web:${root}/data`, path.join(dir, `out-${t}`)]);
    expect(readFileSync(path.join(dir, 'out-ours', 'sub', 'b.txt'), 'utf8')).toBe('deep\n');
    expect(readFileSync(path.join(dir, 'out-ours', 'a.txt'))).toEqual(readFileSync(path.join(dir, 'out-real', 'a.txt')));
    const big = Buffer.alloc(1_500_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) % 251;
    writeFileSync(path.join(dir, 'big.bin'), big);
    await same((t) => ['cp', path.join(dir, 'big.bin'), `web:${root}/big-${t}.bin`]);
    expect(readFileSync(path.join(root, 'big-ours.bin'))).toEqual(big);
    expect(readFileSync(path.join(root, 'big-real.bin'))).toEqual(big);
  });

  it('port-forward: kubectl\'s lines, three requests at once', async () => {
    const child = spawn(process.execPath, [MAIN, 'port-forward', 'pod/web', ':80'], { env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
    try {
      await eventually(async () => (out.match(/^Forwarding from /gm)?.length ?? 0) >= 2, 'listening', 30_000);
      expect(out).toMatch(/^Forwarding from 127\.0\.0\.1:(\d+) -> 80\nForwarding from \[::1\]:\1 -> 80\n$/);
      const port = Number(/127\.0\.0\.1:(\d+)/.exec(out)![1]);
      const [a, b, big] = await Promise.all([
        fetch(`http://127.0.0.1:${port}/one`).then((r) => r.text()),
        fetch(`http://[::1]:${port}/two`).then((r) => r.text()),
        fetch(`http://127.0.0.1:${port}/big`).then((r) => r.arrayBuffer()),
      ]);
      expect([a, b, big.byteLength]).toEqual(['hello /one\n', 'hello /two\n', 300_000]);
      await eventually(async () => (out.match(/^Handling connection for \d+$/gm)?.length ?? 0) === 3, 'three connections handled', 10_000);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });
});


