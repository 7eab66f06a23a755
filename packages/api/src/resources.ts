import { findResource, type ResourceDef } from './registry.js';

function must(group: string, version: string, resource: string): ResourceDef {
  const def = findResource(group, version, resource);
  if (!def) throw new Error(`resource ${resource} of ${group || 'core'}/${version} is not in the registry`);
  return def;
}

// One constant per registry row (as client-go's typed clients: `corev1.SchemeGroupVersion.WithResource("pods")`),
// so components say `PODS` instead of looking the row up and asserting it exists.

export const NAMESPACES = must('', 'v1', 'namespaces');
export const NODES = must('', 'v1', 'nodes');
export const PODS = must('', 'v1', 'pods');
export const SERVICES = must('', 'v1', 'services');
export const ENDPOINTS = must('', 'v1', 'endpoints');
export const CONFIGMAPS = must('', 'v1', 'configmaps');
export const SECRETS = must('', 'v1', 'secrets');
export const EVENTS = must('', 'v1', 'events');
/** events.k8s.io/v1 Events: the same objects as EVENTS, converted (regarding, note, reportingController …). */
export const EVENTS_V1 = must('events.k8s.io', 'v1', 'events');
export const SERVICEACCOUNTS = must('', 'v1', 'serviceaccounts');
export const DEPLOYMENTS = must('apps', 'v1', 'deployments');
export const REPLICASETS = must('apps', 'v1', 'replicasets');
export const DAEMONSETS = must('apps', 'v1', 'daemonsets');
export const STATEFULSETS = must('apps', 'v1', 'statefulsets');
export const JOBS = must('batch', 'v1', 'jobs');
export const LEASES = must('coordination.k8s.io', 'v1', 'leases');
export const HORIZONTALPODAUTOSCALERS = must('autoscaling', 'v2', 'horizontalpodautoscalers');
/** autoscaling/v1 HPAs: the same objects as HORIZONTALPODAUTOSCALERS, converted (targetCPUUtilizationPercentage). */
export const HORIZONTALPODAUTOSCALERS_V1 = must('autoscaling', 'v1', 'horizontalpodautoscalers');
export const ENDPOINTSLICES = must('discovery.k8s.io', 'v1', 'endpointslices');
export const PRIORITYCLASSES = must('scheduling.k8s.io', 'v1', 'priorityclasses');
export const REPLICATIONCONTROLLERS = must('', 'v1', 'replicationcontrollers');
export const PODTEMPLATES = must('', 'v1', 'podtemplates');
export const PERSISTENTVOLUMES = must('', 'v1', 'persistentvolumes');
export const PERSISTENTVOLUMECLAIMS = must('', 'v1', 'persistentvolumeclaims');
export const LIMITRANGES = must('', 'v1', 'limitranges');
export const RESOURCEQUOTAS = must('', 'v1', 'resourcequotas');
export const CONTROLLERREVISIONS = must('apps', 'v1', 'controllerrevisions');
export const CRONJOBS = must('batch', 'v1', 'cronjobs');
export const INGRESSES = must('networking.k8s.io', 'v1', 'ingresses');
export const INGRESSCLASSES = must('networking.k8s.io', 'v1', 'ingressclasses');
export const PODDISRUPTIONBUDGETS = must('policy', 'v1', 'poddisruptionbudgets');
export const STORAGECLASSES = must('storage.k8s.io', 'v1', 'storageclasses');
export const ROLES = must('rbac.authorization.k8s.io', 'v1', 'roles');
export const CLUSTERROLES = must('rbac.authorization.k8s.io', 'v1', 'clusterroles');
export const ROLEBINDINGS = must('rbac.authorization.k8s.io', 'v1', 'rolebindings');
export const CLUSTERROLEBINDINGS = must('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings');
export const SELFSUBJECTREVIEWS = must('authentication.k8s.io', 'v1', 'selfsubjectreviews');
export const TOKENREVIEWS = must('authentication.k8s.io', 'v1', 'tokenreviews');
export const LOCALSUBJECTACCESSREVIEWS = must('authorization.k8s.io', 'v1', 'localsubjectaccessreviews');
export const SELFSUBJECTACCESSREVIEWS = must('authorization.k8s.io', 'v1', 'selfsubjectaccessreviews');
export const SELFSUBJECTRULESREVIEWS = must('authorization.k8s.io', 'v1', 'selfsubjectrulesreviews');
export const SUBJECTACCESSREVIEWS = must('authorization.k8s.io', 'v1', 'subjectaccessreviews');
export const CUSTOMRESOURCEDEFINITIONS = must('apiextensions.k8s.io', 'v1', 'customresourcedefinitions');
