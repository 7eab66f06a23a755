// Endpoint propagation: milliseconds from a pod turning Ready (its status write answered by the apiserver) to the
// first request it serves through the NodePort, with requests arriving all the time. etcd, the apiserver, the
// controller-manager (endpoint and endpointslice controllers) and kube-proxy run as processes, as scripts/cluster
// starts them; kube-proxy keeps its default --iptables-min-sync-period (1 s), so that is part of the figure. The
// bench plays the kubelet: each "pod" is an HTTP server on 127.0.0.<n>, bound to a fake node, whose status the bench
// writes (Running and not ready, then Ready). Traffic goes only to 127.0.0.0/8.
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Pool } from 'undici';
import { startApiserver, startControllerManager, startEtcd, startKubeProxy, waitFor } from '../scripts/lib/processes.mjs';

const NS = 'default';

function backend(ip, port, name, onFirst) {
  let first = true;
  const server = http.createServer((req, res) => {
    if (first) { first = false; onFirst(performance.now()); }
    res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' }).end(`${name}\n`);
  });
  return new Promise((resolve, reject) => server.once('error', reject).listen(port, ip, () => resolve(server)));
}

/** Resolves undefined after ms without keeping the process alive. */
const timeout = (ms) => new Promise((r) => setTimeout(r, ms).unref());
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };

