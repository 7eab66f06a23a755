// Integration test of DockerRuntime against the machine's real Docker engine (found or started by
// scripts/lib/docker.mjs). It fails, never skips, when no engine can be had: CI must exercise it.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JS module shared with scripts/
import { ensureDockerEngine, ensureImages } from '../../../../scripts/lib/docker.mjs';
// @ts-expect-error plain JS module shared with scripts/
import { freePort, waitFor } from '../../../../scripts/lib/processes.mjs';
import { ImagePullError, LABELS, type ContainerConfig, type PodRef, type RuntimeContainer, type SandboxConfig } from '../runtime.js';
import { DockerRuntime } from './docker-runtime.js';

const BUSYBOX = 'k8ts/busybox:latest';
const RUN = randomBytes(4).toString('hex');
/** Every container this run creates carries it, so that afterAll removes exactly ours from the shared engine. */
const RUN_LABEL = 'io.k8ts.test.run';
const NODE = `docker-test-${RUN}`;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

let runtime: DockerRuntime;
let hostDir = '';
let podCount = 0;

const pod = (): PodRef => ({ uid: `test-${RUN}-${++podCount}`, name: `p${podCount}`, namespace: 'docker-test' });

async function sandbox(p: PodRef, hostname = p.name, ports: SandboxConfig['ports'] = []): Promise<string> {
  const { id } = await runtime.runSandbox({ pod: p, hostname, network: 'bridge', ports, labels: { [RUN_LABEL]: RUN } });
  return id;
}

function config(p: PodRef, name: string, script: string, extra: Partial<ContainerConfig> = {}): ContainerConfig {
  return {
    pod: p, name, init: false, restartCount: 0, hash: `h-${name}`, image: BUSYBOX, command: ['sh', '-c', script],
    env: [], mounts: [], ...extra, labels: { [RUN_LABEL]: RUN, ...extra.labels },
  };
}

async function start(sandboxId: string, c: ContainerConfig): Promise<string> {
  const id = await runtime.createContainer(sandboxId, c);
  await runtime.startContainer(id);
  return id;
}

function waitState(id: string, state: RuntimeContainer['state'], timeoutMs = 20_000): Promise<RuntimeContainer> {
  return waitFor(async () => {
    const c = await runtime.inspect(id);
    return c?.state === state ? c : undefined;
  }, { timeoutMs, what: `container ${id.slice(0, 12)} to be ${state}` });
}

async function read(stream: Readable): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += (chunk as Buffer).toString();
  return text;
}

