import { describe, expect, it } from 'vitest';
import type { Pod } from '@k8ts/api';
import type { MetricsClient, PodMetricsInfo } from './metrics.js';
import { podMetricsFromList } from './metrics.js';
import { groupPods, ReplicaCalculator } from './replica-calculator.js';

const NOW = Date.UTC(2026, 11, 2, 1, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();

interface PodOpts { name: string; cpu?: string; memory?: string; phase?: string; ready?: 'True' | 'False' | null; startedAgoMs?: number;
  readySinceAgoMs?: number; deleted?: boolean }

function pod(o: PodOpts): Pod {
  const started = NOW - (o.startedAgoMs ?? 10 * 60_000);
  // An unready pod has by default been so since it started (never ready), a ready one for 9 minutes.
  const readySince = NOW - (o.readySinceAgoMs ?? (o.ready === 'False' ? o.startedAgoMs ?? 10 * 60_000 : 9 * 60_000));
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: o.name, namespace: 'default', labels: { app: 'web' }, ...(o.deleted ? { deletionTimestamp: iso(NOW) } : {}) },
    spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { ...(o.cpu ? { cpu: o.cpu } : {}), ...(o.memory ? { memory: o.memory } : {}) } } }] },
    status: {
      phase: o.phase ?? 'Running', startTime: iso(started),
      ...(o.ready === null ? {} : { conditions: [{ type: 'Ready', status: o.ready ?? 'True', lastTransitionTime: iso(readySince) }] }),
    },
  };
}

/** Metrics in milli-units by pod name, sampled `ageMs` ago with a 30 s window. */
function fakeMetrics(values: Record<string, number>, ageMs = 10_000): MetricsClient {
  return {
    async getResourceMetric() {
      const metrics: PodMetricsInfo = new Map(Object.entries(values).map(([n, v]) => [n, { timestamp: NOW - ageMs, windowMs: 30_000, value: v }]));
      if (!metrics.size) throw new Error('no metrics returned from resource metrics API');
      return { metrics, timestamp: NOW - ageMs };
    },
  };
}

function calc(pods: Pod[], metrics: Record<string, number>, ageMs?: number) {
  return new ReplicaCalculator({ metrics: fakeMetrics(metrics, ageMs), listPods: () => pods, now: () => NOW });
}

