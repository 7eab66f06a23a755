import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Etcd3 } from 'etcd3';
import { EventsV1Api, KubeConfig, PatchStrategy, setHeaderOptions, Watch, type EventsV1Event } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { messageType, schemas } from '../packages/apiserver/src/protobuf/decode.js';
import { call, eventually, readWatch, startTestApiserver, testKubectl, type TestApiserver, type TestKubectl } from './harness.js';
import { kubectlPair, type KubectlPair } from './kubectl-compare.js';

/*
 * events.k8s.io/v1 Events as upstream serves them: the core/v1 Events, one storage, converted field by field. Driven with
 * the real kubectl and the official JavaScript client against a real apiserver and etcd.
 */

const NS = 'ev';
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const hasPythonClient = () => spawnSync(PYTHON, ['-c', 'import kubernetes.client'], { stdio: 'ignore' }).status === 0;
let s: TestApiserver;
let kubectl: TestKubectl;
let kc: KubeConfig;

const micro = (d = new Date()) => d.toISOString().replace(/Z$/, '123Z');
const rfc3339 = (d = new Date()) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** What a kubelet writes through core/v1. */
const legacyEvent = () => ({
  apiVersion: 'v1', kind: 'Event', metadata: { name: 'web.legacy', namespace: NS },
  involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: NS, name: 'web', uid: 'u-web', fieldPath: 'spec.containers{app}' },
  reason: 'Pulled', message: 'Container image "busybox" already present on machine', type: 'Normal',
  source: { component: 'kubelet', host: 'node-1' }, firstTimestamp: rfc3339(), lastTimestamp: rfc3339(), count: 2,
  reportingComponent: 'kubelet', reportingInstance: 'node-1',
});

/** What upstream's scheduler writes through events.k8s.io/v1. */
const newEventYaml = (name: string, regarding: string) => `apiVersion: events.k8s.io/v1
kind: Event
metadata: { name: ${name}, namespace: ${NS} }
eventTime: "${micro()}"
reportingController: default-scheduler
reportingInstance: default-scheduler-node-1
action: Binding
reason: Scheduled
type: Normal
regarding: { apiVersion: v1, kind: Pod, namespace: ${NS}, name: ${regarding}, uid: u-${regarding} }
related: { apiVersion: v1, kind: Node, name: node-1 }
note: Successfully assigned ${NS}/${regarding} to node-1
`;

beforeAll(async () => {
  s = await startTestApiserver();
  kubectl = testKubectl(s.url);
  kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'test', server: s.url, skipTLSVerify: true }], users: [{ name: 'test' }],
    contexts: [{ name: 'test', cluster: 'test', user: 'test' }], currentContext: 'test',
  });
  expect((await call(s.url, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } })).status).toBe(201);
}, 60_000);
afterAll(async () => {
  kubectl?.cleanup();
  await s?.stop();
});

