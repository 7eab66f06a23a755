import { describe, expect, it } from 'vitest';
import { NODES, SERVICES, type Node, type Service } from '@k8ts/api';
import { FakeInformerFactory, RecordingClient } from '@k8ts/api/testing';
import { loadBalancerIngress, ServiceLBController } from './service-lb-controller.js';

const node = (name: string, ip: string, o: { ready?: boolean; external?: string } = {}): Node => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name, resourceVersion: '1' },
  status: {
    conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
    addresses: [{ type: 'InternalIP', address: ip }, ...(o.external ? [{ type: 'ExternalIP', address: o.external }] : []), { type: 'Hostname', address: name }],
  },
});
const svc = (name: string, spec: Service['spec'], status: Service['status'] = { loadBalancer: {} }): Service => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default', uid: `u-${name}`, resourceVersion: '3' },
  spec: { ports: [{ port: 80, nodePort: 30080 }], clusterIP: '10.96.5.5', ...spec }, status,
});

function setup(objects: (Node | Service)[]) {
  const client = new RecordingClient({ objects });
  const informers = new FakeInformerFactory(objects);
  return { client, informers, controller: new ServiceLBController({ client, informers }) };
}
const status = (c: RecordingClient, name: string) => c.stored<Service>(SERVICES, 'default', name)!.status;

describe('ServiceLBController.sync', () => {
  it('sets a LoadBalancer\'s ingress to the Ready nodes\' addresses (ExternalIP before InternalIP), once', async () => {
    const { client, controller, informers } = setup([
      node('n2', '172.20.0.3'), node('n1', '172.20.0.2', { external: '192.0.2.10' }), node('down', '172.20.0.9', { ready: false }),
      svc('lb', { type: 'LoadBalancer' }),
    ]);
    await controller.sync('default/lb');
    expect(status(client, 'lb')).toEqual({ loadBalancer: { ingress: [{ ip: '172.20.0.3' }, { ip: '192.0.2.10' }] } });
    expect(client.writes().map((w) => `${w.verb} ${w.subresource}`)).toEqual(['update status']);
    informers.informerFor<Service>(SERVICES).update(client.stored<Service>(SERVICES, 'default', 'lb')!);
    client.clearActions();
    await controller.sync('default/lb');
    expect(client.writes()).toEqual([]);
  });

  it('clears the ingress of a Service that is no longer a LoadBalancer, and leaves other classes\' alone', async () => {
    const { client, controller } = setup([
      node('n1', '172.20.0.2'),
      svc('was', { type: 'NodePort' }, { loadBalancer: { ingress: [{ ip: '172.20.0.2' }] } }),
      svc('metal', { type: 'LoadBalancer', loadBalancerClass: 'example.com/metal' }),
      svc('plain', { type: 'ClusterIP' }),
    ]);
    for (const k of ['was', 'metal', 'plain']) await controller.sync(`default/${k}`);
    expect(client.writes().map((w) => w.name)).toEqual(['was']);
    expect(status(client, 'was')).toEqual({ loadBalancer: {} });
  });

  it('queues every LoadBalancer when a node\'s address or readiness changes', () => {
    const n1 = node('n1', '172.20.0.2');
    const { controller, informers } = setup([n1, svc('lb', { type: 'LoadBalancer' }), svc('np', { type: 'NodePort' })]);
    const added: string[] = [];
    const orig = controller.queue.add.bind(controller.queue);
    controller.queue.add = (k: string) => { added.push(k); orig(k); };
    informers.informerFor<Node>(NODES).update({ ...n1, metadata: { ...n1.metadata, resourceVersion: '2', labels: { a: 'b' } } });
    expect(added).toEqual([]);
    informers.informerFor<Node>(NODES).update(node('n1', '172.20.0.7'));
    expect(added).toEqual(['default/lb']);
    expect(loadBalancerIngress([node('n1', '172.20.0.7')])).toEqual([{ ip: '172.20.0.7' }]);
  });
});
