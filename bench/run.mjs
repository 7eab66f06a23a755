#!/usr/bin/env node
// npm run bench: every figure is a ratio against the raw part measured in the same run.
// Usage: node bench/run.mjs [--only apiserver|memory|scheduler|pods|controller-manager|daemonset|dns|kube-proxy|ingress|hpa|streaming|kubectl|cluster|compose] [--n 2000] [--concurrency 32]
//        [--sched-cases labels:1000:3000,rs:1000:3000,labels:5000:10000] [--sched-concurrency 64]
//        [--deploy-replicas 1000] [--deploy-nodes 100] [--rollout-replicas 100] [--ds-nodes 500]
import { execFile, spawn } from 'node:child_process';
import { connect } from 'node:net';
import dgram from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import dnsPacket from 'dns-packet';
import { Etcd3 } from 'etcd3';
import { Pool } from 'undici';
import { ensureDockerEngine, ensureImages, socketPath } from '../scripts/lib/docker.mjs';
import { benchCluster } from './cluster.mjs';
import { benchComposeUp } from './compose-up.mjs';
import { benchEndpointPropagation } from './endpoint-propagation.mjs';
import { benchIngress } from './ingress.mjs';
import { benchKubeProxy } from './kube-proxy.mjs';
import { benchKubectl } from './kubectl.mjs';
import { cpuSeconds, rssMiB, settledRss } from './measure.mjs';
import { freePort, startApiserver, startControllerManager, startDns, startEtcd, startKubelet, startScheduler } from '../scripts/lib/processes.mjs';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '2000' }, concurrency: { type: 'string', default: '32' }, 'watch-samples': { type: 'string', default: '300' },
    pods: { type: 'string', default: '40' }, only: { type: 'string' },
    'sched-cases': { type: 'string', default: 'labels:1000:3000,rs:1000:3000,labels:5000:10000' }, 'sched-concurrency': { type: 'string', default: '64' }, 'sched-rounds': { type: 'string', default: '3' },
    'deploy-replicas': { type: 'string', default: '1000' }, 'deploy-nodes': { type: 'string', default: '100' },
    'rollout-replicas': { type: 'string', default: '100' }, 'ds-nodes': { type: 'string', default: '500' },
    'dns-queries': { type: 'string', default: '20000' }, 'dns-services': { type: 'string', default: '500' },
    'exec-runs': { type: 'string', default: '15' }, 'forward-mib': { type: 'string', default: '64' },
  },
});
const N = Number(args.n);
const C = Number(args.concurrency);
const SAMPLES = Number(args['watch-samples']);

const pod = (name) => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name, namespace: 'bench', labels: { app: 'bench', tier: 'load' } },
  spec: { containers: [{ name: 'app', image: 'k8ts/busybox:latest', command: ['sleep', '3600'], resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
});

/** Runs `count` async tasks with `concurrency` in flight; returns ops/s. */
async function throughput(count, concurrency, task) {
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) await task(next++);
  }));
  return count / ((performance.now() - start) / 1000);
}

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };
const fmt = (x, d = 1) => x.toFixed(d);

