import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JS module shared with scripts/
import { freePort } from '../scripts/lib/processes.mjs';
import { eventually } from './harness.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const built = existsSync(path.join(ROOT, 'packages/controller-manager/dist/main.js')) && existsSync(path.join(ROOT, 'packages/kubelet/dist/main.js'));
const NS = 'hpa';

/**
 * `scripts/cluster up --nodes 1` with a 2 s HPA sync period, then an HPA made with the real kubectl scales a
 * CPU-burning Deployment of real containers up to its max and back down after the load stops. The load is a file in
 * a hostPath directory the containers spin on (`while :; do [ -e /load/on ] …`), each capped at 50m by its limit.
 */
describe.skipIf(!built)('HorizontalPodAutoscaler on a local cluster with real containers', { timeout: 240_000 }, () => {
  let dir = '';
  let loadDir = '';
  let env: NodeJS.ProcessEnv = {};
  const state = () => path.join(dir, 'state');
  const cluster = (...args: string[]) => run(path.join(ROOT, 'scripts/cluster'), [...args, '--state-dir', state()], { timeout: 300_000 });
  const kubectl = async (...args: string[]) => (await run('kubectl', [`--cache-dir=${dir}/kc`, '-n', NS, ...args], { env, timeout: 60_000 })).stdout;
  const until = <T>(fn: () => Promise<T>, what: string, ms = 90_000) => eventually(async () => {
    const v = await fn();
    if (!v) await new Promise((r) => setTimeout(r, 500));
    return v;
  }, what, ms);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'k8ts-hpa-'));
    loadDir = path.join(dir, 'load');
    mkdirSync(loadDir);
    await cluster('up', '--detach', '--no-build', '--port', '0', '--nodes', '1', '--kubelet-port', String(await freePort('127.0.1.1')),
      '--horizontal-pod-autoscaler-sync-period', '2s');
    env = { ...process.env, KUBECONFIG: path.join(state(), 'kubeconfig'), HOME: dir };
    await until(async () => /node-1\s+Ready/.test(await kubectl('get', 'nodes')), 'a Ready node', 60_000);
    writeFileSync(path.join(dir, 'ns.yaml'), `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${NS}\n`);
    await kubectl('apply', '-f', path.join(dir, 'ns.yaml'));
  }, 600_000);

  afterAll(async () => {
    if (!dir) return;
    await kubectl('delete', 'namespace', NS, '--ignore-not-found', '--timeout=60s').catch(() => undefined);
    await cluster('down').catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }, 150_000);

  it('scales a CPU-burning Deployment to its max and back to its min when the load stops', async () => {
    writeFileSync(path.join(dir, 'burn.yaml'), `apiVersion: apps/v1
kind: Deployment
metadata: { name: burn }
spec:
  replicas: 1
  selector: { matchLabels: { app: burn } }
  template:
    metadata: { labels: { app: burn } }
    spec:
      terminationGracePeriodSeconds: 0
      volumes: [{ name: load, hostPath: { path: ${JSON.stringify(loadDir)} } }]
      containers:
      - name: main
        image: k8ts/busybox:latest
        imagePullPolicy: IfNotPresent
        command: ["sh", "-c", "while :; do if [ -e /load/on ]; then :; else sleep 1; fi; done"]
        resources: { requests: { cpu: 20m }, limits: { cpu: 50m } }
        volumeMounts: [{ name: load, mountPath: /load }]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: { name: burn }
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: burn }
  minReplicas: 1
  maxReplicas: 3
  metrics: [{ type: Resource, resource: { name: cpu, target: { type: Utilization, averageUtilization: 50 } } }]
  behavior:
    scaleDown: { stabilizationWindowSeconds: 5 }
`);
    await kubectl('apply', '-f', path.join(dir, 'burn.yaml'));
    await until(async () => / 1\/1 +Running/.test(await kubectl('get', 'pods', '-l', 'app=burn', '--no-headers')), 'the burn pod running');
    // Idle: a measured utilization well below the target, and no scaling.
    const idle = await until(async () => /^burn\s+Deployment\/burn\s+cpu: (\d+)%\/50%\s+1\s+3\s+1\s/m.exec(await kubectl('get', 'hpa', 'burn', '--no-headers')), 'an idle utilization');
    if (Number(idle[1]) >= 50) console.log(await kubectl('get', 'hpa', 'burn', '-o', 'yaml'), await kubectl('get', 'pods', '-o', 'yaml'), await kubectl('get', '--raw', `/apis/metrics.k8s.io/v1beta1/namespaces/${NS}/pods`));
    expect(Number(idle[1])).toBeLessThan(50);

    writeFileSync(path.join(loadDir, 'on'), '');
    const loadStart = Date.now();
    await until(async () => (await kubectl('get', 'deployment', 'burn', '-o', 'jsonpath={.spec.replicas}')) === '3', 'scaled up to 3');
    const upAfterS = (Date.now() - loadStart) / 1000;
    const busy = await until(async () => /^burn\s+Deployment\/burn\s+cpu: (\d+)%\/50%\s+1\s+3\s+3\s/m.exec(await kubectl('get', 'hpa', 'burn', '--no-headers')), 'a busy utilization');
    expect(Number(busy[1])).toBeGreaterThan(50);
    const events = await kubectl('get', 'events', '--field-selector=involvedObject.kind=HorizontalPodAutoscaler', '-o', 'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}');
    expect(events).toMatch(/SuccessfulRescale: New size: 3; reason: cpu resource utilization \(percentage of request\) above target/);
    // kubectl top sees the burn: cpu near the 50m limit, and a working set.
    const top = await until(async () => {
      const out = await kubectl('top', 'pods', '-l', 'app=burn', '--no-headers');
      return out.trim().split('\n').length === 3 && out;
    }, 'kubectl top for 3 pods');
    const cpus = [...top.matchAll(/\s(\d+)m\s/g)].map((m) => Number(m[1]));
    expect(Math.max(...cpus)).toBeGreaterThan(25);

    rmSync(path.join(loadDir, 'on'));
    const loadStop = Date.now();
    await until(async () => (await kubectl('get', 'deployment', 'burn', '-o', 'jsonpath={.spec.replicas}')) === '1', 'scaled back to 1');
    const downAfterS = (Date.now() - loadStop) / 1000;
    const after = await kubectl('get', 'events', '--field-selector=involvedObject.kind=HorizontalPodAutoscaler', '-o', 'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}');
    expect(after).toMatch(/SuccessfulRescale: New size: 1; reason: All metrics below target/);
    console.log(`HPA on real containers (2 s sync period): scaled up ${upAfterS.toFixed(1)} s after the load started, down ${downAfterS.toFixed(1)} s after it stopped`);
  });
});
