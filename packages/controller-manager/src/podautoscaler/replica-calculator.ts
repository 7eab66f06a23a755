import { cpuMillis, quantityValue, type Pod } from '@k8ts/api';
import type { MetricsClient, PodMetricsInfo } from './metrics.js';

/** The ratio band around 1.0 in which no scaling happens (`--horizontal-pod-autoscaler-tolerance`, 0.1). */
export const DEFAULT_TOLERANCE = 0.1;
/** `--horizontal-pod-autoscaler-cpu-initialization-period` (5 min). */
export const DEFAULT_CPU_INITIALIZATION_PERIOD_MS = 5 * 60_000;
/** `--horizontal-pod-autoscaler-initial-readiness-delay` (30 s). */
export const DEFAULT_INITIAL_READINESS_DELAY_MS = 30_000;

export interface ReplicaCalculatorOptions {
  metrics: MetricsClient;
  /** The pods of a namespace matching a label selector (the controller's pod lister). */
  listPods(namespace: string, selector: string): Pod[];
  now(): number;
  tolerance?: number;
  cpuInitializationPeriodMs?: number;
  initialReadinessDelayMs?: number;
}

/** How the pods of a target split for one resource (upstream's groupPods). */
export interface PodGroups {
  readyPodCount: number;
  unready: Set<string>;
  missing: Set<string>;
  ignored: Set<string>;
}

/**
 * Splits pods as upstream's groupPods: deleted and failed pods are ignored, pending ones unready, pods without a
 * metric missing; for cpu, a pod is also unready while its sample may still include its start-up (within the cpu
 * initialization period: unready, or the sample taken less than one window after it became ready), or when it
 * has never been ready since shortly after it started (the initial readiness delay).
 */
export function groupPods(pods: readonly Pod[], metrics: PodMetricsInfo, resource: string, cpuInitializationPeriodMs: number,
  initialReadinessDelayMs: number, now: number): PodGroups {
  const out: PodGroups = { readyPodCount: 0, unready: new Set(), missing: new Set(), ignored: new Set() };
  for (const pod of pods) {
    const name = pod.metadata?.name ?? '';
    if (pod.metadata?.deletionTimestamp || pod.status?.phase === 'Failed') { out.ignored.add(name); continue; }
    if (pod.status?.phase === 'Pending') { out.unready.add(name); continue; }
    const metric = metrics.get(name);
    if (!metric) { out.missing.add(name); continue; }
    if (resource === 'cpu') {
      const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
      const start = pod.status?.startTime ? Date.parse(pod.status.startTime) : NaN;
      let unready: boolean;
      if (!ready || Number.isNaN(start)) {
        unready = true;
      } else {
        const transition = ready.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : 0;
        if (start + cpuInitializationPeriodMs > now) {
          unready = ready.status === 'False' || metric.timestamp < transition + metric.windowMs;
        } else {
          unready = ready.status === 'False' && start + initialReadinessDelayMs > transition;
        }
      }
      if (unready) { out.unready.add(name); continue; }
    }
    out.readyPodCount++;
  }
  return out;
}

/**
 * The summed requests of `resource` of each pod (milli-units), over its containers (only `container` when given) and
 * its restartable init containers; a container without a request is an error, as upstream's calculatePodRequests.
 */
export function podRequests(pods: readonly Pod[], resource: string, container?: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const pod of pods) {
    let sum = 0;
    const containers = [
      ...(pod.spec?.containers ?? []),
      ...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always'),
    ];
    for (const c of containers) {
      if (container && c.name !== container) continue;
      const q = c.resources?.requests?.[resource];
      if (q === undefined) throw new Error(`missing request for ${resource} in container ${c.name} of Pod ${pod.metadata?.name ?? ''}`);
      sum += resource === 'cpu' ? cpuMillis(q) : quantityValue(q) * 1000;
    }
    out.set(pod.metadata?.name ?? '', sum);
  }
  return out;
}

/** Utilization of the pods that have requests: the ratio to the target, the percentage, and the average raw usage. */
export function resourceUtilizationRatio(metrics: PodMetricsInfo, requests: Map<string, number>, targetUtilization: number) {
  let metricsTotal = 0;
  let requestsTotal = 0;
  let entries = 0;
  for (const [name, m] of metrics) {
    const request = requests.get(name);
    if (request === undefined) continue;
    metricsTotal += m.value;
    requestsTotal += request;
    entries++;
  }
  // Division by zero when nothing had a request: upstream's "no metrics returned matched known pods".
  if (requestsTotal === 0) throw new Error('no metrics returned matched known pods');
  const utilization = Math.trunc((metricsTotal * 100) / requestsTotal);
  return { ratio: utilization / targetUtilization, utilization, rawAverage: Math.trunc(metricsTotal / entries) };
}

/** Average usage over the pods and its ratio to a target average (upstream's GetMetricUsageRatio). */
export function metricUsageRatio(metrics: PodMetricsInfo, targetUsage: number): { ratio: number; usage: number } {
  let total = 0;
  for (const m of metrics.values()) total += m.value;
  const usage = Math.trunc(total / metrics.size);
  return { ratio: usage / targetUsage, usage };
}

