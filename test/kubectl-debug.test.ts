import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startLocalCluster } from './harness.js';

// `kubectl debug` (the real kubectl v1.32) on a 1-node local cluster with real containers (run under
// flock /tmp/k8ts-docker.lock): ephemeral containers added through pods/ephemeralcontainers, started once by the
// kubelet in the pod's sandbox (in the target's processes with --target), their logs, attach and status; node debug
// pods in the host's namespaces; --copy-to.
let c: Awaited<ReturnType<typeof startLocalCluster>>;

const BUSYBOX = 'image: k8ts/busybox:latest, imagePullPolicy: IfNotPresent';
const MANIFESTS = `apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - {name: web, ${BUSYBOX}, command: [httpd, -f, -p, "8080"]}
`;
const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

type Pod = { spec: { ephemeralContainers?: { name: string }[]; containers: { name: string }[] }; status: { phase?: string; ephemeralContainerStatuses?: Status[] } };
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- container statuses are read loosely
type Status = Record<string, any>;
const getPod = async (name: string): Promise<Pod> => JSON.parse(await c.kubectl('get', 'pod', name, '-o', 'json'));
const ephemeralStatus = async (pod: string, name: string) => (await getPod(pod)).status.ephemeralContainerStatuses?.find((s) => s.name === name);

beforeAll(async () => {
  c = await startLocalCluster('k8ts-kubectl-debug-', { nodes: 1 });
  await c.kubectl('apply', '-f', c.file('m.yaml', MANIFESTS));
  await c.kubectl('wait', '--for=condition=Ready', 'pod/web', '--timeout=180s');
}, 400_000);
afterAll(async () => {
  await c?.down();
}, 120_000);

