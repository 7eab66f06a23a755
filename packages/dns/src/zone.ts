import type { EndpointSlice, Pod, Service, SharedInformer } from '@k8ts/api';

/** The resource records this server builds (dns-packet's shapes, narrowed to what the cluster zone answers). */
export type ZoneRecord =
  | { type: 'A' | 'AAAA' | 'CNAME' | 'PTR'; name: string; ttl: number; data: string }
  | { type: 'SRV'; name: string; ttl: number; data: { priority: number; weight: number; port: number; target: string } }
  | { type: 'SOA'; name: string; ttl: number; data: SoaData }
  | { type: 'NS'; name: string; ttl: number; data: string };

interface SoaData { mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number }

/** A cluster-zone answer: NOERROR (records, possibly none: NODATA) or NXDOMAIN, SOA in authority when empty. */
export interface ZoneAnswer {
  rcode: 'NOERROR' | 'NXDOMAIN';
  answers: ZoneRecord[];
  authorities: ZoneRecord[];
  additionals: ZoneRecord[];
  /** An ExternalName's target outside the cluster zone, for the caller to resolve upstream. */
  chase?: string;
}

/** Label of EndpointSlices naming their Service (discovery.k8s.io/v1's LabelServiceName). */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** Index names the zone adds to the shared informers. */
export const INDEX = { clusterIP: 'dns.clusterIP', service: 'dns.serviceName', address: 'dns.address', podIP: 'dns.podIP' } as const;

export const serviceIndexers = {
  [INDEX.clusterIP]: (s: Service) => (s.spec?.clusterIPs ?? (s.spec?.clusterIP ? [s.spec.clusterIP] : [])).filter((ip) => ip && ip !== 'None'),
};
export const sliceIndexers = {
  [INDEX.service]: (e: EndpointSlice) => {
    const svc = e.metadata?.labels?.[SERVICE_NAME_LABEL];
    return svc ? [`${e.metadata?.namespace ?? ''}/${svc}`] : [];
  },
  [INDEX.address]: (e: EndpointSlice) => (e.endpoints ?? []).flatMap((ep) => ep.addresses ?? []),
};
export const podIndexers = {
  [INDEX.podIP]: (p: Pod) => (p.status?.podIPs?.map((x) => x.ip) ?? (p.status?.podIP ? [p.status.podIP] : []))
    .filter(Boolean).map((ip) => `${p.metadata?.namespace ?? ''}/${ip}`),
};

export interface ZoneOptions {
  /** The cluster domain (`--cluster-domain`), e.g. `cluster.local`. */
  domain: string;
  services: SharedInformer<Service>;
  slices: SharedInformer<EndpointSlice>;
  pods: SharedInformer<Pod>;
  /** TTL of every record, and the SOA's negative-caching minimum (CoreDNS's kubernetes plugin defaults to 5). */
  ttl?: number;
  /** Seconds since the epoch, for the SOA serial. */
  now?: () => number;
}

/** One endpoint of a headless Service, as DNS sees it: its address and the name it is published under. */
interface NamedEndpoint { ip: string; label: string; hostname?: string; ports: Map<string, { port: number; protocol: string }> }

const ipv4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/**
 * The cluster zone as CoreDNS's kubernetes plugin serves it (the DNS spec of kubernetes/dns
 * `docs/specification.md`): answers are computed from the informer caches at query time, so they are always as
 * fresh as the caches and never a stale copy.
 */
export class ClusterZone {
  readonly domain: string;
  private readonly ttl: number;
  private readonly now: () => number;

  private changes = 0;

  constructor(private readonly opts: ZoneOptions) {
    this.domain = opts.domain.replace(/\.$/, '').toLowerCase();
    this.ttl = opts.ttl ?? 5;
    this.now = opts.now ?? (() => Math.floor(Date.now() / 1000));
    const bump = () => { this.changes++; };
    for (const informer of [opts.services, opts.slices, opts.pods] as SharedInformer<never>[]) informer.addHandler({ onAdd: bump, onUpdate: bump, onDelete: bump });
  }

