import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeClock, type Pod, type Service } from '@k8ts/api';
import { FakeRuntime } from '../test/fake-runtime.js';
import { PodSyncer, containerHash } from './pod-sync.js';

function setup(pod: Pod) {
  const clock = new FakeClock();
  const runtime = new FakeRuntime(clock);
  const events: string[] = [];
  const probeResults = new Map<string, 'success' | 'failure'>();
  const syncer = new PodSyncer({
    runtime, clock, nodeName: 'node-1', hostIP: '127.0.1.1', network: 'bridge',
    source: { configMap: async () => undefined, secret: async () => undefined },
    volumes: { prepare: async () => undefined, mounts: () => [], cleanup: async () => undefined },
    probes: { sync: () => undefined, result: (_u, name, kind) => probeResults.get(`${name}/${kind}`), remove: () => undefined },
    event: (_p, type, reason, message) => events.push(`${type} ${reason}: ${message}`),
    backoff: { initialMs: 10_000, maxMs: 40_000 },
  });
  const sync = async () => { const r = await syncer.sync(pod); pod.status = r.status; return r; };
  return { clock, runtime, events, syncer, sync, probeResults };
}

const newPod = (spec: Partial<NonNullable<Pod['spec']>>): Pod => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'web', namespace: 'default', uid: 'uid-1' },
  spec: { containers: [{ name: 'app', image: 'k8ts/busybox:latest' }], restartPolicy: 'Always', ...spec },
  status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] },
});

