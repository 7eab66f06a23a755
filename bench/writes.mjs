#!/usr/bin/env node
// The apiserver's write rates through HTTP (as a process, over its own etcd): ConfigMap creates and merge-patch
// updates, Pod creates and strategic-merge label patches, and server-side applies of ConfigMaps. Every write records
// metadata.managedFields; run it before and after a change to see what a write costs. Then the three writes every
// scheduled pod costs (its create, its pods/binding, the scheduler's Scheduled Event), as the scheduler and the
// controller-manager make them, with three pod watchers open (an informer each: scheduler, controller-manager, a
// client): their sum against a create is the ceiling on "pods bound/s ÷ raw creates/s" when the apiserver is the
// bottleneck. Each row runs --n writes after the rows before warmed the process up (the first thousand writes of
// a fresh apiserver cost about twice as much: the JIT).
// Usage: node bench/writes.mjs [--n 1000] [--concurrency 16] [--no-apply]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { startApiserver, startEtcd } from '../scripts/lib/processes.mjs';

const { values: args } = parseArgs({ options: { n: { type: 'string', default: '1000' }, concurrency: { type: 'string', default: '16' }, 'no-apply': { type: 'boolean' } } });
const N = Number(args.n);
const C = Number(args.concurrency);

const dir = mkdtempSync(path.join(tmpdir(), 'k8ts-bench-writes-'));
const etcd = await startEtcd({ dataDir: path.join(dir, 'etcd') });
const apiserver = await startApiserver({ etcdEndpoint: etcd.endpoint, logFile: path.join(dir, 'apiserver.log') });
const http = new Pool(apiserver.url, { connections: C });
const req = async (method, p, body, contentType = 'application/json') => {
  const res = await http.request({ method, path: p, body: JSON.stringify(body), headers: { 'content-type': contentType, 'user-agent': 'bench/1' } });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`${method} ${p}: ${res.statusCode} ${text}`);
};
// The apiserver process's CPU time (user + system, ms): on a shared machine a steadier figure than the rate.
const cpuMs = () => {
  const fields = readFileSync(`/proc/${apiserver.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
};
async function rate(label, fn) {
  let next = 0;
  const t0 = performance.now();
  const c0 = cpuMs();
  await Promise.all(Array.from({ length: C }, async () => { while (next < N) await fn(next++); }));
  const perSec = N / ((performance.now() - t0) / 1000);
  const ms = (cpuMs() - c0) / N;
  console.log(`${label.padEnd(34)} ${perSec.toFixed(0).padStart(5)}/s   apiserver CPU ${ms.toFixed(2)} ms/write`);
  return ms;
}
const ns = '/api/v1/namespaces/default';
const pod = (i) => ({
  metadata: { name: `p${i}`, labels: { app: 'bench', i: String(i) } },
  spec: { containers: [{ name: 'app', image: 'busybox', command: ['sleep', '3600'], ports: [{ containerPort: 80 }], env: [{ name: 'A', value: '1' }], resources: { requests: { cpu: '10m' } } }] },
});
try {
  await rate('configmap creates', (i) => req('POST', `${ns}/configmaps`, { metadata: { name: `c${i}`, labels: { app: 'bench' } }, data: { a: '1', b: String(i) } }));
  await rate('configmap merge-patch updates', (i) => req('PATCH', `${ns}/configmaps/c${i}`, { data: { a: '2' } }, 'application/merge-patch+json'));
  await rate('pod creates', (i) => req('POST', `${ns}/pods`, pod(i)));
  await rate('pod strategic label patches', (i) => req('PATCH', `${ns}/pods/p${i}`, { metadata: { labels: { step: 'two' } } }, 'application/strategic-merge-patch+json'));
  await req('POST', '/api/v1/nodes', { metadata: { name: 'n1' } });
  await req('POST', '/api/v1/namespaces', { metadata: { name: 'sched' } });
  const ac = new AbortController();
  const watchers = await Promise.all([0, 1, 2].map(() => http.request({ method: 'GET', path: '/api/v1/pods?watch=true', signal: ac.signal, bodyTimeout: 0 })));
  for (const w of watchers) w.body.on('data', () => {}).on('error', () => {});
  const costs = {};
  const measured = async (label, fn) => { costs[label] = await rate(label, fn); };
  const sched = '/api/v1/namespaces/sched';
  await measured('pod creates, 3 pod watchers', (i) => req('POST', `${sched}/pods`, { ...pod(i), spec: { ...pod(i).spec, schedulerName: 'none' } }));
  await measured('pod bindings, 3 pod watchers', (i) => req('POST', `${sched}/pods/p${i}/binding`, { metadata: { name: `p${i}` }, target: { kind: 'Node', name: 'n1' } }));
  await measured('Scheduled event creates', (i) => req('POST', `${sched}/events`, {
    metadata: { name: `p${i}.${(0x187a1b2c3d4e5f00 + i).toString(16)}` },
    involvedObject: { kind: 'Pod', apiVersion: 'v1', namespace: 'sched', name: `p${i}`, uid: `uid-${i}` },
    reason: 'Scheduled', message: `Successfully assigned sched/p${i} to n1`, type: 'Normal', count: 1,
    firstTimestamp: '2026-12-03T00:00:00Z', lastTimestamp: '2026-12-03T00:00:00Z', source: { component: 'default-scheduler' },
    reportingComponent: 'default-scheduler', reportingInstance: '',
  }));
  ac.abort();
  const perPod = costs['pod creates, 3 pod watchers'] + costs['pod bindings, 3 pod watchers'] + costs['Scheduled event creates'];
  console.log(`a scheduled pod (create + binding + event) ${perPod.toFixed(2)} ms of apiserver CPU = ${(perPod / costs['pod creates, 3 pod watchers']).toFixed(2)} creates: bound/raw at most ${(costs['pod creates, 3 pod watchers'] / perPod).toFixed(2)} with the apiserver the bottleneck`);
  if (!args['no-apply']) {
    await rate('configmap server-side applies', (i) => req('PATCH', `${ns}/configmaps/c${i}?fieldManager=bench-apply&force=true`,
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${i}` }, data: { a: '3', c: 'x' } }, 'application/apply-patch+yaml'));
  }
} finally {
  await http.close();
  await apiserver.stop();
  await etcd.stop();
  rmSync(dir, { recursive: true, force: true });
}
