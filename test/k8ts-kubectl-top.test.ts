import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestApiserver, type TestApiserver } from './harness.js';
import { kubectlPair, normalise, type KubectlPair } from './kubectl-compare.js';

// metrics.k8s.io as our apiserver serves it from the kubelets' /stats/summary: here one fake kubelet on 127.0.0.1
// (as test/top.test.ts), a second node without one (kubectl prints <unknown> for it).
const MiB = 2 ** 20;
const now = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
const container = (name: string, nanoCores: number, bytes: number) => ({
  name, cpu: { time: now(), usageNanoCores: nanoCores, usageCoreNanoSeconds: nanoCores * 60 }, memory: { time: now(), workingSetBytes: bytes },
});
const summary = () => ({
  node: { nodeName: 'node-1', cpu: { time: now(), usageNanoCores: 1e9 }, memory: { time: now(), workingSetBytes: 2048 * MiB } },
  pods: [
    { podRef: { name: 'web', namespace: 'default', uid: 'u1' }, containers: [container('app', 200e6, 48 * MiB), container('sidecar', 50e6, 16 * MiB)] },
    { podRef: { name: 'api', namespace: 'default', uid: 'u3' }, containers: [container('app', 300e6, 8 * MiB)] },
    { podRef: { name: 'db', namespace: 'prod', uid: 'u2' }, containers: [container('db', 100e6, 32 * MiB)] },
  ],
});

let api: TestApiserver;
let k: KubectlPair;
let kubelet: Server;

beforeAll(async () => {
  kubelet = createServer((req, res) => {
    if (req.url !== '/stats/summary') { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(summary()));
  });
  await new Promise<void>((resolve) => kubelet.listen(0, '127.0.0.1', resolve));
  api = await startTestApiserver();
  k = kubectlPair(api.url);
  const node = (name: string, port: number) => call(api.url, 'POST', '/api/v1/nodes', {
    metadata: { name, labels: { pool: name } },
    status: {
      capacity: { cpu: '4', memory: '8Gi', pods: '110' }, allocatable: { cpu: '3', memory: '6Gi', pods: '110' },
      addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: port } },
    },
  });
  // node-2's kubelet port refuses connections: no metrics for it.
  const created = [await node('node-1', (kubelet.address() as AddressInfo).port), await node('node-2', 1), await call(api.url, 'POST', '/api/v1/namespaces', { metadata: { name: 'prod' } })];
  for (const [ns, name] of [['default', 'web'], ['default', 'api'], ['prod', 'db']]) {
    created.push(await call(api.url, 'POST', `/api/v1/namespaces/${ns}/pods`, {
      metadata: { name, labels: { app: name } }, spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'k8ts/busybox:latest' }] },
    }));
  }
  created.push(await call(api.url, 'POST', '/api/v1/namespaces', { metadata: { name: 'quiet' } }));
  created.push(await call(api.url, 'POST', '/api/v1/namespaces/quiet/pods', {
    metadata: { name: 'lonely' }, spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'k8ts/busybox:latest' }] },
  }));
  expect(created.map((r) => r.status)).toEqual([201, 201, 201, 201, 201, 201, 201, 201]);
});
afterAll(async () => {
  k?.cleanup();
  await api?.stop();
  kubelet?.close();
});

async function same(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const { ours, real } = await k.both(args);
  expect({ code: ours.code, stdout: normalise(ours.stdout), stderr: normalise(ours.stderr) })
    .toEqual({ code: real.code, stdout: normalise(real.stdout), stderr: normalise(real.stderr) });
  return ours;
}

describe('k8ts-kubectl top, side by side with kubectl', () => {
  it('prints pods, containers, sums and sorts', async () => {
    const out = await same(['top', 'pods']);
    expect(out.stdout).toBe('NAME   CPU(cores)   MEMORY(bytes)   \napi    300m         8Mi             \nweb    250m         64Mi            \n');
    await same(['top', 'pod', '-A']);
    await same(['top', 'po', 'web', '--containers']);
    await same(['top', 'pods', '--containers', '-A']);
    await same(['top', 'pods', '--sort-by=memory']);
    await same(['top', 'pods', '--sort-by', 'cpu', '-A', '--no-headers']);
    await same(['top', 'pods', '--sum']);
    await same(['top', 'pods', '-l', 'app=db', '-n', 'prod']);
  });

  it('prints nodes against allocatable or capacity', async () => {
    const nodes = await same(['top', 'nodes']);
    expect(nodes.stdout).toMatch(/^NAME +CPU\(cores\) +CPU\(%\) +MEMORY\(bytes\) +MEMORY\(%\) +\nnode-1 +1000m +33% +2048Mi +33% +\nnode-2 +<unknown> +<unknown> +<unknown> +<unknown> +\n$/);
    await same(['top', 'nodes', '-l', 'pool=node-2']);
    await same(['top', 'node', 'node-1', '--show-capacity']);
    await same(['top', 'no', '--no-headers']);
  });

  it('reports errors as kubectl does', async () => {
    await same(['top', 'pods', '-l', 'app=none']);
    await same(['top', 'pod', 'nope']);
    await same(['top', 'node', 'nope']);
    await same(['top']);
    // A pod younger than 2 minutes without metrics: "not available yet" (older ones are named with their age).
    const quiet = await same(['top', 'pods', '-n', 'quiet']);
    expect(quiet.stderr).toBe('error: metrics not available yet\n');
  });
});
