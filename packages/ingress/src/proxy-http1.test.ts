import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EndpointSlice, Service } from '@k8ts/api';
import type { Ingress } from 'kubernetes-types/networking/v1.js';
import { resolveBackend } from './endpoints.js';
import { IngressProxy } from './proxy.js';
import { buildRouteTable } from './routes.js';
import { listenIngress, type IngressListeners } from './server.js';
import { CertificateStore, fakeCertificate } from './tls.js';

// HTTP/1.x on the wire through the ingress: framing, HEAD, interim responses, HTTP/1.0, pipelining, backpressure and
// pooled connections. A node:http backend on 127.0.0.51 and a raw TCP one on 127.0.0.52 (for what node:http will not
// send: close-delimited bodies, connections cut on reuse); the ingress on 127.0.0.1.
const HTTP_IP = '127.0.0.51';
const RAW_IP = '127.0.0.52';
let httpPort = 0;
let rawPort = 0;
let ingressPort = 0;
let proxy: IngressProxy;
let listeners: IngressListeners;
let httpBackend: http.Server;
let rawBackend: net.Server;
const seen: http.IncomingHttpHeaders[] = [];
/** Calls to the node:http backend whose response socket closed before the response was done. */
let aborted = 0;
/** Bytes the /download handler got into its socket; whether /upload has started reading. */
let downloaded = 0;
let releaseUpload: (() => void) | undefined;

function httpHandler(req: http.IncomingMessage, res: http.ServerResponse): void {
  seen.push(req.headers);
  const url = req.url ?? '/';
  res.on('close', () => { if (!res.writableFinished) aborted++; });
  if (url === '/echo') { res.writeHead(200, { 'x-te': String(req.headers['transfer-encoding'] ?? '') }); req.pipe(res); return; } // no length: chunked
  if (url === '/204') { res.writeHead(204).end(); return; }
  if (url === '/304') { res.writeHead(304, { etag: '"v1"' }).end(); return; }
  if (url.startsWith('/delay/')) { setTimeout(() => res.end(`${url}\n`), Number(url.slice(7))); return; }
  if (url === '/hold') { res.writeHead(200); res.write('first\n'); return; }
  if (url === '/download') {
    const piece = Buffer.alloc(64 * 1024, 'd');
    const total = 64 * 1024 * 1024;
    res.writeHead(200, { 'content-length': String(total) });
    const pump = () => {
      while (downloaded < total) {
        downloaded += piece.length;
        if (!res.write(piece)) { res.once('drain', pump); return; }
      }
      res.end();
    };
    pump();
    return;
  }
  if (url === '/upload') {
    // Reads nothing until released: the client's writes must stall instead of filling the ingress' memory.
    releaseUpload = () => {
      let n = 0;
      req.on('data', (d: Buffer) => { n += d.length; });
      req.on('end', () => res.end(`got ${n}\n`));
    };
    return;
  }
  req.resume();
  const body = `${req.method} ${url}\n`;
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(body.length) }).end(body);
}

/**
 * The raw backend: `/close-delimited` answers without length or chunks and ends the connection; `/once` answers the
 * first request of a connection and cuts the connection on the next (a keep-alive connection the backend dropped).
 */
function rawHandler(s: net.Socket): void {
  let buf = '';
  let count = 0;
  s.on('error', () => s.destroy());
  s.on('data', (d) => {
    buf += d.toString('latin1');
    let end: number;
    while ((end = buf.indexOf('\r\n\r\n')) >= 0) {
      const head = buf.slice(0, end);
      buf = buf.slice(end + 4);
      count++;
      const url = head.split(' ')[1];
      if (url === '/close-delimited') {
        s.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhello, ');
        setTimeout(() => s.end('world\n'), 20);
      } else if (url === '/once') {
        if (count > 1) { s.destroy(); return; }
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nonce\n');
      } else if (url === '/head') {
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nContent-Type: text/plain\r\n\r\n');
      } else if (url === '/continue') {
        s.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n');
      }
    }
  });
}

