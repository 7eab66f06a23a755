import type { FieldError, ResourceDef } from '@k8ts/api';

/**
 * The structural type check upstream gets from decoding JSON into Go structs: a field of the wrong JSON type
 * (`"ports": "x"`, `"containers": 5`, `metadata.name: true`, `replicas: 1e308`) fails the decode with
 * encoding/json's message, before defaults, admission or validation see the object. Unknown fields are not
 * checked (upstream's non-strict decode ignores them). `null` is what Go decodes to a zero value: null fields
 * are dropped, null elements of struct lists become `{}`, null map values of strings become "".
 *
 * The map below is hand-written from the Go types of the served kinds (`v1.PodSpec` ...) and names them as
 * Go's error does: `json: cannot unmarshal string into Go struct field EndpointSlice.ports of type []v1.EndpointPort`.
 */

/** s string, i32/i64 integers, b bool, f64 float, q Quantity, ios IntOrString, t Time/MicroTime, bytes []byte, any anything. */
type Prim = 's' | 'i32' | 'i64' | 'b' | 'f64' | 'q' | 'ios' | 't' | 'mt' | 'bytes' | 'any';
type Ty = Prim | `@${string}` | Ty[] | { m: Ty };
interface StructDef { go: string; fields: Record<string, Ty> }

const STRUCTS: Record<string, StructDef> = {};
/** Declares a Go struct: `name` as Go's error names the struct, `pkg` its package name. */
function S(name: string, fields: Record<string, Ty>, pkg = 'v1', key = name): void {
  STRUCTS[key] = { go: `${pkg}.${name}`, fields };
}
const ms: Ty = { m: 's' };
const typeMeta = { apiVersion: 's', kind: 's' } as const;

// meta/v1
S('ObjectMeta', {
  name: 's', generateName: 's', namespace: 's', selfLink: 's', uid: 's', resourceVersion: 's', generation: 'i64',
  creationTimestamp: 't', deletionTimestamp: 't', deletionGracePeriodSeconds: 'i64', labels: ms, annotations: ms,
  ownerReferences: ['@OwnerReference'], finalizers: ['s'], managedFields: ['@ManagedFieldsEntry'],
});
S('OwnerReference', { apiVersion: 's', kind: 's', name: 's', uid: 's', controller: 'b', blockOwnerDeletion: 'b' });
S('ManagedFieldsEntry', { manager: 's', operation: 's', apiVersion: 's', time: 't', fieldsType: 's', fieldsV1: 'any', subresource: 's' });
S('LabelSelector', { matchLabels: ms, matchExpressions: ['@LabelSelectorRequirement'] });
S('LabelSelectorRequirement', { key: 's', operator: 's', values: ['s'] });
S('Condition', { type: 's', status: 's', observedGeneration: 'i64', lastTransitionTime: 't', reason: 's', message: 's' });

