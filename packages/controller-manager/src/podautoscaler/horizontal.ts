import { isDeepStrictEqual } from 'node:util';
import {
  ApiError, cpuMillis, EventRecorder, eventTarget, HORIZONTALPODAUTOSCALERS, objectKey, parseApiVersion, parseLabelSelector, PODS, quantityValue, realClock,
  discoverResources, resourcePath, RESOURCES, rfc3339, runWorkers, silentLogger, WorkQueue,
  type ApiClient, type Clock, type HorizontalPodAutoscaler, type InformerFactory, type Logger, type Pod, type ResourceDef, type SharedInformer,
} from '@k8ts/api';
import { RestMetricsClient, type MetricsClient } from './metrics.js';
import { ReplicaCalculator } from './replica-calculator.js';

type HPA = HorizontalPodAutoscaler;
type HPASpec = NonNullable<HPA['spec']>;
type HPAStatus = NonNullable<HPA['status']>;
type MetricSpec = NonNullable<HPASpec['metrics']>[number];
type MetricStatus = NonNullable<HPAStatus['currentMetrics']>[number];
type ConditionType = 'AbleToScale' | 'ScalingActive' | 'ScalingLimited';
/** autoscalingv2.HPAScalingRules with upstream's defaults filled in. */
export interface ScalingRules {
  stabilizationWindowSeconds?: number;
  selectPolicy?: string;
  policies?: { type: string; value: number; periodSeconds: number }[];
}

/** `--horizontal-pod-autoscaler-sync-period` (15 s). */
export const DEFAULT_HPA_SYNC_PERIOD_MS = 15_000;
/** `--horizontal-pod-autoscaler-downscale-stabilization` (5 min). */
export const DEFAULT_DOWNSCALE_STABILIZATION_MS = 5 * 60_000;
/** Without `behavior`, scale-up at most doubles or adds up to 4 (upstream's scaleUpLimitFactor/Minimum). */
const SCALE_UP_LIMIT_FACTOR = 2;
const SCALE_UP_LIMIT_MINIMUM = 4;

/** The autoscaling/v1 Scale of a target, as its `/scale` subresource answers. */
export interface Scale {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; uid?: string };
  spec?: { replicas?: number };
  status?: { replicas?: number; selector?: string };
}

/** The `/scale` subresource of any resource that serves it (upstream's scale client). */
export interface ScaleClient {
  get(def: ResourceDef, namespace: string, name: string): Promise<Scale>;
  update(def: ResourceDef, namespace: string, scale: Scale): Promise<Scale>;
}

/** The scale subresource over the REST client. */
export function restScaleClient(client: ApiClient): ScaleClient {
  return {
    get: (def, ns, name) => client.request<Scale>('GET', resourcePath(def, ns, name, 'scale')),
    update: (def, ns, scale) => client.update(def, ns, scale as never, { subresource: 'scale' }) as Promise<Scale>,
  };
}

/** A recommendation or a scaling, remembered for the stabilization windows and the rate policies. */
interface Recommendation { recommendation: number; timestamp: number }
interface ScaleEvent { replicaChange: number; timestamp: number; outdated: boolean }

export interface HorizontalControllerDeps {
  client: ApiClient;
  informers: InformerFactory;
  log?: Logger;
  clock?: Clock;
  metrics?: MetricsClient;
  scales?: ScaleClient;
  /** How often each HPA is reconciled (`--horizontal-pod-autoscaler-sync-period`). */
  syncPeriodMs?: number;
  /** `--horizontal-pod-autoscaler-downscale-stabilization`: the scale-down window without (or with an unset) behavior. */
  downscaleStabilizationMs?: number;
  tolerance?: number;
  cpuInitializationPeriodMs?: number;
  initialReadinessDelayMs?: number;
}

