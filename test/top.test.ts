import { execFile, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestApiserver, type TestApiserver } from './harness.js';
// @ts-expect-error plain JS module shared with scripts/cluster
import { writeKubeconfig } from '../scripts/lib/processes.mjs';

const run = promisify(execFile);
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;

const MiB = 2 ** 20;
const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
const cpu = (usageNanoCores: number) => ({ time: now(), usageNanoCores, usageCoreNanoSeconds: usageNanoCores * 60 });
const memory = (workingSetBytes: number) => ({ time: now(), workingSetBytes });
const container = (name: string, nanoCores: number, bytes: number) => ({ name, cpu: cpu(nanoCores), memory: memory(bytes) });

/** What the fake kubelet of node-1 reports: web (200m + 50m, 48Mi + 16Mi) in default, db in prod, and the node. */
const summary = () => ({
  node: { nodeName: 'node-1', cpu: cpu(1e9), memory: memory(2048 * MiB) },
  pods: [
    { podRef: { name: 'web', namespace: 'default', uid: 'u1' }, containers: [container('app', 200e6, 48 * MiB), container('sidecar', 50e6, 16 * MiB)] },
    { podRef: { name: 'db', namespace: 'prod', uid: 'u2' }, containers: [container('db', 100e6, 32 * MiB)] },
  ],
});

describe.skipIf(!hasKubectl)('kubectl top against the metrics.k8s.io API', () => {
  let s: TestApiserver;
  let kubelet: Server;
  let dir = '';
  const kubectl = async (...args: string[]) => (await run('kubectl', [
    `--kubeconfig=${path.join(dir, 'kubeconfig')}`, `--cache-dir=${path.join(dir, 'cache')}`, ...args,
  ], { env: { ...process.env, HOME: dir }, timeout: 60_000 })).stdout;
  const lines = (out: string) => out.trim().split('\n').map((l) => l.trim().split(/\s+/));

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'k8ts-top-'));
    kubelet = createServer((req, res) => {
      if (req.url !== '/stats/summary') { res.writeHead(404).end(); return; }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(summary()));
    });
    await new Promise<void>((resolve) => kubelet.listen(0, '127.0.0.1', resolve));
    s = await startTestApiserver();
    writeKubeconfig(path.join(dir, 'kubeconfig'), s.url);
    const created = await Promise.all([
      call(s.url, 'POST', '/api/v1/nodes', {
        metadata: { name: 'node-1' },
        status: {
          capacity: { cpu: '4', memory: '8Gi', pods: '110' }, allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
          addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
          daemonEndpoints: { kubeletEndpoint: { Port: (kubelet.address() as AddressInfo).port } },
        },
      }),
      call(s.url, 'POST', '/api/v1/namespaces', { metadata: { name: 'prod' } }),
    ]);
    const pod = (namespace: string, name: string) => call(s.url, 'POST', `/api/v1/namespaces/${namespace}/pods`, {
      metadata: { name, labels: { app: name } }, spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'k8ts/busybox:latest' }] },
    });
    created.push(await pod('default', 'web'), await pod('prod', 'db'));
    expect(created.map((r) => r.status)).toEqual([201, 201, 201, 201]);
  });

  afterAll(async () => {
    await s?.stop();
    kubelet?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('prints pod usage summed over containers, per namespace and across namespaces', async () => {
    expect(lines(await kubectl('top', 'pods'))).toEqual([['NAME', 'CPU(cores)', 'MEMORY(bytes)'], ['web', '250m', '64Mi']]);
    expect(lines(await kubectl('top', 'pods', '-A'))).toEqual([
      ['NAMESPACE', 'NAME', 'CPU(cores)', 'MEMORY(bytes)'], ['default', 'web', '250m', '64Mi'], ['prod', 'db', '100m', '32Mi'],
    ]);
    expect(lines(await kubectl('top', 'pods', '-A', '-l', 'app=db'))).toEqual([
      ['NAMESPACE', 'NAME', 'CPU(cores)', 'MEMORY(bytes)'], ['prod', 'db', '100m', '32Mi'],
    ]);
  });

  it('prints one pod per container', async () => {
    expect(lines(await kubectl('top', 'pod', 'web', '--containers'))).toEqual([
      ['POD', 'NAME', 'CPU(cores)', 'MEMORY(bytes)'], ['web', 'app', '200m', '48Mi'], ['web', 'sidecar', '50m', '16Mi'],
    ]);
  });

  it('prints node usage against allocatable', async () => {
    expect(lines(await kubectl('top', 'nodes'))).toEqual([
      ['NAME', 'CPU(cores)', 'CPU(%)', 'MEMORY(bytes)', 'MEMORY(%)'], ['node-1', '1000m', '25%', '2048Mi', '25%'],
    ]);
  });
});
