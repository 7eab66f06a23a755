import { isQualifiedName, type Event } from '@k8ts/api';
import { asField, defineStrategy } from '../strategy.js';
import { eventToCore } from '../events/event.js';
import { column, nameOf, since, type Printer } from '../shared/printing.js';
import { invalid, isObj, required, type Errors, type Obj } from '../shared/validation.js';

/** Upstream's length limits of Events written with an eventTime (pkg/apis/core/validation/events.go). */
const REPORTING_INSTANCE_LENGTH_LIMIT = 128;
const ACTION_LENGTH_LIMIT = 128;
const REASON_LENGTH_LIMIT = 128;
const NOTE_LENGTH_LIMIT = 1024;

/**
 * upstream's legacyValidateEvent, which every Event passes whichever API writes it: legacy events (no eventTime) live in
 * their object's namespace (cluster-scoped objects' in default); new ones name their reporting controller, instance,
 * action and reason, within upstream's lengths. Paths are the internal names (`reportingController`), as upstream's.
 */
function validateEvent(event: Obj): Errors {
  const io = event.involvedObject;
  if (!isObj(io)) return [required('involvedObject')];
  const errs: Errors = [];
  const ns = event.metadata?.namespace ?? '';
  const ioNs = io.namespace ?? '';
  if (!event.eventTime) {
    if (ioNs ? ioNs !== ns : ns !== '' && ns !== 'default') errs.push(invalid('involvedObject.namespace', ioNs, 'does not match event.namespace'));
    return errs;
  }
  if (!ioNs && ns !== 'default' && ns !== 'kube-system') errs.push(invalid('involvedObject.namespace', ioNs, 'does not match event.namespace'));
  const controller = String(event.reportingComponent ?? '');
  if (!controller) errs.push(required('reportingController'));
  for (const msg of isQualifiedName(controller)) errs.push(invalid('reportingController', controller, msg));
  const limited: [string, unknown, number][] = [
    ['reportingInstance', event.reportingInstance, REPORTING_INSTANCE_LENGTH_LIMIT], ['action', event.action, ACTION_LENGTH_LIMIT],
    ['reason', event.reason, REASON_LENGTH_LIMIT],
  ];
  for (const [field, value, limit] of limited) {
    const v = String(value ?? '');
    if (!v) errs.push(required(field));
    if (v.length > limit) errs.push(invalid(field, '', `can have at most ${limit} characters`));
  }
  if (String(event.message ?? '').length > NOTE_LENGTH_LIMIT) errs.push(invalid('message', '', `can have at most ${NOTE_LENGTH_LIMIT} characters`));
  return errs;
}

const printer: Printer = {
  columns: [
    column('Last Seen', 'Time since the event was last observed.'),
    column('Type', 'Type of this event (Normal, Warning).'),
    column('Reason', 'Short, machine understandable reason for the event.'),
    column('Object', 'The object this event is about.'),
    column('Subobject', 'The part of the object this event is about (involvedObject.fieldPath).', 1),
    column('Source', 'The component and host reporting this event.', 1),
    column('Message', 'A human-readable description of the event.'),
    column('First Seen', 'Time since the event was first observed.', 1),
    column('Count', 'The number of times this event has occurred.', 1),
    column('Name', 'Name of the event object.', 1),
  ],
  row(obj, now) {
    // Answers to events.k8s.io requests print from their core form, as upstream prints the internal type.
    const e = (obj.apiVersion === 'events.k8s.io/v1' ? eventToCore(obj) : obj) as unknown as Event;
    const first = e.firstTimestamp ? since(e.firstTimestamp, now) : since(e.eventTime, now);
    let last = e.lastTimestamp ? since(e.lastTimestamp, now) : first;
    let count = e.count ?? 0;
    if (e.series) {
      last = since(e.series.lastObservedTime, now);
      count = e.series.count ?? 0;
    } else if (count === 0) {
      count = 1; // singleton events of the new API carry no count
    }
    const io = e.involvedObject ?? {};
    const kind = (io.kind ?? '').toLowerCase();
    const component = e.source?.component || e.reportingComponent || '';
    const host = e.source?.host || e.reportingInstance || '';
    return [
      last, e.type ?? '', e.reason ?? '', io.name ? `${kind}/${io.name}` : kind, io.fieldPath ?? '',
      host ? `${component}, ${host}` : component, (e.message ?? '').trim(), first, count, nameOf(e),
    ];
  },
};

/** Core v1 Events (upstream's pkg/registry/core/event). */
export const eventStrategy = defineStrategy('', 'v1', 'events', {
  validate: validateEvent,
  fields: (e: Obj) => ({
    'involvedObject.kind': asField(e.involvedObject?.kind), 'involvedObject.namespace': asField(e.involvedObject?.namespace),
    'involvedObject.name': asField(e.involvedObject?.name), 'involvedObject.uid': asField(e.involvedObject?.uid),
    'involvedObject.apiVersion': asField(e.involvedObject?.apiVersion),
    'involvedObject.resourceVersion': asField(e.involvedObject?.resourceVersion),
    'involvedObject.fieldPath': asField(e.involvedObject?.fieldPath), reason: asField(e.reason),
    // `source` falls back to the reporting controller for events written without one (upstream's EventToSelectableFields).
    reportingComponent: asField(e.reportingComponent), source: asField(e.source?.component || e.reportingComponent), type: asField(e.type),
  }),
  printer,
});