/** The resource a scaleTargetRef names, if it serves /scale; throws upstream's mapping errors otherwise. */
export function scaleTargetResource(ref: { apiVersion?: string; kind?: string } | undefined, discovered: readonly ResourceDef[] = []): ResourceDef {
  const { group, version } = parseApiVersion(ref?.apiVersion ?? '');
  const kind = ref?.kind ?? '';
  const defs = [...RESOURCES, ...discovered].filter((r) => r.group === group && r.kind === kind && r.subresources.some((s) => s.name === 'scale'))
    // The reference's own version first (a custom resource's versions may differ in their scale paths).
    .sort((a, b) => (a.version === version ? 0 : 1) - (b.version === version ? 0 : 1));
  if (!defs.length) throw new Error(`unable to determine resource for scale target reference: no matches for kind "${kind}" in group "${group}"`);
  return defs[0];
}

/** A milli-value as resource.NewMilliQuantity(v, DecimalSI) prints it: `12m`, `1`, `3k`, `104857600`. */
export function milliQuantity(milli: number): string {
  const m = Math.trunc(milli);
  if (m % 1000 !== 0) return `${m}m`;
  let v = m / 1000;
  if (v === 0) return '0';
  const suffixes = ['', 'k', 'M', 'G', 'T', 'P', 'E'];
  let i = 0;
  while (v % 1000 === 0 && i < suffixes.length - 1) { v /= 1000; i++; }
  return `${v}${suffixes[i]}`;
}

/** Upstream's defaults of behavior.scaleUp (no window, 4 pods or 100 % per 15 s, the larger). */
export function defaultScaleUpRules(): ScalingRules {
  return { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] };
}

/** Upstream's defaults of behavior.scaleDown (100 % per 15 s; the window is the controller's flag). */
export function defaultScaleDownRules(windowSeconds?: number): ScalingRules {
  return { ...(windowSeconds !== undefined ? { stabilizationWindowSeconds: windowSeconds } : {}), selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] };
}

/** A metric that could not be computed, with the condition reason it reports. */
class MetricsError extends Error {
  constructor(readonly reason: string, message: string) { super(message); }
}

/**
 * Upstream's HorizontalController: every sync period, each HPA reads its target's `/scale`, computes the replicas its
 * Resource metrics ask for (ReplicaCalculator), stabilizes and rate-limits that (behavior, or the classic rules
 * without one), writes the new scale, and reports status (currentMetrics, replicas, lastScaleTime, the
 * AbleToScale/ScalingActive/ScalingLimited conditions) and Events (SuccessfulRescale, FailedGetResourceMetric, …).
 */
export class HorizontalController {
  readonly queue: WorkQueue<string>;
  private readonly hpas: SharedInformer<HPA>;
  private readonly pods: SharedInformer<Pod>;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly events: EventRecorder;
  private readonly scales: ScaleClient;
  private readonly calculator: ReplicaCalculator;
  readonly syncPeriodMs: number;
  private readonly downscaleStabilizationMs: number;
  private readonly recommendations = new Map<string, Recommendation[]>();
  private readonly scaleUpEvents = new Map<string, ScaleEvent[]>();
  private readonly scaleDownEvents = new Map<string, ScaleEvent[]>();

  constructor(private readonly deps: HorizontalControllerDeps) {
    this.clock = deps.clock ?? realClock;
    this.log = (deps.log ?? silentLogger).child({ controller: 'horizontalpodautoscaling' });
    this.queue = new WorkQueue<string>({ clock: this.clock });
    this.syncPeriodMs = deps.syncPeriodMs ?? DEFAULT_HPA_SYNC_PERIOD_MS;
    this.downscaleStabilizationMs = deps.downscaleStabilizationMs ?? DEFAULT_DOWNSCALE_STABILIZATION_MS;
    this.events = new EventRecorder({ client: deps.client, component: 'horizontal-pod-autoscaler', log: this.log, now: () => this.clock.now() });
    this.scales = deps.scales ?? restScaleClient(deps.client);
    this.hpas = deps.informers.informerFor<HPA>(HORIZONTALPODAUTOSCALERS);
    this.pods = deps.informers.informerFor<Pod>(PODS);
    this.calculator = new ReplicaCalculator({
      metrics: deps.metrics ?? new RestMetricsClient(deps.client),
      listPods: (ns, selector) => this.pods.lister().listNamespace(ns, parseLabelSelector(selector)),
      now: () => this.clock.now(),
      tolerance: deps.tolerance, cpuInitializationPeriodMs: deps.cpuInitializationPeriodMs, initialReadinessDelayMs: deps.initialReadinessDelayMs,
    });
    // As upstream, every key waits one sync period in the queue: HPAs are handled once per period, changes included.
    this.hpas.addHandler({
      onAdd: (hpa) => this.queue.addAfter(objectKey(hpa), this.syncPeriodMs),
      onUpdate: (_old, hpa) => this.queue.addAfter(objectKey(hpa), this.syncPeriodMs),
      onDelete: (hpa) => this.queue.add(objectKey(hpa)),
    });
  }