const svc = (name: string, port: number): Service => ({ metadata: { name, namespace: 'default' }, spec: { ports: [{ name: 'http', port: 80, targetPort: port }] } });
const slice = (service: string, ip: string, port: number): EndpointSlice => ({
  metadata: { name: `${service}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4', ports: [{ name: 'http', port, protocol: 'TCP' }], endpoints: [{ addresses: [ip], conditions: { ready: true } }],
});
const rule = (host: string, service: string) => ({ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: service, port: { name: 'http' } } } }] } });

beforeAll(async () => {
  httpBackend = http.createServer(httpHandler);
  await new Promise<void>((r) => httpBackend.listen(0, HTTP_IP, () => r()));
  httpPort = (httpBackend.address() as AddressInfo).port;
  rawBackend = net.createServer(rawHandler);
  await new Promise<void>((r) => rawBackend.listen(0, RAW_IP, () => r()));
  rawPort = (rawBackend.address() as AddressInfo).port;
  proxy = new IngressProxy({ readTimeoutMs: 2000, connectTimeoutMs: 1000 });
  const ing: Ingress = { metadata: { name: 'wire', namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { ingressClassName: 'k8ts', rules: [rule('web', 'web'), rule('raw', 'raw')] } };
  const services = [svc('web', httpPort), svc('raw', rawPort)];
  const slices = [slice('web', HTTP_IP, httpPort), slice('raw', RAW_IP, rawPort)];
  proxy.setConfig({
    table: buildRouteTable([ing], { className: 'k8ts', isDefault: true }),
    resolve: (b) => resolveBackend(b, services.find((s) => s.metadata?.name === b.service), slices.filter((s) => s.metadata?.labels?.['kubernetes.io/service-name'] === b.service)),
  });
  listeners = await listenIngress({ proxy, certs: new CertificateStore(await fakeCertificate()), addresses: ['127.0.0.1'], httpPort: 0, httpsPort: 0 });
  ingressPort = Number(listeners.http[0]!.split(':')[1]);
});

afterAll(async () => {
  await listeners?.close();
  proxy?.close();
  httpBackend?.closeAllConnections();
  await new Promise((r) => httpBackend?.close(r));
  await new Promise((r) => rawBackend?.close(r));
});

async function eventually(ok: () => boolean, ms = 1000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A raw connection to the ingress: writes, then reads until `done(text)` says enough (or the ingress closes). */
function raw(write: string | Buffer, done: (text: string) => boolean = () => false): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(ingressPort, '127.0.0.1', () => s.write(write));
    let text = '';
    s.on('data', (d) => { text += d.toString('latin1'); if (done(text)) { s.destroy(); resolve({ text, closed: false }); } });
    s.on('end', () => resolve({ text, closed: true }));
    s.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'ECONNRESET') resolve({ text, closed: true }); else reject(err); });
  });
}

/** One request over an agent (keep-alive when given one): status, headers and body. */
function request(opts: http.RequestOptions & { body?: Buffer | string[] }): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: ingressPort, agent: false, ...opts }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    if (Array.isArray(opts.body)) { for (const piece of opts.body) req.write(piece); req.end(); } else req.end(opts.body);
  });
}

describe('IngressProxy on the wire', () => {
  it('re-chunks chunked bodies both ways', async () => {
    const r = await request({ method: 'POST', path: '/echo', headers: { host: 'web' }, body: ['hello ', 'chunked ', 'world'] });
    expect(r).toMatchObject({ status: 200, body: 'hello chunked world' });
    expect(r.headers['transfer-encoding']).toBe('chunked');
    expect(r.headers['x-te']).toBe('chunked'); // what the backend got
    // Content-Length is kept as sent.
    const sized = await request({ method: 'POST', path: '/echo', headers: { host: 'web', 'content-length': '5' }, body: Buffer.from('sized') });
    expect(sized.body).toBe('sized');
    expect(seen.at(-1)!['content-length']).toBe('5');
    const mixedCase = await raw('POST /echo HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: Chunked\r\nConnection: close\r\n\r\n2\r\nok\r\n0\r\n\r\n');
    expect(mixedCase.text).toMatch(/^HTTP\/1\.1 200 [^]*\r\n\r\n2\r\nok\r\n0\r\n\r\n$/);
  });

  it('refuses framing that could mean one request here and another upstream, as nginx does', async () => {
    const before = seen.length;
    const status = async (head: string) => (await raw(`${head}\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: web\r\n\r\n`)).text.split('\r\n')[0];
    expect(await status('POST /echo HTTP/1.1\r\nHost: web\r\nContent-Length: 3\r\nTransfer-Encoding: chunked')).toBe('HTTP/1.1 400 Bad Request');
    expect(await status('POST /echo HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: gzip, chunked')).toBe('HTTP/1.1 501 Not Implemented');
    expect(await status('POST /echo HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: identity')).toBe('HTTP/1.1 501 Not Implemented');
    expect(await status('POST /echo HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked')).toBe('HTTP/1.1 400 Bad Request');
    expect(await status('POST /echo HTTP/1.0\r\nHost: web\r\nTransfer-Encoding: chunked')).toBe('HTTP/1.1 400 Bad Request');
    // Nothing reached a backend, the request after them neither.
    expect(seen.length).toBe(before);
  });

  it('answers HEAD without waiting for a body, and 204/304 without one, on a connection that stays usable', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const head = await request({ method: 'HEAD', path: '/head', headers: { host: 'raw' }, agent });
    expect([head.status, head.headers['content-length'], head.body]).toEqual([200, '1234', '']);
    const noContent = await request({ path: '/204', headers: { host: 'web' }, agent });
    const notModified = await request({ path: '/304', headers: { host: 'web' }, agent });
    expect([noContent.status, notModified.status, notModified.headers.etag]).toEqual([204, 304, '"v1"']);
    const after = await request({ path: '/after', headers: { host: 'web' }, agent });
    expect(after.body).toBe('GET /after\n');
    agent.destroy();
    // On one raw connection: every response is exactly framed, so the last one is read whole.
    const r = await raw('HEAD /head HTTP/1.1\r\nHost: raw\r\n\r\nGET /204 HTTP/1.1\r\nHost: web\r\n\r\nGET /x HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n');
    expect(r.text.match(/^HTTP\/1\.1 \d+/gm)).toEqual(['HTTP/1.1 200', 'HTTP/1.1 204', 'HTTP/1.1 200']);
    expect(r.text.endsWith('GET /x\n')).toBe(true);
  });

  it('passes 100 Continue on and then the final response', async () => {
    const got = await new Promise<{ continued: boolean; status: number; body: string }>((resolve, reject) => {
      let continued = false;
      const req = http.request({ host: '127.0.0.1', port: ingressPort, method: 'POST', path: '/echo', agent: false, headers: { host: 'web', expect: '100-continue', 'content-length': '4' } }, (res) => {
        let body = '';
        res.on('data', (d) => { body += d; });
        res.on('end', () => resolve({ continued, status: res.statusCode ?? 0, body }));
      });
      req.on('continue', () => { continued = true; req.end('body'); });
      req.on('error', reject);
    });
    expect(got).toEqual({ continued: true, status: 200, body: 'body' });
    // An interim response and the final one in one read from the backend.
    const r = await raw('GET /continue HTTP/1.1\r\nHost: raw\r\nConnection: close\r\n\r\n');
    expect(r.text).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nok\n$/);
  });

  it('serves HTTP/1.0 clients: closed after the response unless they asked for keep-alive, close-delimited when no length is known', async () => {
    const plain = await raw('GET /a HTTP/1.0\r\nHost: web\r\n\r\n');
    expect(plain.closed).toBe(true);
    expect(plain.text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(plain.text).toMatch(/\r\nconnection: close\r\n/i);
    expect(plain.text.endsWith('GET /a\n')).toBe(true);
    const kept = await raw('GET /b HTTP/1.0\r\nHost: web\r\nConnection: keep-alive\r\n\r\n', (t) => t.endsWith('GET /b\n'));
    expect(kept.closed).toBe(false);
    expect(kept.text).toMatch(/\r\nconnection: keep-alive\r\n/i);
    // A chunked response cannot go to an HTTP/1.0 client: the body ends with the connection.
    const chunked = await raw('POST /echo HTTP/1.0\r\nHost: web\r\nConnection: keep-alive\r\nContent-Length: 4\r\n\r\nten!');
    expect(chunked.closed).toBe(true);
    expect(chunked.text).not.toMatch(/transfer-encoding/i);
    expect(chunked.text.endsWith('\r\n\r\nten!')).toBe(true);
  });

  it('answers pipelined requests in order', async () => {
    const r = await raw('GET /delay/200 HTTP/1.1\r\nHost: web\r\n\r\nGET /delay/0 HTTP/1.1\r\nHost: web\r\n\r\nGET /nowhere HTTP/1.1\r\nHost: none\r\n\r\nGET /delay/50 HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n');
    expect(r.closed).toBe(true);
    expect(r.text.match(/^HTTP\/1\.1 \d+/gm)).toEqual(['HTTP/1.1 200', 'HTTP/1.1 200', 'HTTP/1.1 404', 'HTTP/1.1 200']);
    expect([...r.text.matchAll(/\/delay\/\d+\n/g)].map((m) => m[0])).toEqual(['/delay/200\n', '/delay/0\n', '/delay/50\n']);
  });

  it('sends a close-delimited upstream body chunked to an HTTP/1.1 client, whose connection stays open', async () => {
    const r = await raw('GET /close-delimited HTTP/1.1\r\nHost: raw\r\n\r\n', (t) => t.endsWith('0\r\n\r\n'));
    expect(r.closed).toBe(false);
    expect(r.text).toMatch(/\r\ntransfer-encoding: chunked\r\n/i);
    expect(r.text).toMatch(/\r\n\r\n7\r\nhello, \r\n6\r\nworld\n\r\n0\r\n\r\n$/);
  });

  it('answers 400 and closes on what is not HTTP, or on a head over 16 KiB', async () => {
    const count400 = () => proxy.requests.get(400) ?? 0;
    const counted = count400();
    const garbage = await raw('HELLO THERE\r\n\r\n');
    expect(garbage).toEqual({ text: 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n', closed: true });
    const big = await raw(`GET / HTTP/1.1\r\nHost: web\r\nX-Big: ${'b'.repeat(20 * 1024)}\r\n\r\n`);
    expect(big).toEqual({ text: 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n', closed: true });
    const connect = await raw('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    expect(connect.text).toBe('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    // A good request before the bad bytes is answered first.
    const mixed = await raw('GET /ok HTTP/1.1\r\nHost: web\r\n\r\n\x01\x02 nonsense\r\n\r\n');
    expect(mixed.closed).toBe(true);
    expect(mixed.text).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*GET \/ok\nHTTP\/1\.1 400 Bad Request\r\n/);
    // Bad chunk framing in a body already going upstream: the connection is cut, the backend's request too.
    const before = aborted;
    const cut = await raw('POST /echo HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nfine\r\nzz\r\n');
    expect(cut.text).toMatch(/^(HTTP\/1\.1 200 OK\r\n[^]*)?$/);
    await eventually(() => aborted === before + 1);
    expect(count400()).toBe(counted + 4);
    expect(proxy.metricsText()).toMatch(new RegExp(`k8ts_ingress_controller_requests\\{status="400"\\} ${counted + 4}\n`));
  });

  it('streams big downloads and uploads with backpressure instead of buffering them', async () => {
    downloaded = 0;
    const download = await new Promise<{ whilePaused: number; total: number }>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: ingressPort, path: '/download', headers: { host: 'web' }, agent: false }, (res) => {
        res.pause();
        setTimeout(() => {
          const whilePaused = downloaded;
          let total = 0;
          res.on('data', (d: Buffer) => { total += d.length; });
          res.on('end', () => resolve({ whilePaused, total }));
          res.resume();
        }, 500);
      }).on('error', reject);
    });
    expect(download.total).toBe(64 * 1024 * 1024);
    expect(download.whilePaused).toBeLessThan(40 * 1024 * 1024); // socket buffers only, not the whole body

    const total = 64 * 1024 * 1024;
    const upload = await new Promise<{ whileBlocked: number; body: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: ingressPort, method: 'POST', path: '/upload', agent: false, headers: { host: 'web', 'content-length': String(total) } }, (res) => {
        let body = '';
        res.on('data', (d) => { body += d; });
        res.on('end', () => resolve({ whileBlocked, body }));
      });
      req.on('error', reject);
      const piece = Buffer.alloc(64 * 1024, 'u');
      let sent = 0;
      let whileBlocked = 0;
      const pump = () => {
        while (sent < total) {
          sent += piece.length;
          if (!req.write(piece)) { req.once('drain', pump); return; }
        }
        req.end();
      };
      pump();
      setTimeout(() => { whileBlocked = sent; releaseUpload!(); }, 500);
    });
    expect(upload.body).toBe(`got ${total}\n`);
    expect(upload.whileBlocked).toBeLessThan(40 * 1024 * 1024);
  });

  it('retries on a new connection when a pooled one was dropped by the backend, and after the backend closed it', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < 3; i++) expect((await request({ path: '/once', headers: { host: 'raw' }, agent })).body).toBe('once\n');
    // node:http's backend closing idle keep-alive connections after its keepAliveTimeout: gone from the pool.
    httpBackend.keepAliveTimeout = 100;
    expect((await request({ path: '/k1', headers: { host: 'web' }, agent })).body).toBe('GET /k1\n');
    // Waits until the backend has closed every idle connection (its side), not for a fixed time.
    const deadline = Date.now() + 10_000;
    while (await new Promise<number>((r) => httpBackend.getConnections((_e, n) => r(n))) > 0) {
      if (Date.now() > deadline) throw new Error('the backend kept its idle connections');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await request({ path: '/k2', headers: { host: 'web' }, agent })).body).toBe('GET /k2\n');
    httpBackend.keepAliveTimeout = 5000;
    agent.destroy();
  });

  it('closes the upstream request when the client goes away mid-response', async () => {
    const before = aborted;
    await new Promise<void>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: ingressPort, path: '/hold', headers: { host: 'web' }, agent: false }, (res) => {
        res.once('data', () => { res.destroy(); resolve(); });
      }).on('error', reject);
    });
    await eventually(() => aborted === before + 1); // well before the read timeout (2 s)
    expect((await request({ path: '/next', headers: { host: 'web' } })).body).toBe('GET /next\n');
  });
});
