import { describe, expect, it } from 'vitest';
import type { EndpointSlice, Service } from '@k8ts/api';
import { buildServiceMap } from './service-map.js';
import { parseExisting, renderCleanup, renderRules, svcChain } from './iptables-rules.js';

const svc = (name: string, spec: Service['spec']): Service => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'ns1' }, spec });
const slice = (svcName: string, port: number, ips: string[], notReady: string[] = []): EndpointSlice => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
  metadata: { name: `${svcName}-x`, namespace: 'ns1', labels: { 'kubernetes.io/service-name': svcName } },
  ports: [{ name: 'p80', port, protocol: 'TCP' }],
  endpoints: [...ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })), ...notReady.map((ip) => ({ addresses: [ip], conditions: { ready: false } }))],
});
const opts = { nodePortAddresses: ['127.0.0.1', '127.0.1.1'], serviceCIDR: '10.96.0.0/12' };

describe('renderRules (golden files)', () => {
  it('a NodePort service with three endpoints, a ClusterIP one with ClientIP affinity, one with no ready endpoint', async () => {
    const map = buildServiceMap([
      svc('web', { clusterIP: '10.96.0.20', type: 'NodePort', ports: [{ name: 'p80', port: 80, nodePort: 30080 }] }),
      svc('sticky', { clusterIP: '10.96.0.21', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } }, ports: [{ name: 'p80', port: 80 }] }),
      svc('empty', { clusterIP: '10.96.0.22', type: 'NodePort', ports: [{ name: 'p80', port: 80, nodePort: 30081 }] }),
    ], [slice('web', 8080, ['172.17.0.3', '172.17.0.4', '172.17.0.5']), slice('sticky', 8080, ['172.17.0.6', '172.17.0.7']), slice('empty', 8080, [], ['172.17.0.8'])]);
    const { text, rules } = renderRules(map, opts);
    await expect(text).toMatchFileSnapshot('./testdata/three-services.golden');
    expect(rules).toBe(text.split('\n').filter((l) => l.startsWith('-A ')).length);
  });

  it('masquerades off-cluster ClusterIP traffic with --cluster-cidr, and removes stale chains without re-adding jumps', async () => {
    const map = buildServiceMap([svc('web', { clusterIP: '10.96.0.20', ports: [{ name: 'p80', port: 80 }] })], [slice('web', 8080, ['172.17.0.3'])]);
    const existing = parseExisting([
      '*nat', ':PREROUTING ACCEPT [0:0]', ':KUBE-SERVICES - [0:0]', ':KUBE-SVC-GONEGONEGONEGONE - [0:0]', ':KUBE-SEP-GONEGONEGONEGONE - [0:0]', ':DOCKER - [0:0]',
      '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING', 'COMMIT',
    ].join('\n'), '*filter\nCOMMIT\n');
    const { text } = renderRules(map, { nodePortAddresses: ['127.0.0.1'], serviceCIDR: '10.96.0.0/12', clusterCIDR: '172.16.0.0/12' }, existing);
    await expect(text).toMatchFileSnapshot('./testdata/cluster-cidr-stale.golden');
    expect(text).toContain('-X KUBE-SVC-GONEGONEGONEGONE');
    expect(text).not.toContain('-X DOCKER');
    expect(text.split('*nat')[1]).not.toContain('-I ');
  });

  it('names chains as upstream (sha256 of the service port name and protocol, base32, 16 characters)', () => {
    const map = buildServiceMap([svc('svc1', { clusterIP: '172.30.0.41', ports: [{ name: 'p80', port: 80 }] })], []);
    // Upstream's golden tests: ns1/svc1:p80 tcp → KUBE-SVC-XPGD46QRK7WJZT7O.
    expect(svcChain([...map.values()][0]!)).toBe('KUBE-SVC-XPGD46QRK7WJZT7O');
  });

  it('removes extra copies of a jump (two kube-proxies started at once), and cleanup deletes every copy', () => {
    const jump = '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES';
    const existing = parseExisting(['*nat', ':KUBE-SERVICES - [0:0]', jump, jump, jump, 'COMMIT'].join('\n'), '');
    const { text } = renderRules(new Map(), { nodePortAddresses: [], serviceCIDR: '10.96.0.0/12' }, existing);
    const nat = text.split('*nat')[1]!;
    expect(nat.match(/^-D PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES$/gm)).toHaveLength(2);
    expect(nat).not.toContain('-I PREROUTING');
    expect(renderCleanup(existing).match(/^-D PREROUTING /gm)).toHaveLength(3);
  });

  it('cleanup deletes the jumps and every chain it owns, and nothing else', async () => {
    const existing = parseExisting([
      '*nat', ':OUTPUT ACCEPT [0:0]', ':KUBE-SERVICES - [0:0]', ':KUBE-MARK-MASQ - [0:0]', ':KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]', ':DOCKER - [0:0]',
      '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES', '-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER', 'COMMIT',
    ].join('\n'), ['*filter', ':KUBE-FIREWALL - [0:0]', ':DOCKER-USER - [0:0]', '-A INPUT -j KUBE-FIREWALL', 'COMMIT'].join('\n'));
    await expect(renderCleanup(existing)).toMatchFileSnapshot('./testdata/cleanup.golden');
  });
});