async function benchApiserver() {
  const dir = mkdtempSync(path.join(tmpdir(), 'k8ts-bench-'));
  const etcd = await startEtcd({ dataDir: path.join(dir, 'etcd') });
  const apiserver = await startApiserver({ etcdEndpoint: etcd.endpoint, logFile: path.join(dir, 'apiserver.log') });
  const raw = new Etcd3({ hosts: etcd.endpoint });
  const http = new Pool(apiserver.url, { connections: C, pipelining: 1 });
  const req = async (method, p, body, contentType = 'application/json') => {
    const res = await http.request({ method, path: p, body: body && JSON.stringify(body), headers: { 'content-type': contentType } });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`${method} ${p}: ${res.statusCode} ${text}`);
    return JSON.parse(text);
  };
  try {
    await req('POST', '/api/v1/namespaces', { metadata: { name: 'bench' } });
    // 1. Creates: the same pod bytes as a raw etcd put vs a POST through the apiserver.
    const bytes = Buffer.from(JSON.stringify(pod('raw-0')));
    const rawRate = await throughput(N, C, (i) => raw.put(`/bench/raw/pods/bench/raw-${i}`).value(bytes).exec());
    const apiRate = await throughput(N, C, (i) => req('POST', '/api/v1/namespaces/bench/pods', pod(`pod-${i}`)));
    console.log(`apiserver pod creates/s: ${fmt(apiRate, 0)}   raw etcd3 puts/s: ${fmt(rawRate, 0)}   ratio ${fmt(apiRate / rawRate, 2)} (N=${N}, concurrency ${C}, ${bytes.length} B)`);

    // 2. Watch delivery: time from issuing a write to the watcher holding its event, one write at a time.
    const rawLat = [];
    {
      const watcher = await raw.watch().prefix('/bench/watch/').create();
      let waiting;
      watcher.on('put', () => waiting?.());
      for (let i = 0; i < SAMPLES; i++) {
        const t0 = performance.now();
        const seen = new Promise((r) => { waiting = r; });
        await raw.put(`/bench/watch/k${i % 10}`).value(bytes).exec();
        await seen;
        rawLat.push(performance.now() - t0);
      }
      await watcher.cancel();
    }
    const apiLat = [];
    {
      await req('POST', '/api/v1/namespaces/bench/configmaps', { metadata: { name: 'watched' }, data: { i: '0' } });
      const list = await req('GET', '/api/v1/namespaces/bench/configmaps?fieldSelector=metadata.name%3Dwatched');
      const ac = new AbortController();
      const res = await http.request({ method: 'GET', path: `/api/v1/namespaces/bench/configmaps?watch=true&resourceVersion=${list.metadata.resourceVersion}&fieldSelector=metadata.name%3Dwatched`, signal: ac.signal, bodyTimeout: 0 });
      let waiting;
      let buf = '';
      res.body.on('data', (chunk) => {
        buf += chunk.toString();
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) { buf = buf.slice(nl + 1); waiting?.(); }
      });
      for (let i = 1; i <= SAMPLES; i++) {
        const t0 = performance.now();
        const seen = new Promise((r) => { waiting = r; });
        await req('PATCH', '/api/v1/namespaces/bench/configmaps/watched', { data: { i: String(i) } }, 'application/merge-patch+json');
        await seen;
        apiLat.push(performance.now() - t0);
      }
      ac.abort();
      res.body.destroy();
    }
    const [a50, a99, r50, r99] = [pct(apiLat, 50), pct(apiLat, 99), pct(rawLat, 50), pct(rawLat, 99)];
    console.log(`watch delivery p50: apiserver ${fmt(a50, 2)} ms   raw etcd ${fmt(r50, 2)} ms   ratio ${fmt(a50 / r50, 2)}`);
    console.log(`watch delivery p99: apiserver ${fmt(a99, 2)} ms   raw etcd ${fmt(r99, 2)} ms   ratio ${fmt(a99 / r99, 2)}   (${SAMPLES} sequential writes each)`);
  } finally {
    await http.close();
    raw.close();
    await apiserver.stop();
    await etcd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** apiserver RSS on its own process: idle, after 10,000 objects, and after a storm of hostile requests. */
async function benchMemory() {
  const OBJECTS = 10_000;
  const STORM = 5_000;
  const dir = mkdtempSync(path.join(tmpdir(), 'k8ts-bench-mem-'));
  const etcd = await startEtcd({ dataDir: path.join(dir, 'etcd') });
  const apiserver = await startApiserver({ etcdEndpoint: etcd.endpoint, logFile: path.join(dir, 'apiserver.log') });
  const http = new Pool(apiserver.url, { connections: C, pipelining: 1 });
  const send = async (method, p, body, contentType = 'application/json') => {
    const res = await http.request({ method, path: p, body, headers: { 'content-type': contentType } });
    await res.body.text();
    return res.statusCode;
  };
  try {
    await send('POST', '/api/v1/namespaces', JSON.stringify({ metadata: { name: 'mem' } }));
    const idle = await settledRss(apiserver.pid);
    await throughput(OBJECTS, C, (i) => send('POST', '/api/v1/namespaces/mem/configmaps', JSON.stringify({ metadata: { name: `cm-${i}`, labels: { app: 'mem' } }, data: { k: `v-${i}` } })));
    const loaded = await settledRss(apiserver.pid);
    const huge = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'huge' }, spec: { containers: [{ name: 'c', image: 'i', args: ['x'.repeat(2 * 1024 * 1024)] }] } });
    const deep = `{"metadata":{"name":"deep"},"data":${'{"a":'.repeat(10_001)}1${'}'.repeat(10_001)}}`;
    const storm = [
      () => send('POST', '/api/v1/namespaces/mem/pods', huge),
      () => send('POST', '/api/v1/namespaces/mem/configmaps', deep),
      () => send('POST', '/apis/discovery.k8s.io/v1/namespaces/mem/endpointslices', '{"metadata":{"name":"x"},"addressType":"IPv4","ports":"x"}'),
      () => send('PATCH', '/api/v1/namespaces/mem/configmaps/cm-0', '{"metadata":"x"}', 'application/merge-patch+json'),
      () => send('PATCH', '/api/v1/namespaces/mem/configmaps/cm-1', JSON.stringify([{ op: 'add', path: '/metadata/annotations', value: { a: 'x'.repeat(30_000) } }, ...Array.from({ length: 100 }, (_, k) => ({ op: 'copy', from: '/metadata/annotations', path: `/metadata/annotations/k${k}` }))]), 'application/json-patch+json'),
    ];
    let stormed = 0;
    await throughput(STORM, C, async (i) => { if ((await storm[i % storm.length]()) < 500) stormed++; });
    const peak = rssMiB(apiserver.pid);
    const after = await settledRss(apiserver.pid, 30_000);
    console.log(`apiserver RSS: idle ${fmt(idle, 0)} MiB   after ${OBJECTS} objects ${fmt(loaded, 0)} MiB   after a storm of ${STORM} hostile requests ${fmt(after, 0)} MiB (peak ${fmt(peak, 0)} MiB; ${stormed} answered 4xx)   ratio after/loaded ${fmt(after / loaded, 2)}`);
  } finally {
    await http.close();
    await apiserver.stop();
    await etcd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Pod startup: create → Running seen through a watch, vs raw Engine API create+start of the same two containers. */
async function benchPodStartup() {
  const PODS = Number(args.pods);
  const dir = mkdtempSync(path.join(tmpdir(), 'k8ts-bench-pods-'));
  const engine = await ensureDockerEngine();
  await ensureImages(engine.socket);
  const docker = new Pool('http://docker', { socketPath: socketPath(engine.socket), connections: 4 });
  const dockerCall = async (method, p, body) => {
    const res = await docker.request({ method, path: `/v1.41${p}`, body: body && JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`${method} ${p}: ${res.statusCode} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
  const etcd = await startEtcd({ dataDir: path.join(dir, 'etcd') });
  const apiserver = await startApiserver({ etcdEndpoint: etcd.endpoint, logFile: path.join(dir, 'apiserver.log') });
  const nodeIP = '127.0.1.250';
  const node = `bench-${process.pid}`;
  const kubelet = await startKubelet({
    apiserverUrl: apiserver.url, nodeName: node, nodeIP, port: await freePort(nodeIP), dockerSocket: engine.socket,
    rootDir: path.join(dir, 'kubelet'), logFile: path.join(dir, 'kubelet.log'),
  });
  const http = new Pool(apiserver.url, { connections: 4 });
  const req = async (method, p, body) => {
    const res = await http.request({ method, path: p, body: body && JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`${method} ${p}: ${res.statusCode} ${text}`);
    return JSON.parse(text);
  };
  try {
    // Raw: the pause container on the bridge, then the app container in its network namespace, created and started.
    const raw = [];
    const label = { 'io.k8ts.bench': String(process.pid) };
    for (let i = 0; i < PODS; i++) {
      const t0 = performance.now();
      const sb = await dockerCall('POST', '/containers/create', { Image: 'k8ts/pause:latest', Labels: label, HostConfig: { NetworkMode: 'bridge', IpcMode: 'shareable' } });
      await dockerCall('POST', `/containers/${sb.Id}/start`);
      const app = await dockerCall('POST', '/containers/create', {
        Image: 'k8ts/busybox:latest', Cmd: ['sleep', '3600'], Labels: label,
        HostConfig: { NetworkMode: `container:${sb.Id}`, IpcMode: `container:${sb.Id}` },
      });
      await dockerCall('POST', `/containers/${app.Id}/start`);
      raw.push(performance.now() - t0);
    }
    const mine = await dockerCall('GET', `/containers/json?all=true&filters=${encodeURIComponent(JSON.stringify({ label: [`io.k8ts.bench=${process.pid}`] }))}`);
    await Promise.all(mine.map((c) => dockerCall('DELETE', `/containers/${c.Id}?force=true`)));

    await req('POST', '/api/v1/namespaces', { metadata: { name: 'bench' } });
    const list = await req('GET', '/api/v1/namespaces/bench/pods');
    const waiting = new Map();
    const ac = new AbortController();
    const watch = await http.request({ method: 'GET', path: `/api/v1/namespaces/bench/pods?watch=true&resourceVersion=${list.metadata.resourceVersion}`, signal: ac.signal, bodyTimeout: 0 });
    let buf = '';
    watch.body.on('data', (chunk) => {
      buf += chunk.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const ev = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (ev.object?.status?.phase === 'Running') waiting.get(ev.object.metadata.name)?.();
      }
    });
    watch.body.on('error', () => undefined);
    const k8ts = [];
    for (let i = 0; i < PODS; i++) {
      const name = `p${i}`;
      const running = new Promise((r) => waiting.set(name, r));
      const t0 = performance.now();
      await req('POST', '/api/v1/namespaces/bench/pods', {
        metadata: { name }, spec: { nodeName: node, terminationGracePeriodSeconds: 0, containers: [{ name: 'app', image: 'k8ts/busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] },
      });
      await running;
      k8ts.push(performance.now() - t0);
    }
    ac.abort();
    for (let i = 0; i < PODS; i++) await req('DELETE', `/api/v1/namespaces/bench/pods/p${i}`, { gracePeriodSeconds: 0 });
    const [k50, k99, r50, r99] = [pct(k8ts, 50), pct(k8ts, 99), pct(raw, 50), pct(raw, 99)];
    console.log(`pod startup p50: k8ts ${fmt(k50, 0)} ms   raw Docker create+start (pause + app) ${fmt(r50, 0)} ms   ratio ${fmt(k50 / r50, 2)}`);
    console.log(`pod startup p99: k8ts ${fmt(k99, 0)} ms   raw Docker create+start (pause + app) ${fmt(r99, 0)} ms   ratio ${fmt(k99 / r99, 2)}   (${PODS} pods, one at a time)`);
  } finally {
    await http.close();
    // The kubelet removes the pods' containers when it sees them gone; give it a bounded moment, then stop it.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const left = await dockerCall('GET', `/containers/json?all=true&filters=${encodeURIComponent(JSON.stringify({ label: [`io.kubernetes.node.name=${node}`] }))}`).catch(() => []);
      if (!left.length || Date.now() > deadline) {
        await Promise.all(left.map((c) => dockerCall('DELETE', `/containers/${c.Id}?force=true`).catch(() => undefined)));
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    await kubelet.stop();
    await apiserver.stop();
    await etcd.stop();
    await docker.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** etcd and an apiserver as processes (as scripts/cluster starts them), a pooled HTTP client, and `post` that throws on a non-2xx. */
async function startControlPlane(prefix, nodeArgs = []) {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const etcd = await startEtcd({ dataDir: path.join(dir, 'etcd') });
  const apiserver = await startApiserver({ etcdEndpoint: etcd.endpoint, logFile: path.join(dir, 'apiserver.log'), nodeArgs });
  const http = new Pool(apiserver.url, { connections: C });
  const post = async (p, body) => {
    const res = await http.request({ method: 'POST', path: p, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`POST ${p}: ${res.statusCode} ${text}`);
    return JSON.parse(text);
  };
  const stop = async () => {
    await http.close();
    await apiserver.stop();
    await etcd.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  return { dir, etcd, apiserver, post, http, stop };
}

/** `n` plain pod creates in namespace `raw`: the rate a bench compares its own against, in the same run. */
const rawPodRate = (post, n) => throughput(n, C, (i) => post('/api/v1/namespaces/raw/pods', { ...pod(`raw-${i}`), metadata: { name: `raw-${i}`, namespace: 'raw' } }));

/** `n` Ready nodes `n-<i>` written through the API (no kubelet behind them), `size` their capacity and allocatable. */
const postReadyNodes = (post, n, size) => throughput(n, C, (i) => post('/api/v1/nodes', {
  apiVersion: 'v1', kind: 'Node', metadata: { name: `n-${i}`, labels: { 'kubernetes.io/hostname': `n-${i}` } },
  status: { capacity: size, allocatable: size, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] },
}));

/** The scheduler and the controller-manager as their own processes on the plane's apiserver, each pushed onto `procs` once started. */
async function startSchedulerAndControllerManager({ dir, apiserver }, procs) {
  procs.push(await startScheduler({ apiserverUrl: apiserver.url, logFile: path.join(dir, 'scheduler.log') }));
  procs.push(await startControllerManager({ apiserverUrl: apiserver.url, logFile: path.join(dir, 'controller-manager.log') }));
}

/**
 * The scheduler in the shape users have: etcd, apiserver and scheduler as separate processes (as scripts/cluster
 * starts them), fake Ready nodes written through the API, pods created at --sched-concurrency (64) while the
 * scheduler runs, and a pod counted as scheduled when its binding (spec.nodeName) shows in a pod watch. Beside it,
 * the in-process decision rate (filter + score + assume, no API) on the same shape, with the "scheduling explained"
 * records on and off. Cases: `shape:nodes:pods`, shape `labels` (one shared label set, no owner) or `rs` (owned by a
 * ReplicaSet that selects them, so default spreading applies). SCHED_PROF=<dir> writes CPU profiles of the
 * scheduler and apiserver processes there.
 */
async function benchScheduler() {
  const { ApiClient } = await import('../packages/api/dist/index.js');
  const { FakeInformerFactory } = await import('../packages/api/dist/testing.js');
  const { Scheduler, defaultProfile } = await import('../packages/scheduler/dist/index.js');
  const SC = Number(args['sched-concurrency']);
  const prof = process.env.SCHED_PROF;
  const fakeNode = (name) => ({
    apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    status: {
      capacity: { cpu: '32', memory: '64Gi', pods: '110' }, allocatable: { cpu: '32', memory: '64Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }],
    },
  });
  const replicaSet = {
    apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web-5d4f8', namespace: 'sched', uid: 'rs-uid' },
    spec: { replicas: 0, selector: { matchLabels: { app: 'web', 'pod-template-hash': '5d4f8' } }, template: { metadata: { labels: { app: 'web', 'pod-template-hash': '5d4f8' } }, spec: { containers: [{ name: 'app', image: 'k8ts/busybox:latest' }] } } },
  };
  const fakePod = (shape, i, rsUid = 'rs-uid') => ({
    apiVersion: 'v1', kind: 'Pod',
    metadata: shape === 'rs'
      ? { name: `web-5d4f8-${i}`, namespace: 'sched', uid: `uid-${i}`, labels: { app: 'web', 'pod-template-hash': '5d4f8' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5d4f8', uid: rsUid, controller: true, blockOwnerDeletion: true }] }
      : { name: `p-${i}`, namespace: 'sched', uid: `uid-${i}`, labels: { app: 'sched-bench' } },
    spec: { schedulerName: 'default-scheduler', containers: [{ name: 'app', image: 'k8ts/busybox:latest', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
    status: { phase: 'Pending' },
  });
  const inProcess = (shape, N, P, explain) => {
    const informers = new FakeInformerFactory(shape === 'rs' ? [replicaSet] : []);
    const offline = new Scheduler({ client: new ApiClient({ server: 'http://127.0.0.1:1' }), informers, profile: defaultProfile({ informers }), explainedPods: explain ? undefined : 0 });
    for (let i = 0; i < N; i++) offline.cache.addNode(fakeNode(`n-${i}`));
    const t0 = performance.now();
    for (let i = 0; i < P; i++) {
      const pod = fakePod(shape, i);
      const r = offline.schedulePod(pod, offline.cache.snapshot());
      if (r.node === undefined) throw new Error(`pod ${i} did not fit`);
      offline.cache.assume(pod, r.node);
    }
    return P / ((performance.now() - t0) / 1000);
  };
  for (const spec of args['sched-cases'].split(',')) {
    const [shape, nodesArg, podsArg] = spec.split(':');
    const [N, P] = [Number(nodesArg), Number(podsArg)];
    if (!['labels', 'rs'].includes(shape) || !(N > 0) || !(P > 0)) throw new Error(`--sched-cases: "${spec}" is not labels|rs:<nodes>:<pods>`);
    // Warmed up, then each way in turn, best of --sched-rounds (3), so neither gets the JIT's or the heap's head
    // start and other load on the machine (which only ever slows a round down) counts least.
    const Q = Math.min(P, 3000);
    inProcess(shape, N, Math.min(P, 1000), true);
    let [decisions, decisionsPlain] = [0, 0];
    for (let round = 0; round < Number(args['sched-rounds']); round++) {
      decisionsPlain = Math.max(decisionsPlain, inProcess(shape, N, Q, false));
      decisions = Math.max(decisions, inProcess(shape, N, Q, true));
    }

    const plane = await startControlPlane('k8ts-bench-sched-', prof ? ['--cpu-prof', '--cpu-prof-dir', prof, '--cpu-prof-name', `apiserver-${shape}-${N}.cpuprofile`] : []);
    const { apiserver, post, http } = plane;
    const ac = new AbortController();
    let scheduler;
    try {
      await post('/api/v1/namespaces', { metadata: { name: 'sched' } });
      await throughput(N, SC, (i) => post('/api/v1/nodes', fakeNode(`n-${i}`)));
      let rsUid;
      if (shape === 'rs') {
        const { uid: _u, ...metadata } = replicaSet.metadata;
        rsUid = (await post('/apis/apps/v1/namespaces/sched/replicasets', { ...replicaSet, metadata })).metadata.uid;
      }
      // The raw part, in this run: the same pod creates with no scheduler to take them (another schedulerName).
      await post('/api/v1/namespaces', { metadata: { name: 'raw' } });
      const RAW = Math.min(P, 3000);
      const rawRate = await throughput(RAW, SC, (i) => post('/api/v1/namespaces/raw/pods', { ...fakePod(shape, i), metadata: { name: `raw-${i}`, namespace: 'raw', labels: { app: 'raw' } }, spec: { ...fakePod(shape, i).spec, schedulerName: 'none' }, status: undefined }));
      scheduler = await startScheduler({
        apiserverUrl: apiserver.url, logFile: path.join(plane.dir, 'scheduler.log'),
        nodeArgs: prof ? ['--cpu-prof', '--cpu-prof-dir', prof, '--cpu-prof-name', `scheduler-${shape}-${N}.cpuprofile`] : [],
      });
      // Leading (its Lease is held) before the clock starts, as a cluster that has been up a moment.
      const leaseDeadline = Date.now() + 30_000;
      for (;;) {
        const res = await http.request({ method: 'GET', path: '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler' });
        const lease = await res.body.json();
        if (res.statusCode === 200 && lease.spec?.holderIdentity) break;
        if (Date.now() > leaseDeadline) throw new Error('the scheduler did not take its Lease within 30 s');
        await new Promise((r) => setTimeout(r, 50));
      }
      const listRes = await http.request({ method: 'GET', path: '/api/v1/namespaces/sched/pods?limit=1' });
      const rv = (await listRes.body.json()).metadata.resourceVersion;
      const bound = new Set();
      let allBound;
      const done = new Promise((r) => { allBound = r; });
      const watch = await http.request({ method: 'GET', path: `/api/v1/namespaces/sched/pods?watch=true&resourceVersion=${rv}&allowWatchBookmarks=false`, signal: ac.signal, bodyTimeout: 0 });
      let buf = '';
      watch.body.on('data', (chunk) => {
        buf += chunk.toString();
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (!line.includes('"nodeName"')) continue;
          const ev = JSON.parse(line);
          if (ev.object?.spec?.nodeName) bound.add(ev.object.metadata.name);
          if (bound.size >= P) allBound();
        }
      });
      watch.body.on('error', () => undefined);
      const pids = { scheduler: scheduler.pid, apiserver: apiserver.pid, etcd: plane.etcd.pid, bench: process.pid };
      const cpu0 = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
      const t0 = performance.now();
      let createdAt = 0;
      const creating = throughput(P, SC, (i) => { const { uid: _u, ...metadata } = fakePod(shape, i, rsUid).metadata; return post('/api/v1/namespaces/sched/pods', { ...fakePod(shape, i), metadata, status: undefined }); })
        .then(() => { createdAt = performance.now(); });
      const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${bound.size}/${P} pods bound within 600 s`)), 600_000).unref());
      await Promise.race([Promise.all([done, creating]), timeout]);
      const seconds = (performance.now() - t0) / 1000;
      const cpuShare = Object.entries(pids).map(([k, pid]) => `${k} ${fmt((cpuSeconds(pid) - cpu0[k]) / seconds, 2)}`).join(', ');
      console.log(`scheduler ${shape === 'rs' ? 'ReplicaSet-owned pods' : 'pods sharing one label set'}, ${N} nodes: ${fmt(P / seconds, 0)} pods/s bound (seen in a watch; ${P} pods created at ${SC}-way while it runs, all created after ${fmt((createdAt - t0) / 1000, 1)} s, all bound after ${fmt(seconds, 1)} s; scheduler, apiserver, etcd as processes)   raw pod creates/s ${fmt(rawRate, 0)} (no scheduler)   in-process decisions ${fmt(decisions, 0)} pods/s (${fmt(decisionsPlain, 0)} without scheduling-explained records; best of ${args['sched-rounds']} × ${Math.min(P, 3000)} pods)   ratio bound/raw ${fmt(P / seconds / rawRate, 2)}   CPU cores used meanwhile: ${cpuShare}`);
    } finally {
      ac.abort();
      await scheduler?.stop();
      await plane.stop();
    }
  }
}