  /** Waits for the caches, then syncs with `workers` workers until the signal aborts. */
  async run(signal: AbortSignal, workers = 5): Promise<void> {
    await Promise.all([this.hpas.waitForSync(signal), this.pods.waitForSync(signal)]).catch(() => undefined);
    if (signal.aborted) return;
    await runWorkers(this.queue, (key) => this.sync(key), { workers, log: this.log, signal, keyField: 'hpa' });
  }

  /**
   * Reconciles one HPA and queues it again one sync period later. Failures are reported as conditions and Events
   * and retried at the next period, as upstream's fixed-interval rate limiter does, never sooner.
   */
  async sync(key: string): Promise<void> {
    const cached = this.hpas.get(key);
    if (!cached) {
      this.recommendations.delete(key);
      this.scaleUpEvents.delete(key);
      this.scaleDownEvents.delete(key);
      return;
    }
    try {
      await this.reconcile(key, structuredClone(cached));
    } catch (err) {
      this.log.warn({ hpa: key, err }, 'failed to reconcile HorizontalPodAutoscaler');
    } finally {
      this.queue.addAfter(key, this.syncPeriodMs);
    }
  }

  private now(): number { return this.clock.now(); }

  private event(hpa: HPA, type: 'Normal' | 'Warning', reason: string, message: string): void {
    void this.events.record(eventTarget({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: hpa.metadata }), type, reason, message);
  }

  /** The target's resource: a registry row, or one discovery shows (a custom resource with /scale, as upstream's RESTMapper). */
  private async scaleTarget(ref: { apiVersion?: string; kind?: string }): Promise<ResourceDef> {
    try {
      return scaleTargetResource(ref);
    } catch (err) {
      return scaleTargetResource(ref, await discoverResources(this.deps.client).catch(() => { throw err; }));
    }
  }

