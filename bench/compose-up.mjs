// `npm run bench -- --only compose`: docker-compose.yml from `up -d` to every node Ready, against the raw part: the
// engine starting the same number of containers of the same image (`docker run -d` of a no-op, one after another).
// Its own project, network, cluster label, data directory and ports; images built before the clock starts.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensureBaseImages, ensureCompose, ensureDockerEngine, ensureImages, socketPath } from '../scripts/lib/docker.mjs';
import { ROOT, chooseProxyMode, freePort, waitFor, writeKubeconfig } from '../scripts/lib/processes.mjs';

const run = promisify(execFile);
const PROJECT = 'k8ts-compose-bench';

/** Prints the seconds from `docker compose up -d` to both nodes Ready, and the ratio to starting 9 bare containers. */
export async function benchComposeUp() {
  if (process.getuid?.() !== 0) { console.log('compose up: skipped (not root: its kube-proxy programs the host\'s iptables)'); return; }
  if ((await chooseProxyMode()).mode !== 'iptables') { console.log('compose up: skipped (another kube-proxy owns the host\'s iptables rules)'); return; }
  const dir = mkdtempSync(path.join(tmpdir(), 'k8ts-bench-compose-'));
  const compose = ensureCompose();
  const engine = await ensureDockerEngine();
  await ensureImages(engine.socket);
  const base = await ensureBaseImages(engine.socket);
  const api = await freePort();
  const values = {
    K8TS_NODE_IMAGE: base.node, K8TS_ETCD_IMAGE: base.etcd, K8TS_DOCKER_SOCKET: socketPath(engine.socket), K8TS_DATA_DIR: path.join(dir, 'data'),
    K8TS_NETWORK: PROJECT, K8TS_CLUSTER_NAME: PROJECT, K8TS_APISERVER_PORT: api, K8TS_INGRESS_HTTP_PORT: await freePort(),
    K8TS_INGRESS_HTTPS_PORT: await freePort(), K8TS_KUBE_PROXY_HEALTHZ_PORT: await freePort(),
  };
  writeFileSync(path.join(dir, 'compose.env'), Object.entries(values).map(([k, v]) => `${k}=${v}\n`).join(''));
  writeKubeconfig(path.join(dir, 'kubeconfig'), `http://127.0.0.1:${api}`);
  // The environment overrides an env file in compose.
  const env = { ...process.env, ...Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)])), DOCKER_HOST: engine.socket };
  const dc = (...args) => run(compose[0], [...compose.slice(1), '-p', PROJECT, '-f', path.join(ROOT, 'docker-compose.yml'),
    '--env-file', path.join(dir, 'compose.env'), ...args], { env, cwd: ROOT, timeout: 900_000, maxBuffer: 64 << 20 });
  const ready = async () => {
    const { stdout } = await run('kubectl', ['--kubeconfig', path.join(dir, 'kubeconfig'), `--cache-dir=${dir}/kc`, 'get', 'nodes', '-o',
      'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}'], { env: { ...process.env, HOME: dir }, timeout: 20_000 });
    const lines = stdout.trim().split('\n');
    return lines.length === 2 && lines.every((l) => l === 'True');
  };
  try {
    await dc('build');
    // Raw: the engine alone, 9 containers of the same image started one after another.
    const rawStart = performance.now();
    const ids = [];
    for (let i = 0; i < 9; i++) ids.push((await run('docker', ['run', '-d', '--entrypoint', 'true', 'k8ts/k8ts:dev'], { env })).stdout.trim());
    const raw = (performance.now() - rawStart) / 1000;
    await run('docker', ['rm', '-f', ...ids], { env });
    const t0 = performance.now();
    await dc('up', '-d');
    const started = (performance.now() - t0) / 1000;
    await waitFor(ready, { timeoutMs: 180_000, intervalMs: 200, what: 'both nodes Ready' });
    const total = (performance.now() - t0) / 1000;
    console.log(`compose up → all nodes Ready: ${total.toFixed(1)} s (up -d returned after ${started.toFixed(1)} s, waiting on health checks); raw: 9 containers started in ${raw.toFixed(1)} s; ratio ${(raw / total).toFixed(2)}`);
  } finally {
    await dc('down', '-v', '--timeout', '60').catch((err) => console.error(`compose down: ${err.message}`));
    await dc('run', '--rm', '--no-deps', 'kube-proxy', 'kube-proxy', '--cleanup').catch((err) => console.error(`kube-proxy --cleanup: ${err.message}`));
    await dc('down', '-v').catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}