// Cases after upstream's replica_calculator_test.go.
describe('ReplicaCalculator.getResourceReplicas (Utilization)', () => {
  const three = ['a', 'b', 'c'].map((name) => pod({ name, cpu: '1' }));

  it('scales up by the usage ratio (testReplicaCalcScaleUp)', async () => {
    const r = await calc(three, { a: 300, b: 500, c: 700 }).getResourceReplicas(3, 30, 'cpu', 'default', 'app=web');
    expect(r).toMatchObject({ replicas: 5, utilization: 50, rawAverage: 500 });
  });

  it('scales down (testReplicaCalcScaleDown)', async () => {
    const pods = ['a', 'b', 'c', 'd', 'e'].map((name) => pod({ name, cpu: '1' }));
    const r = await calc(pods, { a: 100, b: 300, c: 500, d: 250, e: 250 }).getResourceReplicas(5, 50, 'cpu', 'default', 'app=web');
    expect(r).toMatchObject({ replicas: 3, utilization: 28, rawAverage: 280 });
  });

  it('keeps the count within the tolerance (testReplicaCalcTolerance)', async () => {
    const pods = [pod({ name: 'a', cpu: '0.9' }), pod({ name: 'b', cpu: '1.0' }), pod({ name: 'c', cpu: '1.1' })];
    const r = await calc(pods, { a: 1010, b: 1030, c: 1020 }).getResourceReplicas(3, 100, 'cpu', 'default', 'app=web');
    expect(r).toMatchObject({ replicas: 3, utilization: 102 });
    // Just outside it scales: 3345/3000 = 111 % → ratio 1.11 → ceil(3.33) = 4.
    const r2 = await calc(pods, { a: 1115, b: 1115, c: 1115 }).getResourceReplicas(3, 100, 'cpu', 'default', 'app=web');
    expect(r2.replicas).toBe(4);
  });

  it('does not count unready pods when scaling up, and counts them at 0 (testReplicaCalcScaleUpUnreadyLessScale)', async () => {
    const pods = [pod({ name: 'a', cpu: '1', ready: 'False' }), pod({ name: 'b', cpu: '1' }), pod({ name: 'c', cpu: '1' })];
    const r = await calc(pods, { a: 300, b: 500, c: 700 }).getResourceReplicas(3, 30, 'cpu', 'default', 'app=web');
    // Ready pods at 600/1000 = 60 % → ratio 2; with the unready one at 0: 1200/3000 → 40 % → ratio 1.33 → ceil(4) = 4.
    expect(r).toMatchObject({ replicas: 4, utilization: 60 });
  });

  it('keeps the count when unready pods cancel the scale-up (testReplicaCalcScaleUpUnreadyNoScale)', async () => {
    const pods = [pod({ name: 'a', cpu: '1' }), pod({ name: 'b', cpu: '1', ready: 'False' }), pod({ name: 'c', cpu: '1', ready: 'False' })];
    const r = await calc(pods, { a: 400, b: 500, c: 700 }).getResourceReplicas(3, 30, 'cpu', 'default', 'app=web');
    expect(r).toMatchObject({ replicas: 3, utilization: 40 });
  });

  it('treats pending pods as unready and ignores deleted and failed ones (testReplicaCalcScaleUpIgnoresFailedPods / DeletionPods)', async () => {
    const pods = [pod({ name: 'a', cpu: '1' }), pod({ name: 'b', cpu: '1' }), pod({ name: 'f', cpu: '1', phase: 'Failed' }),
      pod({ name: 'd', cpu: '1', deleted: true }), pod({ name: 'p', cpu: '1', phase: 'Pending' })];
    const r = await calc(pods, { a: 500, b: 700, f: 100, d: 100 }).getResourceReplicas(2, 30, 'cpu', 'default', 'app=web');
    // Ready: 1200/2000 = 60 % → ratio 2; the pending pod at 0: 1200/3000 = 40 % → 1.33 × 3 → 4.
    expect(r).toMatchObject({ replicas: 4, utilization: 60 });
  });

  it('counts missing pods at 0 on scale-up (testReplicaCalcMissingMetricsScaleUp)', async () => {
    const pods = ['a', 'b', 'c', 'd'].map((name) => pod({ name, cpu: '1' }));
    const r = await calc(pods, { a: 2000, b: 1900, c: 2100 }).getResourceReplicas(4, 100, 'cpu', 'default', 'app=web');
    // 200 % on the three → with d at 0: 6000/4000 = 150 % → 6.
    expect(r).toMatchObject({ replicas: 6, utilization: 200 });
  });

  it('counts missing pods at 100 % of their request on scale-down (testReplicaCalcMissingMetricsScaleDown)', async () => {
    const pods = ['a', 'b', 'c', 'd'].map((name) => pod({ name, cpu: '1' }));
    const r = await calc(pods, { a: 400, b: 95, c: 455 }).getResourceReplicas(4, 100, 'cpu', 'default', 'app=web');
    // 31 % on the three; with d at 100 %: 1950/4000 = 48 % → ratio 0.48 × 4 → 2.
    expect(r).toMatchObject({ replicas: 2, utilization: 31 });
  });

  it('keeps the count when missing pods flip the direction (testReplicaCalcMissingMetricsNoChangeGt)', async () => {
    const pods = ['a', 'b', 'c', 'd'].map((name) => pod({ name, cpu: '1' }));
    const r = await calc(pods, { a: 1900, b: 600, c: 500 }).getResourceReplicas(4, 100, 'cpu', 'default', 'app=web');
    // 100 % on the three (within tolerance only with d): ratio 1.0 → assumed 0 for d… 3000/4000 = 75 % flips below 1.
    expect(r.replicas).toBe(4);
  });

  it('ignores cpu samples that may include start-up (testReplicaCalcScaleUpCM… initialization period)', async () => {
    // Started 1 min ago, Ready for 20 s: the 30 s window of a sample taken 10 s ago overlaps the transition → unready.
    const pods = [pod({ name: 'a', cpu: '1', startedAgoMs: 60_000, readySinceAgoMs: 20_000 }), pod({ name: 'b', cpu: '1' })];
    const r = await calc(pods, { a: 1000, b: 600 }).getResourceReplicas(2, 50, 'cpu', 'default', 'app=web');
    // Only b counts: 60 % → 1.2; a at 0 for the scale-up: 600/2000 = 30 % → flips below: no change.
    expect(r).toMatchObject({ replicas: 2, utilization: 60 });
    // Ready since 50 s: the sample's window lies after the transition → a counts.
    const pods2 = [pod({ name: 'a', cpu: '1', startedAgoMs: 60_000, readySinceAgoMs: 50_000 }), pod({ name: 'b', cpu: '1' })];
    const r2 = await calc(pods2, { a: 1000, b: 600 }).getResourceReplicas(2, 50, 'cpu', 'default', 'app=web');
    expect(r2).toMatchObject({ replicas: 4, utilization: 80 });
  });

  it('fails without metrics, without pods, and without requests', async () => {
    await expect(calc(three, {}).getResourceReplicas(3, 50, 'cpu', 'default', 'app=web'))
      .rejects.toThrow('unable to get metrics for resource cpu: no metrics returned from resource metrics API');
    await expect(calc([], { a: 1 }).getResourceReplicas(3, 50, 'cpu', 'default', 'app=web'))
      .rejects.toThrow('no pods returned by selector while calculating replica count');
    await expect(calc([pod({ name: 'a' })], { a: 1 }).getResourceReplicas(1, 50, 'cpu', 'default', 'app=web'))
      .rejects.toThrow('missing request for cpu in container c of Pod a');
    await expect(calc([pod({ name: 'a', cpu: '1', phase: 'Pending' })], { a: 1 }).getResourceReplicas(1, 50, 'cpu', 'default', 'app=web'))
      .rejects.toThrow('did not receive metrics for targeted pods (pods might be unready)');
  });

  it('memory ignores readiness (readiness rules are for cpu only)', async () => {
    const pods = [pod({ name: 'a', memory: '100Mi', ready: 'False' }), pod({ name: 'b', memory: '100Mi' })];
    const mi = 1024 * 1024 * 1000;
    const r = await calc(pods, { a: 150 * mi, b: 150 * mi }).getResourceReplicas(2, 50, 'memory', 'default', 'app=web');
    expect(r).toMatchObject({ replicas: 6, utilization: 150 });
  });
});

