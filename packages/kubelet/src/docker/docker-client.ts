import { request as httpRequest } from 'node:http';
import type { Socket } from 'node:net';
import { Transform, type Readable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';

/** The Engine API version every path is prefixed with: Engine 20.10 speaks it, and newer engines still serve it. */
export const DOCKER_API_VERSION = 'v1.41';

/** An Engine API call failed: `statusCode` is the engine's answer, or 0 when the engine could not be reached. */
export class DockerError extends Error {
  constructor(message: string, readonly statusCode: number, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DockerError';
  }

  get isNotFound(): boolean { return this.statusCode === 404; }
  get isConflict(): boolean { return this.statusCode === 409; }
  /** The engine did not answer at all (no socket, connection refused or reset). */
  get isUnreachable(): boolean { return this.statusCode === 0; }
}

/** The filesystem path of a Docker socket given as `unix:///path` or as a plain path. */
export function dockerSocketPath(socket: string): string {
  if (socket.startsWith('unix://')) return socket.slice('unix://'.length);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(socket)) throw new Error(`--docker-socket ${socket}: only unix sockets are supported`);
  return socket;
}

/**
 * Decodes Docker's multiplexed stream (containers without a TTY): frames of an 8-byte header — stream type (1 stdout,
 * 2 stderr), 3 zero bytes, big-endian payload length — then the payload. Payloads come out in order as one stream;
 * with `onStderr`, stderr payloads go there instead. Frames may be split across or share chunks in any way.
 */
export function demux(opts: { onStderr?: (chunk: Buffer) => void } = {}): Transform {
  let header = Buffer.alloc(0);
  let stream = 0;
  let left = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      let off = 0;
      while (off < chunk.length) {
        if (left === 0 && header.length < 8) {
          const take = Math.min(8 - header.length, chunk.length - off);
          header = Buffer.concat([header, chunk.subarray(off, off + take)]);
          off += take;
          if (header.length < 8) break;
          stream = header[0];
          left = header.readUInt32BE(4);
        }
        const payload = chunk.subarray(off, off + left);
        off += payload.length;
        left -= payload.length;
        if (left === 0) header = Buffer.alloc(0);
        if (!payload.length) continue;
        if (stream === 2 && opts.onStderr) opts.onStderr(payload);
        else this.push(payload);
      }
      done();
    },
  });
}

type Query = Record<string, string | number | boolean | undefined>;

interface RequestOptions {
  query?: Query;
  /** Sent as JSON unless a Buffer. */
  body?: unknown;
  /** Statuses that count as success; any other becomes a DockerError. */
  expect: number[];
  signal?: AbortSignal;
  /** A long-lived body (logs with follow, pull progress): no body timeout. */
  stream?: boolean;
  headersTimeoutMs?: number;
}

export interface DockerVersion { Version: string; ApiVersion: string; MinAPIVersion?: string; Os: string; Arch: string; KernelVersion: string }

export interface ContainerSummary { Id: string; Names: string[]; Image: string; ImageID: string; State: string; Status: string; Labels: Record<string, string>; Created: number }

export interface ContainerInspect {
  Id: string;
  Name: string;
  Created: string;
  Image: string;
  State: { Status: string; Running: boolean; OOMKilled: boolean; ExitCode: number; Error: string; StartedAt: string; FinishedAt: string; Pid: number };
  Config: { Image: string; Labels: Record<string, string> | null; Tty: boolean; Env: string[] | null; Entrypoint: string[] | null; Cmd: string[] | null; Hostname: string; WorkingDir: string };
  HostConfig: { NetworkMode: string; IpcMode?: string; Binds: string[] | null; NanoCpus?: number; Memory?: number; [key: string]: unknown };
  NetworkSettings: { IPAddress: string; Networks: Record<string, { IPAddress: string; NetworkID: string }> | null };
}

/** The body of `POST /containers/create` (the fields the kubelet sets). */
export interface ContainerCreateBody {
  Image: string;
  Hostname?: string;
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  Labels?: Record<string, string>;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  ExposedPorts?: Record<string, Record<string, never>>;
  HostConfig?: {
    NetworkMode?: string;
    IpcMode?: string;
    PidMode?: string;
    Binds?: string[];
    NanoCpus?: number;
    Memory?: number;
    PortBindings?: Record<string, { HostIp?: string; HostPort: string }[]>;
    Dns?: string[];
    DnsSearch?: string[];
    DnsOptions?: string[];
    RestartPolicy?: { Name: 'no' | 'always' | 'on-failure' | 'unless-stopped'; MaximumRetryCount?: number };
    LogConfig?: { Type: string; Config: Record<string, string> };
  };
}

