import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, eventually, startTestApiserver, type TestApiserver } from './harness.js';
import { kubectlPair, normalise, type KubectlPair } from './kubectl-compare.js';

let api: TestApiserver;
let k: KubectlPair;
let cmUid = '';

const ts = (msAgo: number): string => new Date(Date.now() - msAgo).toISOString().replace(/\.\d+Z$/, 'Z');

async function event(ns: string, name: string, type: string, obj: { kind: string; name: string; apiVersion: string; uid?: string }, msAgo: number, count = 1): Promise<void> {
  const r = await call(api.url, 'POST', `/api/v1/namespaces/${ns}/events`, {
    apiVersion: 'v1', kind: 'Event', metadata: { name, labels: { t: 'x' } }, type, reason: `R-${name}`, message: `about ${obj.name} `, count,
    involvedObject: { ...obj, namespace: ns }, source: { component: 'tester', host: 'h1' }, firstTimestamp: ts(msAgo + 120_000), lastTimestamp: ts(msAgo),
  });
  expect(r.status).toBe(201);
}

beforeAll(async () => {
  api = await startTestApiserver();
  k = kubectlPair(api.url);
  await call(api.url, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } });
  await call(api.url, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'quiet' } });
  cmUid = (await call(api.url, 'POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web' } })).body.metadata.uid;
  await event('default', 'a', 'Normal', { kind: 'ConfigMap', name: 'web', apiVersion: 'v1', uid: cmUid }, 5_000);
  await event('default', 'b', 'Warning', { kind: 'Pod', name: 'p1', apiVersion: 'v1' }, 600_000, 5);
  await event('default', 'c', 'Normal', { kind: 'Deployment', name: 'web', apiVersion: 'apps/v1' }, 60_000);
  await event('other', 'd', 'Warning', { kind: 'Pod', name: 'p2', apiVersion: 'v1' }, 3_000);
});
afterAll(async () => {
  k?.cleanup();
  await api?.stop();
});

describe('k8ts-kubectl events, side by side with kubectl', () => {
  it('lists events oldest first, per namespace or all', async () => {
    const out = await k.same(['events']);
    expect(out.stdout.split('\n').slice(1, 4).map((l) => l.split(/\s{2,}/).at(-2))).toEqual(['Pod/p1', 'Deployment/web', 'ConfigMap/web']);
    await k.same(['events', '-A']);
    await k.same(['events', '-n', 'other']);
    await k.same(['events', '-A', '--no-headers']);
    await k.same(['events', '-n', 'quiet']);
  });

  it('filters with --for and --types', async () => {
    await k.same(['events', '--for', 'cm/web']);
    await k.same(['events', '--for', 'deployment.apps/web']);
    await k.same(['events', '--for=pod/p1']);
    await k.same(['events', '--for', 'pod/none']);
    await k.same(['events', '--types=Warning']);
    await k.same(['events', '--types', 'normal,warning', '-A']);
  });

  it('prints objects with -o', async () => {
    await k.same(['events', '-o', 'yaml']);
    await k.same(['events', '-o', 'json', '--for', 'cm/web']);
    await k.same(['events', '-o', 'jsonpath={.items[*].reason}']);
    await k.same(['events', '-o', 'name']);
  });

  it('reports errors as kubectl does', async () => {
    await k.same(['events', '--types=Info']);
    await k.same(['events', '--for', 'nosuch/x']);
    await k.same(['events', '-o', 'wide']);
  });

  it('-w prints the list, then new events as they come', async () => {
    const main = path.resolve(__dirname, '../packages/kubectl/dist/main.js');
    const env = { ...process.env, KUBECONFIG: k.kubeconfig, HOME: k.dir };
    const start = (cmd: string, args: string[]): { out: () => string; stop: () => void } => {
      const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      return { out: () => out, stop: () => { child.kill(); } };
    };
    const ours = start(process.execPath, [main, 'events', '-w', '--for', 'pod/p9']);
    const real = start('kubectl', [`--cache-dir=${k.dir}/cache`, 'events', '-w', '--for', 'pod/p9']);
    try {
      await event('default', 'w1', 'Normal', { kind: 'Pod', name: 'p9', apiVersion: 'v1' }, 1_000);
      await eventually(() => ours.out().includes('R-w1') && real.out().includes('R-w1'), 'both watches print the new event');
      await event('default', 'w2', 'Warning', { kind: 'Pod', name: 'p9', apiVersion: 'v1' }, 1_000);
      await eventually(() => ours.out().includes('R-w2') && real.out().includes('R-w2'), 'both watches print the second event');
      expect(normalise(ours.out())).toEqual(normalise(real.out()));
    } finally {
      ours.stop();
      real.stop();
    }
  });
});
