import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JS module shared with scripts/
import { freePort } from '../scripts/lib/processes.mjs';
import { eventually } from './harness.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const built = existsSync(path.join(ROOT, 'packages/kube-proxy/dist/main.js'));

/** GET http://host:port/ with a fresh connection; the body, trimmed. */
function get(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: '/', agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve(body.trim()));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout from ${host}:${port}`)));
    req.on('error', reject);
  });
}

const manifest = `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 3
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: httpd
        image: k8ts/busybox:latest
        imagePullPolicy: IfNotPresent
        env: [{ name: POD_NAME, valueFrom: { fieldRef: { fieldPath: metadata.name } } }]
        command: ["sh", "-c", "mkdir -p /www && echo $POD_NAME > /www/index.html && touch /www/ready && exec httpd -f -p 8080 -h /www"]
        ports: [{ name: http, containerPort: 8080 }]
        readinessProbe: { httpGet: { path: /ready, port: 8080 }, periodSeconds: 1, failureThreshold: 1 }
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  type: NodePort
  selector: { app: web }
  ports: [{ name: http, port: 80, targetPort: http }]
`;

/**
 * The local cluster with real containers: a 3-replica httpd Deployment behind a NodePort, reached through kube-proxy
 * on 127.0.0.1 and on each node address, pods found by the controller-manager's endpointslice controller.
 * Traffic goes only to 127.0.0.0/8 (NodePorts); no ClusterIP is contacted from the host; in iptables mode a pod
 * reaches ClusterIPs once the REJECT and DNAT rules are seen installed. Defined by test/kube-proxy-cluster.test.ts
 * (userspace) and test/kube-proxy-iptables.test.ts (iptables, root).
 */
export function kubeProxyClusterSuite(mode: 'userspace' | 'iptables', skipWhy?: string): void {
  const skip = !built || !!skipWhy;
  describe(`NodePort through kube-proxy in ${mode} mode on a 2-node cluster`, () => {
  let dir = '';
  let env: NodeJS.ProcessEnv = {};
  let upOutput = '';
  // kube-proxy sets route_localnet and leaves it set (as upstream); the test puts the host back as it found it.
  const ROUTE_LOCALNET = '/proc/sys/net/ipv4/conf/all/route_localnet';
  let routeLocalnet: string | undefined;
  const state = () => path.join(dir, 'state');
  const cluster = (...args: string[]) => run(path.join(ROOT, 'scripts/cluster'), [...args, '--state-dir', state()], { timeout: 300_000 });
  const kubectl = async (...args: string[]) => (await run('kubectl', [`--cache-dir=${dir}/kc`, ...args], { env, timeout: 60_000 })).stdout;

  beforeAll(async () => {
    if (skip) return;
    if (mode === 'iptables') routeLocalnet = readFileSync(ROUTE_LOCALNET, 'utf8').trim();
    dir = mkdtempSync(path.join(tmpdir(), 'k8ts-proxy-'));
    upOutput = (await cluster('up', '--detach', '--no-build', '--port', '0', '--nodes', '2', '--proxy-mode', mode,
      '--kubelet-port', String(await freePort('127.0.1.1')))).stdout;
    env = { ...process.env, KUBECONFIG: path.join(state(), 'kubeconfig'), HOME: dir };
  }, 600_000);

  afterAll(async () => {
    if (!dir) return;
    await cluster('down').catch(() => undefined);
    if (routeLocalnet !== undefined) writeFileSync(ROUTE_LOCALNET, routeLocalnet);
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it.skipIf(skip)('spreads requests over the ready pods from 127.0.0.1 and each node address, and follows a scale-up', { timeout: 300_000 }, async () => {
    expect(upOutput).toContain(`kube-proxy: ${mode} mode`);
    const file = path.join(dir, 'web.yaml');
    writeFileSync(file, manifest);
    await kubectl('apply', '-f', file);
    const readyIPs = async () => {
      const slices = JSON.parse(await kubectl('get', 'endpointslices', '-l', 'kubernetes.io/service-name=web', '-o', 'json')).items;
      return slices.flatMap((s: any) => (s.endpoints ?? []).filter((e: any) => e.conditions?.ready).map((e: any) => e.addresses[0]));
    };
    await eventually(async () => (await readyIPs()).length === 3, 'three ready endpoints', 120_000);
    const nodePort = Number(await kubectl('get', 'service', 'web', '-o', 'jsonpath={.spec.ports[0].nodePort}'));
    const pods = (await kubectl('get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].metadata.name}')).trim().split(/\s+/).sort();
    expect(pods).toHaveLength(3);

    // Each proxy converges within its min sync period (in userspace mode every node has its own): wait until every
    // pod has answered once through each address.
    for (const host of ['127.0.0.1', '127.0.1.1', '127.0.1.2']) {
      await eventually(async () => {
        const seen = new Set<string>();
        for (let i = 0; i < 12; i++) seen.add(await get(host, nodePort));
        return pods.every((p) => seen.has(p));
      }, `all three pods behind ${host}:<nodePort>`, 30_000);
    }

    for (const [host, n] of [['127.0.0.1', 300], ['127.0.1.1', 300], ['127.0.1.2', 300]] as const) {
      const counts: Record<string, number> = {};
      for (let i = 0; i < n; i++) { const who = await get(host, nodePort); counts[who] = (counts[who] ?? 0) + 1; }
      expect(Object.keys(counts).sort(), host).toEqual(pods);
      // Round-robin gives exactly n/3 each; iptables' random choice stays well within half to double that.
      for (const c of Object.values(counts)) expect(c, `${host}: ${JSON.stringify(counts)}`).toBeGreaterThan(n / 6);
    }

    await kubectl('scale', 'deployment', 'web', '--replicas=5');
    await eventually(async () => (await readyIPs()).length === 5, 'five ready endpoints', 120_000);
    const five = (await kubectl('get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].metadata.name}')).trim().split(/\s+/).sort();
    await eventually(async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 30; i++) seen.add(await get('127.0.0.1', nodePort));
      return five.every((p) => seen.has(p));
    }, 'all five pods behind the NodePort', 30_000);

    // A failing readiness probe takes a pod out: its endpoint turns not ready and it gets no more requests.
    const [sick] = five;
    const sickIP = (await kubectl('get', 'pod', sick, '-o', 'jsonpath={.status.podIP}')).trim();
    const dockerHost = /DOCKER_HOST=(\S+)/.exec((await cluster('env')).stdout)![1];
    const docker = (...a: string[]) => execFileSync('docker', a, { encoding: 'utf8', env: { ...process.env, DOCKER_HOST: dockerHost } });
    const container = docker('ps', '-q', '--filter', `label=io.kubernetes.pod.name=${sick}`, '--filter', 'label=io.kubernetes.container.name=httpd').trim().split('\n')[0];
    expect(container, `the httpd container of ${sick}`).toBeTruthy();
    docker('exec', container, 'rm', '/www/ready');
    await eventually(async () => { const ips = await readyIPs(); return ips.length === 4 && !ips.includes(sickIP); }, `${sick} out of the ready endpoints`, 60_000);
    await eventually(async () => {
      for (let i = 0; i < 40; i++) if (await get('127.0.0.1', nodePort) === sick) return false;
      return true;
    }, `no more requests to ${sick}`, 30_000);
    expect((await kubectl('get', 'pod', sick, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')).trim()).toBe('False');
    docker('exec', container, 'touch', '/www/ready');
    await eventually(async () => (await readyIPs()).length === 5, `${sick} ready again`, 60_000);

    // ClientIP affinity pins a client (127.0.0.1 here) to one pod.
    await kubectl('patch', 'service', 'web', '-p', '{"spec":{"sessionAffinity":"ClientIP"}}');
    await eventually(async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 20; i++) seen.add(await get('127.0.0.1', nodePort));
      return seen.size === 1;
    }, 'ClientIP affinity', 30_000);
  });

  it.skipIf(skip || mode !== 'iptables')('lets a pod reach the ClusterIP, and refuses a ClusterIP with no endpoints at once', { timeout: 180_000 }, async () => {
    await kubectl('patch', 'service', 'web', '-p', '{"spec":{"sessionAffinity":"None"}}');
    writeFileSync(path.join(dir, 'empty.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: { name: empty }\nspec:\n  selector: { app: nothing }\n  ports: [{ port: 80 }]\n');
    await kubectl('apply', '-f', path.join(dir, 'empty.yaml'));
    const webIP = (await kubectl('get', 'service', 'web', '-o', 'jsonpath={.spec.clusterIP}')).trim();
    const emptyIP = (await kubectl('get', 'service', 'empty', '-o', 'jsonpath={.spec.clusterIP}')).trim();
    const ready = JSON.parse(await kubectl('get', 'endpointslices', '-l', 'kubernetes.io/service-name=web', '-o', 'json')).items
      .flatMap((sl: any) => (sl.endpoints ?? []).filter((e: any) => e.conditions?.ready).map((e: any) => e.addresses[0]));
    // Network safety: no pod sends to the service range before the REJECT of the range, the REJECT of the empty
    // Service and the DNAT of web's ClusterIP to its pods are installed.
    await eventually(() => {
      const nat = execFileSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' });
      const filter = execFileSync('iptables-save', ['-t', 'filter'], { encoding: 'utf8' });
      return filter.includes('-A KUBE-SERVICES -d 10.96.0.0/12 -m comment --comment "reject traffic to the service range not translated to an endpoint" -j REJECT')
        && filter.includes('-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES')
        && new RegExp(`-A KUBE-SERVICES -d ${emptyIP.replace(/\./g, '\\.')}/32 .*default/empty has no endpoints.* -j REJECT`).test(filter)
        && new RegExp(`-A KUBE-SERVICES -d ${webIP.replace(/\./g, '\\.')}/32 .*-j KUBE-SVC-`).test(nat)
        && ready.every((ip: string) => nat.includes(`--to-destination ${ip}:8080`));
    }, 'the REJECT and DNAT rules for the ClusterIPs', 30_000);
    // By ClusterIP, by the short name and by the FQDN (cluster DNS through the pod's resolv.conf), three each.
    const script = `for t in ${webIP} ${webIP} ${webIP} web web web web.default.svc.cluster.local web.default.svc.cluster.local web.default.svc.cluster.local; do printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 $t 80 | tail -n 1; done; `
      + `t0=$(date +%s); nc -w 3 ${emptyIP} 80 </dev/null; echo "empty-rc=$? in $(( $(date +%s) - t0 ))s"; exec sleep 3600`;
    writeFileSync(path.join(dir, 'client.yaml'), `apiVersion: v1
kind: Pod
metadata: { name: client }
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: k8ts/busybox:latest
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", ${JSON.stringify(script)}]
`);
    await kubectl('apply', '-f', path.join(dir, 'client.yaml'));
    const logs = await eventually(async () => { const l = await kubectl('logs', 'client'); return l.includes('empty-rc=') && l; }, 'the client pod\'s output', 120_000);
    const pods = (await kubectl('get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].metadata.name}')).trim().split(/\s+/);
    const answers = logs.split('\n').filter((l) => pods.includes(l.trim()));
    expect(answers.length, logs).toBe(9);
    expect(new Set(answers).size, logs).toBeGreaterThan(1);
    expect(logs).toMatch(/Connection refused/);
    // Refused, not timed out (nc -w 3 would take 3 s and print no refusal); `date +%s` counts whole seconds.
    expect(logs).toMatch(/empty-rc=1 in [012]s/);
    // One kube-proxy for the host: each jump from a built-in chain exactly once.
    const nat = execFileSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' });
    expect(nat.match(/^-A (PREROUTING|OUTPUT|POSTROUTING) .*-j KUBE-\S+$/gm)).toHaveLength(3);
  });
});
}