  private async reconcile(key: string, hpa: HPA): Promise<void> {
    const original = structuredClone(hpa.status);
    const ns = hpa.metadata!.namespace!;
    const spec = hpa.spec!;
    const ref = spec.scaleTargetRef;
    const reference = `${ref.kind}/${ns}/${ref.name}`;
    let def: ResourceDef;
    let scale: Scale;
    try {
      def = await this.scaleTarget(ref);
      scale = await this.scales.get(def, ns, ref.name);
    } catch (err) {
      const message = err instanceof ApiError ? err.message : (err as Error).message;
      this.event(hpa, 'Warning', 'FailedGetScale', message);
      setCondition(hpa, 'AbleToScale', 'False', 'FailedGetScale', `the HPA controller was unable to get the target's current scale: ${message}`, this.now());
      await this.updateStatusIfNeeded(original, hpa);
      return;
    }
    setCondition(hpa, 'AbleToScale', 'True', 'SucceededGetScale', "the HPA controller was able to get the target's current scale", this.now());
    const currentReplicas = scale.spec?.replicas ?? 0;
    this.recordInitialRecommendation(currentReplicas, key);

    const minReplicas = spec.minReplicas ?? 1;
    const maxReplicas = spec.maxReplicas;
    let metricStatuses: MetricStatus[] = hpa.status?.currentMetrics ?? [];
    let desiredReplicas = 0;
    let rescaleReason = '';
    let rescale = true;
    if (currentReplicas === 0 && minReplicas !== 0) {
      // Scaling is turned off by scaling the target to zero.
      rescale = false;
      setCondition(hpa, 'ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero', this.now());
    } else if (currentReplicas > maxReplicas) {
      rescaleReason = 'Current number of replicas above Spec.MaxReplicas';
      desiredReplicas = maxReplicas;
    } else if (currentReplicas < minReplicas) {
      rescaleReason = 'Current number of replicas below Spec.MinReplicas';
      desiredReplicas = minReplicas;
    } else {
      const computed = await this.computeReplicasForMetrics(hpa, scale, spec.metrics ?? []);
      metricStatuses = computed.statuses;
      if (computed.error) {
        setStatus(hpa, currentReplicas, hpa.status?.desiredReplicas ?? 0, metricStatuses, false, this.now());
        await this.updateStatusIfNeeded(original, hpa);
        this.event(hpa, 'Warning', 'FailedComputeMetricsReplicas', `failed to compute desired number of replicas based on listed metrics for ${reference}: ${computed.error.message}`);
        return;
      }
      let rescaleMetric = '';
      if (computed.replicas > desiredReplicas) {
        desiredReplicas = computed.replicas;
        rescaleMetric = computed.metric;
      }
      if (desiredReplicas > currentReplicas) rescaleReason = `${rescaleMetric} above target`;
      if (desiredReplicas < currentReplicas) rescaleReason = 'All metrics below target';
      desiredReplicas = spec.behavior
        ? this.normalizeWithBehaviors(hpa, key, currentReplicas, desiredReplicas, minReplicas)
        : this.normalize(hpa, key, currentReplicas, desiredReplicas, minReplicas);
      rescale = desiredReplicas !== currentReplicas;
    }

    if (rescale) {
      try {
        await this.scales.update(def, ns, { ...scale, spec: { ...scale.spec, replicas: desiredReplicas } });
      } catch (err) {
        const message = (err as Error).message;
        this.event(hpa, 'Warning', 'FailedRescale', `New size: ${desiredReplicas}; reason: ${rescaleReason}; error: ${message}`);
        setCondition(hpa, 'AbleToScale', 'False', 'FailedUpdateScale', `the HPA controller was unable to update the target scale: ${message}`, this.now());
        setStatus(hpa, currentReplicas, desiredReplicas, metricStatuses, false, this.now());
        await this.updateStatusIfNeeded(original, hpa);
        return;
      }
      setCondition(hpa, 'AbleToScale', 'True', 'SucceededRescale', `the HPA controller was able to update the target scale to ${desiredReplicas}`, this.now());
      this.event(hpa, 'Normal', 'SuccessfulRescale', `New size: ${desiredReplicas}; reason: ${rescaleReason}`);
      this.storeScaleEvent(spec.behavior, key, currentReplicas, desiredReplicas);
      this.log.info({ hpa: key, reference, from: currentReplicas, to: desiredReplicas, reason: rescaleReason }, 'rescaled');
    } else {
      desiredReplicas = currentReplicas;
    }
    setStatus(hpa, currentReplicas, desiredReplicas, metricStatuses, rescale, this.now());
    await this.updateStatusIfNeeded(original, hpa);
  }

