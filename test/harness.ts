import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { ApiClient, SharedInformerFactory } from '@k8ts/api';
import { buildApp, type AppOptions } from '@k8ts/apiserver';
import {
  EndpointsController, EndpointSliceController, GarbageCollector, NamespaceController, PodGCController, ReplicaSetController,
  ServiceAccountsController, ServiceLBController, JobController, CronJobController, TTLAfterFinishedController,
  DisruptionController, PersistentVolumeController, LocalPathProvisioner,
} from '@k8ts/controller-manager';
// @ts-expect-error plain JS module shared with scripts/cluster
import { freePort, startEtcd } from '../scripts/lib/processes.mjs';

const execFileP = promisify(execFile);

export interface TestEtcd { endpoint: string; stop(): Promise<void> }

/** A real etcd on free loopback ports with a temporary data dir, removed on stop. */
export async function startTestEtcd(): Promise<TestEtcd> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'k8ts-etcd-'));
  const etcd = await startEtcd({ dataDir });
  return {
    endpoint: etcd.endpoint,
    stop: async () => { await etcd.stop(); rmSync(dataDir, { recursive: true, force: true }); },
  };
}

export interface TestApiserver { url: string; app: FastifyInstance; etcd: TestEtcd; stop(): Promise<void> }

/** An in-process apiserver on 127.0.0.1:<free port> over its own real etcd. */
export async function startTestApiserver(opts: Partial<AppOptions> = {}): Promise<TestApiserver> {
  const etcd = await startTestEtcd();
  const app = await buildApp({ etcdServers: [etcd.endpoint], ...opts });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  return { url, app, etcd, stop: async () => { await app.close(); await etcd.stop(); } };
}

export interface Reply { status: number; body: any; headers: Headers }

/** One HTTP request against the test server; JSON bodies are sent and parsed. */
export async function call(base: string, method: string, path: string, body?: unknown,
  headers: Record<string, string> = {}): Promise<Reply> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const h = init.headers as Record<string, string>;
    if (h['content-type'] === '') {
      // No Content-Type at all, as `kubectl scale --current-replicas` sends (a byte body gets none from fetch).
      delete h['content-type'];
      init.body = new TextEncoder().encode(text);
    } else {
      init.body = text;
      h['content-type'] ??= 'application/json';
    }
  }
  const res = await fetch(base + path, init);
  const text = await res.text();
  let parsed: unknown = text;
  try { parsed = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** Reads a watch stream, handing each event to `onEvent`; resolves when the server ends it or `signal` aborts. */
export async function readWatch(url: string, onEvent: (ev: { type: string; object: any }) => boolean | void,
  opts: { signal?: AbortSignal; headers?: Record<string, string> } = {}): Promise<void> {
  const res = await fetch(url, { signal: opts.signal, headers: opts.headers });
  if (!res.body) return;
  const decoder = new TextDecoder();
  let buf = '';
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line && onEvent(JSON.parse(line)) === true) return;
      }
    }
  } catch (err) {
    if ((err as Error).name !== 'AbortError') throw err;
  }
}

/** Polls `fn` until it returns a truthy value or the deadline passes. */
export async function eventually<T>(fn: () => Promise<T> | T, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) { last = err; }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface TestKubectl {
  /** Runs the real kubectl against the server; stdout, or on failure an Error carrying stderr. */
  (...args: string[]): Promise<string>;
  /** A file in the kubectl's scratch directory, written with `text`; returns its path. */
  file(name: string, text: string): string;
  dir: string;
  cleanup(): void;
}

