import { describe, expect, it } from 'vitest';
import type { KubeObject } from '@k8ts/api';
import { eventStrategy } from '../core/event.js';
import { eventToCore, eventToV1, eventV1, eventV1FieldLabel, validateEventV1 } from './event.js';

/** What a kubelet writes through core/v1: no eventTime, action or series. */
const legacy = {
  apiVersion: 'v1', kind: 'Event', metadata: { name: 'web.1', namespace: 'default', labels: { a: 'b' } },
  involvedObject: { kind: 'Pod', namespace: 'default', name: 'web', uid: 'u1', apiVersion: 'v1', fieldPath: 'spec.containers{app}' },
  reason: 'Pulled', message: 'Container image "x" already present', source: { component: 'kubelet', host: 'node-1' },
  firstTimestamp: '2026-12-02T10:00:00Z', lastTimestamp: '2026-12-02T10:05:00Z', count: 3, type: 'Normal',
  reportingComponent: 'kubelet', reportingInstance: 'node-1',
} as KubeObject;

/** What upstream's events.k8s.io recorder writes: every new field, none of the deprecated ones. */
const v1 = {
  apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'web.2', namespace: 'default' },
  eventTime: '2026-12-02T10:00:00.123456Z', series: { count: 2, lastObservedTime: '2026-12-02T10:01:00.000001Z' },
  reportingController: 'default-scheduler', reportingInstance: 'default-scheduler-node-1', action: 'Binding', reason: 'Scheduled',
  regarding: { kind: 'Pod', namespace: 'default', name: 'web', uid: 'u1', apiVersion: 'v1' },
  related: { kind: 'Node', name: 'node-1', apiVersion: 'v1' }, note: 'Successfully assigned default/web to node-1', type: 'Normal',
} as KubeObject;

describe('events.k8s.io/v1 ↔ core/v1 Event conversion', () => {
  it('shows a core event written without the new fields under the events.k8s.io names', () => {
    expect(eventToV1(legacy)).toEqual({
      apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: legacy.metadata,
      regarding: (legacy as any).involvedObject, reason: 'Pulled', note: 'Container image "x" already present',
      deprecatedSource: { component: 'kubelet', host: 'node-1' }, deprecatedFirstTimestamp: '2026-12-02T10:00:00Z',
      deprecatedLastTimestamp: '2026-12-02T10:05:00Z', deprecatedCount: 3, type: 'Normal',
      reportingController: 'kubelet', reportingInstance: 'node-1',
    });
  });

  it('stores an events.k8s.io event under the core names', () => {
    expect(eventToCore(v1)).toEqual({
      apiVersion: 'v1', kind: 'Event', metadata: v1.metadata,
      eventTime: '2026-12-02T10:00:00.123456Z', series: { count: 2, lastObservedTime: '2026-12-02T10:01:00.000001Z' },
      reportingComponent: 'default-scheduler', reportingInstance: 'default-scheduler-node-1', action: 'Binding', reason: 'Scheduled',
      involvedObject: (v1 as any).regarding, related: (v1 as any).related, message: 'Successfully assigned default/web to node-1', type: 'Normal',
    });
  });

  it('round-trips both ways without losing a field', () => {
    expect(eventToCore(eventToV1(legacy))).toEqual(legacy);
    expect(eventToV1(eventToCore(v1))).toEqual(v1);
    const everything = { ...eventToCore(v1), source: { component: 'c' }, firstTimestamp: 't1', lastTimestamp: 't2', count: 1 } as KubeObject;
    expect(eventToCore(eventToV1(everything))).toEqual(everything);
  });

  it('converts the field-selector labels as upstream (regarding.* and reportingController)', () => {
    expect(eventV1FieldLabel('regarding.name')).toBe('involvedObject.name');
    expect(eventV1FieldLabel('regarding.uid')).toBe('involvedObject.uid');
    expect(eventV1FieldLabel('reportingController')).toBe('reportingComponent');
    for (const same of ['reason', 'type', 'source', 'metadata.name', 'metadata.namespace']) expect(eventV1FieldLabel(same)).toBe(same);
    for (const unknown of ['involvedObject.name', 'reportingComponent', 'note', 'regarding.nope']) expect(eventV1FieldLabel(unknown)).toBeUndefined();
    // The converted labels select on the stored event.
    const fields = eventStrategy.fields(legacy);
    expect(fields[eventV1FieldLabel('regarding.name')!]).toBe('web');
    expect(fields[eventV1FieldLabel('reportingController')!]).toBe('kubelet');
  });

  it('checks events.k8s.io bodies against their own Go types', () => {
    expect(eventV1.checkTypes({ ...v1, note: 5 } as KubeObject)[0]?.message).toMatch(/Go struct field Event\.note of type string/);
    expect(eventV1.checkTypes({ ...v1, regarding: 'x' } as KubeObject)[0]?.message).toMatch(/Event\.regarding of type v1\.ObjectReference/);
    expect(eventV1.checkTypes(v1)).toEqual([]);
  });
});

