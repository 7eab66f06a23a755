import { describe, expect, it } from 'vitest';
import { ApiError, errors, findResource, formatFieldError, type KubeObject } from '@k8ts/api';
import { bootstrapSystemPriorityClasses } from '../bootstrap.js';
import { applyDefaults, printerFor, validate } from '../registry/index.js';
import { SYSTEM_PRIORITY_CLASSES, unknownSystemPriorityClass } from '../registry/scheduling/priorityclass.js';
import type { ResourceStore } from '../rest-store.js';
import { defaultPriorityClass, PriorityAdmission } from './priority.js';

const PODS = findResource('', 'v1', 'pods')!;
const PCS = findResource('scheduling.k8s.io', 'v1', 'priorityclasses')!;

const pc = (name: string, value: number, extra: Record<string, unknown> = {}): KubeObject =>
  ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value, preemptionPolicy: 'PreemptLowerPriority', ...extra });
const pod = (spec: Record<string, unknown> = {}): any =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'i' }], ...spec } });

/**
 * A priorityclasses store double: `cached` is what the watch cache holds, `stored` what etcd holds (get and list
 * read it). They differ when a test wants the cache to lag.
 */
function fakeStore(cached: KubeObject[], stored: KubeObject[] = cached) {
  const reads = { get: 0, list: 0 };
  const created: KubeObject[] = [];
  const store = {
    cache: { objects: new Map(cached.map((o) => [`/${o.metadata!.name!}`, o])) },
    get: async (_ns: string | undefined, name: string) => {
      reads.get++;
      const found = stored.find((o) => o.metadata?.name === name);
      if (!found) throw errors.notFound('priorityclasses', 'scheduling.k8s.io', name);
      return found;
    },
    list: async () => {
      reads.list++;
      return { items: stored, revision: 1, continue: '' };
    },
    create: async (_ns: string | undefined, obj: KubeObject) => {
      if (stored.some((o) => o.metadata?.name === obj.metadata?.name)) throw errors.alreadyExists('priorityclasses', 'scheduling.k8s.io', obj.metadata!.name!);
      created.push(obj);
      return obj;
    },
  };
  return { store: store as unknown as ResourceStore, reads, created };
}

function admission(cached: KubeObject[], stored?: KubeObject[], now = () => 0) {
  const fake = fakeStore(cached, stored);
  const a = new PriorityAdmission(now);
  a.attach(fake.store);
  return { a, ...fake };
}

async function refusal(p: Promise<unknown>): Promise<ApiError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
}

describe('PriorityAdmission.admitPod', () => {
  it('resolves priorityClassName to the class value and preemption policy', async () => {
    const { a } = admission([pc('high', 1000, { preemptionPolicy: 'Never' })]);
    const p = pod({ priorityClassName: 'high' });
    await a.admit(PODS, p);
    expect(p.spec).toMatchObject({ priorityClassName: 'high', priority: 1000, preemptionPolicy: 'Never' });
  });

  it('gives a pod without a class priority 0 and PreemptLowerPriority when there is no default class', async () => {
    const { a } = admission([pc('high', 1000)]);
    const p = pod();
    await a.admit(PODS, p);
    expect(p.spec.priority).toBe(0);
    expect(p.spec.preemptionPolicy).toBe('PreemptLowerPriority');
    expect(p.spec.priorityClassName).toBeUndefined();
  });

  it('applies the global default class, the lowest-valued one when several are marked', async () => {
    const { a } = admission([pc('high', 1000, { globalDefault: true }), pc('low', 10, { globalDefault: true, preemptionPolicy: 'Never' }), pc('none', 1)]);
    const p = pod();
    await a.admit(PODS, p);
    expect(p.spec).toMatchObject({ priorityClassName: 'low', priority: 10, preemptionPolicy: 'Never' });
  });

  it('refuses an unknown class with upstream\'s 403', async () => {
    const { a } = admission([]);
    const err = await refusal(a.admit(PODS, pod({ priorityClassName: 'nope' })));
    expect(err.toStatus()).toMatchObject({
      code: 403, reason: 'Forbidden', message: 'pods "p" is forbidden: no PriorityClass with name nope was found',
      details: { name: 'p', kind: 'pods' },
    });
  });

  it('asks etcd when the watch cache does not hold the class yet', async () => {
    const { a, reads } = admission([], [pc('fresh', 7)]);
    const p = pod({ priorityClassName: 'fresh' });
    await a.admit(PODS, p);
    expect(p.spec.priority).toBe(7);
    expect(reads.get).toBe(1);
  });

  it('reads the cache, not etcd, for a cached class and the default', async () => {
    const { a, reads } = admission([pc('high', 1000)]);
    await a.admit(PODS, pod({ priorityClassName: 'high' }));
    await a.admit(PODS, pod());
    expect(reads).toEqual({ get: 0, list: 0 });
  });

  it('accepts a priority equal to the computed one and refuses a different one', async () => {
    const { a } = admission([pc('high', 1000)]);
    const same = pod({ priorityClassName: 'high', priority: 1000, preemptionPolicy: 'PreemptLowerPriority' });
    await a.admit(PODS, same);
    expect(same.spec.priority).toBe(1000);
    const err = await refusal(a.admit(PODS, pod({ priorityClassName: 'high', priority: 5 })));
    expect(err.code).toBe(403);
    expect(err.message).toBe('pods "p" is forbidden: the integer value of priority (5) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name');
    const noClass = await refusal(a.admit(PODS, pod({ priority: 3 })));
    expect(noClass.message).toContain('the integer value of priority (3) must not be provided in pod spec; priority admission controller computed 0');
  });

  it('refuses a preemption policy that differs from the class\'s', async () => {
    const { a } = admission([pc('high', 1000)]);
    const err = await refusal(a.admit(PODS, pod({ priorityClassName: 'high', preemptionPolicy: 'Never' })));
    expect(err.message).toBe('pods "p" is forbidden: the string value of PreemptionPolicy (Never) must not be provided in pod spec; priority admission controller computed PreemptLowerPriority from the given PriorityClass name');
  });

  it('resolves the default from etcd for a while after a default class was created here (the cache may lag)', async () => {
    let now = 1000;
    const def = pc('everyone', 42, { globalDefault: true });
    const stored: KubeObject[] = [];
    const { a, reads } = admission([], stored, () => now);
    await a.admit(PCS, def);
    stored.push(def); // written to etcd; the watch cache (empty here) has not seen it
    const p = pod();
    await a.admit(PODS, p);
    expect(p.spec).toMatchObject({ priorityClassName: 'everyone', priority: 42 });
    now += 10_000; // past the window: the cache again, which (in this double) never caught up
    const later = pod();
    await a.admit(PODS, later);
    expect(later.spec.priority).toBe(0);
    expect(reads.list).toBe(2); // one for the default check, one for the first pod
  });

  it('leaves other kinds alone', async () => {
    const { a } = admission([]);
    const cm: KubeObject = { kind: 'ConfigMap', metadata: { name: 'x', namespace: 'default' }, spec: {} };
    await a.admit(findResource('', 'v1', 'configmaps')!, cm);
    expect(cm.spec).toEqual({});
  });
});

