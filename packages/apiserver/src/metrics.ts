import { request } from 'undici';
import { ApiError, errors, rfc3339, silentLogger, type KubeObject, type Logger, type Node, type Pod } from '@k8ts/api';
import { boolParam } from './http.js';

/** The resource metrics API (metrics-server's group), served by the apiserver itself from the kubelets' stats. */
export const METRICS_GROUP = 'metrics.k8s.io';
export const METRICS_VERSION = 'v1beta1';
const GROUP_VERSION = `${METRICS_GROUP}/${METRICS_VERSION}`;

/** Metrics are read on demand, so there is no scrape window: report metrics-server's default resolution. */
const WINDOW = '10s';

const RESOURCES = [
  { name: 'nodes', kind: 'NodeMetrics', namespaced: false },
  { name: 'pods', kind: 'PodMetrics', namespaced: true },
];
const VERBS = ['get', 'list'];

/** What the metrics handlers need from the apiserver: read access to its own pods and nodes. */
export interface MetricsContext {
  /** Pods or nodes matching the selectors, in `namespace` or in all namespaces when undefined. */
  list(resource: 'pods' | 'nodes', namespace: string | undefined, selectors: { labelSelector?: string; fieldSelector?: string }): Promise<KubeObject[]>;
  /** One pod or node; throws the store's NotFound when there is none. */
  get(resource: 'pods' | 'nodes', namespace: string | undefined, name: string): Promise<KubeObject>;
  log?: Logger;
  /** How long a kubelet may take to answer /stats/summary (default 5 s). */
  kubeletTimeoutMs?: number;
}

/** The slice of the kubelet's /stats/summary (statsapi.Summary) read here. */
interface Summary {
  node?: { cpu?: { time?: string; usageNanoCores?: number }; memory?: { time?: string; workingSetBytes?: number } };
  pods?: {
    podRef?: { name?: string; namespace?: string };
    containers?: { name: string; cpu?: { time?: string; usageNanoCores?: number }; memory?: { workingSetBytes?: number } }[];
  }[];
}

type Query = Record<string, string | undefined>;

/** GET /apis/metrics.k8s.io/v1beta1: the APIResourceList. */
export function metricsResourceList(): unknown {
  return {
    kind: 'APIResourceList', apiVersion: 'v1', groupVersion: GROUP_VERSION,
    resources: RESOURCES.map((r) => ({ name: r.name, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: VERBS })),
  };
}

/** The group's entry in the legacy APIGroupList (and, with kind APIGroup, GET /apis/metrics.k8s.io). */
export function metricsApiGroup(): { name: string; versions: unknown[]; preferredVersion: unknown } {
  const version = { groupVersion: GROUP_VERSION, version: METRICS_VERSION };
  return { name: METRICS_GROUP, versions: [version], preferredVersion: version };
}

/** The group's entry in aggregated discovery (apidiscovery.k8s.io/v2 APIGroupDiscovery). */
export function metricsDiscoveryGroup(): unknown {
  return {
    metadata: { name: METRICS_GROUP },
    versions: [{
      version: METRICS_VERSION, freshness: 'Current',
      resources: RESOURCES.map((r) => ({
        resource: r.name, responseKind: { group: METRICS_GROUP, version: METRICS_VERSION, kind: r.kind },
        scope: r.namespaced ? 'Namespaced' : 'Cluster', singularResource: '', verbs: VERBS,
      })),
    }],
  };
}

/**
 * Serves a request under /apis/metrics.k8s.io/v1beta1 (`segments` is the path after it): get and list of
 * PodMetrics (namespaced or across namespaces, label and field selectors) and NodeMetrics. Objects come from the
 * apiserver's stores, usage from each relevant kubelet's /stats/summary, fetched in parallel; a kubelet that
 * does not answer is skipped and its pods and node have no metrics, as with metrics-server.
 */
export async function handleMetrics(method: string, segments: string[], query: Query, ctx: MetricsContext): Promise<unknown> {
  const notFound = () => new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  let namespace: string | undefined;
  let rest = segments;
  if (rest[0] === 'namespaces' && rest.length >= 3) [namespace, rest] = [rest[1], rest.slice(2)];
  const [resource, name, ...extra] = rest;
  const def = RESOURCES.find((r) => r.name === resource);
  if (!def || extra.length || (namespace !== undefined && !def.namespaced) || (def.namespaced && name && namespace === undefined)) throw notFound();
  if (method !== 'GET' || boolParam(query.watch)) {
    throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
  }
  const selectors = { labelSelector: query.labelSelector, fieldSelector: query.fieldSelector };
  return resource === 'pods' ? podMetrics(ctx, namespace, name, selectors) : nodeMetrics(ctx, name, selectors);
}

