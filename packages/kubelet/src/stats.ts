import { readFile } from 'node:fs/promises';
import { realClock, rfc3339, type Clock } from '@k8ts/api';
import type { ContainerRuntime, RuntimeContainer } from './runtime.js';

/** statsapi.CPUStats: `usageNanoCores` is a rate, `usageCoreNanoSeconds` the cumulative counter. */
export interface CPUStats { time: string; usageNanoCores: number; usageCoreNanoSeconds: number }
/** statsapi.MemoryStats, reduced to the working set (what metrics-server reports as memory). */
export interface MemoryStats { time: string; workingSetBytes: number }
export interface ContainerStatsSummary { name: string; startTime: string; cpu: CPUStats; memory: MemoryStats }
export interface PodStats {
  podRef: { name: string; namespace: string; uid: string };
  startTime: string;
  containers: ContainerStatsSummary[];
  cpu: CPUStats;
  memory: MemoryStats;
}
/** The kubelet's `/stats/summary` answer (upstream statsapi.Summary, cpu and memory only). */
export interface Summary {
  node: { nodeName: string; startTime: string; cpu: CPUStats; memory: MemoryStats };
  pods: PodStats[];
}

export interface StatsCollectorOptions {
  runtime: ContainerRuntime;
  nodeName: string;
  clock?: Clock;
  /** Reads a /proc file (tests inject their own). */
  readProc?: (path: '/proc/stat' | '/proc/meminfo') => Promise<string>;
}

/** Samples closer together than this reuse the last rate: a rate over a few milliseconds is mostly noise. */
const MIN_WINDOW_MS = 1000;
/** /proc/stat counts in USER_HZ ticks, 100 per second on every Linux ABI. */
const NS_PER_TICK = 1e9 / 100;

interface Sample { cpu: number; at: number; rate: number }

/** The node's key among the samples (container ids are hex, so it cannot clash). */
const NODE = '/node';

/**
 * Builds the kubelet's stats summary from the container runtime and /proc. CPU rates are computed against the
 * previous sample kept in memory (per container id, and for the node); the first sample of a container is rated
 * since it started, the node's since boot, so the first answer is already meaningful without sleeping.
 */
export class StatsCollector {
  private readonly clock: Clock;
  private readonly readProc: (path: '/proc/stat' | '/proc/meminfo') => Promise<string>;
  /** The last sample per container id, and the node's. */
  private readonly samples = new Map<string, Sample>();

  constructor(private readonly opts: StatsCollectorOptions) {
    this.clock = opts.clock ?? realClock;
    this.readProc = opts.readProc ?? ((path) => readFile(path, 'utf8'));
  }

  /** Node totals and every running container except pod sandboxes, grouped by pod. */
  async summary(): Promise<Summary> {
    const running = (await this.opts.runtime.listContainers()).filter((c) => c.state === 'running' && !c.sandbox);
    const [node, ...stats] = await Promise.all([
      this.nodeStats(),
      // A container that stopped between the listing and its stats is simply left out.
      ...running.map((c) => this.containerStats(c).catch(() => undefined)),
    ]);
    const seen = new Set(running.map((c) => c.id));
    for (const id of this.samples.keys()) if (id !== NODE && !seen.has(id)) this.samples.delete(id);

    const pods = new Map<string, PodStats>();
    for (const s of stats) {
      if (!s) continue;
      let pod = pods.get(s.pod.uid);
      if (!pod) {
        pods.set(s.pod.uid, pod = {
          podRef: { name: s.pod.name, namespace: s.pod.namespace, uid: s.pod.uid }, startTime: s.stats.startTime, containers: [],
          cpu: { time: s.stats.cpu.time, usageNanoCores: 0, usageCoreNanoSeconds: 0 }, memory: { time: s.stats.memory.time, workingSetBytes: 0 },
        });
      }
      pod.containers.push(s.stats);
      if (s.stats.startTime < pod.startTime) pod.startTime = s.stats.startTime;
      pod.cpu.usageNanoCores += s.stats.cpu.usageNanoCores;
      pod.cpu.usageCoreNanoSeconds += s.stats.cpu.usageCoreNanoSeconds;
      pod.memory.workingSetBytes += s.stats.memory.workingSetBytes;
      if (s.stats.cpu.time > pod.cpu.time) pod.cpu.time = pod.memory.time = s.stats.cpu.time;
    }
    return { node: { nodeName: this.opts.nodeName, ...node }, pods: [...pods.values()] };
  }

