import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startLocalCluster } from './harness.js';
import { expectSame, runOurs, runReal, type KubectlResult } from './kubectl-compare.js';

// A 1-node local cluster with real containers (run under flock /tmp/k8ts-docker.lock): `kubectl exec` and
// `kubectl attach` of ours and of the real kubectl on the same pods: stdout, stderr and exit codes compared.
let c: Awaited<ReturnType<typeof startLocalCluster>>;

const MANIFESTS = `apiVersion: v1
kind: Pod
metadata: {name: one}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: main, image: k8ts/busybox:latest, imagePullPolicy: IfNotPresent, command: [sleep, "3600"]}
---
apiVersion: v1
kind: Pod
metadata: {name: two}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: a, image: k8ts/busybox:latest, imagePullPolicy: IfNotPresent, command: [sleep, "3600"]}
  - {name: b, image: k8ts/busybox:latest, imagePullPolicy: IfNotPresent, command: [sleep, "3600"]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {name: w, image: k8ts/busybox:latest, imagePullPolicy: IfNotPresent, command: [sleep, "3600"]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
`;

const ours = (args: string[], stdin = ''): Promise<KubectlResult> => runOurs(args, c.env, stdin);
const real = (args: string[], stdin = ''): Promise<KubectlResult> => runReal(args, c.env, `${c.dir}/kube-cache`, stdin);

async function same(args: string[], stdin?: string): Promise<KubectlResult> {
  const mine = await ours(args, stdin);
  expectSame(mine, await real(args, stdin), { soft: true });
  return mine;
}

beforeAll(async () => {
  c = await startLocalCluster('k8ts-kubectl2-exec-', { nodes: 1 });
  await c.kubectl('apply', '-f', c.file('m.yaml', MANIFESTS));
  await c.kubectl('wait', '--for=condition=Ready', 'pod/one', 'pod/two', '--timeout=180s');
  await eventually(async () => (await c.kubectl('get', 'pods', '-l', 'app=web', '-o', 'name')).trim() !== '', 'the deployment made its pod', 60_000);
  await c.kubectl('wait', '--for=condition=Ready', 'pod', '-l', 'app=web', '--timeout=180s');
}, 400_000);
afterAll(async () => {
  await c?.down();
}, 120_000);

describe('k8ts-kubectl exec, side by side with kubectl on a live cluster', () => {
  it('passes stdout, stderr and the remote exit code through', async () => {
    const r = await same(['exec', 'one', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r).toEqual({ stdout: 'out\n', stderr: 'err\ncommand terminated with exit code 3\n', code: 3 });
    expect((await same(['exec', 'one', '--', 'echo', 'hello', 'world'])).stdout).toBe('hello world\n');
    await same(['exec', 'pod/one', '-c', 'main', '--', 'sh', '-c', 'exit 0']);
  });

  it('sends stdin with -i (closed at its end), and says why -t is dropped when stdin is no terminal', async () => {
    const input = 'line one\nline two\n'.repeat(500);
    const r = await same(['exec', '-i', 'one', '--', 'sh', '-c', 'wc -l; echo done >&2']);
    expect(r.stdout.trim()).toBe('0');
    expect((await same(['exec', '-i', 'one', '--', 'wc', '-c'], input)).stdout.trim()).toBe(String(input.length));
    expect((await same(['exec', '-i', 'one', '--', 'cat'], 'echoed\n')).stdout).toBe('echoed\n');
    const t = await same(['exec', '-it', 'one', '--', 'cat'], 'x\n');
    expect(t.stderr).toContain('Unable to use a TTY');
    await same(['exec', '-t', 'one', '--', 'echo', 'no-stdin']);
  });

  it('picks the container (-c, the default with its notice) and the pod of a deployment or service', async () => {
    await same(['exec', 'two', '--', 'hostname']);
    await same(['exec', 'two', '-c', 'b', '--', 'echo', 'in-b']);
    const d = await same(['exec', 'deploy/web', '--', 'sh', '-c', 'echo $HOSTNAME']);
    expect(d.stdout).toMatch(/^web-/);
    await same(['exec', 'svc/web', '--', 'sh', '-c', 'echo $HOSTNAME']);
  });

  it('fails as kubectl does', async () => {
    await same(['exec', 'missing', '--', 'true']);
    await same(['exec', 'one']);
    await same(['exec']);
    await same(['exec', 'one', 'date']);
    await same(['exec', 'one', '-c', 'nope', '--', 'true']);
    await same(['exec', 'one', '--', 'no-such-binary']);
  });
});
