import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestApiserver, type TestApiserver } from './harness.js';
import { kubectlPair, type KubectlPair } from './kubectl-compare.js';

let api: TestApiserver;
let k: KubectlPair;

const MANIFESTS = `
apiVersion: v1
kind: ConfigMap
metadata: {name: web, labels: {app: web}, annotations: {note: "short", long: "${'x'.repeat(150)}"}}
data: {a: "1"}
binaryData: {bin: AAECAw==}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web-extra}
data: {b: "two\\nlines"}
---
apiVersion: v1
kind: Secret
metadata: {name: s1}
stringData: {pw: secret}
---
apiVersion: v1
kind: Namespace
metadata: {name: demo}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: q, namespace: demo}
spec: {hard: {pods: "10"}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: builder}
imagePullSecrets: [{name: s1}, {name: gone}]
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high}
value: 1000
description: high prio
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}, annotations: {a: b}}
    spec:
      serviceAccountName: builder
      containers:
      - name: nginx
        image: nginx
        ports: [{containerPort: 80}, {containerPort: 81, hostPort: 8081}]
        env:
        - {name: "A", value: "x"}
        - {name: "POD", valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        - {name: "PW", valueFrom: {secretKeyRef: {name: s1, key: pw}}}
        - {name: "CFG", valueFrom: {configMapKeyRef: {name: web, key: a, optional: true}}}
        envFrom: [{configMapRef: {name: web}, prefix: P_}]
        resources: {limits: {cpu: 100m, memory: 64Mi}, requests: {cpu: 50m}}
        volumeMounts: [{name: v, mountPath: /data}, {name: c, mountPath: /cfg, readOnly: true, subPath: x}]
        livenessProbe: {httpGet: {path: /h, port: 80}}
        readinessProbe: {exec: {command: [cat, /ok]}, periodSeconds: 5}
      initContainers: [{name: init, image: busybox, command: [sh, -c, "echo hi"]}]
      volumes:
      - {name: v, emptyDir: {}}
      - {name: h, hostPath: {path: /tmp, type: Directory}}
      - {name: c, configMap: {name: web}}
      - {name: s, secret: {secretName: s1}}
      - {name: p, persistentVolumeClaim: {claimName: claim}}
      nodeSelector: {disk: ssd}
      tolerations: [{operator: Exists}, {key: a, operator: Equal, value: b, effect: NoSchedule, tolerationSeconds: 30}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ds}
spec:
  selector: {matchLabels: {app: ds}}
  template:
    metadata: {labels: {app: ds}}
    spec: {containers: [{name: c, image: busybox, args: [sleep, "100"]}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: ss}
spec:
  serviceName: ss
  selector: {matchLabels: {app: ss}, matchExpressions: [{key: tier, operator: In, values: [b, a]}]}
  template:
    metadata: {labels: {app: ss, tier: a}}
    spec: {containers: [{name: c, image: busybox}]}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs}
spec:
  replicas: 0
  selector: {matchLabels: {app: rs}}
  template:
    metadata: {labels: {app: rs}}
    spec: {containers: [{name: c, image: busybox}]}
---
apiVersion: batch/v1
kind: Job
metadata: {name: j1}
spec:
  template:
    spec: {restartPolicy: Never, containers: [{name: c, image: busybox, command: [echo, hi]}]}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: claim}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  maxReplicas: 5
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: np}
spec: {type: NodePort, selector: {app: x}, ports: [{name: http, port: 80, targetPort: http}, {name: b, port: 81}]}
---
apiVersion: v1
kind: Pod
metadata: {name: p1, labels: {app: p}}
spec:
  priority: 0
  containers: [{name: c, image: busybox, args: [sleep, "100"], resources: {limits: {cpu: 100m, memory: 32Mi}}}]
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: holder}
spec: {holderIdentity: me, leaseDurationSeconds: 15}
---
apiVersion: v1
kind: Node
metadata: {name: n1, labels: {kubernetes.io/hostname: n1, node-role.kubernetes.io/worker: ""}}
spec: {podCIDR: 10.244.1.0/24, podCIDRs: [10.244.1.0/24], taints: [{key: k, value: v, effect: NoSchedule}]}
`;

