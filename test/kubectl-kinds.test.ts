import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startControlPlaneCluster, type ControlPlaneCluster } from './harness.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
const built = existsSync(path.join(ROOT, 'packages/apiserver/dist/main.js'));

const template = (app: string, restartPolicy = 'Always') => `
    metadata:
      labels: { app: ${app} }
    spec:
      restartPolicy: ${restartPolicy}
      containers:
      - name: main
        image: k8ts/busybox:latest`;

/** One object of each kind kubectl's `get all` and default prune list expect, all labelled app=kinds. */
const KINDS = `apiVersion: v1
kind: Namespace
metadata: { name: kinds }
---
apiVersion: v1
kind: ReplicationController
metadata: { name: web, namespace: kinds, labels: { app: kinds } }
spec:
  replicas: 2
  selector: { app: web }
  template:${template('web')}
---
apiVersion: batch/v1
kind: CronJob
metadata: { name: hello, namespace: kinds, labels: { app: kinds } }
spec:
  schedule: "*/5 * * * *"
  jobTemplate:
    spec:
      template:${template('hello', 'OnFailure').replaceAll('\n    ', '\n        ')}
---
apiVersion: v1
kind: PersistentVolume
metadata: { name: data-pv, labels: { app: kinds } }
spec:
  capacity: { storage: 1Gi }
  accessModes: [ReadWriteOnce]
  hostPath: { path: /tmp/k8ts-data-pv }
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: data, namespace: kinds, labels: { app: kinds } }
spec:
  accessModes: [ReadWriteOnce]
  resources: { requests: { storage: 1Gi } }
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: web, namespace: kinds, labels: { app: kinds } }
spec:
  rules:
  - host: web.example.com
    http:
      paths:
      - { path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: web, namespace: kinds, labels: { app: kinds } }
spec:
  minAvailable: 1
  selector: { matchLabels: { app: web } }
---
apiVersion: v1
kind: LimitRange
metadata: { name: limits, namespace: kinds, labels: { app: kinds } }
spec:
  limits:
  - type: Container
    max: { cpu: "1" }
---
apiVersion: v1
kind: ResourceQuota
metadata: { name: quota, namespace: kinds, labels: { app: kinds } }
spec:
  hard: { pods: "10" }
`;

