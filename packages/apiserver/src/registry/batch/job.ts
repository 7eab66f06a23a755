import type { Job } from '@k8ts/api';
import { asField, defineStrategy } from '../strategy.js';
import { child, fill } from '../shared/defaults.js';
import { defaultTemplate, validatePodTemplate } from '../shared/pod.js';
import {
  age, AGE, column, CONTAINERS, containerCells, formatSelector, humanDuration, IMAGES, NAME, nameOf, SELECTOR, since, type Printer,
} from '../shared/printing.js';
import {
  asObj, immutable, invalid, isObj, isSet, nonNegative, notSupported, required, sameJSON, selectorMatches, validateLabelSelector,
  type Errors, type Obj,
} from '../shared/validation.js';

const CONTROLLER_UID_LABELS = ['controller-uid', 'batch.kubernetes.io/controller-uid'];
const JOB_NAME_LABELS = ['job-name', 'batch.kubernetes.io/job-name'];

/**
 * Upstream's job strategy generates the selector from the job's uid unless spec.manualSelector is true (its
 * generateSelector): the job-name and controller-uid labels go on the template where not set, and the selector
 * gains `batch.kubernetes.io/controller-uid: <uid>` where missing (a conflicting one is refused by validation).
 * Done here when metadata.uid is already set, so callers must assign the uid first.
 */
function generateJobSelector(job: Obj, spec: Obj): void {
  const uid = job.metadata?.uid;
  if (!uid || spec.manualSelector === true || !isObj(spec.template)) return;
  const labels = child(child(spec.template, 'metadata'), 'labels');
  const name = job.metadata?.name ?? '';
  for (const key of JOB_NAME_LABELS) fill(labels, key, name);
  for (const key of CONTROLLER_UID_LABELS) fill(labels, key, uid);
  if (spec.selector !== undefined && !isObj(spec.selector)) return;
  fill(child(child(spec, 'selector'), 'matchLabels'), 'batch.kubernetes.io/controller-uid', uid);
}

/** Upstream's ValidateGeneratedSelector: a generated selector must select this job's uid, and the template carry its labels. */
function validateGeneratedSelector(job: Obj): Errors {
  const spec = asObj(job.spec);
  if (spec.manualSelector === true) return [];
  const labels = asObj(asObj(asObj(spec.template).metadata).labels);
  const uid = String(job.metadata?.uid ?? '');
  const name = String(job.metadata?.name ?? '');
  const errs: Errors = [];
  if (!uid) errs.push(required('metadata.uid'));
  const want = (key: string, value: string) => {
    if (labels[key] !== value) errs.push(invalid(`spec.template.metadata.labels[${key}]`, labels[key] ?? '', `must be '${value}'`));
  };
  for (const key of CONTROLLER_UID_LABELS) want(key, uid);
  for (const key of JOB_NAME_LABELS) want(key, name);
  if (isObj(spec.selector) && !selectorMatches(spec.selector, { 'batch.kubernetes.io/controller-uid': uid })) {
    errs.push(invalid('spec.selector', spec.selector, '`selector` not auto-generated'));
  }
  return errs;
}

/** SetDefaults_Job, plus the selector upstream's job strategy generates. */
export function defaultJob(job: Obj): void {
  const spec = child(job, 'spec');
  if (spec.completions == null && spec.parallelism == null) spec.completions = 1;
  fill(spec, 'parallelism', 1);
  fill(spec, 'backoffLimit', spec.backoffLimitPerIndex != null ? 2147483647 : 6);
  fill(spec, 'completionMode', 'NonIndexed');
  fill(spec, 'suspend', false);
  fill(spec, 'podReplacementPolicy', spec.podFailurePolicy != null ? 'Failed' : 'TerminatingOrFailed');
  const copyTemplateLabels = () => {
    const templateLabels = spec.template?.metadata?.labels;
    if (isObj(templateLabels) && Object.keys(job.metadata?.labels ?? {}).length === 0) {
      child(job, 'metadata').labels = { ...templateLabels };
    }
  };
  copyTemplateLabels();
  generateJobSelector(job, spec);
  // Upstream defaults again whenever the job is read back, which copies the generated labels to a job that had none.
  copyTemplateLabels();
  defaultTemplate(spec, { restartPolicy: false });
}

const POD_FAILURE_ACTIONS = ['Count', 'FailIndex', 'FailJob', 'Ignore'];

