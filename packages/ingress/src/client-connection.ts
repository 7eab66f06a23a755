import net from 'node:net';
import { HTTPParser } from 'http-parser-js';
import type { Logger } from '@k8ts/api';
import type { Upstream } from './endpoints.js';
import {
  chunkHead, forwardLines, headBytes, HOP, httpDate, LAST_CHUNK, MAX_HEADER_BYTES, page, REQUEST_SKIP, scanHead, statusLine, type HeadScan,
} from './http1.js';
import type { ResponseInfo, UpstreamConnection, UpstreamPool, UpstreamUser } from './upstream-pool.js';

/** Where a request goes: the endpoints to try in order, or the status to answer with. */
export type Route = { upstreams: Upstream[] } | { status: number; title: string; detail: string };

/** What a client connection needs from the proxy. */
export interface ProxyCore {
  route(host: string | undefined, path: string): Route;
  count(status: number): void;
  readonly pool: UpstreamPool;
  readonly connectTimeoutMs: number;
  readonly readTimeoutMs: number;
  readonly log: Logger;
  /** Milliseconds, refreshed by the proxy's sweep (coarse: the headers timeout needs no better). */
  readonly now: number;
}

/** Idle time between requests on a client connection (ingress-nginx's keep-alive 75 s). */
export const KEEP_ALIVE_TIMEOUT_MS = 75_000;
/** Time a client has to send a whole request head (Node's server.headersTimeout). */
export const HEADERS_TIMEOUT_MS = 60_000;
/** Methods nginx's proxy_next_upstream retries after the request was sent (idempotent). */
const RETRYABLE = new Set(['GET', 'HEAD', 'OPTIONS']);
const KEEP_ALIVE = `connection: keep-alive\r\nkeep-alive: timeout=${KEEP_ALIVE_TIMEOUT_MS / 1000}\r\n`;
const CRLF = '\r\n';

/** The part of http-parser-js's head info a request needs. */
interface RequestInfo {
  versionMajor: number;
  versionMinor: number;
  headers: string[];
  method: number;
  url: string;
  upgrade: boolean;
  shouldKeepAlive: boolean;
}

/**
 * One client connection (HTTP, or HTTPS once the handshake is done): parses requests and serves them in order, one at
 * a time (a pipelined request waits for the response before it); when the exchanges queue up, or the upstream cannot
 * take the body as fast as it comes, reading stops until they catch up.
 */
export class ClientConnection {
  readonly remoteAddress: string;
  readonly localPort: string;
  closed = false;
  /** When the request head being read began (0: none), for the headers timeout. */
  headStart = 0;
  private readonly parser = new HTTPParser(HTTPParser.REQUEST);
  /** Requests in arrival order; the first is the one being served. */
  private readonly queue: Exchange[] = [];
  /** The exchange whose request body the parser is reading. */
  private parsing: Exchange | undefined;
  private paused = false;
  private upgraded = false;
  /** Bad input seen: answered with this status (400, or 501 for a transfer coding nginx does not implement) once the exchanges before it are done. */
  private bad: { status: number; title: string } | undefined;
  private closing = false;
  private advancing = false;
  private readonly onData = (d: Buffer) => this.read(d);

