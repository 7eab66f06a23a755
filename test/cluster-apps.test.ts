import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JS module shared with scripts/
import { freePort, startKubelet } from '../scripts/lib/processes.mjs';
import { eventually, readWatch } from './harness.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const built = existsSync(path.join(ROOT, 'packages/controller-manager/dist/main.js')) && existsSync(path.join(ROOT, 'packages/kubelet/dist/main.js'));
const NS = 'apps';

interface PodLite { name: string; node: string; deleting: boolean; ready: boolean; phase: string; created: string; readySince: string; env: string }

/**
 * `scripts/cluster up --nodes 2`, then DaemonSets and StatefulSets driven with the real kubectl: the controller
 * manager's daemonset and statefulset controllers with real kubelets running real containers, and a third kubelet
 * joining.
 */
describe.skipIf(!built)('DaemonSets and StatefulSets on a 2-node local cluster with the real kubectl', { timeout: 240_000 }, () => {
  let dir = '';
  let env: NodeJS.ProcessEnv = {};
  let server = '';
  const state = () => path.join(dir, 'state');
  const cluster = (...args: string[]) => run(path.join(ROOT, 'scripts/cluster'), [...args, '--state-dir', state()], { timeout: 300_000 });
  const kubectl = async (...args: string[]) => (await run('kubectl', [`--cache-dir=${dir}/kc`, '-n', NS, ...args], { env, timeout: 150_000 })).stdout;
  /** Polls at a gentle pace (each look runs kubectl on a 2-core machine) until the condition holds or the deadline passes. */
  const until = <T>(fn: () => Promise<T>, what: string, ms = 90_000) => eventually(async () => {
    const v = await fn();
    if (!v) await new Promise((r) => setTimeout(r, 250));
    return v;
  }, what, ms);
  const pods = async (app: string): Promise<PodLite[]> => {
    const tpl = '{range .items[*]}{.metadata.name}|{.spec.nodeName}|{.metadata.deletionTimestamp}|{.status.conditions[?(@.type=="Ready")].status}|'
      + '{.status.phase}|{.metadata.creationTimestamp}|{.status.conditions[?(@.type=="Ready")].lastTransitionTime}|{.spec.containers[0].env[0].value}{"\\n"}{end}';
    const out = await kubectl('get', 'pods', '-l', `app=${app}`, '-o', `jsonpath=${tpl}`);
    return out.split('\n').filter(Boolean).map((l) => {
      const [name, node, deleting, ready, phase, created, readySince, envValue] = l.split('|');
      return { name, node, deleting: Boolean(deleting), ready: ready === 'True', phase, created, readySince, env: envValue };
    });
  };
  const settled = (app: string, n: number, ok: (p: PodLite) => boolean = () => true) => until(async () => {
    const p = await pods(app);
    return p.length === n && p.every((x) => !x.deleting && x.ready && ok(x)) && p;
  }, `${n} settled ${app} pods`);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'k8ts-apps-'));
    await cluster('up', '--detach', '--no-build', '--port', '0', '--nodes', '2', '--kubelet-port', String(await freePort('127.0.1.1')));
    env = { ...process.env, KUBECONFIG: path.join(state(), 'kubeconfig'), HOME: dir };
    server = (await run('kubectl', ['config', 'view', '-o', 'jsonpath={.clusters[0].cluster.server}'], { env })).stdout.trim();
    await until(async () => { const o = await kubectl('get', 'nodes'); return /node-1\s+Ready/.test(o) && /node-2\s+Ready/.test(o); }, 'two Ready nodes', 60_000);
    // (kubectl create namespace sends protobuf, which k8ts does not decode: apply a manifest.)
    writeFileSync(path.join(dir, 'ns.yaml'), `apiVersion: v1\nkind: Namespace\nmetadata: { name: ${NS} }\n`);
    await kubectl('apply', '-f', path.join(dir, 'ns.yaml'));
  }, 600_000);

  afterAll(async () => {
    if (!dir) return;
    await cluster('down').catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('runs one DaemonSet pod per node, rolls it out and back, and a third kubelet joining gets one within seconds', async () => {
    const file = path.join(dir, 'ds.yaml');
    writeFileSync(file, `apiVersion: apps/v1
kind: DaemonSet
metadata: { name: agent }
spec:
  selector: { matchLabels: { app: agent } }
  template:
    metadata: { labels: { app: agent } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: agent
        image: k8ts/busybox:latest
        imagePullPolicy: IfNotPresent
        command: ["sh", "-c", "exec sleep 3600"]
        env: [{ name: V, value: "1" }]
`);
    await kubectl('apply', '-f', file);
    expect((await kubectl('rollout', 'status', 'ds/agent', '--timeout=120s')).trim().split('\n').at(-1)).toBe('daemon set "agent" successfully rolled out');
    let running = await settled('agent', 2);
    expect(running.map((p) => p.node).sort()).toEqual(['node-1', 'node-2']);
    expect((await kubectl('get', 'ds', 'agent', '--no-headers'))).toMatch(/^agent\s+2\s+2\s+2\s+2\s+2\s+<none>\s+\S+\n$/);

    expect(await kubectl('set', 'env', 'ds/agent', 'V=2')).toBe('daemonset.apps/agent env updated\n');
    expect((await kubectl('rollout', 'status', 'ds/agent', '--timeout=120s')).trim().split('\n').at(-1)).toBe('daemon set "agent" successfully rolled out');
    running = await settled('agent', 2, (p) => p.env === '2');
    expect(await kubectl('rollout', 'history', 'ds/agent')).toMatch(/REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n/);
    expect(await kubectl('rollout', 'undo', 'ds/agent')).toBe('daemonset.apps/agent rolled back\n');
    expect((await kubectl('rollout', 'status', 'ds/agent', '--timeout=120s')).trim().split('\n').at(-1)).toBe('daemon set "agent" successfully rolled out');
    await settled('agent', 2, (p) => p.env === '1');

    const dockerHost = /DOCKER_HOST=(\S+)/.exec((await cluster('env')).stdout)![1];
    const joined = Date.now();
    const node3 = await startKubelet({
      apiserverUrl: server, nodeName: 'node-3', nodeIP: '127.0.1.3', port: await freePort('127.0.1.3'), dockerSocket: dockerHost,
      rootDir: path.join(dir, 'node-3'), logFile: path.join(dir, 'node-3.log'),
      extraArgs: ['--cluster-name', JSON.parse(readFileSync(path.join(state(), 'pids.json'), 'utf8')).clusterName],
    });
    try {
      const on3 = await until(async () => (await pods('agent')).find((p) => p.node === 'node-3' && p.phase === 'Running'), 'an agent pod Running on node-3', 60_000);
      const seconds = (Date.now() - joined) / 1000;
      console.log(`daemon pod Running on the joining node-3 ${seconds.toFixed(1)} s after its kubelet started (${on3.name})`);
      expect(seconds).toBeLessThan(30);
      await settled('agent', 3);
      await kubectl('delete', 'ds', 'agent');
      await until(async () => (await pods('agent')).length === 0, 'agent pods gone', 90_000);
    } finally {
      await node3.stop();
    }
    await kubectl('delete', 'node', 'node-3');
  });

  it('brings StatefulSet pods up in order with stable DNS names, takes them down in reverse, and rolls out and back', async () => {
    // Pod events from now on, to check the order of creates, readiness and deletes.
    const events: string[] = [];
    const watching = new AbortController();
    const seen = readWatch(`${server}/api/v1/namespaces/${NS}/pods?watch=true&labelSelector=app%3Dweb`, (ev) => {
      const name = ev.object.metadata.name;
      const ready = ev.object.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
      const note = (e: string) => { if (!events.includes(e)) events.push(e); };
      if (ev.type === 'ADDED' && !ev.object.metadata.deletionTimestamp) note(`create ${name}`);
      if (ready && !ev.object.metadata.deletionTimestamp) note(`ready ${name}`);
      if (ev.object.metadata.deletionTimestamp || ev.type === 'DELETED') note(`delete ${name}`);
    }, { signal: watching.signal }).catch(() => undefined);
    const file = path.join(dir, 'sts.yaml');
    writeFileSync(file, `apiVersion: v1
kind: Service
metadata: { name: web }
spec: { clusterIP: None, selector: { app: web }, ports: [{ name: http, port: 80 }] }
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: web }
spec:
  serviceName: web
  replicas: 3
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: k8ts/busybox:latest
        imagePullPolicy: IfNotPresent
        command: ["sh", "-c", "hostname -f; exec sleep 3600"]
        env: [{ name: V, value: "1" }]
`);
    await kubectl('apply', '-f', file);
    expect((await kubectl('rollout', 'status', 'sts/web', '--timeout=180s')).trim().split('\n').at(-1)).toBe('partitioned roll out complete: 3 new pods have been updated...');
    const up = await settled('web', 3);
    expect(up.map((p) => p.name).sort()).toEqual(['web-0', 'web-1', 'web-2']);
    expect(events.filter((e) => !e.startsWith('delete'))).toEqual(['create web-0', 'ready web-0', 'create web-1', 'ready web-1', 'create web-2', 'ready web-2']);
    expect(await kubectl('get', 'sts', 'web', '--no-headers')).toMatch(/^web\s+3\/3\s+\S+\n$/);
    expect(await eventually(async () => { const l = await kubectl('logs', 'web-1'); return l.trim() && l; }, 'web-1 logs')).toBe(`web-1.web.${NS}.svc.cluster.local\n`);

    // The headless Service names each pod: another pod resolves web-2.web.<ns>.svc through the cluster DNS (the FQDN:
    // busybox's nslookup applies no search domains to a name with a dot). The pod asks until it gets an answer: the
    // record follows the EndpointSlice, which may trail the pod's readiness on a loaded machine.
    const client = path.join(dir, 'client.yaml');
    writeFileSync(client, `apiVersion: v1
kind: Pod
metadata: { name: client }
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: k8ts/busybox:latest
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "for i in $(seq 60); do nslookup web-2.web.${NS}.svc.cluster.local && break; sleep 1; done; sleep 1"]
`);
    await kubectl('apply', '-f', client);
    const ip = (await kubectl('get', 'pod', 'web-2', '-o', 'jsonpath={.status.podIP}')).trim();
    const answer = new RegExp(`Name:\\s+web-2\\.web\\.${NS}\\.svc\\.cluster\\.local\\s+Address:?\\s+${ip.replaceAll('.', '\\.')}\\b`);
    await until(async () => answer.test(await kubectl('logs', 'client').catch(() => '')), 'nslookup web-2.web.<ns>.svc answering web-2\'s IP', 90_000);
    await kubectl('delete', 'pod', 'client', '--wait=false');

    // Scale to 1: web-2 goes, then web-1.
    await kubectl('scale', 'sts/web', '--replicas=1');
    await settled('web', 1);
    expect(events.filter((e) => e.startsWith('delete'))).toEqual(['delete web-2', 'delete web-1']);

    // Back to 3, then a new env: replaced from the top; history; undo.
    await kubectl('scale', 'sts/web', '--replicas=3');
    await settled('web', 3);
    events.length = 0;
    await kubectl('set', 'env', 'sts/web', 'V=2');
    expect((await kubectl('rollout', 'status', 'sts/web', '--timeout=180s')).trim().split('\n').at(-1)).toBe('partitioned roll out complete: 3 new pods have been updated...');
    await settled('web', 3, (p) => p.env === '2');
    expect(events.filter((e) => e.startsWith('delete'))).toEqual(['delete web-2', 'delete web-1', 'delete web-0']);
    expect(await kubectl('rollout', 'history', 'sts/web')).toMatch(/REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n/);
    expect(await kubectl('rollout', 'undo', 'sts/web')).toBe('statefulset.apps/web rolled back\n');
    expect((await kubectl('rollout', 'status', 'sts/web', '--timeout=180s')).trim().split('\n').at(-1)).toBe('partitioned roll out complete: 3 new pods have been updated...');
    await settled('web', 3, (p) => p.env === '1');
    watching.abort();
    await seen;
    await kubectl('delete', '-f', file);
    await until(async () => (await pods('web')).length === 0, 'web pods gone', 90_000);
  });
});
