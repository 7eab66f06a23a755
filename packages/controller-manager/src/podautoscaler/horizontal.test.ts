import { describe, expect, it } from 'vitest';
import { DEPLOYMENTS, type HorizontalPodAutoscaler, type Pod, type ResourceDef } from '@k8ts/api';
import { FakeClock, FakeInformerFactory, RecordingClient } from '@k8ts/api/testing';
import {
  calculateScaleDownLimitWithBehaviors, calculateScaleUpLimitWithScalingRules, HorizontalController, milliQuantity, scaleTargetResource,
  type Scale, type ScaleClient,
} from './horizontal.js';
import type { MetricsClient } from './metrics.js';

const clock = () => new FakeClock(Date.UTC(2026, 11, 2, 1, 0, 0));

function hpa(spec: Partial<NonNullable<HorizontalPodAutoscaler['spec']>> = {}): HorizontalPodAutoscaler {
  return {
    apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'web', namespace: 'default', uid: 'u1', generation: 1 },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 10,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
      ...spec,
    },
  };
}

function runningPod(name: string, now: number): Pod {
  const t = new Date(now - 10 * 60_000).toISOString();
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app: 'web' } },
    spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '100m' } } }] },
    status: { phase: 'Running', startTime: t, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: t }] },
  };
}

/** A target whose /scale is kept in memory; `failUpdate` makes writes fail. */
class FakeScales implements ScaleClient {
  replicas: number;
  updates: number[] = [];
  failUpdate = false;
  selector = 'app=web';
  constructor(replicas: number) { this.replicas = replicas; }
  async get(_def: ResourceDef, ns: string, name: string): Promise<Scale> {
    return { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name, namespace: ns }, spec: { replicas: this.replicas }, status: { replicas: this.replicas, selector: this.selector } };
  }
  async update(_def: ResourceDef, _ns: string, scale: Scale): Promise<Scale> {
    if (this.failUpdate) throw new Error('the object has been modified');
    this.replicas = scale.spec!.replicas!;
    this.updates.push(this.replicas);
    return scale;
  }
}

