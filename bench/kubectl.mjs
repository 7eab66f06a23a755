// k8ts-kubectl start-up: `k8ts-kubectl get pods` on an empty namespace timed as a whole process against the real
// kubectl (Go) on the same apiserver, in one run, runs alternating so a drift of the machine hits both alike.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startApiserver, startEtcd } from '../scripts/lib/processes.mjs';
import { median } from './measure.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// The bin as npm links it, a sh script and CommonJS in one that starts Node on the esbuild bundle's launcher (its
// header and scripts/bundle.mjs say why): what a user's `k8ts-kubectl` runs.
const OURS = path.join(ROOT, 'packages/kubectl/bin/k8ts-kubectl.cjs');

function timeRun(cmd, args, env) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err}`));
      else resolve({ ms, stderr: err });
    });
  });
}


/** Prints the median wall time of each and the ratio ours/real; `runs` pairs after one warm-up each. */
export async function benchKubectl({ runs = 15 } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'k8ts-bench-kubectl-'));
  const etcd = await startEtcd({ dataDir: path.join(dir, 'etcd') });
  const apiserver = await startApiserver({ etcdEndpoint: etcd.endpoint, logFile: path.join(dir, 'apiserver.log') });
  try {
    const kubeconfig = path.join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\ncurrent-context: b\nclusters:\n- name: b\n  cluster:\n    server: ${apiserver.url}\ncontexts:\n- name: b\n  context:\n    cluster: b\n    user: b\n    namespace: bench-empty\nusers:\n- name: b\n  user: {}\n`);
    const env = { ...process.env, KUBECONFIG: kubeconfig, HOME: dir };
    await fetch(`${apiserver.url}/api/v1/namespaces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench-empty' } }) });
    const ours = () => timeRun(OURS, ['get', 'pods'], env);
    // Both keep their discovery cache warm between runs (as a user's is), each in its own directory (ours in
    // $HOME/.kube/cache, kubectl in --cache-dir); the warm-up runs below fill them and ours' code cache.
    const real = () => timeRun('kubectl', [`--cache-dir=${dir}/cache`, 'get', 'pods'], env);
    const check = await ours();
    if (!/No resources found in bench-empty namespace/.test(check.stderr)) throw new Error(`unexpected output: ${check.stderr}`);
    await ours();
    await real();
    const a = [];
    const b = [];
    const c = [];
    const d = [];
    const bare = () => timeRun(process.execPath, ['-e', '0'], env);
    // Node 20 builds its root certificate store at start-up when NODE_EXTRA_CA_CERTS is set (tens of ms), which the
    // bin spares k8ts-kubectl: Node's start without it is the floor then.
    const { NODE_EXTRA_CA_CERTS: extraCa, ...envWithoutCa } = env;
    const bareWithoutCa = () => timeRun(process.execPath, ['-e', '0'], envWithoutCa);
    for (let i = 0; i < runs; i++) {
      a.push((await ours()).ms);
      b.push((await real()).ms);
      c.push((await bare()).ms);
      if (extraCa !== undefined) d.push((await bareWithoutCa()).ms);
    }
    const ratios = a.map((x, i) => x / b[i]);
    console.log(`kubectl start-up (get pods, empty namespace, whole process, ${runs} runs each, alternating):`);
    console.log(`  k8ts-kubectl  median ${median(a).toFixed(1)} ms   (min ${Math.min(...a).toFixed(1)}, max ${Math.max(...a).toFixed(1)})`);
    console.log(`  kubectl (Go)  median ${median(b).toFixed(1)} ms   (min ${Math.min(...b).toFixed(1)}, max ${Math.max(...b).toFixed(1)})`);
    console.log(`  node -e 0     median ${median(c).toFixed(1)} ms   (Node's own start-up, the floor of any Node CLI)`);
    if (d.length) console.log(`  node -e 0 without NODE_EXTRA_CA_CERTS  median ${median(d).toFixed(1)} ms   (the floor of k8ts-kubectl, whose bin moves it aside)`);
    console.log(`  ratio k8ts-kubectl / kubectl: median ${median(ratios).toFixed(2)} (goal <= 1.0)`);
  } finally {
    await apiserver.stop();
    await etcd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
