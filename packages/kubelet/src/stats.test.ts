import { describe, expect, it } from 'vitest';
import { FakeClock } from '@k8ts/api';
import type { ContainerRuntime, ContainerStats, RuntimeContainer } from './runtime.js';
import { buildKubeletServer } from './server.js';
import { parseProcStat, StatsCollector, workingSetFromMeminfo } from './stats.js';

const T0 = Date.UTC(2026, 10, 24, 7, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();
const BOOT = T0 / 1000 - 100; // booted 100 s before T0

function container(id: string, name: string, extra: Partial<RuntimeContainer> = {}): RuntimeContainer {
  return {
    id, name, pod: { uid: 'uid-web', name: 'web', namespace: 'default' }, sandbox: false, init: false, restartCount: 0,
    hash: '', image: 'busybox', imageID: '', state: 'running', createdAt: iso(T0 - 20_000), startedAt: iso(T0 - 10_000),
    finishedAt: '', exitCode: 0, reason: '', labels: {}, ...extra,
  };
}

/** A runtime whose containers and per-id stats the test sets; a missing stats entry fails like a vanished container. */
function fakeRuntime(containers: RuntimeContainer[], stats: Record<string, ContainerStats>): ContainerRuntime {
  return {
    listContainers: async () => containers,
    stats: async (id: string) => {
      if (!stats[id]) throw new Error(`no such container: ${id}`);
      return stats[id];
    },
  } as unknown as ContainerRuntime;
}

/** /proc contents: busy ticks (user+system) and memory in kB. */
function fakeProc(state: { busyTicks: number; memTotalKb: number; memFreeKb: number; inactiveFileKb: number }) {
  return async (path: string) => path === '/proc/stat'
    ? `cpu  ${state.busyTicks - 500} 0 500 90000 100 0 0 0 0 0\ncpu0 1 2 3 4\nintr 1\nbtime ${BOOT}\nprocesses 5\n`
    : `MemTotal:       ${state.memTotalKb} kB\nMemFree:        ${state.memFreeKb} kB\nMemAvailable:   1 kB\nInactive(file):   ${state.inactiveFileKb} kB\n`;
}

describe('StatsCollector', () => {
  it('rates a new container since its start, then against the previous sample, and sums pods', async () => {
    const clock = new FakeClock(T0);
    const stats: Record<string, ContainerStats> = {
      // 2.5 s of CPU over the 10 s since start: 250m.
      a: { cpuCoreNanoSeconds: 2.5e9, memoryWorkingSetBytes: 64 * 2 ** 20, timestamp: iso(T0) },
      b: { cpuCoreNanoSeconds: 1e9, memoryWorkingSetBytes: 2 ** 20, timestamp: iso(T0) },
    };
    const containers = [
      container('sandbox', 'POD', { sandbox: true }), container('a', 'app'), container('b', 'sidecar'),
      container('old', 'app', { state: 'exited' }),
      container('c', 'db', { pod: { uid: 'uid-db', name: 'db', namespace: 'prod' } }),
    ];
    const proc = { busyTicks: 10_000, memTotalKb: 8 * 1024 * 1024, memFreeKb: 6 * 1024 * 1024, inactiveFileKb: 1024 * 1024 };
    const collector = new StatsCollector({ runtime: fakeRuntime(containers, stats), nodeName: 'node-a', clock, readProc: fakeProc(proc) });

    const first = await collector.summary();
    // The db container's stats fail (it stopped meanwhile): its pod is left out.
    expect(first.pods).toHaveLength(1);
    const [web] = first.pods;
    expect(web.podRef).toEqual({ name: 'web', namespace: 'default', uid: 'uid-web' });
    expect(web.containers.map((c) => [c.name, c.cpu.usageNanoCores, c.memory.workingSetBytes])).toEqual([
      ['app', 250_000_000, 64 * 2 ** 20], ['sidecar', 100_000_000, 2 ** 20],
    ]);
    expect(web.containers[0]).toMatchObject({ startTime: '2026-11-24T06:59:50Z', cpu: { time: '2026-11-24T07:00:00Z', usageCoreNanoSeconds: 2.5e9 } });
    expect(web.cpu).toEqual({ time: '2026-11-24T07:00:00Z', usageNanoCores: 350_000_000, usageCoreNanoSeconds: 3.5e9 });
    expect(web.memory.workingSetBytes).toBe(65 * 2 ** 20);
    // Node: 10 000 ticks (100 s) of CPU over the 100 s since boot is one core; 8 GiB − 6 GiB free − 1 GiB inactive.
    expect(first.node).toMatchObject({ nodeName: 'node-a', startTime: iso(BOOT * 1000).replace('.000', '') });
    expect(first.node.cpu).toEqual({ time: '2026-11-24T07:00:00Z', usageNanoCores: 1e9, usageCoreNanoSeconds: 100e9 });
    expect(first.node.memory.workingSetBytes).toBe(2 ** 30);

    // 5 s later: app used 0.5 s more (100m); the node 200 ticks = 2 s (400m).
    clock.advance(5000);
    stats.a = { ...stats.a, cpuCoreNanoSeconds: 3e9, timestamp: iso(T0 + 5000) };
    stats.b = { ...stats.b, timestamp: iso(T0 + 5000) };
    proc.busyTicks += 200;
    const second = await collector.summary();
    expect(second.pods[0].containers.map((c) => c.cpu.usageNanoCores)).toEqual([100_000_000, 0]);
    expect(second.node.cpu.usageNanoCores).toBe(400_000_000);

    // A sample under a second later reuses the last rates instead of rating a few milliseconds.
    clock.advance(10);
    stats.a = { ...stats.a, cpuCoreNanoSeconds: 3.1e9, timestamp: iso(T0 + 5010) };
    proc.busyTicks += 50;
    const third = await collector.summary();
    expect(third.pods[0].containers[0].cpu.usageNanoCores).toBe(100_000_000);
    expect(third.node.cpu.usageNanoCores).toBe(400_000_000);
  });

  it('starts over from the start time when the counter goes backwards, and forgets removed containers', async () => {
    const clock = new FakeClock(T0);
    const stats: Record<string, ContainerStats> = { a: { cpuCoreNanoSeconds: 5e9, memoryWorkingSetBytes: 0, timestamp: iso(T0) } };
    const containers = [container('a', 'app')];
    const proc = { busyTicks: 100, memTotalKb: 1024, memFreeKb: 512, inactiveFileKb: 0 };
    const collector = new StatsCollector({ runtime: fakeRuntime(containers, stats), nodeName: 'n', clock, readProc: fakeProc(proc) });
    expect((await collector.summary()).pods[0].cpu.usageNanoCores).toBe(500_000_000);

    stats.a = { cpuCoreNanoSeconds: 1e9, memoryWorkingSetBytes: 0, timestamp: iso(T0 + 2000) };
    containers[0] = container('a', 'app', { startedAt: iso(T0) });
    expect((await collector.summary()).pods[0].cpu.usageNanoCores).toBe(500_000_000);

    containers.length = 0;
    expect((await collector.summary()).pods).toEqual([]);
    // Back with the same id: no previous sample is left, so it is rated since its start again.
    containers.push(container('a', 'app', { startedAt: iso(T0) }));
    stats.a = { cpuCoreNanoSeconds: 4e9, memoryWorkingSetBytes: 0, timestamp: iso(T0 + 4000) };
    expect((await collector.summary()).pods[0].cpu.usageNanoCores).toBe(1e9);
  });

  it('reads 0 for a container sampled less than a second after it started, then its real rate', async () => {
    const clock = new FakeClock(T0);
    // 3 ms of start-up CPU 2 ms after the start: no rate yet (it would be 1.5 cores).
    const stats: Record<string, ContainerStats> = { a: { cpuCoreNanoSeconds: 3e6, memoryWorkingSetBytes: 0, timestamp: iso(T0 + 2) } };
    const containers = [container('a', 'app', { startedAt: iso(T0) })];
    const proc = { busyTicks: 100, memTotalKb: 1024, memFreeKb: 512, inactiveFileKb: 0 };
    const collector = new StatsCollector({ runtime: fakeRuntime(containers, stats), nodeName: 'n', clock, readProc: fakeProc(proc) });
    expect((await collector.summary()).pods[0].cpu.usageNanoCores).toBe(0);
    stats.a = { cpuCoreNanoSeconds: 5e6, memoryWorkingSetBytes: 0, timestamp: iso(T0 + 2002) };
    expect((await collector.summary()).pods[0].cpu.usageNanoCores).toBe(1_000_000);
  });

  it('parses /proc/stat and /proc/meminfo', () => {
    expect(parseProcStat('cpu  100 20 30 5000 40 5 5 10 7 0\nbtime 1700000000\n'))
      .toEqual({ usageCoreNanoSeconds: 170 * 1e7, bootTime: 1.7e12 });
    expect(() => parseProcStat('garbage')).toThrow(/proc\/stat/);
    expect(workingSetFromMeminfo('MemTotal: 100 kB\nMemFree: 40 kB\nInactive(file): 10 kB\n')).toBe(50 * 1024);
    expect(() => workingSetFromMeminfo('')).toThrow(/meminfo/);
  });

  it('is served at /stats/summary by the kubelet server, which answers 404 without it', async () => {
    const runtime = fakeRuntime([], {});
    const proc = { busyTicks: 100, memTotalKb: 1024, memFreeKb: 512, inactiveFileKb: 0 };
    const stats = new StatsCollector({ runtime, nodeName: 'n', clock: new FakeClock(T0), readProc: fakeProc(proc) });
    const server = buildKubeletServer({ runtime, nodeName: 'n', pod: () => undefined, stats });
    const res = await server.inject({ method: 'GET', url: '/stats/summary' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ node: { nodeName: 'n', memory: { workingSetBytes: 512 * 1024 } }, pods: [] });
    const bare = buildKubeletServer({ runtime, nodeName: 'n', pod: () => undefined });
    expect((await bare.inject({ method: 'GET', url: '/stats/summary' })).statusCode).toBe(404);
  });
});