// core/v1
S('ObjectReference', { kind: 's', namespace: 's', name: 's', uid: 's', apiVersion: 's', resourceVersion: 's', fieldPath: 's' });
S('LocalObjectReference', { name: 's' });
S('Namespace', { ...typeMeta, metadata: '@ObjectMeta', spec: '@NamespaceSpec', status: '@NamespaceStatus' });
S('NamespaceSpec', { finalizers: ['s'] });
S('NamespaceStatus', { phase: 's', conditions: ['@NamespaceCondition'] });
S('NamespaceCondition', { type: 's', status: 's', lastTransitionTime: 't', reason: 's', message: 's' });
S('Node', { ...typeMeta, metadata: '@ObjectMeta', spec: '@NodeSpec', status: '@NodeStatus' });
S('NodeSpec', { podCIDR: 's', podCIDRs: ['s'], providerID: 's', unschedulable: 'b', taints: ['@Taint'] });
S('Taint', { key: 's', value: 's', effect: 's', timeAdded: 't' });
S('NodeStatus', {
  capacity: { m: 'q' }, allocatable: { m: 'q' }, phase: 's', conditions: ['@NodeCondition'], addresses: ['@NodeAddress'],
  daemonEndpoints: '@NodeDaemonEndpoints', nodeInfo: '@NodeSystemInfo', images: ['@ContainerImage'],
});
S('NodeCondition', { type: 's', status: 's', lastHeartbeatTime: 't', lastTransitionTime: 't', reason: 's', message: 's' });
S('NodeAddress', { type: 's', address: 's' });
S('NodeDaemonEndpoints', { kubeletEndpoint: '@DaemonEndpoint' });
S('DaemonEndpoint', { Port: 'i32' });
S('NodeSystemInfo', {
  machineID: 's', systemUUID: 's', bootID: 's', kernelVersion: 's', osImage: 's', containerRuntimeVersion: 's',
  kubeletVersion: 's', kubeProxyVersion: 's', operatingSystem: 's', architecture: 's',
});
S('ContainerImage', { names: ['s'], sizeBytes: 'i64' });
S('Pod', { ...typeMeta, metadata: '@ObjectMeta', spec: '@PodSpec', status: '@PodStatus' });
S('PodTemplateSpec', { metadata: '@ObjectMeta', spec: '@PodSpec' });
S('PodSpec', {
  volumes: ['@Volume'], initContainers: ['@Container'], containers: ['@Container'], restartPolicy: 's',
  terminationGracePeriodSeconds: 'i64', activeDeadlineSeconds: 'i64', dnsPolicy: 's', nodeSelector: ms,
  serviceAccountName: 's', serviceAccount: 's', automountServiceAccountToken: 'b', nodeName: 's', hostNetwork: 'b',
  hostPID: 'b', hostIPC: 'b', shareProcessNamespace: 'b', securityContext: '@PodSecurityContext',
  imagePullSecrets: ['@LocalObjectReference'], hostname: 's', subdomain: 's', affinity: '@Affinity', schedulerName: 's',
  tolerations: ['@Toleration'], hostAliases: ['@HostAlias'], priorityClassName: 's', priority: 'i32',
  readinessGates: ['@PodReadinessGate'], runtimeClassName: 's', enableServiceLinks: 'b', preemptionPolicy: 's',
  overhead: { m: 'q' }, topologySpreadConstraints: ['@TopologySpreadConstraint'], setHostnameAsFQDN: 'b',
});
S('Container', {
  name: 's', image: 's', command: ['s'], args: ['s'], workingDir: 's', ports: ['@ContainerPort'], envFrom: ['@EnvFromSource'],
  env: ['@EnvVar'], resources: '@ResourceRequirements', restartPolicy: 's', volumeMounts: ['@VolumeMount'],
  livenessProbe: '@Probe', readinessProbe: '@Probe', startupProbe: '@Probe', lifecycle: '@Lifecycle',
  terminationMessagePath: 's', terminationMessagePolicy: 's', imagePullPolicy: 's', securityContext: '@SecurityContext',
  stdin: 'b', stdinOnce: 'b', tty: 'b',
});
S('ContainerPort', { name: 's', hostPort: 'i32', containerPort: 'i32', protocol: 's', hostIP: 's' });
S('EnvFromSource', { prefix: 's', configMapRef: '@ConfigMapEnvSource', secretRef: '@SecretEnvSource' });
S('ConfigMapEnvSource', { name: 's', optional: 'b' });
S('SecretEnvSource', { name: 's', optional: 'b' });
S('EnvVar', { name: 's', value: 's', valueFrom: '@EnvVarSource' });
S('EnvVarSource', {
  fieldRef: '@ObjectFieldSelector', resourceFieldRef: '@ResourceFieldSelector', configMapKeyRef: '@ConfigMapKeySelector',
  secretKeyRef: '@SecretKeySelector',
});
S('ObjectFieldSelector', { apiVersion: 's', fieldPath: 's' });
S('ResourceFieldSelector', { containerName: 's', resource: 's', divisor: 'q' });
S('ConfigMapKeySelector', { name: 's', key: 's', optional: 'b' });
S('SecretKeySelector', { name: 's', key: 's', optional: 'b' });
S('ResourceRequirements', { limits: { m: 'q' }, requests: { m: 'q' } });
S('VolumeMount', { name: 's', readOnly: 'b', mountPath: 's', subPath: 's', mountPropagation: 's', subPathExpr: 's' });
S('Probe', {
  exec: '@ExecAction', httpGet: '@HTTPGetAction', tcpSocket: '@TCPSocketAction', grpc: '@GRPCAction',
  initialDelaySeconds: 'i32', timeoutSeconds: 'i32', periodSeconds: 'i32', successThreshold: 'i32', failureThreshold: 'i32',
  terminationGracePeriodSeconds: 'i64',
});
S('ExecAction', { command: ['s'] });
S('HTTPGetAction', { path: 's', port: 'ios', host: 's', scheme: 's', httpHeaders: ['@HTTPHeader'] });
S('HTTPHeader', { name: 's', value: 's' });
S('TCPSocketAction', { port: 'ios', host: 's' });
S('GRPCAction', { port: 'i32', service: 's' });
S('Lifecycle', { postStart: '@LifecycleHandler', preStop: '@LifecycleHandler' });
S('LifecycleHandler', { exec: '@ExecAction', httpGet: '@HTTPGetAction', tcpSocket: '@TCPSocketAction', sleep: '@SleepAction' });
S('SleepAction', { seconds: 'i64' });
S('SecurityContext', {
  capabilities: '@Capabilities', privileged: 'b', runAsUser: 'i64', runAsGroup: 'i64', runAsNonRoot: 'b',
  readOnlyRootFilesystem: 'b', allowPrivilegeEscalation: 'b', procMount: 's',
});
S('Capabilities', { add: ['s'], drop: ['s'] });
S('PodSecurityContext', {
  runAsUser: 'i64', runAsGroup: 'i64', runAsNonRoot: 'b', supplementalGroups: ['i64'], fsGroup: 'i64', sysctls: ['@Sysctl'],
  fsGroupChangePolicy: 's',
});
S('Sysctl', { name: 's', value: 's' });
S('Volume', {
  name: 's', hostPath: '@HostPathVolumeSource', emptyDir: '@EmptyDirVolumeSource', secret: '@SecretVolumeSource',
  configMap: '@ConfigMapVolumeSource', downwardAPI: '@DownwardAPIVolumeSource',
  persistentVolumeClaim: '@PersistentVolumeClaimVolumeSource', projected: 'any',
});
S('HostPathVolumeSource', { path: 's', type: 's' });
S('EmptyDirVolumeSource', { medium: 's', sizeLimit: 'q' });
S('SecretVolumeSource', { secretName: 's', items: ['@KeyToPath'], defaultMode: 'i32', optional: 'b' });
S('ConfigMapVolumeSource', { name: 's', items: ['@KeyToPath'], defaultMode: 'i32', optional: 'b' });
S('KeyToPath', { key: 's', path: 's', mode: 'i32' });
S('DownwardAPIVolumeSource', { items: ['@DownwardAPIVolumeFile'], defaultMode: 'i32' });
S('DownwardAPIVolumeFile', { path: 's', fieldRef: '@ObjectFieldSelector', resourceFieldRef: '@ResourceFieldSelector', mode: 'i32' });
S('PersistentVolumeClaimVolumeSource', { claimName: 's', readOnly: 'b' });
S('Toleration', { key: 's', operator: 's', value: 's', effect: 's', tolerationSeconds: 'i64' });
S('HostAlias', { ip: 's', hostnames: ['s'] });
S('PodReadinessGate', { conditionType: 's' });
S('TopologySpreadConstraint', {
  maxSkew: 'i32', topologyKey: 's', whenUnsatisfiable: 's', labelSelector: '@LabelSelector', minDomains: 'i32',
  nodeAffinityPolicy: 's', nodeTaintsPolicy: 's', matchLabelKeys: ['s'],
});
S('Affinity', { nodeAffinity: '@NodeAffinity', podAffinity: '@PodAffinity', podAntiAffinity: '@PodAntiAffinity' });
S('NodeAffinity', {
  requiredDuringSchedulingIgnoredDuringExecution: '@NodeSelector',
  preferredDuringSchedulingIgnoredDuringExecution: ['@PreferredSchedulingTerm'],
});
S('NodeSelector', { nodeSelectorTerms: ['@NodeSelectorTerm'] });
S('NodeSelectorTerm', { matchExpressions: ['@NodeSelectorRequirement'], matchFields: ['@NodeSelectorRequirement'] });
S('NodeSelectorRequirement', { key: 's', operator: 's', values: ['s'] });
S('PreferredSchedulingTerm', { weight: 'i32', preference: '@NodeSelectorTerm' });
const podAffinity: Record<string, Ty> = {
  requiredDuringSchedulingIgnoredDuringExecution: ['@PodAffinityTerm'],
  preferredDuringSchedulingIgnoredDuringExecution: ['@WeightedPodAffinityTerm'],
};
S('PodAffinity', podAffinity);
S('PodAntiAffinity', podAffinity);
S('PodAffinityTerm', { labelSelector: '@LabelSelector', namespaces: ['s'], topologyKey: 's', namespaceSelector: '@LabelSelector' });
S('WeightedPodAffinityTerm', { weight: 'i32', podAffinityTerm: '@PodAffinityTerm' });
S('PodStatus', {
  phase: 's', conditions: ['@PodCondition'], message: 's', reason: 's', nominatedNodeName: 's', hostIP: 's',
  hostIPs: ['@HostIP'], podIP: 's', podIPs: ['@PodIP'], startTime: 't', initContainerStatuses: ['@ContainerStatus'],
  containerStatuses: ['@ContainerStatus'], qosClass: 's',
});
S('PodCondition', { type: 's', status: 's', lastProbeTime: 't', lastTransitionTime: 't', reason: 's', message: 's' });
S('HostIP', { ip: 's' });
S('PodIP', { ip: 's' });
S('ContainerStatus', {
  name: 's', state: '@ContainerState', lastState: '@ContainerState', ready: 'b', restartCount: 'i32', image: 's',
  imageID: 's', containerID: 's', started: 'b',
});
S('ContainerState', { waiting: '@ContainerStateWaiting', running: '@ContainerStateRunning', terminated: '@ContainerStateTerminated' });
S('ContainerStateWaiting', { reason: 's', message: 's' });
S('ContainerStateRunning', { startedAt: 't' });
S('ContainerStateTerminated', { exitCode: 'i32', signal: 'i32', reason: 's', message: 's', startedAt: 't', finishedAt: 't', containerID: 's' });
S('Service', { ...typeMeta, metadata: '@ObjectMeta', spec: '@ServiceSpec', status: '@ServiceStatus' });
S('ServiceSpec', {
  ports: ['@ServicePort'], selector: ms, clusterIP: 's', clusterIPs: ['s'], type: 's', externalIPs: ['s'],
  sessionAffinity: 's', loadBalancerIP: 's', loadBalancerSourceRanges: ['s'], externalName: 's',
  externalTrafficPolicy: 's', healthCheckNodePort: 'i32', publishNotReadyAddresses: 'b', ipFamilies: ['s'],
  ipFamilyPolicy: 's', allocateLoadBalancerNodePorts: 'b', loadBalancerClass: 's', internalTrafficPolicy: 's',
});
S('ServicePort', { name: 's', protocol: 's', appProtocol: 's', port: 'i32', targetPort: 'ios', nodePort: 'i32' });
S('ServiceStatus', { loadBalancer: '@LoadBalancerStatus', conditions: ['@Condition'] });
S('LoadBalancerStatus', { ingress: ['@LoadBalancerIngress'] });
S('LoadBalancerIngress', { ip: 's', hostname: 's', ipMode: 's' });
S('Endpoints', { ...typeMeta, metadata: '@ObjectMeta', subsets: ['@EndpointSubset'] });
S('EndpointSubset', { addresses: ['@EndpointAddress'], notReadyAddresses: ['@EndpointAddress'], ports: ['@CoreEndpointPort'] });
S('EndpointAddress', { ip: 's', hostname: 's', nodeName: 's', targetRef: '@ObjectReference' });
S('EndpointPort', { name: 's', port: 'i32', protocol: 's', appProtocol: 's' }, 'v1', 'CoreEndpointPort');
S('ConfigMap', { ...typeMeta, metadata: '@ObjectMeta', data: ms, binaryData: { m: 'bytes' }, immutable: 'b' });
S('Secret', { ...typeMeta, metadata: '@ObjectMeta', data: { m: 'bytes' }, stringData: ms, type: 's', immutable: 'b' });
S('Event', {
  ...typeMeta, metadata: '@ObjectMeta', involvedObject: '@ObjectReference', reason: 's', message: 's', source: '@EventSource',
  firstTimestamp: 't', lastTimestamp: 't', count: 'i32', type: 's', eventTime: 'mt', series: '@EventSeries', action: 's',
  related: '@ObjectReference', reportingComponent: 's', reportingInstance: 's',
});
S('EventSource', { component: 's', host: 's' });
S('EventSeries', { count: 'i32', lastObservedTime: 'mt' });
// events.k8s.io/v1, served from the core/v1 storage (registry/events/event.ts).
S('Event', {
  ...typeMeta, metadata: '@ObjectMeta', eventTime: 'mt', series: '@EventSeries', reportingController: 's',
  reportingInstance: 's', action: 's', reason: 's', regarding: '@ObjectReference', related: '@ObjectReference', note: 's',
  type: 's', deprecatedSource: '@EventSource', deprecatedFirstTimestamp: 't', deprecatedLastTimestamp: 't', deprecatedCount: 'i32',
}, 'v1', 'Event/events.k8s.io/v1');
S('ServiceAccount', {
  ...typeMeta, metadata: '@ObjectMeta', secrets: ['@ObjectReference'], imagePullSecrets: ['@LocalObjectReference'],
  automountServiceAccountToken: 'b',
});