describe('PriorityAdmission on PriorityClasses', () => {
  it('refuses a second global default with upstream\'s 403', async () => {
    const { a } = admission([], [pc('first', 1, { globalDefault: true })]);
    const err = await refusal(a.admit(PCS, pc('second', 2, { globalDefault: true })));
    expect(err.toStatus()).toMatchObject({
      code: 403, reason: 'Forbidden',
      message: 'priorityclasses.scheduling.k8s.io "second" is forbidden: PriorityClass first is already marked as default. Only one default can exist',
      details: { name: 'second', group: 'scheduling.k8s.io', kind: 'priorityclasses' },
    });
  });

  it('accepts a first default and any number of non-default classes', async () => {
    const { a } = admission([], [pc('plain', 1)]);
    await a.admit(PCS, pc('first', 1, { globalDefault: true }));
    await a.admit(PCS, pc('other', 1, { globalDefault: false }));
  });

  it('refuses deleting a system class only', () => {
    const { a } = admission([]);
    expect(() => a.checkDelete(PCS, 'system-node-critical')).toThrow('priorityclasses.scheduling.k8s.io "system-node-critical" is forbidden: this is a system priority class and cannot be deleted');
    expect(() => a.checkDelete(PCS, 'high')).not.toThrow();
    expect(() => a.checkDelete(PODS, 'system-node-critical')).not.toThrow();
  });
});

describe('system priority classes', () => {
  it('has upstream\'s two classes', () => {
    expect(SYSTEM_PRIORITY_CLASSES.map((c) => [c.name, c.value])).toEqual([['system-node-critical', 2000001000], ['system-cluster-critical', 2000000000]]);
  });

  it.each([
    ['system-node-critical', 2000001000, false, ''],
    ['system-cluster-critical', 2000000000, false, ''],
    ['system-node-critical', 5, false, 'value of system-node-critical PriorityClass must be 2000001000'],
    ['system-cluster-critical', 2000000000, true, 'globalDefault of system-cluster-critical PriorityClass must be false'],
    ['system-mine', 5, false, 'system-mine is not a known system priority class'],
  ])('%s %d default=%s', (name, value, globalDefault, want) => {
    expect(unknownSystemPriorityClass(name, value, globalDefault)).toBe(want);
  });

  it('bootstraps the missing ones and keeps the ones that exist', async () => {
    const existing = pc('system-node-critical', 2000001000);
    const { store, created } = fakeStore([existing]);
    await bootstrapSystemPriorityClasses(store);
    expect(created).toEqual([{
      metadata: { name: 'system-cluster-critical' }, value: 2000000000,
      description: 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.',
    }]);
  });

  it('fails the bootstrap on errors other than AlreadyExists', async () => {
    const store = { create: async () => { throw errors.unavailable('etcd is unavailable'); } } as unknown as ResourceStore;
    await expect(bootstrapSystemPriorityClasses(store)).rejects.toThrow('etcd is unavailable');
  });

  it('picks no default among classes without globalDefault', () => {
    expect(defaultPriorityClass([pc('a', 1), pc('b', 2, { globalDefault: false })])).toBeUndefined();
  });
});

