import { describe, expect, it } from 'vitest';
import { ENDPOINTSLICES, PODS, type EndpointSlice, type Node, type Pod, type Service } from '@k8ts/api';
import { FakeClock, FakeInformerFactory, RecordingClient } from '@k8ts/api/testing';
import { pod, service } from '../endpoint/endpoints.fixtures.js';
import { LAST_CHANGE_TRIGGER_TIME } from '../endpoint-util.js';
import { EndpointSliceController, StaleInformerCacheError } from './endpoint-slice-controller.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const node = (name: string, zone: string): Node => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'topology.kubernetes.io/zone': zone } } });

function setup(objects: (Service | Pod | Node | EndpointSlice)[], max?: number) {
  const clock = new FakeClock(T0);
  const client = new RecordingClient({ objects, clock });
  const informers = new FakeInformerFactory(objects);
  const controller = new EndpointSliceController({ client, informers, clock, maxEndpointsPerSlice: max });
  /** Lets the slice cache see what the client now stores (the informer catching up). */
  const catchUp = async () => {
    const inf = informers.informerFor<EndpointSlice>(ENDPOINTSLICES);
    const now = (await client.list<EndpointSlice>(ENDPOINTSLICES, 'default')).items;
    for (const s of inf.list()) if (!now.some((n) => n.metadata!.name === s.metadata!.name)) inf.delete(s);
    for (const s of now) if (inf.get(`default/${s.metadata!.name}`)) inf.update(s); else inf.add(s);
  };
  return { client, informers, controller, catchUp };
}

const slicesOf = async (c: RecordingClient) => (await c.list<EndpointSlice>(ENDPOINTSLICES, 'default')).items;
const verbs = (c: RecordingClient) => c.writes().filter((w) => w.resource === 'endpointslices').map((w) => w.verb);