/** Every pod at `milli` millicores (of a 100m request). */
function setup(opts: { replicas: number; hpa?: HorizontalPodAutoscaler; milli?: number; metrics?: MetricsClient }) {
  const c = clock();
  const h = opts.hpa ?? hpa();
  const client = new RecordingClient({ objects: [h], clock: c });
  const informers = new FakeInformerFactory([h]);
  const scales = new FakeScales(opts.replicas);
  const state = { milli: opts.milli ?? 50 };
  const pods = () => Array.from({ length: scales.replicas }, (_, i) => runningPod(`web-${i}`, c.now()));
  const metrics: MetricsClient = opts.metrics ?? {
    async getResourceMetric() {
      return { metrics: new Map(pods().map((p) => [p.metadata!.name!, { timestamp: c.now() - 5000, windowMs: 30_000, value: state.milli }])), timestamp: c.now() - 5000 };
    },
  };
  const ctrl = new HorizontalController({ client, informers, clock: c, scales, metrics });
  const podInformer = informers.informerFor<Pod>({ group: '', version: 'v1', resource: 'pods' } as ResourceDef);
  const syncPods = () => { for (const p of podInformer.lister().list()) podInformer.delete(p); for (const p of pods()) podInformer.add(p); };
  /** One sync as the controller runs it, with the pods as the target's replicas say, then the status it wrote fed back. */
  const sync = async () => {
    syncPods();
    await ctrl.sync('default/web');
    const written = client.writes().filter((w) => w.resource === 'horizontalpodautoscalers' && w.subresource === 'status').at(-1);
    if (written) informers.informerFor<HorizontalPodAutoscaler>({ group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers' } as ResourceDef).update(written.object as HorizontalPodAutoscaler);
  };
  const status = () => (client.writes().filter((w) => w.subresource === 'status').at(-1)?.object as HorizontalPodAutoscaler).status!;
  const events = () => client.writes().filter((w) => w.resource === 'events').map((w) => { const e = w.object as { reason: string; message: string }; return `${e.reason}: ${e.message}`; });
  const cond = (type: string) => status().conditions?.find((x) => x.type === type);
  return { c, client, ctrl, scales, state, sync, status, events, cond };
}

describe('HorizontalController.sync', () => {
  it('scales up on cpu utilization above target, with status, conditions and a SuccessfulRescale event', async () => {
    const t = setup({ replicas: 2, milli: 100 });
    await t.sync();
    // 100 % of requests against 50 % → ratio 2 → 4 replicas.
    expect(t.scales.updates).toEqual([4]);
    expect(t.status()).toMatchObject({
      currentReplicas: 2, desiredReplicas: 4, observedGeneration: 1, lastScaleTime: new Date(t.c.now()).toISOString().replace(/\.\d+Z/, 'Z'),
      currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 100, averageValue: '100m' } } }],
    });
    expect(t.cond('AbleToScale')).toMatchObject({ status: 'True', reason: 'SucceededRescale', message: 'the HPA controller was able to update the target scale to 4' });
    expect(t.cond('ScalingActive')).toMatchObject({ status: 'True', reason: 'ValidMetricFound', message: 'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)' });
    expect(t.cond('ScalingLimited')).toMatchObject({ status: 'False', reason: 'DesiredWithinRange' });
    expect(t.events()).toContain('SuccessfulRescale: New size: 4; reason: cpu resource utilization (percentage of request) above target');
  });

  it('stays within the tolerance and writes nothing but status', async () => {
    const t = setup({ replicas: 3, milli: 54 });
    await t.sync();
    expect(t.scales.updates).toEqual([]);
    expect(t.status()).toMatchObject({ currentReplicas: 3, desiredReplicas: 3 });
    expect(t.cond('AbleToScale')).toMatchObject({ reason: 'ReadyForNewScale' });
  });

  it('without behavior: scale-up limited to double or +4, maxReplicas with TooManyReplicas', async () => {
    const t = setup({ replicas: 1, milli: 1000 });
    await t.sync();
    expect(t.scales.updates).toEqual([4]);
    expect(t.cond('ScalingLimited')).toMatchObject({ status: 'True', reason: 'ScaleUpLimit' });
    await t.sync();
    expect(t.scales.updates).toEqual([4, 8]);
    await t.sync();
    expect(t.scales.updates).toEqual([4, 8, 10]);
    expect(t.cond('ScalingLimited')).toMatchObject({ status: 'True', reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' });
  });

  it('without behavior: scale-down waits out the 5 min stabilization window', async () => {
    const t = setup({ replicas: 4, milli: 50 });
    await t.sync(); // recommendation 4 recorded
    t.state.milli = 10;
    t.c.advance(15_000);
    await t.sync();
    expect(t.scales.updates).toEqual([]);
    expect(t.cond('AbleToScale')).toMatchObject({ reason: 'ScaleDownStabilized' });
    t.c.advance(5 * 60_000);
    await t.sync();
    // 20 % of 50 % × 4 → 1 (minReplicas 1).
    expect(t.scales.updates).toEqual([1]);
    expect(t.events()).toContain('SuccessfulRescale: New size: 1; reason: All metrics below target');
  });

  it('behavior: scaleDown policies and a short window, selectPolicy Min and Disabled', async () => {
    const behavior = { scaleDown: { stabilizationWindowSeconds: 10, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } };
    const t = setup({ replicas: 5, milli: 5, hpa: hpa({ behavior }) });
    await t.sync();
    // Window 10 s: the initial recommendation (5, now) still counts.
    expect(t.scales.updates).toEqual([]);
    t.c.advance(11_000);
    await t.sync();
    expect(t.scales.updates).toEqual([4]);
    expect(t.cond('ScalingLimited')).toMatchObject({ status: 'True', reason: 'ScaleDownLimit' });
    t.c.advance(30_000);
    await t.sync();
    // One pod per 60 s: still within the period of the last scale-down.
    expect(t.scales.updates).toEqual([4]);
    t.c.advance(31_000);
    await t.sync();
    expect(t.scales.updates).toEqual([4, 3]);

    const disabled = setup({ replicas: 5, milli: 5, hpa: hpa({ behavior: { scaleDown: { selectPolicy: 'Disabled' } } }) });
    disabled.c.advance(400_000);
    await disabled.sync();
    disabled.c.advance(400_000);
    await disabled.sync();
    expect(disabled.scales.updates).toEqual([]);
  });

  it('behavior: scaleUp stabilization takes the lowest recent recommendation', async () => {
    const behavior = { scaleUp: { stabilizationWindowSeconds: 60 } };
    const t = setup({ replicas: 2, milli: 100, hpa: hpa({ behavior }) });
    await t.sync();
    // The initial recommendation (2) is within the up window.
    expect(t.scales.updates).toEqual([]);
    expect(t.cond('AbleToScale')).toMatchObject({ reason: 'ScaleUpStabilized' });
    t.c.advance(61_000);
    await t.sync();
    expect(t.scales.updates).toEqual([4]);
  });

  it('reports a failing metric as FailedGetResourceMetric and keeps the scale', async () => {
    const metrics: MetricsClient = { async getResourceMetric() { throw new Error('no metrics returned from resource metrics API'); } };
    const t = setup({ replicas: 2, metrics });
    await t.sync();
    expect(t.scales.updates).toEqual([]);
    expect(t.cond('ScalingActive')).toMatchObject({
      status: 'False', reason: 'FailedGetResourceMetric',
      message: 'the HPA was unable to compute the replica count: unable to get metrics for resource cpu: no metrics returned from resource metrics API',
    });
    expect(t.status().currentMetrics).toEqual([{ type: '' }]);
    expect(t.events()).toEqual(expect.arrayContaining([
      'FailedGetResourceMetric: unable to get metrics for resource cpu: no metrics returned from resource metrics API',
      'FailedComputeMetricsReplicas: failed to compute desired number of replicas based on listed metrics for Deployment/default/web: unable to get metrics for resource cpu: no metrics returned from resource metrics API',
    ]));
  });

  it('brings the target into [min, max] without metrics, and stops at zero replicas', async () => {
    const t = setup({ replicas: 12, milli: 50 });
    await t.sync();
    expect(t.scales.updates).toEqual([10]);
    expect(t.events()).toContain('SuccessfulRescale: New size: 10; reason: Current number of replicas above Spec.MaxReplicas');
    const zero = setup({ replicas: 0 });
    await zero.sync();
    expect(zero.scales.updates).toEqual([]);
    expect(zero.cond('ScalingActive')).toMatchObject({ status: 'False', reason: 'ScalingDisabled' });
  });

  it('reports targets that cannot be scaled, scale writes that fail, and a missing selector', async () => {
    const t = setup({ replicas: 2, hpa: hpa({ scaleTargetRef: { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'web' } }) });
    await t.sync();
    expect(t.cond('AbleToScale')).toMatchObject({ status: 'False', reason: 'FailedGetScale',
      message: 'the HPA controller was unable to get the target\'s current scale: unable to determine resource for scale target reference: no matches for kind "DaemonSet" in group "apps"' });
    const f = setup({ replicas: 2, milli: 100 });
    f.scales.failUpdate = true;
    await f.sync();
    expect(f.cond('AbleToScale')).toMatchObject({ status: 'False', reason: 'FailedUpdateScale' });
    expect(f.events()).toContain('FailedRescale: New size: 4; reason: cpu resource utilization (percentage of request) above target; error: the object has been modified');
    const s = setup({ replicas: 2 });
    s.scales.selector = '';
    await s.sync();
    expect(s.cond('ScalingActive')).toMatchObject({ status: 'False', reason: 'InvalidSelector', message: "the HPA target's scale is missing a selector" });
  });

  it('AverageValue targets report the average usage', async () => {
    const h = hpa({ metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'AverageValue', averageValue: '25m' } } }] });
    const t = setup({ replicas: 2, milli: 50, hpa: h });
    await t.sync();
    expect(t.scales.updates).toEqual([4]);
    expect(t.status().currentMetrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', current: { averageValue: '50m' } } }]);
    expect(t.events()).toContain('SuccessfulRescale: New size: 4; reason: cpu resource above target');
  });

  it('requeues every HPA one sync period later, and forgets deleted ones', async () => {
    const t = setup({ replicas: 2 });
    await t.ctrl.sync('default/web');
    expect(t.ctrl.queue.len()).toBe(0);
    t.c.advance(t.ctrl.syncPeriodMs);
    expect(t.ctrl.queue.len()).toBe(1);
    await t.ctrl.sync('default/gone');
  });
});

