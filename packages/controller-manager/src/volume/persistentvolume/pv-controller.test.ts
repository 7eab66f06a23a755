import { describe, expect, it } from 'vitest';
import {
  findMatchingVolume, PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES, type PersistentVolume, type PersistentVolumeClaim, type StorageClass,
} from '@k8ts/api';
import { FakeInformerFactory, RecordingClient } from '@k8ts/api/testing';
import { PersistentVolumeController } from './pv-controller.js';

const claim = (name: string, o: { size?: string; cls?: string; modes?: string[]; volumeName?: string; ann?: Record<string, string>; selector?: object; phase?: string } = {}): PersistentVolumeClaim => ({
  apiVersion: 'v1', kind: 'PersistentVolumeClaim',
  metadata: { name, namespace: 'default', uid: `c-${name}`, resourceVersion: '10', ...(o.ann ? { annotations: o.ann } : {}) },
  spec: {
    accessModes: o.modes ?? ['ReadWriteOnce'], resources: { requests: { storage: o.size ?? '1Gi' } },
    storageClassName: o.cls ?? '', ...(o.volumeName ? { volumeName: o.volumeName } : {}), ...(o.selector ? { selector: o.selector } : {}),
  },
  status: { phase: o.phase ?? 'Pending' },
});
const volume = (name: string, o: { size?: string; cls?: string; modes?: string[]; claimRef?: object; labels?: Record<string, string>; phase?: string; policy?: string; ann?: Record<string, string> } = {}): PersistentVolume => ({
  apiVersion: 'v1', kind: 'PersistentVolume',
  metadata: { name, uid: `v-${name}`, resourceVersion: '20', ...(o.labels ? { labels: o.labels } : {}), ...(o.ann ? { annotations: o.ann } : {}) },
  spec: {
    capacity: { storage: o.size ?? '1Gi' }, accessModes: o.modes ?? ['ReadWriteOnce'], storageClassName: o.cls ?? '',
    persistentVolumeReclaimPolicy: o.policy ?? 'Retain', hostPath: { path: `/tmp/${name}` }, ...(o.claimRef ? { claimRef: o.claimRef } : {}),
  },
  status: { phase: o.phase ?? 'Available' },
});
const sc = (name: string, mode: string, provisioner = 'rancher.io/local-path'): StorageClass => ({
  apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name }, provisioner, volumeBindingMode: mode, reclaimPolicy: 'Delete',
});

describe('findMatchingVolume', () => {
  const vols = [volume('big', { size: '10Gi' }), volume('small', { size: '2Gi' }), volume('tiny', { size: '512Mi' }),
    volume('rwx', { size: '2Gi', modes: ['ReadWriteMany'] }), volume('fast', { size: '2Gi', cls: 'fast', labels: { tier: 'gold' } })];
  it.each([
    ['the smallest big enough', claim('a', { size: '1Gi' }), 'small'],
    ['with every access mode asked for', claim('a', { modes: ['ReadWriteMany'] }), 'rwx'],
    ['of the claim\'s class', claim('a', { cls: 'fast' }), 'fast'],
    ['matching the selector', claim('a', { cls: 'fast', selector: { matchLabels: { tier: 'gold' } } }), 'fast'],
    ['none when the selector fails', claim('a', { cls: 'fast', selector: { matchLabels: { tier: 'iron' } } }), undefined],
    ['none when too big a request', claim('a', { size: '20Gi' }), undefined],
  ])('picks %s', (_, c, want) => {
    expect(findMatchingVolume(c, vols)?.metadata?.name).toBe(want);
  });

  it('prefers a volume pre-bound to the claim, skips ones claimed by others, and in delay mode only takes pre-bound ones', () => {
    const c = claim('a');
    const pre = volume('pre', { size: '5Gi', claimRef: { namespace: 'default', name: 'a' } });
    const other = volume('other', { claimRef: { namespace: 'default', name: 'b', uid: 'x' } });
    expect(findMatchingVolume(c, [volume('small'), pre])?.metadata?.name).toBe('pre');
    expect(findMatchingVolume(c, [other])).toBeUndefined();
    expect(findMatchingVolume(c, [volume('small')], { delayBinding: true })).toBeUndefined();
    expect(findMatchingVolume(c, [pre], { delayBinding: true })?.metadata?.name).toBe('pre');
  });
});

function setup(objects: (PersistentVolume | PersistentVolumeClaim | StorageClass)[]) {
  const client = new RecordingClient({ objects });
  const informers = new FakeInformerFactory(objects);
  return { client, controller: new PersistentVolumeController({ client, informers }) };
}
const storedClaim = (c: RecordingClient, name: string) => c.stored<PersistentVolumeClaim>(PERSISTENTVOLUMECLAIMS, 'default', name)!;
const storedVolume = (c: RecordingClient, name: string) => c.stored<PersistentVolume>(PERSISTENTVOLUMES, undefined, name)!;
const reasons = (c: RecordingClient) => c.writes().filter((w) => w.resource === 'events').map((w) => (w.object as { reason?: string }).reason);

