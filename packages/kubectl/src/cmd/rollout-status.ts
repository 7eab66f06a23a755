import type { KubeObject } from '@k8ts/api';
import { CliError } from '../errors.js';

/** What a status viewer says about one object: the line to print, and whether the rollout is done. */
export interface RolloutState { message: string; done: boolean }

interface Workload extends KubeObject {
  spec?: {
    replicas?: number;
    updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } };
  };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    readyReplicas?: number;
    currentReplicas?: number;
    updateRevision?: string;
    currentRevision?: string;
    desiredNumberScheduled?: number;
    updatedNumberScheduled?: number;
    numberAvailable?: number;
    conditions?: { type?: string; reason?: string }[];
  };
}

/** kubectl's rollout status viewers (polymorphichelpers/rollout_status.go) for Deployments, DaemonSets and StatefulSets. */
export function rolloutState(obj: Workload): RolloutState {
  const name = obj.metadata?.name ?? '';
  const generation = obj.metadata?.generation ?? 0;
  const st = obj.status ?? {};
  const observed = st.observedGeneration ?? 0;
  switch (obj.kind) {
    case 'Deployment': {
      if (generation > observed) return { message: 'Waiting for deployment spec update to be observed...\n', done: false };
      if (st.conditions?.some((c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded')) {
        throw new CliError(`deployment "${name}" exceeded its progress deadline`);
      }
      const want = obj.spec?.replicas ?? 1;
      const updated = st.updatedReplicas ?? 0;
      if (obj.spec?.replicas !== undefined && updated < want) {
        return { message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${want} new replicas have been updated...\n`, done: false };
      }
      if ((st.replicas ?? 0) > updated) {
        return { message: `Waiting for deployment "${name}" rollout to finish: ${(st.replicas ?? 0) - updated} old replicas are pending termination...\n`, done: false };
      }
      if ((st.availableReplicas ?? 0) < updated) {
        return { message: `Waiting for deployment "${name}" rollout to finish: ${st.availableReplicas ?? 0} of ${updated} updated replicas are available...\n`, done: false };
      }
      return { message: `deployment "${name}" successfully rolled out\n`, done: true };
    }
    case 'DaemonSet': {
      if (obj.spec?.updateStrategy?.type !== 'RollingUpdate') throw new CliError('rollout status is only available for RollingUpdate strategy type');
      if (generation > observed) return { message: 'Waiting for daemon set spec update to be observed...\n', done: false };
      const desired = st.desiredNumberScheduled ?? 0;
      if ((st.updatedNumberScheduled ?? 0) < desired) {
        return { message: `Waiting for daemon set "${name}" rollout to finish: ${st.updatedNumberScheduled ?? 0} out of ${desired} new pods have been updated...\n`, done: false };
      }
      if ((st.numberAvailable ?? 0) < desired) {
        return { message: `Waiting for daemon set "${name}" rollout to finish: ${st.numberAvailable ?? 0} of ${desired} updated pods are available...\n`, done: false };
      }
      return { message: `daemon set "${name}" successfully rolled out\n`, done: true };
    }
    case 'StatefulSet': {
      if (obj.spec?.updateStrategy?.type !== 'RollingUpdate') throw new CliError('rollout status is only available for RollingUpdate strategy type');
      if (observed === 0 || generation > observed) return { message: 'Waiting for statefulset spec update to be observed...\n', done: false };
      const replicas = obj.spec?.replicas;
      if (replicas !== undefined && (st.readyReplicas ?? 0) < replicas) {
        return { message: `Waiting for ${replicas - (st.readyReplicas ?? 0)} pods to be ready...\n`, done: false };
      }
      const partition = obj.spec?.updateStrategy?.rollingUpdate?.partition;
      if (partition !== undefined && replicas !== undefined && partition > 0) {
        if ((st.updatedReplicas ?? 0) < replicas - partition) {
          return { message: `Waiting for partitioned roll out to finish: ${st.updatedReplicas ?? 0} out of ${replicas - partition} new pods have been updated...\n`, done: false };
        }
        return { message: `partitioned roll out complete: ${st.updatedReplicas ?? 0} new pods have been updated...\n`, done: true };
      }
      if (st.updateRevision !== st.currentRevision) {
        return { message: `waiting for statefulset rolling update to complete ${st.updatedReplicas ?? 0} pods at revision ${st.updateRevision ?? ''}...\n`, done: false };
      }
      return { message: `statefulset rolling update complete ${st.currentReplicas ?? 0} pods at revision ${st.currentRevision ?? ''}...\n`, done: true };
    }
  }
  const group = (obj.apiVersion ?? '').includes('/') ? (obj.apiVersion ?? '').split('/')[0] : '';
  throw new CliError(`no status viewer has been implemented for ${group ? `${obj.kind}.${group}` : obj.kind}`);
}
