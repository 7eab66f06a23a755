// The end-to-end scenario of a running cluster, as a user lives it: apply a Deployment, a NodePort Service and an
// Ingress; see every replica Running over both nodes and answering through the NodePort and the Ingress; the REST API
// with curl; scale; a rolling update to a locally built image under a request loop that must lose nothing; logs; delete
// everything and see the containers go. One cluster (local processes or compose) and one kubectl (the real one, or
// ours) are its parameters: `describeWebScenario` runs the same steps on whatever `setup` hands it.
import { execFile, spawn } from 'node:child_process';
import http from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JS module shared with scripts/
import { listContainers } from '../../scripts/lib/docker.mjs';
import { eventually } from '../harness.js';

const run = promisify(execFile);

/** A running cluster the scenario drives. Getters may change their answer after `restart`. */
export interface E2eTarget {
  /** The kubectl under test: stdout, or an Error carrying stderr. */
  kubectl(...args: string[]): Promise<string>;
  readonly apiserverUrl: string;
  /** Where NodePorts answer (127.0.0.1 for the local cluster). */
  readonly nodePortHost: string;
  /** The ingress controller's HTTP base URL. */
  readonly ingressUrl: string;
  /** What the ingress controller publishes in an Ingress's `status.loadBalancer.ingress[*].ip`. */
  readonly ingressAddress: RegExp;
  /** The engine the kubelets use (`unix:///…`): images are built there and containers counted there. */
  readonly dockerHost: string;
  /** The labels (`key=value`) every pod container of this cluster carries. */
  readonly containerLabels: string[];
  /** Stops the cluster (its pod containers removed) and starts it again on the same state; absent where not possible. */
  restart?(): Promise<void>;
  teardown(): Promise<void>;
}

const NS = 'e2e';
const IMAGE = 'k8ts/e2e-web';

/** A page served by busybox httpd: the image's version and the pod's hostname (its name); a line on stdout for logs. */
const DOCKERFILE = `FROM k8ts/busybox:latest
ARG VERSION
RUN mkdir -p /www && echo "$VERSION" > /www/version
CMD ["sh", "-c", "echo \\"$(cat /www/version) $(hostname)\\" > /www/index.html && echo \\"serving $(cat /www/version) on $(hostname)\\" && exec httpd -f -p 8080 -h /www"]
`;

const manifests = (replicas: number) => `apiVersion: v1
kind: Namespace
metadata: { name: ${NS} }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: ${NS} }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: web } }
  strategy: { type: RollingUpdate, rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }
  template:
    metadata: { labels: { app: web } }
    spec:
      terminationGracePeriodSeconds: 3
      topologySpreadConstraints:
      - { maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: { matchLabels: { app: web } } }
      containers:
      - name: web
        image: ${IMAGE}:v1
        imagePullPolicy: IfNotPresent
        ports: [{ containerPort: 8080 }]
        readinessProbe: { httpGet: { path: /, port: 8080 }, periodSeconds: 1 }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: ${NS} }
spec:
  type: NodePort
  selector: { app: web }
  ports: [{ port: 80, targetPort: 8080 }]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: web, namespace: ${NS} }
spec:
  rules:
  - host: web.e2e.test
    http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }] }
`;

const POD_YAML = `apiVersion: v1
kind: Pod
metadata:
  name: from-curl
  namespace: ${NS}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: k8ts/busybox:latest
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "echo made with curl; exec sleep 3600"]
`;

