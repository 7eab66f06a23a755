import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JS modules shared with scripts/
import { freePort } from '../scripts/lib/processes.mjs';
import { eventually, startLocalCluster } from './harness.js';
import { normalise, runOurs, runReal, type KubectlResult } from './kubectl-compare.js';

// A 1-node local cluster with real containers (run under flock /tmp/k8ts-docker.lock): `kubectl cp` and
// `kubectl port-forward` of ours and of the real kubectl on the same pods: output, exit codes, the copied bytes.
let c: Awaited<ReturnType<typeof startLocalCluster>>;

const MAIN = path.resolve(import.meta.dirname, '../packages/kubectl/dist/main.js');
const BUSYBOX = 'image: k8ts/busybox:latest, imagePullPolicy: IfNotPresent';
// /data: nested files, an empty directory and a symlink; 200 kB of random bytes among them.
const DATA = 'mkdir -p /data/sub/deeper /data/empty && echo top > /data/a.txt && echo deep > /data/sub/b.txt'
  + ' && head -c 200000 /dev/urandom > /data/sub/deeper/c.bin && ln -s a.txt /data/link && exec sleep 3600';
const MANIFESTS = `apiVersion: v1
kind: Pod
metadata: {name: files}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - {name: main, ${BUSYBOX}, command: [sh, -c, '${DATA}']}
  - {name: side, ${BUSYBOX}, command: [sh, -c, 'echo side > /side.txt && exec sleep 3600']}
---
apiVersion: v1
kind: Namespace
metadata: {name: other}
---
apiVersion: v1
kind: Pod
metadata: {name: far, namespace: other}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - {name: main, ${BUSYBOX}, command: [sh, -c, 'echo far > /far.txt && exec sleep 3600']}
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
      - name: httpd
        image: k8ts/busybox:latest
        imagePullPolicy: IfNotPresent
        command: [sh, -c, 'mkdir -p /w && echo hello > /w/index.html && head -c 3000000 /dev/urandom > /w/big && exec httpd -f -p 8080 -h /w']
        ports: [{name: http, containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
`;

const ours = (args: string[]): Promise<KubectlResult> => runOurs(args, c.env);
const real = (args: string[]): Promise<KubectlResult> => runReal(args, c.env, `${c.dir}/kube-cache`);
const kx = async (...args: string[]): Promise<string> => c.kubectl(...args);

/**
 * Both kubectls on `args(tag)`, ours first, compared with the tag blanked. The remote tar's own notices
 * (`tar: removing leading '/'…`) are dropped: kubectl stops reading once the archive ends, so whether it prints
 * them is a race in kubectl.
 */
async function same(args: (tag: string) => string[]): Promise<{ ours: KubectlResult; real: KubectlResult }> {
  const mine = await ours(args('ours'));
  const theirs = await real(args('real'));
  const text = (t: string, tag: string) => normalise(t.replaceAll(tag, 'TAG').split('\n').filter((l) => !l.startsWith('tar: ')).join('\n'));
  const clean = (r: KubectlResult, tag: string) => ({ args: args('TAG'), code: r.code, stdout: text(r.stdout, tag), stderr: text(r.stderr, tag) });
  expect.soft(clean(mine, 'ours')).toEqual(clean(theirs, 'real'));
  return { ours: mine, real: theirs };
}

const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');

/** A local tree as sorted lines: `d DIR`, `f FILE MD5`, `l LINK -> TARGET`. */
const tree = (root: string): string[] => walk(root).sort();

function walk(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(root, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    const p = path.join(root, r);
    const st = lstatSync(p);
    if (st.isSymbolicLink()) out.push(`l ${r} -> ${readlinkSync(p)}`);
    else if (st.isDirectory()) out.push(`d ${r}`, ...walk(root, r));
    else out.push(`f ${r} ${md5(readFileSync(p))}`);
  }
  return out;
}

/** The same lines for a tree in a container (busybox find, md5sum, readlink). */
async function remoteTree(target: string[], root: string): Promise<string[]> {
  const script = `cd ${root} && find . -mindepth 1 | sort | while read p; do r=\${p#./};`
    + ' if [ -L "$p" ]; then echo "l $r -> $(readlink "$p")"; elif [ -d "$p" ]; then echo "d $r";'
    + ' else echo "f $r $(md5sum < "$p" | cut -d" " -f1)"; fi; done';
  return (await kx('exec', ...target, '--', 'sh', '-c', script)).trim().split('\n').sort();
}

