import { describe, expect, it } from 'vitest';
import { ENDPOINTSLICES, FakeClock, SERVICES, type EndpointSlice, type Service } from '@k8ts/api';
import { FakeInformerFactory } from '@k8ts/api/testing';
import { KubeProxy } from './kube-proxy.js';
import type { Proxier } from './proxier.js';
import type { ServiceMap } from './service-map.js';

const flush = () => new Promise((r) => setImmediate(r));

class RecordingProxier implements Proxier {
  readonly mode = 'userspace' as const;
  readonly maps: ServiceMap[] = [];
  fail = false;
  closed = false;
  async sync(map: ServiceMap) {
    if (this.fail) throw new Error('iptables-restore: exit 1');
    this.maps.push(map);
    return { rules: map.size * 10 };
  }
  async close() { this.closed = true; }
}

const web: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.96.0.20', ports: [{ port: 80 }] } };
const slice: EndpointSlice = {
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
  metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
  ports: [{ port: 8080 }], endpoints: [{ addresses: ['10.1.0.1'], conditions: { ready: true } }],
};

describe('KubeProxy', () => {
  it('syncs once the caches are synced, again on a change (after the min period), and reports metrics', async () => {
    const clock = new FakeClock();
    const informers = new FakeInformerFactory([web]);
    const proxier = new RecordingProxier();
    const proxy = new KubeProxy({ informers, proxier, clock, minSyncPeriodMs: 1000, syncPeriodMs: 30_000 });
    const ac = new AbortController();
    const running = proxy.run(ac.signal);
    await flush();
    clock.advance(0); await flush();
    expect(proxier.maps.map((m) => [...m.values()].map((sp) => sp.endpoints.length))).toEqual([[0]]);
    expect(proxy.healthy()).toBe(true);

    informers.informerFor<EndpointSlice>(ENDPOINTSLICES).add(slice);
    clock.advance(999); await flush();
    expect(proxier.maps).toHaveLength(1);
    clock.advance(1); await flush();
    expect(proxier.maps).toHaveLength(2);
    expect([...proxier.maps[1]!.values()][0]!.endpoints).toEqual([{ ip: '10.1.0.1', port: 8080, ready: true }]);

    informers.informerFor<Service>(SERVICES).delete(web);
    clock.advance(1000); await flush();
    expect(proxier.maps[2]!.size).toBe(0);
    expect(proxy.metrics).toMatchObject({ syncs: 3, syncErrors: 0, rulesWritten: 0, rulesWrittenTotal: 20 });
    expect(proxy.metricsText()).toContain('kubeproxy_sync_proxy_rules_written_total{mode="userspace"} 20');

    proxier.fail = true;
    clock.advance(30_000); await flush();
    expect(proxy.metrics.syncErrors).toBe(1);
    proxier.fail = false;
    clock.advance(30_000); await flush();
    expect(proxy.metrics.syncs).toBe(4);

    ac.abort();
    await running;
    expect(proxier.closed).toBe(true);
  });
});
