import {
  ENDPOINTSLICES, SERVICES, silentLogger, type Clock, type EndpointSlice, type InformerFactory, type Logger, type Service,
} from '@k8ts/api';
import type { Proxier } from './proxier.js';
import { buildServiceMap, type ServiceMap } from './service-map.js';
import { SyncRunner } from './sync-runner.js';

export interface KubeProxyOptions {
  informers: InformerFactory;
  proxier: Proxier;
  log?: Logger;
  clock?: Clock;
  /** --iptables-min-sync-period in ms (default 1 s). */
  minSyncPeriodMs?: number;
  /** --sync-period in ms (default 30 s). */
  syncPeriodMs?: number;
}

/** What /metrics reports. */
export interface ProxyMetrics {
  syncs: number;
  syncErrors: number;
  lastSyncDurationSeconds: number;
  lastSyncTimestampSeconds: number;
  rulesWritten: number;
  rulesWrittenTotal: number;
}

/**
 * kube-proxy's loop: informers on Services and EndpointSlices; any change asks for a sync, which rebuilds the
 * service map from the caches and hands it to the proxier, at most once per min sync period and at least once per
 * sync period.
 */
export class KubeProxy {
  readonly metrics: ProxyMetrics = { syncs: 0, syncErrors: 0, lastSyncDurationSeconds: 0, lastSyncTimestampSeconds: 0, rulesWritten: 0, rulesWrittenTotal: 0 };
  private readonly log: Logger;
  private readonly services;
  private readonly slices;
  private readonly runner: SyncRunner;
  private lastMap: ServiceMap = new Map();
  private synced = false;

  constructor(private readonly opts: KubeProxyOptions) {
    this.log = opts.log ?? silentLogger;
    this.services = opts.informers.informerFor<Service>(SERVICES);
    this.slices = opts.informers.informerFor<EndpointSlice>(ENDPOINTSLICES);
    this.runner = new SyncRunner(() => this.syncProxyRules(), {
      minIntervalMs: opts.minSyncPeriodMs ?? 1_000, maxIntervalMs: opts.syncPeriodMs ?? 30_000, clock: opts.clock,
    });
  }

  /** Waits for the caches, syncs, and keeps syncing on change until `signal` aborts; then closes the proxier. */
  async run(signal: AbortSignal): Promise<void> {
    const changed = { onAdd: () => this.runner.run(), onUpdate: () => this.runner.run(), onDelete: () => this.runner.run() };
    const offs = [this.services.addHandler(changed), this.slices.addHandler(changed)];
    this.opts.informers.start(signal);
    if (!(await this.opts.informers.waitForCacheSync(signal))) { offs.forEach((f) => f()); return; }
    this.runner.start();
    await new Promise<void>((resolve) => { if (signal.aborted) resolve(); else signal.addEventListener('abort', () => resolve(), { once: true }); });
    this.runner.stop();
    offs.forEach((f) => f());
    await this.opts.proxier.close();
  }

  /** True once a sync has succeeded (for /healthz). */
  healthy(): boolean {
    return this.synced;
  }

  /** The service map of the last sync. */
  serviceMap(): ServiceMap {
    return this.lastMap;
  }

  /** One sync (upstream's syncProxyRules): the map from the caches, written by the proxier. */
  async syncProxyRules(): Promise<void> {
    const start = performance.now();
    const map = buildServiceMap(this.services.list(), this.slices.list());
    try {
      const { rules } = await this.opts.proxier.sync(map);
      const seconds = (performance.now() - start) / 1000;
      Object.assign(this.metrics, {
        syncs: this.metrics.syncs + 1, lastSyncDurationSeconds: seconds, lastSyncTimestampSeconds: Date.now() / 1000,
        rulesWritten: rules, rulesWrittenTotal: this.metrics.rulesWrittenTotal + rules,
      });
      this.lastMap = map;
      this.synced = true;
      this.log.debug({ servicePorts: map.size, rules, ms: Math.round(seconds * 1000) }, 'synced proxy rules');
    } catch (err) {
      this.metrics.syncErrors++;
      this.log.error({ err }, 'proxy rules sync failed; retrying at the next sync');
      throw err;
    }
  }

  /** Prometheus text of the metrics (names after upstream's kubeproxy_sync_proxy_rules_*). */
  metricsText(): string {
    const m = this.metrics;
    const mode = this.opts.proxier.mode;
    return [
      '# HELP kubeproxy_sync_proxy_rules_total Syncs of the proxy rules that succeeded.',
      '# TYPE kubeproxy_sync_proxy_rules_total counter',
      `kubeproxy_sync_proxy_rules_total{mode="${mode}"} ${m.syncs}`,
      '# HELP kubeproxy_sync_proxy_rules_errors_total Syncs of the proxy rules that failed.',
      '# TYPE kubeproxy_sync_proxy_rules_errors_total counter',
      `kubeproxy_sync_proxy_rules_errors_total{mode="${mode}"} ${m.syncErrors}`,
      '# HELP kubeproxy_sync_proxy_rules_duration_seconds Duration of the last sync of the proxy rules.',
      '# TYPE kubeproxy_sync_proxy_rules_duration_seconds gauge',
      `kubeproxy_sync_proxy_rules_duration_seconds{mode="${mode}"} ${m.lastSyncDurationSeconds}`,
      '# HELP kubeproxy_sync_proxy_rules_last_timestamp_seconds When the last sync succeeded.',
      '# TYPE kubeproxy_sync_proxy_rules_last_timestamp_seconds gauge',
      `kubeproxy_sync_proxy_rules_last_timestamp_seconds{mode="${mode}"} ${m.lastSyncTimestampSeconds}`,
      '# HELP kubeproxy_sync_proxy_rules_written Rules written by the last sync (userspace: listeners plus endpoints).',
      '# TYPE kubeproxy_sync_proxy_rules_written gauge',
      `kubeproxy_sync_proxy_rules_written{mode="${mode}"} ${m.rulesWritten}`,
      '# HELP kubeproxy_sync_proxy_rules_written_total Rules written by all syncs.',
      '# TYPE kubeproxy_sync_proxy_rules_written_total counter',
      `kubeproxy_sync_proxy_rules_written_total{mode="${mode}"} ${m.rulesWrittenTotal}`,
      '',
    ].join('\n');
  }
}
