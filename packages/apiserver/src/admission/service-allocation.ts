import { errors, type KubeObject } from '@k8ts/api';
import type { WatchCache } from '../watch-cache.js';
import type { AdmissionAttributes, AdmissionPlugin } from './chain.js';

/** Upstream's default service CIDR (10.96.0.0/12) and NodePort range. */
const CIDR_BASE = (10 << 24) | (96 << 16);
const CIDR_SIZE = 1 << 20;
const NODE_PORT_MIN = 30000;
const NODE_PORT_MAX = 32767;

const ipToInt = (ip: string) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const intToIp = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');

/**
 * Allocates ClusterIPs and NodePorts for new Services from what the services watch cache holds, plus what it
 * handed out itself that the cache has not seen yet (one apiserver; upstream keeps a bitmap in etcd and allocates
 * in the service REST; here it is a mutating admission plugin on Service creation).
 */
export class ServiceAllocator implements AdmissionPlugin {
  readonly name = 'ServiceIPAllocation';
  private cache: WatchCache | undefined;
  private recentIps = new Set<string>();
  private recentPorts = new Set<number>();
  private sub: { close(): void } | undefined;
  private stopped = false;

  attach(cache: WatchCache): void {
    this.cache = cache;
    const subscribe = () => {
      if (this.stopped) return;
      // Once the cache has a Service, the cache answers for its IP and ports: deleting it frees them at once.
      this.sub = cache.subscribe(cache.revision || undefined, (ev) => {
        if (ev.type === 'DELETED') return;
        const spec = (ev.object as any).spec ?? {};
        this.recentIps.delete(spec.clusterIP);
        for (const p of spec.ports ?? []) this.recentPorts.delete(p.nodePort);
      }, () => setTimeout(subscribe, 100).unref());
    };
    subscribe();
  }

  stop(): void {
    this.stopped = true;
    this.sub?.close();
  }

  mutate(a: AdmissionAttributes): void {
    if (a.operation === 'CREATE' && !a.subresource && a.object && a.def === this.cache?.def) this.allocate(a.object);
  }

  private used(): { ips: Set<string>; ports: Set<number> } {
    const ips = new Set<string>();
    const ports = new Set<number>();
    for (const s of this.cache?.objects.values() ?? []) {
      const spec = (s as any).spec ?? {};
      if (spec.clusterIP) ips.add(spec.clusterIP);
      for (const p of spec.ports ?? []) if (p.nodePort) ports.add(p.nodePort);
    }
    for (const ip of this.recentIps) ips.add(ip);
    for (const port of this.recentPorts) ports.add(port);
    return { ips, ports };
  }

  /** Fills spec.clusterIP(s) and nodePorts of a Service about to be created; 422 when a requested one is taken. */
  allocate(svc: KubeObject): void {
    const spec = ((svc as any).spec ??= {});
    const name = svc.metadata?.name ?? '';
    const { ips, ports } = this.used();
    const invalid = (field: string, value: unknown, message: string) =>
      errors.invalid('Service', '', name, [{ field, type: 'FieldValueInvalid', value, message }]);
    if (spec.type !== 'ExternalName') {
      if (!spec.clusterIP) {
        let ip = '';
        for (let i = 0; i < 64 && !ip; i++) {
          const candidate = intToIp(CIDR_BASE + 2 + Math.floor(Math.random() * (CIDR_SIZE - 3)));
          if (!ips.has(candidate)) ip = candidate;
        }
        if (!ip) throw errors.internal('failed to allocate a serviceIP: range is full');
        spec.clusterIP = ip;
      } else if (spec.clusterIP !== 'None') {
        const n = ipToInt(spec.clusterIP);
        if (!/^\d+\.\d+\.\d+\.\d+$/.test(spec.clusterIP) || n < CIDR_BASE || n >= CIDR_BASE + CIDR_SIZE) {
          throw invalid('spec.clusterIPs', [spec.clusterIP], 'failed to allocate IP: the provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/12');
        }
        if (ips.has(spec.clusterIP)) throw invalid('spec.clusterIPs', [spec.clusterIP], 'failed to allocate IP: provided IP is already allocated');
      }
      spec.clusterIPs = [spec.clusterIP];
      spec.ipFamilies ??= ['IPv4'];
      spec.ipFamilyPolicy ??= 'SingleStack';
      if (spec.clusterIP !== 'None') this.remember(this.recentIps, spec.clusterIP);
    }
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
      for (const [i, p] of (spec.ports ?? []).entries()) {
        if (p.nodePort) {
          if (ports.has(p.nodePort)) throw invalid(`spec.ports[${i}].nodePort`, p.nodePort, 'provided port is already allocated');
        } else {
          let port = 0;
          for (let tries = 0; tries < 256 && !port; tries++) {
            const candidate = NODE_PORT_MIN + Math.floor(Math.random() * (NODE_PORT_MAX - NODE_PORT_MIN + 1));
            if (!ports.has(candidate)) port = candidate;
          }
          if (!port) throw errors.internal('failed to allocate a nodePort: range is full');
          p.nodePort = port;
        }
        ports.add(p.nodePort);
        this.remember(this.recentPorts, p.nodePort);
      }
    }
  }

  private remember<T>(set: Set<T>, v: T): void {
    set.add(v);
    // Forget once the watch cache has surely seen it (or the create failed).
    setTimeout(() => set.delete(v), 10_000).unref();
  }
}
