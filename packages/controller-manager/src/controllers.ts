import type { ApiClient, Clock, InformerFactory, Logger } from '@k8ts/api';
import { REPLICATIONCONTROLLERS } from '@k8ts/api';
import { DeploymentController } from './deployment/deployment-controller.js';
import { NodeLifecycleController, type NodeLifecycleOptions } from './nodelifecycle/node-lifecycle-controller.js';
import { ReplicaSetController } from './replicaset/replica-set-controller.js';
import { TaintEvictionController } from './tainteviction/taint-eviction-controller.js';

/** What every controller is started with: one client, one shared informer factory, one logger. */
export interface ControllerContext {
  client: ApiClient;
  informers: InformerFactory;
  log: Logger;
  clock?: Clock;
  /** `--concurrent-<name>-syncs`, by controller name. */
  workers(name: string): number;
  /** `--node-monitor-period`, `--node-monitor-grace-period`, … for the nodelifecycle controller. */
  nodeLifecycle?: NodeLifecycleOptions;
}

/** A controller as the manager knows it: its upstream name, and how to build it (building registers its informers). */
export interface ControllerDescriptor {
  name: string;
  /** Workers when `--concurrent-<name>-syncs` is not given (upstream's defaults). */
  defaultWorkers: number;
  /** False when upstream has no `--concurrent-<name>-syncs` flag for it (its workers are fixed). */
  workersFlag?: boolean;
  build(ctx: ControllerContext): { run(signal: AbortSignal, workers: number): Promise<void> };
}

/** Every controller k8ts has, named as kube-controller-manager's `--controllers` names them. */
export const CONTROLLERS: readonly ControllerDescriptor[] = [
  { name: 'deployment', defaultWorkers: 5, build: (ctx) => new DeploymentController({ ...ctx }) },
  { name: 'replicaset', defaultWorkers: 5, build: (ctx) => new ReplicaSetController({ ...ctx }) },
  { name: 'replicationcontroller', defaultWorkers: 5, build: (ctx) => new ReplicaSetController({ ...ctx, def: REPLICATIONCONTROLLERS }) },
  // Upstream's node lifecycle and taint eviction are two controllers since v1.29 (SeparateTaintEvictionController).
  { name: 'nodelifecycle', defaultWorkers: 8, workersFlag: false, build: (ctx) => new NodeLifecycleController({ ...ctx, ...ctx.nodeLifecycle }) },
  { name: 'taint-eviction-controller', defaultWorkers: 8, workersFlag: false, build: (ctx) => new TaintEvictionController({ ...ctx }) },
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