// apps/v1
const workloadStatus: Record<string, Ty> = { observedGeneration: 'i64', replicas: 'i32', readyReplicas: 'i32', availableReplicas: 'i32', collisionCount: 'i32' };
S('Deployment', { ...typeMeta, metadata: '@ObjectMeta', spec: '@DeploymentSpec', status: '@DeploymentStatus' });
S('DeploymentSpec', {
  replicas: 'i32', selector: '@LabelSelector', template: '@PodTemplateSpec', strategy: '@DeploymentStrategy',
  minReadySeconds: 'i32', revisionHistoryLimit: 'i32', paused: 'b', progressDeadlineSeconds: 'i32',
});
S('DeploymentStrategy', { type: 's', rollingUpdate: '@RollingUpdateDeployment' });
S('RollingUpdateDeployment', { maxUnavailable: 'ios', maxSurge: 'ios' });
S('DeploymentStatus', { ...workloadStatus, updatedReplicas: 'i32', unavailableReplicas: 'i32', conditions: ['@DeploymentCondition'] });
S('DeploymentCondition', { type: 's', status: 's', lastUpdateTime: 't', lastTransitionTime: 't', reason: 's', message: 's' });
S('ReplicaSet', { ...typeMeta, metadata: '@ObjectMeta', spec: '@ReplicaSetSpec', status: '@ReplicaSetStatus' });
S('ReplicaSetSpec', { replicas: 'i32', minReadySeconds: 'i32', selector: '@LabelSelector', template: '@PodTemplateSpec' });
S('ReplicaSetStatus', { ...workloadStatus, fullyLabeledReplicas: 'i32', conditions: ['@ReplicaSetCondition'] });
S('ReplicaSetCondition', { type: 's', status: 's', lastTransitionTime: 't', reason: 's', message: 's' });
S('DaemonSet', { ...typeMeta, metadata: '@ObjectMeta', spec: '@DaemonSetSpec', status: '@DaemonSetStatus' });
S('DaemonSetSpec', {
  selector: '@LabelSelector', template: '@PodTemplateSpec', updateStrategy: '@DaemonSetUpdateStrategy', minReadySeconds: 'i32',
  revisionHistoryLimit: 'i32',
});
S('DaemonSetUpdateStrategy', { type: 's', rollingUpdate: '@RollingUpdateDaemonSet' });
S('RollingUpdateDaemonSet', { maxUnavailable: 'ios', maxSurge: 'ios' });
S('DaemonSetStatus', {
  currentNumberScheduled: 'i32', numberMisscheduled: 'i32', desiredNumberScheduled: 'i32', numberReady: 'i32',
  observedGeneration: 'i64', updatedNumberScheduled: 'i32', numberAvailable: 'i32', numberUnavailable: 'i32', collisionCount: 'i32',
});
S('StatefulSet', { ...typeMeta, metadata: '@ObjectMeta', spec: '@StatefulSetSpec', status: '@StatefulSetStatus' });
S('StatefulSetSpec', {
  replicas: 'i32', selector: '@LabelSelector', template: '@PodTemplateSpec', volumeClaimTemplates: ['@PersistentVolumeClaim'], serviceName: 's',
  podManagementPolicy: 's', updateStrategy: '@StatefulSetUpdateStrategy', revisionHistoryLimit: 'i32', minReadySeconds: 'i32',
});
S('StatefulSetUpdateStrategy', { type: 's', rollingUpdate: '@RollingUpdateStatefulSetStrategy' });
S('RollingUpdateStatefulSetStrategy', { partition: 'i32', maxUnavailable: 'ios' });
S('StatefulSetStatus', { ...workloadStatus, currentReplicas: 'i32', updatedReplicas: 'i32', currentRevision: 's', updateRevision: 's' });

