import { createHash } from 'node:crypto';
import { readyEndpoints, type ServiceMap, type ServicePortInfo } from './service-map.js';

/** Upstream's masquerade mark bit (--iptables-masquerade-bit 14). */
export const MASQ_MARK = '0x4000';
/** Upstream's default service range for k8ts (the apiserver's --service-cluster-ip-range). */
export const DEFAULT_SERVICE_CIDR = '10.96.0.0/12';

/** The nat chains kube-proxy owns outright. */
export const NAT_CHAINS = ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ'] as const;
/** The filter chains kube-proxy owns outright. */
export const FILTER_CHAINS = ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-FORWARD', 'KUBE-NODEPORTS', 'KUBE-FIREWALL'] as const;
/** Prefixes of the per-service chains, made and removed as services come and go. */
export const SERVICE_CHAIN_PREFIXES = ['KUBE-SVC-', 'KUBE-SEP-', 'KUBE-EXT-'] as const;

/** A jump from a built-in chain to one of ours, as upstream's iptablesJumpChains. */
export interface JumpRule { table: 'nat' | 'filter'; chain: string; rule: string }

/** The jumps from built-in chains, in the exact form `iptables-save` prints them (so presence can be checked). */
export const JUMP_RULES: readonly JumpRule[] = [
  { table: 'filter', chain: 'INPUT', rule: '-m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES' },
  { table: 'filter', chain: 'INPUT', rule: '-m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS' },
  { table: 'filter', chain: 'INPUT', rule: '-j KUBE-FIREWALL' },
  { table: 'filter', chain: 'FORWARD', rule: '-m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES' },
  { table: 'filter', chain: 'FORWARD', rule: '-m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES' },
  { table: 'filter', chain: 'FORWARD', rule: '-m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD' },
  { table: 'filter', chain: 'OUTPUT', rule: '-m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES' },
  { table: 'filter', chain: 'OUTPUT', rule: '-j KUBE-FIREWALL' },
  { table: 'nat', chain: 'OUTPUT', rule: '-m comment --comment "kubernetes service portals" -j KUBE-SERVICES' },
  { table: 'nat', chain: 'PREROUTING', rule: '-m comment --comment "kubernetes service portals" -j KUBE-SERVICES' },
  { table: 'nat', chain: 'POSTROUTING', rule: '-m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING' },
];

export interface RuleOptions {
  /** Node addresses whose NodePorts are served; 127.0.0.1 among them serves localhost NodePorts (route_localnet). */
  nodePortAddresses: string[];
  /** Everything addressed here and not translated to an endpoint is rejected (--service-cluster-ip-range). */
  serviceCIDR: string;
  /** Pod range: traffic to a ClusterIP from outside it is masqueraded (--cluster-cidr); none when empty. */
  clusterCIDR?: string;
  /** Masquerade all ClusterIP traffic (--masquerade-all). */
  masqueradeAll?: boolean;
}

/** What the tables hold now (from `iptables-save`): which per-service chains exist, which jumps are in place. */
export interface ExistingRules {
  natChains: Set<string>;
  filterChains: Set<string>;
  /** `table chain rule` of each jump from a built-in chain to a KUBE- chain, with how many copies there are. */
  jumps: Map<string, number>;
}

export const emptyExisting = (): ExistingRules => ({ natChains: new Set(), filterChains: new Set(), jumps: new Map() });

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
function base32(buf: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) { out += BASE32[(value >>> (bits - 5)) & 31]; bits -= 5; }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** Upstream's portProtoHash: the first 16 base32 characters of sha256(servicePortName + protocol). */
function hash(s: string): string {
  return base32(createHash('sha256').update(s).digest()).slice(0, 16);
}

/** KUBE-SVC-<hash>, as upstream's servicePortPolicyClusterChain. */
export const svcChain = (sp: ServicePortInfo): string => `KUBE-SVC-${hash(sp.name + sp.protocol.toLowerCase())}`;
/** KUBE-EXT-<hash>, as upstream's servicePortPolicyExternalChainName. */
export const extChain = (sp: ServicePortInfo): string => `KUBE-EXT-${hash(sp.name + sp.protocol.toLowerCase())}`;
/** KUBE-SEP-<hash>, as upstream's servicePortEndpointChainName. */
export const sepChain = (sp: ServicePortInfo, endpoint: string): string => `KUBE-SEP-${hash(sp.name + sp.protocol.toLowerCase() + endpoint)}`;