describe('events.k8s.io/v1 with the real kubectl', () => {
  it('lists the API beside core events in api-resources, as upstream', async () => {
    const lines = (await kubectl('api-resources')).split('\n').filter((l) => /^events\s/.test(l)).map((l) => l.split(/\s+/).join(' '));
    expect(lines).toEqual(['events ev v1 true Event', 'events ev events.k8s.io/v1 true Event']);
    expect(await kubectl('api-versions')).toContain('events.k8s.io/v1\n');
    // The legacy documents: one stored kind, so the same storageVersionHash as core events (upstream's r2yiGXH7wu8=).
    const list = (await call(s.url, 'GET', '/apis/events.k8s.io/v1')).body;
    expect(list).toMatchObject({ kind: 'APIResourceList', groupVersion: 'events.k8s.io/v1' });
    expect(list.resources).toEqual([{
      name: 'events', singularName: 'event', namespaced: true, kind: 'Event', shortNames: ['ev'], storageVersionHash: 'r2yiGXH7wu8=',
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    }]);
    const core = (await call(s.url, 'GET', '/api/v1')).body.resources.find((r: { name: string }) => r.name === 'events');
    expect(core.storageVersionHash).toBe('r2yiGXH7wu8=');
    expect((await call(s.url, 'GET', '/apis/events.k8s.io')).body).toMatchObject({ name: 'events.k8s.io', preferredVersion: { groupVersion: 'events.k8s.io/v1' } });
  });

  it('shows an event written through core/v1 under the events.k8s.io names, and the other way round', async () => {
    expect((await call(s.url, 'POST', `/api/v1/namespaces/${NS}/events`, legacyEvent())).status).toBe(201);
    const asV1 = YAML.parse(await kubectl('get', 'events.events.k8s.io', '-n', NS, 'web.legacy', '-o', 'yaml'));
    expect(asV1).toMatchObject({
      apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'web.legacy', namespace: NS },
      regarding: { kind: 'Pod', name: 'web', namespace: NS, uid: 'u-web', fieldPath: 'spec.containers{app}' },
      note: 'Container image "busybox" already present on machine', reason: 'Pulled', type: 'Normal',
      deprecatedSource: { component: 'kubelet', host: 'node-1' }, deprecatedCount: 2,
      reportingController: 'kubelet', reportingInstance: 'node-1',
    });
    expect(asV1.deprecatedFirstTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    for (const coreName of ['involvedObject', 'message', 'source', 'count', 'firstTimestamp', 'reportingComponent']) expect(asV1).not.toHaveProperty(coreName);

    expect(await kubectl('create', '-f', kubectl.file('new.yaml', newEventYaml('db.new', 'db')))).toBe('event.events.k8s.io/db.new created\n');
    const asCore = YAML.parse(await kubectl('get', 'events', '-n', NS, 'db.new', '-o', 'yaml'));
    expect(asCore).toMatchObject({
      apiVersion: 'v1', kind: 'Event', involvedObject: { kind: 'Pod', name: 'db', uid: 'u-db' }, related: { kind: 'Node', name: 'node-1' },
      message: `Successfully assigned ${NS}/db to node-1`, reportingComponent: 'default-scheduler', reportingInstance: 'default-scheduler-node-1',
      action: 'Binding', reason: 'Scheduled', type: 'Normal',
    });
    expect(asCore.eventTime).toMatch(/\.\d{6}Z$/);
    for (const v1Name of ['regarding', 'note', 'reportingController']) expect(asCore).not.toHaveProperty(v1Name);
    // One object: the same uid and resourceVersion through both, under the core events' etcd prefix, stored as core/v1.
    const a = (await call(s.url, 'GET', `/apis/events.k8s.io/v1/namespaces/${NS}/events/db.new`)).body;
    expect(a.metadata).toMatchObject({ uid: asCore.metadata.uid, resourceVersion: asCore.metadata.resourceVersion });
    const etcd = new Etcd3({ hosts: s.etcd.endpoint });
    try {
      const keys = (await etcd.getAll().prefix('/registry/').keys()).filter((k) => k.includes('events'));
      expect(keys.sort()).toEqual([`/registry/events/${NS}/db.new`, `/registry/events/${NS}/web.legacy`]);
      expect(JSON.parse((await etcd.get(`/registry/events/${NS}/db.new`).string())!)).toMatchObject({ apiVersion: 'v1', involvedObject: { name: 'db' } });
    } finally {
      etcd.close();
    }
  });

  it('prints the core columns for events.k8s.io (LAST SEEN, TYPE, REASON, OBJECT, MESSAGE)', async () => {
    const out = (await kubectl('get', 'events.events.k8s.io', '-A')).split('\n');
    expect(out[0].split(/\s{2,}/)).toEqual(['NAMESPACE', 'LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
    const rows = out.slice(1).filter(Boolean).map((l) => l.split(/\s{2,}/));
    expect(rows).toContainEqual([NS, expect.stringMatching(/^\d+s$/), 'Normal', 'Pulled', 'pod/web', 'Container image "busybox" already present on machine']);
    expect(rows).toContainEqual([NS, expect.stringMatching(/^\d+s$/), 'Normal', 'Scheduled', 'pod/db', `Successfully assigned ${NS}/db to node-1`]);
    const wide = (await kubectl('get', 'ev.events.k8s.io', '-n', NS, '-o', 'wide')).split('\n')[0].split(/\s{2,}/);
    expect(wide).toEqual(['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'SUBOBJECT', 'SOURCE', 'MESSAGE', 'FIRST SEEN', 'COUNT', 'NAME']);
  });

  it('selects with the events.k8s.io field labels (regarding.name, reportingController), converted to the core ones', async () => {
    expect(await kubectl('get', 'ev.events.k8s.io', '-n', NS, '--field-selector', 'regarding.name=web', '-o', 'name')).toBe('event.events.k8s.io/web.legacy\n');
    expect(await kubectl('get', 'ev.events.k8s.io', '-n', NS, '--field-selector', 'reportingController=default-scheduler', '-o', 'name')).toBe('event.events.k8s.io/db.new\n');
    expect(await kubectl('get', 'ev.events.k8s.io', '-n', NS, '--field-selector', 'type=Normal,reason=Pulled', '-o', 'name')).toBe('event.events.k8s.io/web.legacy\n');
    // The core labels through core/v1 still work; the core names are not events.k8s.io's.
    expect(await kubectl('get', 'ev', '-n', NS, '--field-selector', 'involvedObject.name=db', '-o', 'name')).toBe('event/db.new\n');
    await expect(kubectl('get', 'ev.events.k8s.io', '-n', NS, '--field-selector', 'involvedObject.name=db')).rejects.toThrow(/field label not supported: involvedObject.name/);
  });

  it('kubectl events still shows both', async () => {
    const out = await kubectl('events', '-n', NS);
    expect(out.split('\n')[0].split(/\s{2,}/)).toEqual(['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
    expect(out).toContain('Pulled');
    expect(out).toContain('Scheduled');
    expect(await kubectl('events', '-n', NS, '--for', 'pod/db')).toContain(`Successfully assigned ${NS}/db to node-1`);
  });

  it('explains events.k8s.io Events from their own schema', async () => {
    // kubectl explain reads `events.events.k8s.io` as the field path `events.k8s.io` of `events`: the group is --api-version.
    const out = await kubectl('explain', 'events', '--api-version=events.k8s.io/v1');
    expect(out).toMatch(/GROUP:\s+events\.k8s\.io/);
    expect(out).toMatch(/VERSION:\s+v1/);
    for (const f of ['regarding', 'note', 'deprecatedSource', 'reportingController', 'eventTime']) expect(out).toMatch(new RegExp(`^  ${f}\\b`, 'm'));
    expect(await kubectl('explain', 'events.regarding', '--api-version=events.k8s.io/v1')).toMatch(/FIELD: regarding <ObjectReference>/);
    expect(await kubectl('explain', 'events')).toMatch(/^ {2}involvedObject\b/m);
  });

  it('refuses new events through events.k8s.io/v1 without what upstream requires (422)', async () => {
    const bad = { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'bad' }, regarding: { kind: 'Pod', namespace: NS, name: 'x' }, deprecatedCount: 3, type: 'Info' };
    const r = await call(s.url, 'POST', `/apis/events.k8s.io/v1/namespaces/${NS}/events`, bad);
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({ kind: 'Status', reason: 'Invalid', details: { name: 'bad', kind: 'Event' } });
    expect(r.body.message).toContain('eventTime: Required value');
    expect(r.body.message).toContain('type: Invalid value: "": has invalid value: Info');
    expect(r.body.message).toContain('count: Invalid value: "": needs to be unset');
    // The same event through core/v1 is a legacy event, which only has to live in its object's namespace.
    const core = { apiVersion: 'v1', kind: 'Event', metadata: { name: 'bad' }, involvedObject: { kind: 'Pod', namespace: NS, name: 'x' }, count: 3, type: 'Info' };
    expect((await call(s.url, 'POST', `/api/v1/namespaces/${NS}/events`, core)).status).toBe(201);
    const notFound = await call(s.url, 'GET', `/apis/events.k8s.io/v1/namespaces/${NS}/events/nope`);
    expect(notFound.status).toBe(404);
    expect(notFound.body.message).toBe('events.events.k8s.io "nope" not found');
    const wrongType = await call(s.url, 'POST', `/apis/events.k8s.io/v1/namespaces/${NS}/events`, { ...bad, note: 5 });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.message).toContain('Go struct field Event.note of type string');
  });

  it('patches through either API; what events.k8s.io says is fixed stays so', async () => {
    const series = { count: 2, lastObservedTime: micro() };
    await kubectl('patch', 'ev.events.k8s.io', '-n', NS, 'db.new', '--type=merge', '-p', JSON.stringify({ series }));
    expect((await call(s.url, 'GET', `/api/v1/namespaces/${NS}/events/db.new`)).body.series).toEqual(series);
    await expect(kubectl('patch', 'ev.events.k8s.io', '-n', NS, 'db.new', '--type=merge', '-p', '{"note":"changed"}'))
      .rejects.toThrow(/message: Invalid value: "changed": field is immutable/);
    // Through core/v1 the legacy rules apply (an event recorder bumps count and lastTimestamp so).
    await kubectl('patch', 'ev', '-n', NS, 'web.legacy', '--type=merge', '-p', '{"count":3}');
    expect((await call(s.url, 'GET', `/apis/events.k8s.io/v1/namespaces/${NS}/events/web.legacy`)).body.deprecatedCount).toBe(3);
    // kubectl's default, a strategic merge patch, of the events.k8s.io form.
    await kubectl('patch', 'ev.events.k8s.io', '-n', NS, 'web.legacy', '-p', '{"metadata":{"annotations":{"a":"b"}}}');
    expect((await call(s.url, 'GET', `/api/v1/namespaces/${NS}/events/web.legacy`)).body.metadata.annotations).toEqual({ a: 'b' });
    // A JSON patch of the events.k8s.io form.
    await kubectl('patch', 'ev.events.k8s.io', '-n', NS, 'web.legacy', '--type=json', '-p', '[{"op":"add","path":"/metadata/labels","value":{"seen":"yes"}}]');
    expect((await call(s.url, 'GET', `/api/v1/namespaces/${NS}/events/web.legacy`)).body.metadata.labels).toEqual({ seen: 'yes' });
  });

  it('records managed fields in the version written', async () => {
    await kubectl('create', '-f', kubectl.file('mf.yaml', newEventYaml('mf.new', 'mf')));
    const got = (await call(s.url, 'GET', `/apis/events.k8s.io/v1/namespaces/${NS}/events/mf.new`)).body;
    expect(got.metadata.managedFields).toHaveLength(1);
    const [entry] = got.metadata.managedFields;
    expect(entry).toMatchObject({ manager: 'kubectl-create', operation: 'Update', apiVersion: 'events.k8s.io/v1', fieldsType: 'FieldsV1' });
    expect(Object.keys(entry.fieldsV1)).toEqual(expect.arrayContaining(['f:regarding', 'f:note', 'f:reportingController', 'f:eventTime']));
    expect(Object.keys(entry.fieldsV1)).not.toContain('f:involvedObject');
  });

  it('applies server-side through events.k8s.io, the manager owning the events.k8s.io fields', async () => {
    const out = await kubectl('apply', '--server-side', '--field-manager=recorder', '-f', kubectl.file('ssa.yaml', newEventYaml('ssa.new', 'ssa')));
    expect(out).toBe('event.events.k8s.io/ssa.new serverside-applied\n');
    const got = (await call(s.url, 'GET', `/apis/events.k8s.io/v1/namespaces/${NS}/events/ssa.new`)).body;
    expect(got.metadata.managedFields).toMatchObject([{ manager: 'recorder', operation: 'Apply', apiVersion: 'events.k8s.io/v1' }]);
    expect(Object.keys(got.metadata.managedFields[0].fieldsV1)).toEqual(expect.arrayContaining(['f:regarding', 'f:note']));
    // Applied again with a grown series: the same object, the series changed.
    const again = newEventYaml('ssa.new', 'ssa').replace(/eventTime: .*\n/, `eventTime: "${got.eventTime}"\n`) + `series: { count: 2, lastObservedTime: "${micro()}" }\n`;
    await kubectl('apply', '--server-side', '--field-manager=recorder', '-f', kubectl.file('ssa2.yaml', again));
    expect((await call(s.url, 'GET', `/api/v1/namespaces/${NS}/events/ssa.new`)).body.series.count).toBe(2);
    await kubectl('delete', 'ev', '-n', NS, 'ssa.new');
  });

  it('server-side apply creates through any converted version (autoscaling/v1 HPAs too)', async () => {
    const r = await call(s.url, 'PATCH', `/apis/autoscaling/v1/namespaces/${NS}/horizontalpodautoscalers/web?fieldManager=m`, {
      apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web' },
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, maxReplicas: 3, targetCPUUtilizationPercentage: 40 },
    }, { 'content-type': 'application/apply-patch+yaml' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ apiVersion: 'autoscaling/v1', spec: { targetCPUUtilizationPercentage: 40 } });
  });

  it('deletes through either API', async () => {
    expect(await kubectl('delete', 'ev.events.k8s.io', '-n', NS, 'bad')).toBe('event.events.k8s.io "bad" deleted\n');
    expect((await call(s.url, 'GET', `/api/v1/namespaces/${NS}/events/bad`)).status).toBe(404);
    await kubectl('delete', 'ev', '-n', NS, 'mf.new');
    expect((await call(s.url, 'GET', `/apis/events.k8s.io/v1/namespaces/${NS}/events/mf.new`)).status).toBe(404);
    // A collection, selected by an events.k8s.io field label.
    await kubectl('create', '-f', kubectl.file('c1.yaml', newEventYaml('c.1', 'gone')));
    await kubectl('create', '-f', kubectl.file('c2.yaml', newEventYaml('c.2', 'gone')));
    const r = await call(s.url, 'DELETE', `/apis/events.k8s.io/v1/namespaces/${NS}/events?fieldSelector=regarding.name%3Dgone`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ kind: 'EventList', apiVersion: 'events.k8s.io/v1' });
    expect((await call(s.url, 'GET', `/api/v1/namespaces/${NS}/events?fieldSelector=involvedObject.name%3Dgone`)).body.items).toEqual([]);
    expect((await call(s.url, 'GET', `/api/v1/namespaces/${NS}/events/db.new`)).status).toBe(200);
  });

  it('watches through both: a core write shows in events.k8s.io form and the other way round', async () => {
    const list = (await call(s.url, 'GET', `/apis/events.k8s.io/v1/namespaces/${NS}/events`)).body;
    expect(list).toMatchObject({ kind: 'EventList', apiVersion: 'events.k8s.io/v1' });
    const rv = list.metadata.resourceVersion;
    const ac = new AbortController();
    interface Seen { type: string; object: { apiVersion: string; metadata: { name: string }; regarding?: { name: string }; involvedObject?: { name: string } } }
    const v1Seen: Seen[] = [];
    const coreSeen: Seen[] = [];
    const watching = Promise.all([
      readWatch(`${s.url}/apis/events.k8s.io/v1/namespaces/${NS}/events?watch=true&resourceVersion=${rv}`, (ev) => { v1Seen.push(ev); }, { signal: ac.signal }),
      readWatch(`${s.url}/api/v1/namespaces/${NS}/events?watch=true&resourceVersion=${rv}`, (ev) => { coreSeen.push(ev); }, { signal: ac.signal }),
    ]);
    await call(s.url, 'POST', `/api/v1/namespaces/${NS}/events`, { ...legacyEvent(), metadata: { name: 'w.core', namespace: NS } });
    await kubectl('create', '-f', kubectl.file('w.yaml', newEventYaml('w.v1', 'w')));
    await eventually(() => v1Seen.length >= 2 && coreSeen.length >= 2, 'both watches to see both events', 10_000);
    ac.abort();
    await watching;
    expect(v1Seen.map((e) => [e.type, e.object.apiVersion, e.object.metadata.name, e.object.regarding?.name])).toEqual([
      ['ADDED', 'events.k8s.io/v1', 'w.core', 'web'], ['ADDED', 'events.k8s.io/v1', 'w.v1', 'w'],
    ]);
    expect(coreSeen.map((e) => [e.type, e.object.apiVersion, e.object.metadata.name, e.object.involvedObject?.name])).toEqual([
      ['ADDED', 'v1', 'w.core', 'web'], ['ADDED', 'v1', 'w.v1', 'w'],
    ]);
    // kubectl get -w prints events.k8s.io rows from the converted objects.
    const table = await call(s.url, 'GET', `/apis/events.k8s.io/v1/namespaces/${NS}/events?watch=true&resourceVersion=${rv}&timeoutSeconds=1&fieldSelector=regarding.name%3Dw`,
      undefined, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
    const rows = typeof table.body === 'string' ? table.body.trim().split('\n').map((l) => JSON.parse(l)) : [table.body];
    expect(rows.map((r) => [1, 2, 3, 6].map((i) => r.object.rows[0].cells[i]))).toEqual([['Normal', 'Scheduled', 'pod/w', `Successfully assigned ${NS}/w to node-1`]]);
  });
});

describe('k8ts-kubectl beside the real kubectl', () => {
  let k: KubectlPair;
  beforeAll(() => { k = kubectlPair(s.url, NS); });
  afterAll(() => k?.cleanup());

  it('prints events.k8s.io Events, selects them and lists the API as the real one does', async () => {
    await k.same(['get', 'events.events.k8s.io', '-A']);
    await k.same(['get', 'ev.events.k8s.io', '--field-selector', 'regarding.name=web', '-o', 'name']);
    await k.same(['get', 'ev', '-o', 'name']);
    await k.same(['api-resources', '--api-group=events.k8s.io']);
    await k.same(['events']);
  });
});

describe('protobuf', () => {
  it('takes an events.k8s.io/v1 Event in protobuf, as client-go\'s recorders in upstream components send it', async () => {
    const type = messageType('events.k8s.io/v1', 'Event')!;
    const raw = type.encode(type.fromObject({
      metadata: { name: 'pb.1', namespace: NS }, eventTime: { seconds: Math.floor(Date.now() / 1000), nanos: 5000 },
      reportingController: 'default-scheduler', reportingInstance: 'default-scheduler-node-1', action: 'Binding', reason: 'Scheduled',
      regarding: { kind: 'Pod', namespace: NS, name: 'pb', apiVersion: 'v1' }, note: 'from protobuf', type: 'Normal',
    })).finish();
    const unknown = schemas().lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');
    const envelope = unknown.encode(unknown.fromObject({ typeMeta: { apiVersion: 'events.k8s.io/v1', kind: 'Event' }, raw })).finish();
    const res = await fetch(`${s.url}/apis/events.k8s.io/v1/namespaces/${NS}/events`, {
      method: 'POST', headers: { 'content-type': 'application/vnd.kubernetes.protobuf', accept: 'application/json' },
      body: Buffer.concat([Buffer.from('k8s\0', 'latin1'), envelope]),
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ apiVersion: 'events.k8s.io/v1', note: 'from protobuf', eventTime: expect.stringMatching(/\.000005Z$/) });
    expect((await call(s.url, 'GET', `/api/v1/namespaces/${NS}/events/pb.1`)).body).toMatchObject({ message: 'from protobuf', involvedObject: { name: 'pb' } });
  });
});

describe('@kubernetes/client-node EventsV1Api', () => {
  it('creates an events.k8s.io/v1 Event, lists, patches and watches it', async () => {
    const api = kc.makeApiClient(EventsV1Api);
    const events: string[] = [];
    let stopped!: () => void;
    const ended = new Promise<void>((r) => { stopped = r; });
    const ctl = await new Watch(kc).watch(`/apis/events.k8s.io/v1/namespaces/${NS}/events`, { fieldSelector: 'regarding.name=js' },
      (type, obj: EventsV1Event) => { events.push(`${type} ${obj.note ?? ''}`); if (type === 'DELETED') stopped(); }, () => stopped());
    const body: EventsV1Event = {
      apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'js.1', namespace: NS },
      eventTime: new Date(), reportingController: 'example.com/js-controller', reportingInstance: 'js-1', action: 'Reconcile',
      reason: 'Synced', type: 'Warning', note: 'synced from JS', regarding: { apiVersion: 'v1', kind: 'ConfigMap', namespace: NS, name: 'js' },
    };
    const created = await api.createNamespacedEvent({ namespace: NS, body });
    expect(created).toMatchObject({ apiVersion: 'events.k8s.io/v1', note: 'synced from JS', regarding: { name: 'js' }, reportingController: 'example.com/js-controller' });
    expect(created.eventTime).toBeDefined();
    const listed = await api.listNamespacedEvent({ namespace: NS, fieldSelector: 'regarding.kind=ConfigMap' });
    expect(listed.items.map((e) => e.metadata?.name)).toEqual(['js.1']);
    const all = await api.listEventForAllNamespaces({ fieldSelector: 'reportingController=example.com/js-controller' });
    expect(all.items.map((e) => `${e.metadata?.namespace}/${e.metadata?.name}`)).toEqual([`${NS}/js.1`]);
    const patched = await api.patchNamespacedEvent({ name: 'js.1', namespace: NS, body: { series: { count: 2, lastObservedTime: new Date() } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    expect(patched.series?.count).toBe(2);
    const read = await api.readNamespacedEvent({ name: 'js.1', namespace: NS });
    expect(read.metadata?.resourceVersion).toBe(patched.metadata?.resourceVersion);
    // The same object through core/v1.
    const core = (await call(s.url, 'GET', `/api/v1/namespaces/${NS}/events/js.1`)).body;
    expect(core).toMatchObject({ message: 'synced from JS', involvedObject: { kind: 'ConfigMap', name: 'js' }, reportingComponent: 'example.com/js-controller', series: { count: 2 } });
    await api.deleteNamespacedEvent({ name: 'js.1', namespace: NS });
    await ended;
    ctl.abort();
    expect(events).toEqual(['ADDED synced from JS', 'MODIFIED synced from JS', 'DELETED synced from JS']);
  });
});

describe.runIf(hasPythonClient())('the Python client\'s EventsV1Api', () => {
  it('creates an events.k8s.io/v1 Event, lists it by regarding.name, reads it as core/v1, watches it go', async () => {
    const { stdout } = await promisify(execFile)(PYTHON, [path.join(import.meta.dirname, 'python', 'events_v1.py'), s.url, NS], { timeout: 60_000 });
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({
      created: ['events.k8s.io/v1', 'synced from Python', 'py', true], listed: ['py.1'],
      core: ['synced from Python', 'Secret', 'example.com/py-controller'],
      watch: [['ADDED', 'synced from Python'], ['DELETED', 'synced from Python']],
    });
  });
});
