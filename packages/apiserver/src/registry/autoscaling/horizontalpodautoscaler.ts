import type { HorizontalPodAutoscaler } from '@k8ts/api';
import { defineStrategy } from '../strategy.js';
import { hpaToV2 } from './horizontalpodautoscaler-v1.js';
import { child, fill } from '../shared/defaults.js';
import { age, AGE, column, NAME, nameOf, type Printer } from '../shared/printing.js';
import { asObj, invalid, isObj, required, type Errors, type Obj } from '../shared/validation.js';

function scalingRules(given: unknown, defaults: Obj): Obj {
  const rules = isObj(given) ? given : {};
  for (const [k, v] of Object.entries(defaults)) fill(rules, k, structuredClone(v));
  return rules;
}

function defaultHPA(hpa: Obj): void {
  const spec = child(hpa, 'spec');
  fill(spec, 'minReplicas', 1);
  if (!Array.isArray(spec.metrics) || spec.metrics.length === 0) {
    spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
  }
  // Behavior is filled in only when the user gave one.
  if (isObj(spec.behavior)) {
    spec.behavior.scaleUp = scalingRules(spec.behavior.scaleUp, {
      stabilizationWindowSeconds: 0, selectPolicy: 'Max',
      policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }],
    });
    spec.behavior.scaleDown = scalingRules(spec.behavior.scaleDown, {
      selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
    });
  }
}

function validateHPA(hpa: Obj): Errors {
  const spec = asObj(hpa.spec);
  const errs: Errors = [];
  const ref = asObj(spec.scaleTargetRef);
  if (!ref.kind) errs.push(required('spec.scaleTargetRef.kind'));
  if (!ref.name) errs.push(required('spec.scaleTargetRef.name'));
  const min = spec.minReplicas;
  const max = spec.maxReplicas;
  if (typeof min === 'number' && min < 1) errs.push(invalid('spec.minReplicas', min, 'must be greater than or equal to 1'));
  if (!(typeof max === 'number' && max >= 1)) errs.push(invalid('spec.maxReplicas', max ?? 0, 'must be greater than 0'));
  else if (typeof min === 'number' && max < min) errs.push(invalid('spec.maxReplicas', max, 'must be greater than or equal to `minReplicas`'));
  return errs;
}

type MetricSpec = NonNullable<NonNullable<HorizontalPodAutoscaler['spec']>['metrics']>[number];
type MetricStatus = NonNullable<NonNullable<HorizontalPodAutoscaler['status']>['currentMetrics']>[number];

/** One TARGETS entry, `cpu: 40%/80%`, `<unknown>/500m (avg)`, as upstream's formatHPAMetrics. */
function formatMetric(spec: MetricSpec, status: MetricStatus | undefined): string {
  const unknown = '<unknown>';
  const q = (v: unknown) => (v === undefined || v === null ? unknown : String(v));
  switch (spec.type) {
    case 'External':
    case 'Object': {
      const src = spec.type === 'External' ? spec.external : spec.object;
      const cur = (spec.type === 'External' ? status?.external : status?.object)?.current;
      if (src?.target.averageValue !== undefined) return `${q(cur?.averageValue)}/${src.target.averageValue} (avg)`;
      return `${q(cur?.value)}/${q(src?.target.value)}`;
    }
    case 'Pods':
      return `${q(status?.pods?.current.averageValue)}/${q(spec.pods?.target.averageValue)}`;
    case 'Resource':
    case 'ContainerResource': {
      const src = spec.type === 'Resource' ? spec.resource : spec.containerResource;
      const cur = (spec.type === 'Resource' ? status?.resource : status?.containerResource)?.current;
      if (src?.target.averageValue !== undefined) return `${src.name}: ${q(cur?.averageValue)}/${src.target.averageValue}`;
      const current = cur?.averageUtilization !== undefined ? `${cur.averageUtilization}%` : unknown;
      const target = src?.target.averageUtilization !== undefined ? `${src.target.averageUtilization}%` : '<auto>';
      return `${src?.name ?? ''}: ${current}/${target}`;
    }
    default:
      return '<unknown type>';
  }
}

const printer: Printer = {
  columns: [
    NAME,
    column('Reference', 'The scale target: kind/name.'),
    column('Targets', 'Current and target values of the metrics.'),
    column('MinPods', 'The lower limit for the number of replicas.'),
    column('MaxPods', 'The upper limit for the number of replicas.'),
    column('Replicas', 'Current number of replicas of the scale target.'),
    AGE,
  ],
  row(obj, now) {
    // Answers to autoscaling/v1 requests are printed from their v2 form, as upstream prints the internal version.
    const hpa = (obj.apiVersion === 'autoscaling/v1' ? hpaToV2(obj) : obj) as HorizontalPodAutoscaler;
    const spec = hpa.spec;
    const metrics = spec?.metrics ?? [];
    const statuses = hpa.status?.currentMetrics ?? [];
    const entries = metrics.map((m, i) => formatMetric(m, statuses[i]));
    const targets = !entries.length ? '<none>'
      : entries.length > 2 ? `${entries.slice(0, 2).join(', ')} + ${entries.length - 2} more...` : entries.join(', ');
    return [
      nameOf(hpa), `${spec?.scaleTargetRef?.kind ?? ''}/${spec?.scaleTargetRef?.name ?? ''}`, targets,
      spec?.minReplicas !== undefined ? String(spec.minReplicas) : '<unset>', spec?.maxReplicas ?? 0,
      hpa.status?.currentReplicas ?? 0, age(hpa, now),
    ];
  },
};

/** autoscaling/v2 HorizontalPodAutoscalers (upstream's pkg/registry/autoscaling/horizontalpodautoscaler). */
export const horizontalPodAutoscalerStrategy = defineStrategy('autoscaling', 'v2', 'horizontalpodautoscalers', {
  tracksGeneration: true,
  defaults: defaultHPA,
  validate: validateHPA,
  printer,
});
