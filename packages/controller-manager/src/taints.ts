import { ApiError, NODES, rfc3339, type ApiClient, type Clock, type Node, type Pod } from '@k8ts/api';

export type Taint = NonNullable<NonNullable<Node['spec']>['taints']>[number];
export type Toleration = NonNullable<NonNullable<Pod['spec']>['tolerations']>[number];
export type NodeCondition = NonNullable<NonNullable<Node['status']>['conditions']>[number];

/** Well-known taint keys (k8s.io/api/core/v1 well_known_taints.go). */
export const TAINT_NODE_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_NODE_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_NODE_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
export const TAINT_NODE_MEMORY_PRESSURE = 'node.kubernetes.io/memory-pressure';
export const TAINT_NODE_DISK_PRESSURE = 'node.kubernetes.io/disk-pressure';
export const TAINT_NODE_PID_PRESSURE = 'node.kubernetes.io/pid-pressure';
export const TAINT_NODE_NETWORK_UNAVAILABLE = 'node.kubernetes.io/network-unavailable';

/** The same taint as far as taints go: key and effect (upstream's Taint.MatchTaint). */
export function matchTaint(a: Taint, b: Taint): boolean {
  return a.key === b.key && a.effect === b.effect;
}

/** Whether a toleration tolerates a taint (upstream's Toleration.ToleratesTaint). */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  switch (t.operator ?? '') {
    case '':
    case 'Equal':
      return (t.value ?? '') === (taint.value ?? '');
    case 'Exists':
      return true;
    default:
      return false;
  }
}

/**
 * Whether every taint is tolerated, and the first toleration that tolerates each (upstream's
 * v1helper.GetMatchingTolerations).
 */
export function matchingTolerations(taints: readonly Taint[], tolerations: readonly Toleration[]): { tolerated: boolean; used: Toleration[] } {
  if (taints.length === 0) return { tolerated: true, used: [] };
  const used: Toleration[] = [];
  for (const taint of taints) {
    const t = tolerations.find((x) => toleratesTaint(x, taint));
    if (!t) return { tolerated: false, used: [] };
    used.push(t);
  }
  return { tolerated: true, used };
}

/** The Node condition of a type (controllerutil.GetNodeCondition). */
export function nodeCondition(node: Node | { status?: Node['status'] } | undefined, type: string): NodeCondition | undefined {
  return node?.status?.conditions?.find((c) => c.type === type);
}

/**
 * Adds `add` (each stamped with timeAdded now, replacing a taint of the same key and effect) and removes `remove`
 * from a node's taints (upstream's SwapNodeControllerTaint: AddOrUpdateTaintOnNode then RemoveTaintOffNode), as one
 * merge patch guarded by the node's resourceVersion, re-reading the node and retrying on a conflict. Returns false
 * when the node is gone; nothing is written when the taints are already as wanted.
 */
export async function swapNodeTaints(client: ApiClient, clock: Clock, node: Node, add: readonly Taint[], remove: readonly Taint[]): Promise<boolean> {
  let current = node;
  for (let attempt = 0; ; attempt++) {
    const taints = current.spec?.taints ?? [];
    let next = taints.filter((t) => !remove.some((r) => matchTaint(t, r)));
    const missing = add.filter((a) => !next.some((t) => matchTaint(t, a) && (t.value ?? '') === (a.value ?? '')));
    if (missing.length) {
      const stamped = missing.map((a) => ({ ...a, timeAdded: rfc3339(clock.now()) }));
      next = [...next.filter((t) => !missing.some((a) => matchTaint(t, a))), ...stamped];
    }
    if (next.length === taints.length && !missing.length) return true;
    try {
      await client.patch(NODES, undefined, current.metadata!.name!, {
        metadata: { resourceVersion: current.metadata?.resourceVersion }, spec: { taints: next.length ? next : null },
      }, 'merge');
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.isNotFound) return false;
      if (!(err instanceof ApiError && err.isConflict) || attempt >= 4) throw err;
      try {
        current = await client.get<Node>(NODES, undefined, current.metadata!.name!);
      } catch (e) {
        if (e instanceof ApiError && e.isNotFound) return false;
        throw e;
      }
    }
  }
}
