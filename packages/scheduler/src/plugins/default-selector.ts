import {
  getControllerOf, labelSelectorRequirements, matchesLabels, REPLICASETS, REPLICATIONCONTROLLERS, SERVICES, STATEFULSETS,
  type InformerFactory, type KubeObjectLike, type LabelRequirement, type Lister, type Pod, type ReplicaSet, type Service,
  type StatefulSet,
} from '@k8ts/api';

/** The part of a ReplicationController the default selector reads (its selector is a plain label map). */
export interface ReplicationControllerLike extends KubeObjectLike {
  spec?: { selector?: Record<string, string> | null };
}

/** The listers default spreading reads (upstream's service, RC, RS and StatefulSet listers of the framework handle). */
export interface SpreadListers {
  services: Lister<Service>;
  replicationControllers: Lister<ReplicationControllerLike>;
  replicaSets: Lister<ReplicaSet>;
  statefulSets: Lister<StatefulSet>;
}

/** The four listers from shared informers (their informers start with the factory's other informers). */
export function spreadListers(informers: InformerFactory): SpreadListers {
  return {
    services: informers.informerFor<Service>(SERVICES).lister(),
    replicationControllers: informers.informerFor<ReplicationControllerLike>(REPLICATIONCONTROLLERS).lister(),
    replicaSets: informers.informerFor<ReplicaSet>(REPLICASETS).lister(),
    statefulSets: informers.informerFor<StatefulSet>(STATEFULSETS).lister(),
  };
}

const mapRequirements = (m: Record<string, string>): LabelRequirement[] =>
  Object.entries(m).map(([key, value]) => ({ key, operator: '=', values: [value] }));

/** Services of the pod's namespace whose selector matches its labels; a Service without a selector matches nothing. */
export function podServices(pod: Pod, services: Lister<Service>): Service[] {
  const labels = pod.metadata?.labels ?? {};
  return services.listNamespace(pod.metadata?.namespace ?? 'default').filter((s) => {
    const sel = s.spec?.selector;
    return sel !== undefined && sel !== null && matchesLabels(mapRequirements(sel), labels);
  });
}

/**
 * Upstream's helper.DefaultSelector: the union of the selectors of the Services that select the pod and of its
 * controller when that is a ReplicationController, ReplicaSet or StatefulSet the listers hold. Requirements with
 * the same key are kept as they come (they cannot conflict: each of them selects the pod). An empty result means no
 * selector: default spreading does not apply to the pod.
 */
export function defaultSelector(pod: Pod, listers: SpreadListers): LabelRequirement[] {
  const set: Record<string, string> = {};
  for (const s of podServices(pod, listers.services)) Object.assign(set, s.spec?.selector);
  let reqs = mapRequirements(set);
  const owner = getControllerOf(pod);
  if (!owner) return reqs;
  const ns = pod.metadata?.namespace ?? 'default';
  const controllerSelector = (sel: Parameters<typeof labelSelectorRequirements>[0]): LabelRequirement[] => {
    try {
      return labelSelectorRequirements(sel) ?? [];
    } catch {
      return []; // as upstream: a selector that does not parse adds nothing
    }
  };
  switch (`${owner.apiVersion}/${owner.kind}`) {
    case 'v1/ReplicationController': {
      const rc = listers.replicationControllers.get(ns, owner.name);
      if (rc) reqs = mapRequirements({ ...set, ...(rc.spec?.selector ?? {}) });
      break;
    }
    case 'apps/v1/ReplicaSet': {
      const rs = listers.replicaSets.get(ns, owner.name);
      if (rs) reqs = [...reqs, ...controllerSelector(rs.spec?.selector)];
      break;
    }
    case 'apps/v1/StatefulSet': {
      const ss = listers.statefulSets.get(ns, owner.name);
      if (ss) reqs = [...reqs, ...controllerSelector(ss.spec?.selector)];
      break;
    }
  }
  return reqs;
}
