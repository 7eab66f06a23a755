import { describe, expect, it } from 'vitest';
import { PERSISTENTVOLUMES, type PersistentVolume, type PersistentVolumeClaim, type StorageClass } from '@k8ts/api';
import { FakeInformerFactory, RecordingClient } from '@k8ts/api/testing';
import { LocalPathProvisioner, localPathVolume, nodeVolumeDir, volumeNode } from './local-path-provisioner.js';

const cls: StorageClass = {
  apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'local-path' },
  provisioner: 'rancher.io/local-path', reclaimPolicy: 'Delete', volumeBindingMode: 'WaitForFirstConsumer',
};
const claim = (ann: Record<string, string>): PersistentVolumeClaim => ({
  apiVersion: 'v1', kind: 'PersistentVolumeClaim',
  metadata: { name: 'data', namespace: 'web', uid: 'abc', resourceVersion: '7', annotations: ann },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '128Mi' } }, storageClassName: 'local-path' },
  status: { phase: 'Pending' },
});
const SELECTED = { 'volume.kubernetes.io/selected-node': 'node-1', 'volume.kubernetes.io/storage-provisioner': 'rancher.io/local-path' };

function setup(objects: (StorageClass | PersistentVolumeClaim | PersistentVolume)[]) {
  const client = new RecordingClient({ objects });
  const informers = new FakeInformerFactory(objects);
  const fs = { made: [] as string[], removed: [] as string[], mkdir: async (d: string) => { fs.made.push(d); }, rm: async (d: string) => { fs.removed.push(d); } };
  return { client, fs, provisioner: new LocalPathProvisioner({ client, informers, fs, dir: '/srv/k8ts/kubelet/{node}/local-path' }) };
}

describe('local-path provisioning', () => {
  it('puts each node\'s volumes under its own directory, refusing names that would leave it', () => {
    expect(nodeVolumeDir('/srv/{node}/lp', 'node-1')).toBe('/srv/node-1/lp');
    expect(nodeVolumeDir('/opt/lp', 'node-2')).toBe('/opt/lp/node-2');
    expect(() => nodeVolumeDir('/srv/{node}', '../etc')).toThrow('invalid node name');
  });

  it('describes the volume as rancher\'s provisioner does: hostPath DirectoryOrCreate, node affinity, claimRef', () => {
    const pv = localPathVolume(claim(SELECTED), cls, 'node-1', '/srv/node-1');
    expect(pv).toMatchObject({
      metadata: { name: 'pvc-abc', annotations: { 'pv.kubernetes.io/provisioned-by': 'rancher.io/local-path' } },
      spec: {
        capacity: { storage: '128Mi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Delete', storageClassName: 'local-path',
        claimRef: { namespace: 'web', name: 'data', uid: 'abc' }, hostPath: { path: '/srv/node-1/pvc-abc_web_data', type: 'DirectoryOrCreate' },
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-1'] }] }] } },
      },
    });
    expect(volumeNode(pv)).toBe('node-1');
  });

  it('provisions a claim once the binder asked and the scheduler chose a node; not before', async () => {
    const early = setup([cls, claim({ 'volume.kubernetes.io/storage-provisioner': 'rancher.io/local-path' })]);
    await early.provisioner.sync('claim:web/data');
    expect(early.client.writes().filter((w) => w.resource === 'persistentvolumes')).toEqual([]);
    const { client, fs, provisioner } = setup([cls, claim(SELECTED)]);
    await provisioner.sync('claim:web/data');
    expect(fs.made).toEqual(['/srv/k8ts/kubelet/node-1/local-path/pvc-abc_web_data']);
    expect(client.stored<PersistentVolume>(PERSISTENTVOLUMES, undefined, 'pvc-abc')!.spec!.hostPath!.path).toBe('/srv/k8ts/kubelet/node-1/local-path/pvc-abc_web_data');
  });

  it('removes the directory and the volume once Released with Delete; leaves Retain and foreign paths alone', async () => {
    const pv = (o: { phase: string; policy?: string; path?: string }) => {
      const v = localPathVolume(claim(SELECTED), cls, 'node-1', '/srv/k8ts/kubelet/node-1/local-path') as PersistentVolume & { spec: { hostPath: { path: string } } };
      return { ...v, metadata: { ...v.metadata, uid: 'v1' }, spec: { ...v.spec, persistentVolumeReclaimPolicy: o.policy ?? 'Delete', hostPath: { ...v.spec.hostPath, path: o.path ?? v.spec.hostPath.path } }, status: { phase: o.phase } };
    };
    const released = setup([pv({ phase: 'Released' })]);
    await released.provisioner.sync('volume:pvc-abc');
    expect(released.fs.removed).toEqual(['/srv/k8ts/kubelet/node-1/local-path/pvc-abc_web_data']);
    expect(released.client.stored(PERSISTENTVOLUMES, undefined, 'pvc-abc')).toBeUndefined();
    for (const v of [pv({ phase: 'Bound' }), pv({ phase: 'Released', policy: 'Retain' }), pv({ phase: 'Released', path: '/etc' })]) {
      const s = setup([v]);
      await s.provisioner.sync('volume:pvc-abc');
      expect(s.fs.removed).toEqual([]);
      expect(s.client.stored(PERSISTENTVOLUMES, undefined, 'pvc-abc')).toBeDefined();
    }
  });
});
