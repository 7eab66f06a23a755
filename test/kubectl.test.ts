import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startControlPlaneCluster, type ControlPlaneCluster } from './harness.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
const built = existsSync(path.join(ROOT, 'packages/apiserver/dist/main.js'));

const MANIFEST = `apiVersion: v1
kind: Namespace
metadata:
  name: demo
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  namespace: demo
  labels: { app: web }
data:
  greeting: hello
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: demo
  labels: { app: web }
spec:
  replicas: 2
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      containers:
      - name: web
        image: k8ts/busybox:latest
        command: ["httpd", "-f", "-p", "8080"]
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: demo
  labels: { app: web }
spec:
  selector: { app: web }
  ports:
  - port: 80
    targetPort: 8080
`;

const pod = (name: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: demo
  labels: { app: single }
spec:
  nodeName: node-1
  containers:
  - name: main
    image: k8ts/busybox:latest
`;

describe.skipIf(!hasKubectl || !built)('the real kubectl against scripts/cluster up', () => {
  let c: ControlPlaneCluster;
  const kubectl = (...args: string[]) => c.kubectl(...args);
  const file = (name: string, text: string) => c.file(name, text);

  beforeAll(async () => { c = await startControlPlaneCluster('k8ts-kubectl-'); }, 180_000);
  afterAll(async () => { await c?.down(); }, 90_000);

  it('applies a multi-document file, then finds it unchanged', async () => {
    const f = file('app.yaml', MANIFEST);
    const first = await kubectl('apply', '-f', f);
    expect(first.trim().split('\n')).toEqual([
      'namespace/demo created', 'configmap/web-config created', 'deployment.apps/web created', 'service/web created',
    ]);
    const second = await kubectl('apply', '-f', f);
    expect(second.trim().split('\n')).toEqual([
      'namespace/demo unchanged', 'configmap/web-config unchanged', 'deployment.apps/web unchanged', 'service/web unchanged',
    ]);
    const changed = await kubectl('apply', '-f', file('app2.yaml', MANIFEST.replace('greeting: hello', 'greeting: hi')));
    expect(changed).toContain('configmap/web-config configured');
    expect(await kubectl('get', 'cm', 'web-config', '-n', 'demo', '-o', 'jsonpath={.data.greeting}')).toBe('hi');
  });

  it('gets tables, yaml, wide, all namespaces and by label', async () => {
    const deploy = await kubectl('get', 'deploy', '-n', 'demo');
    expect(deploy).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\n/);
    // The controller-manager made the ReplicaSet and its 2 pods (UP-TO-DATE); with no kubelet none is ready.
    expect(deploy).toMatch(/\nweb\s+0\/2\s+2\s+0\s+\d+s\n/);
    const svc = await kubectl('get', 'svc', 'web', '-n', 'demo');
    expect(svc).toMatch(/^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\n/);
    expect(svc).toMatch(/web\s+ClusterIP\s+10\.\d+\.\d+\.\d+\s+<none>\s+80\/TCP/);
    expect(await kubectl('get', 'ns', 'demo')).toMatch(/demo\s+Active/);
    expect(await kubectl('get', 'configmaps', '-n', 'demo')).toMatch(/web-config\s+1\s+/);
    const yaml = await kubectl('get', 'deployment', 'web', '-n', 'demo', '-o', 'yaml');
    expect(yaml).toMatch(/kind: Deployment/);
    expect(yaml).toMatch(/kubectl\.kubernetes\.io\/last-applied-configuration/);
    await kubectl('apply', '-f', file('pod.yaml', pod('single')));
    const wide = await kubectl('get', 'pods', '-n', 'demo', '-o', 'wide');
    expect(wide).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES\n/);
    expect(wide).toMatch(/single\s+0\/1\s+Pending\s+0\s+\S+\s+<none>\s+node-1/);
    const all = await kubectl('get', 'cm', '-A');
    expect(all).toMatch(/^NAMESPACE\s+NAME\s+DATA\s+AGE\n/);
    expect(all).toMatch(/\ndemo\s+web-config\s+1/);
    const labelled = (await kubectl('get', 'all', '-n', 'demo', '-l', 'app=web', '-o', 'name')).trim().split('\n').sort();
    expect(labelled.filter((n) => !/^(pod|replicaset\.apps)\/web-/.test(n))).toEqual(['deployment.apps/web', 'service/web']);
    expect(labelled.filter((n) => n.startsWith('pod/web-'))).toHaveLength(2);
    expect(labelled.filter((n) => n.startsWith('replicaset.apps/web-'))).toHaveLength(1);
  });

  it('watches pods with get -w', async () => {
    const child = spawn('kubectl', [`--cache-dir=${c.dir}/kube-cache`, 'get', 'pods', '-n', 'demo', '-w'], { env: c.env });
    let out = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    try {
      await eventually(() => /single\s+0\/1\s+Pending/.test(out), 'the initial list');
      await kubectl('apply', '-f', file('pod2.yaml', pod('watched')));
      await eventually(() => /watched\s+0\/1\s+Pending/.test(out), 'the new pod in the watch');
      await kubectl('delete', 'pod', 'watched', '-n', 'demo', '--grace-period=0', '--force');
      await eventually(() => (out.match(/watched/g) ?? []).length >= 2, 'the deletion in the watch');
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('scales a deployment', async () => {
    expect(await kubectl('scale', 'deployment', 'web', '-n', 'demo', '--replicas=3')).toContain('deployment.apps/web scaled');
    expect(await kubectl('get', 'deployment', 'web', '-n', 'demo', '-o', 'jsonpath={.spec.replicas}')).toBe('3');
    expect(await kubectl('scale', 'deployment', 'web', '-n', 'demo', '--current-replicas=3', '--replicas=1')).toContain('scaled');
  });

  it('lists api-resources', async () => {
    const out = await kubectl('api-resources');
    expect(out).toMatch(/\npods\s+po\s+v1\s+true\s+Pod\n/);
    expect(out).toMatch(/\ndeployments\s+deploy\s+apps\/v1\s+true\s+Deployment\n/);
    expect(out).toMatch(/\nleases\s+coordination\.k8s\.io\/v1\s+true\s+Lease\n/);
  });

  it('deletes what it applied', async () => {
    await kubectl('delete', 'pod', 'single', '-n', 'demo', '--grace-period=0', '--force');
    const out = await kubectl('delete', '-f', path.join(c.dir, 'app.yaml'));
    expect(out.trim().split('\n')).toEqual([
      'namespace "demo" deleted', 'configmap "web-config" deleted', 'deployment.apps "web" deleted', 'service "web" deleted',
    ]);
    await eventually(async () => {
      try { await kubectl('get', 'ns', 'demo'); return false; } catch (err) { return /NotFound/.test(String((err as { stderr?: string }).stderr)); }
    }, 'namespace demo gone');
  });
});