describe('ReplicaCalculator.getRawResourceReplicas (AverageValue)', () => {
  it('scales by the average over the target, with the tolerance', async () => {
    const pods = ['a', 'b', 'c'].map((name) => pod({ name, cpu: '1' }));
    expect((await calc(pods, { a: 300, b: 500, c: 700 }).getRawResourceReplicas(3, 250, 'cpu', 'default', 'app=web')))
      .toMatchObject({ replicas: 6, rawAverage: 500 });
    expect((await calc(pods, { a: 520, b: 500, c: 480 }).getRawResourceReplicas(3, 480, 'cpu', 'default', 'app=web')).replicas).toBe(3);
  });

  it('counts missing pods at the target on scale-down', async () => {
    const pods = ['a', 'b', 'c', 'd'].map((name) => pod({ name, cpu: '1' }));
    // 100 average on three over a 400 target → with d at 400: 700/4 = 175 → 0.44 × 4 → 2.
    expect((await calc(pods, { a: 100, b: 100, c: 100 }).getRawResourceReplicas(4, 400, 'cpu', 'default', 'app=web')).replicas).toBe(2);
  });
});

describe('groupPods', () => {
  it('after the cpu initialization period, a pod never ready since shortly after start is unready; one that was ready is not', () => {
    const metrics: PodMetricsInfo = new Map([['a', { timestamp: NOW, windowMs: 30_000, value: 1 }], ['b', { timestamp: NOW, windowMs: 30_000, value: 1 }]]);
    const pods = [
      // Turned unready 10 s after start (within the 30 s readiness delay): it never was ready.
      pod({ name: 'a', cpu: '1', ready: 'False', startedAgoMs: 10 * 60_000, readySinceAgoMs: 10 * 60_000 - 10_000 }),
      // Turned unready 2 min after start: it was ready once, its samples count.
      pod({ name: 'b', cpu: '1', ready: 'False', startedAgoMs: 10 * 60_000, readySinceAgoMs: 8 * 60_000 }),
    ];
    const g = groupPods(pods, metrics, 'cpu', 5 * 60_000, 30_000, NOW);
    expect([...g.unready]).toEqual(['a']);
    expect(g.readyPodCount).toBe(1);
  });
});

describe('podMetricsFromList', () => {
  it('sums containers, skips pods missing the resource in a container, and reads the window', () => {
    const { metrics } = podMetricsFromList([
      { metadata: { name: 'a' }, timestamp: iso(NOW), window: '30s', containers: [{ name: 'x', usage: { cpu: '100m', memory: '1Mi' } }, { name: 'y', usage: { cpu: '250000000n', memory: '1Mi' } }] },
      { metadata: { name: 'b' }, timestamp: iso(NOW), window: '1m0s', containers: [{ name: 'x', usage: { cpu: '1m', memory: '1Mi' } }, { name: 'y', usage: { memory: '1Mi' } }] },
    ], 'cpu');
    expect([...metrics.keys()]).toEqual(['a']);
    expect(metrics.get('a')).toMatchObject({ value: 350, windowMs: 30_000 });
    expect(podMetricsFromList([{ metadata: { name: 'b' }, timestamp: iso(NOW), window: '1m0s', containers: [{ name: 'x', usage: { memory: '2Ki' } }] }], 'memory')
      .metrics.get('b')).toMatchObject({ value: 2048 * 1000, windowMs: 60_000 });
    expect(() => podMetricsFromList([], 'cpu')).toThrow('no metrics returned from resource metrics API');
  });
});