/** The real kubectl (on PATH) with its own kubeconfig and cache pointing at `server`. */
export function testKubectl(server: string): TestKubectl {
  const dir = mkdtempSync(path.join(tmpdir(), 'k8ts-kubectl-'));
  const kubeconfig = path.join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, [
    'apiVersion: v1', 'kind: Config', 'current-context: test',
    'clusters:', '- name: test', '  cluster:', `    server: ${server}`,
    'contexts:', '- name: test', '  context:', '    cluster: test', '    user: test',
    'users:', '- name: test', '  user: {}', '',
  ].join('\n'));
  const env = { ...process.env, KUBECONFIG: kubeconfig, HOME: dir };
  const run = async (...args: string[]): Promise<string> => {
    try {
      return (await execFileP('kubectl', [`--cache-dir=${dir}/cache`, ...args], { env, timeout: 60_000 })).stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`kubectl ${args.join(' ')} failed: ${e.stderr || e.message}`, { cause: err });
    }
  };
  return Object.assign(run, {
    dir,
    file: (name: string, text: string) => { const f = path.join(dir, name); writeFileSync(f, text); return f; },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  });
}

export interface TestControllers { client: ApiClient; stop(): Promise<void> }

/**
 * The controller manager's controllers, in process, against `url` (one shared informer factory, no leader
 * election), with short periods so that tests need not wait upstream's: the namespace controller's 5 s grace,
 * the pod GC's 20 s period and 40 s quarantine, the garbage collector's 30 s discovery resync.
 */
export async function startTestControllers(url: string, names: string[] = ['replicaset', 'garbagecollector', 'namespace', 'serviceaccount', 'podgc'],
  opts: { localPathDir?: string } = {}): Promise<TestControllers> {
  const client = new ApiClient({ server: url });
  const informers = new SharedInformerFactory({ client });
  const ac = new AbortController();
  const all: Record<string, () => { run(signal: AbortSignal, workers: number): Promise<void> }> = {
    replicaset: () => new ReplicaSetController({ client, informers }),
    garbagecollector: () => new GarbageCollector({ client, informers, resyncMs: 500 }),
    namespace: () => new NamespaceController({ client, informers, deletionGracePeriodMs: 300 }),
    serviceaccount: () => new ServiceAccountsController({ client, informers }),
    podgc: () => new PodGCController({ client, informers, gcCheckPeriodMs: 200, quarantineMs: 500 }),
    endpoint: () => new EndpointsController({ client, informers }),
    endpointslice: () => new EndpointSliceController({ client, informers }),
    'service-lb-controller': () => new ServiceLBController({ client, informers }),
    // Pod events batched for 50 ms (upstream 1 s) and 200 ms pod failure backoff (upstream 10 s).
    job: () => new JobController({ client, informers, syncBatchPeriodMs: 50, podFailureBackoffMs: 200 }),
    cronjob: () => new CronJobController({ client, informers }),
    'ttl-after-finished': () => new TTLAfterFinishedController({ client, informers }),
    disruption: () => new DisruptionController({ client, informers }),
    'persistentvolume-binder': () => new PersistentVolumeController({ client, informers, syncPeriodMs: 1000 }),
    'local-path-provisioner': () => new LocalPathProvisioner({ client, informers, dir: opts.localPathDir }),
  };
  const built = names.map((n) => all[n]());
  informers.start(ac.signal);
  const running = Promise.all(built.map((c) => c.run(ac.signal, 2)));
  await informers.waitForCacheSync(ac.signal);
  return { client, stop: async () => { ac.abort(); await running; await informers.shutdown(); await client.close(); } };
}

