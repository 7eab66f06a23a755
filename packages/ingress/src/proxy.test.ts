import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generate } from 'selfsigned';
import type { EndpointSlice, Service } from '@k8ts/api';
import type { Ingress } from 'kubernetes-types/networking/v1.js';
import { resolveBackend } from './endpoints.js';
import { IngressProxy } from './proxy.js';
import { buildRouteTable } from './routes.js';
import { listenIngress, type IngressListeners } from './server.js';
import { CertificateStore, fakeCertificate } from './tls.js';

// Backends on 127.0.0.41–43 (one port for all), the ingress on 127.0.0.1: traffic stays on loopback.
interface Backend { ip: string; server: http.Server; seen: http.IncomingHttpHeaders[] }
let port = 0;
const backends: Backend[] = [];
let release: (() => void) | undefined;

function handler(ip: string, seen: http.IncomingHttpHeaders[]): http.RequestListener {
  return (req, res) => {
    seen.push(req.headers);
    const url = req.url ?? '/';
    if (url.startsWith('/echo')) { res.writeHead(200, { 'content-type': 'application/octet-stream' }); req.pipe(res); return; }
    if (url.startsWith('/stream')) { res.writeHead(200); res.write('first\n'); release = () => res.end('second\n'); return; }
    if (url.startsWith('/slow')) { setTimeout(() => res.end(`${ip} slow\n`), 300); return; }
    if (url.startsWith('/hang')) return;
    res.writeHead(200, { 'content-type': 'text/plain', 'x-backend': ip }).end(`${ip} ${url}\n`);
  };
}

