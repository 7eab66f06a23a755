export { ReplicaSetController, selectorOf, BURST_REPLICAS } from './replicaset/replica-set-controller.js';
export type { ReplicaSetControllerDeps, ReplicatedObject } from './replicaset/replica-set-controller.js';
export { ControllerExpectations, EXPECTATIONS_TIMEOUT_MS } from './expectations.js';
export { deletionOrder, isPodActive, isPodAvailable, isPodReady, podFromTemplate, rankByRelatedOnSameNode, slowStartBatch } from './pods.js';
export { CONTROLLERS, enabledControllers } from './controllers.js';
export { DeploymentController } from './deployment/deployment-controller.js';
export type { DeploymentControllerDeps } from './deployment/deployment-controller.js';
export { NodeLifecycleController, NODE_LEASE_NAMESPACE, NOT_READY_TAINT, UNREACHABLE_TAINT } from './nodelifecycle/node-lifecycle-controller.js';
export type { NodeLifecycleControllerDeps, NodeLifecycleOptions } from './nodelifecycle/node-lifecycle-controller.js';
export { TaintEvictionController, minTolerationMs } from './tainteviction/taint-eviction-controller.js';
export type { TaintEvictionControllerDeps } from './tainteviction/taint-eviction-controller.js';
export { matchingTolerations, toleratesTaint } from './taints.js';
export { parseDuration } from './duration.js';
export type { ControllerContext, ControllerDescriptor, ControllerOption } from './controllers.js';
export { GarbageCollector, IGNORED_RESOURCES, monitoredResources } from './garbagecollector/garbage-collector.js';
export type { GarbageCollectorDeps } from './garbagecollector/garbage-collector.js';
export { FINALIZER_FOREGROUND, FINALIZER_ORPHAN } from './garbagecollector/graph.js';
export {
  NamespaceController, ResourcesRemainingError, FINALIZER_KUBERNETES, NAMESPACE_DELETION_GRACE_PERIOD_MS, DELETION_CONDITION_TYPES,
} from './namespace/namespace-controller.js';
export type { NamespaceControllerDeps } from './namespace/namespace-controller.js';
export { PodGCController, DEFAULT_TERMINATED_POD_GC_THRESHOLD, GC_CHECK_PERIOD_MS, QUARANTINE_MS } from './podgc/pod-gc-controller.js';
export type { PodGCControllerDeps } from './podgc/pod-gc-controller.js';
export { ServiceAccountsController } from './serviceaccount/service-accounts-controller.js';
export type { ServiceAccountsControllerDeps } from './serviceaccount/service-accounts-controller.js';
export { EndpointsController, repackSubsets, MAX_ENDPOINTS_CAPACITY, OVER_CAPACITY } from './endpoint/endpoints-controller.js';
export type { EndpointsControllerDeps } from './endpoint/endpoints-controller.js';
export { EndpointSliceController, StaleInformerCacheError } from './endpointslice/endpoint-slice-controller.js';
export type { EndpointSliceControllerDeps } from './endpointslice/endpoint-slice-controller.js';
export {
  reconcileSlices, podToEndpoint, endpointPorts, sliceLabels, LABEL_SERVICE_NAME, LABEL_MANAGED_BY, CONTROLLER_NAME,
  DEFAULT_MAX_ENDPOINTS_PER_SLICE, ZONE_LABEL,
} from './endpointslice/reconciler.js';
export type { SliceChanges, SliceEndpoint, SlicePort } from './endpointslice/reconciler.js';
export { findPort, shouldPodBeInEndpoints, TriggerTimeTracker, LAST_CHANGE_TRIGGER_TIME, HEADLESS_LABEL } from './endpoint-util.js';
export { ServiceLBController, loadBalancerIngress, nodeIngressIP } from './servicelb/service-lb-controller.js';
export type { ServiceLBControllerDeps } from './servicelb/service-lb-controller.js';
export { JobController, JOB_CONTROLLER_NAME, SYNC_JOB_BATCH_PERIOD_MS, isPodFailed } from './job/job-controller.js';
export type { JobControllerDeps } from './job/job-controller.js';
export {
  JOB_TRACKING_FINALIZER, JOB_COMPLETION_INDEX_ANNOTATION, JOB_INDEX_LABEL, JOB_COMPLETION_INDEX_ENV, DEFAULT_JOB_POD_FAILURE_BACKOFF_MS,
  MAX_JOB_POD_FAILURE_BACKOFF_MS, backoffRemainingMs, nextBackoffRecord, matchPodFailurePolicy, parseIndexes, formatIndexes,
} from './job/job-util.js';
export type { BackoffRecord, PolicyMatch } from './job/job-util.js';
export { CronJobController, CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION, jobNameFor } from './cronjob/cronjob-controller.js';
export type { CronJobControllerDeps } from './cronjob/cronjob-controller.js';
export { parseSchedule, mostRecentScheduleTime, nextScheduleDelay, formatInZone, NEXT_SCHEDULE_DELTA_MS } from './cronjob/schedule.js';
export type { Schedule, MissedSchedules } from './cronjob/schedule.js';
export { TTLAfterFinishedController, jobFinishTime } from './ttlafterfinished/ttl-after-finished-controller.js';
export type { TTLAfterFinishedControllerDeps } from './ttlafterfinished/ttl-after-finished-controller.js';
export { DisruptionController, DELETION_TIMEOUT_MS, expectedPodCount, disruptionsAllowed } from './disruption/disruption-controller.js';
export type { DisruptionControllerDeps } from './disruption/disruption-controller.js';
export { PersistentVolumeController } from './volume/persistentvolume/pv-controller.js';
export type { PersistentVolumeControllerDeps } from './volume/persistentvolume/pv-controller.js';
export { LocalPathProvisioner, LOCAL_PATH_PROVISIONER, DEFAULT_LOCAL_PATH_DIR, nodeVolumeDir } from './volume/persistentvolume/local-path-provisioner.js';
export type { LocalPathProvisionerDeps } from './volume/persistentvolume/local-path-provisioner.js';
export {
  HorizontalController, restScaleClient, scaleTargetResource, milliQuantity, DEFAULT_HPA_SYNC_PERIOD_MS, DEFAULT_DOWNSCALE_STABILIZATION_MS,
} from './podautoscaler/horizontal.js';
export type { HorizontalControllerDeps, Scale, ScaleClient } from './podautoscaler/horizontal.js';
export { ReplicaCalculator, groupPods, podRequests } from './podautoscaler/replica-calculator.js';
export { RestMetricsClient, podMetricsFromList } from './podautoscaler/metrics.js';
export type { MetricsClient, PodMetric, PodMetricsInfo } from './podautoscaler/metrics.js';
export { DaemonSetController, DAEMONSET_BURST_REPLICAS, shouldIgnoreNodeUpdate } from './daemonset/daemon-set-controller.js';
export type { DaemonSetControllerDeps } from './daemonset/daemon-set-controller.js';
export { nodeShouldRunDaemonPod, addDaemonPodTolerations, replaceNodeNameAffinity, targetNodeName } from './daemonset/util.js';
export { StatefulSetController } from './statefulset/stateful-set-controller.js';
export type { StatefulSetControllerDeps } from './statefulset/stateful-set-controller.js';
export { POD_NAME_LABEL, POD_INDEX_LABEL } from './statefulset/util.js';
export {
  ControllerHistory, CONTROLLER_REVISION_HASH_LABEL, POD_REVISION_LABEL, controllerRevisionName, hashControllerRevision, templatePatch,
  applyRevision, newControllerRevision, equalRevision, sortControllerRevisions,
} from './history/controller-history.js';
export type { ControllerRevision } from './history/controller-history.js';
