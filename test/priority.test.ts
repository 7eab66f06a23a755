import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '@k8ts/apiserver';
import { call, startTestApiserver, type TestApiserver } from './harness.js';
// @ts-expect-error plain JS module shared with scripts/cluster
import { writeKubeconfig } from '../scripts/lib/processes.mjs';

const run = promisify(execFile);
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;

const PCS = '/apis/scheduling.k8s.io/v1/priorityclasses';
const PODS = '/api/v1/namespaces/default/pods';

let s: TestApiserver;
let dir = '';
const api = (method: string, p: string, body?: unknown, headers?: Record<string, string>) => call(s.url, method, p, body, headers);
const pc = (name: string, value: number, extra: Record<string, unknown> = {}) =>
  ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value, ...extra });
const pod = (name: string, spec: Record<string, unknown> = {}) =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'app', image: 'k8ts/busybox:latest' }], ...spec } });

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'k8ts-priority-'));
  s = await startTestApiserver();
});
afterAll(async () => {
  await s?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('scheduling.k8s.io/v1 PriorityClass and Priority admission', () => {
  it('starts with the two system classes, and a restart over the same etcd keeps them', async () => {
    const list = await api('GET', PCS);
    expect(list.status).toBe(200);
    expect(list.body.kind).toBe('PriorityClassList');
    const byName = Object.fromEntries(list.body.items.map((c: any) => [c.metadata.name, c]));
    expect(byName['system-node-critical']).toMatchObject({ value: 2000001000, preemptionPolicy: 'PreemptLowerPriority', description: expect.stringContaining('must not be moved') });
    expect(byName['system-cluster-critical']).toMatchObject({ value: 2000000000, preemptionPolicy: 'PreemptLowerPriority' });
    const uid = byName['system-node-critical'].metadata.uid;
    const again = await buildApp({ etcdServers: [s.etcd.endpoint] });
    await again.close();
    expect((await api('GET', `${PCS}/system-node-critical`)).body.metadata.uid).toBe(uid);
  });

  it('serves the resource in discovery as cluster-scoped with short name pc', async () => {
    const r = await api('GET', '/apis/scheduling.k8s.io/v1');
    expect(r.body.resources).toContainEqual(expect.objectContaining({ name: 'priorityclasses', namespaced: false, kind: 'PriorityClass', shortNames: ['pc'] }));
  });

  it('gives pods without a class priority 0 while no default class exists', async () => {
    const r = await api('POST', PODS, pod('plain'));
    expect(r.status).toBe(201);
    expect(r.body.spec.priority).toBe(0);
    expect(r.body.spec.preemptionPolicy).toBe('PreemptLowerPriority');
    expect(r.body.spec.priorityClassName).toBeUndefined();
  });

  it('resolves priorityClassName to spec.priority and spec.preemptionPolicy', async () => {
    const created = await api('POST', PCS, pc('high', 1000, { description: 'important' }));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ value: 1000, preemptionPolicy: 'PreemptLowerPriority', description: 'important' });
    const r = await api('POST', PODS, pod('vip', { priorityClassName: 'high' }));
    expect(r.status).toBe(201);
    expect(r.body.spec).toMatchObject({ priorityClassName: 'high', priority: 1000, preemptionPolicy: 'PreemptLowerPriority' });
    const stored = await api('GET', `${PODS}/vip`);
    expect(stored.body.spec.priority).toBe(1000);

    await api('POST', PCS, pc('polite', 500, { preemptionPolicy: 'Never' }));
    const polite = await api('POST', PODS, pod('polite', { priorityClassName: 'polite' }));
    expect(polite.body.spec).toMatchObject({ priority: 500, preemptionPolicy: 'Never' });
    const system = await api('POST', '/api/v1/namespaces/kube-system/pods', pod('critical', { priorityClassName: 'system-node-critical' }));
    expect(system.body.spec.priority).toBe(2000001000);
  });

  it('refuses an unknown class, and a priority that contradicts the class, with 403', async () => {
    const r = await api('POST', PODS, pod('x', { priorityClassName: 'nope' }));
    expect(r.status).toBe(403);
    expect(r.body).toMatchObject({
      kind: 'Status', code: 403, reason: 'Forbidden', message: 'pods "x" is forbidden: no PriorityClass with name nope was found',
      details: { name: 'x', kind: 'pods' },
    });
    const wrong = await api('POST', PODS, pod('y', { priorityClassName: 'high', priority: 7 }));
    expect(wrong.status).toBe(403);
    expect(wrong.body.message).toBe('pods "y" is forbidden: the integer value of priority (7) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name');
    const same = await api('POST', PODS, pod('z', { priorityClassName: 'high', priority: 1000 }));
    expect(same.status).toBe(201);
  });

  it('validates classes: the user ceiling, reserved names, value immutability', async () => {
    const tooHigh = await api('POST', PCS, pc('huge', 1_000_000_001));
    expect(tooHigh.status).toBe(422);
    expect(tooHigh.body.message).toBe('PriorityClass.scheduling.k8s.io "huge" is invalid: value: Forbidden: maximum allowed value of a user defined priority is 1000000000');
    const reserved = await api('POST', PCS, pc('system-mine', 1));
    expect(reserved.status).toBe(422);
    expect(reserved.body.message).toContain("metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only");
    const changed = await api('PATCH', `${PCS}/high`, { value: 2000 }, { 'content-type': 'application/merge-patch+json' });
    expect(changed.status).toBe(422);
    expect(changed.body.message).toBe('PriorityClass.scheduling.k8s.io "high" is invalid: value: Forbidden: may not be changed in an update.');
    const described = await api('PATCH', `${PCS}/high`, { description: 'still important' }, { 'content-type': 'application/merge-patch+json' });
    expect(described.status).toBe(200);
    expect(described.body.value).toBe(1000);
  });

  it('refuses deleting a system class', async () => {
    const r = await api('DELETE', `${PCS}/system-cluster-critical`);
    expect(r.status).toBe(403);
    expect(r.body.message).toBe('priorityclasses.scheduling.k8s.io "system-cluster-critical" is forbidden: this is a system priority class and cannot be deleted');
    expect((await api('GET', `${PCS}/system-cluster-critical`)).status).toBe(200);
  });

  it('applies the global default class to pods without one, and refuses a second default', async () => {
    expect((await api('POST', PCS, pc('everyone', 100, { globalDefault: true }))).status).toBe(201);
    const r = await api('POST', PODS, pod('defaulted'));
    expect(r.status).toBe(201);
    expect(r.body.spec).toMatchObject({ priorityClassName: 'everyone', priority: 100, preemptionPolicy: 'PreemptLowerPriority' });
    // Upstream's Priority admission refuses it as Forbidden (403), not Invalid.
    const second = await api('POST', PCS, pc('another', 200, { globalDefault: true }));
    expect(second.status).toBe(403);
    expect(second.body).toMatchObject({
      reason: 'Forbidden',
      message: 'priorityclasses.scheduling.k8s.io "another" is forbidden: PriorityClass everyone is already marked as default. Only one default can exist',
    });
    expect((await api('GET', `${PCS}/another`)).status).toBe(404);
  });
});