describe('kubectl debug with ephemeral containers', () => {
  it('runs a command once in a new ephemeral container: its logs, its terminated status, its events', async () => {
    const r = await c.kubectlStatus('debug', 'web', '--image=k8ts/busybox:latest', '--', 'sh', '-c', 'echo hi');
    expect(r.code).toBe(0);
    const name = /^Defaulting debug container name to (debugger-[a-z0-9]{5})\.$/m.exec(r.stdout)?.[1];
    expect(name, r.stdout).toBeTruthy();
    const status = await eventually(async () => (await ephemeralStatus('web', name!))?.state?.terminated && ephemeralStatus('web', name!), `${name} to run`, 60_000);
    expect(status).toMatchObject({ name, ready: false, restartCount: 0, image: 'k8ts/busybox:latest', state: { terminated: { exitCode: 0, reason: 'Completed' } } });
    expect(status.containerID).toMatch(/^docker:\/\//);
    expect(await c.kubectl('logs', 'web', '-c', name!)).toBe('hi\n');
    const pod = await getPod('web');
    expect(pod.status.phase).toBe('Running');
    expect(pod.spec.ephemeralContainers).toEqual([expect.objectContaining({ name, command: ['sh', '-c', 'echo hi'], terminationMessagePolicy: 'File' })]);
    const events = await c.kubectl('get', 'events', '--field-selector', `involvedObject.name=web,involvedObject.fieldPath=spec.ephemeralContainers{${name}}`,
      '-o', 'jsonpath={range .items[*]}{.reason}{" "}{end}');
    expect(events.trim().split(' ')).toEqual(['Pulled', 'Created', 'Started']);
    // Never restarted: still the one run a while later, and the pod's own container untouched.
    await c.kubectl('wait', '--for=condition=Ready', 'pod/web', '--timeout=30s');
    expect((await ephemeralStatus('web', name!)).containerID).toBe(status.containerID);
  });

  it('-i --target shares the target container\'s processes, beside the first one', async () => {
    // `read` first, so the output cannot come before kubectl has attached.
    const r = await kubectlWith('go\n', 'debug', '-i', 'web', '--image=k8ts/busybox:latest', '--target=web', '-c', 'peek', '--', 'sh', '-c', 'read go; ps');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toContain('Targeting container "web".');
    expect(r.stdout).toMatch(/^\s+1 root\s+httpd -f -p 8080$/m);
    await eventually(async () => (await ephemeralStatus('web', 'peek'))?.state?.terminated?.exitCode === 0, 'peek to finish', 60_000);
    const pod = await getPod('web');
    expect(pod.spec.ephemeralContainers!.map((e) => e.name)).toHaveLength(2);
    expect(pod.status.ephemeralContainerStatuses!.map((s) => s.state.terminated?.exitCode)).toEqual([0, 0]);
    // Without --target: the container's own processes only.
    const own = await kubectlWith('go\n', 'debug', '-i', 'web', '--image=k8ts/busybox:latest', '-c', 'alone', '--', 'sh', '-c', 'read go; ps');
    expect(own.code, own.stderr).toBe(0);
    expect(own.stdout).not.toContain('httpd');
    // sh runs its last command in its own process: busybox's ps shows that as `{ps} sh -c …`.
    expect(own.stdout).toMatch(/^\s+1 root\s+(\{ps\} )?sh -c read go; ps$/m);
  });

  it.runIf(hasScript)('-it attaches a terminal to the new container', async () => {
    const k = spawn('script', ['-qc', `kubectl --cache-dir=${c.dir}/kube-cache debug -it web --image=k8ts/busybox:latest -c term --profile=general -- sh`, '/dev/null'], { env: c.env });
    let out = '';
    k.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    const exited = new Promise<number | null>((resolve) => k.once('close', resolve));
    try {
      await eventually(() => out.includes("If you don't see a command prompt"), 'kubectl debug -it to attach', 60_000);
      k.stdin.write('echo marker-$((6*7))\r');
      await eventually(() => out.includes('marker-42'), 'the shell to answer', 30_000);
      k.stdin.write('exit\r');
      expect(await exited).toBe(0);
      expect(out).toContain("Session ended, the ephemeral container will not be restarted but may be reattached using 'kubectl attach web -c term -i -t' if it is still running");
    } finally {
      k.kill('SIGKILL');
    }
    await eventually(async () => (await ephemeralStatus('web', 'term'))?.state?.terminated?.exitCode === 0, 'the shell to exit', 60_000);
  });

  it('refuses removing, changing or malformed ephemeral containers with 422', async () => {
    const remove = await c.kubectlStatus('patch', 'pod', 'web', '--subresource=ephemeralcontainers', '--type=json', '-p', '[{"op":"remove","path":"/spec/ephemeralContainers/0"}]');
    expect(remove.code).toBe(1);
    const first = (await getPod('web')).spec.ephemeralContainers![0].name;
    expect(remove.stderr).toBe(`The Pod "web" is invalid: spec.ephemeralContainers: Forbidden: existing ephemeral containers "${first}" may not be removed\n\n`);
    const change = await c.kubectlStatus('patch', 'pod', 'web', '--subresource=ephemeralcontainers', '--type=json', '-p', '[{"op":"replace","path":"/spec/ephemeralContainers/0/image","value":"k8ts/pause:latest"}]');
    expect(change.stderr).toMatch(new RegExp(`^The Pod "web" is invalid: spec.ephemeralContainers: Forbidden: existing ephemeral containers "${first}" may not be changed\n`));
    const bad = await c.kubectlStatus('patch', 'pod', 'web', '--subresource=ephemeralcontainers', '-p',
      '{"spec":{"ephemeralContainers":[{"name":"web","image":"k8ts/busybox:latest","ports":[{"containerPort":80}],"targetContainerName":"nope"}]}}');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^\* spec\.ephemeralContainers\[\d\]\.name: Duplicate value: "web"$/m);
    expect(bad.stderr).toMatch(/^\* spec\.ephemeralContainers\[\d\]\.targetContainerName: Not found: "nope"$/m);
    expect(bad.stderr).toMatch(/^\* spec\.ephemeralContainers\[\d\]\.ports: Forbidden: cannot be set for an Ephemeral Container$/m);
    // On the wire: a 422 Invalid Status with its causes, and a plain pod update may not add any.
    const res = await fetch(`${c.apiserverUrl}/api/v1/namespaces/default/pods/web/ephemeralcontainers`, {
      method: 'PATCH', headers: { 'Content-Type': 'application/json-patch+json' }, body: '[{"op":"remove","path":"/spec/ephemeralContainers"}]',
    });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ kind: 'Status', reason: 'Invalid', code: 422, details: { name: 'web', kind: 'Pod', causes: expect.arrayContaining([expect.objectContaining({ reason: 'FieldValueForbidden', field: 'spec.ephemeralContainers' })]) } });
    const plain = await c.kubectlStatus('patch', 'pod', 'web', '-p', '{"spec":{"ephemeralContainers":[{"name":"sneak","image":"k8ts/busybox:latest"}]}}');
    expect(plain.stderr).toMatch(/^The Pod "web" is invalid: spec: Forbidden: pod updates may not change fields other than/);
    const missing = await c.kubectlStatus('debug', 'nope', '--image=k8ts/busybox:latest');
    expect(missing.stderr).toMatch(/^Error from server \(NotFound\): pods "nope" not found$/m);
  });

  it('GET pods/ephemeralcontainers is the pod; a subresource nothing serves is a NotFound with details', async () => {
    const res = await fetch(`${c.apiserverUrl}/api/v1/namespaces/default/pods/web/ephemeralcontainers`);
    expect(await res.json()).toMatchObject({ kind: 'Pod', metadata: { name: 'web' } });
    const none = await fetch(`${c.apiserverUrl}/api/v1/namespaces/default/pods/web/nothing`);
    expect(none.status).toBe(404);
    expect(await none.json()).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server could not find the requested resource', reason: 'NotFound', code: 404, details: {} });
    const resources = JSON.parse(await c.kubectl('get', '--raw', '/api/v1')).resources as { name: string }[];
    expect(resources).toContainEqual({ name: 'pods/ephemeralcontainers', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get', 'patch', 'update'] });
  });
});

