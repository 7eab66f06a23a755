import { describe, expect, it } from 'vitest';
import type { Pod } from '@k8ts/api';
import { formatResolvConf, managedHostsFile, parseResolvConf, podDnsConfig, podHostnameAndDomain } from './dns.js';

const host = parseResolvConf('# host\nnameserver 10.255.255.53\nnameserver 10.255.255.54\nsearch corp.example\noptions timeout:2 attempts:3\n');
const settings = { clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local', host };
const pod = (spec: Partial<NonNullable<Pod['spec']>> = {}, name = 'web-0'): Pod => ({
  metadata: { name, namespace: 'prod', uid: 'u1' }, spec: { containers: [{ name: 'c', image: 'i' }], ...spec },
});

describe('podDnsConfig', () => {
  it.each([
    ['ClusterFirst (the default)', {}, settings,
      { servers: ['10.96.0.10'], searches: ['prod.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example'], options: ['ndots:5'] }],
    ['ClusterFirst on the host network falls back to Default', { dnsPolicy: 'ClusterFirst', hostNetwork: true }, settings, host],
    ['ClusterFirstWithHostNet on the host network', { dnsPolicy: 'ClusterFirstWithHostNet', hostNetwork: true }, settings,
      { servers: ['10.96.0.10'], searches: ['prod.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example'], options: ['ndots:5'] }],
    ['ClusterFirst without --cluster-dns is Default', {}, { ...settings, clusterDNS: [] }, host],
    ['Default', { dnsPolicy: 'Default' }, settings, host],
    ['None with dnsConfig', { dnsPolicy: 'None', dnsConfig: { nameservers: ['1.2.3.4'], searches: ['a.example'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] } }, settings,
      { servers: ['1.2.3.4'], searches: ['a.example'], options: ['ndots:2', 'edns0'] }],
    ['ClusterFirst merged with dnsConfig: appended, deduplicated, options by name', {
      dnsConfig: { nameservers: ['10.96.0.10', '1.2.3.4'], searches: ['svc.cluster.local', 'extra.example'], options: [{ name: 'ndots', value: '1' }, { name: 'single-request' }] },
    }, settings, {
      servers: ['10.96.0.10', '1.2.3.4'], searches: ['prod.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example', 'extra.example'],
      options: ['ndots:1', 'single-request'],
    }],
  ] as const)('%s', (_name, spec, s, want) => {
    expect(podDnsConfig(pod(structuredClone(spec) as Partial<NonNullable<Pod['spec']>>), structuredClone(s) as typeof settings)).toEqual(want);
  });

  it('keeps at most three nameservers, as upstream validation', () => {
    const conf = podDnsConfig(pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1', '2.2.2.2', '3.3.3.3', '4.4.4.4'] } }), settings);
    expect(conf.servers).toEqual(['1.1.1.1', '2.2.2.2', '3.3.3.3']);
  });

  it('formats a resolv.conf', () => {
    expect(formatResolvConf(podDnsConfig(pod(), settings))).toBe(
      'nameserver 10.96.0.10\nsearch prod.svc.cluster.local svc.cluster.local cluster.local corp.example\noptions ndots:5\n');
    expect(host).toEqual({ servers: ['10.255.255.53', '10.255.255.54'], searches: ['corp.example'], options: ['timeout:2', 'attempts:3'] });
  });
});

describe('hostname and /etc/hosts', () => {
  it('names a pod by spec.hostname or its name cut to 63 characters, with subdomain as its domain', () => {
    expect(podHostnameAndDomain(pod(), 'cluster.local')).toEqual({ hostname: 'web-0', domain: '' });
    expect(podHostnameAndDomain(pod({ hostname: 'h', subdomain: 'db' }), 'cluster.local')).toEqual({ hostname: 'h', domain: 'db.prod.svc.cluster.local' });
    expect(podHostnameAndDomain(pod({}, `${'a'.repeat(62)}-bbb`), 'cluster.local').hostname).toBe('a'.repeat(62));
  });

  it('writes the managed hosts file: localhost, the pod with its FQDN, then hostAliases', () => {
    const text = managedHostsFile(pod({ subdomain: 'web', hostAliases: [{ ip: '10.1.2.3', hostnames: ['foo.local', 'bar.local'] }] }), '10.244.0.5', 'cluster.local');
    expect(text).toBe([
      '# Kubernetes-managed hosts file.', '127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', 'fe00::0\tip6-localnet',
      'fe00::0\tip6-mcastprefix', 'fe00::1\tip6-allnodes', 'fe00::2\tip6-allrouters',
      '10.244.0.5\tweb-0.web.prod.svc.cluster.local\tweb-0', '', '# Entries added by HostAliases.', '10.1.2.3\tfoo.local\tbar.local', '',
    ].join('\n'));
    expect(managedHostsFile(pod(), '10.244.0.6', 'cluster.local')).toContain('\n10.244.0.6\tweb-0\n');
  });
});
