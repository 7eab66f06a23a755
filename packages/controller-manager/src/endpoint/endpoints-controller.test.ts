import { describe, expect, it, vi } from 'vitest';
import { ENDPOINTS, PODS, type Endpoints, type Pod, type Service } from '@k8ts/api';
import { FakeClock, FakeInformerFactory, RecordingClient } from '@k8ts/api/testing';
import { LAST_CHANGE_TRIGGER_TIME } from '../endpoint-util.js';
import { EndpointsController, repackSubsets } from './endpoints-controller.js';
import { pod, service } from './endpoints.fixtures.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');

function setup(objects: (Service | Pod | Endpoints)[]) {
  const clock = new FakeClock(T0);
  const client = new RecordingClient({ objects, clock });
  const informers = new FakeInformerFactory(objects);
  const controller = new EndpointsController({ client, informers, clock });
  return { client, informers, controller };
}

const stored = (c: RecordingClient, name = 'web') => c.stored<Endpoints>(ENDPOINTS, 'default', name);

describe('EndpointsController.sync', () => {
  it('lists ready pods in addresses and unready ones in notReadyAddresses, with targetRef and nodeName', async () => {
    const a = pod('a', { ip: '10.244.0.2' });
    const b = pod('b', { ip: '10.244.0.3', ready: false, node: 'node-2' });
    const { client, controller, informers } = setup([service('web', {}, { tier: 'fe' }), a, b, pod('noip', { ip: null }), pod('done', { phase: 'Succeeded' }), pod('gone', { deleting: true }), pod('other', { labels: { app: 'db' } })]);
    await controller.sync('default/web');
    const ep = stored(client)!;
    expect(ep.subsets).toEqual([{
      addresses: [{ ip: '10.244.0.2', nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' } }],
      notReadyAddresses: [{ ip: '10.244.0.3', nodeName: 'node-2', targetRef: { kind: 'Pod', namespace: 'default', name: 'b', uid: 'uid-b' } }],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    }]);
    expect(ep.metadata!.labels).toEqual({ tier: 'fe' });
    // The earliest change seen by this first sync: the Service's creation.
    expect(ep.metadata!.annotations![LAST_CHANGE_TRIGGER_TIME]).toBe('2026-12-01T09:59:00Z');
    // Until the cache has seen the new Endpoints, a create fails (AlreadyExists) and the sync is retried.
    await expect(controller.sync('default/web')).rejects.toThrow(/already exists/);
    informers.informerFor<Endpoints>(ENDPOINTS).add(ep);
    client.clearActions();
    await controller.sync('default/web');
    expect(client.writes()).toEqual([]);
  });

  it('moves a pod to addresses when it turns ready, stamping the readiness change as trigger time', async () => {
    const b = pod('b', { ip: '10.244.0.3', ready: false });
    const { client, controller, informers } = setup([service('web'), b]);
    await controller.sync('default/web');
    informers.informerFor<Endpoints>(ENDPOINTS).add(stored(client)!);
    const ready = pod('b', { ip: '10.244.0.3', ready: true, readyAt: T0 });
    const added = vi.spyOn(controller.queue, 'add');
    informers.informerFor<Pod>(PODS).update(ready);
    expect(added).toHaveBeenCalledWith('default/web');
    await controller.sync('default/web');
    const ep = stored(client)!;
    expect(ep.subsets![0].addresses!.map((x) => x.ip)).toEqual(['10.244.0.3']);
    expect(ep.subsets![0].notReadyAddresses).toBeUndefined();
    expect(ep.metadata!.annotations![LAST_CHANGE_TRIGGER_TIME]).toBe('2026-12-01T10:00:00Z');
  });

  it('publishNotReadyAddresses puts every pod, terminating ones too, in addresses', async () => {
    const { client, controller } = setup([service('web', { publishNotReadyAddresses: true }), pod('a', { ip: '10.244.0.2', ready: false }), pod('t', { ip: '10.244.0.9', deleting: true })]);
    await controller.sync('default/web');
    expect(stored(client)!.subsets![0].addresses!.map((x) => x.ip)).toEqual(['10.244.0.2', '10.244.0.9']);
  });

  it('resolves a named targetPort per pod, one subset per port set, and serves several ports', async () => {
    const svc = service('web', { ports: [{ name: 'http', port: 80, targetPort: 'web', protocol: 'TCP' }, { name: 'metrics', port: 9100, targetPort: 9100, protocol: 'TCP' }] });
    const { client, controller } = setup([
      svc,
      pod('a', { ip: '10.244.0.2', ports: [{ name: 'web', containerPort: 8080 }] }),
      pod('b', { ip: '10.244.0.3', ports: [{ name: 'web', containerPort: 8081 }] }),
      pod('c', { ip: '10.244.0.4' }), // no port named web: only metrics
    ]);
    await controller.sync('default/web');
    const subsets = stored(client)!.subsets!.map((s) => ({ ips: s.addresses!.map((x) => x.ip), ports: s.ports!.map((p) => `${p.name}:${p.port}`) }));
    expect(subsets).toEqual(expect.arrayContaining([
      { ips: ['10.244.0.2'], ports: ['http:8080', 'metrics:9100'] },
      { ips: ['10.244.0.3'], ports: ['http:8081', 'metrics:9100'] },
      { ips: ['10.244.0.4'], ports: ['metrics:9100'] },
    ]));
    expect(subsets).toHaveLength(3);
  });

  it('gives pods whose subdomain is the headless Service their hostname, and lists them without ports', async () => {
    const { client, controller } = setup([
      service('db', { clusterIP: 'None', ports: [] }),
      pod('db-0', { ip: '10.244.0.5', hostname: 'db-0', subdomain: 'db' }),
      pod('x', { ip: '10.244.0.6', hostname: 'x', subdomain: 'other' }),
    ]);
    await controller.sync('default/db');
    const ep = stored(client, 'db')!;
    expect(ep.metadata!.labels).toEqual({ 'service.kubernetes.io/headless': '' });
    expect(ep.subsets).toEqual([{ addresses: [
      expect.objectContaining({ ip: '10.244.0.5', hostname: 'db-0' }),
      expect.not.objectContaining({ hostname: expect.anything() }),
    ] }]);
  });

  it('leaves services without a selector (the kubernetes Service) and ExternalName services alone', async () => {
    const kubernetes = service('kubernetes', { selector: undefined, ports: [{ name: 'https', port: 443, targetPort: 6443, protocol: 'TCP' }] });
    const theirs: Endpoints = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'kubernetes', namespace: 'default', resourceVersion: '3' }, subsets: [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'https', port: 6443 }] }] };
    const { client, controller } = setup([kubernetes, theirs, service('ext', { type: 'ExternalName', externalName: 'example.com' }), pod('a')]);
    await controller.sync('default/kubernetes');
    await controller.sync('default/ext');
    expect(client.writes()).toEqual([]);
  });

  it('deletes the Endpoints of a deleted Service, and does nothing when they are gone too', async () => {
    const ep: Endpoints = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'web', namespace: 'default', resourceVersion: '3' } };
    const { client, controller } = setup([ep]);
    await controller.sync('default/web');
    expect(client.writes().map((w) => `${w.verb} ${w.resource} ${w.name}`)).toEqual(['delete endpoints web']);
    await controller.sync('default/web');
    expect(stored(client)).toBeUndefined();
  });

  it('queues the services selecting a pod only when what its endpoint shows changes', async () => {
    const a = pod('a', { ip: '10.244.0.2' });
    const { controller, informers } = setup([service('web'), service('db', { selector: { app: 'db' } }), a]);
    const added = vi.spyOn(controller.queue, 'add');
    const pods = informers.informerFor<Pod>(PODS);
    pods.update({ ...a, metadata: { ...a.metadata, resourceVersion: '900', annotations: { x: 'y' } } });
    expect(added).not.toHaveBeenCalled();
    pods.update({ ...a, metadata: { ...a.metadata, resourceVersion: '901', labels: { app: 'db' } } });
    expect(added.mock.calls.map(([k]) => k).sort()).toEqual(['default/db', 'default/web']);
    added.mockClear();
    pods.update({ ...a, metadata: { ...a.metadata, resourceVersion: '902', labels: { app: 'db' } }, status: { ...a.status, conditions: [{ type: 'Ready', status: 'False' }] } });
    expect(added.mock.calls.map(([k]) => k)).toEqual(['default/db']);
  });
});

describe('repackSubsets', () => {
  it('groups addresses by their port set, sorted', () => {
    const port = { name: 'http', port: 80, protocol: 'TCP' };
    const out = repackSubsets([
      { address: { ip: '10.0.0.3' }, ready: true, port },
      { address: { ip: '10.0.0.1' }, ready: true, port },
      { address: { ip: '10.0.0.2' }, ready: false, port },
    ]);
    expect(out).toEqual([{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.3' }], notReadyAddresses: [{ ip: '10.0.0.2' }], ports: [port] }]);
  });
});
