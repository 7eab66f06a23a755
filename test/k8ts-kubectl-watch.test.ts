import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, eventually, startTestApiserver, type TestApiserver } from './harness.js';
import { kubectlPair, normalise, type KubectlPair } from './kubectl-compare.js';

const MAIN = path.resolve(import.meta.dirname, '../packages/kubectl/dist/bundle/main.cjs');
let api: TestApiserver;
let k: KubectlPair;
const children: ChildProcess[] = [];

beforeAll(async () => {
  api = await startTestApiserver();
  k = kubectlPair(api.url);
  await call(api.url, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'w' } });
  await call(api.url, 'POST', '/api/v1/namespaces/w/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'first' } });
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill();
  k?.cleanup();
  await api?.stop();
});

/** Starts a watching kubectl as a process (ours from the build), collecting its stdout. */
function watcher(cmd: string, args: string[]): { out: () => string; err: () => string; child: ChildProcess } {
  const child = spawn(cmd, args, { env: { ...process.env, KUBECONFIG: k.kubeconfig, HOME: k.dir }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { err += d; });
  return { out: () => out, err: () => err, child };
}

describe.runIf(existsSync(MAIN))('k8ts-kubectl get -w, side by side with kubectl', () => {
  for (const args of [['get', 'cm', '-n', 'w', '-w'], ['get', 'cm', '-n', 'w', '--watch-only'], ['get', 'cm', '-n', 'w', '-w', '--output-watch-events'], ['get', 'cm', '-n', 'w', '-w', '-o', 'name']]) {
    it(`prints the list, then each change: ${args.join(' ')}`, async () => {
      // -v=6 logs each answer on stderr: the watch's shows when the stream is open.
      const ours = watcher(process.execPath, [MAIN, '-v=6', ...args]);
      const real = watcher('kubectl', [`--cache-dir=${k.dir}/cache`, '-v=6', ...args]);
      await eventually(() => ours.err().includes('watch=true') && real.err().includes('watch=true'), 'both watches open');
      const name = `c-${args.length}-${Date.now() % 1000}`;
      await call(api.url, 'POST', '/api/v1/namespaces/w/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } });
      await eventually(() => ours.out().includes(name) && real.out().includes(name), 'the ADDED row');
      await call(api.url, 'DELETE', `/api/v1/namespaces/w/configmaps/${name}`);
      const count = (s: string) => s.split(name).length - 1;
      await eventually(() => count(ours.out()) >= 2 && count(real.out()) >= 2, 'the DELETED row');
      ours.child.kill();
      real.child.kill();
      expect(normalise(ours.out())).toEqual(normalise(real.out()));
    });
  }
});
