import type { ApiClient } from './client.js';
import { realClock, sleep, type Clock } from './clock.js';
import { ApiError } from './errors.js';
import { silentLogger, type Logger } from './logger.js';
import { LEASES } from './resources.js';
import { microTime } from './time.js';
import type { Lease } from './types.js';

/** Where leases' acquireTime and renewTime are formatted; re-exported for callers that imported it from here. */
export { microTime };

/** On the kube-system/kube-scheduler Lease: where the leading scheduler serves /debug/scheduling (k8ts's own). */
export const SCHEDULER_DEBUG_URL_ANNOTATION = 'k8ts.io/scheduler-debug-url';

export interface LeaderElectorOptions {
  client: ApiClient;
  namespace: string;
  name: string;
  /** Unique per process, e.g. `hostname_uuid`. */
  identity: string;
  /** Set on the Lease with every write of the holder (e.g. where the leader can be reached); others' are kept. */
  annotations?: Record<string, string>;
  leaseDurationSeconds?: number;
  renewDeadlineSeconds?: number;
  retryPeriodSeconds?: number;
  log?: Logger;
  clock?: Clock;
  random?: () => number;
}

export interface LeaderCallbacks {
  /** Starts the leader's work; `leaderSignal` aborts when leadership ends. Awaited before the lease is released. */
  onStartedLeading(leaderSignal: AbortSignal): void | Promise<void>;
  /** Called once leadership ends (lost, or on shutdown). */
  onStoppedLeading?(): void;
  /** Called when a different holder is observed while waiting. */
  onNewLeader?(identity: string): void;
}

type Attempt = 'ok' | 'held' | 'failed';

/**
 * Leader election on a coordination.k8s.io/v1 Lease (client-go's leaderelection): acquires the lease when it is
 * missing, free, expired (renewTime + leaseDuration < now) or already ours; renews it every retryPeriod; stops
 * leading when another holder appears or renewals fail for renewDeadline; releases it on shutdown. Writes are
 * conditional on resourceVersion, so a 409 just means "try again".
 */
export class LeaderElector {
  private readonly o: Required<Omit<LeaderElectorOptions, 'log' | 'clock' | 'random' | 'annotations'>>;
  private readonly annotations: Record<string, string> | undefined;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly random: () => number;
  private leading = false;
  private observedHolder = '';

  constructor(opts: LeaderElectorOptions) {
    this.o = { leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 2, ...opts };
    if (this.o.leaseDurationSeconds <= this.o.renewDeadlineSeconds) throw new Error('leaseDurationSeconds must be greater than renewDeadlineSeconds');
    if (this.o.renewDeadlineSeconds <= this.o.retryPeriodSeconds) throw new Error('renewDeadlineSeconds must be greater than retryPeriodSeconds');
    this.log = (opts.log ?? silentLogger).child({ lease: `${opts.namespace}/${opts.name}`, identity: opts.identity });
    this.clock = opts.clock ?? realClock;
    this.random = opts.random ?? Math.random;
    this.annotations = opts.annotations;
  }

  /** True while this process holds the lease. */
  isLeader(): boolean {
    return this.leading;
  }

  /** The holder last seen on the lease ('' when free or unknown). */
  leader(): string {
    return this.observedHolder;
  }

  /**
   * Campaigns until leader, leads until the lease is lost or `signal` aborts, then returns. Run it again to
   * campaign again (upstream components exit instead).
   */
  async run(signal: AbortSignal, callbacks: LeaderCallbacks): Promise<void> {
    const retryMs = this.o.retryPeriodSeconds * 1000;
    while (!signal.aborted) {
      if ((await this.tryAcquireOrRenew(signal, callbacks)) === 'ok') break;
      // client-go jitters campaign retries by up to 1.2 periods so candidates do not move in lockstep.
      await sleep(this.clock, retryMs * (1 + 1.2 * this.random()), signal);
    }
    if (signal.aborted) return;

    this.leading = true;
    this.log.info({}, 'became leader');
    const leader = new AbortController();
    const work = Promise.resolve()
      .then(() => callbacks.onStartedLeading(leader.signal))
      .catch((err: unknown) => this.log.error({ err }, 'leader work failed'));

    let lastRenew = this.clock.now();
    let lost = false;
    while (!signal.aborted) {
      await sleep(this.clock, retryMs, signal);
      if (signal.aborted) break;
      const attempt = await this.tryAcquireOrRenew(signal, callbacks);
      if (attempt === 'ok') {
        lastRenew = this.clock.now();
      } else if (attempt === 'held' || this.clock.now() - lastRenew >= this.o.renewDeadlineSeconds * 1000) {
        lost = true;
        break;
      }
    }

    this.leading = false;
    leader.abort();
    this.log.info({ lost }, 'stopped leading');
    try {
      callbacks.onStoppedLeading?.();
    } catch (err) {
      this.log.error({ err }, 'onStoppedLeading failed');
    }
    await work;
    if (!lost) await this.release();
  }