describe('scaling policies (upstream TestScalingWithRules cases)', () => {
  const now = 1_000_000;
  const ev = (change: number, agoS: number) => ({ replicaChange: change, timestamp: now - agoS * 1000, outdated: false });
  it('scale-up: Max of Pods and Percent from the replicas at the start of the period', () => {
    const rules = { selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] };
    expect(calculateScaleUpLimitWithScalingRules(10, [], [], rules, now)).toBe(20);
    expect(calculateScaleUpLimitWithScalingRules(2, [], [], rules, now)).toBe(6);
    // 6 added 5 s ago: the period started at 4 → max(8, 8).
    expect(calculateScaleUpLimitWithScalingRules(10, [ev(6, 5)], [], rules, now)).toBe(8);
    // Outside the period it no longer counts.
    expect(calculateScaleUpLimitWithScalingRules(10, [ev(6, 20)], [], rules, now)).toBe(20);
    expect(calculateScaleUpLimitWithScalingRules(10, [], [], { ...rules, selectPolicy: 'Min' }, now)).toBe(14);
    expect(calculateScaleUpLimitWithScalingRules(10, [], [], { ...rules, selectPolicy: 'Disabled' }, now)).toBe(10);
  });
  it('scale-down: Max removes the most, Min the fewest', () => {
    const rules = { selectPolicy: 'Max', policies: [{ type: 'Pods', value: 2, periodSeconds: 60 }, { type: 'Percent', value: 50, periodSeconds: 60 }] };
    expect(calculateScaleDownLimitWithBehaviors(10, [], [], rules, now)).toBe(5);
    expect(calculateScaleDownLimitWithBehaviors(10, [], [], { ...rules, selectPolicy: 'Min' }, now)).toBe(8);
    // 3 removed 30 s ago: the period started at 13 → 50 % → 6 (truncated).
    expect(calculateScaleDownLimitWithBehaviors(10, [], [ev(3, 30)], rules, now)).toBe(6);
  });
});