  constructor(readonly core: ProxyCore, readonly socket: net.Socket, readonly scheme: 'http' | 'https', private readonly gone: (c: ClientConnection) => void) {
    this.remoteAddress = socket.remoteAddress ?? '';
    this.localPort = String(socket.localPort ?? '');
    const p = this.parser;
    p[HTTPParser.kOnHeadersComplete] = (info) => this.onHead(info as RequestInfo);
    p[HTTPParser.kOnBody] = (chunk, offset, length) => this.parsing?.onRequestBody(offset === 0 && length === chunk.length ? chunk : chunk.subarray(offset, offset + length));
    p[HTTPParser.kOnMessageComplete] = () => { const ex = this.parsing; this.parsing = undefined; ex?.onRequestEnd(); };
    socket.setNoDelay(true);
    // One idle timer for the connection's life: it fires after that long without traffic; it only matters between requests.
    socket.setTimeout(KEEP_ALIVE_TIMEOUT_MS);
    socket.on('data', this.onData);
    socket.on('end', () => this.onEnd());
    socket.on('timeout', () => { if (!this.queue.length && !this.upgraded) socket.destroy(); });
    socket.on('drain', () => this.queue[0]?.onClientDrain());
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.onClose());
  }

  private read(d: Buffer): void {
    if (this.bad || this.closing) return;
    if (!this.parsing && !this.headStart) this.headStart = this.core.now;
    this.parser.maxHeaderSize = MAX_HEADER_BYTES; // the parser resets it with each message
    let r: number | Error;
    try { r = this.parser.execute(d); } catch (err) { r = err as Error; }
    if (r instanceof Error) {
      this.core.log.debug({ client: this.remoteAddress, err: r.message }, 'bad request');
      // Bad framing inside a body already on its way upstream: that request cannot be finished, nor answered.
      if (this.parsing) { this.socket.destroy(); return; }
      this.bad = r instanceof Refused ? { status: r.status, title: r.title } : { status: 400, title: 'Bad Request' };
      this.advance();
      return;
    }
    const last = this.queue.at(-1);
    if (last?.upgrade && !this.upgraded) {
      // The parser stops after an upgrade's head: the rest is the tunnel's first bytes.
      this.upgraded = true;
      last.tunnelHead = d.subarray(r);
      this.socket.off('data', this.onData);
      this.socket.pause();
      this.socket.setTimeout(0);
      if (this.queue.length === 1) last.start();
      return;
    }
    this.sync();
  }

  private onHead(info: RequestInfo): number {
    this.headStart = 0;
    if (headBytes(info.headers, info.url) > MAX_HEADER_BYTES) throw new Error('request header too large');
    // CONNECT is for forward proxies (nginx answers 400 too).
    if (HTTPParser.methods[info.method] === 'CONNECT') throw new Error('CONNECT is not served');
    const scan = scanHead(info.headers);
    refuseFraming(info, scan);
    const ex = new Exchange(this, info, scan);
    this.queue.push(ex);
    this.parsing = ex;
    // An upgrade starts once the parser has handed over the bytes after its head (read()).
    if (this.queue.length === 1 && !ex.upgrade) ex.start();
    return 0;
  }

  /** Reads on while at most one exchange is open and its body has somewhere to go. */
  sync(): void {
    if (this.closed || this.upgraded) return;
    const ex = this.queue[0];
    const read = !this.bad && !this.closing && (!ex || (this.queue.length === 1 && ex.takesBody()));
    if (read === !this.paused) return;
    this.paused = !read;
    if (read) this.socket.resume();
    else this.socket.pause();
  }

  /** Moves on after the first exchange is done: the next one, or the 400 for bad input, or the end. */
  advance(): void {
    // Iterative: the next exchange may finish at once (a 404 for a bodiless request) and pipelines can be long.
    if (this.advancing) return;
    this.advancing = true;
    try {
      while (!this.closed && !this.closing) {
        const ex = this.queue[0];
        if (ex && !ex.done) { if (!ex.started) ex.start(); if (!ex.done) break; continue; }
        if (ex) {
          this.queue.shift();
          if (!ex.clientKeepAlive) { this.end(); break; }
          continue;
        }
        if (this.bad) { this.core.count(this.bad.status); this.end(`HTTP/1.1 ${this.bad.status} ${this.bad.title}\r\nConnection: close\r\n\r\n`); }
        break;
      }
    } finally {
      this.advancing = false;
    }
    this.sync();
  }

  /** Ends the connection once what was written is sent. */
  end(last?: string): void {
    if (this.closing || this.closed) return;
    this.closing = true;
    if (last) this.socket.end(last);
    else this.socket.end();
    this.socket.once('finish', () => this.socket.destroy());
  }

  /** The headers timeout: 408 and close. */
  headersTimedOut(): void {
    if (this.queue.length) return; // reading waits for the exchanges in flight, not for the client
    this.core.count(408);
    this.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
  }

  private onEnd(): void {
    if (this.upgraded) return;
    // The client closed its side: what it asked is abandoned, the upstream requests too (as node:http's server
    // without httpAllowHalfOpen, and nginx without proxy_ignore_client_abort).
    if (this.queue.length || this.parsing || this.headStart) this.socket.destroy();
    else this.end();
  }

  private onClose(): void {
    this.closed = true;
    this.gone(this);
    for (const ex of this.queue) ex.abort();
    this.queue.length = 0;
  }
}

/** A request head refused before it is routed, with the status nginx answers it with. */
class Refused extends Error {
  constructor(readonly status: number, readonly title: string, message: string) { super(message); }
}

/**
 * nginx's rules for a request's framing, which keep a request from meaning one thing here and another upstream (request
 * smuggling): Transfer-Encoding only as one `chunked` (any other coding: 501), never beside Content-Length, nor twice,
 * nor from an HTTP/1.0 client (400).
 */
