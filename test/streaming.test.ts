import { execFile, spawn, spawnSync } from 'node:child_process';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { PassThrough, type Duplex } from 'node:stream';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import transport, { type SpdyConnection, type SpdyStream } from 'spdy-transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Pod } from '@k8ts/api';
import { buildKubeletServer, type ContainerRuntime, type RuntimeContainer, type StreamingRuntime, type StreamOptions, type StreamSession } from '@k8ts/kubelet';
import { call, eventually, startTestApiserver, testKubectl, type TestApiserver, type TestKubectl } from './harness.js';

/*
 * The streaming protocols end to end without Docker: the real apiserver proxies to an in-process kubelet server
 * whose runtime is a fake. Frames go in and come out as kubectl's clients send and read them (WebSocket channels,
 * SPDY streams, SPDY tunnelled in a WebSocket), and the real kubectl runs against it too.
 */

const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
const run = promisify(execFile);
const NS = '/api/v1/namespaces/default';

/** What the fake runs: `cat` echoes stdin; `sh -c 'exit N'` prints "out"/"err" and exits N; `big N` prints N bytes. */
class FakeStreaming implements StreamingRuntime {
  resizes: { width: number; height: number }[] = [];
  execs: { container: string; command: string[]; opts: StreamOptions }[] = [];
  constructor(private readonly targets: Map<number, number>) {}

  async execStream(container: string, command: string[], opts: StreamOptions): Promise<StreamSession> {
    this.execs.push({ container, command, opts });
    if (command[0] === 'nope') throw new Error(`exec: "nope": executable file not found in $PATH`);
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const stdin = new PassThrough();
    let code = 0;
    if (command[0] === 'cat') {
      stdin.pipe(stdout);
    } else if (command[0] === 'probe') {
      // Reports, after 1.5 s, every stdin byte (hex) and the resizes seen so far.
      let got = '';
      stdin.on('data', (d: Buffer) => { got += d.toString('hex'); });
      setTimeout(() => stdout.end(`stdin=${got} resizes=${JSON.stringify(this.resizes)}\n`), 1500);
    } else if (command[0] === 'big') {
      const n = Number(command[1]);
      for (let off = 0; off < n; off += 65536) stdout.write(Buffer.alloc(Math.min(65536, n - off), off / 65536 % 251));
      stdout.end();
      stdin.resume();
    } else {
      code = Number(/exit (\d+)/.exec(command.join(' '))?.[1] ?? 0);
      stdout.end('out\n');
      stdin.resume();
    }
    if (!opts.tty) stdout.once('end', () => stderr.end(command[0] === 'cat' ? '' : 'err\n'));
    else stdout.once('end', () => stderr.end());
    const done = new Promise<number>((resolve) => stdout.once('end', () => resolve(code)));
    return {
      ...(opts.stdin ? { stdin } : {}), stdout, stderr, done,
      resize: async (size) => { this.resizes.push(size); },
      close: () => { stdout.destroy(); stderr.destroy(); },
    };
  }

  async attachStream(container: string, opts: StreamOptions): Promise<StreamSession> {
    return this.execStream(container, ['cat'], opts);
  }

