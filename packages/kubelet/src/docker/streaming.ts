import { spawn, type ChildProcess } from 'node:child_process';
import { unlinkSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, type Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { silentLogger, type Logger } from '@k8ts/api';
import type { StreamOptions, StreamSession, StreamingRuntime } from '../runtime.js';
import { demux, DockerError, type DockerClient } from './docker-client.js';

/**
 * The forwarder run inside a pod's network namespace (entered with nsenter): it listens on a unix socket (the
 * mount namespace stays the host's) and, per connection, reads a 2-byte port, connects to 127.0.0.1:port there,
 * answers one byte 0 (then pipes both ways) or 1 and the error message. It exits when the kubelet goes (stdin
 * ends) or after a minute without connections.
 */
const FORWARDER = `
const net = require('node:net'); const fs = require('node:fs');
const sock = process.argv[1]; let open = 0; let idle;
const arm = () => { clearTimeout(idle); if (open === 0) idle = setTimeout(() => process.exit(0), Number(process.argv[2])); };
try { fs.unlinkSync(sock); } catch {}
const server = net.createServer({ allowHalfOpen: true }, (c) => {
  open++; clearTimeout(idle); c.on('close', () => { open--; arm(); }); c.on('error', () => {});
  let buf = Buffer.alloc(0);
  const onData = (d) => {
    buf = Buffer.concat([buf, d]); if (buf.length < 2) return;
    c.off('data', onData); c.pause();
    const port = buf.readUInt16BE(0); const rest = buf.subarray(2);
    const t = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true }); let up = false;
    t.once('connect', () => { up = true; t.setNoDelay(true); c.write(Buffer.from([0])); if (rest.length) t.write(rest); c.pipe(t); t.pipe(c); c.resume(); });
    t.on('error', (e) => { if (up) c.destroy(); else c.end(Buffer.concat([Buffer.from([1]), Buffer.from(e.message)])); });
    c.on('close', () => t.destroy());
  };
  c.on('data', onData);
});
server.listen(sock, () => { process.stdout.write('ready\\n'); arm(); });
process.stdin.on('end', () => process.exit(0)); process.stdin.resume();
`;

interface Forwarder { child: ChildProcess; socket: string; ready: Promise<void> }

/**
 * StreamingRuntime on the Docker Engine API: exec and attach on hijacked connections (as `docker exec -it` and
 * `docker attach`), TTY resizes, the exit code from exec inspect. Port-forward enters the pod's network namespace
 * (that of its sandbox's process) with nsenter, as dockershim did, so that servers listening on 127.0.0.1 inside the
 * pod are reached too: one small forwarder process per pod, started on first use.
 */
export class DockerStreaming implements StreamingRuntime {
  private readonly forwarders = new Map<number, Forwarder>();
  private readonly pids = new Map<string, number>();
  private readonly log: Logger;
  private readonly idleMs: number;

  constructor(private readonly docker: DockerClient, opts: { log?: Logger; forwarderIdleMs?: number } = {}) {
    this.log = opts.log ?? silentLogger;
    this.idleMs = opts.forwarderIdleMs ?? 60_000;
  }

  async execStream(containerId: string, command: string[], opts: StreamOptions): Promise<StreamSession> {
    const { Id: execId } = await this.docker.createExec(containerId, {
      Cmd: command, AttachStdin: opts.stdin, AttachStdout: opts.stdout, AttachStderr: opts.stderr && !opts.tty, Tty: opts.tty,
    });
    const socket = await this.docker.startExecHijacked(execId, opts.tty);
    return this.session(socket, opts, {
      resize: async (size) => {
        // The engine refuses a resize until the process runs, a moment after the start answered (the docker CLI
        // retries its first resize likewise).
        for (let i = 1; ; i++) {
          try {
            await this.docker.resizeExec(execId, size);
            return;
          } catch (err) {
            if (i >= 10) throw err;
            await sleep(10 * i);
          }
        }
      },
      exitCode: async () => {
        // The stream ends as the process exits; the engine may record the exit code a moment later.
        for (let i = 0; i < 500; i++) {
          const state = await this.docker.inspectExec(execId);
          if (!state.Running && state.ExitCode !== null) return state.ExitCode;
          await sleep(10);
        }
        throw new Error(`exec ${execId} still runs after its output ended`);
      },
    });
  }

  async attachStream(containerId: string, opts: StreamOptions): Promise<StreamSession> {
    const { Config } = await this.docker.inspectContainer(containerId);
    const socket = await this.docker.attachContainer(containerId, { stdin: opts.stdin, stdout: opts.stdout, stderr: opts.stderr });
    return this.session(socket, { ...opts, tty: Config.Tty }, {
      resize: (size) => (Config.Tty ? this.docker.resizeContainer(containerId, size) : Promise.resolve()),
      exitCode: async () => undefined,
    });
  }

  private session(socket: Socket, opts: StreamOptions, how: { resize(size: { width: number; height: number }): Promise<void>; exitCode(): Promise<number | undefined> }): StreamSession {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const output = opts.tty ? socket : socket.pipe(demux({ onStderr: (chunk) => stderr.write(chunk) }));
    if (!opts.tty) socket.on('end', () => output.end());
    output.pipe(stdout);
    const ended = new Promise<void>((resolve) => {
      stdout.on('end', resolve);
      socket.on('close', resolve);
    });
    stdout.on('end', () => stderr.end());
    socket.on('close', () => { stdout.end(); stderr.end(); });
    socket.on('error', () => undefined);
    if (!opts.stdin) socket.end(); // nothing to send: half-close at once, as the docker CLI does
    return {
      ...(opts.stdin ? { stdin: socket } : {}),
      stdout, stderr,
      resize: async (size) => {
        if (!opts.tty) return;
        await how.resize(size).catch((err: unknown) => this.log.debug({ err: (err as Error).message }, 'resize failed'));
      },
      done: ended.then(() => how.exitCode()),
      close: () => socket.destroy(),
    };
  }

  /** Connects to 127.0.0.1:`port` in the sandbox's network namespace through its forwarder. */
  async dialPod(sandboxId: string, port: number): Promise<Duplex> {
    // A sandbox's pid is fixed for its life (a restarted sandbox is a new container): asked once per sandbox.
    let pid = this.pids.get(sandboxId);
    if (!pid) {
      const inspect = await this.docker.inspectContainer(sandboxId);
      if (!inspect.State.Running || !inspect.State.Pid) throw new DockerError(`container ${sandboxId} is not running`, 409);
      pid = inspect.State.Pid;
      this.pids.set(sandboxId, pid);
    }
    let fwd = this.forwarders.get(pid);
    if (!fwd || fwd.child.exitCode !== null || fwd.child.signalCode !== null) {
      fwd = this.startForwarder(pid);
      this.forwarders.set(pid, fwd);
    }
    await fwd.ready;
    const conn = connect({ path: fwd.socket, allowHalfOpen: true });
    await new Promise<void>((resolve, reject) => { conn.once('connect', resolve); conn.once('error', reject); });
    conn.write(Buffer.from([port >> 8, port & 0xff]));
    const first = await firstBytes(conn);
    if (first[0] !== 0) {
      let message = first.subarray(1).toString();
      if (first.length) for await (const chunk of conn) message += (chunk as Buffer).toString();
      conn.destroy();
      throw new Error(message || 'the forwarder closed the connection');
    }
    if (first.length > 1) conn.unshift(first.subarray(1));
    conn.setNoDelay(true);
    return conn;
  }

  private startForwarder(pid: number): Forwarder {
    const socket = path.join(tmpdir(), `k8ts-portforward-${process.pid}-${pid}.sock`);
    const child = spawn('nsenter', [`--net=/proc/${pid}/ns/net`, '--', process.execPath, '-e', FORWARDER, socket, String(this.idleMs)],
      { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => resolve());
      child.once('error', (err) => reject(new Error(`could not run nsenter to enter the pod's network namespace: ${err.message}`)));
      child.once('exit', (code) => reject(new Error(`the port forwarder in the network namespace of pid ${pid} exited (${code}): ${stderr.trim()}`)));
    });
    child.once('exit', () => {
      if (this.forwarders.get(pid)?.child === child) this.forwarders.delete(pid);
      for (const [id, p] of this.pids) if (p === pid) this.pids.delete(id);
      try { unlinkSync(socket); } catch { /* gone */ }
    });
    ready.catch(() => undefined);
    this.log.debug({ pid, socket }, 'started port forwarder in a pod network namespace');
    return { child, socket, ready };
  }

  close(): void {
    for (const f of this.forwarders.values()) f.child.kill();
    this.forwarders.clear();
  }
}

/** The first chunk a connection sends (or an empty buffer when it closes first). */
function firstBytes(conn: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => { cleanup(); conn.pause(); resolve(d); };
    const onEnd = () => { cleanup(); resolve(Buffer.alloc(0)); };
    const onError = (e: Error) => { cleanup(); reject(e); };
    const cleanup = () => { conn.off('data', onData); conn.off('end', onEnd); conn.off('close', onEnd); conn.off('error', onError); };
    conn.on('data', onData);
    conn.on('end', onEnd);
    conn.on('close', onEnd);
    conn.on('error', onError);
  });
}
