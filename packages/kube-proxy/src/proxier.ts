import type { ServiceMap } from './service-map.js';

/** What one sync did: `rules` counts iptables rules written, or listeners and endpoints held in userspace mode. */
export interface SyncResult {
  rules: number;
}

/** A proxy mode (upstream's proxy.Provider): converges the node onto a service map. */
export interface Proxier {
  readonly mode: 'iptables' | 'userspace';
  /** Makes the node route `map`; idempotent, never called concurrently. Throws on failure (retried next sync). */
  sync(map: ServiceMap): Promise<SyncResult>;
  /** Stops serving (userspace closes listeners; iptables leaves its rules in place, as upstream). */
  close(): Promise<void>;
}
