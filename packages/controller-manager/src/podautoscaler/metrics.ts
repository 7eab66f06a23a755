import { ApiError, cpuMillis, quantityValue, type ApiClient } from '@k8ts/api';

/** One pod's usage of a resource as the resource metrics API reports it (upstream's metricsclient.PodMetric). */
export interface PodMetric {
  /** When the sample was taken (ms since the epoch). */
  timestamp: number;
  /** The window the usage was averaged over (ms). */
  windowMs: number;
  /** Usage in milli-units: millicores for cpu, milli-bytes for memory (upstream's MilliValue). */
  value: number;
}

/** Pod metrics by pod name. */
export type PodMetricsInfo = Map<string, PodMetric>;

/** Where the autoscaler reads resource usage from (upstream's metricsclient.MetricsClient, resource metrics only). */
export interface MetricsClient {
  /**
   * The usage of `resource` by each pod of the namespace matching the selector, summed over its containers (only
   * `container`'s when given); a pod lacking the resource in one of them is left out. Throws when no pod has any.
   */
  getResourceMetric(resource: string, namespace: string, selector: string, container?: string): Promise<{ metrics: PodMetricsInfo; timestamp: number }>;
}

interface PodMetricsItem {
  metadata?: { name?: string };
  timestamp?: string;
  window?: string;
  containers?: { name?: string; usage?: Record<string, string> }[];
}

/** A Go duration as metrics-server writes a window (`30s`, `1m0s`, `15.002s`), in ms; 30 s when absent or odd. */
function windowMs(window: string | undefined): number {
  if (!window) return 30_000;
  let total = 0;
  let matched = false;
  for (const m of window.matchAll(/([0-9.]+)(h|m(?!s)|s|ms)/g)) {
    matched = true;
    total += Number(m[1]) * ({ h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as Record<string, number>)[m[2]];
  }
  return matched && Number.isFinite(total) ? total : 30_000;
}

/** The milli-value of a usage quantity: millicores for cpu, bytes × 1000 otherwise (upstream's MilliValue). */
function milliValue(resource: string, q: string): number {
  return resource === 'cpu' ? cpuMillis(q) : quantityValue(q) * 1000;
}

/** Turns a PodMetricsList into pod metrics as upstream's resourceMetricsClient.GetResourceMetric does. */
export function podMetricsFromList(items: readonly PodMetricsItem[], resource: string, container?: string): { metrics: PodMetricsInfo; timestamp: number } {
  if (!items.length) throw new Error('no metrics returned from resource metrics API');
  const metrics: PodMetricsInfo = new Map();
  for (const item of items) {
    let sum = 0;
    let missing = false;
    let found = false;
    for (const c of item.containers ?? []) {
      if (container && c.name !== container) continue;
      const usage = c.usage?.[resource];
      if (usage === undefined) { missing = true; break; }
      found = true;
      sum += milliValue(resource, usage);
    }
    if (missing || !found || !item.metadata?.name) continue;
    metrics.set(item.metadata.name, { timestamp: Date.parse(item.timestamp ?? '') || 0, windowMs: windowMs(item.window), value: sum });
  }
  return { metrics, timestamp: Date.parse(items[0].timestamp ?? '') || 0 };
}

/** Reads `metrics.k8s.io/v1beta1` PodMetrics through the apiserver (upstream's resourceMetricsClient). */
export class RestMetricsClient implements MetricsClient {
  constructor(private readonly client: ApiClient) {}

  async getResourceMetric(resource: string, namespace: string, selector: string, container?: string) {
    let list: { items?: PodMetricsItem[] };
    try {
      list = await this.client.request<{ items?: PodMetricsItem[] }>('GET', `/apis/metrics.k8s.io/v1beta1/namespaces/${encodeURIComponent(namespace)}/pods`, {
        query: { labelSelector: selector },
      });
    } catch (err) {
      throw new Error(`unable to fetch metrics from resource metrics API: ${err instanceof ApiError ? err.message : String(err)}`, { cause: err });
    }
    return podMetricsFromList(list.items ?? [], resource, container);
  }
}
