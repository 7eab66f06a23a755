import type { ApiClient, Clock, InformerFactory, Logger } from '@k8ts/api';
import { REPLICATIONCONTROLLERS } from '@k8ts/api';
import { CronJobController } from './cronjob/cronjob-controller.js';
import { DaemonSetController } from './daemonset/daemon-set-controller.js';
import { DeploymentController } from './deployment/deployment-controller.js';
import { DisruptionController } from './disruption/disruption-controller.js';
import { EndpointsController } from './endpoint/endpoints-controller.js';
import { EndpointSliceController } from './endpointslice/endpoint-slice-controller.js';
import { DEFAULT_MAX_ENDPOINTS_PER_SLICE } from './endpointslice/reconciler.js';
import { GarbageCollector } from './garbagecollector/garbage-collector.js';
import { JobController } from './job/job-controller.js';
import { NamespaceController } from './namespace/namespace-controller.js';
import { NodeLifecycleController, type NodeLifecycleOptions } from './nodelifecycle/node-lifecycle-controller.js';
import { DEFAULT_TERMINATED_POD_GC_THRESHOLD, PodGCController } from './podgc/pod-gc-controller.js';
import { DEFAULT_DOWNSCALE_STABILIZATION_MS, DEFAULT_HPA_SYNC_PERIOD_MS, HorizontalController } from './podautoscaler/horizontal.js';
import {
  DEFAULT_CPU_INITIALIZATION_PERIOD_MS, DEFAULT_INITIAL_READINESS_DELAY_MS, DEFAULT_TOLERANCE,
} from './podautoscaler/replica-calculator.js';
import { ReplicaSetController } from './replicaset/replica-set-controller.js';
import { ServiceAccountsController } from './serviceaccount/service-accounts-controller.js';
import { ServiceLBController } from './servicelb/service-lb-controller.js';
import { StatefulSetController } from './statefulset/stateful-set-controller.js';
import { TaintEvictionController } from './tainteviction/taint-eviction-controller.js';
import { TTLAfterFinishedController } from './ttlafterfinished/ttl-after-finished-controller.js';
import { DEFAULT_LOCAL_PATH_DIR, LocalPathProvisioner } from './volume/persistentvolume/local-path-provisioner.js';
import { PersistentVolumeController } from './volume/persistentvolume/pv-controller.js';
import { parseDuration } from './duration.js';

/** What every controller is started with: one client, one shared informer factory, one logger. */
export interface ControllerContext {
  client: ApiClient;
  informers: InformerFactory;
  log: Logger;
  clock?: Clock;
  /** `--concurrent-<name>-syncs`, by controller name. */
  workers(name: string): number;
  /** The value of a controller's own flag (ControllerDescriptor.options), by flag name without `--`. */
  option(flag: string): string | undefined;
  /** `--node-monitor-period`, `--node-monitor-grace-period`, … for the nodelifecycle controller. */
  nodeLifecycle?: NodeLifecycleOptions;
}

/** A flag of one controller, as kube-controller-manager has it (`--terminated-pod-gc-threshold`). */
export interface ControllerOption { flag: string; description: string; default: string }

/** A controller as the manager knows it: its upstream name, and how to build it (building registers its informers). */
export interface ControllerDescriptor {
  name: string;
  /** Workers when `--concurrent-<name>-syncs` is not given (upstream's defaults). */
  defaultWorkers: number;
  /** The `<x>` of its `--concurrent-<x>-syncs` flag (default: the name); null when upstream has no such flag. */
  syncsFlag?: string | null;
  options?: readonly ControllerOption[];
  build(ctx: ControllerContext): { run(signal: AbortSignal, workers: number): Promise<void> };
}

