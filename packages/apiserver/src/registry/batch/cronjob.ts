import { CronExpressionParser } from 'cron-parser';
import { defineStrategy } from '../strategy.js';
import { child, fill } from '../shared/defaults.js';
import { defaultTemplate, validatePodTemplate } from '../shared/pod.js';
import {
  age, AGE, column, CONTAINERS, containerCells, formatSelector, IMAGES, NAME, nameOf, SELECTOR, since, type Printer,
} from '../shared/printing.js';
import {
  asObj, invalid, isObj, isSet, nonNegative, notSupported, required, validateAnnotations, validateLabels, type Errors, type Obj,
} from '../shared/validation.js';

const CONCURRENCY_POLICIES = ['Allow', 'Forbid', 'Replace'];
/** Job names get an 11-character suffix (`-<minutes since epoch>`), so a CronJob's name is at most 52 characters. */
const MAX_NAME_LENGTH = 52;

/** SetDefaults_CronJob (the job template's pod spec as a Job's: restartPolicy stays as given). */
function defaultCronJob(cj: Obj): void {
  const spec = child(cj, 'spec');
  fill(spec, 'concurrencyPolicy', 'Allow');
  fill(spec, 'suspend', false);
  fill(spec, 'successfulJobsHistoryLimit', 3);
  fill(spec, 'failedJobsHistoryLimit', 1);
  const jobSpec = child(child(spec, 'jobTemplate'), 'spec');
  defaultTemplate(jobSpec, { restartPolicy: false });
}

/** A standard 5-field cron line or a `@descriptor`, as upstream's cron.ParseStandard; the parse error otherwise. */
export function scheduleError(schedule: string): string {
  if (/^(CRON_)?TZ=/.test(schedule.trim())) return 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead';
  const fields = schedule.trim().split(/\s+/);
  if (!fields[0].startsWith('@') && fields.length !== 5) return `expected exactly 5 fields, found ${fields.length}: ${schedule}`;
  // robfig/cron's descriptors that cron-parser lacks: @midnight (= @daily) and @every <Go duration>.
  if (fields[0] === '@midnight' && fields.length === 1) return '';
  if (fields[0] === '@every') {
    const d = fields.slice(1).join(' ');
    return fields.length === 2 && /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(d) ? '' : `failed to parse duration @every ${d}: time: invalid duration "${d}"`;
  }
  try {
    CronExpressionParser.parse(schedule);
    return '';
  } catch (err) {
    return (err as Error).message;
  }
}

/** A time zone name the IANA database knows, as upstream's time.LoadLocation. */
function knownTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return !tz.includes(' ');
  } catch {
    return false;
  }
}

/** ValidateCronJob's main rules: schedule, time zone, policies, history limits and the job template's pods. */
export function validateCronJob(cj: Obj): Errors {
  const spec = asObj(cj.spec);
  const errs: Errors = [];
  const name = String(asObj(cj.metadata).name ?? '');
  if (name.length > MAX_NAME_LENGTH) errs.push(invalid('metadata.name', name, `must be no more than ${MAX_NAME_LENGTH} characters`));
  if (!spec.schedule) {
    errs.push(required('spec.schedule'));
  } else {
    const why = scheduleError(String(spec.schedule));
    if (why) errs.push(invalid('spec.schedule', spec.schedule, why));
  }
  if (isSet(spec.timeZone) && !knownTimeZone(String(spec.timeZone))) errs.push(invalid('spec.timeZone', spec.timeZone, 'unknown time zone ' + String(spec.timeZone)));
  if (spec.concurrencyPolicy && !CONCURRENCY_POLICIES.includes(spec.concurrencyPolicy)) {
    errs.push(notSupported('spec.concurrencyPolicy', spec.concurrencyPolicy, CONCURRENCY_POLICIES));
  }
  for (const f of ['startingDeadlineSeconds', 'successfulJobsHistoryLimit', 'failedJobsHistoryLimit']) errs.push(...nonNegative(`spec.${f}`, spec[f]));
  const jobTemplate = asObj(spec.jobTemplate);
  errs.push(...validateLabels(asObj(jobTemplate.metadata).labels, 'spec.jobTemplate.metadata.labels'));
  errs.push(...validateAnnotations(asObj(jobTemplate.metadata).annotations, 'spec.jobTemplate.metadata.annotations'));
  const jobSpec = asObj(jobTemplate.spec);
  if (!isObj(jobSpec.template)) {
    errs.push(required('spec.jobTemplate.spec.template'));
    return errs;
  }
  errs.push(...validatePodTemplate(jobSpec.template, 'spec.jobTemplate.spec.template', { jobTemplate: true }));
  const restartPolicy = asObj(jobSpec.template.spec).restartPolicy;
  if (!restartPolicy || restartPolicy === 'Always') {
    errs.push(required('spec.jobTemplate.spec.template.spec.restartPolicy', 'valid values: "OnFailure", "Never"'));
  } else if (restartPolicy !== 'OnFailure' && restartPolicy !== 'Never') {
    errs.push(notSupported('spec.jobTemplate.spec.template.spec.restartPolicy', restartPolicy, ['OnFailure', 'Never']));
  }
  return errs;
}

const boolCell = (v: unknown): string => (v === true ? 'True' : v === false ? 'False' : '<unset>');

const printer: Printer = {
  columns: [
    NAME,
    column('Schedule', 'The schedule in Cron format.'),
    column('Timezone', 'The time zone the schedule is read in.'),
    column('Suspend', 'Whether new jobs are held back.', 0, 'boolean'),
    column('Active', 'Number of jobs running now.', 0, 'integer'),
    column('Last Schedule', 'Time since a job was last scheduled.'),
    AGE, CONTAINERS, IMAGES, SELECTOR('the pods the jobs run'),
  ],
  row(cj: Obj, now) {
    const jobSpec = cj.spec?.jobTemplate?.spec;
    const [names, images] = containerCells(jobSpec?.template?.spec?.containers);
    const last = cj.status?.lastScheduleTime ? since(cj.status.lastScheduleTime, now) : '<none>';
    return [
      nameOf(cj), cj.spec?.schedule ?? '', cj.spec?.timeZone || '<none>', boolCell(cj.spec?.suspend),
      Array.isArray(cj.status?.active) ? cj.status.active.length : 0, last, age(cj, now), names, images, formatSelector(jobSpec?.selector),
    ];
  },
};

/** batch/v1 CronJobs (upstream's pkg/registry/batch/cronjob/strategy.go); the CronJob controller comes later. */
export const cronJobStrategy = defineStrategy('batch', 'v1', 'cronjobs', {
  tracksGeneration: true,
  defaults: defaultCronJob,
  validate: validateCronJob,
  printer,
});
