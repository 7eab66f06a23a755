import { EVENTS_V1, type FieldError, type KubeObject } from '@k8ts/api';
import { checkTypes } from '../../type-check.js';
import type { VersionConversion } from '../strategy.js';
import { immutable, invalid, isObj, required, type Errors, type Obj } from '../shared/validation.js';

/**
 * core/v1 field → events.k8s.io/v1 field (upstream's pkg/apis/events/v1 Convert_core_Event_To_v1_Event and back):
 * the fields the two versions name alike are copied, these are renamed. Nothing else is carried: each version
 * holds exactly what the other does, so neither direction loses a field.
 */
const CORE_TO_V1: Readonly<Record<string, string>> = {
  metadata: 'metadata', reason: 'reason', type: 'type', eventTime: 'eventTime', series: 'series', action: 'action',
  related: 'related', reportingInstance: 'reportingInstance',
  involvedObject: 'regarding', message: 'note', source: 'deprecatedSource', firstTimestamp: 'deprecatedFirstTimestamp',
  lastTimestamp: 'deprecatedLastTimestamp', count: 'deprecatedCount', reportingComponent: 'reportingController',
};
const V1_TO_CORE: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(CORE_TO_V1).map(([c, v]) => [v, c]));

function rename(obj: KubeObject, names: Readonly<Record<string, string>>, apiVersion: string): KubeObject {
  const src = obj as Obj;
  const out: Obj = { apiVersion, kind: 'Event' };
  for (const [from, to] of Object.entries(names)) if (src[from] !== undefined) out[to] = src[from];
  return out as KubeObject;
}

/** A core/v1 Event as events.k8s.io/v1 shows it: involvedObject → regarding, message → note, source → deprecatedSource … */
export function eventToV1(obj: KubeObject): KubeObject {
  return rename(obj, CORE_TO_V1, 'events.k8s.io/v1');
}

/** An events.k8s.io/v1 Event as core/v1 stores it: regarding → involvedObject, note → message … */
export function eventToCore(obj: KubeObject): KubeObject {
  return rename(obj, V1_TO_CORE, 'v1');
}

/**
 * events.k8s.io/v1 field-selector labels as the stored core/v1 Event's (upstream's field label conversion for
 * events.k8s.io: `regarding.*` → `involvedObject.*`, `reportingController` → `reportingComponent`).
 */
export function eventV1FieldLabel(label: string): string | undefined {
  if (label.startsWith('regarding.')) {
    const rest = label.slice('regarding.'.length);
    return ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath'].includes(rest) ? `involvedObject.${rest}` : undefined;
  }
  if (label === 'reportingController') return 'reportingComponent';
  return ['metadata.name', 'metadata.namespace', 'reason', 'type', 'source'].includes(label) ? label : undefined;
}

/** The value Go would hold: zero values ("" 0 false null, empty structs) dropped, as decoding into the Go type does. */
function goValue(v: unknown): unknown {
  if (v === null || v === '' || v === 0 || v === false) return undefined;
  if (Array.isArray(v)) return v.length ? v.map(goValue) : undefined;
  if (!isObj(v)) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) {
    const g = goValue(x);
    if (g !== undefined) out[k] = g;
  }
  return Object.keys(out).length ? out : undefined;
}
const sameGo = (a: unknown, b: unknown): boolean => JSON.stringify(goValue(a)) === JSON.stringify(goValue(b));

/** upstream's validateV1EventSeries: a series counts at least two occurrences and says when it saw the last. */
function validateSeries(series: unknown): Errors {
  if (!isObj(series)) return [];
  const errs: Errors = [];
  if (!(typeof series.count === 'number' && series.count >= 2)) errs.push(invalid('series.count', '', 'should be at least 2'));
  if (!series.lastObservedTime) errs.push(required('series.lastObservedTime'));
  return errs;
}

/** Fields an Event written through events.k8s.io/v1 keeps, by their core (internal) names as upstream's paths say. */
const IMMUTABLE: readonly (readonly [string, string])[] = [
  ['involvedObject', 'involvedObject'], ['reason', 'reason'], ['message', 'message'], ['source', 'source'],
  ['firstTimestamp', 'firstTimestamp'], ['lastTimestamp', 'lastTimestamp'], ['count', 'count'], ['type', 'type'],
  ['eventTime', 'eventTime'], ['action', 'action'], ['related', 'related'], ['reportingComponent', 'reportingController'],
  ['reportingInstance', 'reportingInstance'],
];

/**
 * The stricter rules of writes through events.k8s.io/v1 (upstream's ValidateEventCreate/ValidateEventUpdate with a
 * request version other than core/v1 and events.k8s.io/v1beta1), on the stored form; the legacy rules every Event
 * passes are the core strategy's. Paths name the internal fields (`message`, `firstTimestamp`), as upstream's do.
 */
export function validateEventV1(obj: KubeObject, old?: KubeObject): FieldError[] {
  const e = obj as Obj;
  if (old) {
    const o = old as Obj;
    const errs: Errors = sameGo(e.series, o.series) ? [] : validateSeries(e.series);
    for (const [field, path] of IMMUTABLE) if (!sameGo(e[field], o[field])) errs.push(immutable(path, e[field] ?? ''));
    return errs;
  }
  const errs = validateSeries(e.series);
  if (!e.eventTime) errs.push(required('eventTime'));
  if (e.type !== 'Normal' && e.type !== 'Warning') errs.push(invalid('type', '', `has invalid value: ${String(e.type ?? '')}`));
  if (e.firstTimestamp) errs.push(invalid('firstTimestamp', '', 'needs to be unset'));
  if (e.lastTimestamp) errs.push(invalid('lastTimestamp', '', 'needs to be unset'));
  if (e.count) errs.push(invalid('count', '', 'needs to be unset'));
  if (isObj(e.source) && (e.source.component || e.source.host)) errs.push(invalid('source', '', 'needs to be unset'));
  return errs;
}

/** How events.k8s.io/v1 Events are served from the core/v1 Event storage (upstream's cohabitating `events`). */
export const eventV1: VersionConversion = {
  def: EVENTS_V1,
  checkTypes: (obj) => checkTypes(EVENTS_V1, obj),
  toStorage: eventToCore,
  fromStorage: eventToV1,
  validate: validateEventV1,
  fieldLabel: eventV1FieldLabel,
};