/**
 * The controller manager as users meet it: etcd, apiserver, scheduler and controller-manager as separate processes
 * (as scripts/cluster runs them), fake Ready nodes, and this process playing the kubelets (a pod bound to a node is
 * marked Running and Ready at once). Figures come from a pod watch, as a client sees them. CM_PROF=<dir> writes a CPU
 * profile of the apiserver process there.
 */
async function benchControllerManager() {
  const { ApiClient, Informer, PODS, DEPLOYMENTS } = await import('../packages/api/dist/index.js');
  const R = Number(args['deploy-replicas']);
  const NODES = Number(args['deploy-nodes']);
  const ROLL = Number(args['rollout-replicas']);
  const prof = process.env.CM_PROF;
  const plane = await startControlPlane('k8ts-bench-cm-', prof ? ['--cpu-prof', '--cpu-prof-dir', prof, '--cpu-prof-name', `apiserver-cm-${R}.cpuprofile`] : []);
  const { dir, apiserver, post } = plane;
  const client = new ApiClient({ server: apiserver.url });
  const procs = [];
  const ac = new AbortController();
  try {
    await post('/api/v1/namespaces', { metadata: { name: 'raw' } });
    await post('/api/v1/namespaces', { metadata: { name: 'cm' } });
    // The raw part, in this run: plain pod creates through the same apiserver.
    const rawCpu0 = cpuSeconds(apiserver.pid);
    const rawRate = await rawPodRate(post, R);
    const rawCpuMs = ((cpuSeconds(apiserver.pid) - rawCpu0) * 1000) / R;
    await postReadyNodes(post, NODES, { cpu: '64', memory: '256Gi', pods: '500' });
    await startSchedulerAndControllerManager(plane, procs);
    // The fake kubelets: a pod bound to a node runs and is Ready at once (only for the rollout: creating and binding
    // the big Deployment's pods needs no kubelet, and its status writes would only load the apiserver).
    let kubelets = false;
    const bound = new Set();
    const ready = new Set();
    const pods = new Informer({ client, def: PODS, namespace: 'cm' });
    const seen = new Set();
    let allSeenAt = 0;
    const onPod = (p) => {
      seen.add(p.metadata.uid);
      if (seen.size === R && !allSeenAt) allSeenAt = performance.now();
      if (!p.spec?.nodeName || p.metadata.deletionTimestamp) return;
      bound.add(p.metadata.uid);
      if (!kubelets || ready.has(p.metadata.uid)) return;
      ready.add(p.metadata.uid);
      const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      client.patch(PODS, 'cm', p.metadata.name, { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] } }, 'merge', { subresource: 'status' }).catch(() => ready.delete(p.metadata.uid));
    };
    pods.addHandler({ onAdd: onPod, onUpdate: (_o, p) => onPod(p), onDelete: (p) => { bound.delete(p.metadata.uid); } });
    const informing = pods.run(ac.signal);
    await pods.waitForSync(ac.signal);
    const deployment = (name, replicas, image) => ({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: 'cm' },
      spec: {
        replicas, selector: { matchLabels: { app: name } },
        template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image, resources: { requests: { cpu: '10m', memory: '16Mi' } } }] } },
      },
    });
    const waitFor = async (what, fn, limitMs = 600_000) => {
      const deadline = Date.now() + limitMs;
      while (!(await fn())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const pids = { apiserver: apiserver.pid, etcd: plane.etcd.pid, scheduler: procs[0].pid, 'controller-manager': procs[1].pid, bench: process.pid };
    const cpu0 = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
    let t0 = performance.now();
    await post('/apis/apps/v1/namespaces/cm/deployments', deployment('big', R, 'k8ts/busybox:1'));
    await waitFor(`${R} pods bound`, () => bound.size >= R);
    const bigSeconds = (performance.now() - t0) / 1000;
    const createdSeconds = (allSeenAt - t0) / 1000;
    const cpuUsed = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid) - cpu0[k]]));
    const cpuShare = Object.entries(cpuUsed).map(([k, used]) => `${k} ${fmt(used / bigSeconds, 2)}`).join(', ');
    console.log(`controller-manager: ${R}-replica Deployment created and bound in ${fmt(bigSeconds, 1)} s = ${fmt(R / bigSeconds, 0)} pods/s   raw pod creates/s ${fmt(rawRate, 0)}   ratio ${fmt(R / bigSeconds / rawRate, 2)} (all created after ${fmt(createdSeconds, 1)} s; ${NODES} fake nodes, scheduler and controller-manager as processes)`);
    // CPU time is what the other load on a shared machine disturbs least: the apiserver's per pod, against a raw create's.
    console.log(`controller-manager: apiserver CPU per pod created and bound ${fmt((cpuUsed.apiserver * 1000) / R, 2)} ms   per raw pod create ${fmt(rawCpuMs, 2)} ms   ratio raw/bound ${fmt(rawCpuMs / ((cpuUsed.apiserver * 1000) / R), 2)}   CPU cores used meanwhile: ${cpuShare}`);

    // A rolling update to a new template, timed until `kubectl rollout status` would say done.
    kubelets = true;
    await post('/apis/apps/v1/namespaces/cm/deployments', deployment('roll', ROLL, 'k8ts/busybox:1'));
    const done = async (name, generation) => {
      const d = await client.get(DEPLOYMENTS, 'cm', name);
      const s = d.status ?? {};
      return (s.observedGeneration ?? 0) >= (generation ?? d.metadata.generation) && s.updatedReplicas === ROLL && s.replicas === ROLL && s.availableReplicas === ROLL;
    };
    await waitFor('first rollout', () => done('roll', 1));
    t0 = performance.now();
    await client.patch(DEPLOYMENTS, 'cm', 'roll', { spec: { template: { spec: { containers: [{ name: 'app', image: 'k8ts/busybox:2' }] } } } }, 'strategic');
    await waitFor('rolling update', () => done('roll', 2));
    const rollSeconds = (performance.now() - t0) / 1000;
    console.log(`controller-manager: ${ROLL}-replica rolling update (25% surge/unavailable) done in ${fmt(rollSeconds, 1)} s (fake kubelets ready at once)`);
    ac.abort();
    await informing;
  } finally {
    ac.abort();
    for (const p of procs.reverse()) await p.stop();
    await client.close();
    await plane.stop();
  }
}