async function startBackend(ip: string): Promise<Backend> {
  const seen: http.IncomingHttpHeaders[] = [];
  const server = http.createServer(handler(ip, seen));
  server.on('upgrade', (req, socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    socket.on('data', (d) => socket.write(`${ip}:${d}`));
    socket.on('end', () => socket.end());
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((r) => server.listen(port, ip, () => r()));
  port = (server.address() as AddressInfo).port;
  return { ip, server, seen };
}

const svc = (name: string, extra: Partial<NonNullable<Service['spec']>> = {}): Service => ({
  metadata: { name, namespace: 'default' }, spec: { clusterIP: '10.96.0.50', ports: [{ name: 'http', port: 80, targetPort: port }], ...extra },
});
const slice = (service: string, ips: string[], ready = true): EndpointSlice => ({
  metadata: { name: `${service}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4', ports: [{ name: 'http', port, protocol: 'TCP' }],
  endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready } })),
});

function ingress(name: string, rules: NonNullable<Ingress['spec']>['rules'], tlsSpec?: NonNullable<Ingress['spec']>['tls']): Ingress {
  return { metadata: { name, namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { ingressClassName: 'k8ts', rules, ...(tlsSpec ? { tls: tlsSpec } : {}) } };
}
const path = (p: string, service: string, pathType = 'Prefix') => ({ path: p, pathType, backend: { service: { name: service, port: { name: 'http' } } } });

let proxy: IngressProxy;
let certs: CertificateStore;
let listeners: IngressListeners;
let ingressPort = 0;
let ingressTlsPort = 0;

function configure(ingresses: Ingress[], services: Service[], slices: EndpointSlice[]): void {
  const table = buildRouteTable(ingresses, { className: 'k8ts', isDefault: true });
  proxy.setConfig({
    table,
    resolve: (b) => resolveBackend(b, services.find((s) => s.metadata?.name === b.service), slices.filter((s) => s.metadata?.labels?.['kubernetes.io/service-name'] === b.service)),
  });
}

/** One request through the ingress on a fresh connection: status, headers and body. */
function request(opts: { host: string; path: string; method?: string; body?: Buffer }): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: ingressPort, path: opts.path, method: opts.method ?? 'GET', headers: { host: opts.host }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

beforeAll(async () => {
  for (const ip of ['127.0.0.41', '127.0.0.42', '127.0.0.43']) backends.push(await startBackend(ip));
  proxy = new IngressProxy({ readTimeoutMs: 500, connectTimeoutMs: 1000 });
  certs = new CertificateStore(await fakeCertificate());
  listeners = await listenIngress({ proxy, certs, addresses: ['127.0.0.1'], httpPort: 0, httpsPort: 0 });
  ingressPort = Number(listeners.http[0]!.split(':')[1]);
  ingressTlsPort = Number(listeners.https[0]!.split(':')[1]);
});

afterAll(async () => {
  await listeners?.close();
  proxy?.close();
  await Promise.all(backends.map((b) => new Promise<void>((r) => { b.server.closeAllConnections(); b.server.close(() => r()); })));
});

afterEach(() => { for (const b of backends) b.seen.length = 0; });

describe('IngressProxy', () => {
  it('routes by host and path, round-robins over ready endpoints, and sets the X-Forwarded headers', async () => {
    configure([ingress('web', [
      { host: 'app.example.com', http: { paths: [path('/api', 'api'), path('/', 'web')] } },
    ])], [svc('web'), svc('api')], [slice('web', ['127.0.0.41', '127.0.0.42']), slice('api', ['127.0.0.43'])]);
    const who = new Map<string, number>();
    for (let i = 0; i < 10; i++) {
      const r = await request({ host: 'app.example.com', path: '/index.html' });
      expect(r.status).toBe(200);
      const ip = r.body.split(' ')[0]!;
      who.set(ip, (who.get(ip) ?? 0) + 1);
    }
    expect(Object.fromEntries(who)).toEqual({ '127.0.0.41': 5, '127.0.0.42': 5 });
    const api = await request({ host: 'app.example.com', path: '/api/v1?x=1' });
    expect(api.body).toBe('127.0.0.43 /api/v1?x=1\n');
    expect(api.headers['x-backend']).toBe('127.0.0.43');
    const h = backends[2]!.seen.at(-1)!;
    expect([h['x-forwarded-for'], h['x-real-ip'], h['x-forwarded-host'], h['x-forwarded-proto'], h['x-forwarded-port'], h.host])
      .toEqual(['127.0.0.1', '127.0.0.1', 'app.example.com', 'http', String(ingressPort), 'app.example.com']);
  });

  it('answers 404 when no rule matches and 503 when the Service or its ready endpoints are missing', async () => {
    configure([ingress('web', [
      { host: 'app.example.com', http: { paths: [path('/none', 'unready'), path('/gone', 'missing'), path('/', 'web')] } },
    ])], [svc('web'), svc('unready')], [slice('web', ['127.0.0.41']), slice('unready', ['127.0.0.42'], false)]);
    expect((await request({ host: 'other.example.com', path: '/' })).status).toBe(404);
    const unready = await request({ host: 'app.example.com', path: '/none' });
    expect([unready.status, unready.body]).toEqual([503, expect.stringContaining('has no ready endpoint')]);
    expect((await request({ host: 'app.example.com', path: '/gone' })).body).toContain('service "default/missing" not found');
    expect(proxy.metricsText()).toMatch(/k8ts_ingress_controller_requests\{status="503"\} 2/);
  });

  it('tries the next endpoint when one refuses, and answers 502 when all do', async () => {
    configure([ingress('web', [{ http: { paths: [path('/', 'web')] } }])], [svc('web')],
      [slice('web', ['127.0.0.41', '127.0.0.45'])]); // nothing listens on 127.0.0.45
    for (let i = 0; i < 6; i++) expect((await request({ host: 'x', path: '/' })).body).toBe('127.0.0.41 /\n');
    configure([ingress('web', [{ http: { paths: [path('/', 'web')] } }])], [svc('web')], [slice('web', ['127.0.0.45', '127.0.0.46'])]);
    expect((await request({ host: 'x', path: '/' })).status).toBe(502);
  });

  it('answers 504 when the endpoint says nothing for the read timeout', async () => {
    configure([ingress('web', [{ http: { paths: [path('/', 'web')] } }])], [svc('web')], [slice('web', ['127.0.0.41'])]);
    expect((await request({ host: 'x', path: '/hang' })).status).toBe(504);
  });

  it('streams bodies both ways', async () => {
    configure([ingress('web', [{ http: { paths: [path('/', 'web')] } }])], [svc('web')], [slice('web', ['127.0.0.41'])]);
    const big = Buffer.alloc(4 * 1024 * 1024, 'k8ts');
    const echoed = await request({ host: 'x', path: '/echo', method: 'POST', body: big });
    expect([echoed.status, echoed.body.length, echoed.body === big.toString()]).toEqual([200, big.length, true]);
    // The first chunk arrives before the backend ends its response.
    const body = await new Promise<string>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: ingressPort, path: '/stream', headers: { host: 'x' }, agent: false }, (res) => {
        let text = '';
        res.on('data', (d) => { text += d; if (text === 'first\n') release!(); });
        res.on('end', () => resolve(text));
      }).on('error', reject);
    });
    expect(body).toBe('first\nsecond\n');
  });

  it('tunnels a WebSocket upgrade to an endpoint', async () => {
    configure([ingress('web', [{ http: { paths: [path('/ws', 'web')] } }])], [svc('web')], [slice('web', ['127.0.0.42'])]);
    const got = await new Promise<string>((resolve, reject) => {
      const s = net.connect(ingressPort, '127.0.0.1', () => s.write('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'));
      let text = '';
      s.on('data', (d) => {
        text += d;
        if (text.includes('\r\n\r\n') && !text.includes('hello')) s.write('hello');
        if (text.endsWith('127.0.0.42:hello')) { s.destroy(); resolve(text); }
      });
      s.on('error', reject);
    });
    expect(got).toMatch(/^HTTP\/1\.1 101 Switching Protocols/);
    const h = backends[1]!.seen;
    expect(h).toHaveLength(0); // the upgrade went to the upgrade handler, not as a plain request
  });

  it('lets a request in flight finish when the configuration changes under it', async () => {
    configure([ingress('web', [{ http: { paths: [path('/', 'web')] } }])], [svc('web')], [slice('web', ['127.0.0.43'])]);
    const slow = request({ host: 'x', path: '/slow' });
    await new Promise((r) => setTimeout(r, 50));
    configure([], [], []);
    expect((await request({ host: 'x', path: '/slow' })).status).toBe(404);
    expect(await slow).toMatchObject({ status: 200, body: '127.0.0.43 slow\n' });
  });

  it('serves the Secret\'s certificate by SNI and the fake certificate otherwise', async () => {
    const pems = await generate([{ name: 'commonName', value: 'secure.example.com' }], { keySize: 2048, algorithm: 'sha256' } as Parameters<typeof generate>[1]);
    const secret = { metadata: { name: 'secure-tls', namespace: 'default', resourceVersion: '1' }, type: 'kubernetes.io/tls', data: { 'tls.crt': Buffer.from(pems.cert).toString('base64'), 'tls.key': Buffer.from(pems.private).toString('base64') } };
    const ings = [ingress('secure', [{ host: 'secure.example.com', http: { paths: [path('/', 'web')] } }], [{ hosts: ['secure.example.com'], secretName: 'secure-tls' }])];
    configure(ings, [svc('web')], [slice('web', ['127.0.0.41'])]);
    expect(certs.update(buildRouteTable(ings, { className: 'k8ts', isDefault: true }).tls, () => secret)).toEqual([]);
    const handshake = (servername: string) => new Promise<{ cn: string; body: string }>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: ingressTlsPort, servername, rejectUnauthorized: false }, () => {
        const cn = String(s.getPeerCertificate().subject?.CN ?? '');
        s.write(`GET / HTTP/1.1\r\nHost: ${servername}\r\nConnection: close\r\n\r\n`);
        let body = '';
        s.on('data', (d) => { body += d; });
        s.on('end', () => resolve({ cn, body }));
      });
      s.on('error', reject);
    });
    const ok = await handshake('secure.example.com');
    expect(ok.cn).toBe('secure.example.com');
    expect(ok.body).toMatch(/^HTTP\/1\.1 200/);
    expect(ok.body).toContain('127.0.0.41 /');
    expect(backends[0]!.seen.at(-1)!['x-forwarded-proto']).toBe('https');
    expect((await handshake('other.example.com')).cn).toBe('k8ts Ingress Controller Fake Certificate');
  });
});