beforeAll(async () => {
  c = await startLocalCluster('k8ts-kubectl-cp-pf-', { nodes: 1 });
  await kx('apply', '-f', c.file('m.yaml', MANIFESTS));
  await kx('wait', '--for=condition=Ready', 'pod/files', '--timeout=180s');
  await kx('wait', '--for=condition=Ready', 'pod/far', '-n', 'other', '--timeout=180s');
  await eventually(async () => (await kx('get', 'pods', '-l', 'app=web', '-o', 'name')).trim() !== '', 'the deployment made its pod', 60_000);
  await kx('wait', '--for=condition=Ready', 'pod', '-l', 'app=web', '--timeout=180s');
}, 400_000);
afterAll(async () => {
  await c?.down();
}, 120_000);

describe('k8ts-kubectl cp, side by side with kubectl on real containers', () => {
  it('copies a file and a directory from the pod: the bytes of the container, the empty directory, the symlink skipped', async () => {
    const local = (t: string) => path.join(c.dir, t);
    await same((t) => ['cp', 'files:/data/a.txt', local(`a-${t}.txt`)]);
    const remoteA = await kx('exec', 'files', '-c', 'main', '--', 'cat', '/data/a.txt');
    expect(readFileSync(local('a-ours.txt'), 'utf8')).toBe(remoteA);
    expect(readFileSync(local('a-real.txt'), 'utf8')).toBe(remoteA);

    const r = await same((t) => ['cp', 'files:/data', local(`dir-${t}`)]);
    expect(r.ours.stderr).toContain('warning: skipping symlink:');
    const inPod = (await remoteTree(['files', '-c', 'main'], '/data')).filter((l) => !l.startsWith('l '));
    expect(tree(local('dir-ours'))).toEqual(inPod);
    expect(tree(local('dir-real'))).toEqual(inPod);
    expect(inPod).toContain('d empty');

    // A file onto an existing local directory, a relative remote path (from the container's working directory).
    mkdirSync(local('exists-ours'));
    mkdirSync(local('exists-real'));
    await same((t) => ['cp', 'files:/data/a.txt', local(`exists-${t}`)]);
    await same((t) => ['cp', 'files:data/sub/b.txt', local(`rel-${t}.txt`)]);
  });

  it('copies a file and a directory (nested, empty directory, symlink) into the pod, -c, ns/pod:path, --no-preserve', async () => {
    const up = (t: string) => path.join(c.dir, `up-${t}`);
    for (const t of ['ours', 'real']) {
      mkdirSync(path.join(up(t), 'nested', 'more'), { recursive: true });
      mkdirSync(path.join(up(t), 'hollow'));
      writeFileSync(path.join(up(t), 'one.txt'), 'one\n');
      writeFileSync(path.join(up(t), 'nested', 'more', 'two.bin'), Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256)));
      symlinkSync('one.txt', path.join(up(t), 'pointer'));
      writeFileSync(path.join(c.dir, `owned-${t}.txt`), 'owned\n');
      chmodSync(path.join(c.dir, `owned-${t}.txt`), 0o640);
      chownSync(path.join(c.dir, `owned-${t}.txt`), 1234, 2345);
    }
    await same((t) => ['cp', up(t), `files:/back-${t}`]);
    const want = tree(up('ours'));
    expect(await remoteTree(['files', '-c', 'main'], '/back-ours')).toEqual(want);
    expect(await remoteTree(['files', '-c', 'main'], '/back-real')).toEqual(want);
    // Into an existing directory: under the source's name.
    await same((t) => ['cp', path.join(up(t), 'one.txt'), 'files:/tmp']);
    expect(await kx('exec', 'files', '-c', 'main', '--', 'cat', '/tmp/one.txt')).toBe('one\n');

    // -c: the other container's filesystem, both ways.
    await same((t) => ['cp', path.join(up(t), 'one.txt'), `files:/in-side-${t}.txt`, '-c', 'side']);
    expect(await kx('exec', 'files', '-c', 'side', '--', 'cat', '/in-side-ours.txt', '/in-side-real.txt')).toBe('one\none\n');
    expect((await c.kubectlStatus('exec', 'files', '-c', 'main', '--', 'test', '-e', '/in-side-ours.txt')).code).not.toBe(0);
    await same((t) => ['cp', '-c', 'side', 'files:/side.txt', path.join(c.dir, `side-${t}.txt`)]);
    expect(readFileSync(path.join(c.dir, 'side-ours.txt'), 'utf8')).toBe('side\n');

    // NAMESPACE/POD:PATH both ways.
    await same((t) => ['cp', 'other/far:/far.txt', path.join(c.dir, `far-${t}.txt`)]);
    expect(readFileSync(path.join(c.dir, 'far-ours.txt'), 'utf8')).toBe('far\n');
    await same((t) => ['cp', path.join(up(t), 'one.txt'), `other/far:/got-${t}.txt`]);
    expect(await kx('exec', '-n', 'other', 'far', '--', 'cat', '/got-ours.txt', '/got-real.txt')).toBe('one\none\n');

    // Ownership and permissions kept by default (tar runs as root in the container), not with --no-preserve.
    const stat = (file: string) => kx('exec', 'files', '-c', 'main', '--', 'stat', '-c', '%a %u %g', file);
    await same((t) => ['cp', path.join(c.dir, `owned-${t}.txt`), `files:/kept-${t}.txt`]);
    await same((t) => ['cp', '--no-preserve', path.join(c.dir, `owned-${t}.txt`), `files:/plain-${t}.txt`]);
    expect([await stat('/kept-ours.txt'), await stat('/plain-ours.txt')]).toEqual([await stat('/kept-real.txt'), await stat('/plain-real.txt')]);
    expect(await stat('/kept-ours.txt')).toBe('640 1234 2345\n');
    expect(await stat('/plain-ours.txt')).toMatch(/^\d+ 0 0\n$/);
  });

  it('fails (or not) as kubectl does', async () => {
    // A missing remote file: the remote tar still ends its archive, so kubectl's copy ends there, successfully.
    const missing = await same((t) => ['cp', 'files:/no-such-file', path.join(c.dir, `none-${t}`)]);
    expect(missing.ours.code).toBe(0);
    await same((t) => ['cp', path.join(c.dir, `no-such-${t}`), 'files:/tmp/x']);
    await same(() => ['cp', 'nope:/x', path.join(c.dir, 'x')]);
    await same(() => ['cp', 'files:/data/a.txt', path.join(c.dir, 'x'), '-c', 'nope']);
    await same(() => ['cp', 'files:/x', 'files:/y']);
    await same(() => ['cp', path.join(c.dir, 'a-ours.txt'), path.join(c.dir, 'y')]);
    await same(() => ['cp', 'files:/x']);
  });
});

