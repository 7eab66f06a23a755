import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENDPOINTS, ENDPOINTSLICES, NAMESPACES, NODES, PODS, SERVICES, type Endpoints, type EndpointSlice, type Pod, type Service } from '@k8ts/api';
import { eventually, startTestApiserver, startTestControllers, type TestApiserver, type TestControllers } from './harness.js';

const NS = 'ep-test';
let s: TestApiserver;
let cm: TestControllers;

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const pod = (name: string, extra: Partial<NonNullable<Pod['spec']>> = {}): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS, labels: { app: 'web' } },
  spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'k8ts/busybox:latest', ports: [{ name: 'http', containerPort: 8080 }] }], ...extra },
});

/** Plays the kubelet: the pod runs at `ip`, Ready or not. */
async function setStatus(name: string, ip: string, ready: boolean): Promise<void> {
  await cm.client.patch(PODS, NS, name, {
    status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now() }] },
  }, 'merge', { subresource: 'status' });
}

const endpoints = (name: string) => cm.client.get<Endpoints>(ENDPOINTS, NS, name).catch(() => undefined);
const slices = async (name: string) => (await cm.client.list<EndpointSlice>(ENDPOINTSLICES, NS, { labelSelector: `kubernetes.io/service-name=${name}` })).items;
const readyIPs = (ep?: Endpoints) => (ep?.subsets ?? []).flatMap((x) => (x.addresses ?? []).map((a) => a.ip)).sort();
const notReadyIPs = (ep?: Endpoints) => (ep?.subsets ?? []).flatMap((x) => (x.notReadyAddresses ?? []).map((a) => a.ip)).sort();