const comment = (text: string): string => `-m comment --comment ${/[\s;"]/.test(text) ? JSON.stringify(text) : text}`;

/** The whole rule text of one sync (for `iptables-restore --noflush`), and how many rules it writes. */
export function renderRules(map: ServiceMap, opts: RuleOptions, existing: ExistingRules = emptyExisting()): { text: string; rules: number } {
  const filter: string[] = [];
  const nat: string[] = [];
  const natChains = new Set<string>(NAT_CHAINS);

  nat.push(`-A KUBE-POSTROUTING -m mark ! --mark ${MASQ_MARK}/${MASQ_MARK} -j RETURN`);
  nat.push(`-A KUBE-POSTROUTING -j MARK --xor-mark ${MASQ_MARK}`);
  nat.push(`-A KUBE-POSTROUTING ${comment('kubernetes service traffic requiring SNAT')} -j MASQUERADE --random-fully`);
  nat.push(`-A KUBE-MARK-MASQ -j MARK --or-mark ${MASQ_MARK}`);

  for (const sp of map.values()) {
    const proto = sp.protocol.toLowerCase();
    const match = `-m ${proto} -p ${proto}`;
    const ready = readyEndpoints(sp);
    const svc = svcChain(sp);
    const ext = extChain(sp);
    if (ready.length === 0) {
      filter.push(`-A KUBE-SERVICES ${comment(`${sp.name} has no endpoints`)} ${match} -d ${sp.clusterIP} --dport ${sp.port} -j REJECT`);
      if (sp.nodePort) filter.push(`-A KUBE-EXTERNAL-SERVICES ${comment(`${sp.name} has no endpoints`)} -m addrtype --dst-type LOCAL ${match} --dport ${sp.nodePort} -j REJECT`);
      continue;
    }
    natChains.add(svc);
    nat.push(`-A KUBE-SERVICES ${comment(`${sp.name} cluster IP`)} ${match} -d ${sp.clusterIP} --dport ${sp.port} -j ${svc}`);
    if (opts.masqueradeAll) {
      nat.push(`-A ${svc} ${comment(`${sp.name} cluster IP`)} ${match} -d ${sp.clusterIP} --dport ${sp.port} -j KUBE-MARK-MASQ`);
    } else if (opts.clusterCIDR) {
      nat.push(`-A ${svc} ${comment(`${sp.name} cluster IP`)} ${match} -d ${sp.clusterIP} --dport ${sp.port} ! -s ${opts.clusterCIDR} -j KUBE-MARK-MASQ`);
    }
    if (sp.nodePort) {
      natChains.add(ext);
      nat.push(`-A KUBE-NODEPORTS ${comment(sp.name)} ${match} --dport ${sp.nodePort} -j ${ext}`);
      nat.push(`-A ${ext} ${comment(`masquerade traffic for ${sp.name} external destinations`)} -j KUBE-MARK-MASQ`);
      nat.push(`-A ${ext} -j ${svc}`);
    }
    const eps = ready.map((e) => `${e.ip}:${e.port}`);
    if (sp.affinityTimeoutSeconds) {
      for (const ep of eps) {
        const sep = sepChain(sp, ep);
        nat.push(`-A ${svc} ${comment(`${sp.name} -> ${ep}`)} -m recent --name ${sep} --rcheck --seconds ${sp.affinityTimeoutSeconds} --reap -j ${sep}`);
      }
    }
    eps.forEach((ep, i) => {
      const sep = sepChain(sp, ep);
      const n = eps.length - i;
      const stat = n > 1 ? ` -m statistic --mode random --probability ${(1 / n).toFixed(10)}` : '';
      nat.push(`-A ${svc} ${comment(`${sp.name} -> ${ep}`)}${stat} -j ${sep}`);
    });
    eps.forEach((ep, i) => {
      const sep = sepChain(sp, ep);
      natChains.add(sep);
      nat.push(`-A ${sep} ${comment(sp.name)} -s ${ready[i]!.ip} -j KUBE-MARK-MASQ`);
      const recent = sp.affinityTimeoutSeconds ? ` -m recent --name ${sep} --set` : '';
      nat.push(`-A ${sep} ${comment(sp.name)}${recent} ${match} -j DNAT --to-destination ${ep}`);
    });
  }
  for (const addr of opts.nodePortAddresses) {
    nat.push(`-A KUBE-SERVICES ${comment('kubernetes service nodeports; NOTE: this must be the last rule in this chain')} -d ${addr} -j KUBE-NODEPORTS`);
  }

  // Anything still addressed to the service range after NAT has no endpoint (or no Service): refuse it here so it
  // never leaves the machine.
  filter.push(`-A KUBE-SERVICES ${comment('reject traffic to the service range not translated to an endpoint')} -d ${opts.serviceCIDR} -j REJECT --reject-with icmp-port-unreachable`);
  filter.push(`-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP`);
  filter.push(`-A KUBE-FORWARD ${comment('kubernetes forwarding rules')} -m mark --mark ${MASQ_MARK}/${MASQ_MARK} -j ACCEPT`);
  filter.push(`-A KUBE-FORWARD ${comment('kubernetes forwarding conntrack rule')} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
  if (opts.nodePortAddresses.some((a) => a.startsWith('127.'))) {
    // route_localnet lets 127.0.0.1:<nodePort> be DNATed off the host; only already-translated flows may cross.
    filter.push(`-A KUBE-FIREWALL ${comment('block incoming localnet connections')} -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP`);
  }

  const stale = (have: Set<string>, keep: Set<string>) =>
    [...have].filter((c) => SERVICE_CHAIN_PREFIXES.some((p) => c.startsWith(p)) && !keep.has(c)).sort();
  const staleNat = stale(existing.natChains, natChains);
  // Missing jumps are inserted first in their chain; extra copies (left by two kube-proxies starting at once) removed.
  const jumps = (table: 'nat' | 'filter') => JUMP_RULES.filter((j) => j.table === table).flatMap((j) => {
    const n = existing.jumps.get(`${table} ${j.chain} ${j.rule}`) ?? 0;
    return n === 0 ? [`-I ${j.chain} 1 ${j.rule}`] : Array.from({ length: n - 1 }, () => `-D ${j.chain} ${j.rule}`);
  });

  const lines = [
    '*filter',
    ...FILTER_CHAINS.map((c) => `:${c} - [0:0]`),
    ...filter,
    ...jumps('filter').reverse(),
    'COMMIT',
    '*nat',
    ...[...natChains].map((c) => `:${c} - [0:0]`),
    ...staleNat.map((c) => `:${c} - [0:0]`),
    ...nat,
    ...staleNat.map((c) => `-X ${c}`),
    ...jumps('nat').reverse(),
    'COMMIT',
    '',
  ];
  return { text: lines.join('\n'), rules: filter.length + nat.length };
}

/** Reads `iptables-save` output of the nat and filter tables into what `renderRules` needs to know. */
export function parseExisting(natSave: string, filterSave: string): ExistingRules {
  const out = emptyExisting();
  const read = (text: string, table: 'nat' | 'filter', chains: Set<string>) => {
    for (const line of text.split('\n')) {
      const m = /^:(\S+) /.exec(line);
      if (m) { chains.add(m[1]!); continue; }
      const a = /^-A (INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) (.*)$/.exec(line);
      if (a && / -j KUBE-\S+$|^-j KUBE-\S+$/.test(a[2]!)) {
        const key = `${table} ${a[1]} ${a[2]}`;
        out.jumps.set(key, (out.jumps.get(key) ?? 0) + 1);
      }
    }
  };
  read(natSave, 'nat', out.natChains);
  read(filterSave, 'filter', out.filterChains);
  return out;
}

/** The restore text that removes every rule and chain kube-proxy made (--cleanup), given what is there now. */
export function renderCleanup(existing: ExistingRules): string {
  // Every copy of every jump goes, or the chains could not be deleted.
  const del = (table: 'nat' | 'filter') => [...existing.jumps].filter(([j]) => j.startsWith(`${table} `))
    .flatMap(([j, n]) => { const [, chain, ...rule] = j.split(' '); return Array.from({ length: n }, () => `-D ${chain} ${rule.join(' ')}`); });
  const ours = (have: Set<string>, fixed: readonly string[]) =>
    [...have].filter((c) => fixed.includes(c) || SERVICE_CHAIN_PREFIXES.some((p) => c.startsWith(p))).sort();
  const natChains = ours(existing.natChains, NAT_CHAINS);
  const filterChains = ours(existing.filterChains, FILTER_CHAINS);
  return [
    '*filter', ...del('filter'), ...filterChains.map((c) => `:${c} - [0:0]`), ...filterChains.map((c) => `-X ${c}`), 'COMMIT',
    '*nat', ...del('nat'), ...natChains.map((c) => `:${c} - [0:0]`), ...natChains.map((c) => `-X ${c}`), 'COMMIT', '',
  ].join('\n');
}