describe('PriorityClass defaults, validation and printing', () => {
  const defaulted = (obj: KubeObject) => {
    const copy = structuredClone(obj);
    applyDefaults('scheduling.k8s.io', 'PriorityClass', copy);
    return copy;
  };
  const check = (obj: KubeObject, old?: KubeObject) =>
    validate('scheduling.k8s.io', 'PriorityClass', defaulted(obj), old && defaulted(old)).map(formatFieldError);
  const bare = (name: string, extra: Record<string, unknown> = {}): KubeObject => ({ metadata: { name }, ...extra });

  it('defaults preemptionPolicy to PreemptLowerPriority and a missing value to 0, keeping what is given', () => {
    expect(defaulted(bare('x'))).toEqual({ metadata: { name: 'x' }, value: 0, preemptionPolicy: 'PreemptLowerPriority' });
    expect(defaulted(bare('x', { value: 5, preemptionPolicy: 'Never' }))).toEqual({ metadata: { name: 'x' }, value: 5, preemptionPolicy: 'Never' });
  });

  it.each<[string, KubeObject, string[]]>([
    ['a user class', bare('high', { value: 1000 }), []],
    ['the user ceiling', bare('top', { value: 1_000_000_000 }), []],
    ['a negative value', bare('low', { value: -5 }), []],
    ['above the user ceiling', bare('too-high', { value: 1_000_000_001 }),
      ['value: Forbidden: maximum allowed value of a user defined priority is 1000000000']],
    ['a built-in class', bare('system-node-critical', { value: 2000001000, description: 'x' }), []],
    ['a built-in class with another value', bare('system-cluster-critical', { value: 1 }),
      ["metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: value of system-cluster-critical PriorityClass must be 2000000000"]],
    ['an unknown system- name', bare('system-mine', { value: 1 }),
      ["metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class"]],
    ['a bad preemption policy', bare('p', { value: 1, preemptionPolicy: 'Sometimes' }),
      ['preemptionPolicy: Unsupported value: "Sometimes": supported values: "PreemptLowerPriority", "Never"']],
    ['an empty preemption policy', bare('p', { value: 1, preemptionPolicy: '' }), ['preemptionPolicy: Required value']],
    ['a non-integer value', bare('p', { value: '10' }), ['value: Invalid value: "10": must be a 32-bit integer']],
    ['a bad name', bare('Bad_Name', { value: 1 }), [expect.stringMatching(/^metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/) as unknown as string]],
    ['a namespace', { metadata: { name: 'n', namespace: 'default' }, value: 1 }, ['metadata.namespace: Forbidden: not allowed on this type']],
  ])('create: %s', (_what, obj, want) => {
    expect(check(obj)).toEqual(want);
  });

  it.each<[string, KubeObject, string[]]>([
    ['a description change', bare('high', { value: 1000, description: 'new' }), []],
    ['a globalDefault change', bare('high', { value: 1000, globalDefault: true }), []],
    ['a value change', bare('high', { value: 2000 }), ['value: Forbidden: may not be changed in an update.']],
    ['a preemption policy change', bare('high', { value: 1000, preemptionPolicy: 'Never' }),
      ['preemptionPolicy: Invalid value: "Never": field is immutable']],
  ])('update: %s', (_what, obj, want) => {
    expect(check(obj, bare('high', { value: 1000 }))).toEqual(want);
  });

  it('prints NAME VALUE GLOBAL-DEFAULT AGE PREEMPTIONPOLICY', () => {
    const printer = printerFor('scheduling.k8s.io', 'priorityclasses');
    expect(printer.columns.map((c) => `${c.name}:${c.type}:${c.priority}`)).toEqual([
      'Name:string:0', 'Value:integer:0', 'Global-Default:boolean:0', 'Age:string:0', 'PreemptionPolicy:string:0',
    ]);
    const now = new Date('2026-01-10T12:00:00Z');
    const obj = { metadata: { name: 'high', creationTimestamp: '2026-01-10T11:55:00Z' }, value: 1000, preemptionPolicy: 'Never' };
    expect(printer.row(obj as KubeObject, now)).toEqual(['high', 1000, false, '5m', 'Never']);
    expect(printer.row({ metadata: { name: 'd' }, value: 1, globalDefault: true } as KubeObject, now)).toEqual(['d', 1, true, '<unknown>', '']);
  });
});
