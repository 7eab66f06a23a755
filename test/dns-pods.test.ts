import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerRuntime } from '@k8ts/kubelet';
// @ts-expect-error plain JS modules shared with scripts/
import { ensureDockerEngine, ensureImages, networkGateway, socketPath } from '../scripts/lib/docker.mjs';
// @ts-expect-error plain JS modules shared with scripts/
import { freePort, startDns } from '../scripts/lib/processes.mjs';
import { call, eventually, startTestApiserver, type TestApiserver } from './harness.js';

// Pods in real containers resolve cluster names through k8ts-dns. The test makes its own Docker network, so that
// the DNS server can listen on port 53 of that network's gateway (what pods reach) without touching docker0's;
// pods talk only to that address, and the DNS server never forwards.

const ROOT = path.resolve(import.meta.dirname, '..');
const KUBELET = path.join(ROOT, 'packages/kubelet/dist/main.js');
const DNS = path.join(ROOT, 'packages/dns/dist/main.js');
const NODE = `kdns-${process.pid}`;
const NODE_IP = '127.0.1.78';
const NETWORK = `k8ts-dns-test-${process.pid}`;
const NS = '/api/v1/namespaces/default';
const root = process.getuid?.() === 0;

let s: TestApiserver;
let dir = '';
let socket = '';
let kubelet: ChildProcess | undefined;
let dns: { stop(): Promise<void> } | undefined;
let runtime: DockerRuntime;
let gateway = '';
const api = (method: string, p: string, body?: unknown) => call(s.url, method, p, body);

/** One Engine API call on the unix socket (the network is the test's own). */
function docker(method: string, apiPath: string, body?: unknown): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request({ socketPath: socketPath(socket), method, path: `/v1.41${apiPath}`, headers: { Host: 'docker', ...(data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => { const text = Buffer.concat(chunks).toString(); resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }); });
    });
    req.on('error', reject);
    req.end(data);
  });
}

const logs = async (name: string) => (await fetch(`${s.url}${NS}/pods/${name}/log`)).text();

describe.skipIf(!existsSync(KUBELET) || !existsSync(DNS) || !root)('cluster DNS from real pods', { timeout: 240_000 }, () => {
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'k8ts-dns-pods-'));
    socket = (await ensureDockerEngine({})).socket;
    await ensureImages(socket);
    runtime = new DockerRuntime({ socket, nodeName: NODE });
    const created = await docker('POST', '/networks/create', { Name: NETWORK, Driver: 'bridge', CheckDuplicate: true });
    if (created.status !== 201) throw new Error(`cannot create network ${NETWORK}: ${JSON.stringify(created.body)}`);
    gateway = await networkGateway(socket, NETWORK);
    s = await startTestApiserver();
    dns = await startDns({ apiserverUrl: s.url, dnsAddress: gateway, dnsPort: 53, extraArgs: ['--upstream-nameservers', 'none'] });
    const port = await freePort(NODE_IP);
    kubelet = spawn(process.execPath, [KUBELET, '--apiserver', s.url, '--node-name', NODE, '--node-ip', NODE_IP, '--port', String(port),
      '--docker-socket', socket, '--root-dir', path.join(dir, 'kubelet'), '--pod-network', NETWORK, '--cluster-dns', gateway, '--log-level', 'warn'],
    { stdio: ['ignore', 'ignore', 'inherit'] });
    await eventually(async () => (await api('GET', `/api/v1/nodes/${NODE}`)).body?.status?.conditions?.some((x: any) => x.type === 'Ready' && x.status === 'True'), 'node Ready', 60_000);
  }, 600_000);

  afterAll(async () => {
    if (kubelet && kubelet.exitCode === null) {
      const exited = new Promise((r) => kubelet!.once('exit', r));
      kubelet.kill('SIGTERM');
      await exited;
    }
    for (const ctr of await runtime?.listContainers().catch(() => []) ?? []) await runtime.removeContainer(ctr.id);
    await dns?.stop();
    if (socket) await docker('DELETE', `/networks/${NETWORK}`).catch(() => undefined);
    await s?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('resolves web, its FQDN and a headless endpoint by busybox nslookup, with hostname -f and the service variables', async () => {
    const web = await api('POST', `${NS}/services`, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80 }] } });
    expect(web.status).toBe(201);
    const ip = web.body.spec.clusterIP;
    await api('POST', `${NS}/services`, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db' }, spec: { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] } });
    await api('POST', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'db-1', labels: { 'kubernetes.io/service-name': 'db' } },
      addressType: 'IPv4', endpoints: [{ addresses: ['10.244.9.9'], hostname: 'db-0', conditions: { ready: true } }], ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
    });
    const script = [
      'echo "== resolv"; cat /etc/resolv.conf',
      'echo "== short"; nslookup web', 'echo "== fqdn"; nslookup web.default.svc.cluster.local',
      'echo "== headless"; nslookup db-0.db.default.svc.cluster.local',
      'echo "== nx"; nslookup nope.default.svc.cluster.local',
      'echo "== hostname"; hostname -f', 'echo "== env"; env | grep ^WEB_ | sort', 'echo "== done"', 'sleep 3600',
    ].join('; ');
    const created = await api('POST', `${NS}/pods`, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'client' },
      spec: { nodeName: NODE, hostname: 'client-0', subdomain: 'db', terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'k8ts/busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', script] }] },
    });
    expect(created.status).toBe(201);
    const out = await eventually(async () => { const l = await logs('client'); return l.includes('== done') && l; }, 'the client pod\'s output', 120_000);
    const section = (name: string) => out.split(`== ${name}\n`)[1]?.split('\n== ')[0] ?? '';
    expect(section('resolv')).toContain(`nameserver ${gateway}`);
    expect(section('resolv')).toContain('search default.svc.cluster.local svc.cluster.local cluster.local');
    expect(section('resolv')).toContain('options ndots:5');
    expect(section('fqdn')).toContain(ip);
    expect(section('short'), out).toContain(ip);
    expect(section('headless')).toContain('10.244.9.9');
    expect(section('nx')).toMatch(/NXDOMAIN|can't find/);
    expect(section('hostname').trim()).toBe('client-0.db.default.svc.cluster.local');
    expect(section('env')).toContain(`WEB_SERVICE_HOST=${ip}`);
    expect(section('env')).toContain(`WEB_PORT_80_TCP=tcp://${ip}:80`);
  });
});