// batch/v1, coordination.k8s.io/v1, autoscaling/v2, discovery.k8s.io/v1, scheduling.k8s.io/v1
S('Job', { ...typeMeta, metadata: '@ObjectMeta', spec: '@JobSpec', status: '@JobStatus' });
S('JobSpec', {
  parallelism: 'i32', completions: 'i32', activeDeadlineSeconds: 'i64', backoffLimit: 'i32', selector: '@LabelSelector',
  manualSelector: 'b', template: '@PodTemplateSpec', ttlSecondsAfterFinished: 'i32', completionMode: 's', suspend: 'b',
  podFailurePolicy: '@PodFailurePolicy', backoffLimitPerIndex: 'i32', maxFailedIndexes: 'i32', podReplacementPolicy: 's', managedBy: 's',
  successPolicy: 'any',
});
S('PodFailurePolicy', { rules: ['@PodFailurePolicyRule'] });
S('PodFailurePolicyRule', { action: 's', onExitCodes: '@PodFailurePolicyOnExitCodesRequirement', onPodConditions: ['@PodFailurePolicyOnPodConditionsPattern'] });
S('PodFailurePolicyOnExitCodesRequirement', { containerName: 's', operator: 's', values: ['i32'] });
S('PodFailurePolicyOnPodConditionsPattern', { type: 's', status: 's' });
S('JobStatus', {
  conditions: ['@JobCondition'], startTime: 't', completionTime: 't', active: 'i32', succeeded: 'i32', failed: 'i32', ready: 'i32',
  terminating: 'i32', completedIndexes: 's', failedIndexes: 's', uncountedTerminatedPods: '@UncountedTerminatedPods',
});
S('UncountedTerminatedPods', { succeeded: ['s'], failed: ['s'] });
S('JobCondition', { type: 's', status: 's', lastProbeTime: 't', lastTransitionTime: 't', reason: 's', message: 's' });
S('Lease', { ...typeMeta, metadata: '@ObjectMeta', spec: '@LeaseSpec' });
S('LeaseSpec', { holderIdentity: 's', leaseDurationSeconds: 'i32', acquireTime: 'mt', renewTime: 'mt', leaseTransitions: 'i32' });
S('HorizontalPodAutoscaler', { ...typeMeta, metadata: '@ObjectMeta', spec: '@HPASpec', status: '@HPAStatus' }, 'v2');
S('HorizontalPodAutoscalerSpec', {
  scaleTargetRef: '@CrossVersionObjectReference', minReplicas: 'i32', maxReplicas: 'i32', metrics: ['any'], behavior: 'any',
}, 'v2', 'HPASpec');
S('CrossVersionObjectReference', { kind: 's', name: 's', apiVersion: 's' }, 'v2');
S('HorizontalPodAutoscalerStatus', {
  observedGeneration: 'i64', lastScaleTime: 't', currentReplicas: 'i32', desiredReplicas: 'i32', currentMetrics: ['any'],
  conditions: ['any'],
}, 'v2', 'HPAStatus');
// autoscaling/v1, served from the v2 storage (registry/autoscaling/horizontalpodautoscaler-v1.ts).
S('HorizontalPodAutoscaler', { ...typeMeta, metadata: '@ObjectMeta', spec: '@HPASpec/v1', status: '@HPAStatus/v1' }, 'v1', 'HorizontalPodAutoscaler/v1');
S('HorizontalPodAutoscalerSpec', {
  scaleTargetRef: '@CrossVersionObjectReference', minReplicas: 'i32', maxReplicas: 'i32', targetCPUUtilizationPercentage: 'i32',
}, 'v1', 'HPASpec/v1');
S('HorizontalPodAutoscalerStatus', {
  observedGeneration: 'i64', lastScaleTime: 't', currentReplicas: 'i32', desiredReplicas: 'i32', currentCPUUtilizationPercentage: 'i32',
}, 'v1', 'HPAStatus/v1');
S('EndpointSlice', { ...typeMeta, metadata: '@ObjectMeta', addressType: 's', endpoints: ['@Endpoint'], ports: ['@EndpointPort'] });
S('Endpoint', {
  addresses: ['s'], conditions: '@EndpointConditions', hostname: 's', targetRef: '@ObjectReference', deprecatedTopology: ms,
  nodeName: 's', zone: 's', hints: 'any',
});
S('EndpointConditions', { ready: 'b', serving: 'b', terminating: 'b' });
S('EndpointPort', { name: 's', protocol: 's', port: 'i32', appProtocol: 's' });
S('PriorityClass', { ...typeMeta, metadata: '@ObjectMeta', value: 'i32', globalDefault: 'b', description: 's', preemptionPolicy: 's' });
// rbac.authorization.k8s.io/v1
S('Role', { ...typeMeta, metadata: '@ObjectMeta', rules: ['@PolicyRule'] });
S('ClusterRole', { ...typeMeta, metadata: '@ObjectMeta', rules: ['@PolicyRule'], aggregationRule: '@AggregationRule' });
S('PolicyRule', { verbs: ['s'], apiGroups: ['s'], resources: ['s'], resourceNames: ['s'], nonResourceURLs: ['s'] });
S('AggregationRule', { clusterRoleSelectors: ['@LabelSelector'] });
S('RoleBinding', { ...typeMeta, metadata: '@ObjectMeta', subjects: ['@Subject'], roleRef: '@RoleRef' });
S('ClusterRoleBinding', { ...typeMeta, metadata: '@ObjectMeta', subjects: ['@Subject'], roleRef: '@RoleRef' });

