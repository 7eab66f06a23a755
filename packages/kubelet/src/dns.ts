import { readFileSync } from 'node:fs';
import type { Pod } from '@k8ts/api';

/** A resolv.conf's content: what Docker calls Dns, DnsSearch and DnsOptions. */
export interface DnsConfig { servers: string[]; searches: string[]; options: string[] }

/** The kubelet's DNS settings (`--cluster-dns`, `--cluster-domain`, `--resolv-conf` read once). */
export interface ClusterDnsSettings {
  /** Nameservers of ClusterFirst pods; none makes ClusterFirst fall back to Default, as upstream. */
  clusterDNS: string[];
  clusterDomain: string;
  /** The host's resolv.conf, for dnsPolicy Default (and the searches ClusterFirst keeps). */
  host: DnsConfig;
}

/** Upstream's validation limits (pkg/apis/core/validation: MaxDNSNameservers, MaxDNSSearchPaths). */
const MAX_NAMESERVERS = 3;
const MAX_SEARCHES = 32;

/** Parses a resolv.conf (nameserver, search/domain, options lines; comments skipped). */
export function parseResolvConf(text: string): DnsConfig {
  const conf: DnsConfig = { servers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const fields = raw.replace(/[#;].*$/, '').trim().split(/\s+/).filter(Boolean);
    if (fields[0] === 'nameserver' && fields[1]) conf.servers.push(fields[1]);
    // The last search or domain line wins, as in resolv.conf(5).
    else if (fields[0] === 'search' || fields[0] === 'domain') conf.searches = fields.slice(1);
    else if (fields[0] === 'options') conf.options.push(...fields.slice(1));
  }
  return conf;
}

/** The host's resolv.conf (`--resolv-conf`; '' for none), empty when it cannot be read. */
export function readHostResolvConf(path: string): DnsConfig {
  if (!path) return { servers: [], searches: [], options: [] };
  try {
    return parseResolvConf(readFileSync(path, 'utf8'));
  } catch {
    return { servers: [], searches: [], options: [] };
  }
}

/** The effective dnsPolicy (upstream's getPodDNSType): ClusterFirst of a hostNetwork pod, or without cluster DNS, is Default. */
export function podDnsType(pod: Pod, settings: Pick<ClusterDnsSettings, 'clusterDNS'>): 'ClusterFirst' | 'Default' | 'None' {
  const policy = pod.spec?.dnsPolicy ?? 'ClusterFirst';
  if (policy === 'None') return 'None';
  if (policy === 'Default') return 'Default';
  if (policy === 'ClusterFirst' && pod.spec?.hostNetwork) return 'Default';
  return settings.clusterDNS.length ? 'ClusterFirst' : 'Default';
}

/**
 * A pod's resolv.conf as upstream's kubelet builds it (pkg/kubelet/network/dns GetPodDNS): ClusterFirst (and
 * ClusterFirstWithHostNet) → the cluster nameservers, `<ns>.svc.<domain> svc.<domain> <domain>` then the host's
 * searches, `ndots:5`; Default → the host's; None → nothing; then `spec.dnsConfig` merged in (nameservers and
 * searches appended without duplicates, options by name with the pod's value winning).
 */
export function podDnsConfig(pod: Pod, settings: ClusterDnsSettings): DnsConfig {
  const type = podDnsType(pod, settings);
  const ns = pod.metadata?.namespace ?? 'default';
  const d = settings.clusterDomain;
  let conf: DnsConfig;
  if (type === 'ClusterFirst') {
    const searches = d ? [`${ns}.svc.${d}`, `svc.${d}`, d, ...settings.host.searches] : [...settings.host.searches];
    conf = { servers: [...settings.clusterDNS], searches, options: ['ndots:5'] };
  } else if (type === 'Default') {
    conf = structuredClone(settings.host);
  } else {
    conf = { servers: [], searches: [], options: [] };
  }
  const extra = pod.spec?.dnsConfig;
  if (extra) {
    conf.servers.push(...(extra.nameservers ?? []));
    conf.searches.push(...(extra.searches ?? []));
    conf.options = mergeOptions(conf.options, (extra.options ?? []).map((o) => (o.value !== undefined ? `${o.name}:${o.value}` : o.name ?? '')).filter(Boolean));
  }
  return {
    servers: dedupe(conf.servers).slice(0, MAX_NAMESERVERS),
    searches: dedupe(conf.searches.map((s) => s.replace(/\.$/, ''))).slice(0, MAX_SEARCHES),
    options: conf.options,
  };
}

/** The file text of a DnsConfig. */
export function formatResolvConf(conf: DnsConfig): string {
  const lines = [
    ...conf.servers.map((s) => `nameserver ${s}`),
    ...(conf.searches.length ? [`search ${conf.searches.join(' ')}`] : []),
    ...(conf.options.length ? [`options ${conf.options.join(' ')}`] : []),
  ];
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** Options by name, later ones replacing earlier ones of the same name (upstream's mergeDNSOptions). */
function mergeOptions(base: string[], extra: string[]): string[] {
  const byName = new Map<string, string>();
  for (const o of [...base, ...extra]) byName.set(o.split(':')[0], o);
  return [...byName.values()];
}

function dedupe(xs: string[]): string[] {
  return [...new Set(xs.filter(Boolean))];
}

/**
 * A pod's hostname and domain (upstream's GeneratePodHostNameAndDomain): `spec.hostname` or the pod name cut to
 * 63 characters; with `spec.subdomain`, the domain `<subdomain>.<ns>.svc.<clusterDomain>`.
 */
export function podHostnameAndDomain(pod: Pod, clusterDomain: string): { hostname: string; domain: string } {
  const hostname = pod.spec?.hostname || truncateHostname(pod.metadata?.name ?? '');
  const sub = pod.spec?.subdomain;
  const domain = sub ? [sub, pod.metadata?.namespace ?? 'default', 'svc', clusterDomain].filter(Boolean).join('.') : '';
  return { hostname, domain };
}

function truncateHostname(name: string): string {
  return name.length <= 63 ? name : name.slice(0, 63).replace(/[-.]+$/, '');
}

/**
 * The kubelet-managed /etc/hosts of a pod (upstream's managedHostsFileContent): localhost lines, the pod's own
 * address with its FQDN (so `hostname -f` works) and hostname, then `spec.hostAliases`.
 */
export function managedHostsFile(pod: Pod, podIP: string, clusterDomain: string): string {
  const { hostname, domain } = podHostnameAndDomain(pod, clusterDomain);
  const lines = [
    '# Kubernetes-managed hosts file.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
  ];
  if (podIP) lines.push(domain ? `${podIP}\t${hostname}.${domain}\t${hostname}` : `${podIP}\t${hostname}`);
  const aliases = pod.spec?.hostAliases ?? [];
  if (aliases.length) {
    lines.push('', '# Entries added by HostAliases.');
    for (const a of aliases) if (a.ip && a.hostnames?.length) lines.push(`${a.ip}\t${a.hostnames.join('\t')}`);
  }
  return `${lines.join('\n')}\n`;
}
