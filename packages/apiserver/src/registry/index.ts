import { compilePatchMeta, findKind, RESOURCES, type FieldError, type KubeObject, type PatchMeta, type ResourceDef } from '@k8ts/api';
import { customResourceDefinitionStrategy } from './apiextensions/customresourcedefinition.js';
import { controllerRevisionStrategy } from './apps/controllerrevision.js';
import { daemonSetStrategy } from './apps/daemonset.js';
import { deploymentStrategy } from './apps/deployment.js';
import { replicaSetStrategy } from './apps/replicaset.js';
import { statefulSetStrategy } from './apps/statefulset.js';
import { horizontalPodAutoscalerStrategy } from './autoscaling/horizontalpodautoscaler.js';
import { horizontalPodAutoscalerV1 } from './autoscaling/horizontalpodautoscaler-v1.js';
import { eventV1 } from './events/event.js';
import { cronJobStrategy } from './batch/cronjob.js';
import { jobStrategy } from './batch/job.js';
import { leaseStrategy } from './coordination/lease.js';
import { configMapStrategy } from './core/configmap.js';
import { endpointsStrategy } from './core/endpoints.js';
import { eventStrategy } from './core/event.js';
import { limitRangeStrategy } from './core/limitrange.js';
import { namespaceStrategy } from './core/namespace.js';
import { nodeStrategy } from './core/node.js';
import { persistentVolumeStrategy } from './core/persistentvolume.js';
import { persistentVolumeClaimStrategy } from './core/persistentvolumeclaim.js';
import { podStrategy } from './core/pod.js';
import { podTemplateStrategy } from './core/podtemplate.js';
import { replicationControllerStrategy } from './core/replicationcontroller.js';
import { resourceQuotaStrategy } from './core/resourcequota.js';
import { secretStrategy } from './core/secret.js';
import { serviceStrategy } from './core/service.js';
import { serviceAccountStrategy } from './core/serviceaccount.js';
import { endpointSliceStrategy } from './discovery/endpointslice.js';
import { ingressStrategy } from './networking/ingress.js';
import { ingressClassStrategy } from './networking/ingressclass.js';
import { podDisruptionBudgetStrategy } from './policy/poddisruptionbudget.js';
import { clusterRoleStrategy } from './rbac/clusterrole.js';
import { clusterRoleBindingStrategy } from './rbac/clusterrolebinding.js';
import { roleStrategy } from './rbac/role.js';
import { roleBindingStrategy } from './rbac/rolebinding.js';
import { priorityClassStrategy } from './scheduling/priorityclass.js';
import { storageClassStrategy } from './storage/storageclass.js';
import { defaultPrinter, type Printer } from './shared/printing.js';
import { validateObjectMeta } from './shared/validation.js';
import type { Strategy, VersionConversion } from './strategy.js';

/** Every kind's strategy, one file each (upstream's pkg/registry/<group>/<kind>). */
const STRATEGIES: readonly Strategy[] = [
  namespaceStrategy, nodeStrategy, podStrategy, serviceStrategy, endpointsStrategy, configMapStrategy, secretStrategy,
  eventStrategy, serviceAccountStrategy, replicationControllerStrategy, podTemplateStrategy, persistentVolumeStrategy,
  persistentVolumeClaimStrategy, limitRangeStrategy, resourceQuotaStrategy,
  deploymentStrategy, replicaSetStrategy, daemonSetStrategy, statefulSetStrategy, controllerRevisionStrategy,
  jobStrategy, cronJobStrategy, leaseStrategy, horizontalPodAutoscalerStrategy, endpointSliceStrategy, priorityClassStrategy,
  ingressStrategy, ingressClassStrategy, podDisruptionBudgetStrategy,
  storageClassStrategy,
  roleStrategy, clusterRoleStrategy, roleBindingStrategy, clusterRoleBindingStrategy,
  customResourceDefinitionStrategy,
];

/** The further versions of stored kinds, each converting to and from its storage version. */
const CONVERSIONS: readonly VersionConversion[] = [horizontalPodAutoscalerV1, eventV1];

const byDef = new Map<ResourceDef, Strategy>(STRATEGIES.map((s) => [s.def, s]));
const conversions = new Map<ResourceDef, VersionConversion>(CONVERSIONS.map((c) => [c.def, c]));
for (const def of RESOURCES) {
  if (def.virtual) continue; // answered by rest/reviews.ts, with no store
  if (def.storageVersion !== undefined ? !conversions.has(def) : !byDef.has(def)) {
    throw new Error(`${def.resource}.${def.group || 'core'}/${def.version} has a registry row but no ${def.storageVersion ? 'conversion' : 'strategy'} in packages/apiserver/src/registry`);
  }
}

/** The strategy of a stored resource (every registry row without a storageVersion has one). */
export function strategyFor(def: ResourceDef): Strategy {
  return byDef.get(def)!;
}

/** The conversion of a row served from another version's storage. */
export function conversionFor(def: ResourceDef): VersionConversion {
  return conversions.get(def)!;
}

/** Kind-specific validation plus ObjectMeta's, as the generic store runs it; `old` is given on update. */
export function validateObject(strategy: Strategy, obj: KubeObject, old?: KubeObject, subresource?: string): FieldError[] {
  return [...validateObjectMeta(obj, strategy.def.namespaced, strategy.nameCheck), ...strategy.validate(obj, old, subresource)];
}

const ofKind = (group: string, kind: string): Strategy | undefined => STRATEGIES.find((s) => s.def.group === group && s.def.kind === kind);

/** Fills in the defaults of a kind by group and kind ('apps', 'Deployment'); nothing for kinds not served. */
export function applyDefaults(group: string, kind: string, obj: KubeObject): void {
  ofKind(group, kind)?.defaults(obj);
}

/** Validates an object of a kind by group and kind, as the store does on create (old undefined) and update. */
export function validate(group: string, kind: string, obj: KubeObject, old?: KubeObject, subresource?: string): FieldError[] {
  const strategy = ofKind(group, kind);
  return strategy ? validateObject(strategy, obj, old, subresource) : [];
}

/** The Table printer of a resource by group and plural; NAME and AGE for resources not served (e.g. custom ones). */
export function printerFor(group: string, resource: string): Printer {
  // A row served from another group's storage prints as the stored kind (events.k8s.io Events as core's, as
  // upstream prints both from the internal type).
  const stored = RESOURCES.find((r) => r.group === group && r.resource === resource && r.storageGroup !== undefined)?.storageGroup ?? group;
  return STRATEGIES.find((s) => s.def.group === stored && s.def.resource === resource)?.printer ?? defaultPrinter;
}

const metadataOnly = compilePatchMeta({});

/** Strategic-merge metadata by apiVersion and kind; for other kinds, only metadata's (ownerReferences by uid, finalizers). */
export function patchMetaFor(apiVersion: string, kind: string): PatchMeta {
  const def = findKind(apiVersion, kind);
  return (def && byDef.get(def)?.patchMeta) ?? metadataOnly;
}