// authentication.k8s.io/v1 and authorization.k8s.io/v1: the reviews
const extra: Ty = { m: ['s'] };
S('UserInfo', { username: 's', uid: 's', groups: ['s'], extra });
S('SelfSubjectReview', { ...typeMeta, metadata: '@ObjectMeta', status: '@SelfSubjectReviewStatus' });
S('SelfSubjectReviewStatus', { userInfo: '@UserInfo' });
S('TokenReview', { ...typeMeta, metadata: '@ObjectMeta', spec: '@TokenReviewSpec', status: '@TokenReviewStatus' });
S('TokenReviewSpec', { token: 's', audiences: ['s'] });
S('TokenReviewStatus', { authenticated: 'b', user: '@UserInfo', audiences: ['s'], error: 's' });
S('FieldSelectorRequirement', { key: 's', operator: 's', values: ['s'] });
S('FieldSelectorAttributes', { rawSelector: 's', requirements: ['@FieldSelectorRequirement'] });
S('LabelSelectorAttributes', { rawSelector: 's', requirements: ['@LabelSelectorRequirement'] });
S('ResourceAttributes', {
  namespace: 's', verb: 's', group: 's', version: 's', resource: 's', subresource: 's', name: 's',
  fieldSelector: '@FieldSelectorAttributes', labelSelector: '@LabelSelectorAttributes',
});
S('NonResourceAttributes', { path: 's', verb: 's' });
S('SubjectAccessReviewSpec', {
  resourceAttributes: '@ResourceAttributes', nonResourceAttributes: '@NonResourceAttributes', user: 's', groups: ['s'], extra, uid: 's',
});
S('SelfSubjectAccessReviewSpec', { resourceAttributes: '@ResourceAttributes', nonResourceAttributes: '@NonResourceAttributes' });
S('SubjectAccessReviewStatus', { allowed: 'b', denied: 'b', reason: 's', evaluationError: 's' });
S('SubjectAccessReview', { ...typeMeta, metadata: '@ObjectMeta', spec: '@SubjectAccessReviewSpec', status: '@SubjectAccessReviewStatus' });
S('LocalSubjectAccessReview', { ...typeMeta, metadata: '@ObjectMeta', spec: '@SubjectAccessReviewSpec', status: '@SubjectAccessReviewStatus' });
S('SelfSubjectAccessReview', { ...typeMeta, metadata: '@ObjectMeta', spec: '@SelfSubjectAccessReviewSpec', status: '@SubjectAccessReviewStatus' });
S('SelfSubjectRulesReviewSpec', { namespace: 's' });
S('ResourceRule', { verbs: ['s'], apiGroups: ['s'], resources: ['s'], resourceNames: ['s'] });
S('NonResourceRule', { verbs: ['s'], nonResourceURLs: ['s'] });
S('SubjectRulesReviewStatus', { resourceRules: ['@ResourceRule'], nonResourceRules: ['@NonResourceRule'], incomplete: 'b', evaluationError: 's' });
S('SelfSubjectRulesReview', { ...typeMeta, metadata: '@ObjectMeta', spec: '@SelfSubjectRulesReviewSpec', status: '@SubjectRulesReviewStatus' });