/** The klog lines of `text`, their time, pid and the addresses of local connections masked. */
const klogLines = (text: string): string[] => (text.match(/^E\d{4} .*$/gm) ?? [])
  .map((l) => l.replace(/^E\d{4} \d\d:\d\d:\d\d\.\d{6} +\d+ /, 'E ').replace(/(127\.0\.0\.1|\[::1\]):\d+/g, 'ADDR'));

/**
 * What kubectl v1.32 logs when a client leaves mid-answer: the failed write to it and, as its two copies race, at
 * times the failed read from it too.
 */
const CLIENT_GONE = [
  'E portforward.go:391] "Unhandled Error" err="error copying from remote stream to local connection: readfrom tcp4 ADDR->ADDR: write tcp4 ADDR->ADDR: write: broken pipe"',
  'E portforward.go:391] "Unhandled Error" err="error copying from remote stream to local connection: readfrom tcp4 ADDR->ADDR: write tcp4 ADDR->ADDR: write: connection reset by peer"',
  'E portforward.go:404] "Unhandled Error" err="error copying from local connection to remote stream: writeto tcp4 ADDR->ADDR: read tcp4 ADDR->ADDR: read: connection reset by peer"',
];

/** A kubectl port-forward (ours through its bin, or the real one) with its output so far. */
interface Forward { child: ChildProcess; out: () => string; err: () => string; exited: Promise<number | null> }

function forward(which: 'ours' | 'real', args: string[]): Forward {
  const child = which === 'ours'
    ? spawn(process.execPath, [MAIN, 'port-forward', ...args], { env: c.env })
    : spawn('kubectl', [`--cache-dir=${c.dir}/kube-cache`, 'port-forward', ...args], { env: c.env });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, out: () => stdout, err: () => stderr, exited };
}