/** Runs the benchmark in userspace mode and prints p50/p99; returns the samples (ms). */
export async function benchEndpointPropagation({ samples = 30 } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'k8ts-bench-prop-'));
  const servers = [];
  let etcd; let apiserver; let cm; let proxy; let api;
  const stopLoad = new AbortController();
  let load;
  try {
    etcd = await startEtcd({ dataDir: path.join(dir, 'etcd') });
    apiserver = await startApiserver({ etcdEndpoint: etcd.endpoint, logFile: path.join(dir, 'apiserver.log') });
    cm = await startControllerManager({ apiserverUrl: apiserver.url, logFile: path.join(dir, 'cm.log'), extraArgs: ['--controllers', 'endpoint,endpointslice'] });
    proxy = await startKubeProxy({ apiserverUrl: apiserver.url, mode: 'userspace', nodePortAddresses: ['127.0.0.1'], nodeName: 'bench-node', logFile: path.join(dir, 'kube-proxy.log') });
    api = new Pool(apiserver.url, { connections: 4 });
    const req = async (method, p, body, contentType = 'application/json') => {
      const res = await api.request({ method, path: p, body: body && JSON.stringify(body), headers: { 'content-type': contentType } });
      const text = await res.body.text();
      if (res.statusCode >= 300) throw new Error(`${method} ${p}: ${res.statusCode} ${text}`);
      return JSON.parse(text);
    };
    await req('POST', '/api/v1/nodes', { metadata: { name: 'bench-node' } });
    const svc = await req('POST', `/api/v1/namespaces/${NS}/services`, {
      metadata: { name: 'prop' }, spec: { type: 'NodePort', selector: { app: 'prop' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    });
    const nodePort = svc.spec.ports[0].nodePort;
    const port = 8080;
    const status = (ip, ready) => ({
      status: {
        phase: 'Running', podIP: ip, podIPs: [{ ip }], hostIP: '127.0.0.1',
        conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: new Date().toISOString() }],
      },
    });
    const addPod = async (i, onFirst) => {
      const name = `prop-${i}`;
      const ip = `127.0.${10 + Math.floor(i / 200)}.${1 + (i % 200)}`;
      servers.push(await backend(ip, port, name, onFirst));
      await req('POST', `/api/v1/namespaces/${NS}/pods`, {
        metadata: { name, labels: { app: 'prop' } },
        spec: { nodeName: 'bench-node', containers: [{ name: 'app', image: 'k8ts/busybox:latest' }] },
      });
      await req('PATCH', `/api/v1/namespaces/${NS}/pods/${name}/status`, status(ip, false), 'application/merge-patch+json');
      return { name, ip };
    };
    const sliceState = async () => {
      const slices = await req('GET', `/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dprop`);
      return slices.items.flatMap((s) => (s.endpoints ?? []).map((e) => `${e.addresses[0]}=${e.conditions?.ready}`));
    };

    // One ready pod first, so that the load has somewhere to go.
    let seed;
    const seedServed = new Promise((r) => { seed = r; });
    const p0 = await addPod(0, seed);
    await req('PATCH', `/api/v1/namespaces/${NS}/pods/${p0.name}/status`, status(p0.ip, true), 'application/merge-patch+json');
    // The load: four clients, a new connection per request (userspace round-robins per connection), all the time.
    load = Promise.all(Array.from({ length: 4 }, async () => {
      const agent = new http.Agent({ keepAlive: false });
      while (!stopLoad.signal.aborted) {
        await new Promise((resolve) => {
          http.get({ host: '127.0.0.1', port: nodePort, path: '/', agent, timeout: 2000 }, (res) => { res.resume(); res.on('end', resolve); })
            .on('error', () => setTimeout(resolve, 5)).on('timeout', function () { this.destroy(); });
        });
      }
    }));
    if (await Promise.race([seedServed, timeout(30_000)]) === undefined) throw new Error('the first pod served nothing through the NodePort within 30 s');

    // The slice's own watch, to split the figure: Ready → the endpoint ready in the slice (apiserver, controller-manager)
    // and slice → first request (kube-proxy's informer and sync).
    const { ApiClient, ENDPOINTSLICES } = await import('../packages/api/dist/index.js');
    const watcher = new ApiClient({ server: apiserver.url });
    const readyAt = new Map();
    const watching = (async () => {
      for await (const ev of watcher.watch(ENDPOINTSLICES, NS, { signal: stopLoad.signal, labelSelector: 'kubernetes.io/service-name=prop' })) {
        for (const e of ev.object?.endpoints ?? []) if (e.conditions?.ready && !readyAt.has(e.addresses[0])) readyAt.set(e.addresses[0], performance.now());
      }
    })().catch(() => undefined);
    const latencies = [];
    const toSlice = [];
    for (let i = 1; i <= samples; i++) {
      let served;
      const firstServed = new Promise((r) => { served = r; });
      const p = await addPod(i, served);
      // Wait until the not-ready endpoint is published and kube-proxy's min sync period has passed since (twice: the
      // not-ready update may itself have been held back by it, as upstream's BoundedFrequencyRunner does), so each
      // sample starts from a settled state (as when a pod's readiness probe first passes some time after it started).
      await waitFor(async () => (await sliceState()).includes(`${p.ip}=false`), { timeoutMs: 30_000, what: `${p.name} not ready in the slice` });
      await new Promise((r) => setTimeout(r, 2200 + Math.random() * 1000));
      const t0 = performance.now();
      await req('PATCH', `/api/v1/namespaces/${NS}/pods/${p.name}/status`, status(p.ip, true), 'application/merge-patch+json');
      const t1 = await Promise.race([firstServed, timeout(30_000)]);
      if (t1 === undefined) throw new Error(`${p.name} served nothing through the NodePort within 30 s of turning Ready`);
      latencies.push(t1 - t0);
      if (readyAt.has(p.ip)) toSlice.push(readyAt.get(p.ip) - t0);
    }
    const f = (x) => x.toFixed(0);
    console.log(`endpoint propagation (userspace kube-proxy, --iptables-min-sync-period 1s): pod Ready → first request through the NodePort p50 ${f(pct(latencies, 50))} ms, p99 ${f(pct(latencies, 99))} ms, max ${f(Math.max(...latencies))} ms (N=${samples}, 4 clients, new connection per request)`);
    if (toSlice.length) console.log(`  of which pod Ready → endpoint ready in its EndpointSlice (seen by a watch): p50 ${f(pct(toSlice, 50))} ms, p99 ${f(pct(toSlice, 99))} ms`);
    await watcher.close();
    await watching;
    return latencies;
  } finally {
    stopLoad.abort();
    await load?.catch(() => undefined);
    await api?.close();
    await Promise.all(servers.map((s) => new Promise((r) => { s.closeAllConnections?.(); s.close(() => r()); })));
    await proxy?.stop();
    await cm?.stop();
    await apiserver?.stop();
    await etcd?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === import.meta.filename) await benchEndpointPropagation({ samples: Number(process.argv[2] ?? 30) });
