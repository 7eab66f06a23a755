import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '@k8ts/kubectl';
import { eventually, startLocalCluster } from './harness.js';
import { normalise, type KubectlResult } from './kubectl-compare.js';

// A 1-node local cluster with real containers (run under flock /tmp/k8ts-docker.lock): `kubectl attach` of ours and
// of the real kubectl on the same pods: what each prints, on which stream, and the exit codes.
let c: Awaited<ReturnType<typeof startLocalCluster>>;

const BUSYBOX = 'image: k8ts/busybox:latest, imagePullPolicy: IfNotPresent';
const MANIFESTS = `apiVersion: v1
kind: Pod
metadata: {name: printer}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - {name: main, ${BUSYBOX}, command: [sh, -c, 'i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done']}
  - {name: term, ${BUSYBOX}, tty: true, command: [sh, -c, 'i=0; while true; do i=$((i+1)); echo term $i; sleep 0.2; done']}
---
apiVersion: v1
kind: Pod
metadata: {name: talk}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - {name: main, ${BUSYBOX}, stdin: true, command: [sh, -c, 'while read l; do echo got:$l; done']}
  - {name: side, ${BUSYBOX}, stdin: true, command: [sh, -c, 'while read l; do echo side:$l; done']}
---
apiVersion: v1
kind: Pod
metadata: {name: mixed}
spec:
  terminationGracePeriodSeconds: 0
  restartPolicy: Never
  containers:
  - {name: up, ${BUSYBOX}, command: [sleep, "3600"]}
  - {name: quit, ${BUSYBOX}, command: ["true"]}
---
apiVersion: v1
kind: Pod
metadata: {name: done}
spec:
  restartPolicy: Never
  containers:
  - {name: main, ${BUSYBOX}, command: ["true"]}
---
apiVersion: v1
kind: Pod
metadata: {name: pending}
spec:
  nodeSelector: {no-such: node}
  containers:
  - {name: main, ${BUSYBOX}, command: [sleep, "3600"]}
---
apiVersion: v1
kind: Pod
metadata: {name: tty-ours}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - {name: main, ${BUSYBOX}, stdin: true, tty: true, command: [sh]}
---
apiVersion: v1
kind: Pod
metadata: {name: tty-real}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - {name: main, ${BUSYBOX}, stdin: true, tty: true, command: [sh]}
---
apiVersion: v1
kind: Pod
metadata: {name: once-ours}
spec:
  restartPolicy: Never
  containers:
  - {name: main, ${BUSYBOX}, stdin: true, stdinOnce: true, command: [sh, -c, 'while read l; do echo got:$l; done; echo bye']}
---
apiVersion: v1
kind: Pod
metadata: {name: once-real}
spec:
  restartPolicy: Never
  containers:
  - {name: main, ${BUSYBOX}, stdin: true, stdinOnce: true, command: [sh, -c, 'while read l; do echo got:$l; done; echo bye']}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - {name: w, ${BUSYBOX}, stdin: true, command: [sh, -c, 'while read l; do echo web:$l; done']}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: none}
spec:
  replicas: 0
  selector: {matchLabels: {app: none}}
  template:
    metadata: {labels: {app: none}}
    spec:
      containers:
      - {name: idle, ${BUSYBOX}, command: [sleep, "3600"]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
`;

const MAIN = path.resolve(import.meta.dirname, '../packages/kubectl/dist/main.js');
const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

async function ours(args: string[], stdin: NodeJS.ReadableStream = Readable.from([''])): Promise<KubectlResult> {
  let stdout = '';
  let stderr = '';
  const code = await run(args, {
    in: stdin,
    out: { write: (s: string) => { stdout += s; return true; } },
    err: { write: (s: string) => { stderr += s; return true; } },
  }, c.env);
  return { stdout, stderr, code };
}

/** A kubectl process (ours through its bin, or the real one) with its output so far. */
interface Child { child: ChildProcess; out: () => string; err: () => string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> }

function start(which: 'ours' | 'real', args: string[]): Child {
  const child = which === 'ours'
    ? spawn(process.execPath, [MAIN, ...args], { env: c.env })
    : spawn('kubectl', [`--cache-dir=${c.dir}/kube-cache`, ...args], { env: c.env });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  return { child, out: () => stdout, err: () => stderr, exited };
}

async function real(args: string[], stdin = ''): Promise<KubectlResult> {
  const k = start('real', args);
  k.child.stdin!.end(stdin);
  const timer = setTimeout(() => k.child.kill('SIGKILL'), 60_000);
  const { code } = await k.exited;
  clearTimeout(timer);
  return { stdout: k.out(), stderr: k.err(), code: code ?? 1 };
}