  /** Connects to the local server standing for `port` of the pod; none: refused, as a closed port. */
  async dialPod(_sandbox: string, port: number): Promise<Duplex> {
    const target = this.targets.get(port);
    if (!target) throw new Error(`connect ECONNREFUSED 127.0.0.1:${port}`);
    const sock = connect({ host: '127.0.0.1', port: target });
    await new Promise((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
    return sock;
  }

  close(): void {}
}

const container = (over: Partial<RuntimeContainer>): RuntimeContainer => ({
  id: 'c-app', name: 'app', pod: { uid: 'uid-web', name: 'web', namespace: 'default' }, sandbox: false, init: false, restartCount: 0,
  hash: '', image: 'busybox', imageID: '', state: 'running', createdAt: '', startedAt: '', finishedAt: '', exitCode: 0, reason: '', labels: {}, ...over,
});

/** A TCP server answering each connection with what it got, upper-cased (the pod's port 80), or a byte count. */
function echoServer(): Promise<Server> {
  const server = createServer({ allowHalfOpen: true }, (c) => {
    let n = 0;
    c.on('data', (d: Buffer) => { n += d.length; if (n < 1000) c.write(d.toString().toUpperCase()); });
    c.on('end', () => c.end(n >= 1000 ? `got ${n}` : ''));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** A raw upgrade request; resolves with the socket after the 101, or rejects with the status line and body. */
function upgrade(url: string, method: string, headers: Record<string, string>): Promise<Socket> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = connect({ host: u.hostname, port: Number(u.port) });
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString();
      if (!head.startsWith('HTTP/1.1 101')) {
        sock.once('end', () => reject(new Error(buf.toString())));
        return;
      }
      sock.off('data', onData);
      sock.pause();
      if (buf.length > end + 4) sock.unshift(buf.subarray(end + 4));
      resolve(sock);
    };
    sock.on('data', onData);
    sock.on('error', reject);
    sock.write(`${method} ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: Upgrade\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
  });
}

function spdyClient(sock: Duplex): SpdyConnection {
  const conn = transport.connection.create(sock, { protocol: 'spdy', isServer: false });
  conn.start(3.1);
  return conn;
}

function openStream(conn: SpdyConnection, headers: Record<string, string>): Promise<SpdyStream> {
  return new Promise((resolve, reject) => {
    (conn as unknown as { request(uri: object, cb: (err: Error | null, s: SpdyStream) => void): void })
      .request({ method: 'POST', path: '/', host: 'localhost', headers }, (err, s) => (err ? reject(err) : resolve(s)));
  });
}

const readAll = (s: NodeJS.ReadableStream) => new Promise<Buffer>((resolve, reject) => {
  const parts: Buffer[] = [];
  s.on('data', (d: Buffer) => parts.push(d));
  s.on('end', () => resolve(Buffer.concat(parts)));
  s.on('error', reject);
});

/** A WebSocket exec: every frame received, in order, as [channel, payload]. */
async function wsExec(url: string, protocol: string, send: (ws: WebSocket) => void): Promise<[number, string][]> {
  const ws = new WebSocket(url, [protocol]);
  const frames: [number, string][] = [];
  ws.on('message', (d: Buffer) => frames.push([d[0], d.subarray(1).toString()]));
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  expect(ws.protocol).toBe(protocol);
  send(ws);
  await new Promise((resolve) => ws.once('close', resolve));
  return frames.filter(([, p]) => p.length > 0 || true);
}

const status = (frames: [number, string][]) => JSON.parse(frames.find(([c]) => c === 3)?.[1] ?? '{}');
const channel = (frames: [number, string][], ch: number) => frames.filter(([c]) => c === ch).map(([, p]) => p).join('');

describe('exec, attach and port-forward through the apiserver to a kubelet (fake runtime)', () => {
  let s: TestApiserver;
  let kubelet: FastifyInstance;
  let fake: FakeStreaming;
  let echo: Server;
  let kubectl: TestKubectl;
  let running = true;
  const ws = () => s.url.replace('http://', 'ws://');

  beforeAll(async () => {
    echo = await echoServer();
    fake = new FakeStreaming(new Map([[80, (echo.address() as AddressInfo).port]]));
    s = await startTestApiserver();
    const pods = new Map<string, Pod>();
    const runtime = {
      listContainers: async () => [
        container({ id: 'sandbox', name: 'POD', sandbox: true }),
        container({ state: running ? 'running' : 'exited' }),
        container({ id: 'c-side', name: 'side' }),
      ],
    } as unknown as ContainerRuntime;
    kubelet = buildKubeletServer({ runtime, nodeName: 'node-1', pod: (key) => pods.get(key), streaming: fake });
    await kubelet.listen({ host: '127.0.0.1', port: 0 });
    const port = (kubelet.server.address() as AddressInfo).port;
    expect((await call(s.url, 'POST', '/api/v1/nodes', {
      metadata: { name: 'node-1' },
      status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: port } } },
    })).status).toBe(201);
    for (const [name, containers] of [['web', ['app']], ['two', ['app', 'side']]] as const) {
      const res = await call(s.url, 'POST', `${NS}/pods`, {
        metadata: { name }, spec: { nodeName: 'node-1', containers: containers.map((c) => ({ name: c, image: 'busybox' })) },
      });
      expect(res.status).toBe(201);
      pods.set(`default/${name}`, { ...res.body, metadata: { ...res.body.metadata, uid: 'uid-web' } });
      await call(s.url, 'PUT', `${NS}/pods/${name}/status`, { ...res.body, status: { phase: 'Running' } });
    }
    expect((await call(s.url, 'POST', `${NS}/pods`, { metadata: { name: 'unscheduled' }, spec: { containers: [{ name: 'app', image: 'busybox' }] } })).status).toBe(201);
    kubectl = testKubectl(s.url);
  });

  afterAll(async () => {
    kubectl?.cleanup();
    await kubelet?.close();
    await s?.stop();
    echo?.close();
  });

  it('v5.channel.k8s.io: stdin in on 0, closed with 255, output on 1, the Success Status on 3', async () => {
    const frames = await wsExec(`${ws()}${NS}/pods/web/exec?command=cat&stdin=true&stdout=true&stderr=true`, 'v5.channel.k8s.io', (w) => {
      w.send(Buffer.concat([Buffer.of(0), Buffer.from('hello ')]));
      w.send(Buffer.concat([Buffer.of(0), Buffer.from('world')]));
      w.send(Buffer.of(255, 0));
    });
    expect(channel(frames, 1)).toBe('hello world');
    expect(status(frames)).toEqual({ metadata: {}, status: 'Success' });
    // The Status is the last frame: all output went out before it.
    expect(frames.at(-1)![0]).toBe(3);
    expect(fake.execs.at(-1)).toEqual({ container: 'c-app', command: ['cat'], opts: { stdin: true, stdout: true, stderr: true, tty: false } });
  });

  it('a non-zero exit: reason NonZeroExitCode with the code in an ExitCode cause (v4 too)', async () => {
    for (const protocol of ['v5.channel.k8s.io', 'v4.channel.k8s.io']) {
      const frames = await wsExec(`${ws()}${NS}/pods/web/exec?command=sh&command=-c&command=exit%203&stdout=true&stderr=true`, protocol, () => undefined);
      expect(channel(frames, 1)).toBe('out\n');
      expect(channel(frames, 2)).toBe('err\n');
      expect(status(frames)).toMatchObject({
        status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] },
      });
    }
  });

  it('a TTY: resizes on channel 4 reach the session; stderr is not asked for', async () => {
    const frames = await wsExec(`${ws()}${NS}/pods/web/exec?command=cat&stdin=true&stdout=true&tty=true`, 'v5.channel.k8s.io', (w) => {
      w.send(Buffer.concat([Buffer.of(4), Buffer.from('{"Width":100,"Height":40}\n')]));
      w.send(Buffer.concat([Buffer.of(0), Buffer.from('x')]));
      w.send(Buffer.of(255, 0));
    });
    expect(channel(frames, 1)).toBe('x');
    await eventually(() => fake.resizes.some((r) => r.width === 100 && r.height === 40), 'the resize');
    expect(fake.execs.at(-1)!.opts).toEqual({ stdin: true, stdout: true, stderr: false, tty: true });
  });

  it('a command that cannot start: an InternalError Status on the error channel, not an HTTP error', async () => {
    const frames = await wsExec(`${ws()}${NS}/pods/web/exec?command=nope&stdout=true`, 'v5.channel.k8s.io', () => undefined);
    expect(status(frames)).toMatchObject({ status: 'Failure', reason: 'InternalError', message: expect.stringContaining('executable file not found') });
  });

  it('attach joins the container\'s stdio', async () => {
    const frames = await wsExec(`${ws()}${NS}/pods/two/attach?container=side&stdin=true&stdout=true`, 'v5.channel.k8s.io', (w) => {
      w.send(Buffer.concat([Buffer.of(0), Buffer.from('typed')]));
      w.send(Buffer.of(255, 0));
    });
    expect(channel(frames, 1)).toBe('typed');
    expect(fake.execs.at(-1)!.container).toBe('c-side');
  });

  it('SPDY/3.1 exec (the fallback): streams by streamtype, output on stdout/stderr, the Status on the error stream', async () => {
    const sock = await upgrade(`${s.url}${NS}/pods/web/exec?command=sh&command=-c&command=exit%204&stdout=true&stderr=true&stdin=true`, 'POST', {
      Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'v4.channel.k8s.io, v3.channel.k8s.io',
    });
    const conn = spdyClient(sock);
    const error = await openStream(conn, { streamtype: 'error' });
    const stdin = await openStream(conn, { streamtype: 'stdin' });
    const stdout = await openStream(conn, { streamtype: 'stdout' });
    const stderr = await openStream(conn, { streamtype: 'stderr' });
    stdin.end();
    const [out, err, st] = await Promise.all([readAll(stdout), readAll(stderr), readAll(error)]);
    expect(out.toString()).toBe('out\n');
    expect(err.toString()).toBe('err\n');
    expect(JSON.parse(st.toString())).toMatchObject({ reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '4' }] } });
    sock.destroy();
  });

  it('SPDY exec carries megabytes (no SPDY flow control to wait on)', async () => {
    const sock = await upgrade(`${s.url}${NS}/pods/web/exec?command=big&command=3000000&stdout=true`, 'POST', {
      Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'v4.channel.k8s.io',
    });
    const conn = spdyClient(sock);
    const error = await openStream(conn, { streamtype: 'error' });
    const stdout = await openStream(conn, { streamtype: 'stdout' });
    const [out, st] = await Promise.all([readAll(stdout), readAll(error)]);
    expect(out.length).toBe(3_000_000);
    expect(st.length).toBe(0); // success: an empty error stream
    sock.destroy();
  });

  async function forwardOnce(conn: SpdyConnection, id: number, port: number, payload: string): Promise<{ data: string; error: string }> {
    const error = await openStream(conn, { streamtype: 'error', port: String(port), requestid: String(id) });
    const data = await openStream(conn, { streamtype: 'data', port: String(port), requestid: String(id) });
    error.end();
    const got = readAll(data);
    data.end(payload);
    return { data: (await got).toString(), error: (await readAll(error)).toString() };
  }

  it('port-forward over SPDY: several connections at once; a refused port fails only its own', async () => {
    const sock = await upgrade(`${s.url}${NS}/pods/web/portforward`, 'POST', { Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'portforward.k8s.io' });
    const conn = spdyClient(sock);
    const results = await Promise.all([1, 2, 3, 4, 5].map((i) => forwardOnce(conn, i, 80, `hello ${i}`)));
    expect(results).toEqual([1, 2, 3, 4, 5].map((i) => ({ data: `HELLO ${i}`, error: '' })));
    // Upstream's message on the error stream; the session carries on.
    const refused = await forwardOnce(conn, 6, 81, 'x');
    expect(refused.error).toMatch(/^error forwarding port 81 to pod web, uid uid-web: connect ECONNREFUSED/);
    expect(await forwardOnce(conn, 7, 80, 'again')).toEqual({ data: 'AGAIN', error: '' });
    sock.destroy();
  });

  it('port-forward over the SPDY/3.1 upgrade (the fallback) carries megabytes both ways', async () => {
    const sock = await upgrade(`${s.url}${NS}/pods/web/portforward`, 'POST', { Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'portforward.k8s.io' });
    const conn = spdyClient(sock);
    const big = 'a'.repeat(4_000_000);
    expect(await forwardOnce(conn, 1, 80, big)).toEqual({ data: `got ${big.length}`, error: '' });
    sock.destroy();
  });

  it('refusals come before any upgrade: Status answers, and the runtime\'s failures as upstream\'s kubelet writes them', async () => {
    const wsHeaders = { Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Protocol': 'v5.channel.k8s.io' };
    const refusal = async (path: string, headers: Record<string, string> = wsHeaders) => {
      const err = await upgrade(`${s.url}${NS}${path}`, 'GET', headers).then(() => undefined, (e: Error) => e.message);
      const [head, body] = err!.split('\r\n\r\n');
      return { code: Number(head.split(' ')[1]), status: JSON.parse(body) };
    };
    expect(await refusal('/pods/nope/exec?command=ls&stdout=true')).toMatchObject({ code: 404, status: { kind: 'Status', reason: 'NotFound', message: 'pods "nope" not found' } });
    expect(await refusal('/pods/web/exec?command=ls&stdout=true&container=zz')).toMatchObject({ code: 400, status: { message: 'container zz is not valid for pod web' } });
    expect(await refusal('/pods/two/exec?command=ls&stdout=true')).toMatchObject({ code: 400, status: { message: 'a container name must be specified for pod two, choose one of: [app side]' } });
    expect(await refusal('/pods/web/exec?stdout=true')).toMatchObject({ code: 400, status: { message: 'you must specify at least one command for the container' } });
    expect(await refusal('/pods/unscheduled/exec?command=ls&stdout=true')).toMatchObject({ code: 400, status: { message: 'pod unscheduled does not have a host assigned' } });
    expect(await refusal('/pods/web/exec?command=ls')).toMatchObject({ code: 400, status: { message: 'you must specify at least 1 of stdin, stdout, stderr' } });
    expect(await refusal('/pods/web/exec?command=ls&stdout=true', { Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Protocol': 'v9.example' }))
      .toMatchObject({ code: 400, status: { reason: 'BadRequest' } });
    running = false;
    try {
      // As upstream's kubelet (streaming.WriteError): the runtime's failure as plain text, a 500.
      const err = await upgrade(`${s.url}${NS}/pods/web/exec?command=ls&stdout=true`, 'GET', wsHeaders).then(() => undefined, (e: Error) => e.message);
      expect(err).toMatch(/^HTTP\/1\.1 500 [^]*\r\n\r\ncontainer not found \("app"\)$/);
    } finally {
      running = true;
    }
    const plain = await call(s.url, 'GET', `${NS}/pods/web/exec?command=ls&stdout=true`);
    expect(plain.status).toBe(400);
    expect(plain.body.message).toBe('Upgrade request required');
  });

  it('another upgrade (curl --http2 asks for h2c) is declined: served as an ordinary request, its body included', async () => {
    const u = new URL(s.url);
    const body = JSON.stringify({ metadata: { name: 'via-h2c' }, data: { a: 'b' } });
    const answer = await new Promise<string>((resolve, reject) => {
      const c = connect({ host: u.hostname, port: Number(u.port) }, () => c.write([
        `POST ${NS}/configmaps HTTP/1.1`, `Host: ${u.host}`, 'Content-Type: application/json', `Content-Length: ${body.length}`,
        'Connection: Upgrade, HTTP2-Settings', 'Upgrade: h2c', 'HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA', '', body,
      ].join('\r\n')));
      let got = '';
      c.on('data', (d: Buffer) => { got += d.toString(); });
      c.on('close', () => resolve(got));
      c.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 201 /);
    expect((await call(s.url, 'GET', `${NS}/configmaps/via-h2c`)).body.data).toEqual({ a: 'b' });
  });

  it('pods/exec, pods/attach and pods/portforward are in discovery', async () => {
    const res = await call(s.url, 'GET', '/api/v1');
    const names = res.body.resources.map((r: { name: string }) => r.name);
    expect(names).toEqual(expect.arrayContaining(['pods/exec', 'pods/attach', 'pods/portforward']));
  });

  it.skipIf(!hasKubectl)('the real kubectl: exec with its exit code, -i with stdin, errors as upstream prints them', async () => {
    await expect(kubectl('exec', 'web', '--', 'sh', '-c', 'exit 0')).resolves.toBe('out\n');
    const failed = await run('kubectl', ['--cache-dir', `${kubectl.dir}/cache`, 'exec', 'web', '--', 'sh', '-c', 'exit 3'], { env: { ...process.env, KUBECONFIG: `${kubectl.dir}/kubeconfig`, HOME: kubectl.dir } })
      .then(() => undefined, (e: { code: number; stderr: string }) => e);
    expect(failed).toMatchObject({ code: 3, stderr: expect.stringContaining('command terminated with exit code 3') });
    const child = spawn('kubectl', ['--cache-dir', `${kubectl.dir}/cache`, 'exec', '-i', 'web', '--', 'cat'], { env: { ...process.env, KUBECONFIG: `${kubectl.dir}/kubeconfig`, HOME: kubectl.dir } });
    child.stdin.end('from stdin\n');
    expect((await readAll(child.stdout)).toString()).toBe('from stdin\n');
    await expect(kubectl('exec', 'web', '-c', 'zz', '--', 'ls')).rejects.toThrow(/container zz is not valid for pod web/);
  });

  it.skipIf(!hasKubectl || spawnSync('script', ['--version'], { stdio: 'ignore' }).status !== 0).each([['WebSocket', 'true'], ['SPDY', 'false']])('the real kubectl exec -it in a terminal over %s: its size as a resize, keystrokes as they are', async (_what, websockets) => {
    fake.resizes = [];
    const child = spawn('script', ['-qec', `stty rows 33 cols 111; kubectl --cache-dir=${kubectl.dir}/cache exec -it web -- probe`, '/dev/null'],
      { env: { ...process.env, KUBECONFIG: `${kubectl.dir}/kubeconfig`, HOME: kubectl.dir, KUBECTL_REMOTE_COMMAND_WEBSOCKETS: websockets }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    setTimeout(() => child.stdin.write('hi'), 700);
    await new Promise((resolve) => child.once('exit', resolve));
    expect(fake.execs.at(-1)!.opts).toEqual({ stdin: true, stdout: true, stderr: false, tty: true });
    expect(out).toContain(`stdin=${Buffer.from('hi').toString('hex')} resizes=[{"width":111,"height":33}]`);
  });

  it.skipIf(!hasKubectl).each([['true', 'websocket'], ['false', 'SPDY/3.1']])('the real kubectl exec with KUBECTL_REMOTE_COMMAND_WEBSOCKETS=%s upgrades to %s', async (websockets, upgradeSeen) => {
    const seen: string[] = [];
    const observe = (req: { url?: string; headers: Record<string, unknown> }) => { if (req.url?.startsWith('/exec/')) seen.push(String(req.headers.upgrade)); };
    kubelet.server.on('upgrade', observe);
    try {
      const env = { ...process.env, KUBECONFIG: `${kubectl.dir}/kubeconfig`, HOME: kubectl.dir, KUBECTL_REMOTE_COMMAND_WEBSOCKETS: websockets };
      const failed = await run('kubectl', ['--cache-dir', `${kubectl.dir}/cache`, 'exec', 'web', '--', 'sh', '-c', 'exit 7'], { env })
        .then(() => undefined, (e: { code: number; stdout: string; stderr: string }) => e);
      expect(failed).toMatchObject({ code: 7, stdout: 'out\n', stderr: 'err\ncommand terminated with exit code 7\n' });
      expect(seen).toEqual([upgradeSeen]);
    } finally {
      kubelet.server.off('upgrade', observe);
    }
  });

  it.skipIf(!hasKubectl).each([
    ['a WebSocket tunnelling SPDY (the default)', 'true', 'websocket'],
    ['the SPDY/3.1 upgrade (KUBECTL_PORT_FORWARD_WEBSOCKETS=false)', 'false', 'SPDY/3.1'],
  ])('the real kubectl: port-forward over %s, several connections, one closing early leaves the forward up', async (_what, websockets, upgradeSeen) => {
    const seen: string[] = [];
    const observe = (req: { url?: string; headers: Record<string, unknown> }) => { if (req.url?.startsWith('/portForward/')) seen.push(String(req.headers.upgrade)); };
    kubelet.server.on('upgrade', observe);
    const child = spawn('kubectl', ['--cache-dir', `${kubectl.dir}/cache`, 'port-forward', 'pod/web', ':80'], {
      env: { ...process.env, KUBECONFIG: `${kubectl.dir}/kubeconfig`, HOME: kubectl.dir, KUBECTL_PORT_FORWARD_WEBSOCKETS: websockets },
    });
    try {
      let out = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      const local = Number((await eventually(() => /127\.0\.0\.1:(\d+) -> 80/.exec(out), 'kubectl to listen'))[1]);
      const exchange = (text: string, closeEarly = false) => new Promise<string>((resolve, reject) => {
        const c = connect({ host: '127.0.0.1', port: local, allowHalfOpen: true }, () => (closeEarly ? c.destroy() : c.end(text)));
        let got = '';
        c.on('data', (d: Buffer) => { got += d.toString(); });
        c.on('close', () => resolve(got));
        c.on('error', reject);
      });
      await exchange('', true);
      expect(await Promise.all(['a', 'b', 'c', 'd'].map((t) => exchange(t)))).toEqual(['A', 'B', 'C', 'D']);
      expect(await exchange('still up')).toBe('STILL UP');
      expect(seen).toEqual([upgradeSeen]);
    } finally {
      kubelet.server.off('upgrade', observe);
      child.kill();
    }
  });
});
