import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, SharedInformerFactory } from '@k8ts/api';
import { CertificateStore, fakeCertificate, IngressController, IngressProxy, listenIngress, type IngressListeners } from '@k8ts/ingress';
import { call, eventually, startTestApiserver, testKubectl, type TestApiserver } from './harness.js';

// The ingress controller against a real apiserver and etcd: class selection, status, routing from EndpointSlices
// as they change. Backends are HTTP servers of this test on 127.0.0.7x; the controller listens on 127.0.0.1.
const NS = '/api/v1/namespaces/default';
let api: TestApiserver;
let client: ApiClient;
let listeners: IngressListeners;
let running: Promise<void>;
const ac = new AbortController();
const backends: http.Server[] = [];
let port = 0;
let ingressPort = 0;

async function backend(ip: string): Promise<void> {
  const server = http.createServer((req, res) => res.end(`${ip}\n`));
  await new Promise<void>((r) => server.listen(port, ip, () => r()));
  port = (server.address() as AddressInfo).port;
  backends.push(server);
}

function get(host: string, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: ingressPort, path, headers: { host }, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim() }));
    }).on('error', reject);
  });
}

const slice = (svc: string, ips: string[], ready = true) => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
  metadata: { name: `${svc}-1`, labels: { 'kubernetes.io/service-name': svc } },
  ports: [{ name: 'http', port, protocol: 'TCP' }], endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready } })),
});

beforeAll(async () => {
  api = await startTestApiserver();
  client = new ApiClient({ server: api.url });
  for (const ip of ['127.0.0.71', '127.0.0.72']) await backend(ip);
  const proxy = new IngressProxy();
  const certs = new CertificateStore(await fakeCertificate());
  listeners = await listenIngress({ proxy, certs, addresses: ['127.0.0.1'], httpPort: 0, httpsPort: 0 });
  ingressPort = Number(listeners.http[0]!.split(':')[1]);
  const controller = new IngressController({
    client, informers: new SharedInformerFactory({ client }), proxy, certs, className: 'k8ts', createClass: true, publishAddresses: ['127.0.1.1', '127.0.1.2'],
  });
  running = controller.run(ac.signal);
});

afterAll(async () => {
  ac.abort();
  await running;
  await listeners?.close();
  await Promise.all(backends.map((s) => new Promise((r) => s.close(r))));
  await client?.close();
  await api?.stop();
});

describe('k8ts-ingress against the apiserver', () => {
  it('creates its default IngressClass, which class-less Ingresses get on create, writes their status, and follows endpoint changes', async () => {
    await eventually(async () => (await call(api.url, 'GET', '/apis/networking.k8s.io/v1/ingressclasses/k8ts')).status === 200, 'the k8ts IngressClass');
    for (const name of ['web', 'api']) {
      expect((await call(api.url, 'POST', `${NS}/services`, { metadata: { name }, spec: { ports: [{ name: 'http', port: 80, targetPort: port }] } })).status).toBe(201);
    }
    expect((await call(api.url, 'POST', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', slice('web', ['127.0.0.71']))).status).toBe(201);
    const ing = await call(api.url, 'POST', '/apis/networking.k8s.io/v1/namespaces/default/ingresses', {
      metadata: { name: 'site' },
      spec: { rules: [{ host: 'site.example.com', http: { paths: [
        { path: '/api', pathType: 'Prefix', backend: { service: { name: 'api', port: { number: 80 } } } },
        { path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { name: 'http' } } } },
      ] } }] },
    });
    expect(ing.status).toBe(201);
    expect(ing.body.spec.ingressClassName).toBe('k8ts'); // the DefaultIngressClass admission plugin
    await eventually(async () => (await get('site.example.com')).body === '127.0.0.71', 'the web route');
    // api has no endpoints yet: 503; then a slice appears and the route serves.
    expect((await get('site.example.com', '/api/x')).status).toBe(503);
    expect((await call(api.url, 'POST', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', slice('api', ['127.0.0.72']))).status).toBe(201);
    await eventually(async () => (await get('site.example.com', '/api/x')).body === '127.0.0.72', 'the api route once it has an endpoint');
    // An Ingress of another class is not served; the status of ours shows the publish addresses.
    expect((await call(api.url, 'POST', '/apis/networking.k8s.io/v1/namespaces/default/ingresses', {
      metadata: { name: 'other' }, spec: { ingressClassName: 'nginx', rules: [{ host: 'other.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
    })).status).toBe(201);
    const kubectl = testKubectl(api.url);
    await eventually(async () => /site\s+k8ts\s+site\.example\.com\s+127\.0\.1\.1,127\.\.\.\s+80\s/.test(await kubectl('get', 'ingress', 'site')), 'the address in kubectl get ingress');
    expect((await get('other.example.com')).status).toBe(404);
    const other = await call(api.url, 'GET', '/apis/networking.k8s.io/v1/namespaces/default/ingresses/other');
    expect(other.body.status?.loadBalancer?.ingress).toBeUndefined();
    expect(await kubectl('get', 'ingressclass')).toMatch(/k8ts\s+k8ts\.io\/ingress/);

    // The web endpoint turning not ready: 503 from the next rebuild on.
    const cur = await call(api.url, 'GET', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/web-1');
    expect((await call(api.url, 'PUT', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/web-1', { ...slice('web', ['127.0.0.71'], false), metadata: cur.body.metadata })).status).toBe(200);
    await eventually(async () => (await get('site.example.com')).status === 503, 'no ready web endpoint');
  });
});
