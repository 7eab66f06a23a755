import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JS module shared with scripts/
import { freePort } from '../scripts/lib/processes.mjs';
import { eventually } from './harness.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const built = existsSync(path.join(ROOT, 'packages/controller-manager/dist/main.js')) && existsSync(path.join(ROOT, 'packages/kubelet/dist/main.js'));
const NS = 'workloads';

interface PodLite { name: string; node: string; deleting: boolean; ready: boolean; env: string; image: string; owners: string }

/**
 * `scripts/cluster up --nodes 2`, then Deployments driven with the real kubectl: the controller manager's
 * Deployment, ReplicaSet and garbage collector controllers with real kubelets running real containers.
 */
describe.skipIf(!built)('Deployments on a 2-node local cluster with the real kubectl', { timeout: 180_000 }, () => {
  let dir = '';
  let env: NodeJS.ProcessEnv = {};
  const state = () => path.join(dir, 'state');
  const cluster = (...args: string[]) => run(path.join(ROOT, 'scripts/cluster'), [...args, '--state-dir', state()], { timeout: 300_000 });
  const kubectl = async (...args: string[]) => (await run('kubectl', [`--cache-dir=${dir}/kc`, '-n', NS, ...args], { env, timeout: 150_000 })).stdout;
  /** Polls a condition at a gentle pace (each look runs kubectl on a 2-core machine) until it holds or the deadline passes. */
  const until = <T>(fn: () => Promise<T>, what: string, ms = 90_000) => eventually(async () => {
    const v = await fn();
    if (!v) await new Promise((r) => setTimeout(r, 250));
    return v;
  }, what, ms);
  const nodesSeen = new Set<string>();

  /** The pods of app=`app`, one line each: name, node, terminating, Ready, the env of the first container, its image, owner kinds/names. */
  const pods = async (app: string): Promise<PodLite[]> => {
    const tpl = '{range .items[*]}{.metadata.name}|{.spec.nodeName}|{.metadata.deletionTimestamp}|{.status.conditions[?(@.type=="Ready")].status}|'
      + '{.spec.containers[0].env}|{.spec.containers[0].image}|{range .metadata.ownerReferences[*]}{.kind}/{.name} {end}{"\\n"}{end}';
    const out = await kubectl('get', 'pods', '-l', `app=${app}`, '-o', `jsonpath=${tpl}`);
    return out.split('\n').filter(Boolean).map((l) => {
      const [name, node, deleting, ready, envJson, image, owners] = l.split('|');
      if (node) nodesSeen.add(node);
      return { name, node, deleting: Boolean(deleting), ready: ready === 'True', env: envJson, image, owners: owners.trim() };
    });
  };
  /** The live (not terminating) pods once exactly `n` of them are Ready and no old one is still terminating. */
  const settled = (app: string, n: number, ok: (p: PodLite) => boolean = () => true) => until(async () => {
    const p = await pods(app);
    return p.length === n && p.every((x) => !x.deleting && x.ready && ok(x)) && p;
  }, `${n} settled ${app} pods`);
  const rollout = async (name: string) => {
    const out = await kubectl('rollout', 'status', `deployment/${name}`, '--timeout=120s');
    expect(out.trim().split('\n').at(-1)).toBe(`deployment "${name}" successfully rolled out`);
  };
  const revisionOf = async (name: string) => (await kubectl('get', 'deployment', name, '-o', 'jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}')).trim();
  const replicaSets = async (app: string) => (await kubectl('get', 'rs', '-l', `app=${app}`, '-o', 'jsonpath={range .items[*]}{.metadata.name}|{.spec.replicas}|{range .metadata.ownerReferences[*]}{.kind}/{.name}{end}{"\\n"}{end}'))
    .split('\n').filter(Boolean).map((l) => { const [name, replicas, owner] = l.split('|'); return { name, replicas: Number(replicas), owner }; });
  const deployment = (name: string, replicas: number, extra = '') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels: { app: ${name} }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: ${name} } }
  strategy:
    rollingUpdate: { maxSurge: 1, maxUnavailable: 1 }
  template:
    metadata:
      labels: { app: ${name} }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: k8ts/busybox:latest
        imagePullPolicy: IfNotPresent
        command: ["sh", "-c", "echo I am $HOSTNAME GREETING=$GREETING; exec sleep 3600"]
        readinessProbe:
          exec: { command: ["true"] }
          periodSeconds: 1
