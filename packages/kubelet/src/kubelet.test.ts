import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError, PODS, SERVICES, type Pod } from '@k8ts/api';
import { FakeClock, FakeInformerFactory, RecordingClient, type ClientAction } from '@k8ts/api/testing';
import { FakeRuntime } from '../test/fake-runtime.js';
import { Kubelet } from './kubelet.js';

// Kubelet.syncKey as sample-controller tests its syncHandler: seeded informers, a recording client, a fake
// runtime; each test asserts the writes made to pods.

const NODE = 'node-1';
let rootDir: string;

beforeEach(() => { rootDir = mkdtempSync(join(tmpdir(), 'kubelet-sync-')); });
afterEach(() => rmSync(rootDir, { recursive: true, force: true }));

const newPod = (extra: Partial<Pod['metadata']> = {}): Pod => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { namespace: 'default', name: 'web', uid: 'uid-web', resourceVersion: '7', ...extra },
  spec: { nodeName: NODE, containers: [{ name: 'app', image: 'k8ts/busybox:latest' }], restartPolicy: 'Always' },
  status: { phase: 'Pending' },
});

function setup(...pods: Pod[]) {
  const informers = new FakeInformerFactory(pods);
  const client = new RecordingClient({ objects: pods });
  const runtime = new FakeRuntime(new FakeClock());
  const kubelet = new Kubelet({
    client, informers, runtime, nodeName: NODE, nodeIP: '127.0.1.1', port: 10250, network: 'bridge', rootDir,
  });
  return { informers, client, runtime, kubelet, podWrites: (): ClientAction[] => client.writes().filter((a) => a.resource === 'pods') };
}

describe('Kubelet.syncKey', () => {
  it('watches only the pods bound to its node (and every Service, for service links), through the factory it is given', () => {
    const { informers } = setup();
    expect(informers.requests).toEqual([{ def: PODS, request: { fieldSelector: `spec.nodeName=${NODE}` } }, { def: SERVICES, request: {} }]);
  });

  it('starts a new pod and writes its status once, as a JSON patch of pods/status', async () => {
    const { kubelet, runtime, podWrites } = setup(newPod());
    await kubelet.syncKey('default/web');
    expect(runtime.calls).toEqual(['sandbox sb1', 'create app#0']);
    const writes = podWrites();
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatchObject({ verb: 'patch', resource: 'pods', subresource: 'status', namespace: 'default', name: 'web', patchType: 'json' });
    const [op] = writes[0].patch as { op: string; path: string; value: NonNullable<Pod['status']> }[];
    expect(op).toMatchObject({ op: 'replace', path: '/status' });
    expect(op.value.phase).toBe('Running');
    expect(op.value.podIP).toBe('10.0.0.5');
    expect(op.value.containerStatuses?.[0]).toMatchObject({ name: 'app', ready: true, restartCount: 0, state: { running: {} } });

    // Level-triggered: nothing changed, nothing is started or written again.
    await kubelet.syncKey('default/web');
    expect(runtime.calls).toEqual(['sandbox sb1', 'create app#0']);
    expect(podWrites()).toHaveLength(1);
  });

  it('terminates a pod being deleted, then deletes it with grace 0 and a uid precondition', async () => {
    const { kubelet, informers, runtime, podWrites } = setup(newPod());
    await kubelet.syncKey('default/web');
    informers.informerFor<Pod>(PODS, { fieldSelector: `spec.nodeName=${NODE}` })
      .update(newPod({ resourceVersion: '8', deletionTimestamp: '2026-11-24T07:32:17Z', deletionGracePeriodSeconds: 0 }));
    await kubelet.syncKey('default/web');
    expect(runtime.containers).toEqual([]);
    expect(podWrites().map((a) => a.verb)).toEqual(['patch', 'delete']);
    expect(podWrites()[1]).toMatchObject({
      verb: 'delete', resource: 'pods', namespace: 'default', name: 'web', options: { gracePeriodSeconds: 0, preconditions: { uid: 'uid-web' } },
    });
  });

  it('removes what still runs of a pod gone from the API, and writes nothing', async () => {
    const { kubelet, informers, runtime, podWrites } = setup(newPod());
    await kubelet.syncKey('default/web');
    expect(runtime.containers.map((c) => c.name).sort()).toEqual(['POD', 'app']);
    informers.informerFor<Pod>(PODS, { fieldSelector: `spec.nodeName=${NODE}` }).delete(newPod());
    await kubelet.syncKey('default/web');
    expect(runtime.containers).toEqual([]);
    expect(podWrites()).toHaveLength(1);
  });

  it('does nothing for a key it never ran and the API does not have', async () => {
    const { kubelet, runtime, client } = setup();
    await kubelet.syncKey('default/nope');
    expect(runtime.calls).toEqual([]);
    expect(client.writes()).toEqual([]);
  });

  it('throws when the status write fails, so that the worker retries it with backoff', async () => {
    const { kubelet, client } = setup(newPod());
    client.prependReactor('patch', 'pods/status', () => { throw new ApiError(500, 'InternalError', 'etcd is down'); });
    await expect(kubelet.syncKey('default/web')).rejects.toThrow('etcd is down');
  });
});

describe('Kubelet relist on an engine shared by two nodes', () => {
  const labels = (uid: string, node?: string) => ({
    'io.kubernetes.pod.uid': uid, 'io.kubernetes.pod.name': uid, 'io.kubernetes.pod.namespace': 'default',
    ...(node ? { 'io.kubernetes.node.name': node } : {}),
  });

  it('removes only its own orphans: never another node\'s containers, unlabelled ones, or its running pods', async () => {
    const { kubelet, runtime } = setup(newPod());
    await kubelet.syncKey('default/web'); // node-1's own pod, running
    const ref = (uid: string) => ({ uid, name: uid, namespace: 'default' });
    runtime.add(ref('orphan'), 'POD', labels('orphan', NODE), { sandbox: true });
    runtime.add(ref('orphan'), 'app', labels('orphan', NODE));
    const others = [
      runtime.add(ref('theirs'), 'POD', labels('theirs', 'node-2'), { sandbox: true }),
      runtime.add(ref('theirs'), 'app', labels('theirs', 'node-2')),
      runtime.add(ref('legacy'), 'app', labels('legacy')),
    ];
    const mine = runtime.containers.filter((c) => c.pod.uid === 'uid-web').map((c) => c.id);
    runtime.calls = [];
    await kubelet.relist(true);
    expect(runtime.containers.map((c) => c.id).sort()).toEqual([...mine, ...others.map((c) => c.id)].sort());
    expect(runtime.containers.every((c) => c.state === 'running')).toBe(true);
    expect(runtime.calls.filter((c) => c.startsWith('stop'))).toEqual(['stop app', 'stop POD']); // the orphan's only
    expect(kubelet.containersOf('theirs')).toEqual([]);
  });
});