describe.skipIf(!hasKubectl || !built)('the real kubectl and the kinds it expects', () => {
  let c: ControlPlaneCluster;
  const kubectl = (...args: string[]) => c.kubectl(...args);
  const kubectlStatus = (...args: string[]) => c.kubectlStatus(...args);
  const file = (name: string, text: string) => c.file(name, text);

  beforeAll(async () => { c = await startControlPlaneCluster('k8ts-kinds-'); }, 180_000);
  afterAll(async () => { await c?.down(); }, 90_000);

  it('gets replication controllers, and applies a CronJob and the other kinds', async () => {
    const empty = await kubectlStatus('get', 'rc');
    expect(empty.code).toBe(0);
    expect(empty.stderr).toContain('No resources found in default namespace.');
    const applied = await kubectl('apply', '-f', file('kinds.yaml', KINDS));
    expect(applied.trim().split('\n')).toEqual([
      'namespace/kinds created', 'replicationcontroller/web created', 'cronjob.batch/hello created', 'persistentvolume/data-pv created',
      'persistentvolumeclaim/data created', 'ingress.networking.k8s.io/web created', 'poddisruptionbudget.policy/web created',
      'limitrange/limits created', 'resourcequota/quota created',
    ]);
    const again = await kubectl('apply', '-f', path.join(c.dir, 'kinds.yaml'));
    expect(again).toContain('cronjob.batch/hello unchanged');
    expect(again).toContain('replicationcontroller/web unchanged');
    // The replicationcontroller controller makes its 2 pods (CURRENT); no kubelet runs them (READY 0).
    const rc = await eventually(async () => {
      const out = await kubectl('get', 'rc', '-n', 'kinds', '-o', 'wide');
      return /\nweb\s+2\s+2\s+/.test(out) && out;
    }, 'rc web with 2 current pods');
    expect(rc).toMatch(/^NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR\n/);
    expect(rc).toMatch(/\nweb\s+2\s+2\s+0\s+\d+s\s+main\s+k8ts\/busybox:latest\s+app=web\n/);
    expect(await kubectl('get', 'cronjob', 'hello', '-n', 'kinds', '-o', 'jsonpath={.spec.concurrencyPolicy} {.spec.jobTemplate.spec.template.spec.restartPolicy}'))
      .toBe('Allow OnFailure');
  });

  it('prints upstream\'s columns for pvc, pv, ingress, pdb, cronjob, limitrange and quota', async () => {
    const out = await kubectl('get', 'pvc,pv,ingress,pdb,cronjob,limitrange,quota', '-n', 'kinds');
    const tables = out.trim().split(/\n\n/);
    const header = (t: string) => t.split('\n')[0].trim().split(/\s{2,}/);
    expect(tables.map(header)).toEqual([
      ['NAME', 'STATUS', 'VOLUME', 'CAPACITY', 'ACCESS MODES', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'AGE'],
      ['NAME', 'CAPACITY', 'ACCESS MODES', 'RECLAIM POLICY', 'STATUS', 'CLAIM', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'REASON', 'AGE'],
      ['NAME', 'CLASS', 'HOSTS', 'ADDRESS', 'PORTS', 'AGE'],
      ['NAME', 'MIN AVAILABLE', 'MAX UNAVAILABLE', 'ALLOWED DISRUPTIONS', 'AGE'],
      ['NAME', 'SCHEDULE', 'TIMEZONE', 'SUSPEND', 'ACTIVE', 'LAST SCHEDULE', 'AGE'],
      ['NAME', 'CREATED AT'],
      ['NAME', 'AGE', 'REQUEST', 'LIMIT'],
    ]);
    // The claim got the default class (DefaultStorageClass admission) and waits for its first pod; the classless
    // volume matches no claim of local-path, so the binder leaves it Available (Pending until it has looked).
    expect(out).toMatch(/persistentvolumeclaim\/data\s+Pending\s+local-path\s+<unset>\s+\d+s/);
    expect(out).toMatch(/persistentvolume\/data-pv\s+1Gi\s+RWO\s+Retain\s+(Pending|Available)\s+<unset>\s+\d+s/);
    expect(out).toMatch(/ingress\.networking\.k8s\.io\/web\s+<none>\s+web\.example\.com\s+80\s+\d+s/);
    expect(out).toMatch(/poddisruptionbudget\.policy\/web\s+1\s+N\/A\s+0\s+\d+s/);
    expect(out).toMatch(/cronjob\.batch\/hello\s+\*\/5 \* \* \* \*\s+<none>\s+False\s+0\s+<none>\s+\d+s/);
    expect(out).toMatch(/limitrange\/limits\s+\d{4}-\d\d-\d\dT/);
  });

  it('scales a replication controller through /scale', async () => {
    expect(await kubectl('scale', 'rc', 'web', '-n', 'kinds', '--replicas=3')).toContain('replicationcontroller/web scaled');
    expect(await kubectl('get', 'rc', 'web', '-n', 'kinds', '-o', 'jsonpath={.spec.replicas}')).toBe('3');
  });

  it('diffs with --prune: what the file drops shows as deleted', async () => {
    const kept = KINDS.split('\n---\n').filter((doc) => !/kind: (PersistentVolumeClaim|Ingress)\n/.test(doc)).join('\n---\n');
    const diff = await kubectlStatus('diff', '--prune', '-l', 'app=kinds', '-f', file('kept.yaml', kept.replace('replicas: 2', 'replicas: 4')));
    // kubectl warns that pruning cluster-scoped kinds with a namespace flag is deprecated; errors would be the server's.
    expect(diff.stderr).not.toMatch(/error|no matches|doesn't have/i);
    expect(diff.code).toBe(1);
    const files = [...diff.stdout.matchAll(/^diff -u -N \S+\/LIVE-\d+\/(\S+) /gm)].map((m) => m[1]).sort();
    expect(files).toEqual(['networking.k8s.io.v1.Ingress.kinds.web', 'v1.PersistentVolumeClaim.kinds.data', 'v1.ReplicationController.kinds.web']);
    expect(diff.stdout).toMatch(/^-\s+replicas: 3$/m);
    expect(diff.stdout).toMatch(/^\+\s+replicas: 4$/m);
  });

  it('answers upstream\'s message for a body of the wrong kind, and storageVersionHash in discovery', async () => {
    const pod = file('pod.yaml', 'apiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec: { containers: [{ name: c, image: i }] }\n');
    const wrong = await kubectlStatus('create', '--raw', '/api/v1/namespaces', '-f', pod);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain('the object provided is unrecognized (must be of type Namespace)');
    const core = JSON.parse(await kubectl('get', '--raw', '/api/v1')) as { resources: { name: string; storageVersionHash?: string }[] };
    expect(core.resources.find((r) => r.name === 'pods')?.storageVersionHash).toBe('xPOwRZ+Yhw8=');
    expect(core.resources.find((r) => r.name === 'replicationcontrollers')?.storageVersionHash).toMatch(/^[A-Za-z0-9+/]{11}=$/);
  });
});
