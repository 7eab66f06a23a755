import type { KubeObject, ResourceDef } from '@k8ts/api';

type Fields = (obj: any) => Record<string, string>;

const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

/** Field-selector fields per resource, beyond metadata.name/metadata.namespace (as upstream's GetAttrs). */
const FIELDS: Record<string, Fields> = {
  '/pods': (p) => ({
    'spec.nodeName': str(p.spec?.nodeName), 'spec.restartPolicy': str(p.spec?.restartPolicy),
    'spec.schedulerName': str(p.spec?.schedulerName), 'spec.serviceAccountName': str(p.spec?.serviceAccountName),
    'spec.hostNetwork': String(Boolean(p.spec?.hostNetwork)), 'status.phase': str(p.status?.phase),
    'status.podIP': str(p.status?.podIP), 'status.nominatedNodeName': str(p.status?.nominatedNodeName),
  }),
  '/events': (e) => ({
    'involvedObject.kind': str(e.involvedObject?.kind), 'involvedObject.namespace': str(e.involvedObject?.namespace),
    'involvedObject.name': str(e.involvedObject?.name), 'involvedObject.uid': str(e.involvedObject?.uid),
    'involvedObject.apiVersion': str(e.involvedObject?.apiVersion),
    'involvedObject.resourceVersion': str(e.involvedObject?.resourceVersion),
    'involvedObject.fieldPath': str(e.involvedObject?.fieldPath), reason: str(e.reason),
    reportingComponent: str(e.reportingComponent), source: str(e.source?.component), type: str(e.type),
  }),
  '/nodes': (n) => ({ 'spec.unschedulable': String(Boolean(n.spec?.unschedulable)) }),
  '/namespaces': (n) => ({ 'status.phase': str(n.status?.phase) }),
  '/secrets': (s) => ({ type: str(s.type) }),
  'apps/replicasets': (r) => ({ 'status.replicas': str(r.status?.replicas ?? 0) }),
  'batch/jobs': (j) => ({ 'status.successful': str(j.status?.successful ?? 0) }),
};

/** The fields a field selector may use on this resource, with their values for one object. */
export function selectableFields(def: ResourceDef, obj: KubeObject): Record<string, string> {
  const extra = FIELDS[`${def.group}/${def.resource}`];
  return {
    'metadata.name': obj.metadata?.name ?? '',
    'metadata.namespace': obj.metadata?.namespace ?? '',
    ...(extra ? extra(obj) : {}),
  };
}

/** Resources whose metadata.generation counts spec changes (their controllers report observedGeneration). */
const GENERATION = new Set(['apps/deployments', 'apps/replicasets', 'apps/daemonsets', 'apps/statefulsets', 'batch/jobs',
  'autoscaling/horizontalpodautoscalers']);

export function tracksGeneration(def: ResourceDef): boolean {
  return GENERATION.has(`${def.group}/${def.resource}`);
}

export function hasStatus(def: ResourceDef): boolean {
  return def.subresources.some((s) => s.name === 'status');
}

/** The status a new object starts with, as upstream's PrepareForCreate (status is the controllers' to write). */
export function initialStatus(def: ResourceDef, obj: KubeObject): unknown {
  switch (`${def.group}/${def.resource}`) {
    case '/pods': return { phase: 'Pending', qosClass: qosClass(obj) };
    case '/namespaces': return { phase: 'Active' };
    case '/nodes': return obj.status ?? {}; // the kubelet registers its node with status, as upstream allows
    case '/services': return { loadBalancer: {} };
    default: return hasStatus(def) ? {} : obj.status;
  }
}

/** Guaranteed, Burstable or BestEffort, from the containers' requests and limits (upstream's GetPodQOS, cpu+memory). */
export function qosClass(pod: any): string {
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  let any = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    for (const r of ['cpu', 'memory']) {
      if (req[r] !== undefined || lim[r] !== undefined) any = true;
      const request = req[r] ?? lim[r];
      if (lim[r] === undefined || String(request) !== String(lim[r])) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
