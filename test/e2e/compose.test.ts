import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../harness.js';
import { describeWebScenario, type E2eTarget } from './scenario.js';
// @ts-expect-error plain JS modules shared with the scripts
import {
  ensureBaseImages, ensureCompose, ensureDockerEngine, ensureImages, ensureRouteLocalnet, restoreRouteLocalnet, socketPath,
} from '../../scripts/lib/docker.mjs';
// @ts-expect-error plain JS modules shared with the scripts
import { chooseProxyMode, freePort, which, writeKubeconfig } from '../../scripts/lib/processes.mjs';

// The whole cluster from docker-compose.yml: the end-to-end scenario (test/e2e/scenario.ts: apply, NodePort and
// Ingress from every pod, the REST API with curl, scale, a rolling update under a request loop, logs, `down` leaving no
// pod container and `up` resuming, delete) driven by the real kubectl and then by ours; then what only compose has:
// cluster DNS from a pod, a killed kubelet container adopting its pods, a lost node's pods recreated on the other.
// Its own compose project, network, cluster label, data directory and host ports, so that it shares the engine with
// the local clusters of other tests. Its kube-proxy programs the host's iptables (root), so it runs only when no
// other kube-proxy owns them. Traffic goes only to 127.0.0.1 and to the containers it created.
const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const PROJECT = 'k8ts-compose-test';
const CLUSTER = 'compose-test';
const OURS = path.join(ROOT, 'packages/kubectl/dist/bundle/main.cjs');

const isRoot = process.getuid?.() === 0;
const hasDocker = !!which('docker') || !!which('dockerd');
const skipWhy = !isRoot ? 'not root (its kube-proxy programs the host\'s iptables)'
  : !hasDocker ? 'no Docker (docker.io) installed'
  : (await chooseProxyMode()).mode !== 'iptables' ? 'another kube-proxy owns the host\'s iptables rules' : undefined;
if (skipWhy) process.stderr.write(`test/e2e/compose.test.ts skipped: ${skipWhy}\n`);

const manifests = (replicas: number) => `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: ${replicas}
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
        command: ["sh", "-c", "mkdir -p /www && echo $POD_NAME > /www/index.html && echo serving $POD_NAME && exec httpd -f -p 8080 -h /www"]
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
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: web }
spec:
  rules:
  - host: web.example.com
    http:
      paths: [{ path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }]
`;

