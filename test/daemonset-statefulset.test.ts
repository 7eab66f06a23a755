import { setMaxListeners } from 'node:events';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApiClient, CONTROLLERREVISIONS, DAEMONSETS, Informer, NODES, PERSISTENTVOLUMECLAIMS, PODS, SharedInformerFactory, STATEFULSETS,
  type DaemonSet, type Node, type Pod, type StatefulSet,
} from '@k8ts/api';
import { DaemonSetController, GarbageCollector, StatefulSetController, targetNodeName, type ControllerRevision } from '@k8ts/controller-manager';
import { call, eventually, readWatch, startTestApiserver, testKubectl, type TestApiserver, type TestKubectl } from './harness.js';

// The DaemonSet and StatefulSet controllers against a real apiserver on etcd, driven by the real kubectl; the test
// plays scheduler and kubelet: it binds each pod (a DaemonSet pod to the node its affinity names, others to n1),
// marks it Running and Ready, and completes graceful deletions.

let s: TestApiserver;
let client: ApiClient;
let kubectl: TestKubectl;
const ac = new AbortController();
const running: Promise<unknown>[] = [];
const NS = 'apps-test';
const holdReady = new Set<string>();

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

async function fakeKubelet(p: Pod): Promise<void> {
  const name = p.metadata!.name!;
  try {
    if (p.metadata?.deletionTimestamp) {
      await client.delete(PODS, NS, name, { gracePeriodSeconds: 0 });
      return;
    }
    if (!p.spec?.nodeName) {
      await client.request('POST', `/api/v1/namespaces/${NS}/pods/${name}/binding`, {
        body: { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { kind: 'Node', name: targetNodeName(p) ?? 'n1' } },
      });
      return;
    }
    if (p.status?.phase !== 'Running' && !holdReady.has(name)) {
      await client.patch(PODS, NS, name, { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now() }] } }, 'merge', { subresource: 'status' });
    }
  } catch {
    // Raced with another event for the pod: the next event tries again.
  }
}

const node = (name: string, extra: Partial<Node> = {}): Node => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } }, ...extra,
});

const livePods = async (app: string) => (await client.list<Pod>(PODS, NS, { labelSelector: `app=${app}` })).items.filter((p) => !p.metadata?.deletionTimestamp);