export interface ResourceReplicas {
  replicas: number;
  /** Utilization in percent of the requests (Utilization targets only). */
  utilization?: number;
  /** The average usage per pod, in milli-units. */
  rawAverage: number;
  timestamp: number;
}

/**
 * Upstream's ReplicaCalculator for Resource metrics: the replica count that brings the average to the target,
 * ratio within the tolerance → no change; missing pods assumed at 100 % of the target (or of the request) on scale
 * down and at 0 on scale up; unready pods at 0 on scale up; and no change when those assumptions flip the direction.
 */
export class ReplicaCalculator {
  private readonly tolerance: number;
  private readonly cpuInitMs: number;
  private readonly readinessDelayMs: number;

  constructor(private readonly opts: ReplicaCalculatorOptions) {
    this.tolerance = opts.tolerance ?? DEFAULT_TOLERANCE;
    this.cpuInitMs = opts.cpuInitializationPeriodMs ?? DEFAULT_CPU_INITIALIZATION_PERIOD_MS;
    this.readinessDelayMs = opts.initialReadinessDelayMs ?? DEFAULT_INITIAL_READINESS_DELAY_MS;
  }

  private async podsAndMetrics(resource: string, namespace: string, selector: string, container?: string) {
    let got: Awaited<ReturnType<MetricsClient['getResourceMetric']>>;
    try {
      got = await this.opts.metrics.getResourceMetric(resource, namespace, selector, container);
    } catch (err) {
      throw new Error(`unable to get metrics for resource ${resource}: ${(err as Error).message}`, { cause: err });
    }
    const pods = this.opts.listPods(namespace, selector);
    if (!pods.length) throw new Error('no pods returned by selector while calculating replica count');
    const metrics = new Map(got.metrics);
    const groups = groupPods(pods, metrics, resource, this.cpuInitMs, this.readinessDelayMs, this.opts.now());
    for (const name of [...groups.ignored, ...groups.unready]) metrics.delete(name);
    return { pods, metrics, groups, timestamp: got.timestamp };
  }

  /** Replicas for a target utilization (percent of the pods' requests). */
  async getResourceReplicas(currentReplicas: number, targetUtilization: number, resource: string, namespace: string,
    selector: string, container?: string): Promise<ResourceReplicas> {
    const { pods, metrics, groups, timestamp } = await this.podsAndMetrics(resource, namespace, selector, container);
    const requests = podRequests(pods, resource, container);
    if (!metrics.size) throw new Error('did not receive metrics for targeted pods (pods might be unready)');
    const { ratio, utilization, rawAverage } = resourceUtilizationRatio(metrics, requests, targetUtilization);
    const result = (replicas: number): ResourceReplicas => ({ replicas, utilization, rawAverage, timestamp });
    const replicas = this.adjust(currentReplicas, ratio, groups, metrics,
      (name) => requests.get(name)! * Math.max(100, targetUtilization) / 100,
      () => resourceUtilizationRatio(metrics, requests, targetUtilization).ratio);
    return result(replicas);
  }

  /** Replicas for a target average usage per pod (milli-units). */
  async getRawResourceReplicas(currentReplicas: number, targetUsage: number, resource: string, namespace: string,
    selector: string, container?: string): Promise<ResourceReplicas> {
    const { metrics, groups, timestamp } = await this.podsAndMetrics(resource, namespace, selector, container);
    if (!metrics.size) throw new Error('did not receive metrics for targeted pods (pods might be unready)');
    const { ratio, usage } = metricUsageRatio(metrics, targetUsage);
    const replicas = this.adjust(currentReplicas, ratio, groups, metrics, () => targetUsage, () => metricUsageRatio(metrics, targetUsage).ratio);
    return { replicas, rawAverage: usage, timestamp };
  }

  /** The shared tail of both calculations: the conservative treatment of missing and unready pods. */
  private adjust(currentReplicas: number, ratio: number, groups: PodGroups, metrics: PodMetricsInfo,
    fullUsageOf: (pod: string) => number, recompute: () => number): number {
    const within = (r: number) => Math.abs(1 - r) <= this.tolerance;
    const scaleUpWithUnready = groups.unready.size > 0 && ratio > 1;
    if (!scaleUpWithUnready && groups.missing.size === 0) {
      return within(ratio) ? currentReplicas : Math.ceil(ratio * groups.readyPodCount);
    }
    if (groups.missing.size > 0) {
      for (const name of groups.missing) {
        // Scaling down: assume the missing pods use all they asked for; scaling up: nothing.
        if (ratio < 1) metrics.set(name, { timestamp: 0, windowMs: 0, value: fullUsageOf(name) });
        else if (ratio > 1) metrics.set(name, { timestamp: 0, windowMs: 0, value: 0 });
      }
    }
    if (scaleUpWithUnready) for (const name of groups.unready) metrics.set(name, { timestamp: 0, windowMs: 0, value: 0 });
    const newRatio = recompute();
    if (within(newRatio) || (ratio < 1 && newRatio > 1) || (ratio > 1 && newRatio < 1)) return currentReplicas;
    const newReplicas = Math.ceil(newRatio * metrics.size);
    if ((newRatio < 1 && newReplicas > currentReplicas) || (newRatio > 1 && newReplicas < currentReplicas)) return currentReplicas;
    return newReplicas;
  }
}
