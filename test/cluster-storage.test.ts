import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JS module shared with scripts/
import { freePort } from '../scripts/lib/processes.mjs';
import { eventually, readWatch } from './harness.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const built = existsSync(path.join(ROOT, 'packages/controller-manager/dist/main.js')) && existsSync(path.join(ROOT, 'packages/kubelet/dist/main.js'));
const NS = 'storage';

/**
 * `scripts/cluster up --nodes 2` with the real kubectl: a claim of the default class provisioned on the node its
 * pod lands on, data surviving the pod, the volume and its directory going with the claim; `kubectl drain` of a
 * node running a Deployment budgeted at replicas-1 evicting one pod at a time.
 */
describe.skipIf(!built)('persistent volumes and disruption budgets on a 2-node local cluster', { timeout: 300_000 }, () => {
  let dir = '';
  let env: NodeJS.ProcessEnv = {};
  let server = '';
  const state = () => path.join(dir, 'state');
  const cluster = (...args: string[]) => run(path.join(ROOT, 'scripts/cluster'), [...args, '--state-dir', state()], { timeout: 300_000 });
  const kubectl = async (...args: string[]) => (await run('kubectl', [`--cache-dir=${dir}/kc`, '-n', NS, ...args], { env, timeout: 200_000 })).stdout;
  const until = <T>(fn: () => Promise<T>, what: string, ms = 90_000) => eventually(async () => {
    const v = await fn();
    if (!v) await new Promise((r) => setTimeout(r, 250));
    return v;
  }, what, ms);
  const apply = async (name: string, yaml: string) => kubectl('apply', '-f', (writeFileSync(path.join(dir, name), yaml), path.join(dir, name)));
  const podYaml = (name: string, script: string) => `apiVersion: v1
kind: Pod
metadata: { name: ${name} }
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: k8ts/busybox:latest
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", ${JSON.stringify(script)}]
    volumeMounts: [{ name: data, mountPath: /data }]
  volumes:
  - name: data
    persistentVolumeClaim: { claimName: data }
`;
  const phaseAndNode = async (pod: string) => (await kubectl('get', 'pod', pod, '-o', 'jsonpath={.status.phase} {.spec.nodeName}')).trim();

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'k8ts-storage-'));
    await cluster('up', '--detach', '--no-build', '--port', '0', '--nodes', '2', '--kubelet-port', String(await freePort('127.0.1.1')));
    env = { ...process.env, KUBECONFIG: path.join(state(), 'kubeconfig'), HOME: dir };
    server = /server:\s*"?([^"\s]+)"?/.exec(readFileSync(path.join(state(), 'kubeconfig'), 'utf8'))![1];
    await until(async () => { const o = await kubectl('get', 'nodes'); return /node-1\s+Ready/.test(o) && /node-2\s+Ready/.test(o); }, 'two Ready nodes', 60_000);
    writeFileSync(path.join(dir, 'ns.yaml'), `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${NS}\n`);
    await kubectl('apply', '-f', path.join(dir, 'ns.yaml'));
  }, 600_000);

  afterAll(async () => {
    if (!dir) return;
    await kubectl('delete', 'namespace', NS, '--ignore-not-found', '--timeout=60s').catch(() => undefined);
    await cluster('down').catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }, 150_000);

  it('provisions a claim on its pod\'s node, keeps the data for the next pod, and removes volume and directory with the claim', async () => {
    await apply('pvc.yaml', `apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: data }
spec:
  accessModes: [ReadWriteOnce]
  resources: { requests: { storage: 64Mi } }
`);
    expect(await kubectl('get', 'pvc', 'data', '--no-headers')).toMatch(/^data\s+Pending\s+local-path\s+<unset>\s+\d+s\n$/);
    await apply('writer.yaml', podYaml('writer', 'echo written by $HOSTNAME > /data/file && exec sleep 3600'));
    const [, node] = (await until(async () => { const o = await phaseAndNode('writer'); return o.startsWith('Running ') && o; }, 'the writer running')).split(' ');
    const pvc = (await kubectl('get', 'pvc', 'data', '--no-headers')).trim();
    const volume = /^data\s+Bound\s+(pvc-[0-9a-f-]+)\s+64Mi\s+RWO\s+local-path\s+<unset>\s+\d+s$/.exec(pvc)?.[1];
    expect(volume, pvc).toBeDefined();
    expect((await kubectl('get', 'pv', volume!, '--no-headers')).trim()).toMatch(new RegExp(`^${volume}\\s+64Mi\\s+RWO\\s+Delete\\s+Bound\\s+${NS}/data\\s+local-path\\s+<unset>\\s+\\d+s$`));
    const hostDir = (await kubectl('get', 'pv', volume!, '-o', 'jsonpath={.spec.hostPath.path}')).trim();
    expect(path.dirname(hostDir)).toBe(path.join(state(), 'kubelet', node, 'local-path'));
    await until(async () => existsSync(path.join(hostDir, 'file')), 'the file on the host');
    expect(readFileSync(path.join(hostDir, 'file'), 'utf8')).toBe('written by writer\n');

    await kubectl('delete', 'pod', 'writer', '--wait=true');
    await apply('reader.yaml', podYaml('reader', 'cat /data/file && exec sleep 3600'));
    const reader = await until(async () => { const o = await phaseAndNode('reader'); return o.startsWith('Running ') && o; }, 'the reader running');
    expect(reader).toBe(`Running ${node}`);
    expect(await until(async () => kubectl('logs', 'reader'), 'the reader\'s log')).toBe('written by writer\n');

    await kubectl('delete', 'pod', 'reader', '--wait=true');
    await kubectl('delete', 'pvc', 'data', '--wait=true');
    await until(async () => (await kubectl('get', 'pv', '--no-headers', '--ignore-not-found')).trim() === '', 'the volume deleted');
    expect(existsSync(hostDir)).toBe(false);
  });

  it('drains a node running a Deployment budgeted at replicas-1 one eviction at a time', async () => {
    // All three replicas on node-1: node-2 cordoned while they are placed.
    await kubectl('cordon', 'node-2');
    await apply('web.yaml', `apiVersion: apps/v1
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
      - name: main
        image: k8ts/busybox:latest
        imagePullPolicy: IfNotPresent
        command: ["sleep", "3600"]
        readinessProbe: { exec: { command: ["true"] }, periodSeconds: 1 }
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: web }
spec:
  minAvailable: 2
  selector: { matchLabels: { app: web } }
`);
    await kubectl('rollout', 'status', 'deployment/web', '--timeout=120s');
    await until(async () => /^web\s+2\s+N\/A\s+1\s/.test(await kubectl('get', 'pdb', 'web', '--no-headers')), 'the budget allowing 1');
    await kubectl('uncordon', 'node-2');

    // Watch the pods throughout: healthy (Ready, not terminating) ones must never drop below minAvailable.
    const pods = new Map<string, { ready: boolean; deleting: boolean; node: string }>();
    let minHealthy = Infinity;
    const ac = new AbortController();
    const watching = readWatch(`${server}/api/v1/namespaces/${NS}/pods?watch=1&labelSelector=app%3Dweb`, (ev) => {
      const p = ev.object;
      if (ev.type === 'DELETED') pods.delete(p.metadata.name);
      else pods.set(p.metadata.name, {
        ready: p.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True') ?? false,
        deleting: !!p.metadata.deletionTimestamp, node: p.spec.nodeName ?? '',
      });
      if (pods.size >= 3) minHealthy = Math.min(minHealthy, [...pods.values()].filter((x) => x.ready && !x.deleting).length);
    }, { signal: ac.signal });
    const started = Date.now();
    const { stdout, stderr } = await run('kubectl', [`--cache-dir=${dir}/kc`, 'drain', 'node-1', '--ignore-daemonsets', '--timeout=180s'], { env, timeout: 200_000 });
    ac.abort();
    await watching;
    expect(stdout).toContain('node/node-1 drained');
    // kubectl retried the refused evictions (a 429 with upstream's message) until the budget allowed the next.
    expect(stderr).toMatch(/error when evicting pods\/"web-[^"]+" -n "storage" \(will retry after 5s\): Cannot evict pod as it would violate the pod's disruption budget\./);
    expect((stdout.match(/^pod\/web-\S+ evicted$/gm) ?? []).length).toBe(3);
    expect(minHealthy).toBeGreaterThanOrEqual(2);
    expect(Date.now() - started).toBeGreaterThan(5_000);
    const after = await until(async () => {
      const o = (await kubectl('get', 'pods', '-l', 'app=web', '-o', 'jsonpath={range .items[*]}{.spec.nodeName}{" "}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}')).trim().split('\n');
      return o.length === 3 && o.every((l) => l === 'node-2 True') && o;
    }, 'three Ready pods on node-2');
    expect(after).toHaveLength(3);
    await kubectl('uncordon', 'node-1');
  });
});