function refuseFraming(info: RequestInfo, scan: HeadScan): void {
  const te = scan.transferEncoding;
  if (te === undefined) return;
  if (scan.transferEncodings > 1) throw new Refused(400, 'Bad Request', 'duplicate Transfer-Encoding header');
  if (info.versionMajor === 1 && info.versionMinor === 0) throw new Refused(400, 'Bad Request', 'Transfer-Encoding from an HTTP/1.0 client');
  if (te !== 'chunked') throw new Refused(501, 'Not Implemented', `unknown Transfer-Encoding "${te}"`);
  if (scan.hasLength) throw new Refused(400, 'Bad Request', 'Content-Length and Transfer-Encoding at the same time');
}

/** One request and its response: routed, sent to an endpoint (the next on failure), the response streamed back. */
class Exchange implements UpstreamUser {
  readonly method: string;
  readonly url: string;
  readonly http10: boolean;
  readonly upgrade: boolean;
  /** The client wants the connection kept (HTTP/1.1 without `close`, HTTP/1.0 with `keep-alive`). */
  readonly keepAlive: boolean;
  /** Whether the connection stays open after this response (false when its body is delimited by the close). */
  clientKeepAlive: boolean;
  tunnelHead: Buffer | undefined;
  started = false;
  done = false;
  private readonly raw: string[];
  private readonly scan: HeadScan;
  private requestEnded = false;
  private responseDone = false;
  /** Body bytes read before an upstream connection could take them. */
  private pending: Buffer[] | undefined;
  private bodyBytes = 0;
  /** The request body is read and dropped (a local answer, or the upstream answered before it was sent). */
  private discard = false;
  private up: UpstreamConnection | undefined;
  private upstreams: Upstream[] = [];
  private attempt = 0;
  private connected = false;
  private cancelConnect: (() => void) | undefined;
  private upstreamBlocked = false;
  private informational = false;
  private responseStarted = false;
  private toClient: 'none' | 'length' | 'chunked' | 'close' = 'none';
  private upKeepAlive = false;
  private corked = false;
  private tunnel: net.Socket | undefined;

  constructor(private readonly conn: ClientConnection, info: RequestInfo, scan: HeadScan) {
    this.method = HTTPParser.methods[info.method] ?? 'GET';
    this.url = info.url;
    this.http10 = info.versionMajor === 1 && info.versionMinor === 0;
    this.upgrade = info.upgrade;
    this.keepAlive = info.shouldKeepAlive;
    this.clientKeepAlive = info.shouldKeepAlive;
    this.raw = info.headers;
    this.scan = scan;
  }

  /** Whether reading the client may go on: the body has an open, unblocked upstream (or is dropped). */
  takesBody(): boolean {
    if (this.requestEnded || this.discard) return true;
    return this.up !== undefined && !this.upstreamBlocked;
  }

  start(): void {
    this.started = true;
    const q = this.url.indexOf('?');
    const route = this.conn.core.route(this.scan.host, q < 0 ? this.url : this.url.slice(0, q));
    if ('status' in route) {
      if (this.upgrade) this.failTunnel(route.status, route.title);
      else this.reply(route.status, route.title, route.detail);
      return;
    }
    this.upstreams = route.upstreams;
    if (this.upgrade) this.openTunnel(0);
    else this.connect(false);
  }

  /** Takes a pooled connection to the current endpoint, else opens one (`fresh`: always a new one). */
  private connect(fresh: boolean): void {
    const core = this.conn.core;
    const u = this.upstreams[this.attempt]!;
    this.connected = false;
    const pooled = fresh ? undefined : core.pool.take(u.ip, u.port);
    if (pooled) { this.attach(pooled); return; }
    this.cancelConnect = core.pool.connect(u.ip, u.port, core.connectTimeoutMs, core.readTimeoutMs, (err, c) => {
      this.cancelConnect = undefined;
      if (err) this.onUpstreamError(err);
      else this.attach(c!);
    });
  }

  /** Sends the head and the body read so far, in one write. */
  private attach(c: UpstreamConnection): void {
    this.up = c;
    this.connected = true;
    c.user = this;
    c.setTimeout(this.conn.core.readTimeoutMs);
    const s = c.socket;
    const head = this.requestHead();
    if (!this.pending) s.write(this.requestEnded && this.scan.chunked ? head + LAST_CHUNK : head);
    else {
      s.cork();
      s.write(head);
      for (const b of this.pending) this.writeBody(s, b);
      if (this.requestEnded && this.scan.chunked) s.write(LAST_CHUNK);
      s.uncork();
      this.pending = undefined;
    }
    this.upstreamBlocked = s.writableNeedDrain;
    this.conn.sync();
  }