export interface ImageInspect { Id: string; RepoTags: string[] | null; Created: string; Size: number; Config: { Labels: Record<string, string> | null } | null }

export interface ExecInspect { ID: string; Running: boolean; ExitCode: number | null; Pid: number }

export interface NetworkInspect { Id: string; Name: string; Driver: string; IPAM: { Config: { Subnet?: string; Gateway?: string }[] | null } }

/** `GET /containers/{id}/stats?stream=false` (cgroup v1 and v2 fields alike; memory stats vary by cgroup version). */
export interface ContainerStatsResponse {
  read: string;
  cpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage?: number; online_cpus?: number };
  memory_stats: { usage?: number; limit?: number; stats?: Record<string, number> };
}

export interface LogsQuery { follow?: boolean; tail?: number | 'all'; timestamps?: boolean; since?: number }

/**
 * A thin typed client of the Docker Engine API over its unix socket (STYLE §4): one private `request()`, one method per
 * endpoint. A pool of connections rather than one undici Client, which would queue every call behind a following log
 * stream or a running exec.
 */
export class DockerClient {
  readonly socketPath: string;
  private readonly pool: Pool;

  constructor(socket: string) {
    this.socketPath = dockerSocketPath(socket);
    // No connection limit: every following log stream and running exec holds one.
    this.pool = new Pool('http://docker', { socketPath: this.socketPath });
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  async ping(signal?: AbortSignal): Promise<void> {
    await this.empty('GET', '/_ping', { expect: [200], ...(signal ? { signal } : {}) });
  }

  version(): Promise<DockerVersion> {
    return this.json('GET', '/version', { expect: [200] });
  }

  /** Containers (all states with `all`) carrying every label in `labels` (`key` or `key=value`). */
  listContainers(opts: { all?: boolean; labels?: string[] } = {}): Promise<ContainerSummary[]> {
    const filters = opts.labels?.length ? JSON.stringify({ label: opts.labels }) : undefined;
    return this.json('GET', '/containers/json', { query: { all: opts.all, filters }, expect: [200] });
  }

  inspectContainer(id: string): Promise<ContainerInspect> {
    return this.json('GET', `/containers/${encodeURIComponent(id)}/json`, { expect: [200] });
  }

  createContainer(name: string, body: ContainerCreateBody): Promise<{ Id: string; Warnings: string[] | null }> {
    return this.json('POST', '/containers/create', { query: { name }, body, expect: [201] });
  }

  /** 304 (already started) counts as success. */
  async startContainer(id: string): Promise<void> {
    await this.empty('POST', `/containers/${encodeURIComponent(id)}/start`, { expect: [204, 304] });
  }

  /** SIGTERM (or the image's StopSignal), SIGKILL after `t` seconds; answers once the container is stopped. 304: was not running. */
  async stopContainer(id: string, t: number): Promise<void> {
    await this.empty('POST', `/containers/${encodeURIComponent(id)}/stop`, {
      query: { t }, expect: [204, 304], headersTimeoutMs: (t + 60) * 1000,
    });
  }

  async killContainer(id: string, signal = 'SIGKILL'): Promise<void> {
    await this.empty('POST', `/containers/${encodeURIComponent(id)}/kill`, { query: { signal }, expect: [204] });
  }

  async removeContainer(id: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    await this.empty('DELETE', `/containers/${encodeURIComponent(id)}`, { query: { force: opts.force, v: opts.volumes }, expect: [204] });
  }

  /** The raw log stream (multiplexed unless the container has a TTY: see `demux`). The caller consumes or destroys it. */
  async containerLogs(id: string, q: LogsQuery, signal?: AbortSignal): Promise<Readable> {
    const res = await this.request('GET', `/containers/${encodeURIComponent(id)}/logs`, {
      query: { stdout: true, stderr: true, follow: q.follow, tail: q.tail, timestamps: q.timestamps, since: q.since },
      expect: [200], stream: true, ...(signal ? { signal } : {}),
    });
    return res.body;
  }

  /** One sample (`stream=false&one-shot=true`: no second sample for precpu). */
  containerStats(id: string): Promise<ContainerStatsResponse> {
    return this.json('GET', `/containers/${encodeURIComponent(id)}/stats`, { query: { stream: false, 'one-shot': true }, expect: [200] });
  }

  createExec(id: string, body: { Cmd: string[]; AttachStdin?: boolean; AttachStdout?: boolean; AttachStderr?: boolean; Tty?: boolean; Env?: string[]; WorkingDir?: string },
    signal?: AbortSignal): Promise<{ Id: string }> {
    return this.json('POST', `/containers/${encodeURIComponent(id)}/exec`, { body, expect: [201], ...(signal ? { signal } : {}) });
  }

  /** Starts an exec attached: the engine hijacks the connection and streams its output (multiplexed without a TTY) until it exits. */
  async startExec(execId: string, signal?: AbortSignal): Promise<Readable> {
    const res = await this.request('POST', `/exec/${encodeURIComponent(execId)}/start`, {
      body: { Detach: false, Tty: false }, expect: [200], stream: true, ...(signal ? { signal } : {}),
    });
    return res.body;
  }

  /**
   * Starts an exec with its connection hijacked (`Upgrade: tcp`): the socket carries stdin one way and the output
   * (multiplexed unless `tty`) the other; ending its write side closes the process's stdin.
   */
  startExecHijacked(execId: string, tty: boolean): Promise<Socket> {
    return this.hijack(`/exec/${encodeURIComponent(execId)}/start`, {}, { Detach: false, Tty: tty });
  }

  /** Sets the TTY size of a running exec. */
  async resizeExec(execId: string, size: { width: number; height: number }): Promise<void> {
    await this.empty('POST', `/exec/${encodeURIComponent(execId)}/resize`, { query: { h: size.height, w: size.width }, expect: [200, 201] });
  }

  /** Attaches to a running container's stdio with the connection hijacked (as `startExecHijacked`). */
  attachContainer(id: string, opts: { stdin: boolean; stdout: boolean; stderr: boolean }): Promise<Socket> {
    return this.hijack(`/containers/${encodeURIComponent(id)}/attach`, { stream: true, stdin: opts.stdin, stdout: opts.stdout, stderr: opts.stderr });
  }

  /** Sets the TTY size of a container started with a TTY. */
  async resizeContainer(id: string, size: { width: number; height: number }): Promise<void> {
    await this.empty('POST', `/containers/${encodeURIComponent(id)}/resize`, { query: { h: size.height, w: size.width }, expect: [200] });
  }

  inspectExec(execId: string, signal?: AbortSignal): Promise<ExecInspect> {
    return this.json('GET', `/exec/${encodeURIComponent(execId)}/json`, { expect: [200], ...(signal ? { signal } : {}) });
  }

  inspectImage(name: string): Promise<ImageInspect> {
    return this.json('GET', `/images/${encodeURIComponent(name)}/json`, { expect: [200] });
  }

  /**
   * Pulls `image` (a tag of `latest` when none is given, as `docker pull`), reading the progress stream to its end.
   * The engine reports late failures as a `{"error": …}` line in a 200 answer: those throw a DockerError too (status 500).
   */
  async pullImage(image: string, signal?: AbortSignal): Promise<void> {
    const res = await this.request('POST', '/images/create', {
      query: { fromImage: image, ...(image.includes('@') || /:[^/]+$/.test(image) ? {} : { tag: 'latest' }) },
      expect: [200], stream: true, ...(signal ? { signal } : {}),
    });
    let failure: string | undefined;
    let rest = '';
    for await (const chunk of res.body) {
      const lines = (rest + (chunk as Buffer).toString('utf8')).split('\n');
      rest = lines.pop()!;
      for (const line of lines) failure ??= pullError(line);
    }
    failure ??= pullError(rest);
    if (failure) throw new DockerError(failure, 500);
  }

  inspectNetwork(name: string): Promise<NetworkInspect> {
    return this.json('GET', `/networks/${encodeURIComponent(name)}`, { expect: [200] });
  }

  /**
   * A POST the engine answers by hijacking the connection (101 UPGRADED to `tcp`), as the docker CLI's attach and exec.
   * undici cannot send a body with an upgrade, so this one request goes through node:http on the same socket path.
   */
  private hijack(path: string, query: Query, body?: unknown): Promise<Socket> {
    const qs = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) qs.set(key, typeof value === 'boolean' ? (value ? '1' : '0') : String(value));
    }
    const payload = body === undefined ? '' : JSON.stringify(body);
    return new Promise<Socket>((resolve, reject) => {
      const req = httpRequest({
        socketPath: this.socketPath, method: 'POST', path: `/${DOCKER_API_VERSION}${path}${qs.size ? `?${qs}` : ''}`,
        headers: { Connection: 'Upgrade', Upgrade: 'tcp', 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) },
      });
      req.on('upgrade', (_res, socket, head) => {
        if (head.length) socket.unshift(head);
        socket.setNoDelay(true);
        resolve(socket);
      });
      req.on('response', (res) => {
        // Not upgraded: an error (404 no such exec/container, 409 not running).
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => { text += c; });
        res.on('end', () => {
          let message = text.trim();
          try { message = (JSON.parse(text) as { message?: string }).message ?? message; } catch { /* not JSON */ }
          reject(new DockerError(message || `POST ${path}: unexpected status ${res.statusCode}`, res.statusCode ?? 0));
        });
      });
      req.on('error', (err) => reject(this.connectionError(err, `POST ${path}`)));
      req.end(payload);
    });
  }

  private async json<T>(method: Dispatcher.HttpMethod, path: string, opts: RequestOptions): Promise<T> {
    const res = await this.request(method, path, opts);
    return (await res.body.json()) as T;
  }

  private async empty(method: Dispatcher.HttpMethod, path: string, opts: RequestOptions): Promise<number> {
    const res = await this.request(method, path, opts);
    await res.body.dump();
    return res.statusCode;
  }

  /** Sends one request; an unexpected status consumes the body into a DockerError with the engine's message. */
  private async request(method: Dispatcher.HttpMethod, path: string, opts: RequestOptions): Promise<Dispatcher.ResponseData> {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(opts.query ?? {})) {
      if (value !== undefined) query.set(key, typeof value === 'boolean' ? (value ? '1' : '0') : String(value));
    }
    const qs = query.size ? `?${query}` : '';
    const json = opts.body !== undefined && !Buffer.isBuffer(opts.body);
    let res: Dispatcher.ResponseData;
    try {
      res = await this.pool.request({
        method, path: `/${DOCKER_API_VERSION}${path}${qs}`,
        headers: json ? { 'content-type': 'application/json' } : {},
        body: json ? JSON.stringify(opts.body) : (opts.body as Buffer | undefined),
        signal: opts.signal,
        ...(opts.stream ? { bodyTimeout: 0 } : {}),
        ...(opts.headersTimeoutMs ? { headersTimeout: opts.headersTimeoutMs } : {}),
      });
    } catch (err) {
      throw this.connectionError(err, `${method} ${path}`);
    }
    if (opts.expect.includes(res.statusCode)) return res;
    const text = await res.body.text().catch(() => '');
    let message = text.trim();
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? message;
    } catch {
      // not JSON: keep the text
    }
    throw new DockerError(message || `${method} ${path}: unexpected status ${res.statusCode}`, res.statusCode);
  }

  /** Connection-level failures say what to do; aborts and anything else pass through unchanged. */
  private connectionError(err: unknown, what: string): unknown {
    const code = (err as { code?: string }).code ?? '';
    const sock = this.socketPath;
    if (code === 'ENOENT' || code === 'ECONNREFUSED') {
      return new DockerError(`no Docker engine at ${sock}: start dockerd or pass --docker-socket (or set DOCKER_HOST)`, 0, { cause: err });
    }
    if (code === 'EACCES' || code === 'EPERM') {
      return new DockerError(`permission denied on ${sock}: run as root or as a member of the socket's group (docker)`, 0, { cause: err });
    }
    if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET' || code === 'UND_ERR_CONNECT_TIMEOUT') {
      return new DockerError(`the Docker engine at ${sock} dropped the connection during ${what}: ${(err as Error).message}`, 0, { cause: err });
    }
    return err;
  }
}

function pullError(line: string): string | undefined {
  if (!line.trim()) return undefined;
  try {
    const msg = JSON.parse(line) as { error?: string; errorDetail?: { message?: string } };
    return msg.error ?? msg.errorDetail?.message;
  } catch {
    return undefined;
  }
}