${extra}`;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'k8ts-workloads-'));
    await cluster('up', '--detach', '--no-build', '--port', '0', '--nodes', '2', '--kubelet-port', String(await freePort('127.0.1.1')));
    env = { ...process.env, KUBECONFIG: path.join(state(), 'kubeconfig'), HOME: dir };
    await until(async () => { const o = await kubectl('get', 'nodes'); return /node-1\s+Ready/.test(o) && /node-2\s+Ready/.test(o); }, 'two Ready nodes', 60_000);
    // `kubectl create namespace` sends a protobuf body (protobuf/decode.ts).
    expect(await kubectl('create', 'namespace', NS)).toBe(`namespace/${NS} created\n`);
  }, 600_000);

  afterAll(async () => {
    if (!dir) return;
    // Everything the tests made lives in the namespace (the last test deletes it; this is for a test that failed early).
    await kubectl('delete', 'namespace', NS, '--ignore-not-found', '--timeout=60s').catch(() => undefined);
    await cluster('down').catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }, 150_000);

  it('applies a Deployment and rolls it through set env, history, undo, restart and pause/resume', async () => {
    const file = path.join(dir, 'web.yaml');
    writeFileSync(file, deployment('web', 3));
    expect(await kubectl('apply', '-f', file)).toBe('deployment.apps/web created\n');
    await rollout('web');
    const first = await settled('web', 3);
    expect(first.every((p) => p.env === '' && p.owners.startsWith('ReplicaSet/web-'))).toBe(true);
    expect(await revisionOf('web')).toBe('1');
    expect(await kubectl('get', 'deployment', 'web', '--no-headers')).toMatch(/^web\s+3\/3\s+3\s+3\s/);
    // Each pod's container really ran: its log names the pod (the container's hostname).
    expect(await kubectl('logs', first[0].name)).toBe(`I am ${first[0].name} GREETING=\n`);

    // set env: a new template, revision 2, pods carrying the variable (in the spec and in the container's own output).
    expect(await kubectl('set', 'env', 'deployment/web', 'GREETING=hello')).toBe('deployment.apps/web env updated\n');
    await rollout('web');
    const second = await settled('web', 3, (p) => p.env.includes('"GREETING"'));
    expect(JSON.parse(second[0].env)).toEqual([{ name: 'GREETING', value: 'hello' }]);
    expect(await revisionOf('web')).toBe('2');
    expect(await kubectl('logs', second[0].name)).toBe(`I am ${second[0].name} GREETING=hello\n`);
    expect(await replicaSets('web')).toHaveLength(2);

    const history = await kubectl('rollout', 'history', 'deployment/web');
    expect(history).toMatch(/^deployment\.apps\/web \nREVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n\n$/);
    expect(await kubectl('rollout', 'history', 'deployment/web', '--revision=2')).toMatch(/GREETING:\s+hello/);

    // undo: back to revision 1's template, which becomes revision 3.
    expect(await kubectl('rollout', 'undo', 'deployment/web')).toBe('deployment.apps/web rolled back\n');
    await rollout('web');
    const third = await settled('web', 3, (p) => p.env === '');
    expect(await revisionOf('web')).toBe('3');
    expect(await kubectl('logs', third[0].name)).toBe(`I am ${third[0].name} GREETING=\n`);
    expect(await kubectl('rollout', 'history', 'deployment/web')).toMatch(/REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>\n/);
    expect(await replicaSets('web')).toHaveLength(2); // revision 1's ReplicaSet was reused

    // restart: every pod replaced.
    expect(await kubectl('rollout', 'restart', 'deployment/web')).toBe('deployment.apps/web restarted\n');
    await rollout('web');
    const fourth = await settled('web', 3, (p) => !third.some((t) => t.name === p.name));
    expect(fourth.filter((p) => third.some((t) => t.name === p.name))).toEqual([]);
    expect(await revisionOf('web')).toBe('4');
    const rsBeforePause = await replicaSets('web');
    expect(rsBeforePause).toHaveLength(3);

    // pause, then a new image: the Deployment records it but does not roll.
    expect(await kubectl('rollout', 'pause', 'deployment/web')).toBe('deployment.apps/web paused\n');
    expect(await kubectl('set', 'image', 'deployment/web', 'main=k8ts/busybox')).toBe('deployment.apps/web image updated\n');
    const progressing = await until(async () => {
      const o = await kubectl('get', 'deployment', 'web', '-o', 'jsonpath={.metadata.generation} {.status.observedGeneration} {.status.conditions[?(@.type=="Progressing")].status} {.status.conditions[?(@.type=="Progressing")].reason}');
      const [gen, observed, ...rest] = o.trim().split(' ');
      return gen === observed && rest.join(' ');
    }, 'the paused Deployment observed');
    expect(progressing).toBe('Unknown DeploymentPaused');
    expect(await replicaSets('web')).toEqual(rsBeforePause);
    expect((await settled('web', 3)).map((p) => p.name).sort()).toEqual(fourth.map((p) => p.name).sort());
    expect(await revisionOf('web')).toBe('4');

    // resume: now it rolls to the new image.
    expect(await kubectl('rollout', 'resume', 'deployment/web')).toBe('deployment.apps/web resumed\n');
    await rollout('web');
    await settled('web', 3, (p) => p.image === 'k8ts/busybox');
    expect(await replicaSets('web')).toHaveLength(4);
    expect(await revisionOf('web')).toBe('5');
    // Over all these rollouts the scheduler has used both nodes (no precise spread asked for).
    expect([...nodesSeen].sort()).toEqual(['node-1', 'node-2']);
  });

  it('deletes Deployments with each --cascade mode', async () => {
    // orphan: the Deployment goes, its ReplicaSets and their pods stay, without the Deployment's ownerReference.
    const rsBefore = await replicaSets('web');
    const podsBefore = await settled('web', 3);
    expect(rsBefore.every((r) => r.owner === 'Deployment/web')).toBe(true);
    expect(await kubectl('delete', 'deployment', 'web', '--cascade=orphan')).toBe('deployment.apps "web" deleted\n');
    expect(await kubectl('get', 'deployments', '--ignore-not-found', '-o', 'name')).toBe('');
    const rsAfter = await replicaSets('web');
    expect(rsAfter.map((r) => r.name).sort()).toEqual(rsBefore.map((r) => r.name).sort());
    expect(rsAfter.every((r) => r.owner === '')).toBe(true);
    const podsAfter = await pods('web');
    expect(podsAfter.map((p) => `${p.name} ${p.deleting}`).sort()).toEqual(podsBefore.map((p) => `${p.name} false`).sort());
    expect(podsAfter.every((p) => p.owners.startsWith('ReplicaSet/web-'))).toBe(true);

    const file = path.join(dir, 'more.yaml');
    writeFileSync(file, `${deployment('second', 2)}---\n${deployment('third', 2)}`);
    expect(await kubectl('apply', '-f', file)).toBe('deployment.apps/second created\ndeployment.apps/third created\n');
    await rollout('second');
    await rollout('third');
    await settled('second', 2);
    await settled('third', 2);

    // foreground: the Deployment stays (deletionTimestamp, foregroundDeletion finalizer) until its pods are gone.
    const deleting = kubectl('delete', 'deployment', 'second', '--cascade=foreground');
    const held = await until(async () => {
      const o = await kubectl('get', 'deployment', 'second', '--ignore-not-found', '-o', 'jsonpath={.metadata.deletionTimestamp} {.metadata.finalizers}');
      return o.includes('foregroundDeletion') && o;
    }, 'second held by foregroundDeletion', 30_000);
    expect(held).toMatch(/^\d{4}-\d\d-\d\dT\S+ \["foregroundDeletion"\]$/);
    expect(await deleting).toBe('deployment.apps "second" deleted\n');
    // The moment the Deployment is gone, so are its ReplicaSet and every pod (not even a terminating one left).
    expect(await kubectl('get', 'rs,pods', '-l', 'app=second', '-o', 'name')).toBe('');

    // background: the Deployment goes at once; the garbage collector removes the ReplicaSet and pods afterwards.
    expect(await kubectl('delete', 'deployment', 'third', '--cascade=background')).toBe('deployment.apps "third" deleted\n');
    await until(async () => (await kubectl('get', 'rs,pods', '-l', 'app=third', '-o', 'name')) === '', 'third\'s ReplicaSet and pods gone', 60_000);

    // The orphans are plain ReplicaSets now: deleting them takes their pods.
    await kubectl('delete', 'rs', '-l', 'app=web', '--wait=false');
    await until(async () => (await kubectl('get', 'rs,pods', '-l', 'app=web', '-o', 'name')) === '', 'orphaned ReplicaSets and pods gone', 60_000);
    expect(await kubectl('delete', 'namespace', NS, '--timeout=60s')).toBe(`namespace "${NS}" deleted\n`);
  });
});