  private requestHead(keepUpgrade = false): string {
    const conn = this.conn;
    return `${this.method} ${this.url} HTTP/1.1\r\n${forwardLines(this.raw, REQUEST_SKIP, this.scan, keepUpgrade)}${this.scan.chunked ? 'transfer-encoding: chunked\r\n' : ''}`
      + `x-real-ip: ${conn.remoteAddress}\r\nx-forwarded-for: ${conn.remoteAddress}\r\nx-forwarded-host: ${this.scan.host ?? ''}\r\n`
      + `x-forwarded-port: ${conn.localPort}\r\nx-forwarded-proto: ${conn.scheme}\r\n${keepUpgrade ? 'connection: upgrade\r\n' : ''}\r\n`;
  }

  /** Writes one piece of the request body, chunked again when the client's was. */
  private writeBody(s: net.Socket, b: Buffer): boolean {
    if (!this.scan.chunked) return s.write(b);
    s.write(chunkHead(b.length));
    s.write(b);
    return s.write(CRLF);
  }

  onRequestBody(b: Buffer): void {
    this.bodyBytes += b.length;
    if (this.discard) return;
    const up = this.up;
    if (!up) { (this.pending ??= []).push(b); return; }
    const s = up.socket;
    const corked = this.scan.chunked;
    if (corked) s.cork();
    if (!this.writeBody(s, b)) this.upstreamBlocked = true;
    if (corked) s.uncork();
  }

  onRequestEnd(): void {
    this.requestEnded = true;
    if (this.up && this.scan.chunked && !this.discard) this.up.socket.write(LAST_CHUNK);
    if (this.responseDone) this.finish();
  }

  onUpstreamDrain(): void {
    this.upstreamBlocked = false;
    this.conn.sync();
  }

  onClientDrain(): void {
    if (this.up) this.up.socket.resume();
    this.tunnel?.resume();
  }

  onResponseHead(info: ResponseInfo): number {
    if (this.responseDone) { this.upKeepAlive = false; return 1; } // a second response: the connection is not reused
    const status = info.statusCode;
    const socket = this.conn.socket;
    if (status < 200 && status !== 101) {
      // 100 Continue and other interim responses go to the client as they come; the final one follows.
      this.informational = true;
      if (!this.http10) this.clientWrite(`${statusLine(status, info.statusMessage)}${forwardLines(info.headers, HOP, scanHead(info.headers))}\r\n`);
      return 0;
    }
    this.informational = false;
    this.responseStarted = true;
    this.conn.core.count(status);
    const scan = scanHead(info.headers);
    const bodiless = this.method === 'HEAD' || status === 204 || status === 304;
    if (bodiless) this.toClient = 'none';
    else if (scan.hasLength && !scan.chunked) this.toClient = 'length';
    else this.toClient = this.http10 ? 'close' : 'chunked';
    this.upKeepAlive = info.shouldKeepAlive || (bodiless && info.versionMinor >= 1 && !scan.named?.has('close'));
    this.clientKeepAlive = this.keepAlive && this.toClient !== 'close';
    let head = statusLine(status, info.statusMessage) + forwardLines(info.headers, HOP, scan);
    if (this.toClient === 'chunked') head += 'transfer-encoding: chunked\r\n';
    if (!scan.hasDate) head += `date: ${httpDate()}\r\n`;
    head += this.clientKeepAlive ? KEEP_ALIVE : 'connection: close\r\n';
    // Corked until the end of this read: the head and the body that came with it leave in one write.
    if (!this.corked) { this.corked = true; socket.cork(); }
    socket.write(`${head}\r\n`);
    // A HEAD response has no body whatever its headers say (as Node's parser is told).
    return this.method === 'HEAD' ? 1 : 0;
  }

  onResponseBody(b: Buffer): void {
    if (this.informational || this.responseDone) return;
    const socket = this.conn.socket;
    let ok: boolean;
    if (this.toClient === 'chunked') {
      if (!this.corked) { this.corked = true; socket.cork(); }
      socket.write(chunkHead(b.length));
      socket.write(b);
      ok = socket.write(CRLF);
    } else ok = socket.write(b);
    if (!ok && this.up) this.up.socket.pause();
  }

  onResponseComplete(): void {
    if (this.informational) { this.informational = false; return; }
    if (this.responseDone) return;
    if (this.toClient === 'chunked') this.clientWrite(LAST_CHUNK);
    this.responseDone = true;
  }

  /** After each read from the upstream: the connection back to the pool once the response is complete, the writes out. */
  onResponseRead(): void {
    if (this.responseDone && this.up) {
      const c = this.up;
      this.up = undefined;
      if (this.upKeepAlive && this.requestEnded) this.conn.core.pool.release(c);
      else c.destroy();
      // The upstream answered before the whole body was sent: the rest is read and dropped.
      if (!this.requestEnded) this.discard = true;
    }
    if (this.corked) { this.corked = false; this.conn.socket.uncork(); }
    if (this.responseDone && this.requestEnded) this.finish();
    else if (this.responseDone) this.conn.sync();
  }

