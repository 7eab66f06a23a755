export { ApiError, errors, isNamespaceTerminating, isStatus, reasonForCode, qualifiedResource, formatFieldError } from './errors.js';
export type { Status, StatusReason, StatusCause, StatusDetails, FieldError } from './errors.js';
export {
  RESOURCES, storedResources, groupVersion, apiVersionOf, parseApiVersion, findResource, findKind, resolveResource, resourcePath,
} from './registry.js';
export type { ResourceDef, SubresourceDef } from './registry.js';
export { discoverResources } from './discovery.js';
export {
  NAMESPACES, NODES, PODS, SERVICES, ENDPOINTS, CONFIGMAPS, SECRETS, EVENTS, SERVICEACCOUNTS, DEPLOYMENTS, REPLICASETS,
  DAEMONSETS, STATEFULSETS, JOBS, LEASES, HORIZONTALPODAUTOSCALERS, HORIZONTALPODAUTOSCALERS_V1, EVENTS_V1, ENDPOINTSLICES, PRIORITYCLASSES,
  REPLICATIONCONTROLLERS, PODTEMPLATES, PERSISTENTVOLUMES, PERSISTENTVOLUMECLAIMS, LIMITRANGES, RESOURCEQUOTAS,
  CONTROLLERREVISIONS, CRONJOBS, INGRESSES, INGRESSCLASSES, PODDISRUPTIONBUDGETS, STORAGECLASSES,
  ROLES, CLUSTERROLES, ROLEBINDINGS, CLUSTERROLEBINDINGS, CUSTOMRESOURCEDEFINITIONS,
  SELFSUBJECTREVIEWS, TOKENREVIEWS, LOCALSUBJECTACCESSREVIEWS, SELFSUBJECTACCESSREVIEWS, SELFSUBJECTRULESREVIEWS, SUBJECTACCESSREVIEWS,
} from './resources.js';
export type {
  KubeObject, KubeList, WatchEvent, ObjectMeta, ListMeta, OwnerReference, LabelSelector, Condition, Time,
  Pod, PodSpec, PodStatus, Container, Node, Namespace, Service, Endpoints, ConfigMap, Secret, Event, ServiceAccount,
  Binding, PodTemplateSpec, Deployment, ReplicaSet, DaemonSet, StatefulSet, Job, CronJob, Lease, EndpointSlice,
  HorizontalPodAutoscaler, PriorityClass,
  PersistentVolume, PersistentVolumeClaim, StorageClass, PodDisruptionBudget,
} from './types.js';
export { createLogger, silentLogger } from './logger.js';
export type { Logger } from './logger.js';
export { realClock, sleep, FakeClock } from './clock.js';
export type { Clock } from './clock.js';
export {
  parseLabelSelector, matchesLabels, labelSelectorRequirements, formatLabelSelector,
  parseFieldSelector, matchesFields, formatFieldSelector,
} from './selectors.js';
export type { LabelRequirement, FieldRequirement } from './selectors.js';
export {
  isQualifiedName, isValidLabelValue, isDNS1123Subdomain, isDNS1123Label, isDNS1035Label, regexError, maxLenError,
} from './names.js';
export { parseQuantity, parseQuantityExact, cpuMillis, quantityValue, formatQuantity, compareQuantities } from './quantity.js';
export { WorkQueue } from './workqueue.js';
export type { WorkQueueOptions } from './workqueue.js';
export { runWorkers } from './run-workers.js';
export type { RunWorkersOptions } from './run-workers.js';
export { TokenBucketRateLimiter } from './rate-limiter.js';
export { rfc3339, microTime } from './time.js';
export { hostAddress, defaultRouteInterfaces } from './host-address.js';
export { getControllerOf, newControllerRef, isControlledBy } from './controller-ref.js';
export { ApiClient, JsonObjectDecoder } from './client.js';
export type {
  ApiClientOptions, KubeconfigClientOptions, KubeObjectLike, ListOptions, WatchOptions, WriteOptions, PatchType, RequestOptions, QueryValue, HttpTransport,
  DeleteOptions,
} from './client.js';
export { Informer, InformerCache, objectKey } from './informer.js';
export type { InformerHandler, InformerOptions, SharedInformer } from './informer.js';
export { Indexer, Lister, NAMESPACE_INDEX, byNamespace, byOwnerUid, byNodeName } from './indexer.js';
export type { IndexFunc, Indexers } from './indexer.js';
export { SharedInformerFactory } from './informer-factory.js';
export type { InformerFactory, InformerRequest, SharedInformerFactoryOptions } from './informer-factory.js';
export { LeaderElector, SCHEDULER_DEBUG_URL_ANNOTATION } from './leader-election.js';
export type { LeaderElectorOptions, LeaderCallbacks } from './leader-election.js';
export { EventRecorder, eventTarget } from './events.js';
export type { EventTarget } from './events.js';
export {
  ANN_BIND_COMPLETED, ANN_BOUND_BY_CONTROLLER, ANN_SELECTED_NODE, ANN_STORAGE_PROVISIONER, ANN_BETA_STORAGE_PROVISIONER,
  ANN_DYNAMICALLY_PROVISIONED, ANN_BETA_STORAGE_CLASS, NO_PROVISIONER, claimClass, volumeClass, isDelayBindingMode,
  isVolumeBoundToClaim, requestedStorage, findMatchingVolume,
} from './volume.js';
export { byKey, compilePatchMeta, patchTableFor } from './patch-meta.js';
export type { FieldMeta, PatchMeta, PatchTable } from './patch-meta.js';
export { matchesRequiredNodeAffinity, nodeMatchesTerm } from './node-affinity.js';
export type { NodeSelectorTerm, NodeSelectorRequirement } from './node-affinity.js';
