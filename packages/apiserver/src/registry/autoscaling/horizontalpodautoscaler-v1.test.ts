import { describe, expect, it } from 'vitest';
import protobuf from 'protobufjs';
import type { KubeObject } from '@k8ts/api';
import { decodeProtobuf } from '../../protobuf/decode.js';
import { horizontalPodAutoscalerV1, hpaToV1, hpaToV2 } from './horizontalpodautoscaler-v1.js';
import { horizontalPodAutoscalerStrategy } from './horizontalpodautoscaler.js';

const v2: KubeObject = {
  apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web', namespace: 'default', annotations: { a: 'b' } },
  spec: {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 2, maxReplicas: 5,
    metrics: [
      { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } },
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } },
    ],
    behavior: { scaleDown: { stabilizationWindowSeconds: 10 } },
  },
  status: {
    currentReplicas: 3, desiredReplicas: 4, lastScaleTime: '2026-12-02T00:00:00Z',
    currentMetrics: [{ type: '' }, { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 70, averageValue: '14m' } } }],
    conditions: [{ type: 'AbleToScale', status: 'True', reason: 'SucceededRescale' }],
  },
} as KubeObject;

describe('autoscaling/v1 ↔ v2', () => {
  it('shows the cpu Utilization target and current value as v1 percentages', () => {
    expect(hpaToV1(v2)).toEqual({
      apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: v2.metadata,
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 2, maxReplicas: 5, targetCPUUtilizationPercentage: 50 },
      status: { currentReplicas: 3, desiredReplicas: 4, lastScaleTime: '2026-12-02T00:00:00Z', currentCPUUtilizationPercentage: 70 },
    });
  });

  it('turns targetCPUUtilizationPercentage into a cpu Resource metric', () => {
    expect(hpaToV2({ apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'x' },
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'x' }, maxReplicas: 3, targetCPUUtilizationPercentage: 40 } } as KubeObject)).toEqual({
      apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'x' },
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'x' }, maxReplicas: 3,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 40 } } }] },
    });
  });

  it('a write through v1 keeps what only v2 can say (other metrics, behavior, conditions)', () => {
    const viaV1 = hpaToV2({ ...hpaToV1(v2), spec: { ...(hpaToV1(v2).spec as object), targetCPUUtilizationPercentage: 60 } } as KubeObject);
    horizontalPodAutoscalerV1.restore!(viaV1, v2);
    const spec = viaV1.spec as Record<string, unknown>;
    expect(spec.metrics).toEqual([
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } },
      { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } },
    ]);
    expect(spec.behavior).toEqual({ scaleDown: { stabilizationWindowSeconds: 10 } });
    expect((viaV1.status as Record<string, unknown>).conditions).toEqual([{ type: 'AbleToScale', status: 'True', reason: 'SucceededRescale' }]);
  });

  it('prints a v1 answer (kubectl get hpa.v1.autoscaling) from its v2 form', () => {
    const row = (o: KubeObject) => horizontalPodAutoscalerStrategy.printer.row(o, new Date('2026-12-02T00:01:00Z')).slice(1, 6);
    expect(row(hpaToV1(v2))).toEqual(['Deployment/web', 'cpu: 70%/50%', '2', 5, 3]);
    expect(row(v2)).toEqual(['Deployment/web', 'memory: <unknown>/100Mi, cpu: 70%/50%', '2', 5, 3]);
  });

  it('decodes the v1 Go types (strings where numbers belong are refused)', () => {
    expect(horizontalPodAutoscalerV1.checkTypes({ spec: { targetCPUUtilizationPercentage: 'x' } } as KubeObject)[0].message)
      .toContain('cannot unmarshal string into Go struct field');
    expect(horizontalPodAutoscalerV1.checkTypes({ spec: { maxReplicas: 3, targetCPUUtilizationPercentage: 50 } } as KubeObject)).toEqual([]);
  });
});

describe('protobuf request bodies', () => {
  // The wire form kubectl autoscale sends (k8s\0 + runtime.Unknown{typeMeta, raw}), written field by field as Go's
  // generated code does: unset strings as empty strings and an unset creationTimestamp as Go's zero time.
  function kubectlBody(): Buffer {
    const w = protobuf.Writer;
    const ref = w.create().uint32(10).string('Deployment').uint32(18).string('web').uint32(26).string('apps/v1').finish();
    const spec = w.create().uint32(10).bytes(ref).uint32(16).int32(1).uint32(24).int32(5).uint32(32).int32(50).finish();
    const zeroTime = w.create().uint32(8).int64(-62135596800).uint32(16).int32(0).finish();
    const meta = w.create().uint32(10).string('web').uint32(18).string('').uint32(26).string('default').uint32(66).bytes(zeroTime)
      .uint32(90).fork().uint32(10).string('app').uint32(18).string('web').ldelim().finish();
    const status = w.create().uint32(24).int32(0).uint32(32).int32(0).finish();
    const hpa = w.create().uint32(10).bytes(meta).uint32(18).bytes(spec).uint32(26).bytes(status).finish();
    const typeMeta = w.create().uint32(10).string('autoscaling/v1').uint32(18).string('HorizontalPodAutoscaler').finish();
    const unknown = w.create().uint32(10).bytes(typeMeta).uint32(18).bytes(hpa).uint32(26).string('').uint32(34).string('').finish();
    return Buffer.concat([Buffer.from('k8s\0', 'latin1'), unknown]);
  }

  it('decodes an autoscaling/v1 HPA into its JSON (Go\'s zero creationTimestamp as null)', () => {
    expect(decodeProtobuf(kubectlBody())).toEqual({
      apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'web', namespace: 'default', labels: { app: 'web' }, creationTimestamp: null },
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'web', apiVersion: 'apps/v1' }, minReplicas: 1, maxReplicas: 5, targetCPUUtilizationPercentage: 50 },
      status: { currentReplicas: 0, desiredReplicas: 0 },
    });
  });

  it('refuses kinds without a schema with 415 and broken bodies with 400', () => {
    const typeMeta = protobuf.Writer.create().uint32(10).string('example.com/v1').uint32(18).string('Widget').finish();
    const other = Buffer.concat([Buffer.from('k8s\0', 'latin1'), protobuf.Writer.create().uint32(10).bytes(typeMeta).finish()]);
    expect(() => decodeProtobuf(other)).toThrow(expect.objectContaining({ code: 415 }));
    expect(() => decodeProtobuf(Buffer.from('nope'))).toThrow(expect.objectContaining({ code: 400 }));
    expect(() => decodeProtobuf(Buffer.concat([Buffer.from('k8s\0', 'latin1'), Buffer.from([0x0a, 0xff])]))).toThrow(expect.objectContaining({ code: 400 }));
  });
});