/**
 * HPA reaction time on a real node: a Deployment of CPU-burning containers (each capped at 50m, a 20m request) under an
 * HPA with a 50 % target; the load is a file in a hostPath directory they spin on. Seconds from creating the file to
 * the first scale-up, with the controller-manager's default 15 s sync period; the raw part is that period (an HPA
 * cannot react sooner than its next sync plus one metrics sample). Three trials, each after scaling back down
 * (a per-object scaleDown window of 1 s). Each trial starts the load as soon as the HPA's status shows it idle, which
 * is just after a sync: the figure is the worst case, a whole period (a load starting at a random moment waits half).
 */
async function benchHpa() {
  const { ApiClient, DEPLOYMENTS, HORIZONTALPODAUTOSCALERS } = await import('../packages/api/dist/index.js');
  const TRIALS = 3;
  const SYNC_S = 15;
  const engine = await ensureDockerEngine();
  await ensureImages(engine.socket);
  const plane = await startControlPlane('k8ts-bench-hpa-');
  const { dir, apiserver, post } = plane;
  const loadDir = path.join(dir, 'load');
  mkdirSync(loadDir);
  const client = new ApiClient({ server: apiserver.url });
  const procs = [];
  const nodeIP = '127.0.1.251';
  const node = `bench-hpa-${process.pid}`;
  try {
    await startSchedulerAndControllerManager(plane, procs);
    procs.push(await startKubelet({
      apiserverUrl: apiserver.url, nodeName: node, nodeIP, port: await freePort(nodeIP), dockerSocket: engine.socket,
      rootDir: path.join(dir, 'kubelet'), logFile: path.join(dir, 'kubelet.log'),
    }));
    await post('/api/v1/namespaces', { metadata: { name: 'hpa' } });
    await post('/apis/apps/v1/namespaces/hpa/deployments', {
      metadata: { name: 'burn' },
      spec: {
        replicas: 1, selector: { matchLabels: { app: 'burn' } },
        template: {
          metadata: { labels: { app: 'burn' } },
          spec: {
            terminationGracePeriodSeconds: 0, volumes: [{ name: 'load', hostPath: { path: loadDir } }],
            containers: [{
              name: 'main', image: 'k8ts/busybox:latest', imagePullPolicy: 'IfNotPresent',
              command: ['sh', '-c', 'while :; do if [ -e /load/on ]; then :; else sleep 1; fi; done'],
              resources: { requests: { cpu: '20m' }, limits: { cpu: '50m' } }, volumeMounts: [{ name: 'load', mountPath: '/load' }],
            }],
          },
        },
      },
    });
    await post('/apis/autoscaling/v2/namespaces/hpa/horizontalpodautoscalers', {
      metadata: { name: 'burn' },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'burn' }, minReplicas: 1, maxReplicas: 3,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
        behavior: { scaleDown: { stabilizationWindowSeconds: 1 } },
      },
    });
    const replicas = async () => (await client.get(DEPLOYMENTS, 'hpa', 'burn')).spec.replicas;
    const waitFor = async (what, ok, ms = 120_000) => {
      const deadline = Date.now() + ms;
      for (;;) {
        if (await ok()) return;
        if (Date.now() > deadline) throw new Error(`bench hpa: timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const hpaUtilization = async () => (await client.get(HORIZONTALPODAUTOSCALERS, 'hpa', 'burn'))
      .status?.currentMetrics?.[0]?.resource?.current?.averageUtilization;
    const times = [];
    for (let t = 0; t < TRIALS; t++) {
      // Idle and measured: one replica and a utilization below the target in the HPA's status.
      await waitFor('an idle, measured HPA', async () => (await replicas()) === 1 && (await hpaUtilization() ?? 100) < 50, 180_000);
      writeFileSync(path.join(loadDir, 'on'), '');
      const t0 = performance.now();
      await waitFor('the first scale-up', async () => (await replicas()) > 1);
      times.push((performance.now() - t0) / 1000);
      rmSync(path.join(loadDir, 'on'));
    }
    const mean = times.reduce((a, b) => a + b, 0) / times.length;
    console.log(`HPA reaction (load start → first scale-up, real node): ${times.map((x) => fmt(x)).join(' s, ')} s   mean ${fmt(mean)} s   sync period ${SYNC_S} s   ratio ${fmt(mean / SYNC_S, 2)}`);
  } finally {
    await client.close();
    for (const p of procs.reverse()) await p.stop();
    // The kubelet is gone: remove what it left of this node's containers.
    const docker = new Pool('http://docker', { socketPath: socketPath(engine.socket), connections: 2 });
    const res = await docker.request({ method: 'GET', path: `/v1.41/containers/json?all=true&filters=${encodeURIComponent(JSON.stringify({ label: [`io.kubernetes.node.name=${node}`] }))}` });
    const left = await res.body.json();
    await Promise.all(left.map((c) => docker.request({ method: 'DELETE', path: `/v1.41/containers/${c.Id}?force=true` }).then((r) => r.body.dump()).catch(() => undefined)));
    await docker.close();
    await plane.stop();
  }
}

/**
 * A DaemonSet over `--ds-nodes` fake nodes: seconds from its POST until every node's pod is bound (the daemonset
 * controller creates one pod per node pinned by node affinity, the scheduler binds them; both as their own processes),
 * against plain pod creates through the same apiserver in the same run.
 */
async function benchDaemonSet() {
  const { ApiClient, Informer, PODS } = await import('../packages/api/dist/index.js');
  const NODES = Number(args['ds-nodes']);
  const plane = await startControlPlane('k8ts-bench-ds-');
  const { dir, apiserver, post } = plane;
  const client = new ApiClient({ server: apiserver.url });
  const procs = [];
  const ac = new AbortController();
  try {
    await post('/api/v1/namespaces', { metadata: { name: 'raw' } });
    await post('/api/v1/namespaces', { metadata: { name: 'ds' } });
    const rawRate = await rawPodRate(post, NODES);
    await postReadyNodes(post, NODES, { cpu: '8', memory: '32Gi', pods: '110' });
    await startSchedulerAndControllerManager(plane, procs);
    const bound = new Map();
    const seen = new Set();
    let allSeenAt = 0;
    const pods = new Informer({ client, def: PODS, namespace: 'ds' });
    const onPod = (p) => {
      seen.add(p.metadata.uid);
      if (seen.size === NODES && !allSeenAt) allSeenAt = performance.now();
      if (p.spec?.nodeName && !p.metadata.deletionTimestamp) bound.set(p.spec.nodeName, p.metadata.uid);
    };
    pods.addHandler({ onAdd: onPod, onUpdate: (_o, p) => onPod(p) });
    const informing = pods.run(ac.signal);
    await pods.waitForSync(ac.signal);
    const t0 = performance.now();
    await post('/apis/apps/v1/namespaces/ds/daemonsets', {
      apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent', namespace: 'ds' },
      spec: {
        selector: { matchLabels: { app: 'agent' } },
        template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'agent', image: 'k8ts/busybox:1', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] } },
      },
    });
    const deadline = Date.now() + 600_000;
    while (bound.size < NODES) {
      if (Date.now() > deadline) throw new Error(`only ${bound.size}/${NODES} daemon pods bound within 600 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const seconds = (performance.now() - t0) / 1000;
    console.log(`daemonset: one pod on each of ${NODES} fake nodes bound in ${fmt(seconds, 1)} s = ${fmt(NODES / seconds, 0)} pods/s   raw pod creates/s ${fmt(rawRate, 0)}   ratio ${fmt(NODES / seconds / rawRate, 2)} (all created after ${fmt((allSeenAt - t0) / 1000, 1)} s; scheduler and controller-manager as processes)`);
    ac.abort();
    await informing;
  } finally {
    ac.abort();
    for (const p of procs.reverse()) await p.stop();
    await client.close();
    await plane.stop();
  }
}

/** C workers, each on its own UDP socket, asking `name()` one query at a time; a lost datagram is asked again. */
async function dnsThroughput(port, count, concurrency, name) {
  let sent = 0;
  let retries = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async (_, w) => {
    const sock = dgram.createSocket('udp4');
    await new Promise((r) => sock.bind(0, '127.0.0.1', r));
    let pending;
    sock.on('message', (msg) => { if (pending && msg.readUInt16BE(0) === pending.id) pending.resolve(msg); });
    try {
      while (sent < count) {
        const id = (sent++ * 7 + w) & 0xffff;
        const query = dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name: name() }] });
        for (;;) {
          const got = await new Promise((resolve) => {
            const timer = setTimeout(() => resolve(undefined), 1000);
            pending = { id, resolve: (m) => { clearTimeout(timer); resolve(m); } };
            sock.send(query, port, '127.0.0.1');
          });
          if (got) {
            if (dnsPacket.decode(got).answers?.[0]?.type !== 'A') throw new Error('no A record in the answer');
            break;
          }
          if (++retries > 100) throw new Error('too many lost DNS queries');
        }
      }
    } finally {
      sock.close();
    }
  }));
  return { rate: count / ((performance.now() - start) / 1000), retries };
}