const messages = (errs: { field: string; type: string; message: string }[]) => errs.map((e) => `${e.field}: ${e.type}: ${e.message}`);

describe('events.k8s.io/v1 validation (upstream ValidateEventCreate/Update)', () => {
  it('accepts what upstream recorders write', () => {
    expect(validateEventV1(eventToCore(v1))).toEqual([]);
    expect(eventStrategy.validate(eventToCore(v1))).toEqual([]);
  });

  it('requires eventTime and a Normal or Warning type on create, and the deprecated fields unset', () => {
    expect(messages(validateEventV1(legacy))).toEqual([
      'eventTime: FieldValueRequired: ',
      'firstTimestamp: FieldValueInvalid: needs to be unset',
      'lastTimestamp: FieldValueInvalid: needs to be unset',
      'count: FieldValueInvalid: needs to be unset',
      'source: FieldValueInvalid: needs to be unset',
    ]);
    expect(messages(validateEventV1({ ...eventToCore(v1), type: 'Info' } as KubeObject))).toEqual(['type: FieldValueInvalid: has invalid value: Info']);
  });

  it('checks a series: at least two, with its last observation', () => {
    expect(messages(validateEventV1({ ...eventToCore(v1), series: { count: 1 } } as KubeObject))).toEqual([
      'series.count: FieldValueInvalid: should be at least 2', 'series.lastObservedTime: FieldValueRequired: ',
    ]);
  });

  it('keeps what an event says fixed on update, but lets a series grow', () => {
    const old = eventToCore(v1);
    const grown = { ...old, series: { count: 3, lastObservedTime: '2026-12-02T10:02:00.000000Z' } } as KubeObject;
    expect(validateEventV1(grown, old)).toEqual([]);
    const changed = { ...old, message: 'other', reason: 'Other', reportingComponent: 'x', involvedObject: { kind: 'Pod', name: 'other' } } as KubeObject;
    expect(messages(validateEventV1(changed, old))).toEqual([
      'involvedObject: FieldValueInvalid: field is immutable', 'reason: FieldValueInvalid: field is immutable',
      'message: FieldValueInvalid: field is immutable', 'reportingController: FieldValueInvalid: field is immutable',
    ]);
    // Go's zero values are not changes: an absent count is 0, an absent source {}.
    expect(validateEventV1({ ...old, count: 0, source: {} } as KubeObject, old)).toEqual([]);
    // A legacy event (timestamps and count set) may be updated through events.k8s.io: only create is strict.
    expect(validateEventV1({ ...legacy, metadata: { ...legacy.metadata, labels: { c: 'd' } } } as KubeObject, legacy)).toEqual([]);
  });
});

describe('legacy Event validation (every API version)', () => {
  it('new-style events name their reporter, instance, action and reason within upstream limits', () => {
    const bare = { ...eventToCore(v1) } as any;
    delete bare.reportingComponent; delete bare.reportingInstance; delete bare.action; delete bare.reason;
    // An empty name also fails IsQualifiedName twice, as upstream reports it.
    expect(messages(eventStrategy.validate(bare))).toEqual([
      'reportingController: FieldValueRequired: ', 'reportingController: FieldValueInvalid: name part must be non-empty',
      expect.stringMatching(/^reportingController: FieldValueInvalid: name part must consist of/),
      'reportingInstance: FieldValueRequired: ', 'action: FieldValueRequired: ', 'reason: FieldValueRequired: ',
    ]);
    const long = { ...eventToCore(v1), action: 'a'.repeat(129), message: 'm'.repeat(1025), reportingComponent: 'not a name!' } as KubeObject;
    expect(messages(eventStrategy.validate(long))).toEqual([
      expect.stringMatching(/^reportingController: FieldValueInvalid: name part must consist of alphanumeric/),
      'action: FieldValueInvalid: can have at most 128 characters', 'message: FieldValueInvalid: can have at most 1024 characters',
    ]);
  });

  it('legacy events live in their object\'s namespace; new ones about cluster objects in default or kube-system', () => {
    expect(messages(eventStrategy.validate({ ...legacy, metadata: { name: 'x', namespace: 'other' } } as KubeObject)))
      .toEqual(['involvedObject.namespace: FieldValueInvalid: does not match event.namespace']);
    const aboutNode = { ...eventToCore(v1), involvedObject: { kind: 'Node', name: 'node-1' } } as any;
    expect(eventStrategy.validate({ ...aboutNode, metadata: { name: 'x', namespace: 'kube-system' } })).toEqual([]);
    expect(messages(eventStrategy.validate({ ...aboutNode, metadata: { name: 'x', namespace: 'team' } })))
      .toEqual(['involvedObject.namespace: FieldValueInvalid: does not match event.namespace']);
  });
});