  private async containerStats(c: RuntimeContainer): Promise<{ pod: RuntimeContainer['pod']; stats: ContainerStatsSummary }> {
    const s = await this.opts.runtime.stats(c.id);
    const at = Date.parse(s.timestamp) || this.clock.now();
    const startedAt = Date.parse(c.startedAt) || at;
    const rate = rateOf(this.samples, c.id, s.cpuCoreNanoSeconds, at, startedAt);
    const time = rfc3339(at);
    return {
      pod: c.pod,
      stats: {
        name: c.name, startTime: rfc3339(startedAt),
        cpu: { time, usageNanoCores: rate, usageCoreNanoSeconds: s.cpuCoreNanoSeconds },
        memory: { time, workingSetBytes: s.memoryWorkingSetBytes },
      },
    };
  }

  private async nodeStats(): Promise<Omit<Summary['node'], 'nodeName'>> {
    const [stat, meminfo] = await Promise.all([this.readProc('/proc/stat'), this.readProc('/proc/meminfo')]);
    const at = this.clock.now();
    const { usageCoreNanoSeconds, bootTime } = parseProcStat(stat);
    const usageNanoCores = rateOf(this.samples, NODE, usageCoreNanoSeconds, at, bootTime);
    const time = rfc3339(at);
    return {
      startTime: rfc3339(bootTime),
      cpu: { time, usageNanoCores, usageCoreNanoSeconds },
      memory: { time, workingSetBytes: workingSetFromMeminfo(meminfo) },
    };
  }
}

/**
 * CPU rate in nanocores for a cumulative counter: against the stored sample when it is at least MIN_WINDOW_MS
 * older (then this sample replaces it), the stored rate when it is younger, and since `startedAt` when there is
 * none or the counter went backwards (a restart), 0 when that is less than MIN_WINDOW_MS ago.
 */
function rateOf(samples: Map<string, Sample>, key: string, cpu: number, at: number, startedAt: number): number {
  const prev = samples.get(key);
  if (prev && cpu >= prev.cpu) {
    if (at - prev.at < MIN_WINDOW_MS) return prev.rate;
    const rate = Math.round((cpu - prev.cpu) / ((at - prev.at) / 1000));
    samples.set(key, { cpu, at, rate });
    return rate;
  }
  // Rated since the start only over a real window: a container sampled milliseconds after it started has spent its
  // start-up CPU in a sliver of time (seconds of cores, an HPA reading it would scale far too high); it reads 0
  // until the next sample, as cadvisor has no rate before its second sample.
  const rate = at - startedAt >= MIN_WINDOW_MS ? Math.round(cpu / ((at - startedAt) / 1000)) : 0;
  samples.set(key, { cpu, at, rate });
  return rate;
}

/** Busy CPU time of all cores in ns (everything but idle and iowait; guest time is already in user), and boot time in ms. */
export function parseProcStat(text: string): { usageCoreNanoSeconds: number; bootTime: number } {
  const cpu = /^cpu\s+(.*)$/m.exec(text)?.[1].trim().split(/\s+/).map(Number);
  const btime = /^btime\s+(\d+)$/m.exec(text)?.[1];
  if (!cpu || cpu.length < 4 || cpu.some(Number.isNaN) || !btime) throw new Error('unexpected /proc/stat format');
  const [user, nice, system, , , irq = 0, softirq = 0, steal = 0] = cpu;
  return { usageCoreNanoSeconds: (user + nice + system + irq + softirq + steal) * NS_PER_TICK, bootTime: Number(btime) * 1000 };
}

/** The node's working set as cadvisor computes it for the root cgroup: used memory minus inactive page cache. */
export function workingSetFromMeminfo(text: string): number {
  const kb = (field: string) => {
    const m = new RegExp(`^${field.replace(/[()]/g, '\\$&')}:\\s+(\\d+) kB$`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const total = kb('MemTotal');
  const free = kb('MemFree');
  if (total === undefined || free === undefined) throw new Error('unexpected /proc/meminfo format');
  return Math.max(0, total - free - (kb('Inactive(file)') ?? 0));
}