describe('PersistentVolumeController.sync', () => {
  it('binds a claim to a static volume both ways, with upstream\'s annotations and phases', async () => {
    const { client, controller } = setup([claim('data', { size: '1Gi' }), volume('pv1', { size: '5Gi' })]);
    await controller.sync('claim:default/data');
    const pv = storedVolume(client, 'pv1');
    expect(pv.spec!.claimRef).toMatchObject({ kind: 'PersistentVolumeClaim', namespace: 'default', name: 'data', uid: 'c-data' });
    expect(pv.metadata!.annotations).toEqual({ 'pv.kubernetes.io/bound-by-controller': 'yes' });
    expect(pv.status!.phase).toBe('Bound');
    const c = storedClaim(client, 'data');
    expect(c.spec!.volumeName).toBe('pv1');
    expect(c.metadata!.annotations).toEqual({ 'pv.kubernetes.io/bind-completed': 'yes', 'pv.kubernetes.io/bound-by-controller': 'yes' });
    expect(c.status).toEqual({ phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '5Gi' } });
  });

  it('binds a claim that names its volume (volumeName) without bound-by-controller on the claim', async () => {
    const { client, controller } = setup([claim('data', { volumeName: 'pv1' }), volume('pv1')]);
    await controller.sync('claim:default/data');
    expect(storedClaim(client, 'data').metadata!.annotations).toEqual({ 'pv.kubernetes.io/bind-completed': 'yes' });
    expect(storedVolume(client, 'pv1').spec!.claimRef!.uid).toBe('c-data');
  });

  it('waits for the first consumer, then hands a selected claim to the class\'s provisioner', async () => {
    const { client, controller } = setup([sc('local-path', 'WaitForFirstConsumer'), claim('data', { cls: 'local-path' })]);
    await controller.sync('claim:default/data');
    expect(reasons(client)).toEqual(['WaitForFirstConsumer']);
    expect(storedClaim(client, 'data').metadata!.annotations).toBeUndefined();
    const selected = setup([sc('local-path', 'WaitForFirstConsumer'), claim('data', { cls: 'local-path', ann: { 'volume.kubernetes.io/selected-node': 'node-1' } })]);
    await selected.controller.sync('claim:default/data');
    expect(storedClaim(selected.client, 'data').metadata!.annotations).toEqual({
      'volume.kubernetes.io/selected-node': 'node-1',
      'volume.kubernetes.io/storage-provisioner': 'rancher.io/local-path', 'volume.beta.kubernetes.io/storage-provisioner': 'rancher.io/local-path',
    });
    expect(reasons(selected.client)).toEqual(['ExternalProvisioning']);
  });

  it('says FailedBinding for a classless claim with no volume, and ProvisioningFailed for an unknown class', async () => {
    const none = setup([claim('data')]);
    await none.controller.sync('claim:default/data');
    expect(reasons(none.client)).toEqual(['FailedBinding']);
    const unknown = setup([claim('data', { cls: 'gold' })]);
    await unknown.controller.sync('claim:default/data');
    expect(reasons(unknown.client)).toEqual(['ProvisioningFailed']);
  });

  it('releases a volume whose claim is gone: Retain keeps it, Delete without a provisioner fails', async () => {
    const ref = { namespace: 'default', name: 'gone', uid: 'c-gone' };
    const keep = setup([volume('pv1', { claimRef: ref, phase: 'Bound' })]);
    await keep.controller.sync('volume:pv1');
    expect(storedVolume(keep.client, 'pv1').status!.phase).toBe('Released');
    const del = setup([volume('pv1', { claimRef: ref, phase: 'Bound', policy: 'Delete' })]);
    await del.controller.sync('volume:pv1');
    expect(storedVolume(del.client, 'pv1').status!.phase).toBe('Failed');
    expect(reasons(del.client)).toEqual(['VolumeFailedDelete']);
    const provisioned = setup([volume('pv1', { claimRef: ref, phase: 'Bound', policy: 'Delete', ann: { 'pv.kubernetes.io/provisioned-by': 'rancher.io/local-path' } })]);
    await provisioned.controller.sync('volume:pv1');
    expect(storedVolume(provisioned.client, 'pv1').status!.phase).toBe('Released');
  });

  it('marks a bound claim Lost when its volume is gone', async () => {
    const { client, controller } = setup([claim('data', { volumeName: 'pv1', phase: 'Bound', ann: { 'pv.kubernetes.io/bind-completed': 'yes' } })]);
    await controller.sync('claim:default/data');
    expect(storedClaim(client, 'data').status!.phase).toBe('Lost');
    expect(reasons(client)).toEqual(['ClaimLost']);
  });

  it('makes a volume Available again when the claim it was half-bound to went to another volume', async () => {
    const { client, controller } = setup([
      claim('data', { volumeName: 'pv2', phase: 'Bound', ann: { 'pv.kubernetes.io/bind-completed': 'yes' } }),
      volume('pv1', { claimRef: { namespace: 'default', name: 'data', uid: 'c-data' }, phase: 'Bound', ann: { 'pv.kubernetes.io/bound-by-controller': 'yes' } }),
    ]);
    await controller.sync('volume:pv1');
    const pv = storedVolume(client, 'pv1');
    expect(pv.spec!.claimRef).toBeUndefined();
    expect(pv.status!.phase).toBe('Available');
  });
});