/** One GET on a fresh connection (no keep-alive: each request may land on another pod); the body, or an Error. */
export function get(url: string, host?: string, timeoutMs = 5_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers: { connection: 'close', ...(host ? { host } : {}) }, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** The same steps on the cluster and kubectl that `setup` gives (its teardown runs after them). */
export function describeWebScenario(title: string, setup: () => Promise<E2eTarget>): void {
  describe(title, { timeout: 120_000 }, () => {
    let t: E2eTarget;
    let dir = '';
    let nodePort = 0;
    const k = (...args: string[]) => t.kubectl(...args);
    const file = (name: string, text: string) => { const f = path.join(dir, name); writeFileSync(f, text); return f; };
    const docker = (...args: string[]) => run('docker', ['-H', t.dockerHost, ...args], { timeout: 120_000 });
    const nodePortUrl = () => `http://${t.nodePortHost}:${nodePort}/`;
    const viaIngress = () => get(`${t.ingressUrl}/`, 'web.e2e.test');
    /** The web pods: name, phase, node, ready, image (terminating ones left out). */
    const webPods = async () => {
      const out = await k('get', 'pods', '-n', NS, '-l', 'app=web', '-o',
        'jsonpath={range .items[*]}{.metadata.name} {.status.phase} {.spec.nodeName} {.status.containerStatuses[0].ready} {.spec.containers[0].image} {.status.containerStatuses[0].containerID} {.metadata.deletionTimestamp}{"\\n"}{end}');
      return out.split('\n').filter(Boolean).map((l) => l.split(' ')).filter((f) => !f[6])
        .map(([name, phase, node, ready, image, containerID]) => ({ name, phase, node, ready: ready === 'true', image, containerID }));
    };
    const settled = async (n: number, image: string) => {
      let last: unknown;
      try {
        return await eventually(async () => {
          const pods = await webPods();
          last = pods;
          return pods.length === n && pods.every((p) => p.phase === 'Running' && p.ready && p.image === image) && pods;
        }, `${n} ready web pods of ${image}`, 90_000);
      } catch (err) {
        throw new Error(`${(err as Error).message}; last seen: ${JSON.stringify(last)}`, { cause: err });
      }
    };
    /**
     * Requests until every one of `names` has answered, through `fetchOnce` (bounded: 30 s, 3,000 requests): a pod just
     * Ready joins the proxies' endpoints moments later.
     */
    const answersFrom = async (names: string[], fetchOnce: () => Promise<{ status: number; body: string }>, version: string) => {
      const seen = new Set<string>();
      const until = Date.now() + 30_000;
      for (let i = 0; i < 3_000 && seen.size < names.length && Date.now() < until; i++) {
        if (i >= names.length * 10) await new Promise((r) => setTimeout(r, 10));
        const res = await fetchOnce();
        expect(res.status).toBe(200);
        const [v, host] = res.body.trim().split(' ');
        expect(v).toBe(version);
        seen.add(host);
      }
      return [...seen].sort();
    };
    const ourContainers = async (extra: string[] = []) =>
      (await listContainers(t.dockerHost, [...t.containerLabels, ...extra])) as { Id: string; State: string }[];

    beforeAll(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'k8ts-e2e-'));
      t = await setup();
      // The build context is the Dockerfile alone; FROM a local image, so nothing is pulled.
      const context = path.join(dir, 'image');
      mkdirSync(context);
      writeFileSync(path.join(context, 'Dockerfile'), DOCKERFILE);
      for (const v of ['v1', 'v2']) await docker('build', '-q', '--build-arg', `VERSION=${v}`, '-t', `${IMAGE}:${v}`, context);
    }, 600_000);

    afterAll(async () => {
      await t?.teardown();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }, 180_000);

    it('applies a Deployment, a NodePort Service and an Ingress: every replica Running, over both nodes', async () => {
      const out = await k('apply', '-f', file('web.yaml', manifests(2)));
      expect(out).toContain('deployment.apps/web created');
      expect(out).toContain('ingress.networking.k8s.io/web created');
      expect(await k('rollout', 'status', 'deployment/web', '-n', NS, '--timeout=90s')).toContain('successfully rolled out');
      const pods = await settled(2, `${IMAGE}:v1`);
      expect(pods.map((p) => p.node).sort()).toEqual(['node-1', 'node-2']);
      nodePort = Number(await k('get', 'service', 'web', '-n', NS, '-o', 'jsonpath={.spec.ports[0].nodePort}'));
      expect(nodePort).toBeGreaterThanOrEqual(30000);
    });

    it('the NodePort and the Ingress answer from every pod', async () => {
      const names = (await webPods()).map((p) => p.name).sort();
      await eventually(async () => (await get(nodePortUrl())).status === 200, 'the NodePort answering');
      expect(await answersFrom(names, () => get(nodePortUrl()), 'v1')).toEqual(names);
      await eventually(async () => (await viaIngress()).status === 200, 'the Ingress answering');
      expect(await answersFrom(names, viaIngress, 'v1')).toEqual(names);
      expect(await k('get', 'ingress', 'web', '-n', NS, '-o', 'jsonpath={.status.loadBalancer.ingress[*].ip}')).toMatch(t.ingressAddress);
    });

    it('serves the REST API to curl: list, watch, and a pod created from YAML', async () => {
      const curl = async (...args: string[]) => (await run('curl', ['-sS', '--max-time', '20', ...args])).stdout;
      const list = JSON.parse(await curl(`${t.apiserverUrl}/api/v1/namespaces/${NS}/pods`));
      expect(list.kind).toBe('PodList');
      expect(list.items.map((p: { metadata: { name: string } }) => p.metadata.name)).toEqual(expect.arrayContaining((await webPods()).map((p) => p.name)));
      // A watch from the list's resourceVersion, read while curl streams it.
      const watch = spawn('curl', ['-sSN', '--max-time', '60', `${t.apiserverUrl}/api/v1/namespaces/${NS}/pods?watch=true&resourceVersion=${list.metadata.resourceVersion}&fieldSelector=metadata.name%3Dfrom-curl`]);
      let stream = '';
      watch.stdout.setEncoding('utf8').on('data', (c: string) => { stream += c; });
      try {
        const created = JSON.parse(await curl('-XPOST', '-H', 'Content-Type: application/yaml', '--data-binary', `@${file('pod.yaml', POD_YAML)}`,
          `${t.apiserverUrl}/api/v1/namespaces/${NS}/pods`));
        expect(created).toMatchObject({ kind: 'Pod', metadata: { name: 'from-curl', namespace: NS } });
        const events = () => stream.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; object: { status?: { phase?: string } } });
        await eventually(() => events().some((e) => e.type === 'MODIFIED' && e.object.status?.phase === 'Running'), 'the watch showing from-curl Running', 90_000);
        expect(events()[0].type).toBe('ADDED');
      } finally {
        watch.kill();
      }
      expect(await eventually(async () => { const l = await k('logs', 'from-curl', '-n', NS); return l.includes('made') && l; }, 'from-curl logs')).toBe('made with curl\n');
      const deleted = JSON.parse(await curl('-XDELETE', `${t.apiserverUrl}/api/v1/namespaces/${NS}/pods/from-curl`));
      expect(deleted.metadata.name).toBe('from-curl');
      const missing = JSON.parse(await curl(`${t.apiserverUrl}/api/v1/namespaces/${NS}/pods/nope`));
      expect(missing).toMatchObject({ kind: 'Status', code: 404, reason: 'NotFound', message: 'pods "nope" not found' });
    });

    it('scales up and down', async () => {
      expect(await k('scale', 'deployment/web', '-n', NS, '--replicas=4')).toBe('deployment.apps/web scaled\n');
      const four = await settled(4, `${IMAGE}:v1`);
      expect(four.filter((p) => p.node === 'node-1')).toHaveLength(2);
      const names = four.map((p) => p.name).sort();
      expect(await answersFrom(names, () => get(nodePortUrl()), 'v1')).toEqual(names);
      expect(await k('scale', 'deployment/web', '-n', NS, '--replicas=2')).toBe('deployment.apps/web scaled\n');
      const two = await settled(2, `${IMAGE}:v1`);
      expect(two.map((p) => p.node).sort()).toEqual(['node-1', 'node-2']);
      await eventually(async () => (await k('get', 'pods', '-n', NS, '-l', 'app=web', '--no-headers')).trim().split('\n').length === 2, 'the scaled-down pods gone', 60_000);
    });

    it('rolls out a new image built with docker build, under a request loop that loses nothing', async () => {
      const results = { nodePort: { ok: 0, failed: [] as string[], versions: [] as string[] }, ingress: { ok: 0, failed: [] as string[], versions: [] as string[] } };
      let stop = false;
      const loop = async (r: typeof results.nodePort, once: () => Promise<{ status: number; body: string }>) => {
        // Bounded: at most 3,000 requests or 120 s, whichever first.
        const until = Date.now() + 120_000;
        for (let i = 0; i < 3_000 && !stop && Date.now() < until; i++) {
          try {
            const res = await once();
            if (res.status !== 200) { r.failed.push(`${res.status} ${res.body.slice(0, 80)}`); continue; }
            r.ok++;
            const v = res.body.split(' ')[0];
            if (r.versions.at(-1) !== v) r.versions.push(v);
          } catch (err) {
            r.failed.push((err as Error).message);
          }
          await new Promise((res) => setTimeout(res, 20));
        }
      };
      const loops = [loop(results.nodePort, () => get(nodePortUrl())), loop(results.ingress, viaIngress)];
      try {
        await eventually(() => results.nodePort.ok > 5 && results.ingress.ok > 5, 'both loops answered');
        expect(await k('set', 'image', 'deployment/web', '-n', NS, `web=${IMAGE}:v2`)).toBe('deployment.apps/web image updated\n');
        expect(await k('rollout', 'status', 'deployment/web', '-n', NS, '--timeout=110s')).toContain('successfully rolled out');
        await settled(2, `${IMAGE}:v2`);
        // The last old pods are still in their grace period: wait until both paths answer v2 only.
        await eventually(() => results.nodePort.versions.at(-1) === 'v2' && results.ingress.versions.at(-1) === 'v2', 'v2 everywhere', 30_000);
        const okBefore = results.nodePort.ok + results.ingress.ok;
        await eventually(() => results.nodePort.ok + results.ingress.ok > okBefore + 20, 'more answers after the rollout');
      } finally {
        stop = true;
        await Promise.all(loops);
      }
      expect(results.nodePort.failed).toEqual([]);
      expect(results.ingress.failed).toEqual([]);
      // v1 until the new pods took over, then v2 (mixed while both ran, and while an old pod in its grace period still
      // answers a kept-alive connection); only v2 once the old pods are gone, checked below.
      for (const r of [results.nodePort, results.ingress]) {
        expect(r.versions[0]).toBe('v1');
        expect(r.versions).toContain('v2');
      }
      console.log(`rolling update: ${results.nodePort.ok} NodePort and ${results.ingress.ok} Ingress requests answered, none failed`);
      // Once the old pods have finished their grace period and gone, only v2 answers, from every new pod.
      await eventually(async () => (await k('get', 'pods', '-n', NS, '-l', 'app=web', '--no-headers')).trim().split('\n').length === 2, 'the old pods gone', 60_000);
      const names = (await webPods()).map((p) => p.name).sort();
      expect(await answersFrom(names, () => get(nodePortUrl()), 'v2')).toEqual(names);
      expect(await answersFrom(names, viaIngress, 'v2')).toEqual(names);
    });

    it('shows the pods\' logs with kubectl logs', async () => {
      const pods = await webPods();
      for (const p of pods) expect(await k('logs', p.name, '-n', NS)).toBe(`serving v2 on ${p.name}\n`);
      expect(await k('logs', 'deployment/web', '-n', NS)).toMatch(/^serving v2 on web-/);
    });

    it('stops with its pod containers removed, and starts again with the same objects and their pods running', async (ctx) => {
      if (!t.restart) ctx.skip();
      const before = await webPods();
      await t.restart!();
      // What down removed the kubelets start again: the same pods (names, nodes), new containers. Until the kubelets
      // have written their status the API still says what it said before down, so wait for the new container IDs.
      const ids = new Set(before.map((p) => p.containerID));
      const after = await eventually(async () => {
        const pods = await settled(2, `${IMAGE}:v2`);
        return pods.every((p) => p.containerID && !ids.has(p.containerID)) && pods;
      }, 'the pods running in new containers', 90_000);
      expect(after.map((p) => `${p.name} ${p.node}`).sort()).toEqual(before.map((p) => `${p.name} ${p.node}`).sort());
      const names = after.map((p) => p.name).sort();
      // The Service follows the new pod addresses (the old ones may belong to other containers by now), as a user
      // would check with kubectl; kube-proxy then takes up to its minimum sync period, so a clean run is waited for.
      const ips = (await k('get', 'pods', '-n', NS, '-l', 'app=web', '-o', 'jsonpath={.items[*].status.podIP}')).trim().split(' ').sort();
      const readyEndpoints = async () => (await k('get', 'endpointslices', '-n', NS, '-l', 'kubernetes.io/service-name=web', '-o',
        'jsonpath={range .items[*].endpoints[*]}{.addresses[0]} {.conditions.ready}{"\\n"}{end}')).split('\n').filter((l) => l.endsWith(' true')).map((l) => l.split(' ')[0]).sort();
      await eventually(async () => JSON.stringify(await readyEndpoints()) === JSON.stringify(ips), `the Service's ready endpoints at ${ips.join(', ')}`, 30_000);
      await eventually(async () => (await get(nodePortUrl())).status === 200, 'the NodePort answering again', 30_000);
      expect(await eventually(() => answersFrom(names, () => get(nodePortUrl()), 'v2'), 'every NodePort answer from the new pods', 30_000)).toEqual(names);
    });

    it('deletes everything: the namespace goes, and with it every container of its pods', async () => {
      expect((await ourContainers([`io.kubernetes.pod.namespace=${NS}`])).length).toBeGreaterThanOrEqual(4); // 2 pods: sandbox + web each
      expect(await k('delete', 'namespace', NS, '--timeout=90s')).toBe(`namespace "${NS}" deleted\n`);
      await eventually(async () => (await ourContainers([`io.kubernetes.pod.namespace=${NS}`])).length === 0, 'the namespace\'s containers gone', 60_000);
      await expect(k('get', 'namespace', NS)).rejects.toThrow(/NotFound|not found/);
    });
  });
}