// apiextensions.k8s.io/v1 (the schemas themselves, JSONSchemaProps, are checked by the CRD's validation)
// A custom object (unstructured.Unstructured upstream): only its metadata has Go types.
S('Unstructured', { ...typeMeta, metadata: '@ObjectMeta' }, 'unstructured', 'CustomResource');
S('CustomResourceDefinition', { ...typeMeta, metadata: '@ObjectMeta', spec: '@CustomResourceDefinitionSpec', status: '@CustomResourceDefinitionStatus' });
S('CustomResourceDefinitionSpec', {
  group: 's', names: '@CustomResourceDefinitionNames', scope: 's', versions: ['@CustomResourceDefinitionVersion'],
  conversion: '@CustomResourceConversion', preserveUnknownFields: 'b',
});
S('CustomResourceDefinitionNames', { plural: 's', singular: 's', shortNames: ['s'], kind: 's', listKind: 's', categories: ['s'] });
S('CustomResourceDefinitionVersion', {
  name: 's', served: 'b', storage: 'b', deprecated: 'b', deprecationWarning: 's', schema: '@CustomResourceValidation',
  subresources: '@CustomResourceSubresources', additionalPrinterColumns: ['@CustomResourceColumnDefinition'], selectableFields: ['@SelectableField'],
});
S('CustomResourceValidation', { openAPIV3Schema: 'any' });
S('CustomResourceSubresources', { status: 'any', scale: '@CustomResourceSubresourceScale' });
S('CustomResourceSubresourceScale', { specReplicasPath: 's', statusReplicasPath: 's', labelSelectorPath: 's' });
S('CustomResourceColumnDefinition', { name: 's', type: 's', format: 's', description: 's', priority: 'i32', jsonPath: 's' });
S('SelectableField', { jsonPath: 's' });
S('CustomResourceConversion', { strategy: 's', webhook: 'any' });
S('CustomResourceDefinitionStatus', { conditions: ['@CustomResourceDefinitionCondition'], acceptedNames: '@CustomResourceDefinitionNames', storedVersions: ['s'] });
S('CustomResourceDefinitionCondition', { type: 's', status: 's', lastTransitionTime: 't', reason: 's', message: 's' });
S('Subject', { kind: 's', apiGroup: 's', name: 's', namespace: 's' });
S('RoleRef', { apiGroup: 's', kind: 's', name: 's' });
S('Scale', { ...typeMeta, metadata: '@ObjectMeta', spec: '@ScaleSpec', status: '@ScaleStatus' });
S('ScaleSpec', { replicas: 'i32' });
S('ScaleStatus', { replicas: 'i32', selector: 's' });