/** Upstream's validatePodFailurePolicy: at most 20 rules, each a known action on exit codes or pod conditions. */
function validatePodFailurePolicy(spec: Obj): Errors {
  const policy = spec.podFailurePolicy;
  if (!isSet(policy)) return [];
  const errs: Errors = [];
  const rules = Array.isArray(asObj(policy).rules) ? asObj(policy).rules as unknown[] : [];
  if (rules.length > 20) errs.push(invalid('spec.podFailurePolicy.rules', rules.length, 'must have at most 20 items'));
  rules.forEach((raw, i) => {
    const rule = asObj(raw);
    const path = `spec.podFailurePolicy.rules[${i}]`;
    if (!POD_FAILURE_ACTIONS.includes(rule.action)) errs.push(notSupported(`${path}.action`, rule.action, POD_FAILURE_ACTIONS));
    if (rule.action === 'FailIndex' && spec.backoffLimitPerIndex == null) errs.push(invalid(`${path}.action`, rule.action, 'requires the backoffLimitPerIndex to be set'));
    const onCodes = isSet(rule.onExitCodes); const onConds = isSet(rule.onPodConditions);
    if (onCodes === onConds) errs.push(invalid(path, rule, 'specifying one of OnExitCodes and OnPodConditions is required'));
    if (onCodes) {
      const req = asObj(rule.onExitCodes);
      if (!['In', 'NotIn'].includes(req.operator)) errs.push(notSupported(`${path}.onExitCodes.operator`, req.operator, ['In', 'NotIn']));
      const values: unknown[] = Array.isArray(req.values) ? req.values : [];
      if (values.length === 0) errs.push(required(`${path}.onExitCodes.values`, 'at least one value is required'));
      if (values.length > 255) errs.push(invalid(`${path}.onExitCodes.values`, values.length, 'must have at most 255 items'));
      values.forEach((v, j) => {
        if (req.operator === 'In' && v === 0) errs.push(invalid(`${path}.onExitCodes.values[${j}]`, v, 'must not be 0 for the In operator'));
        if (j > 0 && typeof v === 'number' && (values[j - 1] as number) >= v) {
          errs.push(invalid(`${path}.onExitCodes.values[${j}]`, v, values[j - 1] === v ? 'duplicate value' : 'must be ordered'));
        }
      });
    }
  });
  if (spec.podReplacementPolicy && spec.podReplacementPolicy !== 'Failed') {
    errs.push(notSupported('spec.podReplacementPolicy', spec.podReplacementPolicy, ['Failed']));
  }
  return errs;
}

/** ValidateJob (create) and ValidateJobUpdate (update `old`). */
export function validateJob(job: Obj, old?: Obj): Errors {
  const spec = asObj(job.spec);
  const errs: Errors = [];
  const sel = spec.selector;
  // Without manualSelector the selector is generated from the uid (applyDefaults), so only a manual one must be given.
  if (!isObj(sel)) {
    if (spec.manualSelector === true) errs.push(required('spec.selector'));
  } else {
    errs.push(...validateLabelSelector(sel, 'spec.selector'));
  }
  const template = asObj(spec.template);
  const labels = asObj(template.metadata).labels;
  if (isObj(sel) && !selectorMatches(sel, labels)) {
    errs.push(invalid('spec.template.metadata.labels', labels ?? {}, '`selector` does not match template `labels`'));
  }
  for (const f of ['parallelism', 'completions', 'backoffLimit']) errs.push(...nonNegative(`spec.${f}`, spec[f]));
  if (isSet(spec.activeDeadlineSeconds) && !(spec.activeDeadlineSeconds > 0)) {
    errs.push(invalid('spec.activeDeadlineSeconds', spec.activeDeadlineSeconds, 'must be greater than zero'));
  }
  if (spec.completionMode && !['Indexed', 'NonIndexed'].includes(spec.completionMode)) {
    errs.push(notSupported('spec.completionMode', spec.completionMode, ['Indexed', 'NonIndexed']));
  }
  if (spec.completionMode === 'Indexed' && !isSet(spec.completions)) errs.push(required('spec.completions', 'when completion mode is Indexed'));
  if (spec.podReplacementPolicy && !['Failed', 'TerminatingOrFailed'].includes(spec.podReplacementPolicy) && !isSet(spec.podFailurePolicy)) {
    errs.push(notSupported('spec.podReplacementPolicy', spec.podReplacementPolicy, ['Failed', 'TerminatingOrFailed']));
  }
  errs.push(...validatePodFailurePolicy(spec));
  errs.push(...validatePodTemplate(template, 'spec.template', { jobTemplate: true }));
  const restartPolicy = asObj(template.spec).restartPolicy;
  if (!restartPolicy || restartPolicy === 'Always') {
    errs.push(required('spec.template.spec.restartPolicy', 'valid values: "OnFailure", "Never"'));
  } else if (restartPolicy !== 'OnFailure' && restartPolicy !== 'Never') {
    errs.push(notSupported('spec.template.spec.restartPolicy', restartPolicy, ['OnFailure', 'Never']));
  }
  if (old) errs.push(...validateJobUpdate(job, old));
  else errs.push(...validateGeneratedSelector(job));
  return errs;
}