describe('kubectl debug of nodes and by copy', () => {
  it('node/<node>: a pod in the host\'s namespaces with the host\'s root at /host', async () => {
    const r = await c.kubectlStatus('debug', 'node/node-1', '--image=k8ts/busybox:latest', '--', 'sh', '-c', `cat /host/etc/hostname; hostname; test -d /proc/${process.pid} && echo host-pids`);
    expect(r.code, r.stderr).toBe(0);
    const pod = /^Creating debugging pod (node-debugger-node-1-[a-z0-9]{5}) with container debugger on node node-1\.$/m.exec(r.stdout)?.[1];
    expect(pod, r.stdout).toBeTruthy();
    await c.kubectl('wait', '--for=jsonpath={.status.phase}=Succeeded', `pod/${pod}`, '--timeout=120s');
    const [hostFile, name, pids] = (await c.kubectl('logs', pod!)).trim().split('\n');
    // Every node of a local cluster is this machine: /host is its root, the hostname and processes its own.
    expect(hostFile).toBe(readFileSync('/etc/hostname', 'utf8').trim());
    expect(name).toBe(hostname());
    expect(pids).toBe('host-pids'); // this test's own process is visible: hostPID
    expect(JSON.parse(await c.kubectl('get', 'pod', pod!, '-o', 'jsonpath={.status}')).podIP).toBe('127.0.1.1');
  });

  it('--copy-to creates a copy of the pod with the debug container added', async () => {
    const r = await c.kubectlStatus('debug', 'web', '--copy-to=web-copy', '--image=k8ts/busybox:latest', '-c', 'dbg', '--', 'sleep', '3600');
    expect(r.code, r.stderr).toBe(0);
    await c.kubectl('wait', '--for=condition=Ready', 'pod/web-copy', '--timeout=120s');
    const pod = await getPod('web-copy');
    expect(pod.spec.containers.map((x) => x.name)).toEqual(['web', 'dbg']);
    expect(pod.spec.ephemeralContainers).toBeUndefined();
  });
});

/**
 * The real kubectl with `stdin` as its input, kept open until kubectl exits, as a user's terminal would be; its exit
 * code and output. (Closing it at once would end the output too: an attach's output ends with its input unless the
 * container is stdinOnce — Docker's attach and containerd's ContainerIO.Attach alike — and `kubectl debug` does not
 * set stdinOnce.)
 */
function kubectlWith(stdin: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const k = spawn('kubectl', [`--cache-dir=${c.dir}/kube-cache`, ...args], { env: c.env });
  let stdout = '';
  let stderr = '';
  k.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  k.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  k.stdin.on('error', () => undefined);
  k.stdin.write(stdin);
  const timer = setTimeout(() => k.kill('SIGKILL'), 90_000);
  return new Promise((resolve) => k.once('close', (code) => { clearTimeout(timer); k.stdin.destroy(); resolve({ code: code ?? 1, stdout, stderr }); }));
}