async function benchDns() {
  const { ApiClient, NAMESPACES, SERVICES } = await import('../packages/api/dist/index.js');
  const dir = mkdtempSync(path.join(tmpdir(), 'k8ts-bench-dns-'));
  const etcd = await startEtcd({ dataDir: path.join(dir, 'etcd') });
  const apiserver = await startApiserver({ etcdEndpoint: etcd.endpoint, logFile: path.join(dir, 'apiserver.log') });
  const client = new ApiClient({ server: apiserver.url });
  const Q = Number(args['dns-queries']);
  const S = Number(args['dns-services']);
  let dns;
  let uncached;
  let raw;
  try {
    await client.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
    await throughput(S, 16, (i) => client.create(SERVICES, 'bench', { apiVersion: 'v1', kind: 'Service', metadata: { name: `web-${i}` }, spec: { ports: [{ name: 'http', port: 80 }] } }));
    const dnsArgs = ['--upstream-nameservers', 'none', '--register-service', 'false', '--log-level', 'warn'];
    dns = await startDns({ apiserverUrl: apiserver.url, logFile: path.join(dir, 'dns.log'), extraArgs: dnsArgs });
    uncached = await startDns({ apiserverUrl: apiserver.url, logFile: path.join(dir, 'dns-uncached.log'), extraArgs: [...dnsArgs, '--cache-size', '0'] });
    raw = spawn(process.execPath, [path.join(import.meta.dirname, 'minimal-dns.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
    const rawPort = Number(await new Promise((resolve, reject) => { raw.stdout.once('data', (d) => resolve(String(d).trim())); raw.once('exit', reject); }));
    const pick = () => `web-${Math.floor(Math.random() * S)}.bench.svc.cluster.local`;
    await dnsThroughput(dns.dnsPort, 1000, C, pick); // warm-up, and proof that every service resolves
    await dnsThroughput(uncached.dnsPort, 1000, C, pick);
    await dnsThroughput(rawPort, 1000, C, pick);
    const k = await dnsThroughput(dns.dnsPort, Q, C, pick);
    const u = await dnsThroughput(uncached.dnsPort, Q, C, pick);
    const r = await dnsThroughput(rawPort, Q, C, pick);
    console.log(`dns queries/s: k8ts-dns ${fmt(k.rate, 0)} (a cluster name among ${S} Services)   minimal Node responder (one fixed record) ${fmt(r.rate, 0)}   ratio ${fmt(k.rate / r.rate, 2)} (N=${Q}, concurrency ${C}, UDP; re-asked ${k.retries}/${r.retries})`);
    console.log(`dns queries/s without the answer cache (--cache-size 0): ${fmt(u.rate, 0)}   ratio ${fmt(u.rate / r.rate, 2)}`);
  } finally {
    raw?.kill('SIGTERM');
    await dns?.stop();
    await uncached?.stop();
    await client.close();
    await apiserver.stop();
    await etcd.stop();
    if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true }); else console.log(dir);
  }
}

/** Runs a whole process to its exit; resolves with its wall time in ms (rejects on a non-zero exit). */
function timed(cmd, argv, env) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    execFile(cmd, argv, { env, maxBuffer: 1 << 20 }, (err) => (err ? reject(err) : resolve(performance.now() - t0)));
  });
}

