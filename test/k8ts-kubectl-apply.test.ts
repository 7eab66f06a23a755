import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestApiserver, type TestApiserver } from './harness.js';
import { kubectlPair, normalise, type KubectlPair } from './kubectl-compare.js';

let api: TestApiserver;
let k: KubectlPair;

beforeAll(async () => {
  api = await startTestApiserver();
  k = kubectlPair(api.url);
});
afterAll(async () => {
  k?.cleanup();
  await api?.stop();
});

/** A real-world app: namespace, configmap, secret, deployment with probes and volumes, service, hpa. */
const app = (ns: string, edit = false) => `apiVersion: v1
kind: Namespace
metadata:
  name: ${ns}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  namespace: ${ns}
  labels: { app: web }
data:
  nginx.conf: |
    server { listen 8080; }
${edit ? '  extra: "1"\n' : '  mode: prod\n'}---
apiVersion: v1
kind: Secret
metadata:
  name: web-secret
  namespace: ${ns}
type: Opaque
stringData:
  password: ${edit ? 's3cr3t-2' : 's3cr3t'}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${ns}
  labels: { app: web${edit ? ', tier: front' : ''} }
spec:
  replicas: ${edit ? 3 : 2}
  selector:
    matchLabels: { app: web }
  strategy:
${edit ? '    type: Recreate\n' : '    type: RollingUpdate\n    rollingUpdate: { maxSurge: 1, maxUnavailable: 0 }\n'}  template:
    metadata:
      labels: { app: web }
    spec:
      containers:
      - name: web
        image: nginx:${edit ? '1.27' : '1.26'}
        ports:
        - containerPort: 8080
          name: http
${edit ? '' : '        - containerPort: 9090\n          name: metrics\n'}        env:
        - name: MODE
          value: prod
${edit ? '        - name: EXTRA\n          value: "yes"\n' : ''}        readinessProbe:
          httpGet: { path: /healthz, port: http }
          periodSeconds: 5
        livenessProbe:
          tcpSocket: { port: 8080 }
        volumeMounts:
        - name: config
          mountPath: /etc/nginx/conf.d
${edit ? '' : '        - name: cache\n          mountPath: /cache\n'}      ${edit ? '- name: sidecar\n        image: busybox\n        command: ["sleep", "3600"]\n      ' : ''}volumes:
      - name: config
        configMap: { name: web-config }
${edit ? '' : '      - name: cache\n        emptyDir: {}\n'}---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: ${ns}
spec:
  selector: { app: web }
  ports:
  - name: http
    port: 80
    targetPort: http
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
  namespace: ${ns}
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: web }
  minReplicas: ${edit ? 3 : 2}
  maxReplicas: 10
  metrics:
  - type: Resource
    resource: { name: cpu, target: { type: Utilization, averageUtilization: ${edit ? 60 : 80} } }
`;

const PATHS = [
  '/api/v1/namespaces/NS/configmaps/web-config', '/api/v1/namespaces/NS/secrets/web-secret', '/apis/apps/v1/namespaces/NS/deployments/web',
  '/api/v1/namespaces/NS/services/web', '/apis/autoscaling/v2/namespaces/NS/horizontalpodautoscalers/web',
];

