import { describe, expect, it } from 'vitest';
import { ApiError, SERVICEACCOUNTS, type KubeObject, type ServiceAccount } from '@k8ts/api';
import { FakeInformerFactory, RecordingClient } from '@k8ts/api/testing';
import { ServiceAccountsController } from './service-accounts-controller.js';

const ns = (name: string, phase = 'Active', extra: Record<string, unknown> = {}): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, uid: `ns-${name}`, ...extra }, status: { phase } }) as KubeObject;
const sa = (namespace: string, name = 'default'): ServiceAccount =>
  ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace, uid: `sa-${namespace}-${name}` } });

function setup(objects: KubeObject[]) {
  const client = new RecordingClient({ objects });
  const informers = new FakeInformerFactory(objects);
  const controller = new ServiceAccountsController({ client, informers });
  return { client, informers, controller };
}

describe('ServiceAccountsController.sync', () => {
  it('creates the default service account of an active namespace, once', async () => {
    const { client, controller, informers } = setup([ns('team')]);
    expect(controller.queue.len()).toBe(1);
    await controller.sync('team');
    expect(client.writes()).toMatchObject([{ verb: 'create', resource: 'serviceaccounts', namespace: 'team', object: { metadata: { name: 'default', namespace: 'team' } } }]);
    informers.informerFor(SERVICEACCOUNTS).add(client.stored<ServiceAccount>(SERVICEACCOUNTS, 'team', 'default')!);
    client.clearActions();
    await controller.sync('team');
    expect(client.writes()).toEqual([]);
  });

  it('recreates it when it is deleted', async () => {
    const { client, controller, informers } = setup([ns('team'), sa('team'), sa('team', 'builder')]);
    await controller.sync('team');
    expect(client.writes()).toEqual([]);
    controller.queue.done((await controller.queue.get())!);
    informers.informerFor(SERVICEACCOUNTS).delete(sa('team', 'builder'));
    expect(controller.queue.len()).toBe(0); // not one we ensure
    informers.informerFor(SERVICEACCOUNTS).delete(sa('team'));
    expect(controller.queue.len()).toBe(1);
    await client.delete(SERVICEACCOUNTS, 'team', 'default');
    await controller.sync('team');
    expect(client.writes().filter((w) => w.verb === 'create').map((w) => w.namespace)).toEqual(['team']);
  });

  it('leaves terminating namespaces alone, and takes a refusal for terminating in its stride', async () => {
    const { client, controller } = setup([ns('old', 'Terminating', { deletionTimestamp: '2026-12-01T10:00:00Z' }), ns('racing')]);
    await controller.sync('old');
    expect(client.writes()).toEqual([]);
    client.prependReactor('create', 'serviceaccounts', () => {
      throw new ApiError(403, 'Forbidden', 'serviceaccounts "default" is forbidden: unable to create new content in namespace racing because it is being terminated',
        { causes: [{ reason: 'NamespaceTerminating', message: 'namespace racing is being terminated', field: 'metadata.namespace' }] });
    });
    await expect(controller.sync('racing')).resolves.toBeUndefined();
    await controller.sync('gone');
  });
});