export interface ControlPlaneCluster {
  dir: string;
  /** KUBECONFIG and HOME for the real kubectl. */
  env: NodeJS.ProcessEnv;
  /** The real kubectl; resolves with stdout, rejects (with stderr on the error) when it fails. */
  kubectl(...args: string[]): Promise<string>;
  /** The real kubectl's exit code and output, whether it failed or not. */
  kubectlStatus(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  file(name: string, text: string): string;
  down(): Promise<void>;
}

/** `scripts/cluster up --detach --nodes 0` in a temporary state dir (the control plane, no kubelets), for kubectl tests. */
export function startControlPlaneCluster(prefix: string): Promise<ControlPlaneCluster> {
  return startLocalCluster(prefix, { nodes: 0 });
}

/** What `up` printed and recorded about a local cluster (from its pids.json), refreshed by `restart`. */
export interface LocalClusterInfo {
  upOutput: string;
  stateDir: string;
  /** The kubelets label their containers io.k8ts.cluster=<clusterName>. */
  clusterName: string;
  apiserverUrl: string;
  /** The Docker engine the kubelets use (`unix:///…`); undefined without nodes. */
  dockerHost?: string;
  /** The ingress controller's ports on 127.0.0.1 and each node address; undefined without nodes. */
  ingress?: { http: number; https: number };
  /** Runs `scripts/cluster <args> --state-dir <its state>`. */
  script(...args: string[]): Promise<{ stdout: string; stderr: string }>;
  /** `down`, then `up` again with the same flags (the apiserver and ingress get new free ports: read them again). */
  restart(): Promise<void>;
}

/**
 * `scripts/cluster up --detach --nodes N` in a temporary state dir, with real kubelets on free ports when N > 0
 * (`--no-build`: the suite has built). `upOutput` is what `up` printed. `down` leaves no pod container of it behind.
 */
export async function startLocalCluster(prefix: string, opts: { nodes: number }): Promise<ControlPlaneCluster & LocalClusterInfo> {
  const root = path.resolve(import.meta.dirname, '..');
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const state = path.join(dir, 'state');
  const nodeArgs = opts.nodes > 0 ? ['--no-build', '--kubelet-port', String(await freePort('127.0.1.1'))] : [];
  const script = (...args: string[]) => execFileP(path.join(root, 'scripts/cluster'), [...args, '--state-dir', state], { timeout: 300_000 });
  const env = { ...process.env, KUBECONFIG: path.join(state, 'kubeconfig'), HOME: dir };
  const kubectlStatus = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await execFileP('kubectl', [`--cache-dir=${dir}/kube-cache`, ...args], { env, timeout: 60_000 });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  };
  // down removes the cluster's pod containers; clean catches what a failed down left, so the shared engine keeps none.
  const down = async () => {
    await script('down').catch(() => undefined);
    if (opts.nodes > 0) await script('clean').catch(() => undefined);
  };
  const cluster = {
    dir, env, kubectlStatus, stateDir: state, script, upOutput: '', clusterName: '', apiserverUrl: '',
    dockerHost: undefined as string | undefined, ingress: undefined as { http: number; https: number } | undefined,
    kubectl: async (...args: string[]) => (await execFileP('kubectl', [`--cache-dir=${dir}/kube-cache`, ...args], { env, timeout: 60_000 })).stdout,
    file: (name: string, text: string) => { const f = path.join(dir, name); writeFileSync(f, text); return f; },
    restart: async () => { await down(); await up(); },
    down: async () => { await down(); rmSync(dir, { recursive: true, force: true }); },
  };
  const up = async () => {
    cluster.upOutput = (await execFileP(path.join(root, 'scripts/cluster'), ['up', '--detach', '--nodes', String(opts.nodes), '--state-dir', state, '--port', '0', ...nodeArgs],
      { timeout: opts.nodes > 0 ? 300_000 : 120_000 })).stdout;
    const recorded = JSON.parse(readFileSync(path.join(state, 'pids.json'), 'utf8')) as {
      clusterName: string; components: { name: string; url: string; ports?: Record<string, number> }[];
    };
    const component = (name: string) => recorded.components.find((c) => c.name === name);
    const ingressPorts = component('ingress')?.ports;
    cluster.clusterName = recorded.clusterName;
    cluster.apiserverUrl = component('apiserver')!.url;
    cluster.dockerHost = component('dockerd')?.url;
    cluster.ingress = ingressPorts ? { http: ingressPorts.http, https: ingressPorts.https } : undefined;
  };
  await up();
  return cluster;
}
