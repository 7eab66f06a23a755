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
 * Dynamic cluster IPs come from above the range's lower band, which stays for IPs clients ask for (kube-dns' 10.96.0.10):
 * upstream's static subrange, min(max(16, size/16), 256) addresses.
 */
const STATIC_BAND = Math.min(Math.max(16, CIDR_SIZE / 16), 256);

/**
 * Allocates ClusterIPs and NodePorts for Services being created, or updated to a type that needs them (upstream
 * allocates in the service REST). Uniqueness is the store's: the values are reservations taken in the Service's own
 * etcd transaction (the strategy's `reservations`), so a value another apiserver took meanwhile fails the write and
 * the store allocates again. The watch cache only steers random picks away from values already in use.
 */
export class ServiceAllocator implements AdmissionPlugin {
  readonly name = 'ServiceIPAllocation';
  private cache: WatchCache | undefined;

  attach(cache: WatchCache): void {
    this.cache = cache;
  }

  stop(): void {
    this.cache = undefined;
  }

  mutate(a: AdmissionAttributes): void {
    if (a.subresource || !a.object || a.def.group !== '' || a.def.resource !== 'services') return;
    if (a.operation === 'CREATE') this.allocate(a.object);
    else if (a.operation === 'UPDATE') this.allocate(a.object, a.oldObject);
  }

  private used(): { ips: Set<string>; ports: Set<number> } {
    const ips = new Set<string>();
    const ports = new Set<number>();
    for (const s of this.cache?.objects.values() ?? []) {
      const spec = (s as any).spec ?? {};
      if (spec.clusterIP) ips.add(spec.clusterIP);
      for (const p of spec.ports ?? []) if (p.nodePort) ports.add(p.nodePort);
    }
    return { ips, ports };
  }

  /**
   * Fills spec.clusterIP(s) and the nodePorts a Service of its type needs and lacks; 422 for a requested cluster IP
   * outside the range. `old`: the Service being updated (its cluster IP is not checked again).
   */
  allocate(svc: KubeObject, old?: KubeObject): void {
    const spec = ((svc as any).spec ??= {});
    const oldSpec = (old as any)?.spec ?? {};
    const name = svc.metadata?.name ?? '';
    const { ips, ports } = this.used();
    const invalid = (field: string, value: unknown, message: string) =>
      errors.invalid('Service', '', name, [{ field, type: 'FieldValueInvalid', value, message }]);
    if (spec.type !== 'ExternalName') {
      if (!spec.clusterIP) {
        let ip = '';
        for (let i = 0; i < 64 && !ip; i++) {
          const candidate = intToIp(CIDR_BASE + STATIC_BAND + Math.floor(Math.random() * (CIDR_SIZE - STATIC_BAND - 1)));
          if (!ips.has(candidate)) ip = candidate;
        }
        if (!ip) throw errors.internal('failed to allocate a serviceIP: range is full');
        spec.clusterIP = ip;
      } else if (spec.clusterIP !== 'None' && spec.clusterIP !== oldSpec.clusterIP) {
        const n = ipToInt(spec.clusterIP);
        if (!/^\d+\.\d+\.\d+\.\d+$/.test(spec.clusterIP) || n < CIDR_BASE || n >= CIDR_BASE + CIDR_SIZE) {
          throw invalid('spec.clusterIPs', [spec.clusterIP], 'failed to allocate IP: the provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/12');
        }
      }
      spec.clusterIPs = [spec.clusterIP];
      spec.ipFamilies ??= ['IPv4'];
      spec.ipFamilyPolicy ??= 'SingleStack';
    }
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
      for (const [i, p] of (spec.ports ?? []).entries()) {
        if (p.nodePort) {
          const known = (oldSpec.ports ?? []).some((o: any) => o.nodePort === p.nodePort);
          if (!known && (p.nodePort < NODE_PORT_MIN || p.nodePort > NODE_PORT_MAX)) {
            throw invalid(`spec.ports[${i}].nodePort`, p.nodePort, `provided port is not in the valid range. The range of valid ports is ${NODE_PORT_MIN}-${NODE_PORT_MAX}`);
          }
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
      }
    }
  }
}