describe.skipIf(!!skipWhy)('the docker compose cluster', () => {
  let dir = '';
  let compose: string[] = [];
  let env: NodeJS.ProcessEnv = {};
  let ports = { api: 0, http: 0, https: 0, proxy: 0 };
  let upSeconds = 0;
  let engine = '';
  let routeLocalnet: string | undefined;

  const dc = async (args: string[], timeout = 300_000) => {
    const [cmd, ...pre] = compose;
    const res = await run(cmd, [...pre, '-p', PROJECT, '-f', path.join(ROOT, 'docker-compose.yml'), '--env-file', path.join(dir, 'compose.env'), ...args],
      { env, cwd: ROOT, timeout, maxBuffer: 64 * 1024 * 1024 });
    return res.stdout;
  };
  const kubectl = async (...args: string[]) =>
    (await run('kubectl', ['--kubeconfig', path.join(dir, 'kubeconfig'), `--cache-dir=${dir}/kc`, ...args], { env: { ...process.env, HOME: dir }, timeout: 150_000 })).stdout;
  const docker = async (...args: string[]) => (await run('docker', args, { env, timeout: 60_000 })).stdout;
  const podContainers = async () => (await docker('ps', '-aq', '--filter', `label=io.k8ts.cluster=${CLUSTER}`)).trim().split(/\s+/).filter(Boolean);
  /** Running, not terminating web pods as `name node`. */
  const running = async () => (await kubectl('get', 'pods', '-l', 'app=web', '-o',
    'jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.phase} {.metadata.deletionTimestamp}{"\\n"}{end}'))
    .trim().split('\n').map((l) => l.trim().split(' ')).filter((f) => f[2] === 'Running' && !f[3]).map(([name, node]) => ({ name, node }));
  const nodeReady = async (node: string) => (await kubectl('get', 'node', node, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')).trim();
  const bothReady = () => eventually(async () => (await nodeReady('node-1')) === 'True' && (await nodeReady('node-2')) === 'True', 'both nodes Ready', 120_000);
  const curl = async (url: string, ...extra: string[]) => {
    const { stdout } = await run('curl', ['-sS', '--max-time', '3', ...extra, url], { timeout: 10_000 });
    return stdout.trim();
  };
  /** Asks `url` until every pod in `names` has answered (round-robin or random), within a bounded number of tries. */
  const answersFromAll = async (url: string, names: string[], ...extra: string[]) => {
    const seen = new Set<string>();
    for (let i = 0; i < 40 * names.length && seen.size < names.length; i++) seen.add(await curl(url, ...extra).catch(() => ''));
    return names.every((n) => seen.has(n));
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'k8ts-compose-'));
    compose = ensureCompose();
    const { socket } = await ensureDockerEngine();
    engine = socket;
    await ensureImages(engine);
    const base = await ensureBaseImages(engine);
    // What scripts/images does for a user: its kube-proxy cannot set it from inside its container. Put back after.
    routeLocalnet = ensureRouteLocalnet();
    ports = { api: await freePort(), http: await freePort(), https: await freePort(), proxy: await freePort() };
    const values: Record<string, string> = {
      K8TS_NODE_IMAGE: base.node, K8TS_ETCD_IMAGE: base.etcd, K8TS_DOCKER_SOCKET: socketPath(engine),
      K8TS_DATA_DIR: path.join(dir, 'data'), K8TS_NETWORK: PROJECT, K8TS_CLUSTER_NAME: CLUSTER,
      K8TS_APISERVER_PORT: String(ports.api), K8TS_INGRESS_HTTP_PORT: String(ports.http), K8TS_INGRESS_HTTPS_PORT: String(ports.https),
      K8TS_KUBE_PROXY_HEALTHZ_PORT: String(ports.proxy),
      // A lost node: NotReady 20 s after its last heartbeat, its pods evicted 2 s after the taint. Not shorter: a
      // kubelet container killed and started again on a loaded machine can take over 8 s to post its status, and its
      // pods were then evicted instead of adopted.
      K8TS_NODE_MONITOR_GRACE_PERIOD: '20s', K8TS_DEFAULT_UNREACHABLE_TOLERATION_SECONDS: '2', K8TS_DEFAULT_NOT_READY_TOLERATION_SECONDS: '2',
    };
    writeFileSync(path.join(dir, 'compose.env'), Object.entries(values).map(([k, v]) => `${k}=${v}\n`).join(''));
    // The environment overrides an env file in compose, and vitest.config.ts sets some of these for local clusters.
    env = { ...process.env, ...values, DOCKER_HOST: engine };
    writeKubeconfig(path.join(dir, 'kubeconfig'), `http://127.0.0.1:${ports.api}`);
    // Built once per run; the layers are cached across runs. Every k8ts service shares the image k8ts/k8ts:dev, so
    // building it for one of them is enough (docker-compose 1.29 would otherwise send the context and build per service).
    await dc(['build', 'etcd', 'apiserver'], 600_000);
    const t0 = performance.now();
    await dc(['up', '-d']);
    await bothReady();
    upSeconds = (performance.now() - t0) / 1000;
    process.stderr.write(`compose up → all nodes Ready: ${upSeconds.toFixed(1)} s\n`);
  }, 900_000);

  afterAll(async () => {
    if (!dir) return;
    await dc(['logs', '--no-color', '--tail', '200'], 60_000).then((logs) => writeFileSync(path.join(dir, 'compose.log'), logs)).catch(() => {});
    await dc(['down', '-v', '--timeout', '60'], 180_000).catch((err) => process.stderr.write(`compose down: ${err.message}\n`));
    // Its rules stay after it stops, as upstream's: remove them, so that the host's tables are free again.
    await dc(['run', '--rm', '--no-deps', 'kube-proxy', 'kube-proxy', '--cleanup'], 120_000).catch((err) => process.stderr.write(`kube-proxy --cleanup: ${err.message}\n`));
    await dc(['down', '-v'], 120_000).catch(() => {});
    for (const id of await podContainers().catch(() => [])) await docker('rm', '-f', id).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    restoreRouteLocalnet(routeLocalnet);
  }, 400_000);

  const ours = async (...args: string[]) =>
    (await run(process.execPath, [OURS, '--kubeconfig', path.join(dir, 'kubeconfig'), `--cache-dir=${dir}/kc-ours`, ...args],
      { env: { ...process.env, HOME: dir }, timeout: 150_000 })).stdout;
  /** The stack as the shared scenario's target: the real kubectl or ours; down and up only once (with the real one). */
  const target = (cli: 'kubectl' | 'k8ts-kubectl') => async (): Promise<E2eTarget> => ({
    kubectl: cli === 'kubectl' ? kubectl : ours,
    apiserverUrl: `http://127.0.0.1:${ports.api}`,
    nodePortHost: '127.0.0.1',
    ingressUrl: `http://127.0.0.1:${ports.http}`,
    ingressAddress: /^127\.0\.0\.1$/, // --publish-status-address in docker-compose.yml
    dockerHost: engine,
    containerLabels: [`io.k8ts.cluster=${CLUSTER}`],
    // down leaves no pod container behind (--cleanup-on-exit); up resumes the same objects from etcd's volume.
    restart: cli === 'kubectl' ? async () => {
      await dc(['down', '--timeout', '60'], 180_000);
      expect(await podContainers()).toEqual([]);
      await dc(['up', '-d']);
      await bothReady();
    } : undefined,
    teardown: async () => {},
  });

  describeWebScenario('end to end on the compose cluster (the real kubectl)', target('kubectl'));
  if (existsSync(OURS)) describeWebScenario('end to end on the compose cluster (k8ts-kubectl)', target('k8ts-kubectl'));

  it('serves cluster DNS to pods; a restarted kubelet adopts its containers; a lost node\'s pods come back on the other', { timeout: 420_000 }, async () => {
    writeFileSync(path.join(dir, 'web.yaml'), manifests(4));
    await kubectl('apply', '-f', path.join(dir, 'web.yaml'));
    await eventually(async () => {
      const pods = await running();
      return pods.length === 4 && new Set(pods.map((p) => p.node)).size === 2;
    }, '4 replicas Running over both nodes', 120_000);
    let names = (await running()).map((p) => p.name);
    const nodePort = Number(await kubectl('get', 'service', 'web', '-o', 'jsonpath={.spec.ports[0].nodePort}'));
    expect(nodePort).toBeGreaterThan(0);

    // Inside a pod: the Service by its DNS name (the cluster DNS through kube-dns' ClusterIP) and its ClusterIP.
    const fetchByName = async () => (await kubectl('exec', names[0], '--', 'sh', '-c',
      'printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 3 web.default.svc.cluster.local 80')).trim().split('\n').pop() ?? '';
    await eventually(async () => names.includes(await fetchByName().catch(() => '')), 'a pod reaching web.default.svc.cluster.local', 60_000);

    // A kubelet killed and started again adopts its pods' containers: same containers, not restarted.
    const before = (await podContainers()).sort();
    await dc(['kill', 'kubelet-node-1']);
    await dc(['start', 'kubelet-node-1']);
    await eventually(async () => (await nodeReady('node-1')) === 'True', 'node-1 Ready again', 60_000);
    await eventually(async () => (await running()).length === 4, 'the 4 pods Running', 30_000);
    expect((await podContainers()).sort()).toEqual(before);
    expect((await kubectl('get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].status.containerStatuses[0].restartCount}')).trim()).toBe('0 0 0 0');

    // Node loss: node-2's kubelet stops (removing its containers); node-2 goes NotReady, its pods come back on node-1.
    await dc(['stop', 'kubelet-node-2']);
    await eventually(async () => (await nodeReady('node-2')) !== 'True', 'node-2 NotReady', 60_000);
    await eventually(async () => { const p = await running(); return p.length === 4 && p.every((x) => x.node === 'node-1'); }, 'all 4 replicas Running on node-1', 120_000);
    names = (await running()).map((p) => p.name);
    await eventually(() => answersFromAll(`http://127.0.0.1:${nodePort}/`, names), 'the NodePort answering from the replacements', 60_000);
    await dc(['start', 'kubelet-node-2']);
    await eventually(async () => (await nodeReady('node-2')) === 'True', 'node-2 Ready again', 60_000);

    // Everything deleted: the pods' containers go.
    await kubectl('delete', '-f', path.join(dir, 'web.yaml'), '--wait=false');
    await eventually(async () => (await kubectl('get', 'pods', '-l', 'app=web', '-o', 'name')).trim() === '', 'the pods gone', 90_000);
    await eventually(async () => (await podContainers()).length === 0, 'their containers gone', 60_000);
  });
});