/** An HTTP/1.0 GET on its own connection (busybox httpd closes it after the answer): the body. */
const get = (host: string, port: number, file: string) => new Promise<Buffer>((resolve, reject) => {
  const sock = connect({ host, port }, () => sock.write(`GET /${file} HTTP/1.0\r\n\r\n`));
  const parts: Buffer[] = [];
  sock.on('data', (d: Buffer) => parts.push(d));
  sock.on('close', () => { const all = Buffer.concat(parts); resolve(all.subarray(all.indexOf('\r\n\r\n') + 4)); });
  sock.on('error', reject);
});

describe('k8ts-kubectl port-forward, side by side with kubectl on a busybox httpd pod', () => {
  it('pod/x, svc/x (named targetPort), deploy/x; LOCAL:REMOTE and :REMOTE; connections at once; a client that closes; SIGINT', async () => {
    const pod = (await kx('get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}')).trim();
    const big = (await kx('exec', `pod/${pod}`, '--', 'md5sum', '/w/big')).slice(0, 32);
    const cases: { args: (local: number) => string[]; remote: number }[] = [
      { args: () => [`pod/${pod}`, ':8080'], remote: 8080 },
      { args: (l) => ['svc/web', `${l}:80`], remote: 8080 },
      { args: (l) => ['deploy/web', `${l}:8080`, ':http'], remote: 8080 },
    ];
    for (const { args, remote } of cases) {
      // LOCAL:REMOTE: a free port each (both run at once).
      const pair = { ours: forward('ours', args(await freePort() as number)), real: forward('real', args(await freePort() as number)) };
      try {
        const lines = (f: Forward) => f.out().match(/^Forwarding from .*$/gm) ?? [];
        const listening = Object.values(pair).map((f) => eventually(() => lines(f).length >= (args(0).length - 1) * 2,
          `port-forward ${args(0).join(' ')} to listen`, 30_000));
        await Promise.all(listening);
        for (const f of Object.values(pair)) {
          const ports = [...f.out().matchAll(/^Forwarding from (127\.0\.0\.1|\[::1\]):(\d+) -> (\d+)$/gm)];
          expect(ports.map((m) => Number(m[3]))).toEqual(ports.map(() => remote));
          const port = Number(ports[0][2]);
          // Four at once over both addresses, two of them the 3 MB file, its bytes those in the container.
          const got = await Promise.all([get('127.0.0.1', port, 'index.html'), get('::1', port, 'index.html'), get('127.0.0.1', port, 'big'), get('::1', port, 'big')]);
          expect(got.map((b, i) => (i < 2 ? b.toString() : md5(b)))).toEqual(['hello\n', 'hello\n', big, big]);
          // A client that goes away mid-transfer leaves the forward up (kubectl logs the failed copy to it).
          await new Promise<void>((resolve) => {
            const sock = connect({ host: '127.0.0.1', port }, () => sock.write('GET /big HTTP/1.0\r\n\r\n'));
            sock.once('data', () => { sock.destroy(); resolve(); });
            sock.on('error', () => resolve());
          });
          expect((await get('127.0.0.1', port, 'index.html')).toString()).toBe('hello\n');
          await eventually(() => (f.out().match(/^Handling connection for \d+$/gm) ?? []).length === 6, 'six connections handled', 10_000);
        }
        for (const f of Object.values(pair)) f.child.kill('SIGINT');
        const [mine, theirs] = await Promise.all([pair.ours.exited, pair.real.exited]);
        const view = (f: Forward, code: number | null) => ({ args: args(0), code, stdout: f.out().replace(/:\d+ ->/g, ':PORT ->').replace(/^Handling connection for \d+$/gm, 'Handling connection for PORT'), stderr: normalise(f.err()) });
        expect.soft(view(pair.ours, mine)).toEqual(view(pair.real, theirs));
        // Which of them kubectl logs is a race: ours logs the first, each line in kubectl's form.
        for (const f of Object.values(pair)) expect.soft(CLIENT_GONE).toEqual(expect.arrayContaining(klogLines(f.err())));
        expect(mine).toBe(0);
      } finally {
        for (const f of Object.values(pair)) f.child.kill('SIGKILL');
      }
    }
  });
});
