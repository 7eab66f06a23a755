#!/usr/bin/env node
// npm run bench: every figure is a ratio against the raw part measured in the same run.
// Usage: node bench/run.mjs [--only apiserver] [--n 2000] [--concurrency 32]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Etcd3 } from 'etcd3';
import { Pool } from 'undici';
import { startApiserver, startEtcd } from '../scripts/lib/processes.mjs';

const { values: args } = parseArgs({
  options: { n: { type: 'string', default: '2000' }, concurrency: { type: 'string', default: '32' }, 'watch-samples': { type: 'string', default: '300' } },
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

await benchApiserver();
