import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestApiserver, testKubectl, type TestApiserver, type TestKubectl } from './harness.js';

// kubectl explain from /openapi/v3 schemas, and `apply -f` of a `kind: List` (client-side validation from /openapi/v2).
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;

describe.skipIf(!hasKubectl)('OpenAPI: kubectl explain, List validation', () => {
  let api: TestApiserver;
  let kubectl: TestKubectl;

  beforeAll(async () => {
    api = await startTestApiserver();
    kubectl = testKubectl(api.url);
  }, 60_000);
  afterAll(async () => {
    kubectl?.cleanup();
    await api?.stop();
  });

  it('explain deployment.spec.strategy: group, kind, version, the field, its description and fields', async () => {
    const out = await kubectl('explain', 'deployment.spec.strategy');
    expect(out).toMatch(/^GROUP:\s+apps\nKIND:\s+Deployment\nVERSION:\s+v1\n\nFIELD: strategy <DeploymentStrategy>\n/);
    expect(out).toContain('The deployment strategy to use to replace existing pods with new ones.');
    expect(out).toMatch(/\n {2}rollingUpdate\t<RollingUpdateDeployment>\n/);
    expect(out).toMatch(/\n {2}type\t<string>\n/);
  });

  it('explain --recursive, special types (Quantity, IntOrString), core and rbac kinds', async () => {
    const recursive = await kubectl('explain', 'deployment.spec.strategy', '--recursive');
    expect(recursive).toMatch(/rollingUpdate\t<RollingUpdateDeployment>\n {4}maxSurge\t<IntOrString>\n {4}maxUnavailable\t<IntOrString>\n {2}type\t<string>/);
    expect(await kubectl('explain', 'pods.spec.containers.resources')).toMatch(/limits\t<map\[string\]Quantity>/);
    const pod = await kubectl('explain', 'pod.spec.containers');
    expect(pod).toMatch(/FIELD: containers <\[\]Container>/);
    expect(pod).toMatch(/name\t<string> -required-/);
    expect(await kubectl('explain', 'clusterrolebinding.roleRef')).toMatch(/KIND:\s+ClusterRoleBinding[\s\S]*FIELD: roleRef <RoleRef>/);
    const all = await kubectl('explain', 'pods', '--recursive');
    expect(all).toMatch(/ {4}containers\t<\[\]Container> -required-/);
  });

  it('serves every group-version of discovery, each kind with its GVK, under the index\'s hash', async () => {
    const index = (await call(api.url, 'GET', '/openapi/v3')).body as { paths: Record<string, { serverRelativeURL: string }> };
    expect(Object.keys(index.paths)).toEqual(expect.arrayContaining(['api/v1', 'apis/apps/v1', 'apis/rbac.authorization.k8s.io/v1', 'apis/policy/v1']));
    const doc = (await call(api.url, 'GET', index.paths['apis/apps/v1'].serverRelativeURL)).body;
    expect(doc.components.schemas['io.k8s.api.apps.v1.Deployment']['x-kubernetes-group-version-kind']).toEqual([{ group: 'apps', kind: 'Deployment', version: 'v1' }]);
    expect(doc.components.schemas['io.k8s.api.core.v1.PodSpec'].required).toEqual(['containers']);
    expect(doc.components.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'].properties.labels)
      .toMatchObject({ type: 'object', additionalProperties: { type: 'string' } });
  });

  it('apply -f of a kind: List validates (client-side, against /openapi/v2) and creates every item', async () => {
    const list = kubectl.file('list.yaml', `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: { name: listed-a }
  data: { a: "1" }
- apiVersion: apps/v1
  kind: Deployment
  metadata: { name: listed-b }
  spec:
    selector: { matchLabels: { app: b } }
    template:
      metadata: { labels: { app: b } }
      spec: { containers: [{ name: c, image: busybox }] }
`);
    expect(await kubectl('apply', '-f', list)).toBe('configmap/listed-a created\ndeployment.apps/listed-b created\n');
    expect(await kubectl('apply', '-f', list)).toBe('configmap/listed-a unchanged\ndeployment.apps/listed-b unchanged\n');
    // The items go with fieldValidation=Strict: the server refuses an unknown field in one.
    const bad = kubectl.file('bad-list.yaml', 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: { name: listed-c }\n  dataa: { a: "1" }\n');
    await expect(kubectl('apply', '-f', bad)).rejects.toThrow('strict decoding error: unknown field "dataa"');
  });
});
