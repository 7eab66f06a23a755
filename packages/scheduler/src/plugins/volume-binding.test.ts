import { describe, expect, it } from 'vitest';
import {
  PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES, type Node, type PersistentVolume, type PersistentVolumeClaim, type Pod, type StorageClass,
} from '@k8ts/api';
import { FakeInformerFactory, RecordingClient } from '@k8ts/api/testing';
import type { CycleState } from '../types.js';
import { newNodeInfo } from './nodeinfo.js';
import {
  ERR_REASON_BIND_CONFLICT, ERR_REASON_NODE_CONFLICT, ERR_REASON_PV_NOT_EXIST, ERR_UNBOUND_IMMEDIATE, VolumeBinding,
} from './volume-binding.js';

const node = (name: string): Node => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } } });
const pod = (...claims: string[]): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u' },
  spec: { containers: [], volumes: claims.map((c) => ({ name: c, persistentVolumeClaim: { claimName: c } })) },
});
const cls = (name: string, mode: string, provisioner = 'rancher.io/local-path'): StorageClass => ({
  apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name }, provisioner, volumeBindingMode: mode,
});
const claim = (name: string, cl: string, o: { volumeName?: string; ann?: Record<string, string> } = {}): PersistentVolumeClaim => ({
  apiVersion: 'v1', kind: 'PersistentVolumeClaim',
  metadata: { name, namespace: 'default', uid: `c-${name}`, resourceVersion: '3', annotations: { ...(o.volumeName ? { 'pv.kubernetes.io/bind-completed': 'yes' } : {}), ...o.ann } },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: cl, ...(o.volumeName ? { volumeName: o.volumeName } : {}) },
});
const onNode = (name: string, nodeName: string, o: { claimRef?: object; cls?: string } = {}): PersistentVolume => ({
  apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name, resourceVersion: '4' },
  spec: {
    capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: o.cls ?? 'local-path', hostPath: { path: `/x/${name}` },
    nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [nodeName] }] }] } },
    ...(o.claimRef ? { claimRef: o.claimRef } : {}),
  },
  status: { phase: o.claimRef ? 'Bound' : 'Available' },
});

function setup(objects: (StorageClass | PersistentVolumeClaim | PersistentVolume)[], bindTimeoutMs?: number) {
  const informers = new FakeInformerFactory(objects);
  const client = new RecordingClient({ objects });
  const plugin = new VolumeBinding(bindTimeoutMs);
  const moved: string[] = [];
  plugin.init({ client, informers, moveAll: (why) => moved.push(why) });
  const state = (): CycleState => ({ allNodes: [], data: new Map() });
  const run = (p: Pod, n: Node) => {
    const s = state();
    const pre = plugin.preFilter(p, s);
    return pre.code === 'Success' ? plugin.filter(p, newNodeInfo(n), s) : pre;
  };
  return { plugin, client, informers, run, moved };
}

describe('VolumeBinding filter', () => {
  it('passes pods without claims and pods whose volumes fit the node; bound volumes\' node affinity filters nodes', () => {
    const { run } = setup([cls('local-path', 'WaitForFirstConsumer'), claim('data', 'local-path', { volumeName: 'pv1' }), onNode('pv1', 'node-1', { claimRef: { namespace: 'default', name: 'data', uid: 'c-data' } })]);
    expect(run(pod(), node('node-2')).code).toBe('Success');
    expect(run(pod('data'), node('node-1')).code).toBe('Success');
    expect(run(pod('data'), node('node-2'))).toEqual({ code: 'UnschedulableAndUnresolvable', reasons: [ERR_REASON_NODE_CONFLICT] });
  });

  it('refuses missing and deleted claims, unbound Immediate claims, and claims bound to a missing volume', () => {
    const deleting = { ...claim('old', 'fast'), metadata: { ...claim('old', 'fast').metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } };
    const { run } = setup([cls('fast', 'Immediate'), claim('waiting', 'fast'), deleting, claim('lost', 'fast', { volumeName: 'gone' })]);
    expect(run(pod('nope'), node('n')).reasons).toEqual(['persistentvolumeclaim "nope" not found']);
    expect(run(pod('old'), node('n')).reasons).toEqual(['persistentvolumeclaim "old" is being deleted']);
    expect(run(pod('waiting'), node('n'))).toEqual({ code: 'UnschedulableAndUnresolvable', reasons: [ERR_UNBOUND_IMMEDIATE] });
    expect(run(pod('lost'), node('n')).reasons).toEqual([ERR_REASON_PV_NOT_EXIST]);
  });

  it('lets a WaitForFirstConsumer claim go where a matching static volume is, or anywhere its class provisions', () => {
    const { run } = setup([
      cls('local-path', 'WaitForFirstConsumer'), cls('static', 'WaitForFirstConsumer', 'kubernetes.io/no-provisioner'),
      claim('dyn', 'local-path'), claim('st', 'static'), onNode('local1', 'node-1', { cls: 'static' }),
    ]);
    expect(run(pod('dyn'), node('node-2')).code).toBe('Success');
    expect(run(pod('st'), node('node-1')).code).toBe('Success');
    expect(run(pod('st'), node('node-2'))).toEqual({ code: 'UnschedulableAndUnresolvable', reasons: [ERR_REASON_BIND_CONFLICT] });
  });

  it('retries unschedulable pods when claims, volumes or classes change', () => {
    const { informers, moved } = setup([]);
    informers.informerFor<PersistentVolumeClaim>(PERSISTENTVOLUMECLAIMS).add(claim('data', 'local-path'));
    expect(moved).toEqual(['PvcChange']);
  });
});

describe('VolumeBinding preBind', () => {
  it('sets selected-node on a claim to provision and waits until the binder has bound it', async () => {
    const { plugin, client, informers } = setup([cls('local-path', 'WaitForFirstConsumer'), claim('data', 'local-path')]);
    const bound = plugin.preBind(pod('data'), newNodeInfo(node('node-1')));
    const patched = client.writes().find((w) => w.resource === 'persistentvolumeclaims')!;
    expect(patched).toMatchObject({ verb: 'patch', name: 'data', patch: { metadata: { annotations: { 'volume.kubernetes.io/selected-node': 'node-1' } } } });
    let done = false;
    void bound.then(() => { done = true; });
    await new Promise((r) => setTimeout(r, 150));
    expect(done).toBe(false);
    informers.informerFor<PersistentVolume>(PERSISTENTVOLUMES).add(onNode('pvc-c-data', 'node-1', { claimRef: { namespace: 'default', name: 'data', uid: 'c-data' } }));
    informers.informerFor<PersistentVolumeClaim>(PERSISTENTVOLUMECLAIMS).update(claim('data', 'local-path', { volumeName: 'pvc-c-data' }));
    await bound;
  });

  it('pre-binds a matching static volume through its claimRef', async () => {
    const { plugin, client } = setup([cls('static', 'WaitForFirstConsumer', 'kubernetes.io/no-provisioner'), claim('st', 'static'), onNode('local1', 'node-1', { cls: 'static' })], 200);
    await expect(plugin.preBind(pod('st'), newNodeInfo(node('node-1')))).rejects.toThrow('timed out');
    expect(client.writes().find((w) => w.resource === 'persistentvolumes')).toMatchObject({
      verb: 'patch', name: 'local1', patch: { spec: { claimRef: { namespace: 'default', name: 'st', uid: 'c-st' } } },
    });
  });
});
