import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, DEPLOYMENTS, Informer, PODS, REPLICASETS, SharedInformerFactory, type Deployment, type Pod, type ReplicaSet } from '@k8ts/api';
import { DeploymentController, ReplicaSetController } from '@k8ts/controller-manager';
import { call, eventually, readWatch, startTestApiserver, testKubectl, type TestApiserver, type TestKubectl } from './harness.js';

// The Deployment and ReplicaSet controllers against a real apiserver on etcd; the test plays the kubelet (every
// pod is marked Running and Ready as soon as it appears) and drives rollouts with the real kubectl.

let s: TestApiserver;
let client: ApiClient;
let kubectl: TestKubectl;
const ac = new AbortController();
const running: Promise<unknown>[] = [];
const NS = 'deploy-test';

const deployment = (name: string, replicas: number, strategy: string, image = 'k8ts/busybox:1') => `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name}, namespace: ${NS} }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: ${name} } }
  strategy: ${strategy}
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      terminationGracePeriodSeconds: 0
      containers: [{ name: app, image: "${image}" }]
`;

const live = async (app: string) => (await client.list<Pod>(PODS, NS, { labelSelector: `app=${app}` })).items.filter((p) => !p.metadata?.deletionTimestamp);
const ready = (p: Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
const imageOf = (p: Pod) => p.spec?.containers?.[0]?.image;

describe('Deployment controller against a real apiserver', () => {
  beforeAll(async () => {
    s = await startTestApiserver();
    client = new ApiClient({ server: s.url });
    kubectl = testKubectl(s.url);
    await call(s.url, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    const informers = new SharedInformerFactory({ client });
    const rs = new ReplicaSetController({ client, informers });
    const dc = new DeploymentController({ client, informers });
    // The fake kubelet: a pod is Running and Ready as soon as the informer sees it.
    const pods = new Informer<Pod>({ client, def: PODS, namespace: NS });
    pods.addHandler({
      onAdd: (p) => void markReady(p),
      onUpdate: (_o, p) => void markReady(p),
    });
    informers.start(ac.signal);
    running.push(rs.run(ac.signal, 2), dc.run(ac.signal, 2), pods.run(ac.signal));
  }, 60_000);

  afterAll(async () => {
    ac.abort();
    await Promise.all(running);
    kubectl?.cleanup();
    await client?.close();
    await s?.stop();
  });

  async function markReady(p: Pod): Promise<void> {
    if (ready(p) || p.metadata?.deletionTimestamp || p.metadata?.labels?.hold === 'true') return;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    await client.patch(PODS, NS, p.metadata!.name!, { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] } }, 'merge', { subresource: 'status' }).catch(() => undefined);
  }

  it('rolls a 10-replica Deployment to a new image within maxSurge and maxUnavailable at every event, then undoes it', async () => {
    await kubectl('apply', '-f', kubectl.file('web.yaml', deployment('web', 10, '{ type: RollingUpdate, rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } }')));
    expect(await kubectl('rollout', 'status', `-n=${NS}`, 'deployment/web', '--timeout=60s')).toContain('deployment "web" successfully rolled out');
    const first = (await client.list<ReplicaSet>(REPLICASETS, NS)).items;
    expect(first).toHaveLength(1);
    expect(first[0].metadata!.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(first[0].metadata!.annotations).toMatchObject({ 'deployment.kubernetes.io/revision': '1', 'deployment.kubernetes.io/desired-replicas': '10', 'deployment.kubernetes.io/max-replicas': '13' });

    // Watch every event during the rollout: the ReplicaSets never sized above 13 in all (upstream's surge bound is on
    // their sizes: a pod an old ReplicaSet is about to delete may briefly overlap a new one), never fewer than 8 ready pods.
    const state = new Map<string, Pod>();
    const violations: string[] = [];
    const watching = new AbortController();
    const { resourceVersion } = (await client.list<Pod>(PODS, NS, { labelSelector: 'app=web' })).metadata;
    for (const p of (await live('web'))) state.set(p.metadata!.uid!, p);
    const watch = readWatch(`${s.url}/api/v1/namespaces/${NS}/pods?watch=true&labelSelector=app%3Dweb&resourceVersion=${resourceVersion}`, (ev) => {
      if (ev.type === 'DELETED' || ev.object.metadata.deletionTimestamp) state.delete(ev.object.metadata.uid);
      else state.set(ev.object.metadata.uid, ev.object);
      const all = [...state.values()];
      const available = all.filter(ready).length;
      if (available < 8 && all.length >= 8) violations.push(`${available} available`);
    }, { signal: watching.signal });
    const sizes = new Map<string, number>();
    const sets = await client.list<ReplicaSet>(REPLICASETS, NS);
    for (const rs of sets.items) sizes.set(rs.metadata!.uid!, rs.spec?.replicas ?? 0);
    const rsWatch = readWatch(`${s.url}/apis/apps/v1/namespaces/${NS}/replicasets?watch=true&resourceVersion=${sets.metadata.resourceVersion}`, (ev) => {
      if (ev.type === 'DELETED') sizes.delete(ev.object.metadata.uid);
      else sizes.set(ev.object.metadata.uid, ev.object.spec?.replicas ?? 0);
      const total = [...sizes.values()].reduce((a, b) => a + b, 0);
      if (total > 13) violations.push(`ReplicaSets sized ${total}`);
    }, { signal: watching.signal });

    expect(await kubectl('set', 'image', `-n=${NS}`, 'deployment/web', 'app=k8ts/busybox:2')).toContain('deployment.apps/web image updated');
    expect(await kubectl('rollout', 'status', `-n=${NS}`, 'deployment/web', '--timeout=60s')).toContain('deployment "web" successfully rolled out');
    await eventually(async () => { const p = await live('web'); return p.length === 10 && p.every((x) => imageOf(x) === 'k8ts/busybox:2'); }, '10 new pods');
    watching.abort();
    await Promise.all([watch, rsWatch]);
    expect(violations).toEqual([]);
    const d = await client.get<Deployment>(DEPLOYMENTS, NS, 'web');
    expect(d.status).toMatchObject({ replicas: 10, updatedReplicas: 10, readyReplicas: 10, availableReplicas: 10, observedGeneration: 2 });
    expect(d.status!.conditions!.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable' });
    expect(d.status!.conditions!.find((c) => c.type === 'Available')).toMatchObject({ status: 'True', reason: 'MinimumReplicasAvailable' });
    expect(d.metadata!.annotations!['deployment.kubernetes.io/revision']).toBe('2');

    const history = await kubectl('rollout', 'history', `-n=${NS}`, 'deployment/web');
    expect(history).toMatch(/REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
    expect(await kubectl('rollout', 'history', `-n=${NS}`, 'deployment/web', '--revision=1')).toContain('Image:\tk8ts/busybox:1');
    const describe = await kubectl('describe', `-n=${NS}`, 'deployment/web');
    expect(describe).toMatch(/ScalingReplicaSet\s+\S+\s+deployment-controller\s+Scaled up replica set web-\S+ from 0 to 3/);

    expect(await kubectl('rollout', 'undo', `-n=${NS}`, 'deployment/web')).toContain('deployment.apps/web rolled back');
    expect(await kubectl('rollout', 'status', `-n=${NS}`, 'deployment/web', '--timeout=60s')).toContain('successfully rolled out');
    await eventually(async () => { const p = await live('web'); return p.length === 10 && p.every((x) => imageOf(x) === 'k8ts/busybox:1'); }, '10 pods back on image 1');
    const rsList = (await client.list<ReplicaSet>(REPLICASETS, NS)).items;
    expect(rsList).toHaveLength(2);
    const back = rsList.find((rs) => rs.metadata!.uid === first[0].metadata!.uid)!;
    expect(back.metadata!.annotations).toMatchObject({ 'deployment.kubernetes.io/revision': '3', 'deployment.kubernetes.io/revision-history': '1' });
    expect(await kubectl('rollout', 'undo', `-n=${NS}`, 'deployment/web', '--to-revision=2')).toContain('rolled back');
    await eventually(async () => { const p = await live('web'); return p.length === 10 && p.every((x) => imageOf(x) === 'k8ts/busybox:2'); }, 'back on image 2');
  });

  it('scales proportionally mid-rollout, and pause/resume/restart/set env work', async () => {
    await kubectl('apply', '-f', kubectl.file('mid.yaml', deployment('mid', 10, '{ type: RollingUpdate, rollingUpdate: { maxSurge: 3, maxUnavailable: 0 } }')));
    await kubectl('rollout', 'status', `-n=${NS}`, 'deployment/mid', '--timeout=60s');
    // New pods stay unready ("hold"), so the rollout stops part way: 10 old + 3 new.
    await kubectl('patch', `-n=${NS}`, 'deployment/mid', '--type=merge', '-p', '{"spec":{"template":{"metadata":{"labels":{"app":"mid","hold":"true"}},"spec":{"containers":[{"name":"app","image":"k8ts/busybox:2"}]}}}}');
    await eventually(async () => (await client.list<ReplicaSet>(REPLICASETS, NS, { labelSelector: 'app=mid' })).items.length === 2 && (await live('mid')).length === 13, '10 old + 3 new pods');
    await kubectl('scale', `-n=${NS}`, 'deployment/mid', '--replicas=20');
    const sizes = await eventually(async () => {
      const list = (await client.list<ReplicaSet>(REPLICASETS, NS, { labelSelector: 'app=mid' })).items;
      const total = list.reduce((n, rs) => n + (rs.spec!.replicas ?? 0), 0);
      return total === 23 && list.map((rs) => rs.spec!.replicas).sort((a, b) => a! - b!);
    }, 'proportional scale to 20 + 3 surge');
    // 10:3 of 23 (upstream's getProportion): old 10 → 18, new 3 → 5.
    expect(sizes).toEqual([5, 18]);

    await kubectl('rollout', 'pause', `-n=${NS}`, 'deployment/mid');
    await eventually(async () => (await client.get<Deployment>(DEPLOYMENTS, NS, 'mid')).status?.conditions?.some((c) => c.reason === 'DeploymentPaused'), 'paused condition');
    await kubectl('rollout', 'resume', `-n=${NS}`, 'deployment/mid');
    await eventually(async () => (await client.get<Deployment>(DEPLOYMENTS, NS, 'mid')).status?.conditions?.some((c) => c.type === 'Progressing' && c.reason !== 'DeploymentPaused'), 'resumed');

    await kubectl('apply', '-f', kubectl.file('env.yaml', deployment('envs', 2, '{ type: RollingUpdate }')));
    await kubectl('rollout', 'status', `-n=${NS}`, 'deployment/envs', '--timeout=60s');
    expect(await kubectl('set', 'env', `-n=${NS}`, 'deployment/envs', 'GREETING=hi')).toContain('deployment.apps/envs env updated');
    await kubectl('rollout', 'status', `-n=${NS}`, 'deployment/envs', '--timeout=60s');
    await eventually(async () => { const p = await live('envs'); return p.length === 2 && p.every((x) => x.spec?.containers?.[0]?.env?.[0]?.value === 'hi'); }, 'pods with the env');
    expect(await kubectl('rollout', 'restart', `-n=${NS}`, 'deployment/envs')).toContain('deployment.apps/envs restarted');
    expect(await kubectl('rollout', 'status', `-n=${NS}`, 'deployment/envs', '--timeout=60s')).toContain('successfully rolled out');
    expect((await client.list<ReplicaSet>(REPLICASETS, NS, { labelSelector: 'app=envs' })).items).toHaveLength(3);
  });

  it('Recreate never overlaps old and new pods', async () => {
    await kubectl('apply', '-f', kubectl.file('re.yaml', deployment('re', 3, '{ type: Recreate }')));
    await kubectl('rollout', 'status', `-n=${NS}`, 'deployment/re', '--timeout=60s');
    const images = new Map<string, string>();
    const overlaps: string[] = [];
    const watching = new AbortController();
    const { resourceVersion } = (await client.list<Pod>(PODS, NS, { labelSelector: 'app=re' })).metadata;
    for (const p of await live('re')) images.set(p.metadata!.uid!, imageOf(p)!);
    const watch = readWatch(`${s.url}/api/v1/namespaces/${NS}/pods?watch=true&labelSelector=app%3Dre&resourceVersion=${resourceVersion}`, (ev) => {
      // A Recreate rollout may only start a new pod once every old pod object is gone.
      if (ev.type === 'DELETED') images.delete(ev.object.metadata.uid);
      else images.set(ev.object.metadata.uid, ev.object.spec.containers[0].image);
      if (new Set(images.values()).size > 1) overlaps.push([...images.values()].join(','));
    }, { signal: watching.signal });
    await kubectl('set', 'image', `-n=${NS}`, 'deployment/re', 'app=k8ts/busybox:2');
    await kubectl('rollout', 'status', `-n=${NS}`, 'deployment/re', '--timeout=60s');
    await eventually(async () => { const p = await live('re'); return p.length === 3 && p.every((x) => imageOf(x) === 'k8ts/busybox:2'); }, '3 new pods');
    watching.abort();
    await watch;
    expect(overlaps).toEqual([]);
  });
});