/** Every controller k8ts has, named as kube-controller-manager's `--controllers` names them. */
export const CONTROLLERS: readonly ControllerDescriptor[] = [
  { name: 'deployment', defaultWorkers: 5, build: (ctx) => new DeploymentController({ ...ctx }) },
  { name: 'replicaset', defaultWorkers: 5, build: (ctx) => new ReplicaSetController({ ...ctx }) },
  { name: 'daemonset', defaultWorkers: 2, build: (ctx) => new DaemonSetController({ ...ctx }) },
  { name: 'statefulset', defaultWorkers: 5, build: (ctx) => new StatefulSetController({ ...ctx }) },
  { name: 'replicationcontroller', defaultWorkers: 5, build: (ctx) => new ReplicaSetController({ ...ctx, def: REPLICATIONCONTROLLERS }) },
  // Upstream's node lifecycle and taint eviction are two controllers since v1.29 (SeparateTaintEvictionController).
  { name: 'nodelifecycle', defaultWorkers: 8, syncsFlag: null, build: (ctx) => new NodeLifecycleController({ ...ctx, ...ctx.nodeLifecycle }) },
  { name: 'taint-eviction-controller', defaultWorkers: 8, syncsFlag: null, build: (ctx) => new TaintEvictionController({ ...ctx }) },
  { name: 'garbagecollector', defaultWorkers: 20, syncsFlag: 'gc', build: (ctx) => new GarbageCollector({ ...ctx }) },
  { name: 'namespace', defaultWorkers: 10, build: (ctx) => new NamespaceController({ ...ctx }) },
  {
    name: 'podgc', defaultWorkers: 1, syncsFlag: null,
    options: [{
      flag: 'terminated-pod-gc-threshold', default: String(DEFAULT_TERMINATED_POD_GC_THRESHOLD),
      description: 'terminated pods kept before the pod garbage collector deletes the oldest; 0 disables it',
    }],
    build: (ctx) => {
      const threshold = Number(ctx.option('terminated-pod-gc-threshold') ?? DEFAULT_TERMINATED_POD_GC_THRESHOLD);
      if (!Number.isInteger(threshold) || threshold < 0) throw new Error(`--terminated-pod-gc-threshold must be a non-negative integer, got ${ctx.option('terminated-pod-gc-threshold')}`);
      return new PodGCController({ ...ctx, terminatedPodThreshold: threshold });
    },
  },
  { name: 'endpoint', defaultWorkers: 5, build: (ctx) => new EndpointsController({ ...ctx }) },
  {
    name: 'endpointslice', defaultWorkers: 5, syncsFlag: 'service-endpoint',
    options: [{
      flag: 'max-endpoints-per-slice', default: String(DEFAULT_MAX_ENDPOINTS_PER_SLICE),
      description: 'the most endpoints the endpointslice controller puts in one EndpointSlice (1 to 1000)',
    }],
    build: (ctx) => {
      const max = Number(ctx.option('max-endpoints-per-slice') ?? DEFAULT_MAX_ENDPOINTS_PER_SLICE);
      if (!Number.isInteger(max) || max < 1 || max > 1000) throw new Error(`--max-endpoints-per-slice must be an integer from 1 to 1000, got ${ctx.option('max-endpoints-per-slice')}`);
      return new EndpointSliceController({ ...ctx, maxEndpointsPerSlice: max });
    },
  },
  // Upstream's is the cloud provider's; this one is k3s's ServiceLB: the nodes' addresses as ingress.
  { name: 'service-lb-controller', defaultWorkers: 1, syncsFlag: 'service', build: (ctx) => new ServiceLBController({ ...ctx }) },
  { name: 'job', defaultWorkers: 5, build: (ctx) => new JobController({ ...ctx }) },
  { name: 'cronjob', defaultWorkers: 5, syncsFlag: 'cron-job', build: (ctx) => new CronJobController({ ...ctx }) },
  { name: 'ttl-after-finished', defaultWorkers: 5, build: (ctx) => new TTLAfterFinishedController({ ...ctx }) },
  // upstream runs it with one worker and no flag
  { name: 'serviceaccount', defaultWorkers: 1, syncsFlag: null, build: (ctx) => new ServiceAccountsController({ ...ctx }) },
  // upstream runs the disruption controller with one worker and no flag
  { name: 'disruption', defaultWorkers: 1, syncsFlag: null, build: (ctx) => new DisruptionController({ ...ctx }) },
  { name: 'persistentvolume-binder', defaultWorkers: 1, syncsFlag: null, build: (ctx) => new PersistentVolumeController({ ...ctx }) },
  // k3s runs rancher's provisioner as a Deployment with helper pods; nodes share one host here, so it runs in-process.
  {
    name: 'local-path-provisioner', defaultWorkers: 1, syncsFlag: null,
    options: [{ flag: 'local-path-dir', default: DEFAULT_LOCAL_PATH_DIR, description: 'where the local-path provisioner puts each node\'s volumes ({node} is the node name)' }],
    build: (ctx) => new LocalPathProvisioner({ ...ctx, dir: ctx.option('local-path-dir') ?? DEFAULT_LOCAL_PATH_DIR }),
  },
  {
    name: 'horizontalpodautoscaling', defaultWorkers: 5, syncsFlag: 'horizontal-pod-autoscaler',
    options: [
      { flag: 'horizontal-pod-autoscaler-sync-period', default: `${DEFAULT_HPA_SYNC_PERIOD_MS / 1000}s`, description: 'how often each HorizontalPodAutoscaler is reconciled' },
      { flag: 'horizontal-pod-autoscaler-downscale-stabilization', default: `${DEFAULT_DOWNSCALE_STABILIZATION_MS / 60_000}m0s`, description: 'the scale-down stabilization window of HPAs that set none' },
      { flag: 'horizontal-pod-autoscaler-tolerance', default: String(DEFAULT_TOLERANCE), description: 'how far the usage ratio may be from 1.0 before the HPA scales' },
      { flag: 'horizontal-pod-autoscaler-cpu-initialization-period', default: `${DEFAULT_CPU_INITIALIZATION_PERIOD_MS / 60_000}m0s`, description: 'after a pod starts, how long its CPU samples may be skipped' },
      { flag: 'horizontal-pod-autoscaler-initial-readiness-delay', default: `${DEFAULT_INITIAL_READINESS_DELAY_MS / 1000}s`, description: 'after a pod starts, how long readiness changes count as its initial readiness' },
    ],
    build: (ctx) => {
      const duration = (flag: string, fallback: number) => {
        const v = ctx.option(flag);
        const ms = v === undefined ? fallback : parseDuration(v);
        if (!(ms >= 0)) throw new Error(`--${flag} must be a duration such as 15s, got ${v}`);
        return ms;
      };
      const tolerance = Number(ctx.option('horizontal-pod-autoscaler-tolerance') ?? DEFAULT_TOLERANCE);
      if (!(tolerance >= 0)) throw new Error(`--horizontal-pod-autoscaler-tolerance must be a non-negative number, got ${ctx.option('horizontal-pod-autoscaler-tolerance')}`);
      const syncPeriodMs = duration('horizontal-pod-autoscaler-sync-period', DEFAULT_HPA_SYNC_PERIOD_MS);
      if (syncPeriodMs <= 0) throw new Error('--horizontal-pod-autoscaler-sync-period must be positive');
      return new HorizontalController({
        ...ctx, syncPeriodMs, tolerance,
        downscaleStabilizationMs: duration('horizontal-pod-autoscaler-downscale-stabilization', DEFAULT_DOWNSCALE_STABILIZATION_MS),
        cpuInitializationPeriodMs: duration('horizontal-pod-autoscaler-cpu-initialization-period', DEFAULT_CPU_INITIALIZATION_PERIOD_MS),
        initialReadinessDelayMs: duration('horizontal-pod-autoscaler-initial-readiness-delay', DEFAULT_INITIAL_READINESS_DELAY_MS),
      });
    },
  },
];

/**
 * Which controllers `--controllers` enables, as upstream: `*` all (default), `name` adds, `-name` removes;
 * unknown names are an error.
 */
export function enabledControllers(spec: string, all: readonly ControllerDescriptor[] = CONTROLLERS): ControllerDescriptor[] {
  const names = spec.split(',').map((s) => s.trim()).filter(Boolean);
  const known = new Set(all.map((c) => c.name));
  for (const n of names) {
    const bare = n.replace(/^-/, '');
    if (bare !== '*' && !known.has(bare)) throw new Error(`"${bare}" is not in the list of known controllers (${[...known].join(', ')})`);
  }
  const star = names.includes('*');
  return all.filter((c) => !names.includes(`-${c.name}`) && (star || names.includes(c.name)));
}
