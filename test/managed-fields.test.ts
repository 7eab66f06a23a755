import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestApiserver, testKubectl, type TestApiserver, type TestKubectl } from './harness.js';

// managedFields and server-side apply with the real kubectl (upstream's test-cmd checks the same managers).
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;

interface Entry { manager: string; operation: string; apiVersion: string; time?: string; fieldsV1: any; subresource?: string }

describe.skipIf(!hasKubectl)('managed fields and server-side apply (real kubectl)', () => {
  let api: TestApiserver;
  let kubectl: TestKubectl;
  const get = async (...args: string[]) => JSON.parse(await kubectl('get', ...args, '-o', 'json', '--show-managed-fields'));
  const managers = async (...args: string[]) => ((await get(...args)).metadata.managedFields as Entry[]).map((e) => `${e.manager}/${e.operation}`);
  const entry = async (who: string, ...args: string[]) => ((await get(...args)).metadata.managedFields as Entry[]).find((e) => e.manager === who);

  // `kubectl edit` runs KUBE_EDITOR, read when the kubectl runner is made: a script that edits the ConfigMap's data.a.
  const editorDir = mkdtempSync(path.join(tmpdir(), 'k8ts-editor-'));
  beforeAll(async () => {
    const editor = path.join(editorDir, 'editor.sh');
    writeFileSync(editor, '#!/bin/sh\nsed -i \'s/^  a: "1"/  a: edited/\' "$1"\n');
    chmodSync(editor, 0o755);
    process.env.KUBE_EDITOR = editor;
    api = await startTestApiserver();
    kubectl = testKubectl(api.url);
    delete process.env.KUBE_EDITOR;
  }, 60_000);
  afterAll(async () => {
    rmSync(editorDir, { recursive: true, force: true });
    kubectl?.cleanup();
    await api?.stop();
  });

  it('create, client-side apply, set image, taint, scale and edit each record their manager', async () => {
    await kubectl('create', 'deployment', 'web', '--image=nginx:1.26');
    const created = await entry('kubectl-create', 'deployment', 'web');
    expect(created).toMatchObject({ operation: 'Update', apiVersion: 'apps/v1' });
    expect(created!.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(created!.fieldsV1['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"nginx"}']).toMatchObject({ '.': {}, 'f:image': {}, 'f:name': {} });
    expect(created!.fieldsV1['f:metadata']['f:labels']).toStrictEqual({ '.': {}, 'f:app': {} });
    expect(created!.fieldsV1['f:spec']['f:selector']).toStrictEqual({});
    expect(created!.fieldsV1['f:status']).toBeUndefined();

    await kubectl('set', 'image', 'deployment/web', 'nginx=nginx:1.27');
    const set = await entry('kubectl-set', 'deployment', 'web');
    expect(set!.fieldsV1).toStrictEqual({ 'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { 'f:image': {} } } } } } });
    // The image moved from kubectl-create to kubectl-set.
    expect((await entry('kubectl-create', 'deployment', 'web'))!.fieldsV1['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"nginx"}']['f:image']).toBeUndefined();

    await kubectl('scale', 'deployment/web', '--replicas=2');
    expect(await entry('kubectl', 'deployment', 'web')).toMatchObject({ operation: 'Update', subresource: 'scale', fieldsV1: { 'f:spec': { 'f:replicas': {} } } });

    const cm = kubectl.file('cm.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: conf\ndata:\n  a: "1"\n  b: "2"\n');
    await kubectl('apply', '-f', cm);
    const csa = await entry('kubectl-client-side-apply', 'configmap', 'conf');
    expect(csa!.fieldsV1).toStrictEqual({
      'f:data': { '.': {}, 'f:a': {}, 'f:b': {} },
      'f:metadata': { 'f:annotations': { '.': {}, 'f:kubectl.kubernetes.io/last-applied-configuration': {} } },
    });

    await kubectl('edit', 'configmap', 'conf');
    expect((await get('configmap', 'conf')).data.a).toBe('edited');
    expect((await entry('kubectl-edit', 'configmap', 'conf'))!.fieldsV1).toStrictEqual({ 'f:data': { 'f:a': {} } });

    await kubectl('create', 'namespace', 'other');
    const nodeFile = kubectl.file('node.yaml', 'apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n  labels:\n    disk: ssd\n');
    await kubectl('create', '-f', nodeFile);
    await kubectl('taint', 'node', 'n1', 'dedicated=db:NoSchedule');
    expect(await entry('kubectl-taint', 'node', 'n1')).toMatchObject({ operation: 'Update', fieldsV1: { 'f:spec': { 'f:taints': {} } } });
    expect(await managers('node', 'n1')).toEqual(expect.arrayContaining(['kubectl-create/Update', 'kubectl-taint/Update']));

    // Without --show-managed-fields, kubectl hides them (client side, as upstream).
    expect(await kubectl('get', 'configmap', 'conf', '-o', 'yaml')).not.toContain('managedFields');
    expect(await kubectl('get', 'configmap', 'conf', '-o', 'yaml', '--show-managed-fields')).toContain('manager: kubectl-client-side-apply');
  });

  it('server-side apply: conflicts with a client-side-applied field, --force-conflicts, removal of dropped fields', async () => {
    const v1 = kubectl.file('d1.yaml', deployment({ replicas: 2, image: 'nginx:1.26', labels: 'tier: web' }));
    await kubectl('apply', '-f', v1);
    const conflicting = kubectl.file('d2.yaml', deployment({ replicas: 5, image: 'nginx:1.26' }));
    const csaConflict = await kubectl('apply', '--server-side', '--field-manager=deployer', '-f', conflicting).catch((e: Error) => e.message);
    expect(csaConflict).toContain('Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');
    const status = await call(api.url, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/ssa?fieldManager=deployer',
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'ssa' }, spec: { replicas: 7 } }, { 'content-type': 'application/apply-patch+yaml' });
    expect(status.status).toBe(409);
    expect(status.body).toMatchObject({ reason: 'Conflict', code: 409, details: { causes: [{ reason: 'FieldManagerConflict', field: '.spec.replicas', message: 'conflict with "kubectl-client-side-apply" using apps/v1' }] } });
    await kubectl('scale', 'deployment/ssa', '--replicas=3');
    // Another manager owns spec.replicas now (`kubectl` through /scale): the same apply conflicts with it.
    const err = await kubectl('apply', '--server-side', '--field-manager=deployer', '-f', conflicting).catch((e: Error) => e.message);
    expect(err).toContain('Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps/v1: .spec.replicas');
    expect(err).toContain('Please review the fields above--they currently have other managers.');
    expect((await get('deployment', 'ssa')).spec.replicas).toBe(3);

    expect(await kubectl('apply', '--server-side', '--field-manager=deployer', '--force-conflicts', '-f', conflicting)).toContain('serverside-applied');
    const d = await get('deployment', 'ssa');
    expect(d.spec.replicas).toBe(5);
    const deployer = (d.metadata.managedFields as Entry[]).find((e) => e.manager === 'deployer')!;
    expect(deployer.operation).toBe('Apply');
    expect(deployer.fieldsV1['f:spec']['f:replicas']).toStrictEqual({});
    expect((d.metadata.managedFields as Entry[]).find((e) => e.subresource === 'scale')).toBeUndefined();

    // The applier adds an env var, then drops it: it goes, as nobody else owns it.
    await kubectl('apply', '--server-side', '--field-manager=deployer', '-f', kubectl.file('d3.yaml', deployment({ replicas: 5, image: 'nginx:1.26', env: true })));
    expect((await get('deployment', 'ssa')).spec.template.spec.containers[0].env).toStrictEqual([{ name: 'MODE', value: 'fast' }]);
    await kubectl('apply', '--server-side', '--field-manager=deployer', '-f', conflicting);
    expect((await get('deployment', 'ssa')).spec.template.spec.containers[0].env).toBeUndefined();
  });

  it('apply --server-side of an object made by kubectl apply migrates the client-side manager to kubectl', async () => {
    const v1 = kubectl.file('m1.yaml', deployment({ name: 'mig', replicas: 2, image: 'nginx:1.26', labels: 'tier: web' }));
    await kubectl('apply', '-f', v1);
    expect(await managers('deployment', 'mig')).toContain('kubectl-client-side-apply/Update');
    // Same file with another image and without the label: no conflict (the last-applied annotation has the live values).
    const v2 = kubectl.file('m2.yaml', deployment({ name: 'mig', replicas: 2, image: 'nginx:1.27' }));
    expect(await kubectl('apply', '--server-side', '-f', v2)).toContain('serverside-applied');
    const d = await get('deployment', 'mig');
    const ms = (d.metadata.managedFields as Entry[]).map((e) => `${e.manager}/${e.operation}`);
    expect(ms).toContain('kubectl/Apply');
    expect(ms).not.toContain('kubectl-client-side-apply/Update');
    expect(d.spec.template.spec.containers[0].image).toBe('nginx:1.27');
    // The label kubectl-client-side-apply applied, dropped from the file, is removed once its fields are kubectl's.
    expect(d.metadata.labels?.tier).toBeUndefined();
  });

  it('status is owned through /status only: a status write records its own entry, a status apply owns status fields', async () => {
    await kubectl('create', 'deployment', 'st', '--image=nginx');
    const base = '/apis/apps/v1/namespaces/default/deployments/st';
    const cur = (await call(api.url, 'GET', base)).body;
    const put = await call(api.url, 'PUT', `${base}/status`, { ...cur, status: { replicas: 1, observedGeneration: 1 } }, { 'user-agent': 'kube-controller-manager/v1.32.4 (linux/amd64)' });
    expect(put.status).toBe(200);
    const ctrl = (put.body.metadata.managedFields as Entry[]).find((e) => e.manager === 'kube-controller-manager')!;
    expect(ctrl).toMatchObject({ operation: 'Update', subresource: 'status', fieldsV1: { 'f:status': { 'f:observedGeneration': {}, 'f:replicas': {} } } });
    const applied = await call(api.url, 'PATCH', `${base}/status?fieldManager=status-applier&force=true`,
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'st' }, spec: { replicas: 9 }, status: { readyReplicas: 1 } }, { 'content-type': 'application/apply-patch+yaml' });
    expect(applied.status).toBe(200);
    expect(applied.body.spec.replicas).toBe(1);
    expect(applied.body.status.readyReplicas).toBe(1);
    expect((applied.body.metadata.managedFields as Entry[]).find((e) => e.manager === 'status-applier'))
      .toMatchObject({ operation: 'Apply', subresource: 'status', fieldsV1: { 'f:status': { 'f:readyReplicas': {} } } });
    // A main-resource write does not own the status it sends.
    const main = await call(api.url, 'PATCH', `${base}?fieldManager=spec-writer`, { spec: { paused: true }, status: { replicas: 5 } }, { 'content-type': 'application/merge-patch+json' });
    expect((main.body.metadata.managedFields as Entry[]).find((e) => e.manager === 'spec-writer')!.fieldsV1).toStrictEqual({ 'f:spec': { 'f:paused': {} } });
  });

  it('metadata.managedFields set by a request: kept when valid, [] clears them; apply without fieldManager is a 422', async () => {
    await kubectl('create', 'configmap', 'mf', '--from-literal=k=v');
    const cur = (await call(api.url, 'GET', '/api/v1/namespaces/default/configmaps/mf')).body;
    const custom = [{ manager: 'tool', operation: 'Update', apiVersion: 'v1', time: '2024-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:k': {} } } }];
    const put = await call(api.url, 'PUT', '/api/v1/namespaces/default/configmaps/mf', { ...cur, metadata: { ...cur.metadata, managedFields: custom } });
    expect(put.status).toBe(200);
    expect(put.body.metadata.managedFields).toStrictEqual(custom);
    const cleared = await call(api.url, 'PATCH', '/api/v1/namespaces/default/configmaps/mf', { metadata: { managedFields: [] } }, { 'content-type': 'application/merge-patch+json' });
    expect(cleared.status).toBe(200);
    expect(cleared.body.metadata.managedFields).toBeUndefined();
    const noManager = await call(api.url, 'PATCH', '/api/v1/namespaces/default/configmaps/mf', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'mf' } }, { 'content-type': 'application/apply-patch+yaml' });
    expect(noManager.status).toBe(422);
    const withFields = await call(api.url, 'PATCH', '/api/v1/namespaces/default/configmaps/mf?fieldManager=x', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'mf', managedFields: custom } }, { 'content-type': 'application/apply-patch+yaml' });
    expect(withFields.status).toBe(400);
    expect(withFields.body.message).toBe('metadata.managedFields must be nil');
    const forceOnMerge = await call(api.url, 'PATCH', '/api/v1/namespaces/default/configmaps/mf?force=true', { data: { k: 'w' } }, { 'content-type': 'application/merge-patch+json' });
    expect(forceOnMerge.status).toBe(422);
    // The default manager is the User-Agent up to its first '/'.
    const byAgent = await call(api.url, 'PATCH', '/api/v1/namespaces/default/configmaps/mf', { data: { k: 'z' } }, { 'content-type': 'application/merge-patch+json', 'user-agent': 'my-tool/1.2 (linux)' });
    expect(byAgent.body.metadata.managedFields.map((e: Entry) => e.manager)).toContain('my-tool');
  });
});

function deployment(o: { name?: string; replicas: number; image: string; labels?: string; env?: boolean }): string {
  const name = o.name ?? 'ssa';
  return [
    'apiVersion: apps/v1', 'kind: Deployment', 'metadata:', `  name: ${name}`,
    ...(o.labels ? ['  labels:', `    ${o.labels}`] : []),
    'spec:', `  replicas: ${o.replicas}`, '  selector:', '    matchLabels:', `      app: ${name}`,
    '  template:', '    metadata:', '      labels:', `        app: ${name}`, '    spec:', '      containers:',
    '      - name: app', `        image: ${o.image}`,
    ...(o.env ? ['        env:', '        - name: MODE', '          value: fast'] : []), '',
  ].join('\n');
}
