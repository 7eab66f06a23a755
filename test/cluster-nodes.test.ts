import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, NODES, PODS, type Node, type Pod } from '@k8ts/api';
import { DockerRuntime } from '@k8ts/kubelet';
// @ts-expect-error plain JS module shared with scripts/
import { freePort, isSameProcess, startControllerManager, startKubelet } from '../scripts/lib/processes.mjs';
import { eventually } from './harness.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const built = existsSync(path.join(ROOT, 'packages/kubelet/dist/main.js'));

/** `scripts/cluster up --nodes 2`, then the real kubectl: the local cluster end to end, with real containers. */
describe.skipIf(!built)('scripts/cluster up with kubelets', { timeout: 180_000 }, () => {
  let dir = '';
  let env: NodeJS.ProcessEnv = {};
  const state = () => path.join(dir, 'state');
  const cluster = (...args: string[]) => run(path.join(ROOT, 'scripts/cluster'), [...args, '--state-dir', state()], { timeout: 300_000 });
  const kubectl = async (...args: string[]) => (await run('kubectl', [`--cache-dir=${dir}/kc`, ...args], { env, timeout: 60_000 })).stdout;
  // The cluster's name, which its kubelets label their containers with: a kubelet a test starts joins it likewise.
  const clusterName = () => JSON.parse(readFileSync(path.join(state(), 'pids.json'), 'utf8')).clusterName as string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'k8ts-nodes-'));
    await cluster('up', '--detach', '--no-build', '--port', '0', '--nodes', '2', '--kubelet-port', String(await freePort('127.0.1.1')));
    env = { ...process.env, KUBECONFIG: path.join(state(), 'kubeconfig'), HOME: dir };
  }, 600_000);

  afterAll(async () => {
    if (!dir) return;
    await cluster('down').catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('brings up two Ready nodes on their own loopback addresses and prints DOCKER_HOST', async () => {
    const out = await eventually(async () => { const o = await kubectl('get', 'nodes', '-o', 'wide'); return /node-1\s+Ready/.test(o) && /node-2\s+Ready/.test(o) && o; }, 'two Ready nodes', 60_000);
    expect(out).toMatch(/node-1\s+Ready\s+<none>\s+\S+\s+v1\.32\.4-k8ts\s+127\.0\.1\.1/);
    expect(out).toMatch(/node-2\s+Ready\s+<none>\s+\S+\s+v1\.32\.4-k8ts\s+127\.0\.1\.2/);
    const envOut = (await cluster('env')).stdout;
    expect(envOut).toMatch(/^export KUBECONFIG=.*\nexport DOCKER_HOST=unix:\/\/\S+\n$/);
    const status = await cluster('status');
    expect(status.stdout).toMatch(/kubelet-node-2\s+\d+\s+http:\/\/127\.0\.1\.2:\d+\s+yes/);
  });

  it('runs a pod applied with kubectl in a real container, serves its logs, and removes it on delete', async () => {
    const file = path.join(dir, 'pod.yaml');
    writeFileSync(file, `apiVersion: v1
kind: Pod
metadata:
  name: hello
  labels: { app: hello }
spec:
  nodeName: node-2
  terminationGracePeriodSeconds: 2
  containers:
  - name: main
    image: k8ts/busybox:latest
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "echo hello from node-2; exec sleep 3600"]
`);
    expect(await kubectl('apply', '-f', file)).toBe('pod/hello created\n');
    await eventually(async () => /hello\s+1\/1\s+Running\s+0/.test(await kubectl('get', 'pod', 'hello')), 'hello Running', 90_000);
    expect(await eventually(async () => { const l = await kubectl('logs', 'hello'); return l.includes('hello') && l; }, 'logs')).toBe('hello from node-2\n');
    const describe = await kubectl('describe', 'pod', 'hello');
    expect(describe).toMatch(/Started\s+\S+\s+kubelet\s+Started container main/);
    const dockerHost = /DOCKER_HOST=(\S+)/.exec((await cluster('env')).stdout)![1];
    const runtime = new DockerRuntime({ socket: dockerHost, nodeName: 'node-2' });
    const uid = (await kubectl('get', 'pod', 'hello', '-o', 'jsonpath={.metadata.uid}')).trim();
    expect((await runtime.listContainers(uid)).filter((c) => c.state === 'running')).toHaveLength(2); // pause + main
    expect(await kubectl('delete', 'pod', 'hello')).toBe('pod "hello" deleted\n');
    await eventually(async () => (await runtime.listContainers(uid)).length === 0, 'containers removed', 60_000);
  });

  it('schedules pods applied with kubectl over both nodes, with Scheduled events, and keeps a too-big pod Pending until a big node joins', async () => {
    const file = path.join(dir, 'pods.yaml');
    writeFileSync(file, [0, 1, 2, 3].map((i) => `apiVersion: v1
kind: Pod
metadata:
  name: spread-${i}
  labels: { app: spread }
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: k8ts/busybox:latest
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "echo I am spread-${i}; exec sleep 3600"]
    resources: { requests: { cpu: 100m, memory: 16Mi } }
`).join('---\n'));
    await kubectl('apply', '-f', file);
    const wide = await eventually(async () => {
      const o = await kubectl('get', 'pods', '-l', 'app=spread', '-o', 'wide', '--no-headers');
      return o.trim().split('\n').length === 4 && o.trim().split('\n').every((l) => /1\/1\s+Running/.test(l)) && o;
    }, 'four spread pods Running', 120_000);
    expect(wide).toMatch(/node-1/);
    expect(wide).toMatch(/node-2/);
    expect(await kubectl('describe', 'pod', 'spread-0')).toMatch(/Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned default\/spread-0 to node-[12]/);
    expect(await kubectl('logs', 'spread-3')).toBe('I am spread-3\n');

    const big = path.join(dir, 'big.yaml');
    writeFileSync(big, `apiVersion: v1
kind: Pod
metadata:
  name: big
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: k8ts/busybox:latest
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "echo big enough; exec sleep 3600"]
    resources: { requests: { cpu: "32" } }
`);
    await kubectl('apply', '-f', big);
    const describe = await eventually(async () => { const d = await kubectl('describe', 'pod', 'big'); return /FailedScheduling/.test(d) && d; }, 'FailedScheduling', 60_000);
    expect(describe).toMatch(/Warning\s+FailedScheduling\s+\S+\s+default-scheduler\s+0\/2 nodes are available: 2 Insufficient cpu\./);
    expect(await kubectl('get', 'pod', 'big', '--no-headers')).toMatch(/big\s+0\/1\s+Pending/);
    const dockerHost = /DOCKER_HOST=(\S+)/.exec((await cluster('env')).stdout)![1];
    const node3 = await startKubelet({
      apiserverUrl: (await kubectl('config', 'view', '-o', 'jsonpath={.clusters[0].cluster.server}')).trim(),
      nodeName: 'node-3', nodeIP: '127.0.1.3', port: await freePort('127.0.1.3'), dockerSocket: dockerHost,
      rootDir: path.join(dir, 'node-3'), logFile: path.join(dir, 'node-3.log'), extraArgs: ['--cpu', '64', '--cluster-name', clusterName()],
    });
    try {
      // The node-3 kubelet reports 64 CPUs: the scheduler binds the pod there as soon as the node is Ready.
      await eventually(async () => /big\s+1\/1\s+Running\s+0\s+\S+\s+\S+\s+node-3/.test(await kubectl('get', 'pod', 'big', '-o', 'wide', '--no-headers')), 'big Running on node-3', 120_000);
      const uids = (await kubectl('get', 'pods', '-o', 'jsonpath={.items[*].metadata.uid}')).trim().split(/\s+/);
      await kubectl('delete', '-f', file, '-f', big);
      const runtimes = ['node-1', 'node-2', 'node-3'].map((nodeName) => new DockerRuntime({ socket: dockerHost, nodeName }));
      const left = async () => (await Promise.all(runtimes.map((r) => r.listContainers()))).flat().filter((c) => uids.includes(c.pod.uid));
      await eventually(async () => (await left()).length === 0, 'scheduled pods\' containers removed', 60_000);
    } finally {
      await node3.stop();
    }
  });
  it('keeps every pod\'s containers on two nodes sharing one engine, and a kubelet killed with -9 adopts its own and touches no other', async () => {
    const file = path.join(dir, 'steady.yaml');
    const pods = [['steady-0', 'node-1'], ['steady-1', 'node-1'], ['steady-2', 'node-2'], ['steady-3', 'node-2']];
    writeFileSync(file, pods.map(([name, node]) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: { app: steady }
spec:
  nodeName: ${node}
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: k8ts/busybox:latest
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "echo I am ${name}; exec sleep 3600"]
`).join('---\n'));
    await kubectl('apply', '-f', file);
    await eventually(async () => {
      const o = (await kubectl('get', 'pods', '-l', 'app=steady', '--no-headers')).trim().split('\n');
      return o.length === 4 && o.every((l) => /1\/1\s+Running\s+0\s/.test(l));
    }, 'four steady pods Running', 120_000);
    const dockerHost = /DOCKER_HOST=(\S+)/.exec((await cluster('env')).stdout)![1];
    const runtimes = { 'node-1': new DockerRuntime({ socket: dockerHost, nodeName: 'node-1' }), 'node-2': new DockerRuntime({ socket: dockerHost, nodeName: 'node-2' }) };
    const uidOf = async (name: string) => (await kubectl('get', 'pod', name, '-o', 'jsonpath={.metadata.uid}')).trim();
    const uids = await Promise.all(pods.map(([name]) => uidOf(name)));
    /** Each pod's containers (ids and states), read from the engine through its own node's view. */
    const snapshot = async () => Promise.all(pods.map(async ([, node], i) =>
      (await runtimes[node as 'node-1' | 'node-2'].listContainers(uids[i])).map((c) => `${c.id}:${c.state}`).sort().join(',')));
    const before = await snapshot();
    expect(before.every((s) => s.split(',').length === 2 && !s.includes(':exited'))).toBe(true); // pause + main, running
    // 30 s of relists (every second on each kubelet): not one container replaced. Bounded: 15 looks, 2 s apart.
    const started = Date.now();
    for (let i = 0; i < 15 && Date.now() - started < 40_000; i++) {
      expect(await snapshot()).toEqual(before);
      await new Promise((r) => setTimeout(r, 2_000));
    }
    for (const [name] of pods) expect(await kubectl('logs', name)).toBe(`I am ${name}\n`);
    const restarts = async () => (await kubectl('get', 'pods', '-l', 'app=steady', '-o', 'jsonpath={.items[*].status.containerStatuses[*].restartCount}')).trim();
    expect(await restarts()).toBe('0 0 0 0');

    // kill -9 node-1's kubelet, then start it again as the cluster did.
    const recorded = JSON.parse(readFileSync(path.join(state(), 'pids.json'), 'utf8')).components.find((c: { name: string }) => c.name === 'kubelet-node-1');
    process.kill(recorded.pid, 'SIGKILL');
    const flag = (f: string) => recorded.argv[recorded.argv.indexOf(f) + 1];
    const logFile = path.join(dir, 'node-1-again.log');
    const again = await startKubelet({
      apiserverUrl: flag('--apiserver'), nodeName: 'node-1', nodeIP: '127.0.1.1', port: Number(flag('--port')), dockerSocket: flag('--docker-socket'),
      rootDir: flag('--root-dir'), manifestDir: flag('--pod-manifest-path'), logFile, extraArgs: ['--cluster-name', flag('--cluster-name')],
    });
    try {
      await eventually(async () => readFileSync(logFile, 'utf8').includes('kubelet synced its pods'), 'restarted kubelet synced', 60_000);
      // Several relists and a full resync of the restarted kubelet: still the same containers everywhere.
      const resynced = Date.now();
      for (let i = 0; i < 8 && Date.now() - resynced < 20_000; i++) {
        expect(await snapshot()).toEqual(before);
        await new Promise((r) => setTimeout(r, 2_000));
      }
      expect(readFileSync(logFile, 'utf8')).not.toContain('removing containers of a pod this node no longer runs');
      expect(await restarts()).toBe('0 0 0 0');
      for (const [name] of pods) expect(await kubectl('logs', name)).toBe(`I am ${name}\n`);
      await kubectl('delete', '-f', file);
      await eventually(async () => (await snapshot()).every((s) => s === ''), 'steady pods\' containers removed', 60_000);
    } finally {
      await again.stop();
      await Promise.all(Object.values(runtimes).map((r) => r.close()));
    }
  });

  it('taints a node whose kubelet is killed -9, evicts its pods after their tolerationSeconds, the ReplicaSet replaces them on the other node, and the taint goes when the kubelet is back', async () => {
    const pids = JSON.parse(readFileSync(path.join(state(), 'pids.json'), 'utf8')).components as { name: string; pid: number; argv: string[] }[];
    const kubeletRec = pids.find((c) => c.name === 'kubelet-node-1')!;
    const flag = (f: string) => kubeletRec.argv[kubeletRec.argv.indexOf(f) + 1];
    const startNode1 = (log: string) => startKubelet({
      apiserverUrl: flag('--apiserver'), nodeName: 'node-1', nodeIP: '127.0.1.1', port: Number(flag('--port')), dockerSocket: flag('--docker-socket'),
      rootDir: flag('--root-dir'), manifestDir: flag('--pod-manifest-path'), logFile: path.join(dir, log), extraArgs: ['--cluster-name', flag('--cluster-name')],
    });
    const client = new ApiClient({ server: flag('--apiserver') });
    const readyOf = async (name: string) => (await client.get<Node>(NODES, undefined, name)).status?.conditions?.find((c) => c.type === 'Ready')?.status;
    // The cluster's controller manager watches with upstream's 40 s grace; this test runs one with 20 s (the kubelet renews every 10 s).
    const cmRec = pids.find((c) => c.name === 'controller-manager')!;
    // Alive and still the process the cluster recorded (same command line), never a pid reused since.
    const alive = (rec: { pid: number; argv: string[] }) => isSameProcess(rec.pid, rec.argv) as boolean;
    // The cluster's own node-1 kubelet (when an earlier test has not already replaced it) and controller manager make way.
    for (const rec of [kubeletRec, cmRec]) if (alive(rec)) process.kill(rec.pid, 'SIGTERM');
    await eventually(() => !alive(kubeletRec) && !alive(cmRec), 'the cluster\'s node-1 kubelet and controller manager stopped', 20_000);
    const cm = await startControllerManager({
      apiserverUrl: flag('--apiserver'), logFile: path.join(dir, 'controller-manager-nlc.log'),
      extraArgs: ['--leader-elect', 'false', '--node-monitor-period', '1s', '--node-monitor-grace-period', '20s'],
    });
    let kubelet = await startNode1('node-1-nlc.log');
    try {
      await eventually(async () => (await readyOf('node-1')) === 'True' && (await readyOf('node-2')) === 'True', 'both nodes Ready', 60_000);
      await eventually(async () => !((await client.get<Node>(NODES, undefined, 'node-1')).spec?.taints?.length), 'node-1 untainted', 30_000);
      const file = path.join(dir, 'moving.yaml');
      writeFileSync(file, `apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: moving
spec:
  replicas: 4
  selector: { matchLabels: { app: moving } }
  template:
    metadata:
      labels: { app: moving }
    spec:
      terminationGracePeriodSeconds: 1
      tolerations:
      - { key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 5 }
      containers:
      - name: main
        image: k8ts/busybox:latest
        imagePullPolicy: IfNotPresent
        command: ["sh", "-c", "exec sleep 3600"]
`);
      await kubectl('apply', '-f', file);
      const live = async () => (await client.list<Pod>(PODS, 'default', { labelSelector: 'app=moving' })).items.filter((p) => !p.metadata?.deletionTimestamp);
      const running = await eventually(async () => { const p = await live(); return p.length === 4 && p.every((x) => x.status?.phase === 'Running') && p; }, 'four moving pods Running', 120_000);
      const onNode1 = running.filter((p) => p.spec?.nodeName === 'node-1').map((p) => p.metadata!.name!);
      expect(onNode1.length).toBeGreaterThan(0);

      process.kill(kubelet.pid, 'SIGKILL');
      const killed = Date.now();
      await eventually(async () => (await readyOf('node-1')) === 'Unknown', 'node-1 Unknown', 60_000);
      const unknownAfter = Date.now() - killed;
      await eventually(async () => (await client.get<Node>(NODES, undefined, 'node-1')).spec?.taints?.some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute'), 'unreachable taint', 30_000);
      const tainted = Date.now();
      const evictedAll = async () => (await Promise.all(onNode1.map(async (name) => {
        try { return Boolean((await client.get<Pod>(PODS, 'default', name)).metadata?.deletionTimestamp); } catch { return true; }
      }))).every(Boolean);
      expect(await evictedAll()).toBe(false); // 5 s of toleration first
      await eventually(evictedAll, 'node-1 pods evicted', 30_000);
      const evictedAfter = Date.now() - tainted;
      expect(evictedAfter).toBeGreaterThanOrEqual(3_000);
      await eventually(async () => { const p = await live(); return p.length === 4 && p.every((x) => x.spec?.nodeName === 'node-2' && x.status?.phase === 'Running'); }, 'four moving pods Running on node-2', 120_000);

      kubelet = await startNode1('node-1-nlc-again.log');
      await eventually(async () => (await readyOf('node-1')) === 'True', 'node-1 Ready again', 60_000);
      await eventually(async () => !((await client.get<Node>(NODES, undefined, 'node-1')).spec?.taints?.length), 'node-1 taints removed', 60_000);
      // The restarted kubelet finishes the evicted pods' deletion.
      await eventually(async () => (await client.list<Pod>(PODS, 'default', { labelSelector: 'app=moving' })).items.length === 4, 'evicted pods gone', 60_000);
      console.info(`node-1 Unknown ${unknownAfter} ms after kill -9 (grace 20 s); its pods evicted ${evictedAfter} ms after the taint (tolerationSeconds 5)`);
      await kubectl('delete', 'rs', 'moving');
      await kubectl('delete', 'pods', '-l', 'app=moving', '--wait=false');
    } finally {
      await kubelet.stop();
      await cm.stop();
      await client.close();
    }
  });
});
