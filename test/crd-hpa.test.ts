import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, HORIZONTALPODAUTOSCALERS, PODS, SharedInformerFactory, type HorizontalPodAutoscaler, type Pod } from '@k8ts/api';
import { HorizontalController, type MetricsClient } from '@k8ts/controller-manager';
import { call, eventually, startTestApiserver, testKubectl, type TestApiserver, type TestKubectl } from './harness.js';

// An HPA on a custom resource's /scale (specReplicasPath, statusReplicasPath, labelSelectorPath): the HPA controller
// finds the kind through discovery, reads the pods the scale's selector names, and writes the custom object's replicas.
// The test plays the custom resource's controller (its pods and status) and the metrics source.

let s: TestApiserver;
let client: ApiClient;
let kubectl: TestKubectl;
const ac = new AbortController();
let running: Promise<unknown>[] = [];
const NS = 'default';

const CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: { name: workers.hpa.example.com }
spec:
  group: hpa.example.com
  scope: Namespaced
  names: { plural: workers, kind: Worker }
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale: { specReplicasPath: .spec.size, statusReplicasPath: .status.size, labelSelectorPath: .status.selector }
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: { type: object, properties: { size: { type: integer } } }
          status: { type: object, properties: { size: { type: integer }, selector: { type: string } } }
`;

beforeAll(async () => {
  s = await startTestApiserver();
  client = new ApiClient({ server: s.url });
  kubectl = testKubectl(s.url);
  const informers = new SharedInformerFactory({ client });
  const metrics: MetricsClient = {
    async getResourceMetric(_resource, namespace, selector) {
      const pods = (await client.list<Pod>(PODS, namespace, { labelSelector: selector })).items;
      if (!pods.length) throw new Error('no metrics returned from resource metrics API');
      const now = Date.now();
      return { metrics: new Map(pods.map((p) => [p.metadata!.name!, { timestamp: now, windowMs: 30_000, value: 40 }])), timestamp: now };
    },
  };
  const hpa = new HorizontalController({ client, informers, metrics, syncPeriodMs: 300 });
  informers.start(ac.signal);
  running = [hpa.run(ac.signal, 2)];
}, 60_000);
afterAll(async () => {
  ac.abort();
  await Promise.all(running);
  kubectl?.cleanup();
  await client?.close();
  await s?.stop();
});

describe('an HPA on a custom resource', () => {
  it('scales the custom object through /scale, as its selector\'s pods\' CPU says', async () => {
    await kubectl('apply', '-f', kubectl.file('crd.yaml', CRD));
    await eventually(async () => (await call(s.url, 'GET', `/apis/hpa.example.com/v1/namespaces/${NS}/workers`)).status === 200, 'the CRD served', 5_000);
    await kubectl('apply', '-f', kubectl.file('w.yaml', 'apiVersion: hpa.example.com/v1\nkind: Worker\nmetadata: { name: w }\nspec: { size: 2 }\n'));
    const long = new Date(Date.now() - 10 * 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
    for (const name of ['w-a', 'w-b']) {
      await client.create(PODS, NS, {
        apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'w' } },
        spec: { containers: [{ name: 'app', image: 'k8ts/busybox:1', resources: { requests: { cpu: '20m' } } }] },
      });
      await client.patch(PODS, NS, name, { status: { phase: 'Running', startTime: long, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: long }] } },
        'merge', { subresource: 'status' });
    }
    await call(s.url, 'PATCH', `/apis/hpa.example.com/v1/namespaces/${NS}/workers/w/status`, { status: { size: 2, selector: 'app=w' } },
      { 'content-type': 'application/merge-patch+json' });
    expect(await kubectl('autoscale', 'worker', 'w', '--cpu-percent=50', '--min=1', '--max=6')).toContain('horizontalpodautoscaler.autoscaling/w autoscaled');
    // 40m of a 20m request is 200 % against 50 %: ×4 (8), capped at 6.
    await eventually(async () => (await kubectl('get', 'worker', 'w', '-o', 'jsonpath={.spec.size}')) === '6', 'the Worker scaled to 6', 20_000);
    const h = await client.get<HorizontalPodAutoscaler>(HORIZONTALPODAUTOSCALERS, NS, 'w');
    expect(h.spec?.scaleTargetRef).toMatchObject({ apiVersion: 'hpa.example.com/v1', kind: 'Worker', name: 'w' });
    expect(h.status?.conditions?.map((c) => `${c.type}=${c.status}`)).toEqual(expect.arrayContaining(['AbleToScale=True', 'ScalingActive=True']));
    expect(await kubectl('get', 'hpa', 'w')).toMatch(/w\s+Worker\/w\s+cpu: 200%\/50%\s+1\s+6\s/);
  }, 60_000);
});
