import net from 'node:net';
import { HTTPParser } from 'http-parser-js';

/** What an upstream connection reports to the exchange using it (a pooled connection reports to no one). */
export interface UpstreamUser {
  /** The response parser's events, for this exchange's response. */
  onResponseHead(info: ResponseInfo): number | void;
  onResponseBody(chunk: Buffer): void;
  onResponseComplete(): void;
  /** After each read from the socket has been parsed. */
  onResponseRead(): void;
  /** The socket failed, timed out or closed; `err.code` is EREADTIMEOUT on the read timeout. */
  onUpstreamError(err: NodeJS.ErrnoException): void;
  onUpstreamDrain(): void;
}

/** The part of http-parser-js's head info a response needs. */
export interface ResponseInfo {
  versionMajor: number;
  versionMinor: number;
  headers: string[];
  statusCode: number;
  statusMessage: string;
  shouldKeepAlive: boolean;
}

/** One keep-alive connection to an endpoint with its response parser; its events go to `user`. */
export class UpstreamConnection {
  user: UpstreamUser | undefined;
  /** Whether it was taken from the pool (a stale one may fail before answering). */
  reused = false;
  readonly parser = new HTTPParser(HTTPParser.RESPONSE);
  private timeoutMs: number;
  private failed = false;

  constructor(readonly socket: net.Socket, readonly key: string, timeoutMs: number, private readonly dropped: (c: UpstreamConnection) => void) {
    this.timeoutMs = timeoutMs;
    const p = this.parser;
    p[HTTPParser.kOnHeadersComplete] = (info) => this.user?.onResponseHead(info as ResponseInfo) ?? 1;
    p[HTTPParser.kOnBody] = (chunk, offset, length) => this.user?.onResponseBody(offset === 0 && length === chunk.length ? chunk : chunk.subarray(offset, offset + length));
    p[HTTPParser.kOnMessageComplete] = () => this.user?.onResponseComplete();
    socket.on('data', (d: Buffer) => {
      const user = this.user;
      if (!user) { socket.destroy(); return; } // nothing is expected on an idle connection
      const r = this.execute(d);
      if (r instanceof Error) { this.fail(Object.assign(new Error(`bad response from ${key}: ${r.message}`), { code: 'EBADRESPONSE' })); return; }
      if (this.user === user) user.onResponseRead();
    });
    // The end of a close-delimited body; any other end before the response is complete is an error.
    socket.on('end', () => {
      const user = this.user;
      if (!user) return;
      const r = this.finish();
      if (r instanceof Error) this.fail(Object.assign(new Error(`${key} closed the connection mid-response`), { code: 'ECONNRESET' }));
      else if (this.user === user) user.onResponseRead();
    });
    socket.on('timeout', () => {
      if (this.user) this.fail(Object.assign(new Error(`${key} answered nothing for ${this.timeoutMs} ms`), { code: 'EREADTIMEOUT' }));
      else socket.destroy();
    });
    socket.on('drain', () => this.user?.onUpstreamDrain());
    socket.on('error', (err: NodeJS.ErrnoException) => this.fail(err));
    socket.on('close', () => this.fail(Object.assign(new Error(`${key} closed the connection`), { code: 'ECONNRESET' })));
  }

  private execute(d: Buffer): number | Error {
    try { return this.parser.execute(d); } catch (err) { return err as Error; }
  }

  private finish(): void | Error {
    try { return this.parser.finish(); } catch (err) { return err as Error; }
  }

  /** Sets the socket's idle timeout (the read timeout in use, the idle timeout in the pool) when it changes. */
  setTimeout(ms: number): void {
    if (ms !== this.timeoutMs) { this.timeoutMs = ms; this.socket.setTimeout(ms); }
  }

  /** Tells the user once, drops the connection from the pool and destroys it. */
  fail(err: NodeJS.ErrnoException): void {
    if (this.failed) return;
    this.failed = true;
    const user = this.user;
    this.user = undefined;
    this.dropped(this);
    this.socket.destroy();
    user?.onUpstreamError(err);
  }

  /** Ends the connection without telling anyone (the exchange gave up on it). */
  destroy(): void {
    this.user = undefined;
    this.failed = true;
    this.dropped(this);
    this.socket.destroy();
  }
}

export interface UpstreamPoolOptions {
  /** Idle connections kept per endpoint (nginx's `keepalive`). */
  maxIdlePerEndpoint?: number;
  /** Idle time before a pooled connection is closed. */
  idleTimeoutMs?: number;
}

/**
 * Keep-alive connections per endpoint `ip:port`, most recently used first (LIFO, so the pool shrinks to what the
 * load needs and the rest time out); a connection that closes or fails while idle leaves the pool.
 */
export class UpstreamPool {
  private readonly idle = new Map<string, UpstreamConnection[]>();
  private readonly maxIdle: number;
  readonly idleTimeoutMs: number;

  constructor(opts: UpstreamPoolOptions = {}) {
    this.maxIdle = opts.maxIdlePerEndpoint ?? 64;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 60_000;
  }

  /** An idle connection to `ip:port`, if one is pooled. */
  take(ip: string, port: number): UpstreamConnection | undefined {
    const c = this.idle.get(`${ip}:${port}`)?.pop();
    if (c) c.reused = true;
    return c;
  }

  /**
   * A new connection; `done` is called once: with the connection when it is open, or with the error (ETIMEDOUT after
   * `connectTimeoutMs`). Its timeout afterwards is `timeoutMs`.
   */
  connect(ip: string, port: number, connectTimeoutMs: number, timeoutMs: number, done: (err: NodeJS.ErrnoException | undefined, c?: UpstreamConnection) => void): () => void {
    const socket = net.connect({ host: ip, port, noDelay: true });
    const timer = setTimeout(() => socket.destroy(Object.assign(new Error(`connect to ${ip}:${port} timed out`), { code: 'ETIMEDOUT' })), connectTimeoutMs);
    const onError = (err: NodeJS.ErrnoException) => { clearTimeout(timer); done(err); };
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      socket.setTimeout(timeoutMs);
      done(undefined, new UpstreamConnection(socket, `${ip}:${port}`, timeoutMs, (c) => this.drop(c)));
    });
    return () => { clearTimeout(timer); socket.off('error', onError); socket.on('error', () => {}); socket.destroy(); };
  }

  /** Pools a connection whose last response was complete and keep-alive (or closes it when the pool is full). */
  release(c: UpstreamConnection): void {
    c.user = undefined;
    // Paused while its last response waited for a slow client: nothing more comes, and the next user needs it reading.
    if (c.socket.isPaused()) c.socket.resume();
    let list = this.idle.get(c.key);
    if (!list) this.idle.set(c.key, (list = []));
    if (list.length >= this.maxIdle) { c.destroy(); return; }
    c.setTimeout(this.idleTimeoutMs);
    list.push(c);
  }

  private drop(c: UpstreamConnection): void {
    const list = this.idle.get(c.key);
    const i = list?.indexOf(c) ?? -1;
    if (i >= 0) list!.splice(i, 1);
  }

  /** Closes every idle connection. */
  close(): void {
    for (const list of this.idle.values()) for (const c of [...list]) c.destroy();
    this.idle.clear();
  }
}
