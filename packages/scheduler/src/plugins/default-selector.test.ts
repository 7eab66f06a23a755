import { describe, expect, it } from 'vitest';
import { matchesLabels, type KubeObjectLike, type Pod } from '@k8ts/api';
import { FakeInformerFactory } from '@k8ts/api/testing';
import { defaultSelector, spreadListers } from './default-selector.js';
import { defaultConstraints } from './pod-topology-spread.js';

const labels = { app: 'web', tier: 'front', 'pod-template-hash': 'h1' };
const owned = (kind: string, apiVersion: string, name: string, extra: Record<string, string> = {}): Pod => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'p', namespace: 'ns', uid: 'u', labels: { ...labels, ...extra }, ownerReferences: [{ apiVersion, kind, name, uid: `${name}-uid`, controller: true }] },
  spec: { containers: [] },
});
const bare = (l: Record<string, string> = labels): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', uid: 'u', labels: l }, spec: { containers: [] } });
const service = (name: string, selector: Record<string, string> | undefined, namespace = 'ns'): KubeObjectLike =>
  ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { selector } } as KubeObjectLike);
const rs = (name: string, matchLabels: Record<string, string>): KubeObjectLike =>
  ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name, namespace: 'ns' }, spec: { selector: { matchLabels } } } as KubeObjectLike);
const sts = (name: string, matchLabels: Record<string, string>): KubeObjectLike =>
  ({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name, namespace: 'ns' }, spec: { selector: { matchLabels } } } as KubeObjectLike);
const rc = (name: string, selector: Record<string, string>): KubeObjectLike =>
  ({ apiVersion: 'v1', kind: 'ReplicationController', metadata: { name, namespace: 'ns' }, spec: { selector } } as KubeObjectLike);

/** The selector as sorted `key=value` strings (every requirement here is an equality). */
const show = (pod: Pod, objects: KubeObjectLike[]) =>
  defaultSelector(pod, spreadListers(new FakeInformerFactory(objects))).map((r) => `${r.key}${r.operator}${r.values.join(',')}`).sort();

describe('defaultSelector (upstream helper.DefaultSelector)', () => {
  it.each([
    ['a Service selecting the pod', bare(), [service('web', { app: 'web' })], ['app=web']],
    ['two Services: their selectors merged', bare(), [service('web', { app: 'web' }), service('front', { tier: 'front' })], ['app=web', 'tier=front']],
    ['a Service that does not select the pod', bare(), [service('api', { app: 'api' })], []],
    ['a Service without a selector selects nothing', bare(), [service('ext', undefined)], []],
    ['a Service of another namespace', bare(), [service('web', { app: 'web' }, 'other')], []],
    ['its ReplicaSet', owned('ReplicaSet', 'apps/v1', 'web-h1'), [rs('web-h1', { app: 'web', 'pod-template-hash': 'h1' })], ['app=web', 'pod-template-hash=h1']],
    ['its ReplicaSet and a Service', owned('ReplicaSet', 'apps/v1', 'web-h1'), [rs('web-h1', { 'pod-template-hash': 'h1' }), service('web', { app: 'web' })], ['app=web', 'pod-template-hash=h1']],
    ['its ReplicaSet, not in the cache', owned('ReplicaSet', 'apps/v1', 'gone'), [rs('web-h1', { app: 'web' })], []],
    ['its ReplicationController', owned('ReplicationController', 'v1', 'web-rc'), [rc('web-rc', { app: 'web', tier: 'front' })], ['app=web', 'tier=front']],
    ['its StatefulSet', owned('StatefulSet', 'apps/v1', 'db'), [sts('db', { app: 'web' })], ['app=web']],
    ['an owner of another kind (a Job)', owned('Job', 'batch/v1', 'web-job'), [rs('web-job', { app: 'web' })], []],
    ['nothing selects it', bare(), [], []],
  ] as [string, Pod, KubeObjectLike[], string[]][])('%s', (_name, pod, objects, expected) => {
    expect(show(pod, objects)).toEqual(expected);
  });

  it('gives default spreading constraints only to a pod something selects, counting the pods that selector matches', () => {
    const informers = new FakeInformerFactory([rs('web-h1', { app: 'web', 'pod-template-hash': 'h1' })]);
    const listers = spreadListers(informers);
    const [host, zone] = defaultConstraints(owned('ReplicaSet', 'apps/v1', 'web-h1'), listers);
    expect([host.topologyKey, host.maxSkew, zone.topologyKey, zone.maxSkew]).toEqual(['kubernetes.io/hostname', 3, 'topology.kubernetes.io/zone', 5]);
    // Selected by labels, whoever owns them; same namespace; not terminating.
    expect(host.selects(bare())).toBe(true);
    expect(host.selects(bare({ app: 'web', 'pod-template-hash': 'h2' }))).toBe(false);
    expect(host.selects({ ...bare(), metadata: { ...bare().metadata, namespace: 'other' } })).toBe(false);
    expect(host.selects({ ...bare(), metadata: { ...bare().metadata, deletionTimestamp: '2024-01-01T00:00:00Z' } })).toBe(false);
    // A pod sharing labels with others but selected by nothing gets no default constraint (k8ts once counted them).
    expect(defaultConstraints(bare(), listers)).toEqual([]);
    // No listers (a scheduler without informers): none either.
    expect(defaultConstraints(owned('ReplicaSet', 'apps/v1', 'web-h1'), undefined)).toEqual([]);
    expect(matchesLabels(defaultSelector(owned('ReplicaSet', 'apps/v1', 'web-h1'), listers), labels)).toBe(true);
  });
});
