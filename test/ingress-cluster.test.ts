import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startLocalCluster } from './harness.js';

// The local cluster with real containers and the real kubectl: two Deployments behind one Ingress, reached through
// the ingress controller that scripts/cluster starts (on free ports here: vitest.config.ts). Traffic goes only to
// 127.0.0.0/8, where the controller listens, and from it to the pods the test created.
const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const built = existsSync(path.join(ROOT, 'packages/ingress/dist/main.js'));

const deployment = (name: string) => `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  replicas: 2
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: httpd
        image: k8ts/busybox:latest
        imagePullPolicy: IfNotPresent
        env: [{ name: POD_NAME, valueFrom: { fieldRef: { fieldPath: metadata.name } } }]
        command: ["sh", "-c", "for d in /www /www/api /www/v2; do mkdir -p $d && echo $POD_NAME > $d/index.html; done && exec httpd -f -p 8080 -h /www"]
        ports: [{ name: http, containerPort: 8080 }]
        readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 }
---
apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  selector: { app: ${name} }
  ports: [{ name: http, port: 80, targetPort: http }]
`;

const ingress = (apiPath: string) => `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: web }
spec:
  tls: [{ hosts: [a.example.com], secretName: a-tls }]
  rules:
  - host: a.example.com
    http:
      paths: [{ path: /, pathType: Prefix, backend: { service: { name: web-a, port: { name: http } } } }]
  - host: b.example.com
    http:
      paths:
      - { path: ${apiPath}, pathType: Prefix, backend: { service: { name: web-b, port: { number: 80 } } } }
      - { path: /, pathType: Prefix, backend: { service: { name: web-a, port: { number: 80 } } } }
`;

