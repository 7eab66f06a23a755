import { HORIZONTALPODAUTOSCALERS_V1, type KubeObject } from '@k8ts/api';
import { checkTypes } from '../../type-check.js';
import type { VersionConversion } from '../strategy.js';
import { isObj, type Obj } from '../shared/validation.js';

const isCpuUtilization = (m: unknown): boolean => {
  const r = isObj(m) && m.type === 'Resource' && isObj(m.resource) ? m.resource : undefined;
  return !!r && r.name === 'cpu' && isObj(r.target) && r.target.type === 'Utilization';
};

/**
 * autoscaling/v2 → v1 (upstream's Convert_autoscaling_HorizontalPodAutoscaler_To_v1_HorizontalPodAutoscaler): the cpu
 * Utilization target becomes targetCPUUtilizationPercentage, its current value currentCPUUtilizationPercentage. What v1
 * cannot say (other metrics, behavior, conditions) is not shown; the store keeps it on v1 writes (`restore`).
 */
export function hpaToV1(obj: KubeObject): KubeObject {
  const { spec: spec2, status: status2, ...rest } = obj as Obj;
  const spec = isObj(spec2) ? spec2 : {};
  const status = isObj(status2) ? status2 : undefined;
  const cpu = (Array.isArray(spec.metrics) ? spec.metrics : []).find(isCpuUtilization) as Obj | undefined;
  const target = ((cpu?.resource as Obj | undefined)?.target as Obj | undefined)?.averageUtilization;
  const out: Obj = {
    ...rest, apiVersion: 'autoscaling/v1',
    spec: {
      ...(spec.scaleTargetRef !== undefined ? { scaleTargetRef: spec.scaleTargetRef } : {}),
      ...(spec.minReplicas !== undefined ? { minReplicas: spec.minReplicas } : {}),
      ...(spec.maxReplicas !== undefined ? { maxReplicas: spec.maxReplicas } : {}),
      ...(target !== undefined ? { targetCPUUtilizationPercentage: target } : {}),
    },
  };
  if (status) {
    const current = (Array.isArray(status.currentMetrics) ? status.currentMetrics : [])
      .map((m) => (isObj(m) && m.type === 'Resource' && isObj(m.resource) && m.resource.name === 'cpu' && isObj(m.resource.current) ? m.resource.current.averageUtilization : undefined))
      .find((u) => u !== undefined);
    out.status = {
      ...(status.observedGeneration !== undefined ? { observedGeneration: status.observedGeneration } : {}),
      ...(status.lastScaleTime !== undefined ? { lastScaleTime: status.lastScaleTime } : {}),
      currentReplicas: status.currentReplicas ?? 0,
      desiredReplicas: status.desiredReplicas ?? 0,
      ...(current !== undefined ? { currentCPUUtilizationPercentage: current } : {}),
    };
  }
  return out as KubeObject;
}

/** autoscaling/v1 → v2: targetCPUUtilizationPercentage becomes a cpu Utilization Resource metric. */
export function hpaToV2(obj: KubeObject): KubeObject {
  const { spec: spec1, status: status1, ...rest } = obj as Obj;
  const spec = isObj(spec1) ? spec1 : {};
  const status = isObj(status1) ? status1 : undefined;
  const out: Obj = {
    ...rest, apiVersion: 'autoscaling/v2',
    spec: {
      ...(spec.scaleTargetRef !== undefined ? { scaleTargetRef: spec.scaleTargetRef } : {}),
      ...(spec.minReplicas !== undefined ? { minReplicas: spec.minReplicas } : {}),
      ...(spec.maxReplicas !== undefined ? { maxReplicas: spec.maxReplicas } : {}),
      ...(spec.targetCPUUtilizationPercentage !== undefined ? {
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage } } }],
      } : {}),
    },
  };
  if (status) {
    out.status = {
      ...(status.observedGeneration !== undefined ? { observedGeneration: status.observedGeneration } : {}),
      ...(status.lastScaleTime !== undefined ? { lastScaleTime: status.lastScaleTime } : {}),
      currentReplicas: status.currentReplicas ?? 0,
      desiredReplicas: status.desiredReplicas ?? 0,
      ...(status.currentCPUUtilizationPercentage !== undefined ? {
        currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: status.currentCPUUtilizationPercentage } } }],
      } : {}),
    };
  }
  return out as KubeObject;
}

/**
 * Keeps, on a write through v1, what only v2 can say: the other metrics and behavior (with the cpu target as the
 * v1 body gives it), the status conditions and other current metrics. Upstream keeps them in
 * `autoscaling.alpha.kubernetes.io/*` annotations of the v1 object; here the stored object holds them.
 */
function restore(next: KubeObject, old: KubeObject): void {
  const n = next as Obj;
  const o = old as Obj;
  const nSpec = (n.spec ??= {}) as Obj;
  const oSpec = isObj(o.spec) ? o.spec : {};
  const others = (Array.isArray(oSpec.metrics) ? oSpec.metrics : []).filter((m) => !isCpuUtilization(m));
  const cpu = (Array.isArray(nSpec.metrics) ? nSpec.metrics : []).filter(isCpuUtilization);
  if (others.length || cpu.length) nSpec.metrics = [...cpu, ...others];
  if (oSpec.behavior !== undefined && nSpec.behavior === undefined) nSpec.behavior = structuredClone(oSpec.behavior);
  if (isObj(n.status) && isObj(o.status)) {
    const oStatus = o.status;
    if (oStatus.conditions !== undefined) n.status.conditions = structuredClone(oStatus.conditions);
    const oldMetrics = Array.isArray(oStatus.currentMetrics) ? oStatus.currentMetrics : [];
    if (oldMetrics.length) {
      const newCpu = Array.isArray(n.status.currentMetrics) ? n.status.currentMetrics[0] : undefined;
      n.status.currentMetrics = oldMetrics.map((m) => (newCpu && isObj(m) && m.type === 'Resource' && isObj(m.resource) && m.resource.name === 'cpu'
        ? { ...m, resource: { ...m.resource, current: { ...(m.resource.current as Obj), ...((newCpu as Obj).resource as Obj).current as Obj } } } : m));
    }
  }
}

/** How autoscaling/v1 HorizontalPodAutoscalers are served from the autoscaling/v2 storage. */
export const horizontalPodAutoscalerV1: VersionConversion = {
  def: HORIZONTALPODAUTOSCALERS_V1,
  checkTypes: (obj) => checkTypes(HORIZONTALPODAUTOSCALERS_V1, obj),
  toStorage: hpaToV2,
  fromStorage: hpaToV1,
  restore,
};
