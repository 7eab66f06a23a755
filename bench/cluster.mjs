// `npm run bench -- --only cluster`: how long `scripts/cluster up` takes until every node is Ready, and the control
// plane's memory (apiserver, scheduler, controller-manager RSS) idle and with 100 pods running on 2 nodes.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../scripts/lib/processes.mjs';
import { median, rssMiB, settledRss } from './measure.mjs';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const CLUSTER = path.join(ROOT, 'scripts/cluster');

/**
 * Brings a 2-node cluster up `rounds` times (down between: the first on a fresh state dir, the others resuming it),
 * timing the command to every node Ready as `up` reports it and as seen from outside (the command's wall time); then
 * measures the control plane's RSS idle and with `pods` pods of a Deployment Running.
 */
export async function benchCluster({ rounds = 3, pods = 100 } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'k8ts-bench-cluster-'));
  const state = path.join(dir, 'state');
  // userspace kube-proxy and free ingress ports: the bench leaves the host's iptables and ports 80/443 alone.
  const env = { ...process.env, K8TS_PROXY_MODE: 'userspace', K8TS_INGRESS_HTTP_PORT: '0', K8TS_INGRESS_HTTPS_PORT: '0' };
  const kubeletPort = String(await freePort('127.0.1.1'));
  const cluster = (...args) => run(CLUSTER, [...args, '--state-dir', state], { env, timeout: 300_000 });
  const kubectl = (...args) => run('kubectl', [`--cache-dir=${dir}/kc`, ...args], { env: { ...env, KUBECONFIG: path.join(state, 'kubeconfig'), HOME: dir }, timeout: 120_000 });
  try {
    const ready = [];
    const wall = [];
    for (let i = 0; i < rounds; i++) {
      const t0 = Date.now();
      const { stdout } = await cluster('up', '--detach', '--no-build', '--nodes', '2', '--port', '0', '--kubelet-port', kubeletPort);
      wall.push((Date.now() - t0) / 1000);
      const m = /(\d+) nodes Ready ([\d.]+) s after the command/.exec(stdout);
      if (!m) throw new Error(`scripts/cluster up did not report its nodes Ready:\n${stdout}`);
      ready.push(Number(m[2]));
      if (i < rounds - 1) await cluster('down');
    }
    console.log(`scripts/cluster up → 2 nodes Ready: best ${Math.min(...ready).toFixed(1)} s, median ${median(ready).toFixed(1)} s (${ready.map((r) => r.toFixed(1)).join(', ')}; first on a fresh state dir); command returned after ${median(wall).toFixed(1)} s (median)`);

    const recorded = JSON.parse(readFileSync(path.join(state, 'pids.json'), 'utf8'));
    const pidOf = (name) => recorded.components.find((c) => c.name === name).pid;
    const plane = ['apiserver', 'scheduler', 'controller-manager'];
    const idle = {};
    for (const name of plane) idle[name] = await settledRss(pidOf(name));

    await kubectl('create', 'deployment', 'many', '--image=k8ts/busybox:latest', `--replicas=${pods}`, '--', 'sleep', '3600');
    // kubectl create deployment says nothing of a pull policy: IfNotPresent, so that no pull is tried for the local image.
    await kubectl('patch', 'deployment', 'many', '--type=json', '-p', JSON.stringify([
      { op: 'add', path: '/spec/template/spec/containers/0/imagePullPolicy', value: 'IfNotPresent' },
      { op: 'add', path: '/spec/template/spec/terminationGracePeriodSeconds', value: 0 },
    ]));
    const t0 = Date.now();
    let running = 0;
    while (Date.now() - t0 < 300_000) {
      const { stdout } = await kubectl('get', 'pods', '-l', 'app=many', '--field-selector=status.phase=Running', '-o', 'name');
      running = stdout.split('\n').filter(Boolean).length;
      if (running >= pods) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const took = (Date.now() - t0) / 1000;
    const loaded = {};
    for (const name of plane) loaded[name] = await settledRss(pidOf(name));
    const row = (o) => plane.map((n) => `${n} ${o[n].toFixed(0)}`).join(', ');
    console.log(`control-plane RSS (MiB): idle ${row(idle)} (total ${plane.reduce((a, n) => a + idle[n], 0).toFixed(0)}); with ${running} pods Running (${took.toFixed(0)} s to run them) ${row(loaded)} (total ${plane.reduce((a, n) => a + loaded[n], 0).toFixed(0)})`);
  } finally {
    await cluster('down').catch((err) => console.error(`scripts/cluster down: ${err.message}`));
    await cluster('clean').catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}