describe('DaemonSet and StatefulSet controllers against a real apiserver', () => {
  beforeAll(async () => {
    setMaxListeners(0, ac.signal);
    s = await startTestApiserver();
    client = new ApiClient({ server: s.url });
    kubectl = testKubectl(s.url);
    await call(s.url, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    for (const n of ['n1', 'n2']) await client.create(NODES, undefined, node(n));
    await client.create(NODES, undefined, node('tainted', { spec: { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] } }));
    const informers = new SharedInformerFactory({ client });
    const controllers = [new DaemonSetController({ client, informers }), new StatefulSetController({ client, informers }), new GarbageCollector({ client, informers })];
    const pods = new Informer<Pod>({ client, def: PODS, namespace: NS });
    pods.addHandler({ onAdd: (p) => void fakeKubelet(p), onUpdate: (_o, p) => void fakeKubelet(p) });
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

  it('a DaemonSet runs one pod per eligible node, a new node gets one, and rollout status|history|undo work', async () => {
    await kubectl('apply', '-f', kubectl.file('ds.yaml', `apiVersion: apps/v1
kind: DaemonSet
metadata: { name: agent, namespace: ${NS} }
spec:
  selector: { matchLabels: { app: agent } }
  template:
    metadata: { labels: { app: agent } }
    spec:
      terminationGracePeriodSeconds: 0
      containers: [{ name: agent, image: "k8ts/busybox:1", command: ["sh", "-c", "sleep 3600"] }]
`));
    expect(await kubectl('rollout', 'status', `-n=${NS}`, 'ds/agent', '--timeout=30s')).toContain('daemon set "agent" successfully rolled out');
    let pods = await livePods('agent');
    expect(pods.map((p) => p.spec!.nodeName).sort()).toEqual(['n1', 'n2']);
    expect(pods[0].spec!.tolerations).toEqual(expect.arrayContaining([{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }]));
    const get = await kubectl('get', `-n=${NS}`, 'ds', 'agent');
    expect(get.split('\n')[0].split(/\s{2,}/)).toEqual(['NAME', 'DESIRED', 'CURRENT', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'NODE SELECTOR', 'AGE']);
    expect(get.split('\n')[1]).toMatch(/^agent\s+2\s+2\s+2\s+2\s+2\s+<none>\s+\d+s$/);

    // A node joining gets its pod.
    const joined = Date.now();
    await client.create(NODES, undefined, node('n3'));
    await eventually(async () => (await livePods('agent')).some((p) => p.spec?.nodeName === 'n3' && p.status?.phase === 'Running') || undefined, 'a pod on n3');
    expect(Date.now() - joined).toBeLessThan(5000);

    // A new image rolls out; history has two revisions; undo goes back, renumbering revision 1 as 3.
    await kubectl('set', 'image', `-n=${NS}`, 'ds/agent', 'agent=k8ts/busybox:2');
    expect(await kubectl('rollout', 'status', `-n=${NS}`, 'ds/agent', '--timeout=60s')).toContain('daemon set "agent" successfully rolled out');
    pods = await livePods('agent');
    expect(pods).toHaveLength(3);
    expect(pods.every((p) => p.spec!.containers[0].image === 'k8ts/busybox:2')).toBe(true);
    const history = await kubectl('rollout', 'history', `-n=${NS}`, 'ds/agent');
    expect(history).toMatch(/REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
    expect(await kubectl('rollout', 'history', `-n=${NS}`, 'ds/agent', '--revision=1')).toContain('k8ts/busybox:1');
    expect(await kubectl('rollout', 'undo', `-n=${NS}`, 'ds/agent')).toContain('daemonset.apps/agent rolled back');
    expect(await kubectl('rollout', 'status', `-n=${NS}`, 'ds/agent', '--timeout=60s')).toContain('successfully rolled out');
    pods = await livePods('agent');
    expect(pods.every((p) => p.spec!.containers[0].image === 'k8ts/busybox:1')).toBe(true);
    const revs = (await client.list<ControllerRevision>(CONTROLLERREVISIONS, NS)).items.filter((r) => r.metadata?.ownerReferences?.[0]?.name === 'agent');
    expect(revs.map((r) => r.revision).sort()).toEqual([2, 3]);
    // kubectl compares its own patch of the DaemonSet with the revision's bytes: they agree, so this is skipped.
    expect(await kubectl('rollout', 'undo', `-n=${NS}`, 'ds/agent', '--to-revision=3')).toContain('skipped rollback (current template already matches revision 3)');
    const ds = await client.get<DaemonSet>(DAEMONSETS, NS, 'agent');
    expect(ds.status).toMatchObject({ desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 3, updatedNumberScheduled: 3, numberAvailable: 3, numberMisscheduled: 0 });
  });

  it('a StatefulSet comes up in order, scales down in reverse, keeps its claims, and rolls out and back with kubectl', async () => {
    // Watch pod events from now: the order of creates, readiness and deletes.
    const events: string[] = [];
    const watching = new AbortController();
    const { resourceVersion } = (await client.list<Pod>(PODS, NS)).metadata;
    const seen = readWatch(`${s.url}/api/v1/namespaces/${NS}/pods?watch=true&labelSelector=app%3Dweb&resourceVersion=${resourceVersion}`, (ev) => {
      const ready = ev.object.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
      if (ev.type === 'ADDED') events.push(`create ${ev.object.metadata.name}`);
      else if (ev.type === 'MODIFIED' && ready && !events.includes(`ready ${ev.object.metadata.name}`)) events.push(`ready ${ev.object.metadata.name}`);
      else if (ev.type === 'MODIFIED' && ev.object.metadata.deletionTimestamp && !events.includes(`delete ${ev.object.metadata.name}`)) events.push(`delete ${ev.object.metadata.name}`);
      else if (ev.type === 'DELETED' && !events.includes(`delete ${ev.object.metadata.name}`)) events.push(`delete ${ev.object.metadata.name}`);
    }, { signal: watching.signal }).catch(() => undefined);
    const manifest = (image: string, replicas: number) => `apiVersion: v1
kind: Service
metadata: { name: web, namespace: ${NS} }
spec: { clusterIP: None, selector: { app: web }, ports: [{ port: 80 }] }
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: web, namespace: ${NS} }
spec:
  serviceName: web
  replicas: ${replicas}
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      terminationGracePeriodSeconds: 0
      containers: [{ name: web, image: "${image}" }]
  volumeClaimTemplates:
  - metadata: { name: data }
    spec: { accessModes: [ReadWriteOnce], resources: { requests: { storage: 1Mi } } }
`;
    await kubectl('apply', '-f', kubectl.file('sts.yaml', manifest('k8ts/busybox:1', 3)));
    expect(await kubectl('rollout', 'status', `-n=${NS}`, 'sts/web', '--timeout=60s')).toContain('partitioned roll out complete: 3 new pods have been updated...');
    await eventually(() => (events.filter((e) => e.startsWith('ready')).length === 3) || undefined, 'three ready pods seen');
    expect(events.filter((e) => !e.startsWith('delete'))).toEqual(['create web-0', 'ready web-0', 'create web-1', 'ready web-1', 'create web-2', 'ready web-2']);
    const pods = await livePods('web');
    const web1 = pods.find((p) => p.metadata!.name === 'web-1')!;
    expect(web1.spec).toMatchObject({ hostname: 'web-1', subdomain: 'web', volumes: expect.arrayContaining([{ name: 'data', persistentVolumeClaim: { claimName: 'data-web-1' } }]) });
    expect(web1.metadata!.labels).toMatchObject({ 'statefulset.kubernetes.io/pod-name': 'web-1', 'apps.kubernetes.io/pod-index': '1', 'controller-revision-hash': expect.stringMatching(/^web-/) });
    const claims = (await client.list(PERSISTENTVOLUMECLAIMS, NS)).items.map((c) => c.metadata!.name).sort();
    expect(claims).toEqual(['data-web-0', 'data-web-1', 'data-web-2']);
    expect((await kubectl('get', `-n=${NS}`, 'sts', 'web')).split('\n')[1]).toMatch(/^web\s+3\/3\s+\d+s$/);

    // Scale down: web-2 then web-1, one at a time; the claims stay.
    await kubectl('scale', `-n=${NS}`, 'sts/web', '--replicas=1');
    await eventually(async () => ((await livePods('web')).length === 1 && events.includes('delete web-1')) || undefined, 'scaled down to 1');
    const deletes = events.filter((e) => e.startsWith('delete'));
    expect(deletes).toEqual(['delete web-2', 'delete web-1']);
    expect((await client.list(PERSISTENTVOLUMECLAIMS, NS)).items).toHaveLength(3);

    // Back to 3, then a new image: replaced from the top; then undo.
    await kubectl('scale', `-n=${NS}`, 'sts/web', '--replicas=3');
    expect(await kubectl('rollout', 'status', `-n=${NS}`, 'sts/web', '--timeout=60s')).toContain('3 new pods have been updated');
    events.length = 0;
    await kubectl('set', 'image', `-n=${NS}`, 'sts/web', 'web=k8ts/busybox:2');
    expect(await kubectl('rollout', 'status', `-n=${NS}`, 'sts/web', '--timeout=60s')).toContain('partitioned roll out complete: 3 new pods have been updated...');
    expect(events.filter((e) => e.startsWith('delete'))).toEqual(['delete web-2', 'delete web-1', 'delete web-0']);
    expect((await livePods('web')).every((p) => p.spec!.containers[0].image === 'k8ts/busybox:2')).toBe(true);
    const sts = await client.get<StatefulSet>(STATEFULSETS, NS, 'web');
    expect(sts.status).toMatchObject({ replicas: 3, readyReplicas: 3, currentReplicas: 3, updatedReplicas: 3, availableReplicas: 3 });
    expect(sts.status!.currentRevision).toBe(sts.status!.updateRevision);
    expect(await kubectl('rollout', 'history', `-n=${NS}`, 'sts/web')).toMatch(/REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
    expect(await kubectl('rollout', 'undo', `-n=${NS}`, 'sts/web')).toContain('statefulset.apps/web rolled back');
    expect(await kubectl('rollout', 'status', `-n=${NS}`, 'sts/web', '--timeout=60s')).toContain('3 new pods have been updated');
    await eventually(async () => (await livePods('web')).filter((p) => p.spec!.containers[0].image === 'k8ts/busybox:1').length === 3 || undefined, 'rolled back to busybox:1');
    expect(await kubectl('rollout', 'undo', `-n=${NS}`, 'sts/web', '--to-revision=3')).toContain('skipped rollback (current template already matches revision 3)');
    watching.abort();
    await seen;
  });

  it('persistentVolumeClaimRetentionPolicy Delete: a scaled-down pod takes its claim along, deleting the set takes the rest', async () => {
    await kubectl('apply', '-f', kubectl.file('db.yaml', `apiVersion: apps/v1
kind: StatefulSet
metadata: { name: db, namespace: ${NS} }
spec:
  serviceName: db
  replicas: 2
  persistentVolumeClaimRetentionPolicy: { whenDeleted: Delete, whenScaled: Delete }
  selector: { matchLabels: { app: db } }
  template:
    metadata: { labels: { app: db } }
    spec:
      terminationGracePeriodSeconds: 0
      containers: [{ name: db, image: "k8ts/busybox:1" }]
  volumeClaimTemplates:
  - metadata: { name: data }
    spec: { accessModes: [ReadWriteOnce], resources: { requests: { storage: 1Mi } } }
`));
    expect(await kubectl('rollout', 'status', `-n=${NS}`, 'sts/db', '--timeout=60s')).toContain('2 new pods have been updated');
    const claims = async () => (await client.list(PERSISTENTVOLUMECLAIMS, NS)).items.filter((c) => c.metadata!.name!.startsWith('data-db-'));
    const sts = await client.get<StatefulSet>(STATEFULSETS, NS, 'db');
    expect((await claims()).map((c) => c.metadata!.ownerReferences)).toEqual([
      [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: sts.metadata!.uid }], [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: sts.metadata!.uid }],
    ]);
    await kubectl('scale', `-n=${NS}`, 'sts/db', '--replicas=1');
    await eventually(async () => { const c = await claims(); return (c.length === 1 && c[0].metadata!.name === 'data-db-0') || undefined; }, 'data-db-1 deleted with db-1');
    await kubectl('delete', `-n=${NS}`, 'sts/db');
    await eventually(async () => ((await claims()).length === 0) || undefined, 'data-db-0 deleted with the set');
  });

  it('examples/apps.yaml is accepted as it is', async () => {
    const file = path.resolve(import.meta.dirname, '../examples/apps.yaml');
    // A server dry run creates nothing, not even the namespace the other objects need: make that one for real.
    await call(s.url, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'apps' } });
    const out = await kubectl('apply', '--dry-run=server', '-f', file);
    expect(out).toContain('daemonset.apps/agent created (server dry run)');
    expect(out).toContain('statefulset.apps/web created (server dry run)');
  });
});