  onUpstreamError(err: NodeJS.ErrnoException): void {
    const u = this.upstreams[this.attempt]!;
    const reused = this.up?.reused ?? false;
    this.up = undefined;
    this.upstreamBlocked = false;
    if (this.conn.closed || this.done) return;
    if (this.corked) { this.corked = false; this.conn.socket.uncork(); }
    // Failed after a complete response (bytes after it, a close): the exchange is done with it anyway.
    if (this.responseDone) {
      if (this.requestEnded) this.finish();
      else { this.discard = true; this.conn.sync(); }
      return;
    }
    // Part of the response is with the client: all that can be done is to cut the connection.
    if (this.responseStarted) { this.conn.socket.destroy(); return; }
    const idempotent = RETRYABLE.has(this.method) && this.bodyBytes === 0;
    const log = this.conn.core.log;
    // A pooled connection the endpoint closed at the moment it was reused: the same endpoint on a new one.
    if (reused && idempotent && err.code !== 'EREADTIMEOUT') {
      log.debug({ endpoint: `${u.ip}:${u.port}`, err: err.message }, 'reused upstream connection failed, retrying on a new one');
      this.connect(true);
      return;
    }
    const retry = this.attempt + 1 < this.upstreams.length && (!this.connected || idempotent);
    log.debug({ endpoint: `${u.ip}:${u.port}`, err: err.message, retry }, 'upstream failed');
    if (retry) { this.attempt++; this.connect(false); return; }
    if (err.code === 'EREADTIMEOUT' || err.code === 'ETIMEDOUT') this.reply(504, 'Gateway Time-out', err.message);
    else this.reply(502, 'Bad Gateway', `${u.ip}:${u.port}: ${err.message}`);
  }

  /** Answers from the ingress itself (an error page, as nginx's). */
  private reply(status: number, title: string, detail: string): void {
    this.conn.core.count(status);
    this.discard = true;
    this.pending = undefined;
    const body = page(status, title, detail);
    const head = `${statusLine(status, title)}content-type: text/html\r\ncache-control: no-store\r\ncontent-length: ${Buffer.byteLength(body)}\r\n`
      + `date: ${httpDate()}\r\n${this.keepAlive ? KEEP_ALIVE : 'connection: close\r\n'}\r\n`;
    this.clientWrite(this.method === 'HEAD' ? head : head + body);
    this.responseDone = true;
    if (this.requestEnded) this.finish();
    else this.conn.sync();
  }

  private clientWrite(data: string): void {
    if (!this.conn.closed) this.conn.socket.write(data);
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.conn.advance();
  }

  /** The client went away: the upstream connection is closed, not pooled (its response would be unread). */
  abort(): void {
    this.done = true;
    this.cancelConnect?.();
    this.cancelConnect = undefined;
    this.up?.destroy();
    this.up = undefined;
    this.tunnel?.destroy();
  }

  /** Upgrades (WebSocket …): a new connection, the head written, then raw bytes both ways. */
  private openTunnel(i: number): void {
    const core = this.conn.core;
    const client = this.conn.socket;
    const u = this.upstreams[i]!;
    const up = net.connect({ host: u.ip, port: u.port, timeout: core.connectTimeoutMs, noDelay: true });
    this.tunnel = up;
    up.once('timeout', () => up.destroy(new Error('connect timeout')));
    up.once('connect', () => {
      up.setTimeout(0);
      up.write(this.requestHead(true));
      if (this.tunnelHead?.length) up.write(this.tunnelHead);
      core.count(101);
      // Either side ending ends the tunnel (the client socket allows half-open connections; a tunnel does not).
      client.pipe(up, { end: false });
      up.pipe(client, { end: false });
      client.once('end', () => { up.end(); client.end(); });
      up.once('end', () => { client.end(); up.end(); });
      up.on('error', () => client.destroy());
      up.on('close', () => client.destroy());
      client.resume();
    });
    up.once('error', () => {
      if (up.readyState === 'open' || up.bytesWritten > 0) return;
      if (this.conn.closed) return;
      if (i + 1 < this.upstreams.length) this.openTunnel(i + 1);
      else this.failTunnel(502, 'Bad Gateway');
    });
  }

  private failTunnel(status: number, title: string): void {
    this.conn.core.count(status);
    this.conn.end(`HTTP/1.1 ${status} ${title}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }
}