describe('PodSyncer', () => {
  it('starts the sandbox, then the containers, and reports Running and Ready', async () => {
    const pod = newPod({ containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'y' }] });
    const { runtime, sync, events } = setup(pod);
    const { status } = await sync();
    expect(runtime.calls).toEqual(['sandbox sb1', 'create a#0', 'create b#0']);
    expect(status.phase).toBe('Running');
    expect(status.podIP).toBe('10.0.0.5');
    expect(status.hostIP).toBe('127.0.1.1');
    expect(status.containerStatuses!.map((c) => [c.name, c.ready, c.restartCount, !!c.state!.running])).toEqual([['a', true, 0, true], ['b', true, 0, true]]);
    expect(status.conditions!.map((c) => `${c.type}=${c.status}`)).toEqual(['Initialized=True', 'Ready=True', 'ContainersReady=True', 'PodScheduled=True']);
    expect(events).toContain('Normal Started: Started container a');
    runtime.calls = [];
    await sync();
    expect(runtime.calls).toEqual([]); // level-triggered: nothing to do
  });

  it('counts a restart and never reports Running when the containers were removed behind its back', async () => {
    const pod = newPod({});
    const { runtime, sync, clock } = setup(pod);
    await sync();
    const first = pod.status!.containerStatuses![0];
    expect(first).toMatchObject({ restartCount: 0, ready: true });
    // Another party (an older kubelet sharing the engine, `docker rm -f`) removes everything; the image is gone too.
    runtime.containers = [];
    runtime.missingImages.add('k8ts/busybox:latest');
    let s = (await sync()).status.containerStatuses![0];
    expect(s.state).toEqual({ terminated: { exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container could not be located when the pod was terminated' } });
    expect(s).toMatchObject({ ready: false, restartCount: 1, started: false });
    expect(pod.status!.conditions!.find((c) => c.type === 'Ready')!.status).toBe('False');
    s = (await sync()).status.containerStatuses![0]; // still missing: the count does not grow by itself
    expect(s).toMatchObject({ restartCount: 1, state: { terminated: { reason: 'ContainerStatusUnknown' } } });
    runtime.missingImages.clear();
    clock.advance(60_000); // past the image pull back-off
    s = (await sync()).status.containerStatuses![0];
    expect(s).toMatchObject({ restartCount: 1, ready: true });
    expect(s.state!.running).toBeTruthy();
    expect(runtime.containers.find((c) => c.name === 'app')!.restartCount).toBe(1);
    // Removed again while running, sandbox and all: first reported not ready (Services drop the dead address), with
    // nothing created; recreated at the next sync, counted once more, with the lost run as lastState.
    runtime.containers = [];
    runtime.calls = [];
    const lost = await sync();
    expect(runtime.calls).toEqual([]);
    expect(lost.requeueAfterMs).toBe(100);
    expect(lost.status.conditions!.find((c) => c.type === 'Ready')!.status).toBe('False');
    expect(lost.status.containerStatuses![0]).toMatchObject({ restartCount: 2, ready: false, state: { terminated: { reason: 'ContainerStatusUnknown' } } });
    s = (await sync()).status.containerStatuses![0];
    expect(runtime.calls[0]).toMatch(/^sandbox /);
    expect(s).toMatchObject({ restartCount: 2, ready: true, lastState: { terminated: { reason: 'ContainerStatusUnknown', exitCode: 137 } } });
    expect(s.containerID).toBe(`docker://${runtime.containers.find((c) => c.name === 'app')!.id}`);
    s = (await sync()).status.containerStatuses![0]; // and keeps it
    expect(s.lastState).toMatchObject({ terminated: { reason: 'ContainerStatusUnknown' } });
  });

  it('backs off restarts 10s, 20s, 40s, then caps, with CrashLoopBackOff while waiting', async () => {
    const pod = newPod({});
    const { runtime, sync, clock, events } = setup(pod);
    await sync();
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      runtime.exit('app', 1);
      const first = await sync();
      if (i === 0) { expect(first.status.containerStatuses![0].restartCount).toBe(1); continue; } // first restart is immediate
      expect(first.status.containerStatuses![0].state!.waiting).toMatchObject({ reason: 'CrashLoopBackOff' });
      expect(first.status.containerStatuses![0].lastState!.terminated).toMatchObject({ exitCode: 1 });
      delays.push(first.requeueAfterMs!);
      clock.advance(first.requeueAfterMs!);
      const again = await sync();
      expect(again.status.containerStatuses![0].state!.running).toBeTruthy();
      expect(again.status.containerStatuses![0].restartCount).toBe(i + 1);
    }
    expect(delays).toEqual([10_000, 20_000, 40_000]);
    expect(events.some((e) => /^Warning BackOff: Back-off restarting failed container app in pod web_default\(uid-1\)$/.test(e))).toBe(true);
    expect(runtime.containers.filter((c) => c.name === 'app')).toHaveLength(2); // current + previous kept
  });

  it('honours restartPolicy OnFailure and Never, and computes Succeeded and Failed', async () => {
    const ok = newPod({ restartPolicy: 'OnFailure' });
    const a = setup(ok);
    await a.sync();
    a.runtime.exit('app', 0);
    expect((await a.sync()).status.phase).toBe('Succeeded');
    const bad = newPod({ restartPolicy: 'Never' });
    const b = setup(bad);
    await b.sync();
    b.runtime.exit('app', 2);
    const res = await b.sync();
    expect(res.status.phase).toBe('Failed');
    expect(res.status.containerStatuses![0].state!.terminated).toMatchObject({ exitCode: 2, reason: 'Error' });
    expect(b.runtime.calls.filter((c) => c.startsWith('create'))).toHaveLength(1);
  });

  it('runs init containers one by one before the app containers', async () => {
    const pod = newPod({ initContainers: [{ name: 'i1', image: 'x' }, { name: 'i2', image: 'x' }] });
    const { runtime, sync } = setup(pod);
    let r = await sync();
    expect(runtime.calls).toEqual(['sandbox sb1', 'create i1#0']);
    expect(r.status.containerStatuses![0].state!.waiting!.reason).toBe('PodInitializing');
    expect(r.status.conditions!.find((c) => c.type === 'Initialized')!.status).toBe('False');
    runtime.exit('i1', 0);
    await sync();
    runtime.exit('i2', 0);
    r = await sync();
    expect(runtime.calls).toEqual(['sandbox sb1', 'create i1#0', 'create i2#0', 'create app#0']);
    expect(r.status.phase).toBe('Running');
    expect(r.status.initContainerStatuses!.every((s) => s.state!.terminated!.reason === 'Completed')).toBe(true);
  });

  it('restarts a container marked unhealthy or whose spec changed, and reports readiness from probes', async () => {
    const pod = newPod({});
    const { runtime, sync, syncer, probeResults, clock } = setup(pod);
    await sync();
    probeResults.set('app/readiness', 'failure');
    let r = await sync();
    expect(r.status.containerStatuses![0].ready).toBe(false);
    expect(r.status.conditions!.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady' });
    syncer.markUnhealthy('uid-1', 'app');
    await sync(); // kills
    r = await sync(); // restarts
    expect(runtime.calls.filter((c) => c.startsWith('create'))).toEqual(['create app#0', 'create app#1']);
    pod.spec!.containers[0].image = 'other';
    await sync(); // kills
    r = await sync(); // a second restart within the back-off waits, as upstream's doBackOff
    expect(r.status.containerStatuses![0].state!.waiting!.reason).toBe('CrashLoopBackOff');
    clock.advance(r.requeueAfterMs!);
    await sync();
    expect(runtime.containers.find((c) => c.state === 'running' && !c.sandbox)!.hash).toBe(containerHash(pod.spec!.containers[0]));
  });

  it('reports ErrImagePull, then ImagePullBackOff', async () => {
    const pod = newPod({ containers: [{ name: 'app', image: 'nope' }] });
    const { runtime, sync, clock, events } = setup(pod);
    runtime.missingImages.add('nope');
    let r = await sync();
    expect(r.status.containerStatuses![0].state!.waiting).toMatchObject({ reason: 'ErrImagePull' });
    expect(events).toContain('Warning Failed: Failed to pull image "nope": pull access denied for nope');
    r = await sync();
    expect(r.status.containerStatuses![0].state!.waiting!.reason).toBe('ImagePullBackOff');
    expect(r.status.phase).toBe('Pending');
    clock.advance(r.requeueAfterMs!);
    runtime.missingImages.clear();
    r = await sync();
    expect(r.status.phase).toBe('Running');
  });

  it('terminates: stops containers with the grace period, removes them and the sandbox', async () => {
    const pod = newPod({});
    const { runtime, sync, syncer } = setup(pod);
    await sync();
    await syncer.terminate(pod, 'uid-1', 30);
    expect(runtime.calls.slice(-2)).toEqual(['stop app', 'stop POD']);
    expect(runtime.containers).toEqual([]);
  });
});

describe('PodSyncer DNS, /etc/hosts and service links', () => {
  it('gives the sandbox the pod\'s resolv.conf and hostname, and every container the managed hosts file and service variables', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'k8ts-podsync-'));
    try {
      const clock = new FakeClock();
      const runtime = new FakeRuntime(clock);
      const services: Service[] = [{ metadata: { namespace: 'default', name: 'web' }, spec: { clusterIP: '10.96.0.20', ports: [{ port: 80 }] } }];
      const deps: ConstructorParameters<typeof PodSyncer>[0] = {
        runtime, clock, nodeName: 'node-1', hostIP: '127.0.1.1', network: 'bridge',
        source: { configMap: async () => undefined, secret: async () => undefined },
        volumes: { prepare: async () => undefined, mounts: () => [], cleanup: async () => undefined },
        probes: { sync: () => undefined, result: () => undefined, remove: () => undefined },
        event: () => undefined,
        dns: { clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local', host: { servers: ['10.255.255.53'], searches: [], options: [] } },
        services: () => services,
        podDir: (uid) => path.join(dir, 'pods', uid),
      };
      const syncer = new PodSyncer(deps);
      const pod = newPod({ hostname: 'db-0', subdomain: 'db', hostAliases: [{ ip: '10.1.2.3', hostnames: ['foo.local'] }] });
      await syncer.sync(pod);
      expect(runtime.sandboxConfigs[0]).toMatchObject({
        hostname: 'db-0',
        dns: { servers: ['10.96.0.10'], searches: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], options: ['ndots:5'] },
      });
      const cfg = runtime.containerConfigs[0];
      const hostsFile = path.join(dir, 'pods', 'uid-1', 'etc-hosts');
      expect(cfg.mounts).toContainEqual({ hostPath: hostsFile, containerPath: '/etc/hosts', readOnly: false });
      const hosts = readFileSync(hostsFile, 'utf8');
      expect(hosts).toContain('10.0.0.5\tdb-0.db.default.svc.cluster.local\tdb-0\n');
      expect(hosts).toContain('10.1.2.3\tfoo.local\n');
      const resolv = path.join(dir, 'pods', 'uid-1', 'resolv.conf');
      expect(cfg.mounts).toContainEqual({ hostPath: resolv, containerPath: '/etc/resolv.conf', readOnly: false });
      expect(readFileSync(resolv, 'utf8')).toBe('nameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n');
      expect(cfg.env).toContainEqual({ name: 'WEB_SERVICE_HOST', value: '10.96.0.20' });
      expect(cfg.env).toContainEqual({ name: 'WEB_PORT_80_TCP', value: 'tcp://10.96.0.20:80' });

      const off = new FakeRuntime(clock);
      const plain = new PodSyncer({ ...deps, runtime: off });
      await plain.sync({ ...newPod({ dnsPolicy: 'Default', enableServiceLinks: false }), metadata: { name: 'b', namespace: 'default', uid: 'uid-2' } });
      expect(off.sandboxConfigs[0].dns).toEqual({ servers: ['10.255.255.53'], searches: [], options: [] });
      expect(off.containerConfigs[0].env.map((e) => e.name)).not.toContain('WEB_SERVICE_HOST');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs each ephemeral container once, in the target\'s PID namespace, outside the phase and readiness', async () => {
    const pod = newPod({});
    const { runtime, sync, events, clock } = setup(pod);
    await sync();
    pod.spec!.ephemeralContainers = [
      { name: 'debugger-a', image: 'k8ts/busybox:latest', targetContainerName: 'app', stdin: true, tty: true },
      { name: 'debugger-b', image: 'k8ts/busybox:latest', command: ['true'] },
    ];
    runtime.calls = [];
    events.length = 0;
    let { status } = await sync();
    expect(runtime.calls).toEqual(['create debugger-a#0', 'create debugger-b#0']);
    const app = runtime.containers.find((c) => c.name === 'app')!;
    const [a, b] = runtime.containerConfigs.slice(-2);
    expect(a).toMatchObject({ ephemeral: true, pidTarget: app.id, tty: true, stdin: true });
    expect(b.ephemeral).toBe(true);
    expect(b.pidTarget).toBeUndefined();
    expect(events).toEqual(expect.arrayContaining(['Normal Created: Created container debugger-a', 'Normal Started: Started container debugger-b']));
    expect(status.ephemeralContainerStatuses!.map((s) => [s.name, !!s.state!.running, s.ready, s.restartCount])).toEqual([['debugger-a', true, false, 0], ['debugger-b', true, false, 0]]);
    expect(status.ephemeralContainerStatuses![0]).not.toHaveProperty('started');
    runtime.exit('debugger-b', 3);
    runtime.exit('debugger-a', 0);
    clock.advance(60_000);
    runtime.calls = [];
    status = (await sync()).status;
    expect(runtime.calls).toEqual([]); // never restarted, whatever the exit
    expect(status.ephemeralContainerStatuses!.map((s) => [s.name, s.state!.terminated?.exitCode])).toEqual([['debugger-a', 0], ['debugger-b', 3]]);
    expect(status.phase).toBe('Running');
    expect(status.conditions!.find((c) => c.type === 'Ready')!.status).toBe('True');
    expect(status.containerStatuses!.map((s) => s.name)).toEqual(['app']);
    // Its instance removed behind the kubelet's back: reported terminated (unknown), not run again.
    runtime.containers = runtime.containers.filter((c) => c.name !== 'debugger-b');
    status = (await sync()).status;
    expect(runtime.calls).toEqual([]);
    expect(status.ephemeralContainerStatuses![1].state!.terminated).toMatchObject({ exitCode: 3 });
  });

  it('waits for a target container that is not running', async () => {
    const pod = newPod({ containers: [{ name: 'app', image: 'k8ts/busybox:latest' }] });
    const { runtime, sync } = setup(pod);
    await sync();
    runtime.exit('app', 1);
    pod.spec!.restartPolicy = 'Never';
    pod.spec!.ephemeralContainers = [{ name: 'd', image: 'k8ts/busybox:latest', targetContainerName: 'app' }];
    runtime.calls = [];
    const r = await sync();
    expect(runtime.calls).toEqual([]);
    expect(r.status.ephemeralContainerStatuses![0].state).toEqual({ waiting: { reason: 'ContainerCreating' } });
  });

  it('puts a hostNetwork, hostPID, hostIPC pod in the host\'s namespaces, with the node\'s address', async () => {
    const pod = newPod({ hostNetwork: true, hostPID: true, hostIPC: true });
    const { runtime, sync } = setup(pod);
    const { status } = await sync();
    expect(runtime.sandboxConfigs[0]).toMatchObject({ hostNetwork: true, hostPID: true, hostIPC: true });
    expect(runtime.containerConfigs[0]).toMatchObject({ hostPID: true, hostIPC: true });
    expect(status.podIP).toBe('127.0.1.1');
    expect(status.podIPs).toEqual([{ ip: '127.0.1.1' }]);
  });
});
