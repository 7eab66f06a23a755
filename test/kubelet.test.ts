import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerRuntime } from '@k8ts/kubelet';
// @ts-expect-error plain JS modules shared with scripts/
import { ensureDockerEngine, ensureImages } from '../scripts/lib/docker.mjs';
// @ts-expect-error plain JS modules shared with scripts/
import { freePort, writeKubeconfig } from '../scripts/lib/processes.mjs';
import { call, eventually, startTestApiserver, type TestApiserver } from './harness.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const KUBELET = path.join(ROOT, 'packages/kubelet/dist/main.js');
const run = promisify(execFile);
const NODE = `kt-${process.pid}`;
const NODE_IP = '127.0.1.77';
const NS = '/api/v1/namespaces/default';

let s: TestApiserver;
let dir = '';
let socket = '';
let port = 0;
let kubelet: ChildProcess | undefined;
let runtime: DockerRuntime;
const api = (method: string, p: string, body?: unknown, headers?: Record<string, string>) => call(s.url, method, p, body, headers);

function startKubelet(...extraArgs: string[]): ChildProcess {
  const child = spawn(process.execPath, [KUBELET, '--apiserver', s.url, '--node-name', NODE, '--node-ip', NODE_IP, '--port', String(port),
    '--docker-socket', socket, '--root-dir', path.join(dir, 'kubelet'), '--backoff-initial', '1', '--backoff-max', '8', '--log-level', 'warn', '--pod-manifest-path', path.join(dir, 'manifests'), ...extraArgs],
  { stdio: ['ignore', 'ignore', 'inherit'] });
  return child;
}

/** Stops the kubelet; resolves with its exit code (null when a signal ended it). */
async function stopKubelet(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  const k = kubelet;
  kubelet = undefined;
  if (!k || k.exitCode !== null) return k?.exitCode ?? null;
  const exited = new Promise<number | null>((r) => k.once('exit', (code) => r(code)));
  k.kill(signal);
  return exited;
}

const pod = (name: string, spec: Record<string, unknown>, meta: Record<string, unknown> = {}) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, ...meta },
  spec: { nodeName: NODE, terminationGracePeriodSeconds: 5, ...spec },
});
const c = (name: string, script: string, extra: Record<string, unknown> = {}) =>
  ({ name, image: 'k8ts/busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', script], ...extra });
const getPod = async (name: string) => (await api('GET', `${NS}/pods/${name}`)).body;
const logs = async (name: string, container?: string) =>
  (await fetch(`${s.url}${NS}/pods/${name}/log${container ? `?container=${container}` : ''}`)).text();
const running = (p: any) => p?.status?.phase === 'Running';