  /** The largest replica count any metric asks for; an error when every metric failed, or some did and it would scale down. */
  private async computeReplicasForMetrics(hpa: HPA, scale: Scale, specs: MetricSpec[]):
    Promise<{ replicas: number; metric: string; statuses: MetricStatus[]; error?: Error }> {
    const specReplicas = scale.spec?.replicas ?? 0;
    const statuses: MetricStatus[] = new Array<MetricStatus>(specs.length);
    const selector = scale.status?.selector ?? '';
    if (!selector) {
      this.event(hpa, 'Warning', 'SelectorRequired', 'selector is required');
      setCondition(hpa, 'ScalingActive', 'False', 'InvalidSelector', "the HPA target's scale is missing a selector", this.now());
      return { replicas: -1, metric: '', statuses, error: new Error('selector is required') };
    }
    try {
      parseLabelSelector(selector);
    } catch (err) {
      const message = `couldn't convert selector into a corresponding internal selector object: ${(err as Error).message}`;
      this.event(hpa, 'Warning', 'InvalidSelector', message);
      setCondition(hpa, 'ScalingActive', 'False', 'InvalidSelector', message, this.now());
      return { replicas: -1, metric: '', statuses, error: new Error(message) };
    }
    let replicas = 0;
    let metric = '';
    let invalid = 0;
    let invalidError: Error | undefined;
    let invalidCondition: [string, string] | undefined;
    for (const [i, spec] of specs.entries()) {
      try {
        const proposal = await this.computeReplicasForMetric(hpa, spec, specReplicas, selector, statuses, i);
        if (proposal.replicas > replicas) { replicas = proposal.replicas; metric = proposal.metric; }
      } catch (err) {
        if (!(err instanceof MetricsError)) throw err;
        if (invalid === 0) { invalidCondition = [err.reason, `the HPA was unable to compute the replica count: ${err.message}`]; invalidError = err; }
        invalid++;
      }
    }
    if (invalid >= specs.length || (invalid > 0 && replicas < specReplicas)) {
      setCondition(hpa, 'ScalingActive', 'False', invalidCondition![0], invalidCondition![1], this.now());
      return { replicas: -1, metric: '', statuses, error: invalidError };
    }
    setCondition(hpa, 'ScalingActive', 'True', 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${metric}`, this.now());
    return { replicas, metric, statuses };
  }

  private async computeReplicasForMetric(hpa: HPA, spec: MetricSpec, specReplicas: number, selector: string,
    statuses: MetricStatus[], index: number): Promise<{ replicas: number; metric: string }> {
    const fail = (reason: string, message: string): never => {
      this.event(hpa, 'Warning', reason, message);
      throw new MetricsError(reason, message);
    };
    const ns = hpa.metadata!.namespace!;
    switch (spec.type) {
      case 'Resource':
      case 'ContainerResource': {
        const src = spec.type === 'Resource' ? spec.resource : spec.containerResource;
        const container = spec.type === 'ContainerResource' ? spec.containerResource?.container : undefined;
        const reason = spec.type === 'Resource' ? 'FailedGetResourceMetric' : 'FailedGetContainerResourceMetric';
        if (!src) return fail(reason, `invalid metric source: ${spec.type} metric has no source`);
        const status = (current: NonNullable<MetricStatus['resource']>['current']): MetricStatus => spec.type === 'Resource'
          ? { type: 'Resource', resource: { name: src.name, current } }
          : { type: 'ContainerResource', containerResource: { name: src.name, container: container ?? '', current } };
        try {
          if (src.target.averageValue !== undefined) {
            const target = milliOf(src.name, src.target.averageValue);
            const r = await this.calculator.getRawResourceReplicas(specReplicas, target, src.name, ns, selector, container);
            statuses[index] = status({ averageValue: milliQuantity(r.rawAverage) });
            return { replicas: r.replicas, metric: `${src.name} resource` };
          }
          if (src.target.averageUtilization === undefined) {
            throw new Error('invalid resource metric source: neither an average utilization target nor an average value (usage) target was set');
          }
          const r = await this.calculator.getResourceReplicas(specReplicas, src.target.averageUtilization, src.name, ns, selector, container);
          statuses[index] = status({ averageUtilization: r.utilization, averageValue: milliQuantity(r.rawAverage) });
          return { replicas: r.replicas, metric: spec.type === 'Resource' ? `${src.name} resource utilization (percentage of request)` : `${src.name} container resource utilization (percentage of request)` };
        } catch (err) {
          if (err instanceof MetricsError) throw err;
          return fail(reason, (err as Error).message);
        }
      }
      case 'Pods':
        return fail('FailedGetPodsMetric', `unable to get metric ${spec.pods?.metric.name ?? ''}: no custom metrics API (custom.metrics.k8s.io) is served`);
      case 'Object':
        return fail('FailedGetObjectMetric', `unable to get metric ${spec.object?.metric.name ?? ''}: no custom metrics API (custom.metrics.k8s.io) is served`);
      case 'External':
        return fail('FailedGetExternalMetric', `unable to get external metric ${ns}/${spec.external?.metric.name ?? ''}: no external metrics API (external.metrics.k8s.io) is served`);
      default:
        return fail('InvalidMetricSourceType', `unknown metric source type "${String(spec.type)}"`);
    }
  }

  private recordInitialRecommendation(currentReplicas: number, key: string): void {
    if (!this.recommendations.has(key)) this.recommendations.set(key, [{ recommendation: currentReplicas, timestamp: this.now() }]);
  }

  /** Without behavior: the highest recommendation of the downscale window, then min/max and the classic rate limit. */
  normalize(hpa: HPA, key: string, currentReplicas: number, prenormalized: number, minReplicas: number): number {
    const stabilized = this.stabilizeRecommendation(key, prenormalized);
    if (stabilized !== prenormalized) {
      setCondition(hpa, 'AbleToScale', 'True', 'ScaleDownStabilized', 'recent recommendations were higher than current one, applying the highest recent recommendation', this.now());
    } else {
      setCondition(hpa, 'AbleToScale', 'True', 'ReadyForNewScale', 'recommended size matches current size', this.now());
    }
    const { replicas, reason, message } = convertDesiredReplicasWithRules(currentReplicas, stabilized, minReplicas, hpa.spec!.maxReplicas);
    setCondition(hpa, 'ScalingLimited', replicas === stabilized ? 'False' : 'True', reason, message, this.now());
    return replicas;
  }

  private stabilizeRecommendation(key: string, prenormalized: number): number {
    const cutoff = this.now() - this.downscaleStabilizationMs;
    const recs = this.recommendations.get(key) ?? [];
    let max = prenormalized;
    let reuse = -1;
    for (const [i, rec] of recs.entries()) {
      if (rec.timestamp > cutoff) max = Math.max(max, rec.recommendation);
      else reuse = i;
    }
    const entry = { recommendation: prenormalized, timestamp: this.now() };
    if (reuse >= 0) recs[reuse] = entry; else recs.push(entry);
    this.recommendations.set(key, recs);
    return max;
  }

  /** With behavior: both stabilization windows, then the scaleUp/scaleDown policies and min/max. */
  normalizeWithBehaviors(hpa: HPA, key: string, currentReplicas: number, prenormalized: number, minReplicas: number): number {
    const behavior = hpa.spec!.behavior!;
    const scaleUp: ScalingRules = { ...defaultScaleUpRules(), ...behavior.scaleUp };
    // An unset scale-down window is the controller's --horizontal-pod-autoscaler-downscale-stabilization.
    const scaleDown: ScalingRules = { ...defaultScaleDownRules(Math.round(this.downscaleStabilizationMs / 1000)), ...behavior.scaleDown };
    scaleDown.stabilizationWindowSeconds ??= Math.round(this.downscaleStabilizationMs / 1000);
    const stab = this.stabilizeRecommendationWithBehaviors(key, currentReplicas, prenormalized, scaleUp, scaleDown);
    if (stab.recommendation !== prenormalized) setCondition(hpa, 'AbleToScale', 'True', stab.reason, stab.message, this.now());
    else setCondition(hpa, 'AbleToScale', 'True', 'ReadyForNewScale', 'recommended size matches current size', this.now());
    const limited = this.convertDesiredReplicasWithBehaviorRate(key, currentReplicas, stab.recommendation, minReplicas, hpa.spec!.maxReplicas, scaleUp, scaleDown);
    setCondition(hpa, 'ScalingLimited', limited.replicas === stab.recommendation ? 'False' : 'True', limited.reason, limited.message, this.now());
    return limited.replicas;
  }

  private stabilizeRecommendationWithBehaviors(key: string, currentReplicas: number, desired: number, up: ScalingRules, down: ScalingRules) {
    const now = this.now();
    const upCutoff = now - (up.stabilizationWindowSeconds ?? 0) * 1000;
    const downCutoff = now - (down.stabilizationWindowSeconds ?? 0) * 1000;
    let upRecommendation = desired;
    let downRecommendation = desired;
    let old = -1;
    const recs = this.recommendations.get(key) ?? [];
    for (const [i, rec] of recs.entries()) {
      if (rec.timestamp > upCutoff) upRecommendation = Math.min(rec.recommendation, upRecommendation);
      if (rec.timestamp > downCutoff) downRecommendation = Math.max(rec.recommendation, downRecommendation);
      if (rec.timestamp < upCutoff && rec.timestamp < downCutoff) old = i;
    }
    let recommendation = currentReplicas;
    if (recommendation < upRecommendation) recommendation = upRecommendation;
    if (recommendation > downRecommendation) recommendation = downRecommendation;
    const entry = { recommendation: desired, timestamp: now };
    if (old >= 0) recs[old] = entry; else recs.push(entry);
    this.recommendations.set(key, recs);
    return desired >= currentReplicas
      ? { recommendation, reason: 'ScaleUpStabilized', message: 'recent recommendations were lower than current one, applying the lowest recent recommendation' }
      : { recommendation, reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' };
  }

  private convertDesiredReplicasWithBehaviorRate(key: string, current: number, desired: number, minReplicas: number, maxReplicas: number,
    up: ScalingRules, down: ScalingRules): { replicas: number; reason: string; message: string } {
    const ups = this.scaleUpEvents.get(key) ?? [];
    const downs = this.scaleDownEvents.get(key) ?? [];
    if (desired > current) {
      const limit = Math.max(calculateScaleUpLimitWithScalingRules(current, ups, downs, up, this.now()), current);
      const [maximum, reason, message] = maxReplicas > limit
        ? [limit, 'ScaleUpLimit', 'the desired replica count is increasing faster than the maximum scale rate']
        : [maxReplicas, 'TooManyReplicas', 'the desired replica count is more than the maximum replica count'];
      if (desired > maximum) return { replicas: maximum, reason, message };
    } else if (desired < current) {
      const limit = Math.min(calculateScaleDownLimitWithBehaviors(current, ups, downs, down, this.now()), current);
      const [minimum, reason, message] = minReplicas < limit
        ? [limit, 'ScaleDownLimit', 'the desired replica count is decreasing faster than the maximum scale rate']
        : [minReplicas, 'TooFewReplicas', 'the desired replica count is less than the minimum replica count'];
      if (desired < minimum) return { replicas: minimum, reason, message };
    }
    return { replicas: desired, reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };
  }

  /** Remembers a scaling for the policies' periods (only with behavior, as upstream). */
  private storeScaleEvent(behavior: HPASpec['behavior'], key: string, prev: number, next: number): void {
    if (!behavior) return;
    const up = next > prev;
    const rules: ScalingRules = up ? { ...defaultScaleUpRules(), ...behavior.scaleUp } : { ...defaultScaleDownRules(), ...behavior.scaleDown };
    const longest = Math.max(0, ...(rules.policies ?? []).map((p) => p.periodSeconds)) * 1000;
    const map = up ? this.scaleUpEvents : this.scaleDownEvents;
    const events = map.get(key) ?? [];
    const cutoff = this.now() - longest;
    for (const e of events) if (e.timestamp < cutoff) e.outdated = true;
    const entry: ScaleEvent = { replicaChange: Math.abs(next - prev), timestamp: this.now(), outdated: false };
    const reuse = events.findIndex((e) => e.outdated);
    if (reuse >= 0) events[reuse] = entry; else events.push(entry);
    map.set(key, events);
  }

  private async updateStatusIfNeeded(original: HPAStatus | undefined, hpa: HPA): Promise<void> {
    if (isDeepStrictEqual(original, hpa.status)) return;
    try {
      await this.deps.client.update(HORIZONTALPODAUTOSCALERS, hpa.metadata!.namespace, hpa, { subresource: 'status' });
    } catch (err) {
      this.event(hpa, 'Warning', 'FailedUpdateStatus', (err as Error).message);
      throw new Error(`failed to update status for ${hpa.metadata?.name ?? ''}: ${(err as Error).message}`, { cause: err });
    }
  }
}

/** A target quantity in milli-units: millicores for cpu, milli-bytes otherwise (upstream's MilliValue). */
function milliOf(resource: string, q: string | number): number {
  return resource === 'cpu' ? cpuMillis(q) : quantityValue(q) * 1000;
}

/** The classic limits without behavior: min, max, and at most double (or +4) per scaling. */
export function convertDesiredReplicasWithRules(current: number, desired: number, minReplicas: number, maxReplicas: number) {
  const scaleUpLimit = Math.max(SCALE_UP_LIMIT_FACTOR * current, SCALE_UP_LIMIT_MINIMUM);
  if (desired < minReplicas) return { replicas: minReplicas, reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' };
  const [maximum, reason, message] = maxReplicas < scaleUpLimit
    ? [maxReplicas, 'TooManyReplicas', 'the desired replica count is more than the maximum replica count']
    : [scaleUpLimit, 'ScaleUpLimit', 'the desired replica count is increasing faster than the maximum scale rate'];
  if (desired > maximum) return { replicas: maximum, reason, message };
  return { replicas: desired, reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };
}

function changeInPeriod(periodSeconds: number, events: readonly ScaleEvent[], now: number): number {
  const cutoff = now - periodSeconds * 1000;
  return events.reduce((sum, e) => sum + (!e.outdated && e.timestamp > cutoff ? e.replicaChange : 0), 0);
}

/** The most replicas the scaleUp policies allow now, given the scalings of their periods. */
export function calculateScaleUpLimitWithScalingRules(current: number, ups: readonly ScaleEvent[], downs: readonly ScaleEvent[],
  rules: ScalingRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pickMin = rules.selectPolicy === 'Min';
  let result = pickMin ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
  for (const p of rules.policies ?? []) {
    const start = current - changeInPeriod(p.periodSeconds, ups, now) + changeInPeriod(p.periodSeconds, downs, now);
    const proposed = p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    result = pickMin ? Math.min(result, proposed) : Math.max(result, proposed);
  }
  return result;
}

/** The fewest replicas the scaleDown policies allow now, given the scalings of their periods. */
export function calculateScaleDownLimitWithBehaviors(current: number, ups: readonly ScaleEvent[], downs: readonly ScaleEvent[],
  rules: ScalingRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  // Min picks the policy that removes the fewest pods: the largest limit; Max the smallest.
  const pickLargest = rules.selectPolicy === 'Min';
  let result = pickLargest ? Number.MIN_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
  for (const p of rules.policies ?? []) {
    const start = current - changeInPeriod(p.periodSeconds, ups, now) + changeInPeriod(p.periodSeconds, downs, now);
    const proposed = p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100));
    result = pickLargest ? Math.max(result, proposed) : Math.min(result, proposed);
  }
  return result;
}

/** Sets a condition as upstream's setConditionInList: the transition time changes only with the status. */
export function setCondition(hpa: HPA, type: ConditionType, status: 'True' | 'False', reason: string, message: string, now: number): void {
  const status0 = (hpa.status ??= { desiredReplicas: 0 });
  const conditions = (status0.conditions ??= []);
  let c = conditions.find((x) => x.type === type);
  if (!c) {
    c = { type, status, lastTransitionTime: rfc3339(new Date(now)) };
    conditions.push(c);
  } else if (c.status !== status) {
    c.status = status;
    c.lastTransitionTime = rfc3339(new Date(now));
  }
  c.reason = reason;
  c.message = message;
}

function setStatus(hpa: HPA, currentReplicas: number, desiredReplicas: number, metrics: MetricStatus[], rescale: boolean, now: number): void {
  const prev = hpa.status ?? { desiredReplicas: 0 };
  hpa.status = {
    ...(hpa.metadata?.generation !== undefined ? { observedGeneration: hpa.metadata.generation } : {}),
    ...(rescale ? { lastScaleTime: rfc3339(new Date(now)) } : prev.lastScaleTime ? { lastScaleTime: prev.lastScaleTime } : {}),
    currentReplicas, desiredReplicas,
    // Index-aligned with spec.metrics: a metric that could not be read has an empty status, as upstream's.
    ...(metrics.length ? { currentMetrics: Array.from(metrics, (m) => m ?? ({ type: '' } as unknown as MetricStatus)) } : {}),
    ...(prev.conditions ? { conditions: prev.conditions } : {}),
  };
}