describe.skipIf(!hasKubectl)('kubectl get pc (the real kubectl)', () => {
  it('shows NAME VALUE GLOBAL-DEFAULT AGE PREEMPTIONPOLICY', async () => {
    const kubeconfig = path.join(dir, 'kubeconfig');
    writeKubeconfig(kubeconfig, s.url);
    const { stdout } = await run('kubectl', [`--kubeconfig=${kubeconfig}`, `--cache-dir=${path.join(dir, 'cache')}`, 'get', 'pc'],
      { env: { ...process.env, HOME: dir }, timeout: 60_000 });
    const lines = stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
    expect(lines[0]).toEqual(['NAME', 'VALUE', 'GLOBAL-DEFAULT', 'AGE', 'PREEMPTIONPOLICY']);
    const rows = Object.fromEntries(lines.slice(1).map((cells) => [cells[0], cells]));
    expect(rows['system-node-critical']).toEqual(['system-node-critical', '2000001000', 'false', expect.stringMatching(/^\d+s$/), 'PreemptLowerPriority']);
    expect(rows.high).toEqual(['high', '1000', 'false', expect.stringMatching(/^\d+s$/), 'PreemptLowerPriority']);
    expect(rows.polite?.[4]).toBe('Never');
    expect(rows.everyone?.[2]).toBe('true');
  });
});