  /** One round: read the lease, then create, take over or renew it. */
  private async tryAcquireOrRenew(outer: AbortSignal, callbacks: LeaderCallbacks): Promise<Attempt> {
    const { client, namespace, name, identity, leaseDurationSeconds } = this.o;
    // No single round may outlast the renew deadline.
    const signal = this.deadline(outer, this.o.renewDeadlineSeconds * 1000);
    const now = this.clock.now();
    let lease: Lease;
    try {
      lease = await client.get<Lease>(LEASES, namespace, name, { signal: signal.signal });
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) return this.failed(err, signal);
      try {
        await client.create(LEASES, namespace, {
          apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace, ...(this.annotations ? { annotations: this.annotations } : {}) },
          spec: { holderIdentity: identity, leaseDurationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
        }, { signal: signal.signal });
        this.observe(identity, callbacks);
        signal.clear();
        return 'ok';
      } catch (createErr) {
        return this.failed(createErr, signal);
      }
    }

    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    this.observe(holder, callbacks);
    const renewed = Date.parse(spec.renewTime ?? spec.acquireTime ?? '');
    const expired = !holder || Number.isNaN(renewed) || renewed + (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000 < now;
    if (holder !== identity && !expired) {
      signal.clear();
      return 'held';
    }
    const takeover = holder !== identity;
    const next: Lease = {
      ...lease,
      ...(this.annotations ? { metadata: { ...lease.metadata, annotations: { ...lease.metadata?.annotations, ...this.annotations } } } : {}),
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds,
        renewTime: microTime(now),
        ...(takeover ? { acquireTime: microTime(now), leaseTransitions: (spec.leaseTransitions ?? 0) + 1 } : {}),
      },
    };
    try {
      await client.update(LEASES, namespace, next, { signal: signal.signal });
    } catch (err) {
      return this.failed(err, signal);
    }
    signal.clear();
    if (takeover) this.log.info({ previous: holder }, 'took over lease');
    this.observe(identity, callbacks);
    return 'ok';
  }

  /** Gives the lease up (if still ours) so a successor need not wait for it to expire. */
  private async release(): Promise<void> {
    const { client, namespace, name, identity } = this.o;
    const signal = this.deadline(new AbortController().signal, this.o.renewDeadlineSeconds * 1000);
    try {
      const lease = await client.get<Lease>(LEASES, namespace, name, { signal: signal.signal });
      if (lease.spec?.holderIdentity !== identity) return;
      const now = microTime(this.clock.now());
      await client.update(LEASES, namespace, {
        ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now },
      }, { signal: signal.signal });
      this.log.info({}, 'released lease');
    } catch (err) {
      this.log.warn({ err }, 'could not release lease');
    } finally {
      signal.clear();
    }
  }

  private failed(err: unknown, signal: { clear(): void }): Attempt {
    signal.clear();
    // 409 is the optimistic-concurrency race: another candidate wrote first.
    if (err instanceof ApiError && err.code === 409) this.log.debug({ err }, 'lease write conflict');
    else this.log.warn({ err }, 'lease request failed');
    return 'failed';
  }

  private observe(holder: string, callbacks: LeaderCallbacks): void {
    if (holder === this.observedHolder) return;
    this.observedHolder = holder;
    if (holder) {
      this.log.info({ holder }, 'observed new leader');
      try {
        callbacks.onNewLeader?.(holder);
      } catch (err) {
        this.log.error({ err }, 'onNewLeader failed');
      }
    }
  }

  /** A signal that aborts with `outer` or after `ms` on the injected clock. */
  private deadline(outer: AbortSignal, ms: number): { signal: AbortSignal; clear(): void } {
    const ctl = new AbortController();
    const handle = this.clock.setTimeout(() => ctl.abort(new Error(`lease request took longer than ${ms} ms`)), ms);
    return { signal: AbortSignal.any([outer, ctl.signal]), clear: () => this.clock.clearTimeout(handle) };
  }
}