// The kinds kubectl expects beyond the first ones (issue 8): core/v1, apps/v1, batch/v1, networking.k8s.io/v1, policy/v1.
S('ReplicationController', {
  ...typeMeta, metadata: '@ObjectMeta', spec: '@ReplicationControllerSpec', status: '@ReplicationControllerStatus',
});
S('ReplicationControllerSpec', { replicas: 'i32', minReadySeconds: 'i32', selector: ms, template: '@PodTemplateSpec' });
S('ReplicationControllerStatus', {
  replicas: 'i32', fullyLabeledReplicas: 'i32', readyReplicas: 'i32', availableReplicas: 'i32', observedGeneration: 'i64',
  conditions: ['@ReplicationControllerCondition'],
});
S('ReplicationControllerCondition', { type: 's', status: 's', lastTransitionTime: 't', reason: 's', message: 's' });
S('PodTemplate', { ...typeMeta, metadata: '@ObjectMeta', template: '@PodTemplateSpec' });
S('PersistentVolume', { ...typeMeta, metadata: '@ObjectMeta', spec: '@PersistentVolumeSpec', status: '@PersistentVolumeStatus' });
S('PersistentVolumeSpec', {
  capacity: { m: 'q' }, accessModes: ['s'], claimRef: '@ObjectReference', persistentVolumeReclaimPolicy: 's',
  storageClassName: 's', mountOptions: ['s'], volumeMode: 's', nodeAffinity: '@VolumeNodeAffinity',
  volumeAttributesClassName: 's', hostPath: '@HostPathVolumeSource', nfs: '@NFSVolumeSource', local: '@LocalVolumeSource',
  csi: 'any',
});
S('VolumeNodeAffinity', { required: '@NodeSelector' });
S('NFSVolumeSource', { server: 's', path: 's', readOnly: 'b' });
S('LocalVolumeSource', { path: 's', fsType: 's' });
S('PersistentVolumeStatus', { phase: 's', message: 's', reason: 's', lastPhaseTransitionTime: 't' });
S('PersistentVolumeClaim', {
  ...typeMeta, metadata: '@ObjectMeta', spec: '@PersistentVolumeClaimSpec', status: '@PersistentVolumeClaimStatus',
});
S('PersistentVolumeClaimSpec', {
  accessModes: ['s'], selector: '@LabelSelector', resources: '@VolumeResourceRequirements', volumeName: 's',
  storageClassName: 's', volumeMode: 's', dataSource: '@TypedLocalObjectReference', dataSourceRef: '@TypedObjectReference',
  volumeAttributesClassName: 's',
});
S('VolumeResourceRequirements', { limits: { m: 'q' }, requests: { m: 'q' } });
S('TypedLocalObjectReference', { apiGroup: 's', kind: 's', name: 's' });
S('TypedObjectReference', { apiGroup: 's', kind: 's', name: 's', namespace: 's' });
S('PersistentVolumeClaimStatus', {
  phase: 's', accessModes: ['s'], capacity: { m: 'q' }, conditions: ['@PersistentVolumeClaimCondition'],
  allocatedResources: { m: 'q' }, allocatedResourceStatuses: ms,
});
S('PersistentVolumeClaimCondition', { type: 's', status: 's', lastProbeTime: 't', lastTransitionTime: 't', reason: 's', message: 's' });
S('LimitRange', { ...typeMeta, metadata: '@ObjectMeta', spec: '@LimitRangeSpec' });
S('LimitRangeSpec', { limits: ['@LimitRangeItem'] });
S('LimitRangeItem', {
  type: 's', max: { m: 'q' }, min: { m: 'q' }, default: { m: 'q' }, defaultRequest: { m: 'q' }, maxLimitRequestRatio: { m: 'q' },
});
S('ResourceQuota', { ...typeMeta, metadata: '@ObjectMeta', spec: '@ResourceQuotaSpec', status: '@ResourceQuotaStatus' });
S('ResourceQuotaSpec', { hard: { m: 'q' }, scopes: ['s'], scopeSelector: '@ScopeSelector' });
S('ScopeSelector', { matchExpressions: ['@ScopedResourceSelectorRequirement'] });
S('ScopedResourceSelectorRequirement', { scopeName: 's', operator: 's', values: ['s'] });
S('ResourceQuotaStatus', { hard: { m: 'q' }, used: { m: 'q' } });
S('ControllerRevision', { ...typeMeta, metadata: '@ObjectMeta', data: 'any', revision: 'i64' });
S('CronJob', { ...typeMeta, metadata: '@ObjectMeta', spec: '@CronJobSpec', status: '@CronJobStatus' });
S('CronJobSpec', {
  schedule: 's', timeZone: 's', startingDeadlineSeconds: 'i64', concurrencyPolicy: 's', suspend: 'b',
  jobTemplate: '@JobTemplateSpec', successfulJobsHistoryLimit: 'i32', failedJobsHistoryLimit: 'i32',
});
S('JobTemplateSpec', { metadata: '@ObjectMeta', spec: '@JobSpec' });
S('CronJobStatus', { active: ['@ObjectReference'], lastScheduleTime: 't', lastSuccessfulTime: 't' });
S('Ingress', { ...typeMeta, metadata: '@ObjectMeta', spec: '@IngressSpec', status: '@IngressStatus' });
S('IngressSpec', { ingressClassName: 's', defaultBackend: '@IngressBackend', tls: ['@IngressTLS'], rules: ['@IngressRule'] });
S('IngressBackend', { service: '@IngressServiceBackend', resource: '@TypedLocalObjectReference' });
S('IngressServiceBackend', { name: 's', port: '@ServiceBackendPort' });
S('ServiceBackendPort', { name: 's', number: 'i32' });
S('IngressTLS', { hosts: ['s'], secretName: 's' });
S('IngressRule', { host: 's', http: '@HTTPIngressRuleValue' });
S('HTTPIngressRuleValue', { paths: ['@HTTPIngressPath'] });
S('HTTPIngressPath', { path: 's', pathType: 's', backend: '@IngressBackend' });
S('IngressStatus', { loadBalancer: '@IngressLoadBalancerStatus' });
S('IngressLoadBalancerStatus', { ingress: ['@IngressLoadBalancerIngress'] });
S('IngressLoadBalancerIngress', { ip: 's', hostname: 's', ports: ['@IngressPortStatus'] });
S('IngressPortStatus', { port: 'i32', protocol: 's', error: 's' });
S('IngressClass', { ...typeMeta, metadata: '@ObjectMeta', spec: '@IngressClassSpec' });
S('IngressClassSpec', { controller: 's', parameters: '@IngressClassParametersReference' });
S('IngressClassParametersReference', { apiGroup: 's', kind: 's', name: 's', scope: 's', namespace: 's' });
S('PodDisruptionBudget', {
  ...typeMeta, metadata: '@ObjectMeta', spec: '@PodDisruptionBudgetSpec', status: '@PodDisruptionBudgetStatus',
});
S('PodDisruptionBudgetSpec', { minAvailable: 'ios', selector: '@LabelSelector', maxUnavailable: 'ios', unhealthyPodEvictionPolicy: 's' });
S('PodDisruptionBudgetStatus', {
  observedGeneration: 'i64', disruptedPods: { m: 't' }, disruptionsAllowed: 'i32', currentHealthy: 'i32', desiredHealthy: 'i32',
  expectedPods: 'i32', conditions: ['@Condition'],
});
S('StorageClass', {
  ...typeMeta, metadata: '@ObjectMeta', provisioner: 's', parameters: ms, reclaimPolicy: 's', mountOptions: ['s'],
  allowVolumeExpansion: 'b', volumeBindingMode: 's', allowedTopologies: ['@TopologySelectorTerm'],
});
S('TopologySelectorTerm', { matchLabelExpressions: ['@TopologySelectorLabelRequirement'] });
S('TopologySelectorLabelRequirement', { key: 's', values: ['s'] });

const GO_PRIM: Record<Prim, string> = {
  s: 'string', i32: 'int32', i64: 'int64', b: 'bool', f64: 'float64', q: 'resource.Quantity', ios: 'intstr.IntOrString',
  t: 'v1.Time', mt: 'v1.MicroTime', bytes: '[]uint8', any: 'interface {}',
};

function goName(t: Ty): string {
  if (typeof t === 'string') return t.startsWith('@') ? STRUCTS[t.slice(1)].go : GO_PRIM[t as Prim];
  if (Array.isArray(t)) return `[]${goName(t[0])}`;
  return `map[string]${goName(t.m)}`;
}

/** The JSON kind of a value as Go's decoder names it ("number 1.5" for a number that does not fit). */
function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  if (typeof v === 'boolean') return 'bool';
  return typeof v === 'number' ? 'number' : 'string';
}

const INT_RANGE = { i32: [-(2 ** 31), 2 ** 31 - 1], i64: [-(2 ** 63), 2 ** 63 - 1] } as const;
const QUANTITY = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

interface Ctx { errors: FieldError[] }

