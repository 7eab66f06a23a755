import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JS module shared with scripts/
import { freePort } from '../scripts/lib/processes.mjs';
import { eventually } from './harness.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const built = existsSync(path.join(ROOT, 'packages/kube-proxy/dist/main.js'));
const isRoot = process.getuid?.() === 0;
/** iptables mode only as root and only when no other kube-proxy owns the host's tables (two would fight). */
const iptablesFree = isRoot && (() => {
  try { return !/^:KUBE-SERVICES /m.test(execFileSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' })); } catch { return false; }
})();

/** GET http://host:port/ with a fresh connection; the body, trimmed. */
function get(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: '/', agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve(body.trim()));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout from ${host}:${port}`)));
    req.on('error', reject);
  });
}

const manifest = `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 3
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: httpd
        image: k8ts/busybox:latest
        imagePullPolicy: IfNotPresent
        env: [{ name: POD_NAME, valueFrom: { fieldRef: { fieldPath: metadata.name } } }]
        command: ["sh", "-c", "mkdir -p /www && echo $POD_NAME > /www/index.html && exec httpd -f -p 8080 -h /www"]
        ports: [{ name: http, containerPort: 8080 }]
        readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 }
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  type: NodePort
  selector: { app: web }
  ports: [{ name: http, port: 80, targetPort: http }]
`;

// The local cluster with real containers: a 3-replica httpd Deployment behind a NodePort, reached through kube-proxy
// on 127.0.0.1 and on each node address, pods found by the controller-manager's endpointslice controller.
// Traffic goes only to 127.0.0.0/8 (NodePorts); no ClusterIP is contacted from the host.
describe.skipIf(!built).each([
  { mode: 'userspace', skip: false },
  { mode: 'iptables', skip: !iptablesFree },
])('NodePort through kube-proxy in $mode mode on a 2-node cluster', ({ mode, skip }) => {
  let dir = '';
  let env: NodeJS.ProcessEnv = {};
  let upOutput = '';
  const state = () => path.join(dir, 'state');
  const cluster = (...args: string[]) => run(path.join(ROOT, 'scripts/cluster'), [...args, '--state-dir', state()], { timeout: 300_000 });
  const kubectl = async (...args: string[]) => (await run('kubectl', [`--cache-dir=${dir}/kc`, ...args], { env, timeout: 60_000 })).stdout;

  beforeAll(async () => {
    if (skip) return;
    dir = mkdtempSync(path.join(tmpdir(), 'k8ts-proxy-'));
    upOutput = (await cluster('up', '--detach', '--no-build', '--port', '0', '--nodes', '2', '--proxy-mode', mode,
      '--kubelet-port', String(await freePort('127.0.1.1')))).stdout;
    env = { ...process.env, KUBECONFIG: path.join(state(), 'kubeconfig'), HOME: dir };
  }, 600_000);

  afterAll(async () => {
    if (!dir) return;
    await cluster('down').catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it.skipIf(skip)('spreads requests over the ready pods from 127.0.0.1 and each node address, and follows a scale-up', { timeout: 300_000 }, async () => {
    expect(upOutput).toContain(`kube-proxy: ${mode} mode`);
    const file = path.join(dir, 'web.yaml');
    writeFileSync(file, manifest);
    await kubectl('apply', '-f', file);
    const readyIPs = async () => {
      const slices = JSON.parse(await kubectl('get', 'endpointslices', '-l', 'kubernetes.io/service-name=web', '-o', 'json')).items;
      return slices.flatMap((s: any) => (s.endpoints ?? []).filter((e: any) => e.conditions?.ready).map((e: any) => e.addresses[0]));
    };
    await eventually(async () => (await readyIPs()).length === 3, 'three ready endpoints', 120_000);
    const nodePort = Number(await kubectl('get', 'service', 'web', '-o', 'jsonpath={.spec.ports[0].nodePort}'));
    const pods = (await kubectl('get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].metadata.name}')).trim().split(/\s+/).sort();
    expect(pods).toHaveLength(3);

    // The proxy converges within its min sync period: wait until every pod has answered once.
    await eventually(async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 12; i++) seen.add(await get('127.0.0.1', nodePort));
      return pods.every((p) => seen.has(p));
    }, 'all three pods behind 127.0.0.1:<nodePort>', 30_000);

    for (const [host, n] of [['127.0.0.1', 300], ['127.0.1.1', 90], ['127.0.1.2', 90]] as const) {
      const counts: Record<string, number> = {};
      for (let i = 0; i < n; i++) { const who = await get(host, nodePort); counts[who] = (counts[who] ?? 0) + 1; }
      expect(Object.keys(counts).sort(), host).toEqual(pods);
      // Round-robin gives exactly n/3 each; iptables' random choice stays well within half to double that.
      for (const c of Object.values(counts)) expect(c, `${host}: ${JSON.stringify(counts)}`).toBeGreaterThan(n / 6);
    }

    await kubectl('scale', 'deployment', 'web', '--replicas=5');
    await eventually(async () => (await readyIPs()).length === 5, 'five ready endpoints', 120_000);
    const five = (await kubectl('get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].metadata.name}')).trim().split(/\s+/).sort();
    await eventually(async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 30; i++) seen.add(await get('127.0.0.1', nodePort));
      return five.every((p) => seen.has(p));
    }, 'all five pods behind the NodePort', 30_000);
  });
});