async function podMetrics(ctx: MetricsContext, namespace: string | undefined, name: string | undefined,
  selectors: { labelSelector?: string; fieldSelector?: string }): Promise<unknown> {
  const pods = (name ? [await ctx.get('pods', namespace, name)] : await ctx.list('pods', namespace, selectors)) as Pod[];
  const nodeNames = new Set(pods.map((p) => p.spec?.nodeName).filter((n): n is string => !!n));
  const nodes = (await ctx.list('nodes', undefined, {}) as Node[]).filter((n) => nodeNames.has(n.metadata!.name!));
  const summaries = await fetchSummaries(ctx, nodes);
  const now = rfc3339(new Date());
  const items: unknown[] = [];
  for (const pod of pods) {
    const { name: podName, namespace: podNamespace, labels } = pod.metadata!;
    const stats = summaries.get(pod.spec?.nodeName ?? '')?.pods
      ?.find((p) => p.podRef?.name === podName && p.podRef?.namespace === podNamespace);
    const containers = stats?.containers ?? [];
    if (!containers.length) continue;
    // Like metrics-server, the pod's timestamp is its earliest container sample.
    const timestamp = containers.map((c) => c.cpu?.time ?? now).sort()[0];
    items.push({
      kind: 'PodMetrics', apiVersion: GROUP_VERSION,
      metadata: { name: podName, namespace: podNamespace, creationTimestamp: now, ...(labels ? { labels } : {}) },
      timestamp, window: WINDOW,
      containers: containers.map((c) => ({ name: c.name, usage: usage(c.cpu?.usageNanoCores, c.memory?.workingSetBytes) })),
    });
  }
  if (name) {
    if (!items.length) throw errors.notFound('podmetrics', METRICS_GROUP, name);
    return items[0];
  }
  return { kind: 'PodMetricsList', apiVersion: GROUP_VERSION, metadata: {}, items: items.map(withoutType) };
}

async function nodeMetrics(ctx: MetricsContext, name: string | undefined,
  selectors: { labelSelector?: string; fieldSelector?: string }): Promise<unknown> {
  const nodes = (name ? [await ctx.get('nodes', undefined, name)] : await ctx.list('nodes', undefined, selectors)) as Node[];
  const summaries = await fetchSummaries(ctx, nodes);
  const now = rfc3339(new Date());
  const items: unknown[] = [];
  for (const node of nodes) {
    const { name: nodeName, labels } = node.metadata!;
    const stats = summaries.get(nodeName!)?.node;
    if (stats?.cpu?.usageNanoCores === undefined || stats.memory?.workingSetBytes === undefined) continue;
    items.push({
      kind: 'NodeMetrics', apiVersion: GROUP_VERSION,
      metadata: { name: nodeName, creationTimestamp: now, ...(labels ? { labels } : {}) },
      timestamp: stats.cpu.time ?? now, window: WINDOW,
      usage: usage(stats.cpu.usageNanoCores, stats.memory.workingSetBytes),
    });
  }
  if (name) {
    if (!items.length) throw errors.notFound('nodemetrics', METRICS_GROUP, name);
    return items[0];
  }
  return { kind: 'NodeMetricsList', apiVersion: GROUP_VERSION, metadata: {}, items: items.map(withoutType) };
}

/** Each node's summary by node name; nodes whose kubelet cannot be reached or fails are left out. */
async function fetchSummaries(ctx: MetricsContext, nodes: Node[]): Promise<Map<string, Summary>> {
  const log = ctx.log ?? silentLogger;
  const timeoutMs = ctx.kubeletTimeoutMs ?? 5000;
  const out = new Map<string, Summary>();
  await Promise.all(nodes.map(async (node) => {
    const name = node.metadata!.name!;
    try {
      out.set(name, await fetchSummary(node, timeoutMs));
    } catch (err) {
      log.warn({ node: name, err }, 'could not read kubelet stats');
    }
  }));
  return out;
}

async function fetchSummary(node: Node, timeoutMs: number): Promise<Summary> {
  const ip = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  if (!ip) throw new Error('node has no InternalIP');
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 10250;
  const host = ip.includes(':') ? `[${ip}]` : ip;
  const res = await request(`http://${host}:${port}/stats/summary`, {
    signal: AbortSignal.timeout(timeoutMs), headersTimeout: timeoutMs, bodyTimeout: timeoutMs,
  });
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new Error(`kubelet at ${host}:${port} answered /stats/summary with ${res.statusCode}`);
  }
  return await res.body.json() as Summary;
}

function usage(nanoCores = 0, workingSetBytes = 0): { cpu: string; memory: string } {
  return { cpu: nanoCoresQuantity(nanoCores), memory: bytesQuantity(workingSetBytes) };
}

const DECIMAL_SUFFIXES = ['n', 'u', 'm', '', 'k', 'M', 'G', 'T', 'P', 'E'];
const BINARY_SUFFIXES = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

/** CPU as metrics-server's Quantity serializes nanocores: `1234n`, `250m` (canonical: trailing zeros in groups of three). */
export function nanoCoresQuantity(nanoCores: number): string {
  let v = BigInt(Math.max(0, Math.round(nanoCores)));
  if (v === 0n) return '0';
  let i = 0;
  while (v % 1000n === 0n && i < DECIMAL_SUFFIXES.length - 1) { v /= 1000n; i++; }
  return `${v}${DECIMAL_SUFFIXES[i]}`;
}

/** Bytes as a binary-SI Quantity serializes them: `5678Ki`, `64Mi`; plain bytes when not a multiple of 1024. */
export function bytesQuantity(bytes: number): string {
  let v = BigInt(Math.max(0, Math.round(bytes)));
  let i = 0;
  while (v >= 1024n && v % 1024n === 0n && i < BINARY_SUFFIXES.length - 1) { v /= 1024n; i++; }
  return `${v}${BINARY_SUFFIXES[i]}`;
}

/** List items carry no kind or apiVersion, as upstream encodes them. */
function withoutType(obj: unknown): unknown {
  const { kind: _k, apiVersion: _a, ...rest } = obj as Record<string, unknown>;
  return rest;
}