function validateJobUpdate(job: Obj, old: Obj): Errors {
  const spec = asObj(job.spec);
  const oldSpec = asObj(old.spec);
  const errs: Errors = [];
  if (!sameJSON(spec.selector, oldSpec.selector)) errs.push(immutable('spec.selector', spec.selector));
  const elastic = spec.completionMode === 'Indexed' && spec.completions === spec.parallelism;
  if (!elastic && !sameJSON(spec.completions, oldSpec.completions)) errs.push(immutable('spec.completions', spec.completions));
  if (!sameJSON(spec.completionMode, oldSpec.completionMode)) errs.push(immutable('spec.completionMode', spec.completionMode));
  // A suspended job that never started may still change where its pods go.
  const oldTemplate = structuredClone(asObj(oldSpec.template));
  const template = asObj(spec.template);
  if (oldSpec.suspend === true && !isSet(asObj(old.status).startTime)) {
    const meta = (oldTemplate.metadata ??= {});
    const podSpec = (oldTemplate.spec ??= {});
    meta.labels = template.metadata?.labels;
    meta.annotations = template.metadata?.annotations;
    for (const f of ['nodeSelector', 'tolerations', 'schedulingGates']) podSpec[f] = template.spec?.[f];
    if (isObj(podSpec.affinity) || isObj(template.spec?.affinity)) {
      podSpec.affinity = { ...asObj(podSpec.affinity), nodeAffinity: template.spec?.affinity?.nodeAffinity };
    }
  }
  if (!sameJSON(template, oldTemplate)) errs.push(immutable('spec.template', spec.template));
  return errs;
}

function jobStatus(job: Job): string {
  const has = (type: string) => job.status?.conditions?.find((c) => c.type === type)?.status === 'True';
  if (has('Complete')) return 'Complete';
  if (has('Failed')) return 'Failed';
  if (job.metadata?.deletionTimestamp) return 'Terminating';
  if (has('Suspended')) return 'Suspended';
  if (has('FailureTarget')) return 'FailureTarget';
  if (has('SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  return 'Running';
}

const printer: Printer = {
  columns: [
    NAME,
    column('Status', 'Status of the job.'),
    column('Completions', 'Succeeded pods out of the wanted completions.'),
    column('Duration', 'Time required to complete the job.'),
    AGE, CONTAINERS, IMAGES, SELECTOR('the pods the job runs'),
  ],
  row(obj, now) {
    const job = obj as Job;
    const succeeded = job.status?.succeeded ?? 0;
    let completions: string;
    if (job.spec?.completions !== undefined) completions = `${succeeded}/${job.spec.completions}`;
    else if ((job.spec?.parallelism ?? 0) > 1) completions = `${succeeded}/1 of ${job.spec!.parallelism}`;
    else completions = `${succeeded}/1`;
    const start = job.status?.startTime;
    const end = job.status?.completionTime;
    let duration = '';
    if (start) duration = end ? humanDuration(Date.parse(end) - Date.parse(start)) : since(start, now);
    const [names, images] = containerCells(job.spec?.template?.spec?.containers);
    return [nameOf(job), jobStatus(job), completions, duration, age(job, now), names, images, formatSelector(job.spec?.selector)];
  },
};

/** Jobs (upstream's pkg/registry/batch/job/strategy.go). */
export const jobStrategy = defineStrategy('batch', 'v1', 'jobs', {
  tracksGeneration: true,
  defaults: defaultJob,
  validate: validateJob,
  // Upstream's field label is status.successful, read from status.succeeded.
  fields: (j: Obj) => ({ 'status.successful': asField(j.status?.succeeded ?? 0) }),
  printer,
});