describe.skipIf(!built)('Ingress through k8ts-ingress on a 2-node cluster', () => {
  let c: Awaited<ReturnType<typeof startLocalCluster>>;
  let httpPort = 0;
  let httpsPort = 0;
  const kubectl = (...args: string[]) => c.kubectl(...args);
  const apply = async (name: string, text: string) => { await kubectl('apply', '-f', c.file(name, text)); };
  const pods = async (app: string) => (await kubectl('get', 'pods', '-l', `app=${app}`, '--field-selector', 'status.phase=Running', '-o', 'jsonpath={.items[*].metadata.name}')).trim().split(/\s+/).filter(Boolean);
  /** curl as a user would: the name resolved to 127.0.0.1 with --resolve. */
  const curl = async (url: string, ...extra: string[]) => {
    const u = new URL(url);
    const { stdout } = await run('curl', ['-sS', '--max-time', '5', '--resolve', `${u.hostname}:${u.port}:127.0.0.1`, '-w', '\\n%{http_code}', ...extra, url], { timeout: 10_000 });
    const lines = stdout.trimEnd().split('\n');
    return { status: Number(lines.pop()), body: lines.join('\n').trim() };
  };

  beforeAll(async () => {
    c = await startLocalCluster('k8ts-ingress-', { nodes: 2 });
    const m = /ingress: +http:\/\/127\.0\.0\.1:(\d+), https:\/\/127\.0\.0\.1:(\d+)/.exec(c.upOutput);
    if (!m) throw new Error(`no ingress line in the cluster's output:\n${c.upOutput}`);
    [httpPort, httpsPort] = [Number(m[1]), Number(m[2])];
  }, 600_000);

  afterAll(async () => { await c?.down(); }, 120_000);

  it('routes by host and path to the right pods, applies a path change at once, terminates TLS, and loses no request in a rollout', { timeout: 400_000 }, async () => {
    expect((await kubectl('get', 'ingressclass', 'k8ts', '-o', 'jsonpath={.metadata.annotations.ingressclass\\.kubernetes\\.io/is-default-class} {.spec.controller}')).trim()).toBe('true k8ts.io/ingress');
    await apply('a.yaml', deployment('web-a'));
    await apply('b.yaml', deployment('web-b'));
    // A TLS Secret made by openssl, as the docs make one (kubectl create secret tls, client-side, then apply).
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=a.example.com',
      '-addext', 'subjectAltName=DNS:a.example.com', '-keyout', path.join(c.dir, 'tls.key'), '-out', path.join(c.dir, 'tls.crt')]);
    const secret = await kubectl('create', 'secret', 'tls', 'a-tls', `--cert=${path.join(c.dir, 'tls.crt')}`, `--key=${path.join(c.dir, 'tls.key')}`, '--dry-run=client', '-o', 'yaml');
    await apply('secret.yaml', secret);
    await apply('ingress.yaml', ingress('/api'));
    await eventually(async () => (await pods('web-a')).length === 2 && (await pods('web-b')).length === 2, 'both Deployments running', 180_000);
    const [a, b] = [await pods('web-a'), await pods('web-b')];

    // kubectl shows the class, hosts, the controller's address and the TLS port.
    await eventually(async () => /web\s+k8ts\s+a\.example\.com,b\.example\.com\s+127\.0\.1\.1,127\.\.\.\s+80, 443/.test(await kubectl('get', 'ingress', 'web')), 'ADDRESS in kubectl get ingress', 30_000);

    const spread = async (url: string, n: number) => {
      const seen = new Map<string, number>();
      for (let i = 0; i < n; i++) {
        const r = await curl(url);
        expect(r.status, `${url}: ${r.body}`).toBe(200);
        seen.set(r.body, (seen.get(r.body) ?? 0) + 1);
      }
      return seen;
    };
    // Running is not yet ready: wait until both pods of each Deployment are ready endpoints.
    const readyIPs = async (svc: string) => (JSON.parse(await kubectl('get', 'endpointslices', '-l', `kubernetes.io/service-name=${svc}`, '-o', 'json')).items as any[])
      .flatMap((sl) => (sl.endpoints ?? []).filter((e: any) => e.conditions?.ready).map((e: any) => e.addresses[0]));
    await eventually(async () => (await readyIPs('web-a')).length === 2 && (await readyIPs('web-b')).length === 2, 'two ready endpoints each', 60_000);
    await eventually(async () => (await curl(`http://a.example.com:${httpPort}/`)).status === 200, 'the first answer through the ingress', 30_000);
    // Round-robin: ten requests reach both pods.
    expect([...(await spread(`http://a.example.com:${httpPort}/`, 10)).keys()].sort()).toEqual(a.sort());
    expect([...(await spread(`http://b.example.com:${httpPort}/api/`, 10)).keys()].sort()).toEqual(b.sort());
    expect([...(await spread(`http://b.example.com:${httpPort}/`, 6)).keys()].every((p) => a.includes(p))).toBe(true);
    expect((await curl(`http://nobody.example.com:${httpPort}/`)).status).toBe(404);

    // A path change applies within a second or so (the watch, then one rebuild).
    await apply('ingress.yaml', ingress('/v2'));
    const t0 = performance.now();
    await eventually(async () => b.includes((await curl(`http://b.example.com:${httpPort}/v2/`)).body), '/v2 routed to web-b', 10_000);
    console.log(`ingress path change applied after ${Math.round(performance.now() - t0)} ms`);
    expect(a).toContain((await curl(`http://b.example.com:${httpPort}/api/`)).body);

    // TLS with the Secret's certificate, verified by curl against it; another name gets the fake certificate.
    const tlsOk = await curl(`https://a.example.com:${httpsPort}/`, '--cacert', path.join(c.dir, 'tls.crt'));
    expect([tlsOk.status, a.includes(tlsOk.body)]).toEqual([200, true]);
    await expect(curl(`https://b.example.com:${httpsPort}/`, '--cacert', path.join(c.dir, 'tls.crt'))).rejects.toThrow();

    // A rollout of web-a under a steady request loop through the ingress loses no request.
    let stop = false;
    const failures: string[] = [];
    let ok = 0;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
    const loop = (async () => {
      while (!stop) {
        await new Promise<void>((resolve) => {
          http.get({ host: '127.0.0.1', port: httpPort, path: '/', headers: { host: 'a.example.com' }, agent, timeout: 5000 }, (res) => {
            let body = '';
            res.on('data', (d) => { body += d; });
            res.on('end', () => { if (res.statusCode === 200) ok++; else failures.push(`${res.statusCode} ${body.slice(0, 200)}`); resolve(); });
          }).on('error', (err) => { failures.push(err.message); resolve(); });
        });
      }
    })();
    try {
      await kubectl('rollout', 'restart', 'deployment/web-a');
      await kubectl('rollout', 'status', 'deployment/web-a', '--timeout=180s');
      await eventually(async () => { const now = await pods('web-a'); return now.length === 2 && now.every((p) => !a.includes(p)); }, 'the old web-a pods gone', 120_000);
      const before = ok;
      await eventually(() => ok > before + 20, 'requests served by the new pods', 30_000);
    } finally {
      stop = true;
      await loop;
      agent.destroy();
    }
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(50);
    const pids = JSON.parse(readFileSync(path.join(c.dir, 'state', 'pids.json'), 'utf8')) as { components: { name: string; ports?: { port: number } }[] };
    const metrics = await (await fetch(`http://127.0.0.1:${pids.components.find((x) => x.name === 'ingress')!.ports!.port}/metrics`)).text();
    expect(metrics).toMatch(/k8ts_ingress_controller_requests\{status="200"\} \d+/);
  });
});