describe('endpoint and endpointslice controllers against a real apiserver', () => {
  beforeAll(async () => {
    s = await startTestApiserver();
    cm = await startTestControllers(s.url, ['endpoint', 'endpointslice', 'garbagecollector', 'service-lb-controller']);
    await cm.client.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  }, 60_000);

  afterAll(async () => {
    await cm?.stop();
    await s?.stop();
  });

  it('lists ready and unready pods, follows a readiness change within a second, and drops deleted pods', async () => {
    const svc = await cm.client.create<Service>(SERVICES, NS, {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: NS },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    });
    for (const n of ['a', 'b', 'c']) await cm.client.create(PODS, NS, pod(n));
    await setStatus('a', '10.244.1.2', true);
    await setStatus('b', '10.244.1.3', true);
    await setStatus('c', '10.244.1.4', false);

    const ep = await eventually(async () => {
      const e = await endpoints('web');
      return readyIPs(e).length === 2 && notReadyIPs(e).length === 1 ? e : undefined;
    }, 'Endpoints with 2 ready and 1 unready');
    expect(readyIPs(ep)).toEqual(['10.244.1.2', '10.244.1.3']);
    expect(notReadyIPs(ep)).toEqual(['10.244.1.4']);
    expect(ep!.subsets![0].ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(ep!.metadata!.annotations!['endpoints.kubernetes.io/last-change-trigger-time']).toMatch(/^\d{4}-\d\d-\d\dT/);

    const [slice] = await eventually(async () => {
      const l = await slices('web');
      return l.length === 1 && l[0].endpoints?.length === 3 ? l : undefined;
    }, 'one slice with 3 endpoints');
    expect(slice.metadata!.labels!['endpointslice.kubernetes.io/managed-by']).toBe('endpointslice-controller.k8s.io');
    expect(slice.metadata!.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: svc.metadata!.uid, controller: true, blockOwnerDeletion: true }]);
    expect(slice.addressType).toBe('IPv4');
    expect(slice.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    const c = slice.endpoints!.find((e) => e.targetRef?.name === 'c')!;
    expect(c).toMatchObject({ addresses: ['10.244.1.4'], nodeName: 'node-1', conditions: { ready: false, serving: false, terminating: false } });

    // c turns Ready: both objects follow within a second.
    const t0 = Date.now();
    await setStatus('c', '10.244.1.4', true);
    await eventually(async () => readyIPs(await endpoints('web')).length === 3, 'Endpoints with 3 ready', 1000);
    const endpointsMs = Date.now() - t0;
    await eventually(async () => (await slices('web'))[0]?.endpoints?.every((e) => e.conditions?.ready) === true, 'slice all ready', 1000);
    const slicesMs = Date.now() - t0;
    console.log(`readiness → Endpoints ${endpointsMs} ms, → EndpointSlice ${slicesMs} ms`);

    await cm.client.delete(PODS, NS, 'a', { gracePeriodSeconds: 0 });
    await eventually(async () => readyIPs(await endpoints('web')).join() === '10.244.1.3,10.244.1.4', 'a removed from Endpoints');
    await eventually(async () => (await slices('web'))[0]?.endpoints?.length === 2, 'a removed from the slice');
  });

  it('publishes hostnames of a headless Service\'s pods and leaves the kubernetes Service\'s Endpoints to the apiserver', async () => {
    await cm.client.create(SERVICES, NS, {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'db', namespace: NS },
      spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ name: 'pg', port: 5432 }] },
    });
    await cm.client.create(PODS, NS, { ...pod('db-0', { hostname: 'db-0', subdomain: 'db' }), metadata: { name: 'db-0', namespace: NS, labels: { app: 'db' } } });
    await setStatus('db-0', '10.244.1.9', true);
    const ep = await eventually(async () => { const e = await endpoints('db'); return readyIPs(e).length === 1 ? e : undefined; }, 'db Endpoints');
    expect(ep!.subsets![0].addresses![0]).toMatchObject({ ip: '10.244.1.9', hostname: 'db-0' });
    expect(ep!.metadata!.labels).toMatchObject({ 'service.kubernetes.io/headless': '' });
    const [slice] = await eventually(async () => { const l = await slices('db'); return l[0]?.endpoints?.length === 1 ? l : undefined; }, 'db slice');
    expect(slice.endpoints![0].hostname).toBe('db-0');

    const kube = await cm.client.get<Endpoints>(ENDPOINTS, 'default', 'kubernetes');
    expect(readyIPs(kube)).toHaveLength(1);
    expect(kube.metadata!.annotations?.['endpoints.kubernetes.io/last-change-trigger-time']).toBeUndefined();
    const managed = (await cm.client.list<EndpointSlice>(ENDPOINTSLICES, 'default', { labelSelector: 'endpointslice.kubernetes.io/managed-by=endpointslice-controller.k8s.io' })).items;
    expect(managed).toEqual([]);
  });

  it('deletes the Endpoints of a deleted Service; the garbage collector takes its slices', async () => {
    await cm.client.delete(SERVICES, NS, 'web');
    await eventually(async () => (await endpoints('web')) === undefined, 'Endpoints web deleted');
    await eventually(async () => (await slices('web')).length === 0, 'slices of web deleted');
  });

  it('gives a LoadBalancer Service node ports and the Ready node\'s address as ingress (k3s\'s ServiceLB)', async () => {
    await cm.client.create(NODES, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' } });
    await cm.client.patch(NODES, undefined, 'node-1', {
      status: { conditions: [{ type: 'Ready', status: 'True' }], addresses: [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: 'node-1' }] },
    }, 'merge', { subresource: 'status' });
    const lb = await cm.client.create<Service>(SERVICES, NS, {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'lb', namespace: NS },
      spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] },
    });
    expect(lb.spec!.ports![0].nodePort).toBeGreaterThanOrEqual(30000);
    const got = await eventually(async () => {
      const x = await cm.client.get<Service>(SERVICES, NS, 'lb');
      return x.status?.loadBalancer?.ingress?.length ? x : undefined;
    }, 'ingress set');
    expect(got.status!.loadBalancer!.ingress).toEqual([{ ip: '127.0.0.1' }]);
    await cm.client.patch(SERVICES, NS, 'lb', { spec: { type: 'NodePort' } }, 'merge');
    await eventually(async () => !(await cm.client.get<Service>(SERVICES, NS, 'lb')).status?.loadBalancer?.ingress, 'ingress cleared');
  });
});
