import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestApiserver, type TestApiserver } from './harness.js';
import { klogMasked, kubectlPair, type KubectlPair } from './kubectl-compare.js';

let api: TestApiserver;
let k: KubectlPair;

beforeAll(async () => {
  api = await startTestApiserver();
  k = kubectlPair(api.url);
  await call(api.url, 'POST', '/apis/batch/v1/namespaces/default/cronjobs', {
    apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'nightly' },
    spec: { schedule: '0 3 * * *', jobTemplate: { metadata: { labels: { job: 'nightly' } }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } } },
  });
});
afterAll(async () => {
  k?.cleanup();
  await api?.stop();
});

/** Byte-for-byte: same exit code, stdout and stderr. */
const identical = (args: string[]) => k.same(args, { scrub: klogMasked });

const dry = ['--dry-run=client', '-o', 'yaml'];

describe('k8ts-kubectl create <generator> --dry-run=client -o yaml, byte for byte with kubectl', () => {
  it('namespace, configmap, secrets, serviceaccount', async () => {
    const file = k.file('app.properties', 'x=1\ny=2\n');
    const env = k.file('app.env', '# comment\nA=1\nB= 2 \n\nC=three\n');
    const badEnv = k.file('bad.env', 'A=1\nB = 2\n');
    await identical(['create', 'cm', 'bad', `--from-env-file=${badEnv}`, ...dry]);
    await identical(['create', 'namespace', 'ns1', ...dry]);
    await identical(['create', 'ns', 'ns1', ...dry, '-o', 'json']);
    await identical(['create', 'configmap', 'cm1', '--from-literal=b=2', '--from-literal=a=1', ...dry]);
    await identical(['create', 'cm', 'cm2', `--from-file=${file}`, `--from-file=other=${file}`, ...dry, '-n', 'foo']);
    await identical(['create', 'cm', 'cm3', `--from-env-file=${env}`, ...dry]);
    await identical(['create', 'secret', 'generic', 's1', '--from-literal=a=1', '--type=Opaque', ...dry]);
    await identical(['create', 'secret', 'generic', 's2', '--from-literal=a=1', `--from-file=${file}`, ...dry]);
    await identical(['create', 'secret', 'docker-registry', 'd1', '--docker-server=r.io', '--docker-username=u', '--docker-password=p', '--docker-email=e@x', ...dry]);
    await identical(['create', 'secret', 'docker-registry', 'd2', '--docker-username=u', '--docker-password=p', ...dry]);
    await identical(['create', 'serviceaccount', 'sa1', ...dry]);
    await identical(['create', 'sa', 'sa1', '--dry-run=client']);
  });

  it('tls secrets', async () => {
    const dir = k.dir;
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${dir}/tls.key`, '-out', `${dir}/tls.crt`, '-days', '1', '-subj', '/CN=x'], { stdio: 'ignore' });
    await identical(['create', 'secret', 'tls', 't1', `--cert=${dir}/tls.crt`, `--key=${dir}/tls.key`, ...dry]);
    await identical(['create', 'secret', 'tls', 't2', `--cert=/dev/null`, `--key=${dir}/tls.key`, ...dry]);
  });

  it('workloads: deployment, job, cronjob', async () => {
    await identical(['create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=2', '--port=80', ...dry]);
    await identical(['create', 'deploy', 'two', '--image=a', '--image=registry.io/x/b:1@sha256:00', ...dry]);
    // A name that needs sanitizing gets a random suffix, as kubectl's sanitizeAndUniquify does.
    const odd = await k.ours(['create', 'deploy', 'odd', '--image=registry.io/x/b_c.d:1', ...dry]);
    expect(odd.stdout).toMatch(/\n {8}name: b-c-d-[bcdfghjklmnpqrstvwxz2456789]{5}\n/);
    await identical(['create', 'deployment', 'web', '--image=nginx:1.27', '--port=80', '--dry-run=client', '-o', 'json']);
    await identical(['create', 'deployment', 'cmd', '--image=busybox', ...dry, '--', 'sleep', '1']);
    await identical(['create', 'job', 'j1', '--image=busybox', ...dry, '--', 'echo', 'hi']);
    await identical(['create', 'cronjob', 'c1', '--image=busybox', '--schedule=*/1 * * * *', ...dry, '--', 'date']);
    await identical(['create', 'cj', 'c2', '--image=busybox', '--schedule=@daily', '--restart=Never', ...dry]);
  });

  it('services', async () => {
    await identical(['create', 'service', 'clusterip', 'svc1', '--tcp=80:8080', '--tcp=443:https', ...dry]);
    await identical(['create', 'service', 'clusterip', 'headless', '--clusterip=None', ...dry]);
    await identical(['create', 'service', 'nodeport', 'np1', '--tcp=80:8080', '--node-port=30080', ...dry]);
    await identical(['create', 'svc', 'loadbalancer', 'lb1', '--tcp=80,81', ...dry]);
    await identical(['create', 'service', 'externalname', 'ex1', '--external-name=example.com', ...dry]);
  });

  it('rbac, scheduling, policy, quota, ingress', async () => {
    await identical(['create', 'role', 'r1', '--verb=get,list', '--resource=pods,deployments.apps,deploy', '--resource=pods/log', '--resource-name=x', ...dry]);
    await identical(['create', 'clusterrole', 'cr1', '--verb=get', '--resource=nodes', '--non-resource-url=/healthz', ...dry]);
    await identical(['create', 'rolebinding', 'rb1', '--role=r1', '--user=u1', '--serviceaccount=default:sa1', '--group=g', ...dry]);
    await identical(['create', 'clusterrolebinding', 'crb1', '--clusterrole=cr1', '--user=u1', ...dry]);
    await identical(['create', 'priorityclass', 'pc1', '--value=100', '--description=hi', ...dry]);
    await identical(['create', 'priorityclass', 'pc2', '--value=5', '--global-default', '--preemption-policy=Never', ...dry]);
    await identical(['create', 'quota', 'q1', '--hard=pods=2,cpu=1', '--scopes=BestEffort', ...dry]);
    await identical(['create', 'poddisruptionbudget', 'pdb1', '--selector=app=web', '--min-available=1', ...dry]);
    await identical(['create', 'pdb', 'pdb2', '--selector=app=web', '--max-unavailable=50%', ...dry]);
    await identical(['create', 'pdb', 'pdb2', '--selector=app=web', '--max-unavailable=50%', '--dry-run=client', '-o', 'json']);
    await identical(['create', 'rolebinding', 'rb1', '--clusterrole=view', '--user=u1', '--user=u2', '--dry-run=client', '-o', 'json']);
    await identical(['create', 'svc', 'nodeport', 'np1', '--tcp=80:8080', '--dry-run=client', '-o', 'json']);
    await identical(['create', 'cm', 'cmj', '--from-literal=b=2', '--from-literal=a=1', '--dry-run=client', '-o', 'json']);
    await identical(['create', 'ingress', 'ing1', '--rule=foo.com/bar=svc1:80,tls=my-cert', '--rule=foo.com/baz*=svc2:http', '--class=nginx', ...dry]);
    await identical(['create', 'ingress', 'ing2', '--default-backend=svc:80', '--annotation=a=b', ...dry]);
  });

  it('job from a cron job', async () => {
    const ours = await k.ours(['create', 'job', 'manual', '--from=cronjob/nightly', ...dry]);
    const real = await k.real(['create', 'job', 'manual', '--from=cronjob/nightly', ...dry]);
    expect(ours).toEqual(real);
  });

  it('usage errors', async () => {
    await identical(['create', 'deployment', 'd']);
    await identical(['create', 'namespace']);
    await identical(['create', 'configmap', 'c', '--from-literal=a', '--dry-run=client']);
    await identical(['create', 'configmap', 'c', 'd', '--dry-run=client']);
    await identical(['create', 'role', 'r', '--verb=bogus', '--resource=pods', ...dry]);
    await identical(['create', 'secret', 'docker-registry', 'd3', '--docker-username=u', ...dry]);
    await identical(['create', 'rolebinding', 'rb', '--user=u', ...dry]);
  });
});

describe('k8ts-kubectl create <generator> against the server', () => {
  it('creates the objects with fieldManager kubectl-create', async () => {
    const r1 = await k.ours(['create', 'deployment', 'web', '--image=nginx:1.27']);
    expect(r1).toEqual({ code: 0, stdout: 'deployment.apps/web created\n', stderr: '' });
    expect((await k.ours(['create', 'configmap', 'cm1', '--from-literal=a=1'])).stdout).toBe('configmap/cm1 created\n');
    expect((await k.ours(['create', 'namespace', 'made'])).stdout).toBe('namespace/made created\n');
    expect((await k.ours(['create', 'job', 'manual', '--from=cronjob/nightly'])).stdout).toBe('job.batch/manual created\n');
    const job = await call(api.url, 'GET', '/apis/batch/v1/namespaces/default/jobs/manual');
    expect(job.body.metadata.annotations['cronjob.kubernetes.io/instantiate']).toBe('manual');
    expect(job.body.metadata.ownerReferences[0]).toMatchObject({ kind: 'CronJob', name: 'nightly', controller: true });
    const again = await k.both(['create', 'configmap', 'cm1', '--from-literal=a=1']);
    expect(again.ours.stderr).toBe('Error from server (AlreadyExists): configmaps "cm1" already exists\n');
    expect(again.ours.code).toBe(1);
    expect(again.real.code).toBe(1);
    const dep = await call(api.url, 'GET', '/apis/apps/v1/namespaces/default/deployments/web');
    expect(dep.body.spec.template.spec.containers[0]).toMatchObject({ name: 'nginx', image: 'nginx:1.27' });
  });
});
