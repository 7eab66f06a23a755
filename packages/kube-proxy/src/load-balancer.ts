import { realClock, type Clock } from '@k8ts/api';

interface Affinity { endpoint: string; lastUsed: number }

interface ServiceState {
  endpoints: string[];
  index: number;
  affinityMs: number;
  affinity: Map<string, Affinity>;
}

/**
 * Round-robin over a service port's ready endpoints with optional ClientIP affinity (upstream's userspace
 * LoadBalancerRR). Endpoints are `ip:port` strings; affinity pins a client IP to its endpoint until it has been
 * idle for the timeout, or until that endpoint fails or goes away.
 */
export class RoundRobinLoadBalancer {
  private readonly services = new Map<string, ServiceState>();
  private readonly clock: Clock;

  constructor(clock: Clock = realClock) {
    this.clock = clock;
  }

  /** Sets a service port's endpoints and affinity timeout (0: none); keeps the rotation and affinities still valid. */
  update(service: string, endpoints: readonly string[], affinityTimeoutSeconds: number): void {
    let st = this.services.get(service);
    if (!st) this.services.set(service, st = { endpoints: [], index: 0, affinityMs: 0, affinity: new Map() });
    const changed = st.endpoints.length !== endpoints.length || st.endpoints.some((e, i) => e !== endpoints[i]);
    if (changed) {
      st.endpoints = [...endpoints];
      st.index = 0;
      const live = new Set(endpoints);
      for (const [ip, a] of st.affinity) if (!live.has(a.endpoint)) st.affinity.delete(ip);
    }
    st.affinityMs = affinityTimeoutSeconds * 1000;
    if (!st.affinityMs) st.affinity.clear();
  }

  /** Forgets a service port. */
  remove(service: string): void {
    this.services.delete(service);
  }

  /** The endpoints of a service port, in rotation order. */
  endpoints(service: string): readonly string[] {
    return this.services.get(service)?.endpoints ?? [];
  }

  /**
   * The endpoint for a new connection from `clientIP`: its pinned one while the affinity holds, else the next in
   * rotation (then pinned). `resetAffinity` drops the pin first (the pinned endpoint just failed).
   */
  next(service: string, clientIP: string, resetAffinity = false): string | undefined {
    const st = this.services.get(service);
    if (!st || st.endpoints.length === 0) return undefined;
    const now = this.clock.now();
    if (st.affinityMs) {
      const pinned = st.affinity.get(clientIP);
      if (pinned && !resetAffinity && now - pinned.lastUsed < st.affinityMs) {
        pinned.lastUsed = now;
        return pinned.endpoint;
      }
    }
    const endpoint = st.endpoints[st.index % st.endpoints.length]!;
    st.index = (st.index + 1) % st.endpoints.length;
    if (st.affinityMs) st.affinity.set(clientIP, { endpoint, lastUsed: now });
    return endpoint;
  }
}