/**
 * Checks `obj` against the Go type of `def.kind` and returns the first decode failure (Go stops there too), as a
 * FieldError whose `message` is encoding/json's. Normalizes nulls in place as Go's decode-then-encode would.
 */
export function checkTypes(def: Pick<ResourceDef, 'kind'> & { version?: string; group?: string }, obj: unknown): FieldError[] {
  // A kind with several served versions has its other versions' types under `Kind/version`, or `Kind/group/version`
  // when another group serves it too (events.k8s.io/v1 Events beside core/v1's).
  const root = (def.group ? STRUCTS[`${def.kind}/${def.group}/${def.version ?? ''}`] : undefined)
    ?? (def.version !== undefined ? STRUCTS[`${def.kind}/${def.version}`] : undefined) ?? STRUCTS[def.kind];
  if (!root || typeof obj !== 'object' || obj === null) return [];
  const ctx: Ctx = { errors: [] };
  walkStruct(ctx, root, def.kind, obj as Record<string, unknown>, [], '');
  return ctx.errors;
}

/** Whether checkTypes knows the kind. */
export function knowsKind(kind: string): boolean {
  return kind in STRUCTS;
}

function walkStruct(ctx: Ctx, s: StructDef, structName: string, obj: Record<string, unknown>, goPath: string[], path: string): void {
  for (const key of Object.keys(obj)) {
    if (ctx.errors.length) return;
    const t = Object.prototype.hasOwnProperty.call(s.fields, key) ? s.fields[key] : undefined;
    if (t === undefined) continue;
    const v = obj[key];
    if (v === null) { delete obj[key]; continue; }
    const fieldPath = path ? `${path}.${key}` : key;
    walk(ctx, t, v, { struct: structName, goPath: [...goPath, key] }, fieldPath);
  }
}

interface Where { struct: string; goPath: string[] }

function fail(ctx: Ctx, where: Where, path: string, value: unknown, goType: string, kind = jsonKind(value)): void {
  const field = where.goPath.length ? `Go struct field ${where.struct}.${where.goPath.join('.')}` : 'Go value';
  ctx.errors.push({
    field: path, type: 'FieldValueInvalid', value: kind,
    message: `json: cannot unmarshal ${kind} into ${field} of type ${goType}`,
  });
}

function walk(ctx: Ctx, t: Ty, v: unknown, where: Where, path: string): void {
  if (Array.isArray(t)) {
    if (!Array.isArray(v)) return fail(ctx, where, path, v, goName(t));
    const elem = t[0];
    for (let i = 0; i < v.length && !ctx.errors.length; i++) {
      if (v[i] === null) { if (typeof elem === 'string' && elem.startsWith('@')) v[i] = {}; continue; }
      walk(ctx, elem, v[i], where, `${path}[${i}]`);
    }
    return;
  }
  if (typeof t === 'object') {
    if (typeof v !== 'object' || Array.isArray(v)) return fail(ctx, where, path, v, goName(t));
    const m = v as Record<string, unknown>;
    for (const k of Object.keys(m)) {
      if (ctx.errors.length) return;
      if (m[k] === null) { if (t.m === 's') m[k] = ''; continue; }
      walk(ctx, t.m, m[k], where, `${path}[${k}]`);
    }
    return;
  }
  if (t.startsWith('@')) {
    const s = STRUCTS[t.slice(1)];
    if (typeof v !== 'object' || Array.isArray(v)) return fail(ctx, where, path, v, s.go);
    return walkStruct(ctx, s, s.go.split('.')[1], v as Record<string, unknown>, where.goPath, path);
  }
  switch (t as Prim) {
    case 's': case 't': case 'mt':
      if (typeof v !== 'string') fail(ctx, where, path, v, GO_PRIM[t as Prim]);
      return;
    case 'b':
      if (typeof v !== 'boolean') fail(ctx, where, path, v, 'bool');
      return;
    case 'f64':
      if (typeof v !== 'number') fail(ctx, where, path, v, 'float64');
      return;
    case 'i32': case 'i64': {
      if (typeof v !== 'number') return fail(ctx, where, path, v, GO_PRIM[t as Prim]);
      const [lo, hi] = INT_RANGE[t as 'i32' | 'i64'];
      if (!Number.isInteger(v) || v < lo || v > hi) fail(ctx, where, path, v, GO_PRIM[t as Prim], `number ${goNumber(v)}`);
      return;
    }
    case 'ios':
      if (typeof v === 'string') return;
      if (typeof v !== 'number') return fail(ctx, { struct: '', goPath: [] }, path, v, 'int32');
      if (!Number.isInteger(v) || v < INT_RANGE.i32[0] || v > INT_RANGE.i32[1]) fail(ctx, { struct: '', goPath: [] }, path, v, 'int32', `number ${goNumber(v)}`);
      return;
    case 'q':
      if ((typeof v !== 'string' && typeof v !== 'number') || !QUANTITY.test(String(v).trim())) {
        ctx.errors.push({ field: path, type: 'FieldValueInvalid', value: v, message: "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'" });
      }
      return;
    case 'bytes':
      if (typeof v !== 'string') return fail(ctx, where, path, v, '[]uint8');
      if (!BASE64.test(v)) ctx.errors.push({ field: path, type: 'FieldValueInvalid', value: v, message: 'illegal base64 data at input byte 0' });
      return;
    case 'any':
      return;
  }
}

/** A number as Go prints the literal it failed to decode (1e308, 1.5). */
function goNumber(v: number): string {
  const s = String(v);
  return s.replace('e+', 'e');
}

// Request bodies that are not stored objects: DeleteOptions (meta/v1) and Eviction (policy/v1).
S('DeleteOptions', {
  ...typeMeta, gracePeriodSeconds: 'i64', preconditions: '@Preconditions', orphanDependents: 'b', propagationPolicy: 's', dryRun: ['s'],
});
S('Preconditions', { uid: 's', resourceVersion: 's' });
S('Eviction', { ...typeMeta, metadata: '@ObjectMeta', deleteOptions: '@DeleteOptions' });