describe('EndpointSliceController.sync', () => {
  it('writes one slice per Service: labels, owner, IPv4, ports, and per pod conditions, nodeName, zone, targetRef', async () => {
    const { client, controller, catchUp } = setup([
      service('web', {}, { tier: 'fe' }), node('node-1', 'zone-a'),
      pod('a', { ip: '10.244.0.2' }), pod('b', { ip: '10.244.0.3', ready: false }), pod('t', { ip: '10.244.0.4', deleting: true }),
      pod('noip', { ip: null }), pod('done', { phase: 'Failed' }),
    ]);
    await controller.sync('default/web');
    const [slice, ...more] = await slicesOf(client);
    expect(more).toEqual([]);
    expect(slice.metadata).toMatchObject({
      generateName: 'web-',
      labels: { tier: 'fe', 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'svc-web', controller: true, blockOwnerDeletion: true }],
      annotations: { [LAST_CHANGE_TRIGGER_TIME]: '2026-12-01T09:59:00Z' },
    });
    expect(slice.addressType).toBe('IPv4');
    expect(slice.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    const byName = Object.fromEntries(slice.endpoints!.map((e) => [e.targetRef!.name, e]));
    expect(Object.keys(byName).sort()).toEqual(['a', 'b', 't']);
    expect(byName.a).toEqual({
      addresses: ['10.244.0.2'], conditions: { ready: true, serving: true, terminating: false },
      targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' }, nodeName: 'node-1', zone: 'zone-a',
    });
    expect(byName.b.conditions).toEqual({ ready: false, serving: false, terminating: false });
    expect(byName.t.conditions).toEqual({ ready: false, serving: true, terminating: true });

    // Before the cache has the slice, syncing again would make a second one: it waits instead.
    client.clearActions();
    await expect(controller.sync('default/web')).rejects.toBeInstanceOf(StaleInformerCacheError);
    expect(client.writes()).toEqual([]);
    await catchUp();
    await controller.sync('default/web');
    expect(client.writes()).toEqual([]);
  });

  it('publishNotReadyAddresses makes every endpoint ready, terminating ones too', async () => {
    const { client, controller } = setup([service('web', { publishNotReadyAddresses: true }), pod('b', { ready: false }), pod('t', { deleting: true })]);
    await controller.sync('default/web');
    expect((await slicesOf(client))[0].endpoints!.map((e) => e.conditions!.ready)).toEqual([true, true]);
  });

  it('keeps at most 100 endpoints per slice and changes as few slices as it can', async () => {
    const pods = Array.from({ length: 250 }, (_, i) => pod(`p${i}`, { ip: `10.244.${Math.floor(i / 200)}.${(i % 200) + 1}` }));
    const { client, informers, controller, catchUp } = setup([service('web'), ...pods]);
    await controller.sync('default/web');
    expect((await slicesOf(client)).map((s) => s.endpoints!.length).sort()).toEqual([100, 100, 50]);
    await catchUp();
    // One pod turns unready: only its slice is written.
    client.clearActions();
    const unready = pod('p7', { ip: pods[7].status!.podIP!, ready: false });
    informers.informerFor<Pod>(PODS).update(unready);
    await controller.sync('default/web');
    expect(verbs(client)).toEqual(['update']);
    await catchUp();
    // 20 pods go: their slices shrink, none is created.
    client.clearActions();
    for (const p of pods.slice(0, 20)) informers.informerFor<Pod>(PODS).delete(p);
    await controller.sync('default/web');
    expect(verbs(client).every((v) => v === 'update')).toBe(true);
    expect((await slicesOf(client)).reduce((n, s) => n + s.endpoints!.length, 0)).toBe(230);
    await catchUp();
    // 10 new pods fill an existing slice instead of making a new one.
    client.clearActions();
    for (let i = 0; i < 10; i++) informers.informerFor<Pod>(PODS).add(pod(`n${i}`, { ip: `10.244.9.${i + 1}` }));
    await controller.sync('default/web');
    expect(verbs(client)).toEqual(['update']);
    const sizes = (await slicesOf(client)).map((s) => s.endpoints!.length);
    expect(sizes).toHaveLength(3);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(100);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(240);
  });

  it('keeps an empty placeholder slice for a Service with no pods, and fills it in place when pods come', async () => {
    const { client, informers, controller, catchUp } = setup([service('web')]);
    await controller.sync('default/web');
    const [placeholder] = await slicesOf(client);
    expect(placeholder).toMatchObject({ addressType: 'IPv4', ports: [], endpoints: [] });
    await catchUp();
    client.clearActions();
    await controller.sync('default/web');
    expect(client.writes()).toEqual([]);
    informers.informerFor<Pod>(PODS).add(pod('a', { ip: '10.244.0.2' }));
    await controller.sync('default/web');
    expect(verbs(client)).toEqual(['update']);
    const [slice] = await slicesOf(client);
    expect(slice.metadata!.name).toBe(placeholder.metadata!.name);
    expect(slice.endpoints!.map((e) => e.addresses[0])).toEqual(['10.244.0.2']);
  });

  it('puts pods that resolve a named port differently in different slices', async () => {
    const { client, controller } = setup([
      service('web', { ports: [{ name: 'http', port: 80, targetPort: 'web', protocol: 'TCP' }] }),
      pod('a', { ports: [{ name: 'web', containerPort: 8080 }] }), pod('b', { ports: [{ name: 'web', containerPort: 9090 }] }),
    ]);
    await controller.sync('default/web');
    const slices = await slicesOf(client);
    expect(slices.map((s) => `${s.ports![0].port}:${s.endpoints!.map((e) => e.targetRef!.name).join()}`).sort()).toEqual(['8080:a', '9090:b']);
  });

  it('gives a headless Service\'s pods their hostname when their subdomain is the Service', async () => {
    const { client, controller } = setup([
      service('db', { clusterIP: 'None', ports: [], selector: { app: 'web' } }),
      pod('db-0', { hostname: 'db-0', subdomain: 'db' }), pod('x', { hostname: 'x', subdomain: 'other' }),
    ]);
    await controller.sync('default/db');
    const [slice] = await slicesOf(client);
    expect(slice.metadata!.labels!['service.kubernetes.io/headless']).toBe('');
    expect(slice.ports).toEqual([]);
    expect(Object.fromEntries(slice.endpoints!.map((e) => [e.targetRef!.name, e.hostname]))).toEqual({ 'db-0': 'db-0', x: undefined });
  });

  it('deletes slices of an earlier Service of the same name, and leaves selector-less and ExternalName Services alone', async () => {
    const old: EndpointSlice = {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4', endpoints: [], ports: [],
      metadata: {
        name: 'web-old', namespace: 'default', resourceVersion: '2',
        labels: { 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'an-older-uid', controller: true }],
      },
    };
    const { client, controller } = setup([service('web'), old, pod('a'), service('kubernetes', { selector: undefined }), service('ext', { type: 'ExternalName', externalName: 'example.com' })]);
    await controller.sync('default/kubernetes');
    await controller.sync('default/ext');
    expect(client.writes()).toEqual([]);
    await controller.sync('default/web');
    expect(verbs(client)).toEqual(['create', 'delete']);
    expect((await slicesOf(client)).map((s) => s.metadata!.ownerReferences![0].uid)).toEqual(['svc-web']);
  });
});