const comparable = (r: KubectlResult) => ({ code: r.code, stdout: normalise(r.stdout), stderr: normalise(r.stderr) });

async function same(args: string[]): Promise<KubectlResult> {
  const mine = await ours(args);
  const theirs = await real(args);
  expect.soft(comparable(mine)).toEqual(comparable(theirs));
  return mine;
}

/**
 * An interactive session, ours then the real kubectl: each line sent once the previous one's answer came back, then
 * stdin closed (which ends an attach to a container that keeps its stdin open).
 */
async function conversation(args: string[], lines: string[], answer: (line: string) => string): Promise<KubectlResult> {
  const input = new PassThrough();
  let stdout = '';
  let stderr = '';
  const running = run(args, {
    in: input,
    out: { write: (s: string) => { stdout += s; return true; } },
    err: { write: (s: string) => { stderr += s; return true; } },
  }, c.env);
  for (const line of lines) {
    input.write(`${line}\n`);
    await eventually(() => stdout.includes(answer(line)), `our attach to answer ${line}`, 30_000);
  }
  input.end();
  const mine = { code: await running, stdout, stderr };
  const k = start('real', args);
  try {
    for (const line of lines) {
      k.child.stdin!.write(`${line}\n`);
      await eventually(() => k.out().includes(answer(line)), `kubectl attach to answer ${line}`, 30_000);
    }
    k.child.stdin!.end();
    const { code } = await k.exited;
    expect.soft(comparable(mine)).toEqual(comparable({ stdout: k.out(), stderr: k.err(), code: code ?? 1 }));
  } finally {
    k.child.kill('SIGKILL');
  }
  return mine;
}

beforeAll(async () => {
  c = await startLocalCluster('k8ts-kubectl-attach-', { nodes: 1 });
  await c.kubectl('apply', '-f', c.file('m.yaml', MANIFESTS));
  await c.kubectl('wait', '--for=condition=Ready', 'pod/printer', 'pod/talk', 'pod/tty-ours', 'pod/tty-real', 'pod/once-ours', 'pod/once-real', '--timeout=180s');
  await eventually(async () => (await c.kubectl('get', 'pods', '-l', 'app=web', '-o', 'name')).trim() !== '', 'the deployment made its pod', 60_000);
  await c.kubectl('wait', '--for=condition=Ready', 'pod', '-l', 'app=web', '--timeout=180s');
  await c.kubectl('wait', '--for=jsonpath={.status.phase}=Succeeded', 'pod/done', '--timeout=180s');
  await eventually(async () => (await c.kubectl('get', 'pod', 'mixed', '-o', 'jsonpath={.status.containerStatuses[?(@.name=="quit")].state.terminated.reason}')) === 'Completed',
    'the container quit of pod mixed to exit', 60_000);
}, 400_000);
afterAll(async () => {
  await c?.down();
}, 120_000);