/** The objects as they stand, minus what differs between any two objects (names, uids, times, versions, IPs). */
async function objects(ns: string): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const p of PATHS) {
    const r = await call(api.url, 'GET', p.replace('NS', ns));
    expect(r.status).toBe(200);
    const o = r.body;
    const ann = { ...o.metadata.annotations };
    const last = ann['kubectl.kubernetes.io/last-applied-configuration'];
    if (last) ann['kubectl.kubernetes.io/last-applied-configuration'] = last.replaceAll(ns, 'NS');
    out.push({
      kind: o.kind, labels: o.metadata.labels, annotations: ann, generation: o.metadata.generation,
      managers: o.metadata.managedFields?.map((m: { manager: string; operation: string }) => `${m.manager}/${m.operation}`),
      spec: JSON.parse(JSON.stringify(o.spec ?? null).replace(/"clusterIPs?":("[^"]*"|\[[^\]]*\]),?/g, '')), data: o.data,
    });
  }
  return out;
}

describe('k8ts-kubectl apply, side by side with kubectl', () => {
  it('applies a real-world manifest twice, then an edited one, with the messages and objects kubectl gives', async () => {
    const steps = [app('ours'), app('ours'), app('ours', true), app('ours', true)];
    for (const [i, text] of steps.entries()) {
      const ours = await k.ours(['apply', '-f', k.file(`ours-${i}.yaml`, text)]);
      const real = await k.real(['apply', '-f', k.file(`real-${i}.yaml`, text.replaceAll('ours', 'real'))]);
      const n = (s: string) => normalise(s.replaceAll('real', 'ours').replace(/(ours|real)-\d\.yaml/g, 'F'));
      expect({ step: i, code: ours.code, out: n(ours.stdout), err: n(ours.stderr) }).toEqual({ step: i, code: real.code, out: n(real.stdout), err: n(real.stderr) });
      expect(await objects('ours')).toEqual(await objects('real'));
    }
  });

  it('patches in the annotation of an object made by create, with kubectl\'s warning', async () => {
    const cm = (ns: string, v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: made, namespace: ${ns} }\ndata: { v: "${v}" }\n`;
    for (const ns of ['ours', 'real']) expect((await k.real(['create', '-f', k.file(`c-${ns}.yaml`, cm(ns, '1'))])).code).toBe(0);
    const ours = await k.ours(['apply', '-f', k.file('a-ours.yaml', cm('ours', '2'))]);
    const real = await k.real(['apply', '-f', k.file('a-real.yaml', cm('real', '2'))]);
    expect(normalise(ours.stderr)).toEqual(normalise(real.stderr));
    expect(ours.stdout).toEqual(real.stdout);
  });

  it('hands the last-applied annotation of a client-side applied object, unchanged, to kubectl-last-applied on a server-side apply', async () => {
    const cm = (ns: string, v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: mig, namespace: ${ns} }\ndata: { v: "${v}" }\n`;
    for (const [i, args] of [[], ['--server-side']].entries()) {
      const ours = await k.ours(['apply', '-f', k.file('mig-ours.yaml', cm('ours', String(i))), ...args]);
      const real = await k.real(['apply', '-f', k.file('mig-real.yaml', cm('real', String(i))), ...args]);
      expect(normalise(ours.stdout.replaceAll('ours', 'NS'))).toEqual(normalise(real.stdout.replaceAll('real', 'NS')));
    }
    const get = async (ns: string) => (await call(api.url, 'GET', `/api/v1/namespaces/${ns}/configmaps/mig`)).body;
    const [o, r] = [await get('ours'), await get('real')];
    expect(o.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'].replaceAll('ours', 'NS'))
      .toEqual(r.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'].replaceAll('real', 'NS'));
    expect(o.data).toEqual(r.data);
  });

  it('dry runs, server-side apply, conflicts and prune as kubectl', async () => {
    const cm = (ns: string, v: string, name = 'ssa') => `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ${name}, namespace: ${ns}, labels: { set: p } }\ndata: { v: "${v}" }\n`;
    for (const args of [
      (ns: string) => ['apply', '-f', k.file(`d-${ns}.yaml`, cm(ns, '1')), '--dry-run=client'],
      (ns: string) => ['apply', '-f', k.file(`d-${ns}.yaml`, cm(ns, '1')), '--dry-run=server'],
      (ns: string) => ['apply', '-f', k.file(`d-${ns}.yaml`, cm(ns, '1')), '--server-side'],
      (ns: string) => ['apply', '-f', k.file(`d-${ns}.yaml`, cm(ns, '2')), '--server-side', '--field-manager=other'],
      (ns: string) => ['apply', '-f', k.file(`d-${ns}.yaml`, cm(ns, '3')), '--server-side', '--field-manager=other', '--force-conflicts'],
      (ns: string) => ['apply', '-f', k.file(`p-${ns}.yaml`, cm(ns, '1', 'p1') + '---\n' + cm(ns, '1', 'p2'))],
      (ns: string) => ['apply', '-f', k.file(`p-${ns}.yaml`, cm(ns, '1', 'p1')), '--prune', '-l', 'set=p', '--prune-allowlist=core/v1/ConfigMap'],
      (ns: string) => ['apply', '-f', k.file(`p-${ns}.yaml`, cm(ns, '1', 'p1')), '--prune'],
      () => ['apply', '-f', k.file('empty.yaml', '')],
      () => ['apply'],
    ]) {
      const ours = await k.ours(args('ours'));
      const real = await k.real(args('real'));
      const n = (s: string) => normalise(s.replaceAll('real', 'ours').replace(/[dp]-ours\.yaml/g, 'F'));
      expect({ args: args('ours'), code: ours.code, out: n(ours.stdout), err: n(ours.stderr) }).toEqual({ args: args('ours'), code: real.code, out: n(real.stdout), err: n(real.stderr) });
    }
  });
});
