import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startLocalCluster } from './harness.js';
import { expectSame, normalise, runOurs, type KubectlResult } from './kubectl-compare.js';

// A 1-node local cluster with real containers (run under flock /tmp/k8ts-docker.lock): `kubectl logs` of ours and of
// the real kubectl on the same pods, and `describe` of running pods and the real node.
let c: Awaited<ReturnType<typeof startLocalCluster>>;

const MANIFESTS = `apiVersion: v1
kind: Pod
metadata: {name: two, labels: {app: logs}}
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
  - {name: init, image: k8ts/busybox:latest, imagePullPolicy: IfNotPresent, command: [sh, -c, "echo init-done"]}
  containers:
  - {name: a, image: k8ts/busybox:latest, imagePullPolicy: IfNotPresent, command: [sh, -c, "for i in 1 2 3 4 5; do echo a-$i; done; exec sleep 3600"]}
  - {name: b, image: k8ts/busybox:latest, imagePullPolicy: IfNotPresent, command: [sh, -c, "echo b-1; echo b-2; exec sleep 3600"]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ticker}
spec:
  replicas: 1
  selector: {matchLabels: {app: ticker}}
  template:
    metadata: {labels: {app: ticker}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {name: t, image: k8ts/busybox:latest, imagePullPolicy: IfNotPresent, command: [sh, -c, "echo start; while true; do if [ -f /tmp/go ]; then echo tick; rm /tmp/go; fi; sleep 0.2; done"]}
`;

const ours = (args: string[]): Promise<KubectlResult> => runOurs(args, c.env);

async function same(args: string[]): Promise<KubectlResult> {
  const mine = await ours(args);
  expectSame(mine, await c.kubectlStatus(...args));
  return mine;
}

/** As same(), but the output's lines in any order: each container's block keeps its own order in both. */
async function sameLines(args: string[]): Promise<void> {
  const mine = await ours(args);
  const real = await c.kubectlStatus(...args);
  const lines = (t: string) => normalise(t).split('\n').sort();
  expect({ code: mine.code, stdout: lines(mine.stdout), stderr: normalise(mine.stderr) })
    .toEqual({ code: real.code, stdout: lines(real.stdout), stderr: normalise(real.stderr) });
}

beforeAll(async () => {
  c = await startLocalCluster('k8ts-kubectl2-logs-', { nodes: 1 });
  await c.kubectl('apply', '-f', c.file('m.yaml', MANIFESTS));
  await c.kubectl('wait', '--for=condition=Ready', 'pod/two', '--timeout=180s');
  await eventually(async () => (await c.kubectl('get', 'pods', '-l', 'app=ticker', '-o', 'name')).trim() !== '', 'the deployment made its pod', 60_000);
  await c.kubectl('wait', '--for=condition=Ready', 'pod', '-l', 'app=ticker', '--timeout=180s');
  await eventually(async () => (await c.kubectl('logs', 'two', '-c', 'a')).includes('a-5') && (await c.kubectl('logs', 'two', '-c', 'b')).includes('b-2'), 'the containers wrote their lines', 60_000);
}, 400_000);
afterAll(async () => {
  await c?.down();
}, 120_000);

describe('k8ts-kubectl logs, side by side with kubectl on a live cluster', () => {
  it('prints a container log, with tail, timestamps, since and limits', async () => {
    await same(['logs', 'two']);
    await same(['logs', 'two', '-c', 'b']);
    await same(['logs', 'two', 'b']);
    await same(['logs', 'pod/two', '-c', 'a', '--tail=2']);
    await same(['logs', 'two', '-c', 'init']);
    await same(['logs', 'two', '-c', 'a', '--since=1h']);
    await same(['logs', 'two', '-c', 'a', '--limit-bytes=7']);
    const ts = await ours(['logs', 'two', '-c', 'b', '--timestamps']);
    expect(ts.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z b-1\n\S+ b-2\n$/);
  });

  it('prints every container, selectors with --prefix, and a controller\'s pod', async () => {
    // kubectl prints the containers of --all-containers in Go map order (random from run to run): compared as lines.
    await sameLines(['logs', 'two', '--all-containers']);
    await sameLines(['logs', 'two', '--all-containers', '--prefix']);
    await same(['logs', '-l', 'app=logs', '--prefix', '-c', 'a']);
    await same(['logs', '-l', 'app=logs', '--tail=1', '-c', 'a']);
    await same(['logs', 'deploy/ticker']);
    await same(['logs', 'deployment.apps/ticker', '--prefix']);
  });

  it('reports errors as kubectl does', async () => {
    await same(['logs', 'two', '-c', 'nope']);
    await same(['logs', 'nope']);
    await same(['logs', 'deploy/nope']);
    await same(['logs', '-l', 'app=none']);
    await same(['logs', 'two', '-c', 'a', '--previous']);
    await same(['logs']);
  });

  it('-f follows the log until the container writes more', async () => {
    const pod = (await c.kubectl('get', 'pod', '-l', 'app=ticker', '-o', 'jsonpath={.items[0].metadata.name}')).trim();
    const main = path.resolve(import.meta.dirname, '../packages/kubectl/dist/main.js');
    const follow = (cmd: string, args: string[]): { out: () => string; stop: () => void } => {
      const child = spawn(cmd, args, { env: c.env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      return { out: () => out, stop: () => { child.kill(); } };
    };
    const mine = follow(process.execPath, [main, 'logs', '-f', `pod/${pod}`]);
    const real = follow('kubectl', [`--cache-dir=${c.dir}/kube-cache`, 'logs', '-f', `pod/${pod}`]);
    try {
      await eventually(() => mine.out().includes('start') && real.out().includes('start'), 'both print the log so far', 30_000);
      await c.kubectl('exec', pod, '--', 'touch', '/tmp/go');
      await eventually(() => mine.out().includes('tick') && real.out().includes('tick'), 'both print the new line', 30_000);
      expect(mine.out()).toBe(real.out());
    } finally {
      mine.stop();
      real.stop();
    }
  });
});

describe('k8ts-kubectl describe of running pods and a real node', () => {
  it('matches kubectl for container states, conditions and the node', async () => {
    const pod = await same(['describe', 'pod', 'two']);
    expect(pod.stdout).toMatch(/State: +Terminated\n +Reason: +Completed\n +Exit Code: +0/);
    expect(pod.stdout).toMatch(/State: +Running\n +Started:/);
    const node = (await c.kubectl('get', 'nodes', '-o', 'jsonpath={.items[0].metadata.name}')).trim();
    // The node-controller's RegisteredNode event may land between the two calls: describe once it is there.
    await eventually(async () => (await c.kubectl('get', 'events', '--field-selector', `involvedObject.name=${node},reason=RegisteredNode`, '-o', 'name')).trim() !== '',
      'the RegisteredNode event', 30_000);
    await same(['describe', 'node', node]);
    await same(['describe', 'deploy', 'ticker']);
    await same(['describe', 'rs', '-l', 'app=ticker']);
  });
});