  /** Changes whenever any cached object does: an answer computed at one generation holds until it moves. */
  get generation(): number {
    return this.changes;
  }

  /** Whether a name is this server's to answer (the cluster domain, or a PTR of a cluster address). */
  isAuthoritative(name: string): boolean {
    const n = normalize(name);
    return n === this.domain || n.endsWith(`.${this.domain}`) || this.reverseTarget(n) !== undefined;
  }

  /** The answer for one question; names outside the zone are the caller's (see isAuthoritative). */
  answer(name: string, type: string): ZoneAnswer {
    const n = normalize(name);
    if (n.endsWith('.in-addr.arpa')) return this.ptr(n, type);
    if (n === this.domain) {
      if (type === 'SOA') return this.ok([this.soa()]);
      if (type === 'NS') return this.ok([{ type: 'NS', name: this.domain, ttl: this.ttl, data: `ns.dns.${this.domain}` }]);
      return this.nodata();
    }
    const labels = n.slice(0, -this.domain.length - 1).split('.');
    const kind = labels.at(-1);
    const rest = labels.slice(0, -1);
    if (kind === 'svc') return this.svc(n, rest, type);
    if (kind === 'pod') return this.pod(n, rest, type);
    return this.nxdomain();
  }

  private svc(name: string, labels: string[], type: string): ZoneAnswer {
    if (labels.length === 0) return this.nodata();
    const ns = labels.at(-1)!;
    if (labels.length === 1) return this.opts.services.byIndex('namespace', ns).length ? this.nodata() : this.nxdomain();
    const svc = this.opts.services.get(`${ns}/${labels.at(-2)}`);
    if (!svc) return this.nxdomain();
    const svcName = `${svc.metadata!.name}.${ns}.svc.${this.domain}`;
    const spec = svc.spec ?? {};
    if (labels.length === 2) {
      if (spec.type === 'ExternalName') return this.externalName(name, spec.externalName ?? '', type);
      if (isHeadless(svc)) {
        const eps = this.endpoints(svc);
        if (type === 'A') return this.ok(eps.filter((e) => !e.ip.includes(':')).map((e) => this.rr('A', name, e.ip)));
        if (type === 'AAAA') return this.ok(eps.filter((e) => e.ip.includes(':')).map((e) => this.rr('AAAA', name, e.ip)));
        if (type === 'SRV') return this.headlessSrv(name, svcName, eps, () => true);
        return this.nodata();
      }
      const ips = spec.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : []);
      if (type === 'A') return this.ok(ips.filter((ip) => ipv4.test(ip)).map((ip) => this.rr('A', name, ip)));
      if (type === 'AAAA') return this.ok(ips.filter((ip) => ip.includes(':')).map((ip) => this.rr('AAAA', name, ip)));
      if (type === 'SRV') return this.clusterSrv(name, svcName, svc, () => true);
      return this.nodata();
    }
    if (labels.length === 3) {
      // <endpoint>.<svc>.<ns>.svc: an endpoint of a headless Service by hostname or dashed address.
      if (!isHeadless(svc) || spec.type === 'ExternalName') return this.nxdomain();
      const found = this.endpoints(svc).filter((e) => e.label === labels[0]);
      if (!found.length) return this.nxdomain();
      const family = type === 'A' ? (ip: string) => !ip.includes(':') : type === 'AAAA' ? (ip: string) => ip.includes(':') : () => false;
      return this.ok(found.filter((e) => family(e.ip)).map((e) => this.rr(type === 'AAAA' ? 'AAAA' : 'A', name, e.ip)));
    }
    if (labels.length === 4 && labels[0].startsWith('_') && labels[1].startsWith('_')) {
      // _<port>._<proto>.<svc>.<ns>.svc: SRV of a named port.
      const portName = labels[0].slice(1);
      const proto = labels[1].slice(1);
      const match = (p: { name?: string; protocol?: string }) => (p.name ?? '').toLowerCase() === portName && (p.protocol ?? 'TCP').toLowerCase() === proto;
      if (spec.type === 'ExternalName' || !(spec.ports ?? []).some(match)) return this.nxdomain();
      if (type !== 'SRV') return this.nodata();
      return isHeadless(svc) ? this.headlessSrv(name, svcName, this.endpoints(svc), match) : this.clusterSrv(name, svcName, svc, match);
    }
    return this.nxdomain();
  }

  private clusterSrv(name: string, svcName: string, svc: Service, match: (p: { name?: string; protocol?: string }) => boolean): ZoneAnswer {
    const ports = (svc.spec?.ports ?? []).filter((p) => p.name !== undefined && match(p));
    const answers = ports.map((p) => this.srv(name, 100, p.port, svcName));
    const ips = (svc.spec?.clusterIPs ?? [svc.spec?.clusterIP ?? '']).filter(Boolean);
    const additionals = answers.length ? ips.map((ip) => this.rr(ip.includes(':') ? 'AAAA' : 'A', svcName, ip)) : [];
    return { ...this.ok(answers), additionals };
  }

  private headlessSrv(name: string, svcName: string, eps: NamedEndpoint[], match: (p: { name?: string; protocol?: string }) => boolean): ZoneAnswer {
    const answers: ZoneRecord[] = [];
    const additionals: ZoneRecord[] = [];
    for (const e of eps) {
      const target = `${e.label}.${svcName}`;
      let used = false;
      for (const [portName, p] of e.ports) {
        if (!portName || !match({ name: portName, protocol: p.protocol })) continue;
        // CoreDNS spreads the weight evenly over the targets of one name.
        answers.push(this.srv(name, 0, p.port, target));
        used = true;
      }
      if (used) additionals.push(this.rr(e.ip.includes(':') ? 'AAAA' : 'A', target, e.ip));
    }
    const weight = answers.length ? Math.max(1, Math.floor(100 / answers.length)) : 0;
    for (const a of answers) if (a.type === 'SRV') a.data.weight = weight;
    return { ...this.ok(answers), additionals };
  }

  private externalName(name: string, target: string, type: string): ZoneAnswer {
    const t = normalize(target);
    if (!t) return this.nodata();
    const cname = this.rr('CNAME', name, t);
    if (type === 'CNAME') return this.ok([cname]);
    if (this.isAuthoritative(t)) {
      const inner = this.answer(t, type);
      return { ...inner, rcode: 'NOERROR', answers: [cname, ...inner.answers], authorities: inner.answers.length ? [] : inner.authorities };
    }
    return { ...this.ok([cname]), chase: t };
  }

  private pod(name: string, labels: string[], type: string): ZoneAnswer {
    if (labels.length !== 2) return labels.length === 1 ? this.nodata() : this.nxdomain();
    const [dashed, ns] = labels;
    const ip = dashed.includes('--') || !dashed.includes('-') ? dashed.replace(/-/g, ':') : dashed.replace(/-/g, '.');
    // "pods verified": only an address a pod of that namespace has (the insecure mode answers any address).
    if (!this.opts.pods.byIndex(INDEX.podIP, `${ns}/${ip}`).length) return this.nxdomain();
    if (type === 'A' && ipv4.test(ip)) return this.ok([this.rr('A', name, ip)]);
    if (type === 'AAAA' && ip.includes(':')) return this.ok([this.rr('AAAA', name, ip)]);
    return this.nodata();
  }

  private ptr(name: string, type: string): ZoneAnswer {
    const target = this.reverseTarget(name);
    if (target === undefined) return this.nxdomain();
    return type === 'PTR' ? this.ok(target.map((t) => this.rr('PTR', name, t))) : this.nodata();
  }

  /** The names a reverse (in-addr.arpa) name points to: a ClusterIP's Service, a headless endpoint's name. */
  private reverseTarget(name: string): string[] | undefined {
    const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\.in-addr\.arpa$/.exec(name);
    if (!m) return undefined;
    const ip = `${m[4]}.${m[3]}.${m[2]}.${m[1]}`;
    const services = this.opts.services.byIndex(INDEX.clusterIP, ip);
    if (services.length) return services.map((s) => `${s.metadata!.name}.${s.metadata!.namespace}.svc.${this.domain}`);
    const targets = new Set<string>();
    for (const slice of this.opts.slices.byIndex(INDEX.address, ip)) {
      const svc = this.opts.services.get(`${slice.metadata!.namespace}/${slice.metadata!.labels?.[SERVICE_NAME_LABEL] ?? ''}`);
      if (!svc || !isHeadless(svc)) continue;
      for (const e of this.endpoints(svc)) if (e.ip === ip) targets.add(`${e.label}.${svc.metadata!.name}.${svc.metadata!.namespace}.svc.${this.domain}`);
    }
    return targets.size ? [...targets] : undefined;
  }

  /** The ready endpoints of a Service over all its slices, deduplicated by address. */
  private endpoints(svc: Service): NamedEndpoint[] {
    const byIP = new Map<string, NamedEndpoint>();
    const slices = this.opts.slices.byIndex(INDEX.service, `${svc.metadata!.namespace}/${svc.metadata!.name}`)
      .sort((a, b) => (a.metadata!.name ?? '').localeCompare(b.metadata!.name ?? ''));
    for (const slice of slices) {
      for (const ep of slice.endpoints ?? []) {
        // An unset ready condition means ready (discovery/v1); publishNotReadyAddresses publishes every endpoint.
        if (ep.conditions?.ready === false && !svc.spec?.publishNotReadyAddresses) continue;
        for (const ip of ep.addresses ?? []) {
          let e = byIP.get(ip);
          if (!e) {
            e = { ip, label: ep.hostname ?? ip.replace(/[.:]/g, '-'), ...(ep.hostname ? { hostname: ep.hostname } : {}), ports: new Map() };
            byIP.set(ip, e);
          }
          for (const p of slice.ports ?? []) if (p.port !== undefined) e.ports.set((p.name ?? '').toLowerCase(), { port: p.port, protocol: p.protocol ?? 'TCP' });
        }
      }
    }
    return [...byIP.values()];
  }

  private rr(type: 'A' | 'AAAA' | 'CNAME' | 'PTR', name: string, data: string): ZoneRecord {
    return { type, name, ttl: this.ttl, data };
  }

  private srv(name: string, weight: number, port: number, target: string): ZoneRecord {
    return { type: 'SRV', name, ttl: this.ttl, data: { priority: 0, weight, port, target } };
  }

  /** The zone's SOA, as CoreDNS writes it. */
  soa(): ZoneRecord {
    return {
      type: 'SOA', name: this.domain, ttl: this.ttl,
      data: { mname: `ns.dns.${this.domain}`, rname: `hostmaster.${this.domain}`, serial: this.now(), refresh: 7200, retry: 1800, expire: 86400, minimum: this.ttl },
    };
  }

  private ok(answers: ZoneRecord[]): ZoneAnswer {
    return { rcode: 'NOERROR', answers, authorities: answers.length ? [] : [this.soa()], additionals: [] };
  }

  private nodata(): ZoneAnswer {
    return this.ok([]);
  }

  private nxdomain(): ZoneAnswer {
    return { rcode: 'NXDOMAIN', answers: [], authorities: [this.soa()], additionals: [] };
  }
}

/** A Service answered by its endpoints rather than a virtual IP. */
export function isHeadless(svc: Service): boolean {
  return svc.spec?.clusterIP === 'None';
}

function normalize(name: string): string {
  return name.replace(/\.$/, '').toLowerCase();
}
