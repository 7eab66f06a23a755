import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestApiserver, testKubectl, type TestApiserver, type TestKubectl } from './harness.js';

// `kubectl create <generator>` and the typed clients send protobuf bodies (kubectl-wire.md §12): each works end to end.
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;

describe.skipIf(!hasKubectl)('kubectl create generators (protobuf bodies)', () => {
  let api: TestApiserver;
  let kubectl: TestKubectl;
  const json = async (...args: string[]) => JSON.parse(await kubectl('get', ...args, '-o', 'json'));

  beforeAll(async () => {
    api = await startTestApiserver();
    kubectl = testKubectl(api.url);
  }, 60_000);
  afterAll(async () => {
    kubectl?.cleanup();
    await api?.stop();
  });

  it('namespace, configmap, secret generic and docker-registry, serviceaccount', async () => {
    expect(await kubectl('create', 'namespace', 'team-a')).toBe('namespace/team-a created\n');
    expect((await json('namespace', 'team-a')).status.phase).toBe('Active');
    expect(await kubectl('create', 'configmap', 'settings', '-n', 'team-a', '--from-literal=mode=fast', '--from-literal=level=3'))
      .toBe('configmap/settings created\n');
    expect((await json('configmap', 'settings', '-n', 'team-a')).data).toStrictEqual({ mode: 'fast', level: '3' });
    await kubectl('create', 'secret', 'generic', 'creds', '--from-literal=user=admin', '--from-literal=password=s3cr=t');
    const secret = await json('secret', 'creds');
    expect(secret.type).toBe('Opaque');
    expect(Buffer.from(secret.data.password, 'base64').toString()).toBe('s3cr=t');
    await kubectl('create', 'secret', 'docker-registry', 'regcred', '--docker-server=registry.local:5000', '--docker-username=u', '--docker-password=p');
    const reg = await json('secret', 'regcred');
    expect(reg.type).toBe('kubernetes.io/dockerconfigjson');
    expect(JSON.parse(Buffer.from(reg.data['.dockerconfigjson'], 'base64').toString()).auths['registry.local:5000'].username).toBe('u');
    expect(await kubectl('create', 'serviceaccount', 'builder')).toBe('serviceaccount/builder created\n');
  });

  it('deployment (with replicas, port, command, and replicas=0), service of each type', async () => {
    expect(await kubectl('create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=3', '--port=80')).toBe('deployment.apps/web created\n');
    const d = await json('deployment', 'web');
    expect(d.spec.replicas).toBe(3);
    expect(d.spec.template.spec.containers[0]).toMatchObject({ name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80, protocol: 'TCP' }] });
    expect(d.spec.strategy.type).toBe('RollingUpdate');
    await kubectl('create', 'deployment', 'idle', '--image=busybox', '--replicas=0', '--', 'sleep', '3600');
    const idle = await json('deployment', 'idle');
    expect(idle.spec.replicas).toBe(0);
    expect(idle.spec.template.spec.containers[0].command).toStrictEqual(['sleep', '3600']);

    await kubectl('create', 'service', 'clusterip', 'web', '--tcp=80:8080', '--tcp=443:8443');
    const svc = await json('service', 'web');
    expect(svc.spec.type).toBe('ClusterIP');
    expect(svc.spec.clusterIP).toMatch(/^10\./);
    expect(svc.spec.ports.map((p: { port: number; targetPort: number }) => [p.port, p.targetPort])).toStrictEqual([[80, 8080], [443, 8443]]);
    await kubectl('create', 'service', 'clusterip', 'db', '--clusterip=None');
    expect((await json('service', 'db')).spec.clusterIP).toBe('None');
    await kubectl('create', 'service', 'nodeport', 'np', '--tcp=80:http', '--node-port=30080');
    const np = await json('service', 'np');
    expect(np.spec.ports[0]).toMatchObject({ port: 80, targetPort: 'http', nodePort: 30080 });
    await kubectl('create', 'service', 'loadbalancer', 'lb', '--tcp=80:8080');
    expect((await json('service', 'lb')).spec.type).toBe('LoadBalancer');
    await kubectl('create', 'service', 'externalname', 'ext', '--external-name=example.com');
    expect((await json('service', 'ext')).spec.externalName).toBe('example.com');
  });

  it('job, job --from=cronjob, cronjob', async () => {
    expect(await kubectl('create', 'cronjob', 'tick', '--image=busybox', '--schedule=*/5 * * * *', '--restart=OnFailure', '--', 'date'))
      .toBe('cronjob.batch/tick created\n');
    const cj = await json('cronjob', 'tick');
    expect(cj.spec.schedule).toBe('*/5 * * * *');
    expect(cj.spec.jobTemplate.spec.template.spec.restartPolicy).toBe('OnFailure');
    expect(await kubectl('create', 'job', 'once', '--image=busybox', '--', 'echo', 'hi')).toBe('job.batch/once created\n');
    expect((await json('job', 'once')).spec.template.spec.containers[0].command).toStrictEqual(['echo', 'hi']);
    await kubectl('create', 'job', 'manual', '--from=cronjob/tick');
    const manual = await json('job', 'manual');
    expect(manual.metadata.annotations['cronjob.kubernetes.io/instantiate']).toBe('manual');
    expect(manual.metadata.ownerReferences[0]).toMatchObject({ kind: 'CronJob', name: 'tick', uid: cj.metadata.uid, controller: true });
  });

  it('pdb, priorityclass (value 0 and global default), quota', async () => {
    await kubectl('create', 'pdb', 'web-pdb', '--selector=app=web', '--min-available=2');
    expect((await json('pdb', 'web-pdb')).spec).toMatchObject({ minAvailable: 2, selector: { matchLabels: { app: 'web' } } });
    await kubectl('create', 'pdb', 'web-pdb2', '--selector=app=web,tier in (fe)', '--max-unavailable=50%');
    expect((await json('pdb', 'web-pdb2')).spec.maxUnavailable).toBe('50%');
    await kubectl('create', 'priorityclass', 'high', '--value=1000', '--description=important', '--preemption-policy=Never');
    expect(await json('priorityclass', 'high')).toMatchObject({ value: 1000, description: 'important', preemptionPolicy: 'Never' });
    await kubectl('create', 'priorityclass', 'base', '--value=0', '--global-default');
    expect(await json('priorityclass', 'base')).toMatchObject({ value: 0, globalDefault: true });
    await kubectl('create', 'quota', 'limits', '--hard=cpu=2,memory=1Gi,pods=10', '--scopes=NotTerminating');
    expect((await json('quota', 'limits')).spec).toStrictEqual({ hard: { cpu: '2', memory: '1Gi', pods: '10' }, scopes: ['NotTerminating'] });
  });

  it('role, clusterrole, rolebinding, clusterrolebinding, with their tables and validation', async () => {
    expect(await kubectl('create', 'role', 'reader', '--verb=get,list,watch', '--resource=pods,deployments.apps', '--resource-name=web'))
      .toBe('role.rbac.authorization.k8s.io/reader created\n');
    expect((await json('role', 'reader')).rules).toStrictEqual([
      { verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods'], resourceNames: ['web'] },
      { verbs: ['get', 'list', 'watch'], apiGroups: ['apps'], resources: ['deployments'], resourceNames: ['web'] },
    ]);
    await kubectl('create', 'clusterrole', 'nodes-reader', '--verb=get', '--resource=nodes', '--non-resource-url=/healthz');
    await kubectl('create', 'clusterrole', 'agg', '--aggregation-rule=rbac.example.com/aggregate=true');
    expect((await json('clusterrole', 'agg')).aggregationRule.clusterRoleSelectors).toStrictEqual([{ matchLabels: { 'rbac.example.com/aggregate': 'true' } }]);
    await kubectl('create', 'rolebinding', 'read-pods', '--role=reader', '--user=alice', '--group=devs', '--serviceaccount=default:builder');
    await kubectl('create', 'clusterrolebinding', 'admins', '--clusterrole=nodes-reader', '--user=root');
    const rb = await json('rolebinding', 'read-pods');
    expect(rb.roleRef).toStrictEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' });
    expect(rb.subjects.map((s: { kind: string }) => s.kind)).toStrictEqual(['User', 'Group', 'ServiceAccount']);
    const wide = await kubectl('get', 'rolebinding', 'read-pods', '-o', 'wide');
    expect(wide).toMatch(/^NAME\s+ROLE\s+AGE\s+USERS\s+GROUPS\s+SERVICEACCOUNTS\n/);
    expect(wide).toMatch(/read-pods\s+Role\/reader\s+\S+\s+alice\s+devs\s+default:builder/);
    expect(await kubectl('get', 'clusterroles')).toMatch(/^NAME\s+CREATED AT\n(agg|nodes-reader)\s+\d{4}-/);
    // A Role may not name non-resource URLs; a binding's roleRef may not change.
    const bad = await call(api.url, 'POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles',
      { kind: 'Role', apiVersion: 'rbac.authorization.k8s.io/v1', metadata: { name: 'bad' }, rules: [{ verbs: ['get'], nonResourceURLs: ['/x'] }] });
    expect(bad.status).toBe(422);
    expect(bad.body.message).toContain('rules[0].nonResourceURLs: Invalid value: ["/x"]: namespaced rules cannot apply to non-resource URLs');
    const change = await call(api.url, 'PATCH', '/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings/read-pods',
      { roleRef: { name: 'other' } }, { 'content-type': 'application/merge-patch+json' });
    expect(change.status).toBe(422);
    expect(change.body.message).toContain('cannot change roleRef');
  });

  it('ingress with rules, TLS and class; with only a default backend', async () => {
    await kubectl('create', 'ingress', 'site', '--class=nginx', '--rule=foo.com/bar*=svc1:8080,tls=foo-cert', '--rule=/api=svc2:http');
    const ing = await json('ingress', 'site');
    expect(ing.spec.ingressClassName).toBe('nginx');
    expect(ing.spec.tls).toStrictEqual([{ hosts: ['foo.com'], secretName: 'foo-cert' }]);
    expect(ing.spec.rules[0].http.paths[0]).toStrictEqual({ path: '/bar', pathType: 'Prefix', backend: { service: { name: 'svc1', port: { number: 8080 } } } });
    expect(ing.spec.rules[1].http.paths[0].backend.service.port).toStrictEqual({ name: 'http' });
    await kubectl('create', 'ingress', 'catchall', '--default-backend=fallback:80');
    expect((await json('ingress', 'catchall')).spec.defaultBackend).toStrictEqual({ service: { name: 'fallback', port: { number: 80 } } });
  });

  it('drain --disable-eviction deletes through a protobuf DeleteOptions (gracePeriodSeconds 0 kept)', async () => {
    await kubectl('apply', '-f', kubectl.file('node.yaml', [
      'apiVersion: v1', 'kind: Node', 'metadata: {name: drain-me}', '---',
      'apiVersion: v1', 'kind: Pod', 'metadata: {name: on-node, namespace: default}',
      'spec: {nodeName: drain-me, containers: [{name: c, image: busybox}]}', ''].join('\n')));
    const out = await kubectl('drain', 'drain-me', '--disable-eviction', '--force', '--grace-period=0', '--timeout=20s');
    expect(out).toContain('pod/on-node deleted');
    expect((await call(api.url, 'GET', '/api/v1/namespaces/default/pods/on-node')).status).toBe(404);
  });

  it('an unknown kind in protobuf is a clear 415, a body without the magic a 400', async () => {
    // runtime.Unknown{typeMeta{apiVersion: "v1", kind: "Frobnicator"}, raw: ""}
    const typeMeta = Buffer.concat([Buffer.from([0x0a, 2]), Buffer.from('v1'), Buffer.from([0x12, 11]), Buffer.from('Frobnicator')]);
    const body = Buffer.concat([Buffer.from('k8s\0', 'latin1'), Buffer.from([0x0a, typeMeta.length]), typeMeta]);
    const res = await fetch(`${api.url}/api/v1/namespaces/default/configmaps`, {
      method: 'POST', headers: { 'content-type': 'application/vnd.kubernetes.protobuf' }, body,
    });
    expect(res.status).toBe(415);
    expect(await res.json()).toMatchObject({ kind: 'Status', reason: 'UnsupportedMediaType', message: expect.stringContaining('Frobnicator') });
    const bad = await fetch(`${api.url}/api/v1/namespaces/default/configmaps`, {
      method: 'POST', headers: { 'content-type': 'application/vnd.kubernetes.protobuf' }, body: '{"kind":"ConfigMap"}',
    });
    expect(bad.status).toBe(400);
    expect((await bad.json()).message).toContain('provided data does not appear to be a protobuf message');
  });
});
