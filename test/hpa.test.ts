import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApiClient, HORIZONTALPODAUTOSCALERS, Informer, PODS, SharedInformerFactory, type HorizontalPodAutoscaler, type Pod,
} from '@k8ts/api';
import { DeploymentController, HorizontalController, ReplicaSetController, type MetricsClient } from '@k8ts/controller-manager';
import { call, eventually, readWatch, startTestApiserver, testKubectl, type TestApiserver, type TestKubectl } from './harness.js';

// The HPA controller with the Deployment and ReplicaSet controllers against a real apiserver; the test plays the
// kubelet (pods Running and Ready, started 10 min ago) and the metrics source (every pod at `usage` millicores).

let s: TestApiserver;
let client: ApiClient;
let kubectl: TestKubectl;
const ac = new AbortController();
const running: Promise<unknown>[] = [];
const NS = 'hpa-test';
const load = { milli: 40 };

const deployment = (name: string, replicas: number) => `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name}, namespace: ${NS} }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      terminationGracePeriodSeconds: 0
      containers: [{ name: app, image: "k8ts/busybox:1", resources: { requests: { cpu: 20m } } }]
`;

describe('HorizontalPodAutoscaler against a real apiserver', () => {
  beforeAll(async () => {
    s = await startTestApiserver();
    client = new ApiClient({ server: s.url });
    kubectl = testKubectl(s.url);
    await call(s.url, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    const informers = new SharedInformerFactory({ client });
    const metrics: MetricsClient = {
      async getResourceMetric(_resource, namespace, selector) {
        const pods = (await client.list<Pod>(PODS, namespace, { labelSelector: selector })).items.filter((p) => p.status?.phase === 'Running');
        if (!pods.length) throw new Error('no metrics returned from resource metrics API');
        const now = Date.now();
        return { metrics: new Map(pods.map((p) => [p.metadata!.name!, { timestamp: now, windowMs: 30_000, value: load.milli }])), timestamp: now };
      },
    };
    const controllers = [
      new ReplicaSetController({ client, informers }), new DeploymentController({ client, informers }),
      new HorizontalController({ client, informers, metrics, syncPeriodMs: 300 }),
    ];
    const pods = new Informer<Pod>({ client, def: PODS, namespace: NS });
    pods.addHandler({ onAdd: (p) => void markRunning(p), onUpdate: (_o, p) => void markRunning(p) });
    informers.start(ac.signal);
    running.push(...controllers.map((c) => c.run(ac.signal, 2)), pods.run(ac.signal));
  }, 60_000);

  afterAll(async () => {
    ac.abort();
    await Promise.all(running);
    kubectl?.cleanup();
    await client?.close();
    await s?.stop();
  });

  async function markRunning(p: Pod): Promise<void> {
    if (p.status?.phase === 'Running' || p.metadata?.deletionTimestamp) return;
    const long = new Date(Date.now() - 10 * 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
    await client.patch(PODS, NS, p.metadata!.name!, {
      status: { phase: 'Running', startTime: long, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: long }] },
    }, 'merge', { subresource: 'status' }).catch(() => undefined);
  }

  const hpa = () => client.get<HorizontalPodAutoscaler>(HORIZONTALPODAUTOSCALERS, NS, 'web');

  it('kubectl autoscale (autoscaling/v1, protobuf) creates an HPA that scales the Deployment up to its max and back down', async () => {
    await kubectl('apply', '-f', kubectl.file('web.yaml', deployment('web', 1)));
    expect(await kubectl('autoscale', `-n=${NS}`, 'deployment', 'web', '--cpu-percent=50', '--min=1', '--max=5')).toContain('horizontalpodautoscaler.autoscaling/web autoscaled');
    // The v1 object as kubectl autoscale made it; the same object in v2.
    const v1 = (await call(s.url, 'GET', `/apis/autoscaling/v1/namespaces/${NS}/horizontalpodautoscalers/web`)).body;
    expect(v1).toMatchObject({ apiVersion: 'autoscaling/v1', spec: { minReplicas: 1, maxReplicas: 5, targetCPUUtilizationPercentage: 50, scaleTargetRef: { kind: 'Deployment', name: 'web', apiVersion: 'apps/v1' } } });
    expect((await hpa()).spec?.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }]);

    // 40m of a 20m request: 200 % against 50 % → ×4, capped at 5.
    await eventually(async () => ((await hpa()).status?.desiredReplicas === 5 ? true : undefined), 'the HPA to want 5 replicas');
    await eventually(async () => {
      const out = await kubectl('get', `-n=${NS}`, 'hpa', 'web');
      return /web\s+Deployment\/web\s+cpu: 200%\/50%\s+1\s+5\s+5\s/.test(out) ? out : undefined;
    }, 'kubectl get hpa to show cpu: 200%/50% and 5 replicas');
    const status = (await hpa()).status!;
    expect(status.conditions?.map((c) => `${c.type}=${c.status}/${c.reason}`)).toEqual(
      expect.arrayContaining(['AbleToScale=True/ReadyForNewScale', 'ScalingActive=True/ValidMetricFound', 'ScalingLimited=True/TooManyReplicas']));
    expect(status.lastScaleTime).toBeDefined();
    const v1status = (await call(s.url, 'GET', `/apis/autoscaling/v1/namespaces/${NS}/horizontalpodautoscalers/web`)).body.status;
    expect(v1status).toMatchObject({ currentReplicas: 5, desiredReplicas: 5, currentCPUUtilizationPercentage: 200 });
    const events = await kubectl('get', `-n=${NS}`, 'events', '--field-selector=involvedObject.kind=HorizontalPodAutoscaler', '-o', 'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}');
    expect(events).toMatch(/SuccessfulRescale: New size: 4; reason: cpu resource utilization \(percentage of request\) above target/);

    // A v2 behavior with a short scale-down window (set through v2; a v1 write keeps it).
    await client.patch(HORIZONTALPODAUTOSCALERS, NS, 'web', { spec: { behavior: { scaleDown: { stabilizationWindowSeconds: 1 } } } }, 'merge');
    await call(s.url, 'PATCH', `/apis/autoscaling/v1/namespaces/${NS}/horizontalpodautoscalers/web`, { spec: { targetCPUUtilizationPercentage: 60 } },
      { 'content-type': 'application/merge-patch+json' });
    const patched = await hpa();
    expect(patched.spec?.behavior?.scaleDown?.stabilizationWindowSeconds).toBe(1);
    expect(patched.spec?.metrics?.[0].resource?.target.averageUtilization).toBe(60);
    load.milli = 1;
    await eventually(async () => {
      const d = await kubectl('get', `-n=${NS}`, 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}');
      return d === '1' ? d : undefined;
    }, 'the Deployment to be scaled back to 1');
    expect(await kubectl('get', `-n=${NS}`, 'hpa', 'web', '-o', 'jsonpath={.status.currentMetrics[0].resource.current.averageUtilization}')).toBe('5');
  }, 60_000);

  it('shows <unknown> while metrics are missing, with FailedGetResourceMetric', async () => {
    await kubectl('apply', '-f', kubectl.file('idle.yaml', deployment('idle', 1).replace('cpu: 20m', 'memory: 1Mi')));
    await client.create(HORIZONTALPODAUTOSCALERS, NS, {
      apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'idle' },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'idle' }, maxReplicas: 3,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] },
    });
    const cond = await eventually(async () => {
      const h = await client.get<HorizontalPodAutoscaler>(HORIZONTALPODAUTOSCALERS, NS, 'idle');
      return h.status?.conditions?.find((c) => c.type === 'ScalingActive' && c.status === 'False');
    }, 'ScalingActive False');
    expect(cond).toMatchObject({ reason: 'FailedGetResourceMetric', message: expect.stringContaining('missing request for cpu in container app of Pod idle-') });
    expect(await kubectl('get', `-n=${NS}`, 'hpa', 'idle')).toMatch(/idle\s+Deployment\/idle\s+cpu: <unknown>\/50%\s+1\s+3\s+1\s/);
  }, 30_000);

  it('serves autoscaling v2 and v1 in discovery, v2 preferred, and watches in v1', async () => {
    const group = (await call(s.url, 'GET', '/apis/autoscaling')).body;
    expect(group.preferredVersion.version).toBe('v2');
    expect(group.versions.map((v: { version: string }) => v.version)).toEqual(['v2', 'v1']);
    expect(await kubectl('api-versions')).toMatch(/autoscaling\/v1\n(.|\n)*autoscaling\/v2/);
    const events: string[] = [];
    await readWatch(`${s.url}/apis/autoscaling/v1/namespaces/${NS}/horizontalpodautoscalers?watch=true&resourceVersion=0&timeoutSeconds=5`, (ev) => {
      events.push(`${ev.type} ${ev.object.apiVersion} ${ev.object.metadata.name} ${ev.object.spec.targetCPUUtilizationPercentage}`);
      return events.length >= 2;
    });
    expect(events).toEqual(expect.arrayContaining(['ADDED autoscaling/v1 web 60', 'ADDED autoscaling/v1 idle 50']));
    // v1 bodies are decoded as v1: a v2 field is not a v1 field, a v2 apiVersion is refused.
    const bad = await call(s.url, 'POST', `/apis/autoscaling/v1/namespaces/${NS}/horizontalpodautoscalers`, {
      apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'x' }, spec: { maxReplicas: 1 },
    });
    expect(bad.status).toBe(400);
    const typed = await call(s.url, 'POST', `/apis/autoscaling/v1/namespaces/${NS}/horizontalpodautoscalers`, {
      apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'x' }, spec: { maxReplicas: 1, targetCPUUtilizationPercentage: 'high' },
    });
    expect(typed.status).toBe(400);
    expect(typed.body.message).toContain('HorizontalPodAutoscaler in version "v1" cannot be handled as a HorizontalPodAutoscaler');
  });
});