beforeAll(async () => {
  api = await startTestApiserver();
  k = kubectlPair(api.url);
  const created = await k.real(['create', '-f', k.file('all.yaml', MANIFESTS)]);
  expect(created.stderr).toBe('');
  const cm = (await call(api.url, 'GET', '/api/v1/namespaces/default/configmaps/web')).body;
  const now = Date.now();
  for (const [name, type, count, ago] of [['e1', 'Normal', 1, 30_000], ['e2', 'Warning', 4, 600_000]] as const) {
    const r = await call(api.url, 'POST', '/api/v1/namespaces/default/events', {
      apiVersion: 'v1', kind: 'Event', metadata: { name }, type, reason: `Reason-${name}`, message: `message of ${name} `, count,
      involvedObject: { apiVersion: 'v1', kind: 'ConfigMap', name: 'web', namespace: 'default', uid: cm.metadata.uid },
      source: { component: 'tester' }, firstTimestamp: new Date(now - ago - 60_000).toISOString().replace(/\.\d+Z$/, 'Z'),
      lastTimestamp: new Date(now - ago).toISOString().replace(/\.\d+Z$/, 'Z'),
    });
    expect(r.status).toBe(201);
  }
});
afterAll(async () => {
  k?.cleanup();
  await api?.stop();
});

describe('k8ts-kubectl describe, side by side with kubectl', () => {
  it('describes each kind with its own describer, as kubectl does', async () => {
    for (const x of ['cm/web', 'cm/web-extra', 'secret/s1', 'ns/demo', 'ns/default', 'quota/q', 'sa/builder', 'priorityclass/high',
      'deploy/web', 'ds/ds', 'sts/ss', 'rs/rs', 'job/j1', 'pvc/claim', 'hpa/web', 'svc/web', 'svc/np', 'pod/p1', 'node/n1']) {
      const args = ['describe', x, ...(x === 'quota/q' ? ['-n', 'demo'] : [])];
      const out = await k.same(args);
      expect(out.stdout).toContain(`Name:`);
    }
  });

  it('prints events, oldest first, with repeat counts', async () => {
    const out = await k.same(['describe', 'configmap', 'web']);
    expect(out.stdout).toMatch(/Warning +Reason-e2 +1\dm \(x4 over 1\dm\) +tester +message of e2\n +Normal +Reason-e1 +\d+[sm]\S* +tester +message of e1\n$/);
    await k.same(['describe', 'configmap', 'web', '--show-events=false']);
  });

  it('describes lists, prefixes, selectors, manifests and other kinds generically', async () => {
    await k.same(['describe', 'cm', 'web-extra', 'web']);
    await k.same(['describe', 'cm', 'web-e']);
    await k.same(['describe', 'deploy', '-l', 'app=web']);
    await k.same(['describe', 'svc']);
    await k.same(['describe', 'configmaps,secrets', '-A', '-l', 'app=web']);
    await k.same(['describe', '-f', k.file('one.yaml', 'apiVersion: v1\nkind: Secret\nmetadata: {name: s1}\n')]);
    await k.same(['describe', 'lease', '-A']);
    const lease = await k.same(['describe', 'lease', 'holder']);
    expect(lease.stdout).toMatch(/Spec:\n  Holder Identity: +me\n  Lease Duration Seconds: +15\n/);
  });

  it('reports errors as kubectl does', async () => {
    await k.same(['describe']);
    await k.same(['describe', 'cm', 'nope']);
    await k.same(['describe', 'cm', 'nope', 'web-extra']);
    await k.same(['describe', 'cm/nope']);
    await k.same(['describe', 'cm', '-l', 'app=none']);
    await k.same(['describe', 'nosuchtype', 'x']);
  });
});