/** An HTTP/1.0 GET of `file` from host:port, read to the end; resolves with the bytes received. */
function fetchAll(host, port, file) {
  return new Promise((resolve, reject) => {
    let n = 0;
    const sock = connect({ host, port }, () => sock.write(`GET /${file} HTTP/1.0\r\n\r\n`));
    sock.on('data', (d) => { n += d.length; });
    sock.on('close', () => resolve(n));
    sock.on('error', reject);
  });
}

/**
 * Streaming: `kubectl exec <pod> -- true` against `docker exec <container> true` of the same container, both timed
 * as whole processes, alternated (the same pairing as `farm-bench -- kubectl exec … --vs 'docker exec …'`); and
 * port-forward throughput (one HTTP download through `kubectl port-forward`) against the same download straight
 * from the pod's IP on the Docker bridge.
 */
async function benchStreaming() {
  const RUNS = Number(args['exec-runs']);
  const MIB = Number(args['forward-mib']);
  const dir = mkdtempSync(path.join(tmpdir(), 'k8ts-bench-stream-'));
  const engine = await ensureDockerEngine();
  await ensureImages(engine.socket);
  const etcd = await startEtcd({ dataDir: path.join(dir, 'etcd') });
  const apiserver = await startApiserver({ etcdEndpoint: etcd.endpoint, logFile: path.join(dir, 'apiserver.log') });
  const nodeIP = '127.0.1.251';
  const node = `bench-stream-${process.pid}`;
  const kubelet = await startKubelet({
    apiserverUrl: apiserver.url, nodeName: node, nodeIP, port: await freePort(nodeIP), dockerSocket: engine.socket,
    rootDir: path.join(dir, 'kubelet'), logFile: path.join(dir, 'kubelet.log'),
  });
  const kubeconfig = path.join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\ncurrent-context: b\nclusters:\n- name: b\n  cluster: {server: ${apiserver.url}}\ncontexts:\n- name: b\n  context: {cluster: b, user: b}\nusers:\n- name: b\n  user: {}\n`);
  const env = { ...process.env, KUBECONFIG: kubeconfig, HOME: dir, DOCKER_HOST: `unix://${socketPath(engine.socket)}` };
  const kubectl = ['--cache-dir', path.join(dir, 'cache')];
  const http = new Pool(apiserver.url, { connections: 2 });
  const req = async (method, p, body) => {
    const res = await http.request({ method, path: p, body: body && JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`${method} ${p}: ${res.statusCode} ${text}`);
    return JSON.parse(text);
  };
  let forward;
  try {
    await req('POST', '/api/v1/namespaces/default/pods', {
      metadata: { name: 'stream' },
      spec: { nodeName: node, terminationGracePeriodSeconds: 0, containers: [{ name: 'app', image: 'k8ts/busybox:latest', imagePullPolicy: 'IfNotPresent',
        command: ['sh', '-c', `mkdir -p /w && head -c ${MIB * 1048576} /dev/zero > /w/big && exec httpd -f -p 80 -h /w`] }] },
    });
    let pod;
    for (const deadline = Date.now() + 60_000; ;) {
      pod = await req('GET', '/api/v1/namespaces/default/pods/stream');
      if (pod.status?.containerStatuses?.[0]?.ready || pod.status?.phase === 'Running') break;
      if (Date.now() > deadline) throw new Error('the streaming pod did not start');
      await new Promise((r) => setTimeout(r, 200));
    }
    const containerId = pod.status.containerStatuses[0].containerID.replace('docker://', '');
    const kube = [...kubectl, 'exec', 'stream', '--', 'true'];
    const dock = ['exec', containerId, 'true'];
    await timed('kubectl', kube, env); // warm-up (discovery cache, images)
    await timed('docker', dock, env);
    const k8ts = [];
    const raw = [];
    for (let i = 0; i < RUNS; i++) {
      k8ts.push(await timed('kubectl', kube, env));
      raw.push(await timed('docker', dock, env));
    }
    const [k50, r50] = [pct(k8ts, 50), pct(raw, 50)];
    console.log(`exec round trip p50: kubectl exec -- true ${fmt(k50, 0)} ms   docker exec true ${fmt(r50, 0)} ms   ratio ${fmt(k50 / r50, 2)}   (${RUNS} each, whole processes, alternated; farm-bench -- kubectl exec stream -- true --vs 'docker exec <id> true' measures the same)`);

    // Port-forward: the pod's file through kubectl port-forward vs straight from the pod IP.
    forward = spawn('kubectl', [...kubectl, 'port-forward', 'pod/stream', ':80'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    const local = await new Promise((resolve, reject) => {
      let out = '';
      forward.stdout.on('data', (d) => { out += d; const m = /127\.0\.0\.1:(\d+) ->/.exec(out); if (m) resolve(Number(m[1])); });
      forward.once('exit', (code) => reject(new Error(`kubectl port-forward exited (${code})`)));
    });
    const rate = async (host, port) => {
      await fetchAll(host, port, 'big'); // warm-up
      const t0 = performance.now();
      const n = await fetchAll(host, port, 'big');
      if (n < MIB * 1048576) throw new Error(`short download from ${host}:${port}: ${n} bytes`);
      return n / 1048576 / ((performance.now() - t0) / 1000);
    };
    const viaForward = await rate('127.0.0.1', local);
    const direct = await rate(pod.status.podIP, 80);
    console.log(`port-forward throughput: kubectl port-forward ${fmt(viaForward, 0)} MiB/s   direct to the pod IP ${fmt(direct, 0)} MiB/s   ratio ${fmt(viaForward / direct, 3)}   (${MIB} MiB HTTP download, one connection)`);
  } finally {
    forward?.kill();
    await req('DELETE', '/api/v1/namespaces/default/pods/stream', { gracePeriodSeconds: 0 }).catch(() => undefined);
    await http.close();
    const docker = new Pool('http://docker', { socketPath: socketPath(engine.socket), connections: 2 });
    const deadline = Date.now() + 30_000;
    for (;;) {
      const res = await docker.request({ method: 'GET', path: `/v1.41/containers/json?all=true&filters=${encodeURIComponent(JSON.stringify({ label: [`io.kubernetes.node.name=${node}`] }))}` });
      const left = JSON.parse(await res.body.text());
      if (!left.length || Date.now() > deadline) {
        for (const c of left) await (await docker.request({ method: 'DELETE', path: `/v1.41/containers/${c.Id}?force=true` })).body.dump();
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    await docker.close();
    await kubelet.stop();
    await apiserver.stop();
    await etcd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (!args.only || args.only === 'apiserver') await benchApiserver();
if (!args.only || args.only === 'memory') await benchMemory();
if (!args.only || args.only === 'scheduler') await benchScheduler();
if (!args.only || args.only === 'pods') await benchPodStartup();
if (!args.only || args.only === 'controller-manager') await benchControllerManager();
if (!args.only || args.only === 'daemonset') await benchDaemonSet();
if (!args.only || args.only === 'dns') await benchDns();
if (!args.only || args.only === 'kube-proxy') {
  await benchKubeProxy({ concurrency: C });
  await benchEndpointPropagation();
}
if (!args.only || args.only === 'ingress') await benchIngress({ concurrency: C });
if (!args.only || args.only === 'hpa') await benchHpa();
if (!args.only || args.only === 'streaming') await benchStreaming();
if (!args.only || args.only === 'kubectl') await benchKubectl();
if (!args.only || args.only === 'cluster') await benchCluster();
if (!args.only || args.only === 'compose') await benchComposeUp();