describe('k8ts-kubectl attach, side by side with kubectl on a live cluster', () => {
  it('streams a running container\'s output until stopped', async () => {
    for (const args of [['attach', 'printer'], ['attach', 'printer', '-c', 'term'], ['attach', 'pod/printer', '-c', 'main', '-q']]) {
      const both = [start('ours', args), start('real', args)];
      try {
        const word = args.includes('term') ? 'term' : 'tick';
        await eventually(() => both.every((k) => (k.out().match(new RegExp(`^${word} \\d+\\r?$`, 'gm')) ?? []).length >= 2), `both to print ${word} lines`, 30_000);
        for (const k of both) k.child.kill('SIGINT');
        const [mine, theirs] = await Promise.all(both.map((k) => k.exited));
        expect(mine).toEqual(theirs);
        expect(normalise(both[0].err())).toBe(normalise(both[1].err()));
        // A TTY's line ends are \r\n; without one, \n.
        const ends = (k: Child) => [...new Set(k.out().match(/\r?\n/g))];
        expect(ends(both[0])).toEqual(ends(both[1]));
      } finally {
        for (const k of both) k.child.kill('SIGKILL');
      }
    }
  });

  it('-i sends stdin to the container and prints its answers; -c and TYPE/NAME choose where', async () => {
    const r = await conversation(['attach', '-i', 'talk'], ['one', 'two'], (l) => `got:${l}`);
    expect(r.stdout).toBe('got:one\ngot:two\n');
    expect(r.stderr).toContain('Defaulted container "main" out of: main, side\n');
    expect((await conversation(['attach', '-i', 'talk', '-c', 'side'], ['three'], (l) => `side:${l}`)).stdout).toBe('side:three\n');
    expect((await conversation(['attach', '-i', 'deploy/web'], ['four'], (l) => `web:${l}`)).stdout).toBe('web:four\n');
    expect((await conversation(['attach', '-i', 'deployment', 'web'], ['six'], (l) => `web:${l}`)).stdout).toBe('web:six\n');
    // -t to a container without a TTY: kubectl's warning, and the session goes on without one.
    const t = await conversation(['attach', '-it', 'talk', '-c', 'main'], ['five'], (l) => `got:${l}`);
    expect(t.stderr).toContain('error: Unable to use a TTY - container main did not allocate one\n');
  });

  it('-i to a stdinOnce container: the end of stdin closes the container\'s, and the output goes on until it exits', async () => {
    const mine = await ours(['attach', '-i', 'once-ours'], Readable.from(['a\nb\n']));
    expect(mine).toEqual({ code: 0, stdout: 'got:a\ngot:b\nbye\n', stderr: "If you don't see a command prompt, try pressing enter.\n" });
    expect(await real(['attach', '-i', 'once-real'], 'a\nb\n')).toEqual(mine);
  });

  it.skipIf(!hasScript)('-it on a terminal: raw mode into the container\'s TTY, and the reattach hint when the session ends (restartPolicy Always)', async () => {
    // script(1) gives each kubectl a pseudo-terminal, as a user's shell would; its output is the terminal's.
    const session = async (which: 'ours' | 'real') => {
      const cmd = which === 'ours' ? `${process.execPath} ${MAIN}` : `kubectl --cache-dir=${c.dir}/kube-cache`;
      const child = spawn('script', ['-qec', `${cmd} attach -it tty-${which}`, '/dev/null'], { env: c.env, stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
      try {
        await eventually(() => out.includes('try pressing enter'), `${which}: the prompt hint`, 30_000);
        child.stdin.write('echo hi-$((40+2))\n');
        await eventually(() => out.includes('hi-42'), `${which}: the shell's answer`, 30_000);
        child.stdin.write('exit\n');
        const code = await exited;
        return { code, lines: out.split(/\r?\n/).filter((l) => /try pressing enter|Session ended|Unable to use/.test(l)).map((l) => l.replace(`tty-${which}`, 'POD')) };
      } finally {
        child.kill('SIGKILL');
      }
    };
    const mine = await session('ours');
    expect(mine).toEqual(await session('real'));
    expect(mine.lines).toEqual(["If you don't see a command prompt, try pressing enter.", "Session ended, resume using 'kubectl attach POD -c main -i -t' command when the pod is running"]);
  });

  it('fails as kubectl does', async () => {
    const hint = "If you don't see a command prompt, try pressing enter.\n";
    const fails = async (args: string[], stderr: string) => expect(await same(args)).toEqual({ code: 1, stdout: '', stderr });
    await fails(['attach', 'nope'], 'Error from server (NotFound): pods "nope" not found\n');
    await fails(['attach', 'deploy/nope'], 'Error from server (NotFound): deployments.apps "nope" not found\n');
    await fails(['attach', 'talk', '-c', 'nope'], 'error: cannot attach to the container: container nope not found in pod talk\n');
    await fails(['attach', 'done'], 'error: cannot attach a container in a completed pod; current phase is Succeeded\n');
    // Not running: not scheduled (the apiserver refuses), or the container has exited (the kubelet does).
    await fails(['attach', 'pending'], `${hint}Error from server (BadRequest): pod pending does not have a host assigned\n`);
    await fails(['attach', 'mixed', '-c', 'quit'], `${hint}error: unable to upgrade connection: container quit not found in pod mixed_default\n`);
    await fails(['attach', 'deploy/none', '--pod-running-timeout=1s'], 'error: timed out waiting for the condition\n');
    await fails(['attach', 'cm/cfg'], 'error: cannot attach to *v1.ConfigMap: selector for *v1.ConfigMap not implemented\n');
    await fails(['attach'], 'error: at least 1 argument is required for attach\n');
    await fails(['attach', 'a', 'b', 'c'], 'error: expected POD, TYPE/NAME, or TYPE NAME, (at most 2 arguments) saw 3: [a b c]\n');
    await fails(['attach', 'talk', '--pod-running-timeout=0s'], "error: --pod-running-timeout must be higher than zero\nSee 'kubectl attach -h' for help and examples\n");
    await fails(['attach', 'talk', '--pod-running-timeout=soon'],
      'Error: invalid argument "soon" for "--pod-running-timeout" flag: time: invalid duration "soon"\nSee \'kubectl attach --help\' for usage.\n');
  });
});