describe('helpers', () => {
  it('milliQuantity prints as resource.NewMilliQuantity(DecimalSI)', () => {
    expect(milliQuantity(12)).toBe('12m');
    expect(milliQuantity(1000)).toBe('1');
    expect(milliQuantity(0)).toBe('0');
    expect(milliQuantity(104857600 * 1000)).toBe('104857600');
    expect(milliQuantity(3_000_000)).toBe('3k');
  });
  it('scaleTargetResource finds kinds with /scale', () => {
    expect(scaleTargetResource({ apiVersion: 'apps/v1', kind: 'Deployment' })).toBe(DEPLOYMENTS);
    expect(scaleTargetResource({ apiVersion: 'v1', kind: 'ReplicationController' }).resource).toBe('replicationcontrollers');
    expect(() => scaleTargetResource({ apiVersion: 'apps/v1', kind: 'Nope' })).toThrow('no matches for kind "Nope" in group "apps"');
  });

  it('scaleTargetResource finds a discovered custom resource with /scale, in the reference\'s version first', () => {
    const row = (version: string, scale: boolean) => ({
      group: 'example.com', version, resource: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList', namespaced: true,
      shortNames: [], categories: [], verbs: ['get'], subresources: scale ? [{ name: 'scale' as const, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get'] }] : [],
    });
    const discovered = [row('v1', true), row('v2', true), row('v3', false)];
    expect(scaleTargetResource({ apiVersion: 'example.com/v2', kind: 'Widget' }, discovered).version).toBe('v2');
    expect(scaleTargetResource({ apiVersion: 'example.com/v3', kind: 'Widget' }, discovered).version).toBe('v1');
    expect(() => scaleTargetResource({ apiVersion: 'example.com/v1', kind: 'Widget' })).toThrow('no matches for kind "Widget" in group "example.com"');
  });
});
