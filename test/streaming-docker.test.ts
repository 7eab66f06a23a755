import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerRuntime } from '@k8ts/kubelet';
// @ts-expect-error plain JS modules shared with scripts/
import { ensureDockerEngine, ensureImages } from '../scripts/lib/docker.mjs';
// @ts-expect-error plain JS modules shared with scripts/
import { freePort } from '../scripts/lib/processes.mjs';
import { call, eventually, startTestApiserver, testKubectl, type TestApiserver, type TestKubectl } from './harness.js';

/*
 * exec, attach, cp and port-forward with the real kubectl against real containers: the in-process apiserver, a
 * kubelet process on the shared Docker engine (run under the docker lock, as every Docker test).
 */

const ROOT = path.resolve(import.meta.dirname, '..');
const KUBELET = path.join(ROOT, 'packages/kubelet/dist/main.js');
const NODE = `ks-${process.pid}`;
const NODE_IP = '127.0.1.78';
const NS = '/api/v1/namespaces/default';
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

interface Result { code: number | null; stdout: string; stderr: string }

describe.skipIf(!existsSync(KUBELET) || !hasKubectl)('exec, attach, cp and port-forward on real containers', { timeout: 180_000 }, () => {
  let s: TestApiserver;
  let dir = '';
  let kubelet: ChildProcess | undefined;
  let runtime: DockerRuntime;
  let kubectl: TestKubectl;
  const env = () => ({ ...process.env, KUBECONFIG: path.join(kubectl.dir, 'kubeconfig'), HOME: kubectl.dir });
  /** kubectl with its exit code and both outputs, `input` on its stdin. */
  const k = (args: string[], input?: string): Promise<Result> => new Promise((resolve) => {
    execFile('kubectl', [`--cache-dir=${kubectl.dir}/cache`, ...args], { env: env(), timeout: 60_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0, stdout, stderr });
    }).stdin!.end(input ?? '');
  });
  const c = (name: string, script: string, extra: Record<string, unknown> = {}) =>
    ({ name, image: 'k8ts/busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', script], ...extra });
  const ready = (name: string) => eventually(async () => {
    const p = (await call(s.url, 'GET', `${NS}/pods/${name}`)).body;
    return p?.status?.phase === 'Running' && p.status.containerStatuses?.every((x: { ready: boolean }) => x.ready) && p;
  }, `${name} running`, 90_000);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'k8ts-streaming-'));
    const engine = await ensureDockerEngine({});
    await ensureImages(engine.socket);
    runtime = new DockerRuntime({ socket: engine.socket, nodeName: NODE });
    s = await startTestApiserver();
    kubectl = testKubectl(s.url);
    const port = await freePort(NODE_IP);
    kubelet = spawn(process.execPath, [KUBELET, '--apiserver', s.url, '--node-name', NODE, '--node-ip', NODE_IP, '--port', String(port),
      '--docker-socket', engine.socket, '--root-dir', path.join(dir, 'kubelet'), '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
    await eventually(async () => (await call(s.url, 'GET', `/api/v1/nodes/${NODE}`)).body?.status?.conditions?.some((x: any) => x.type === 'Ready' && x.status === 'True'), 'node Ready', 60_000);
    const pod = (name: string, spec: Record<string, unknown>, labels: Record<string, string> = {}) =>
      call(s.url, 'POST', `${NS}/pods`, { metadata: { name, labels }, spec: { nodeName: NODE, terminationGracePeriodSeconds: 1, ...spec } });
    await pod('web', {
      containers: [
        // One server on all addresses and one on the pod's localhost only, as port-forward must reach both.
        c('main', 'mkdir -p /w && head -c 3000000 /dev/urandom > /w/big && echo hello > /w/index.html && httpd -p 127.0.0.1:8081 -h /w && exec httpd -f -p 80 -h /w'),
        c('side', 'exec sleep 3600'),
      ],
    }, { app: 'web' });
    await pod('talk', { containers: [c('main', 'while read l; do echo got:$l; done; echo bye; sleep 3600', { stdin: true })] });
    await call(s.url, 'POST', `${NS}/services`, { metadata: { name: 'websvc' }, spec: { selector: { app: 'web' }, ports: [{ port: 8080, targetPort: 80 }] } });
    await Promise.all([ready('web'), ready('talk')]);
  }, 600_000);

  afterAll(async () => {
    if (kubelet && kubelet.exitCode === null) {
      const exited = new Promise((r) => kubelet!.once('exit', r));
      kubelet.kill('SIGTERM');
      await exited;
    }
    for (const ctr of await runtime?.listContainers().catch(() => []) ?? []) await runtime.removeContainer(ctr.id);
    await runtime?.close();
    kubectl?.cleanup();
    await s?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('kubectl exec: output, the remote exit code, stdin with -i, -c container', async () => {
    expect(await k(['exec', 'web', '-c', 'main', '--', 'cat', '/w/index.html'])).toEqual({ code: 0, stdout: 'hello\n', stderr: '' });
    expect(await k(['exec', 'web', '-c', 'main', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3'])).toEqual({
      code: 3, stdout: 'out\n', stderr: 'err\ncommand terminated with exit code 3\n',
    });
    expect(await k(['exec', '-i', 'web', '-c', 'side', '--', 'sh', '-c', 'wc -c; hostname'], 'x'.repeat(100_000))).toMatchObject({ code: 0, stdout: '100000\nweb\n' });
    // With two containers and no -c, kubectl picks the first and says so.
    expect(await k(['exec', 'web', '--', 'true'])).toMatchObject({ code: 0, stderr: expect.stringContaining('Defaulted container "main" out of: main, side') });
  });

  it('kubectl exec errors: no such command, no such container, no such pod, not running', async () => {
    // As with dockershim: the runtime's message (on the output the engine chose), then exit code 126.
    const nope = await k(['exec', 'web', '-c', 'main', '--', 'nope']);
    expect(nope).toMatchObject({ code: 126, stderr: expect.stringContaining('command terminated with exit code 126') });
    expect(nope.stdout + nope.stderr).toMatch(/executable file not found in \$PATH/);
    expect(await k(['exec', 'web', '-c', 'zz', '--', 'true'])).toMatchObject({ code: 1, stderr: 'Error from server (BadRequest): container zz is not valid for pod web\n' });
    expect(await k(['exec', 'nope', '--', 'true'])).toMatchObject({ code: 1, stderr: 'Error from server (NotFound): pods "nope" not found\n' });
    await call(s.url, 'POST', `${NS}/pods`, { metadata: { name: 'done' }, spec: { nodeName: NODE, restartPolicy: 'Never', containers: [c('main', 'true')] } });
    await eventually(async () => (await call(s.url, 'GET', `${NS}/pods/done`)).body?.status?.phase === 'Succeeded', 'done to finish', 60_000);
    expect(await k(['exec', 'done', '--', 'true'])).toMatchObject({ code: 1, stderr: 'error: cannot exec into a container in a completed pod; current phase is Succeeded\n' });
  });

  it.skipIf(!hasScript)('kubectl exec -it: a TTY of the terminal\'s size', async () => {
    // script(1) gives kubectl a pseudo-terminal (of 40x100 here), as a user's shell would. The size is set by a resize
    // just after the process starts (the engine takes none at exec create in API 1.41): a command asking at once may
    // still see 0x0, hence the pause.
    const child = spawn('script', ['-qec', `stty rows 40 cols 100; kubectl --cache-dir=${kubectl.dir}/cache exec -it web -c main -- sh -c 'tty; sleep 1; stty size; exit 4'`, '/dev/null'],
      { env: env(), stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(out).toMatch(/\/dev\/pts\/\d+/);
    expect(out).toContain('40 100');
    expect(out).toContain('command terminated with exit code 4');
    expect(code).toBe(4);
  });

  it('kubectl attach -i: to the container\'s stdin and stdout', async () => {
    const child = spawn('kubectl', [`--cache-dir=${kubectl.dir}/cache`, 'attach', '-i', 'talk'], { env: env() });
    try {
      let out = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      child.stdin.write('line1\n');
      await eventually(() => out.includes('got:line1'), 'the attached output');
      child.stdin.write('line2\n');
      await eventually(() => out.includes('got:line2'), 'the second line');
    } finally {
      child.kill();
    }
  });

  it('kubectl cp both ways (tar through exec)', async () => {
    const local = path.join(dir, 'up.txt');
    writeFileSync(local, 'uploaded\n');
    expect(await k(['cp', local, 'web:/tmp/up.txt', '-c', 'side'])).toMatchObject({ code: 0 });
    expect((await k(['exec', 'web', '-c', 'side', '--', 'cat', '/tmp/up.txt'])).stdout).toBe('uploaded\n');
    const back = path.join(dir, 'big');
    expect(await k(['cp', 'web:/w/big', back, '-c', 'main'])).toMatchObject({ code: 0 });
    const remote = (await k(['exec', 'web', '-c', 'main', '--', 'md5sum', '/w/big'])).stdout.split(' ')[0];
    expect(createHash('md5').update(readFileSync(back)).digest('hex')).toBe(remote);
  });

  /** kubectl port-forward `target` `:remote…`; resolves with the local ports and the child. */
  async function portForward(target: string, remotes: number[], extraEnv: Record<string, string> = {}, shown = remotes): Promise<{ ports: number[]; child: ChildProcess }> {
    const child = spawn('kubectl', [`--cache-dir=${kubectl.dir}/cache`, 'port-forward', target, ...remotes.map((r) => `:${r}`)], { env: { ...env(), ...extraEnv } });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    const ports = await eventually(() => {
      // kubectl names the pod's port: a Service's port shows as its targetPort.
      const found = shown.map((r) => new RegExp(`127\\.0\\.0\\.1:(\\d+) -> ${r}\\b`).exec(out)?.[1]);
      return found.every(Boolean) && found.map(Number);
    }, `kubectl port-forward ${target} to listen`);
    return { ports, child };
  }

  /** An HTTP/1.0 GET through a local port: the body's bytes. */
  const get = (port: number, file: string) => new Promise<Buffer>((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port }, () => sock.write(`GET /${file} HTTP/1.0\r\n\r\n`));
    const parts: Buffer[] = [];
    sock.on('data', (d: Buffer) => parts.push(d));
    sock.on('close', () => { const all = Buffer.concat(parts); resolve(all.subarray(all.indexOf('\r\n\r\n') + 4)); });
    sock.on('error', reject);
  });

  it.each([['WebSocket (the default)', {}], ['SPDY/3.1', { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }]])(
    'kubectl port-forward pod/web over %s: 0.0.0.0 and 127.0.0.1 servers, several connections, intact megabytes, a closed client',
    async (_what, extraEnv) => {
      const { ports: [p80, p8081], child } = await portForward('pod/web', [80, 8081], extraEnv);
      try {
        const md5 = (await k(['exec', 'web', '-c', 'main', '--', 'md5sum', '/w/big'])).stdout.split(' ')[0];
        expect((await get(p8081, 'index.html')).toString()).toBe('hello\n');
        const bodies = await Promise.all([1, 2, 3, 4].map(() => get(p80, 'big')));
        for (const b of bodies) expect(createHash('md5').update(b).digest('hex')).toBe(md5);
        // A client that goes away mid-transfer leaves the forward up.
        await new Promise<void>((resolve) => {
          const sock = connect({ host: '127.0.0.1', port: p80 }, () => sock.write('GET /big HTTP/1.0\r\n\r\n'));
          sock.once('data', () => { sock.destroy(); resolve(); });
        });
        expect((await get(p80, 'index.html')).toString()).toBe('hello\n');
        expect(child.exitCode).toBeNull();
      } finally {
        child.kill();
      }
    });

  it('kubectl port-forward svc/websvc: to the targetPort of a pod the Service selects', async () => {
    const { ports: [local], child } = await portForward('svc/websvc', [8080], {}, [80]);
    try {
      expect((await get(local, 'index.html')).toString()).toBe('hello\n');
    } finally {
      child.kill();
    }
  });
});