describe.skipIf(!existsSync(KUBELET))('kubelet with a real Docker engine', { timeout: 240_000 }, () => {
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'k8ts-kubelet-'));
    const engine = await ensureDockerEngine({});
    socket = engine.socket;
    await ensureImages(socket);
    runtime = new DockerRuntime({ socket, nodeName: NODE });
    s = await startTestApiserver();
    port = await freePort(NODE_IP);
    kubelet = startKubelet();
    await eventually(async () => (await api('GET', `/api/v1/nodes/${NODE}`)).body?.status?.conditions?.some((x: any) => x.type === 'Ready' && x.status === 'True'), 'node Ready', 60_000);
  }, 600_000);

  afterAll(async () => {
    await stopKubelet();
    // Remove whatever this test's pods left behind in the shared engine.
    for (const ctr of await runtime?.listContainers().catch(() => []) ?? []) await runtime.removeContainer(ctr.id);
    await s?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('registers its node with addresses, capacity and a lease', async () => {
    const node = (await api('GET', `/api/v1/nodes/${NODE}`)).body;
    expect(node.status.addresses).toContainEqual({ type: 'InternalIP', address: NODE_IP });
    expect(node.status.daemonEndpoints.kubeletEndpoint.Port).toBe(port);
    expect(node.metadata.labels['kubernetes.io/hostname']).toBe(NODE);
    expect(node.status.nodeInfo.containerRuntimeVersion).toMatch(/^docker:\/\//);
    expect(Number(node.status.capacity.pods)).toBe(110);
    const lease = await eventually(async () => (await api('GET', `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${NODE}`)).body?.spec, 'the node lease');
    expect(lease.holderIdentity).toBe(NODE);
    expect(lease.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });

  it('runs two containers sharing localhost and an emptyDir', async () => {
    await api('POST', `${NS}/pods`, pod('duo', {
      volumes: [{ name: 'shared', emptyDir: {} }],
      containers: [
        c('server', 'echo hello-from-server > /data/index.html; exec httpd -f -p 8080 -h /data', { volumeMounts: [{ name: 'shared', mountPath: '/data' }] }),
        c('client', "until printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | nc -w 3 127.0.0.1 8080; do sleep 0.2; done; echo; cat /data/index.html | sed s/^/file:/; exec sleep 3600",
          { volumeMounts: [{ name: 'shared', mountPath: '/data' }] }),
      ],
    }));
    const p = await eventually(async () => { const x = await getPod('duo'); return running(x) && x.status.containerStatuses.every((cs: any) => cs.ready) && x; }, 'duo running', 90_000);
    expect(p.status.podIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(p.status.hostIP).toBe(NODE_IP);
    expect(p.status.conditions.find((x: any) => x.type === 'Ready').status).toBe('True');
    const out = await eventually(async () => { const l = await logs('duo', 'client'); return /file:hello-from-server/.test(l) && l; }, 'client output');
    expect(out).toMatch(/HTTP\/1\.[01] 200/);
    expect(out).toMatch(/hello-from-server/);
  });

  it('builds env from ConfigMaps, Secrets and the downward API', async () => {
    await api('POST', `${NS}/configmaps`, { metadata: { name: 'envcm' }, data: { greeting: 'hi', color: 'blue' } });
    await api('POST', `${NS}/secrets`, { metadata: { name: 'envsec' }, stringData: { password: 's3cret' } });
    await api('POST', `${NS}/pods`, pod('envy', {
      containers: [c('main', 'echo "G=$GREETING P=$PASSWORD N=$MY_NAME C=$CFG_color"; exec sleep 3600', {
        env: [
          { name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'envcm', key: 'greeting' } } },
          { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'envsec', key: 'password' } } },
          { name: 'MY_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        ],
        envFrom: [{ prefix: 'CFG_', configMapRef: { name: 'envcm' } }],
      })],
    }));
    const out = await eventually(async () => { const l = await logs('envy'); return /G=/.test(l) && l; }, 'env output', 90_000);
    expect(out.trim()).toBe('G=hi P=s3cret N=envy C=blue');
  });

  it('restarts a crashing container with growing back-off and counts restarts', async () => {
    await api('POST', `${NS}/pods`, pod('crashy', { containers: [c('main', 'echo crash; exit 3')] }));
    const seen = new Set<string>();
    const p = await eventually(async () => {
      const x = await getPod('crashy');
      const cs = x.status?.containerStatuses?.[0];
      if (cs?.state?.waiting?.reason) seen.add(cs.state.waiting.reason);
      return cs && cs.restartCount >= 3 && x;
    }, 'three restarts', 120_000);
    expect(seen.has('CrashLoopBackOff')).toBe(true);
    expect(p.status.containerStatuses[0].lastState.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(p.status.phase).toBe('Running');
    const events = (await api('GET', `${NS}/events?fieldSelector=involvedObject.name%3Dcrashy`)).body.items;
    const backoff = events.find((e: any) => e.reason === 'BackOff');
    expect(backoff.message).toMatch(/Back-off restarting failed container main in pod crashy/);
    expect(backoff.source.component).toBe('kubelet');
    // Back-off grows: the message names the current delay, and it reaches at least 2s after three restarts.
    await eventually(async () => /back-off (2|4|8)s/.test((await getPod('crashy')).status.containerStatuses[0].state.waiting?.message ?? ''), 'a longer back-off', 60_000);
  });

  it('restarts a container whose liveness probe fails, and flips Ready with its readiness probe', async () => {
    await api('POST', `${NS}/pods`, pod('probed', {
      containers: [
        c('live', 'touch /tmp/healthy; sleep 2; rm /tmp/healthy; exec sleep 3600', {
          livenessProbe: { exec: { command: ['cat', '/tmp/healthy'] }, periodSeconds: 1, failureThreshold: 1 },
        }),
        c('ready', 'sleep 1; touch /tmp/ready; sleep 3; rm /tmp/ready; exec sleep 3600', {
          readinessProbe: { exec: { command: ['cat', '/tmp/ready'] }, periodSeconds: 1 },
        }),
      ],
    }));
    const readyOf = (x: any) => x.status?.containerStatuses?.find((cs: any) => cs.name === 'ready')?.ready;
    await eventually(async () => readyOf(await getPod('probed')) === true, 'ready container Ready', 90_000);
    await eventually(async () => readyOf(await getPod('probed')) === false, 'ready container unready again', 30_000);
    await eventually(async () => (await getPod('probed')).status.containerStatuses.find((cs: any) => cs.name === 'live').restartCount >= 1, 'liveness restart', 60_000);
    const events = (await api('GET', `${NS}/events?fieldSelector=involvedObject.name%3Dprobed`)).body.items;
    expect(events.some((e: any) => e.reason === 'Unhealthy' && /^Liveness probe failed/.test(e.message))).toBe(true);
    expect(events.some((e: any) => e.reason === 'Killing' && /failed liveness probe/.test(e.message))).toBe(true);
  });

  it('deletes gracefully: the container gets SIGTERM and its handler runs', async () => {
    const out = path.join(dir, 'term-out');
    await api('POST', `${NS}/pods`, pod('graceful', {
      terminationGracePeriodSeconds: 30,
      volumes: [{ name: 'out', hostPath: { path: out, type: 'DirectoryOrCreate' } }],
      containers: [c('main', "trap 'echo got-term > /out/term; exit 0' TERM; while true; do sleep 0.2; done", { volumeMounts: [{ name: 'out', mountPath: '/out' }] })],
    }));
    await eventually(async () => running(await getPod('graceful')), 'graceful running', 90_000);
    const del = await api('DELETE', `${NS}/pods/graceful`);
    expect(del.body.metadata.deletionGracePeriodSeconds).toBe(30);
    await eventually(async () => (await api('GET', `${NS}/pods/graceful`)).status === 404, 'pod removed by the kubelet', 60_000);
    expect(readFileSync(path.join(out, 'term'), 'utf8').trim()).toBe('got-term');
  });

  it('ends in ImagePullBackOff with an Event for an image that cannot be pulled', async () => {
    await api('POST', `${NS}/pods`, pod('nopull', { containers: [{ name: 'main', image: '127.0.0.1:1/k8ts/nope:v1', imagePullPolicy: 'IfNotPresent' }] }));
    await eventually(async () => (await getPod('nopull')).status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff', 'ImagePullBackOff', 60_000);
    const events = (await api('GET', `${NS}/events?fieldSelector=involvedObject.name%3Dnopull`)).body.items;
    expect(events.some((e: any) => e.reason === 'Failed' && /Failed to pull image "127\.0\.0\.1:1\/k8ts\/nope:v1"/.test(e.message))).toBe(true);
    expect((await getPod('nopull')).status.phase).toBe('Pending');
  });

  it('streams logs with the real kubectl logs -f', async () => {
    await api('POST', `${NS}/pods`, pod('chatty', { containers: [c('main', 'i=0; while true; do i=$((i+1)); echo line-$i; sleep 0.3; done')] }));
    await eventually(async () => running(await getPod('chatty')), 'chatty running', 90_000);
    const kubeconfig = path.join(dir, 'kubeconfig');
    writeKubeconfig(kubeconfig, s.url);
    const child = spawn('kubectl', ['--kubeconfig', kubeconfig, `--cache-dir=${dir}/kc`, 'logs', '-f', 'chatty'], { env: { ...process.env, HOME: dir } });
    let text = '';
    child.stdout.on('data', (b: Buffer) => { text += b.toString(); });
    try {
      await eventually(() => /line-1\n/.test(text) && (text.match(/line-\d+/g) ?? []).length >= 5, 'five streamed lines', 30_000);
    } finally {
      child.kill();
    }
    const tail = await run('kubectl', ['--kubeconfig', kubeconfig, `--cache-dir=${dir}/kc`, 'logs', 'chatty', '--tail=1'], { env: { ...process.env, HOME: dir } });
    expect(tail.stdout).toMatch(/^line-\d+\n$/);
  });

  it('adopts running containers after kill -9, and removes containers of pods deleted meanwhile', async () => {
    await api('POST', `${NS}/pods`, pod('steady', { containers: [c('main', 'exec sleep 3600')] }));
    await api('POST', `${NS}/pods`, pod('doomed', { containers: [c('main', 'exec sleep 3600')] }));
    const steady = await eventually(async () => { const x = await getPod('steady'); return running(x) && x; }, 'steady running', 90_000);
    const doomed = await eventually(async () => { const x = await getPod('doomed'); return running(x) && x; }, 'doomed running', 90_000);
    const before = (await runtime.listContainers(steady.metadata.uid)).map((x) => x.id).sort();
    await stopKubelet('SIGKILL');
    await api('DELETE', `${NS}/pods/doomed`, { gracePeriodSeconds: 0 });
    expect((await runtime.listContainers(doomed.metadata.uid)).some((x) => x.state === 'running')).toBe(true);
    kubelet = startKubelet();
    await eventually(async () => (await runtime.listContainers(doomed.metadata.uid)).length === 0, 'orphans removed', 60_000);
    // Proof the new kubelet is working: a new pod runs.
    await api('POST', `${NS}/pods`, pod('after', { containers: [c('main', 'exec sleep 3600')] }));
    await eventually(async () => running(await getPod('after')), 'after running', 90_000);
    const after = await runtime.listContainers(steady.metadata.uid);
    expect(after.map((x) => x.id).sort()).toEqual(before);
    expect(after.every((x) => x.state === 'running')).toBe(true);
    expect((await getPod('steady')).status.containerStatuses[0].restartCount).toBe(0);
  });

  it('leaves its pods running on SIGTERM without --cleanup-on-exit; the next kubelet adopts them unrestarted', async () => {
    await api('POST', `${NS}/pods`, pod('kept', { containers: [c('main', 'exec sleep 3600')] }));
    const kept = await eventually(async () => { const x = await getPod('kept'); return running(x) && x; }, 'kept running', 90_000);
    const before = (await runtime.listContainers(kept.metadata.uid)).map((x) => x.id).sort();
    expect(await stopKubelet('SIGTERM')).toBe(0);
    expect((await runtime.listContainers(kept.metadata.uid)).every((x) => x.state === 'running')).toBe(true);
    kubelet = startKubelet();
    // Proof the new kubelet has synced its pods: a new pod runs.
    await api('POST', `${NS}/pods`, pod('kept-after', { containers: [c('main', 'exec sleep 3600')] }));
    await eventually(async () => running(await getPod('kept-after')), 'kept-after running', 90_000);
    const after = await runtime.listContainers(kept.metadata.uid);
    expect(after.map((x) => x.id).sort()).toEqual(before);
    expect(after.every((x) => x.state === 'running')).toBe(true);
    expect((await getPod('kept')).status.containerStatuses[0].restartCount).toBe(0);
    for (const name of ['kept', 'kept-after']) await api('DELETE', `${NS}/pods/${name}`, { gracePeriodSeconds: 0 });
  });

  it('with --cleanup-on-exit stops and removes its pods\' containers and sandboxes on SIGTERM; the pods stay in the API', async () => {
    await stopKubelet('SIGTERM');
    kubelet = startKubelet('--cleanup-on-exit', '--cleanup-grace-period', '1');
    await api('POST', `${NS}/pods`, pod('cleaned', { containers: [c('main', 'exec sleep 3600'), c('side', 'exec sleep 3600')] }));
    const cleaned = await eventually(async () => { const x = await getPod('cleaned'); return running(x) && x; }, 'cleaned running', 90_000);
    const uid = cleaned.metadata.uid;
    expect((await runtime.listContainers(uid)).length).toBe(3); // the sandbox and two containers
    const started = Date.now();
    expect(await stopKubelet('SIGTERM')).toBe(0);
    // sleep as PID 1 ignores SIGTERM: the kubelet waited the 1 s it allows, then killed and removed.
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(await runtime.listContainers()).toEqual([]);
    expect((await api('GET', `${NS}/pods/cleaned`)).status).toBe(200);
    // A kubelet without the flag starts the pod's containers again: the state in the API is what counts.
    kubelet = startKubelet();
    await eventually(async () => (await runtime.listContainers(uid)).filter((x) => x.state === 'running').length === 3, 'cleaned recreated', 90_000);
    await api('DELETE', `${NS}/pods/cleaned`, { gracePeriodSeconds: 0 });
    await eventually(async () => (await runtime.listContainers(uid)).length === 0, 'cleaned removed', 60_000);
  });

  it('runs static pods from the manifest directory, mirrored into the API', async () => {
    const manifests = path.join(dir, 'manifests');
    mkdirSync(manifests, { recursive: true });
    const file = path.join(manifests, 'static-web.yaml');
    writeFileSync(file, `apiVersion: v1\nkind: Pod\nmetadata:\n  name: static-web\nspec:\n  containers:\n  - name: main\n    image: k8ts/busybox:latest\n    imagePullPolicy: IfNotPresent\n    command: ["sh", "-c", "echo static-hello; exec sleep 3600"]\n`);
    const name = `static-web-${NODE}`;
    const mirror = await eventually(async () => { const x = await getPod(name); return running(x) && x; }, 'mirror pod Running', 90_000);
    expect(mirror.metadata.annotations['kubernetes.io/config.mirror']).toBeTruthy();
    expect(mirror.metadata.ownerReferences[0]).toMatchObject({ kind: 'Node', name: NODE, controller: true });
    expect(await eventually(async () => { const l = await logs(name); return /static-hello/.test(l) && l; }, 'static pod logs')).toMatch(/static-hello/);
    const uid = mirror.metadata.annotations['kubernetes.io/config.hash'];
    const ids = (await runtime.listContainers(uid)).map((x) => x.id).sort();
    // Deleting the mirror does not stop the static pod: the mirror comes back, the containers stay.
    await api('DELETE', `${NS}/pods/${name}`);
    await eventually(async () => { const x = await getPod(name); return x?.metadata?.uid && x.metadata.uid !== mirror.metadata.uid && running(x); }, 'mirror recreated', 60_000);
    expect((await runtime.listContainers(uid)).map((x) => x.id).sort()).toEqual(ids);
    unlinkSync(file);
    await eventually(async () => (await api('GET', `${NS}/pods/${name}`)).status === 404, 'mirror removed', 60_000);
    await eventually(async () => (await runtime.listContainers(uid)).length === 0, 'static pod containers removed', 60_000);
  });
});
