import type { ObjectMeta as ReadonlyObjectMeta, ListMeta } from 'kubernetes-types/meta/v1.js';

/** metav1.ObjectMeta, writable (the servers and controllers fill it in). */
export type ObjectMeta = { -readonly [K in keyof ReadonlyObjectMeta]: ReadonlyObjectMeta[K] };

export type { ListMeta, OwnerReference, LabelSelector, Condition, Time } from 'kubernetes-types/meta/v1.js';
export type {
  Pod, PodSpec, PodStatus, Container, Node, Namespace, Service, Endpoints, ConfigMap, Secret, Event,
  ServiceAccount, Binding, PodTemplateSpec,
} from 'kubernetes-types/core/v1.js';
export type { Deployment, ReplicaSet, DaemonSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
export type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
export type { Lease } from 'kubernetes-types/coordination/v1.js';
export type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
export type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2.js';
export type { PriorityClass } from 'kubernetes-types/scheduling/v1.js';
export type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
export type { StorageClass } from 'kubernetes-types/storage/v1.js';
export type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';

/** Any Kubernetes object: typed metadata, everything else open (objects round-trip intact). */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [field: string]: unknown;
}

/** A list as the API returns it. */
export interface KubeList<T = KubeObject> {
  apiVersion: string;
  kind: string;
  metadata: ListMeta;
  items: T[];
}

/** One watch event as it travels on the wire. */
export interface WatchEvent<T = KubeObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}