describe('DockerRuntime with a real Docker engine', () => {
  beforeAll(async () => {
    const engine = await ensureDockerEngine({});
    await ensureImages(engine.socket);
    runtime = new DockerRuntime({ socket: engine.socket, nodeName: NODE });
    hostDir = mkdtempSync(path.join(tmpdir(), 'k8ts-docker-runtime-'));
  }, 300_000);

  afterAll(async () => {
    if (runtime) {
      const ours = (await runtime.listContainers()).filter((c) => c.labels[RUN_LABEL] === RUN);
      await Promise.all(ours.map((c) => runtime.removeContainer(c.id)));
      await runtime.close();
    }
    if (hostDir) rmSync(hostDir, { recursive: true, force: true });
  }, 60_000);

  it('sees only its own node\'s containers on an engine shared by several nodes, and never unlabelled ones', async () => {
    const other = new DockerRuntime({ socket: runtime.docker.socketPath, nodeName: `${NODE}-other` });
    try {
      const mine = pod();
      const theirs = pod();
      const mineId = await sandbox(mine);
      const theirsId = (await other.runSandbox({ pod: theirs, hostname: theirs.name, network: 'bridge', ports: [], labels: { [RUN_LABEL]: RUN } })).id;
      // What an older kubelet made: pod labels, but no node label.
      const legacy = await runtime.docker.createContainer(`k8ts-legacy-${RUN}`, {
        Image: 'k8ts/pause:latest', Labels: { [LABELS.podUid]: `legacy-${RUN}`, [RUN_LABEL]: RUN },
      });
      try {
        expect((await runtime.listContainers()).map((c) => c.id)).toContain(mineId);
        expect((await runtime.listContainers()).map((c) => c.id)).not.toContain(theirsId);
        expect((await other.listContainers()).map((c) => c.id)).toEqual([theirsId]);
        expect(await runtime.listContainers(theirs.uid)).toEqual([]);
        expect(await runtime.inspect(theirsId)).toBeUndefined();
        expect(await runtime.inspect(legacy.Id)).toBeUndefined();
        expect((await other.inspect(theirsId))!.labels[LABELS.nodeName]).toBe(`${NODE}-other`);
        expect((await runtime.inspect(mineId))!.labels[LABELS.nodeName]).toBe(NODE);
      } finally {
        await other.removeContainer(theirsId);
        await runtime.docker.removeContainer(legacy.Id, { force: true });
      }
    } finally {
      await other.close();
    }
  });

  it('with a cluster name sees only that cluster\'s containers, though another cluster\'s node has the same name', async () => {
    const a = new DockerRuntime({ socket: runtime.docker.socketPath, nodeName: NODE, clusterName: `a-${RUN}` });
    const b = new DockerRuntime({ socket: runtime.docker.socketPath, nodeName: NODE, clusterName: `b-${RUN}` });
    const ids: string[] = [];
    try {
      const pa = pod();
      const pb = pod();
      const aId = (await a.runSandbox({ pod: pa, hostname: pa.name, network: 'bridge', ports: [], labels: { [RUN_LABEL]: RUN } })).id;
      ids.push(aId);
      const bId = (await b.runSandbox({ pod: pb, hostname: pb.name, network: 'bridge', ports: [], labels: { [RUN_LABEL]: RUN } })).id;
      ids.push(bId);
      expect((await a.listContainers()).map((c) => c.id)).toEqual([aId]);
      expect((await b.listContainers()).map((c) => c.id)).toEqual([bId]);
      expect(await a.inspect(bId)).toBeUndefined();
      expect((await a.inspect(aId))!.labels[LABELS.cluster]).toBe(`a-${RUN}`);
      // A runtime without a cluster name (the default) sees every container of its node name.
      expect((await runtime.listContainers()).map((c) => c.id)).toEqual(expect.arrayContaining([aId, bId]));
    } finally {
      await Promise.all(ids.map((id) => runtime.removeContainer(id)));
      await a.close();
      await b.close();
    }
  });

  it('reports the engine version', async () => {
    const v = await runtime.version();
    expect(v.runtimeName).toBe('docker');
    expect(v.runtimeVersion).toMatch(/^\d+\.\d+/);
  });

  it('runs a pod: containers share localhost, hostname and a bind mount; hostPort, env, labels and restartCount read back', async () => {
    const p = pod();
    const hostPort = await freePort();
    const sandboxId = await sandbox(p, 'web-host', [{ containerPort: 8080, hostPort, protocol: 'TCP', hostIP: '127.0.0.1' }]);
    const server = await start(sandboxId, config(p, 'server',
      'mkdir -p /www && echo "$GREETING" > /www/x && cp /www/x /shared/from-server && exec httpd -f -p 8080 -h /www',
      { env: [{ name: 'GREETING', value: 'hello from env' }], mounts: [{ hostPath: hostDir, containerPath: '/shared', readOnly: false }] }));
    // busybox's static wget segfaults: nc does the HTTP request. Retries until httpd listens (bounded: 100 × 0.1 s).
    // The image is FROM scratch: no /tmp, so the answer stays in a variable.
    const client = await start(sandboxId, config(p, 'client', `
      i=0
      until resp=$(printf 'GET /x HTTP/1.0\\r\\n\\r\\n' | nc -w 3 127.0.0.1 8080) && echo "$resp" | grep -q 'hello from env'; do
        i=$((i+1)); [ $i -ge 100 ] && exit 9; sleep 0.1
      done
      echo "$resp"; echo "shared: $(cat /shared/from-server)"; echo "hostname: $(hostname)"
      touch /shared/ro-write 2>/dev/null && echo writable || echo read-only`,
    { restartCount: 2, mounts: [{ hostPath: hostDir, containerPath: '/shared', readOnly: true }], labels: { 'example.com/extra': 'yes' } }));

    const done = await waitState(client, 'exited', 30_000);
    const output = await read(await runtime.logs(client, {}));
    expect(done.exitCode, output).toBe(0);
    expect(output).toMatch(/^HTTP\/1\.[01] 200 OK/);
    expect(output).toContain('\r\n\r\nhello from env\n');
    expect(output).toContain('shared: hello from env\n');
    expect(output).toContain('hostname: web-host\n');
    expect(output).toContain('read-only\n');
    expect(readFileSync(path.join(hostDir, 'from-server'), 'utf8')).toBe('hello from env\n');
    const published = await fetch(`http://127.0.0.1:${hostPort}/x`, { signal: AbortSignal.timeout(5_000) });
    expect(await published.text()).toBe('hello from env\n');

    const all = await runtime.listContainers(p.uid);
    expect(all.map((c) => c.name).sort()).toEqual(['POD', 'client', 'server']);
    const pause = all.find((c) => c.sandbox)!;
    expect(pause).toMatchObject({ id: sandboxId, state: 'running', pod: p, init: false, image: 'k8ts/pause:latest' });
    expect(pause.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(pause.labels).toMatchObject({ [LABELS.type]: 'podsandbox', [LABELS.podUid]: p.uid, [RUN_LABEL]: RUN });
    const srv = all.find((c) => c.id === server)!;
    expect(srv).toMatchObject({ name: 'server', state: 'running', restartCount: 0, hash: 'h-server', init: false, sandbox: false, reason: '', image: BUSYBOX });
    expect(srv.imageID).toMatch(/^sha256:/);
    expect(srv.startedAt).toMatch(ISO);
    expect(srv.finishedAt).toBe('');
    const cli = all.find((c) => c.id === client)!;
    expect(cli).toMatchObject({ name: 'client', restartCount: 2, state: 'exited', reason: 'Completed', pod: p });
    expect(cli.labels).toMatchObject({
      [LABELS.podName]: p.name, [LABELS.podNamespace]: p.namespace, [LABELS.containerName]: 'client', [LABELS.restartCount]: '2',
      [LABELS.type]: 'container', [LABELS.kind]: 'app', 'example.com/extra': 'yes',
    });
    expect(Date.parse(cli.finishedAt)).toBeGreaterThanOrEqual(Date.parse(cli.startedAt));
    expect(cli.createdAt <= cli.startedAt).toBe(true);

    const res = await runtime.exec(server, ['sh', '-c', 'echo "$GREETING"; cat /www/x >&2; exit 4'], 10_000);
    expect(res).toEqual({ exitCode: 4, stdout: 'hello from env\n', stderr: 'hello from env\n' });
    expect(await runtime.exec(server, ['true'], 10_000)).toEqual({ exitCode: 0, stdout: '', stderr: '' });

    const stats = await runtime.stats(server);
    expect(stats.cpuCoreNanoSeconds).toBeGreaterThan(0);
    expect(stats.memoryWorkingSetBytes).toBeGreaterThan(0);
    expect(stats.timestamp).toMatch(ISO);
  });

  it('reports exit codes and reasons: Completed, Error, OOMKilled; init kind; created', async () => {
    const p = pod();
    const sandboxId = await sandbox(p);
    const ok = await start(sandboxId, config(p, 'setup', 'exit 0', { init: true }));
    const failed = await start(sandboxId, config(p, 'fails', 'echo bye; exit 3'));
    const oom = await start(sandboxId, config(p, 'hog', 'x=$(head -c 64000000 /dev/zero | tr "\\0" a); echo survived',
      { memoryLimit: 16 * 1024 * 1024 }));
    const created = await runtime.createContainer(sandboxId, config(p, 'later', 'true'));

    expect(await waitState(ok, 'exited')).toMatchObject({ init: true, exitCode: 0, reason: 'Completed' });
    expect(await waitState(failed, 'exited')).toMatchObject({ init: false, exitCode: 3, reason: 'Error' });
    expect(await waitState(oom, 'exited', 30_000)).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
    expect(await runtime.inspect(created)).toMatchObject({ state: 'created', startedAt: '', finishedAt: '', reason: '' });
    expect((await runtime.inspect(ok))!.labels[LABELS.kind]).toBe('init');
  });

  it('stops with SIGTERM, then SIGKILL after the grace period; stop and remove are idempotent', async () => {
    const p = pod();
    const sandboxId = await sandbox(p);
    const polite = await start(sandboxId, config(p, 'polite', "trap 'echo got TERM; exit 7' TERM; echo ready; while true; do sleep 0.1; done"));
    const stubborn = await start(sandboxId, config(p, 'stubborn', "trap '' TERM; echo ready; while true; do sleep 0.1; done"));
    for (const id of [polite, stubborn]) {
      await waitFor(async () => (await read(await runtime.logs(id, {}))).includes('ready'), { timeoutMs: 10_000, what: 'trap installed' });
    }

    let t0 = Date.now();
    await runtime.stopContainer(polite, 30);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(await runtime.inspect(polite)).toMatchObject({ state: 'exited', exitCode: 7, reason: 'Error' });
    expect(await read(await runtime.logs(polite, {}))).toContain('got TERM');

    t0 = Date.now();
    await runtime.stopContainer(stubborn, 1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(await runtime.inspect(stubborn)).toMatchObject({ state: 'exited', exitCode: 137 });

    await runtime.stopContainer(stubborn, 1);
    await runtime.removeContainer(stubborn);
    await runtime.removeContainer(stubborn);
    await runtime.stopContainer(stubborn, 1);
    expect(await runtime.inspect(stubborn)).toBeUndefined();
  });

  it('replaces a stopped container holding the same name', async () => {
    const p = pod();
    const sandboxId = await sandbox(p);
    const first = await start(sandboxId, config(p, 'again', 'exit 1'));
    await waitState(first, 'exited');
    const second = await runtime.createContainer(sandboxId, config(p, 'again', 'exit 0'));
    expect(second).not.toBe(first);
    expect(await runtime.inspect(first)).toBeUndefined();
    // A running holder of the name is never removed.
    const running = await start(sandboxId, config(p, 'busy', 'sleep 60'));
    await expect(runtime.createContainer(sandboxId, config(p, 'busy', 'true'))).rejects.toMatchObject({ statusCode: 409 });
    expect((await runtime.inspect(running))!.state).toBe('running');
  });

  it('serves logs: merged streams, tail, timestamps, follow until abort or exit', async () => {
    const p = pod();
    const sandboxId = await sandbox(p);
    const id = await start(sandboxId, config(p, 'talker',
      // The engine copies stdout and stderr concurrently: the pauses make their order deterministic.
      'for i in 1 2 3 4 5; do echo line-$i; done; sleep 0.2; echo oops >&2; sleep 0.2; echo line-6'));
    await waitState(id, 'exited');
    expect(await read(await runtime.logs(id, {}))).toBe('line-1\nline-2\nline-3\nline-4\nline-5\noops\nline-6\n');
    expect(await read(await runtime.logs(id, { tailLines: 2 }))).toBe('oops\nline-6\n');
    const stamped = (await read(await runtime.logs(id, { timestamps: true, tailLines: 3 }))).trimEnd().split('\n');
    expect(stamped).toHaveLength(3);
    for (const line of stamped) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z (line-\d|oops)$/);
    expect(await read(await runtime.logs(id, { sinceTime: new Date(Date.now() + 60_000).toISOString() }))).toBe('');

    // Follow a running container: data arrives as written; aborting ends the stream without an error.
    const ticker = await start(sandboxId, config(p, 'ticker', 'i=0; while true; do i=$((i+1)); echo tick-$i; sleep 0.1; done'));
    const ac = new AbortController();
    const follow = await runtime.logs(ticker, { follow: true }, ac.signal);
    let seen = '';
    const closed = new Promise<void>((resolve, reject) => {
      follow.on('data', (c: Buffer) => { seen += c.toString(); });
      follow.on('error', reject);
      follow.on('close', resolve);
    });
    await waitFor(() => seen.includes('tick-3'), { timeoutMs: 10_000, what: 'followed output' });
    ac.abort();
    await closed;

    // Following a container that exits ends with it.
    const brief = await start(sandboxId, config(p, 'brief', 'echo first; sleep 1; echo last'));
    expect(await read(await runtime.logs(brief, { follow: true }))).toBe('first\nlast\n');
  });

  it('times out an exec that runs too long', async () => {
    const p = pod();
    const sandboxId = await sandbox(p);
    const id = await start(sandboxId, config(p, 'idle', 'sleep 60'));
    const t0 = Date.now();
    await expect(runtime.exec(id, ['sleep', '30'], 500)).rejects.toThrow(/timed out after 500 ms/);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it('ensures images per pull policy', async () => {
    const present = await runtime.ensureImage(BUSYBOX, 'IfNotPresent');
    expect(present).toEqual({ imageID: expect.stringMatching(/^sha256:/), pulled: false });
    expect(await runtime.ensureImage(BUSYBOX, 'Never')).toEqual(present);
    // No registry is reachable: Always falls back to the local image (a deliberate departure for offline clusters).
    expect(await runtime.ensureImage(BUSYBOX, 'Always')).toEqual(present);

    const missing = `k8ts-test/missing-${RUN}:v1`;
    const never = await runtime.ensureImage(missing, 'Never').catch((err: unknown) => err);
    expect(never).toBeInstanceOf(ImagePullError);
    expect(never).toMatchObject({ reason: 'ErrImageNeverPull', message: `Container image "${missing}" is not present with pull policy of Never` });
    const t0 = Date.now();
    const pull = await runtime.ensureImage(missing, 'IfNotPresent').catch((err: unknown) => err);
    expect(pull).toBeInstanceOf(ImagePullError);
    expect(pull).toMatchObject({ reason: 'ErrImagePull' });
    expect((pull as Error).message).not.toBe('');
    expect(Date.now() - t0).toBeLessThan(30_000);
    await expect(runtime.ensureImage('Not A Name', 'IfNotPresent')).rejects.toMatchObject({ reason: 'InvalidImageName' });
  }, 60_000);

  it('answers undefined for an unknown container and lists only the asked pod', async () => {
    expect(await runtime.inspect(`nope-${RUN}`)).toBeUndefined();
    expect(await runtime.listContainers(`test-${RUN}-none`)).toEqual([]);
  });
});
