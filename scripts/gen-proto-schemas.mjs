#!/usr/bin/env node
// Writes packages/apiserver/proto/*.proto: the protobuf message schemas of the served kinds, for decoding
// kubectl's protobuf bodies, field validation and the OpenAPI schemas. The field names, numbers and types are
// upstream's wire format (k8s.io/api generated.proto): this reads them from the FileDescriptorProtos that the
// kubectl binary embeds (gzipped, one per generated.proto), takes the messages the ROOTS reach, and adds k8ts's
// two options: (k8ts.keep) on the fields of KEEP, (k8ts.inline) on the embedded structs of INLINE.
// Usage: node scripts/gen-proto-schemas.mjs [path/to/kubectl]   (default: the kubectl on PATH)
import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync, writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor/index.js';
const kubectlPath = realpathSync(process.argv[2] ?? execFileSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).trim());
const buf = readFileSync(kubectlPath);
const outDir = fileURLToPath(new URL('../packages/apiserver/proto/', import.meta.url));
const magic = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xff]);
const FDP = descriptor.FileDescriptorProto;
const files = new Map();
let i = 0;
while ((i = buf.indexOf(magic, i)) >= 0) {
  try {
    const out = zlib.gunzipSync(buf.subarray(i, i + 2000000), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    const fd = FDP.decode(out);
    if (fd.name && fd.name.endsWith('generated.proto')) files.set(fd.name, fd);
  } catch {}
  i++;
}
const msgs = new Map(); // fullName -> {pkg, msg}
for (const fd of files.values()) for (const m of fd.messageType) msgs.set(`.${fd.package}.${m.name}`, { pkg: fd.package, file: fd.name, m });
/** The kinds whose messages are written (with all they reach): the served kinds, and the bodies typed clients send. */
const ROOTS = [
  'k8s.io.apimachinery.pkg.runtime.Unknown',
  'k8s.io.api.core.v1.Namespace', 'k8s.io.api.core.v1.ConfigMap', 'k8s.io.api.core.v1.Secret', 'k8s.io.api.core.v1.Service',
  'k8s.io.api.core.v1.ServiceAccount', 'k8s.io.api.core.v1.ResourceQuota', 'k8s.io.api.core.v1.Pod',
  'k8s.io.api.apps.v1.Deployment', 'k8s.io.api.apps.v1.StatefulSet', 'k8s.io.api.apps.v1.DaemonSet', 'k8s.io.api.apps.v1.ReplicaSet',
  'k8s.io.api.batch.v1.Job', 'k8s.io.api.batch.v1.CronJob',
  'k8s.io.api.policy.v1.PodDisruptionBudget', 'k8s.io.api.policy.v1.Eviction',
  'k8s.io.api.scheduling.v1.PriorityClass',
  'k8s.io.api.rbac.v1.Role', 'k8s.io.api.rbac.v1.ClusterRole', 'k8s.io.api.rbac.v1.RoleBinding', 'k8s.io.api.rbac.v1.ClusterRoleBinding',
  'k8s.io.api.networking.v1.Ingress', 'k8s.io.api.networking.v1.IngressClass',
  'k8s.io.api.autoscaling.v1.HorizontalPodAutoscaler', 'k8s.io.api.autoscaling.v1.Scale', 'k8s.io.api.autoscaling.v2.HorizontalPodAutoscaler',
  'k8s.io.api.authentication.v1.TokenRequest', 'k8s.io.api.authentication.v1.TokenReview', 'k8s.io.api.authentication.v1.SelfSubjectReview',
  'k8s.io.api.authorization.v1.SubjectAccessReview', 'k8s.io.api.authorization.v1.SelfSubjectAccessReview',
  'k8s.io.api.authorization.v1.LocalSubjectAccessReview', 'k8s.io.api.authorization.v1.SelfSubjectRulesReview',
  'k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions',
  'k8s.io.api.core.v1.Node', 'k8s.io.api.core.v1.Endpoints', 'k8s.io.api.core.v1.Event', 'k8s.io.api.core.v1.ReplicationController',
  'k8s.io.api.core.v1.PodTemplate', 'k8s.io.api.core.v1.PersistentVolume', 'k8s.io.api.core.v1.PersistentVolumeClaim',
  'k8s.io.api.core.v1.LimitRange', 'k8s.io.api.core.v1.Binding', 'k8s.io.api.apps.v1.ControllerRevision',
  'k8s.io.api.coordination.v1.Lease', 'k8s.io.api.discovery.v1.EndpointSlice', 'k8s.io.api.storage.v1.StorageClass',
  'k8s.io.api.events.v1.Event',
];
const need = new Set();
const visit = (n) => {
  if (need.has(n)) return;
  if (/Entry$/.test(n) && !msgs.has(n)) return;
  const e = msgs.get(n); if (!e) throw new Error('missing ' + n);
  need.add(n);
  for (const f of e.m.field) if (f.typeName) visit(f.typeName);
  for (const nt of e.m.nestedType ?? []) for (const f of nt.field) if (f.typeName) visit(f.typeName);
};
ROOTS.forEach((r) => visit('.' + r));
/** Scalars whose zero value JSON keeps (Go pointers, fields without omitempty), as <group>.<version>.<Message>.<field>. */
const KEEP = new Set(`
storage.v1.StorageClass.provisioner storage.v1.StorageClass.reclaimPolicy storage.v1.StorageClass.allowVolumeExpansion storage.v1.StorageClass.volumeBindingMode
authorization.v1.SubjectAccessReviewStatus.allowed authorization.v1.SubjectRulesReviewStatus.resourceRules
authorization.v1.SubjectRulesReviewStatus.nonResourceRules authorization.v1.SubjectRulesReviewStatus.incomplete authorization.v1.ResourceRule.verbs
authorization.v1.NonResourceRule.verbs rbac.v1.Role.rules rbac.v1.ClusterRole.rules rbac.v1.PolicyRule.verbs authentication.v1.TokenRequestSpec.audiences core.v1.NodeSelector.nodeSelectorTerms
core.v1.PodSpec.terminationGracePeriodSeconds core.v1.PodSpec.activeDeadlineSeconds core.v1.PodSpec.automountServiceAccountToken core.v1.PodSpec.shareProcessNamespace
core.v1.PodSpec.priority core.v1.PodSpec.enableServiceLinks core.v1.PodSpec.preemptionPolicy core.v1.PodSpec.setHostnameAsFQDN
core.v1.PodSpec.hostUsers core.v1.PodSpec.runtimeClassName core.v1.ContainerPort.containerPort core.v1.ServicePort.port
core.v1.ServicePort.appProtocol core.v1.ServiceSpec.allocateLoadBalancerNodePorts core.v1.ServiceSpec.ipFamilyPolicy core.v1.ServiceSpec.loadBalancerClass
core.v1.ServiceSpec.internalTrafficPolicy core.v1.ServiceSpec.trafficDistribution core.v1.SecurityContext.privileged core.v1.SecurityContext.runAsUser
core.v1.SecurityContext.runAsGroup core.v1.SecurityContext.runAsNonRoot core.v1.SecurityContext.readOnlyRootFilesystem core.v1.SecurityContext.allowPrivilegeEscalation
core.v1.SecurityContext.procMount core.v1.PodSecurityContext.runAsUser core.v1.PodSecurityContext.runAsGroup core.v1.PodSecurityContext.runAsNonRoot
core.v1.PodSecurityContext.fsGroup core.v1.PodSecurityContext.fsGroupChangePolicy core.v1.PodSecurityContext.supplementalGroupsPolicy core.v1.Toleration.tolerationSeconds
core.v1.ConfigMapKeySelector.optional core.v1.SecretKeySelector.optional core.v1.ConfigMapEnvSource.optional core.v1.SecretEnvSource.optional
core.v1.ConfigMapVolumeSource.optional core.v1.ConfigMapVolumeSource.defaultMode core.v1.SecretVolumeSource.optional core.v1.SecretVolumeSource.defaultMode
core.v1.KeyToPath.mode core.v1.ProjectedVolumeSource.defaultMode core.v1.DownwardAPIVolumeSource.defaultMode core.v1.DownwardAPIVolumeFile.mode
core.v1.ServiceAccountTokenProjection.expirationSeconds core.v1.Probe.terminationGracePeriodSeconds core.v1.ConfigMap.immutable core.v1.Secret.immutable
core.v1.ServiceAccount.automountServiceAccountToken core.v1.VolumeMount.mountPropagation core.v1.VolumeMount.recursiveReadOnly core.v1.HostPathVolumeSource.type
core.v1.PersistentVolumeClaimSpec.storageClassName core.v1.PersistentVolumeClaimSpec.volumeMode core.v1.TopologySpreadConstraint.maxSkew core.v1.TopologySpreadConstraint.minDomains
core.v1.TopologySpreadConstraint.nodeAffinityPolicy core.v1.TopologySpreadConstraint.nodeTaintsPolicy core.v1.WeightedPodAffinityTerm.weight core.v1.PreferredSchedulingTerm.weight
core.v1.ClientIPConfig.timeoutSeconds core.v1.GRPCAction.port core.v1.GRPCAction.service core.v1.Container.restartPolicy
apps.v1.DeploymentSpec.replicas apps.v1.DeploymentSpec.revisionHistoryLimit apps.v1.DeploymentSpec.progressDeadlineSeconds apps.v1.StatefulSetSpec.replicas
apps.v1.StatefulSetSpec.revisionHistoryLimit apps.v1.RollingUpdateStatefulSetStrategy.partition apps.v1.DaemonSetSpec.revisionHistoryLimit apps.v1.ReplicaSetSpec.replicas
apps.v1.ReplicaSetStatus.replicas apps.v1.StatefulSetStatus.replicas apps.v1.DaemonSetStatus.currentNumberScheduled apps.v1.DaemonSetStatus.numberMisscheduled
apps.v1.DaemonSetStatus.desiredNumberScheduled apps.v1.DaemonSetStatus.numberReady batch.v1.JobSpec.parallelism batch.v1.JobSpec.completions
batch.v1.JobSpec.activeDeadlineSeconds batch.v1.JobSpec.backoffLimit batch.v1.JobSpec.backoffLimitPerIndex batch.v1.JobSpec.maxFailedIndexes
batch.v1.JobSpec.manualSelector batch.v1.JobSpec.ttlSecondsAfterFinished batch.v1.JobSpec.completionMode batch.v1.JobSpec.suspend
batch.v1.JobSpec.podReplacementPolicy batch.v1.JobSpec.managedBy batch.v1.CronJobSpec.startingDeadlineSeconds batch.v1.CronJobSpec.suspend
batch.v1.CronJobSpec.successfulJobsHistoryLimit batch.v1.CronJobSpec.failedJobsHistoryLimit batch.v1.CronJobSpec.timeZone batch.v1.JobStatus.ready
batch.v1.JobStatus.terminating policy.v1.PodDisruptionBudgetSpec.unhealthyPodEvictionPolicy policy.v1.PodDisruptionBudgetStatus.disruptionsAllowed policy.v1.PodDisruptionBudgetStatus.currentHealthy
policy.v1.PodDisruptionBudgetStatus.desiredHealthy policy.v1.PodDisruptionBudgetStatus.expectedPods scheduling.v1.PriorityClass.value scheduling.v1.PriorityClass.preemptionPolicy
networking.v1.IngressSpec.ingressClassName networking.v1.HTTPIngressPath.pathType autoscaling.v1.HorizontalPodAutoscalerSpec.minReplicas autoscaling.v1.HorizontalPodAutoscalerSpec.targetCPUUtilizationPercentage
autoscaling.v1.HorizontalPodAutoscalerSpec.maxReplicas autoscaling.v1.HorizontalPodAutoscalerStatus.currentReplicas autoscaling.v1.HorizontalPodAutoscalerStatus.desiredReplicas autoscaling.v1.HorizontalPodAutoscalerStatus.currentCPUUtilizationPercentage
autoscaling.v1.HorizontalPodAutoscalerStatus.observedGeneration autoscaling.v1.ScaleStatus.replicas autoscaling.v2.HorizontalPodAutoscalerSpec.minReplicas autoscaling.v2.HorizontalPodAutoscalerSpec.maxReplicas
autoscaling.v2.HorizontalPodAutoscalerStatus.observedGeneration autoscaling.v2.HorizontalPodAutoscalerStatus.desiredReplicas autoscaling.v2.MetricTarget.averageUtilization autoscaling.v2.HPAScalingRules.stabilizationWindowSeconds
autoscaling.v2.HPAScalingRules.selectPolicy autoscaling.v2.HPAScalingPolicy.value autoscaling.v2.HPAScalingPolicy.periodSeconds authentication.v1.TokenRequestSpec.expirationSeconds
authentication.v1.TokenRequestStatus.token meta.v1.DeleteOptions.gracePeriodSeconds meta.v1.DeleteOptions.orphanDependents meta.v1.DeleteOptions.propagationPolicy
meta.v1.DeleteOptions.ignoreStoreReadErrorWithClusterBreakingPotential meta.v1.OwnerReference.controller meta.v1.OwnerReference.blockOwnerDeletion meta.v1.Preconditions.uid
meta.v1.Preconditions.resourceVersion meta.v1.ObjectMeta.deletionGracePeriodSeconds
`.split(/\s+/).filter(Boolean));
/** Embedded Go structs (`json:",inline"`): their fields are the parent's in JSON. */
const INLINE = new Set(`
core.v1.ConfigMapEnvSource.localObjectReference core.v1.ConfigMapKeySelector.localObjectReference
core.v1.ConfigMapProjection.localObjectReference core.v1.ConfigMapVolumeSource.localObjectReference
core.v1.SecretEnvSource.localObjectReference core.v1.SecretKeySelector.localObjectReference
core.v1.SecretProjection.localObjectReference core.v1.EphemeralContainer.ephemeralContainerCommon
core.v1.PersistentVolumeSpec.persistentVolumeSource core.v1.Probe.handler core.v1.Volume.volumeSource
networking.v1.IngressRule.ingressRuleValue
`.split(/\s+/).filter(Boolean));
const HEADER = `// Written by scripts/gen-proto-schemas.mjs. Message schemas k8ts decodes protobuf request bodies with, and checks field names against
// (packages/apiserver/src/protobuf). Field names, numbers and types are the wire format of upstream's
// k8s.io/api and apimachinery generated.proto (v1.32); only the messages the served kinds reach are listed.
// \`(k8ts.keep)\` marks a scalar whose zero value the JSON form keeps (a Go pointer, or a field without
// omitempty): other scalars equal to "", 0 or false are dropped, as Go's JSON encoding would omit them; a
// repeated field so marked is null when empty. \`(k8ts.inline)\` marks an embedded Go struct (\`json:",inline"\`):
// its fields are the parent's in JSON.
`;
const used = new Set();
const T = { 1: 'double', 2: 'float', 3: 'int64', 4: 'uint64', 5: 'int32', 8: 'bool', 9: 'string', 12: 'bytes', 13: 'uint32', 17: 'sint32', 18: 'sint64' };
const byPkg = new Map();
for (const n of need) { const e = msgs.get(n); if (!byPkg.has(e.pkg)) byPkg.set(e.pkg, []); byPkg.get(e.pkg).push(e.m); }
mkdirSync(outDir, { recursive: true });
const fileOf = (pkg) => pkg.replace(/^k8s\.io\./, '').replace(/^apimachinery\.pkg\./, '').replace(/^api\./, '').replace(/^apis\./, '').replace(/\./g, '-') + '.proto';
for (const [pkg, list] of byPkg) {
  const deps = new Set();
  const lines = [];
  for (const m of list.sort((a, b) => a.name.localeCompare(b.name))) {
    lines.push(`message ${m.name} {`);
    const entries = new Map((m.nestedType ?? []).filter((t) => t.options?.mapEntry).map((t) => [t.name, t]));
    for (const f of m.field) {
      let ty;
      const ref = (tn) => { const e = msgs.get(tn); if (e.pkg !== pkg) deps.add(e.pkg); return tn; };
      if (f.type === 11 && entries.size && f.typeName.startsWith(`.${pkg}.${m.name}.`) && entries.has(f.typeName.split('.').pop())) {
        const ent = entries.get(f.typeName.split('.').pop());
        const k = ent.field.find((x) => x.number === 1), v = ent.field.find((x) => x.number === 2);
        const vt = v.type === 11 ? ref(v.typeName) : T[v.type];
        lines.push(`  map<${T[k.type]}, ${vt}> ${f.name} = ${f.number};`);
        continue;
      }
      ty = f.type === 11 ? ref(f.typeName) : T[f.type];
      if (!ty) throw new Error(`type ${f.type} in ${m.name}.${f.name}`);
      const key = `${pkg.split('.').slice(-2).join('.')}.${m.name}.${f.name}`;
      const keep = KEEP.has(key) ? ' [(k8ts.keep) = true]' : INLINE.has(key) ? ' [(k8ts.inline) = true]' : '';
      if (keep) used.add(key);
      lines.push(`  ${f.label === 3 ? 'repeated' : 'optional'} ${ty} ${f.name} = ${f.number}${keep};`);
    }
    lines.push('}', '');
  }
  const imports = [...deps].sort().map((d) => `import "${fileOf(d)}";`);
  const head = [HEADER + 'syntax = "proto2";', '', `package ${pkg};`, '', ...(imports.length ? [...imports, ''] : [])];
  writeFileSync(`${outDir}/${fileOf(pkg)}`, [...head, ...lines].join('\n'));
}

for (const k of [...KEEP, ...INLINE]) if (!used.has(k)) console.error('unused option', k);
