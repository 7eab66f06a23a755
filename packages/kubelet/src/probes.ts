import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { realClock, silentLogger, type Clock, type Container, type Logger, type Pod } from '@k8ts/api';
import type { ContainerRuntime } from './runtime.js';

export type ProbeKind = 'liveness' | 'readiness' | 'startup';
export type ProbeResult = 'success' | 'failure';
export type Probe = NonNullable<Container['livenessProbe']>;

/** Upstream limits probe output kept as the message to 10 KiB. */
const MAX_OUTPUT = 10 * 1024;
const USER_AGENT = 'kube-probe/1.32';

/**
 * Runs one probe once and resolves with its result and upstream's message (the caller prefixes
 * `Liveness probe failed: `). Rejects when the probe cannot run at all (unknown named port, the runtime failing
 * to exec, no handler): upstream's probe *error*, whose result the worker throws away.
 */
export async function runProbe(probe: Probe, ctx: { podIP: string; containerId: string; container: Container; runtime: ContainerRuntime }):
  Promise<{ result: ProbeResult; message: string }> {
  const timeoutMs = Math.max(1, probe.timeoutSeconds ?? 1) * 1000;
  if (probe.exec) return execProbe(probe.exec.command ?? [], ctx.containerId, ctx.runtime, timeoutMs);
  if (probe.httpGet) {
    const get = probe.httpGet;
    const scheme = (get.scheme ?? 'HTTP').toLowerCase();
    const port = resolvePort(get.port, ctx.container);
    const url = new URL(get.path ?? '/', `${scheme}://${joinHostPort(get.host || ctx.podIP, port)}`);
    const headers: Record<string, string> = {};
    for (const h of get.httpHeaders ?? []) headers[h.name.toLowerCase()] = h.value;
    headers['user-agent'] ??= USER_AGENT;
    if (headers.accept === '') delete headers.accept;
    else headers.accept ??= '*/*';
    return httpProbe(url, headers, timeoutMs);
  }
  if (probe.tcpSocket) {
    return tcpProbe(probe.tcpSocket.host || ctx.podIP, resolvePort(probe.tcpSocket.port, ctx.container), timeoutMs);
  }
  if (probe.grpc) return { result: 'failure', message: 'grpc probes are not supported' };
  throw new Error(`missing probe handler for container ${ctx.container.name}`);
}

/** A port number, or a named container port (a numeric string counts as a number, as upstream). */
function resolvePort(port: number | string, container: Container): number {
  let n = typeof port === 'number' ? port : container.ports?.find((p) => p.name === port)?.containerPort;
  if (n === undefined && /^\d+$/.test(String(port))) n = Number(port);
  if (n === undefined) throw new Error(`port "${port}" not found in container ${container.name}`);
  if (!(n > 0 && n < 65536)) throw new Error(`invalid port number: ${n}`);
  return n;
}

function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

async function execProbe(command: string[], containerId: string, runtime: ContainerRuntime, timeoutMs: number):
  Promise<{ result: ProbeResult; message: string }> {
  const timedOut = { result: 'failure' as const, message: `command ${JSON.stringify(command.join(' '))} timed out` };
  const start = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), timeoutMs); });
  try {
    const res = await Promise.race([runtime.exec(containerId, command, timeoutMs), deadline]);
    if (res === 'timeout') return timedOut;
    const output = (res.stdout + res.stderr).slice(0, MAX_OUTPUT);
    return { result: res.exitCode === 0 ? 'success' : 'failure', message: output };
  } catch (err) {
    // The runtime may enforce the timeout itself by failing the exec: that is still a timeout, not an error.
    if (Date.now() - start >= timeoutMs) return timedOut;
    throw new Error(`exec probe in container ${containerId} failed: ${(err as Error).message}`, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}

function httpProbe(url: URL, headers: Record<string, string>, timeoutMs: number): Promise<{ result: ProbeResult; message: string }> {
  return new Promise((resolve) => {
    const finish = (result: ProbeResult, message: string): void => {
      clearTimeout(timer);
      req.destroy();
      resolve({ result, message });
    };
    const fail = (why: string): void => finish('failure', `Get "${url.href}": ${why}`);
    const get = url.protocol === 'https:' ? https.get : http.get;
    // Upstream skips TLS verification and keeps no connections alive between probes.
    const req = get(url, { headers, agent: false, rejectUnauthorized: false }, (res) => {
      const status = res.statusCode ?? 0;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { if (body.length < MAX_OUTPUT) body += chunk; });
      res.on('error', (err) => fail(err.message));
      // Redirects are not followed: any 2xx or 3xx answer counts as healthy.
      res.on('end', () => {
        if (status >= 200 && status < 400) finish('success', body.slice(0, MAX_OUTPUT));
        else finish('failure', `HTTP probe failed with statuscode: ${status}`);
      });
    });
    const timer = setTimeout(() => fail('context deadline exceeded (Client.Timeout exceeded while awaiting headers)'), timeoutMs);
    req.on('error', (err) => fail(err.message));
  });
}

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<{ result: ProbeResult; message: string }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (result: ProbeResult, message: string): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ result, message });
    };
    const timer = setTimeout(() => done('failure', `dial tcp ${joinHostPort(host, port)}: i/o timeout`), timeoutMs);
    socket.once('connect', () => done('success', ''));
    socket.once('error', (err) => done('failure', `dial tcp ${joinHostPort(host, port)}: ${err.message}`));
  });
}

const PROBE_FIELD = { startup: 'startupProbe', liveness: 'livenessProbe', readiness: 'readinessProbe' } as const;
const KINDS: ProbeKind[] = ['startup', 'liveness', 'readiness'];

/** One probe of one container, as upstream's prober worker. */
interface Worker {
  podUid: string;
  kind: ProbeKind;
  container: Container;
  spec: Required<Pick<Probe, 'initialDelaySeconds' | 'periodSeconds' | 'successThreshold' | 'failureThreshold'>> & Probe;
  podIP: string;
  /** '' while the container is not running. */
  containerId: string;
  startedAt: number;
  /** The published result; 'unknown' is upstream's initial startup value (not started yet). */
  result: ProbeResult | 'unknown';
  lastResult?: ProbeResult;
  run: number;
  /** After a liveness/startup failure: no probing until a new container replaces this one. */
  onHold: boolean;
  timer?: unknown;
  busy: boolean;
  /** Bumped on every reset so that a probe in flight for an older container is discarded. */
  generation: number;
}

export interface ProbeManagerOptions {
  runtime: ContainerRuntime;
  clock?: Clock;
  log?: Logger;
  onChange(podUid: string, containerName: string, kind: ProbeKind, result: ProbeResult, message: string): void;
}

/**
 * Runs the liveness, readiness and startup probes of running containers as upstream's prober manager: one
 * worker per container and probe kind, ticking every periodSeconds on the injected clock. A result is
 * published once successThreshold/failureThreshold consecutive probes agree, and `onChange` fires once per
 * published transition (a liveness/startup failure then holds the worker until a new container id).
 */
export class ProbeManager {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly pods = new Map<string, Map<string, Worker>>();
  private stopped = false;

  constructor(private readonly opts: ProbeManagerOptions) {
    this.clock = opts.clock ?? realClock;
    this.log = opts.log ?? silentLogger;
  }

  /**
   * Ensures workers exist for each probed container of the pod with its current container id & start time; stops
   * workers for containers gone/restarted (a new container id resets the worker as upstream). A container that is
   * not running idles its workers at their initial values (readiness 'failure'). Changes made here are not
   * reported through onChange: the caller reads `result()` after syncing.
   */
  sync(pod: Pod, running: { name: string; containerId: string; startedAt: string }[]): void {
    const uid = pod.metadata?.uid;
    if (!uid || this.stopped) return;
    const workers = this.pods.get(uid) ?? new Map<string, Worker>();
    const wanted = new Set<string>();
    for (const container of pod.spec?.containers ?? []) {
      const current = running.find((r) => r.name === container.name);
      for (const kind of KINDS) {
        const probe = container[PROBE_FIELD[kind]];
        if (!probe) continue;
        const key = `${container.name}/${kind}`;
        wanted.add(key);
        let w = workers.get(key);
        if (!w) {
          w = newWorker(uid, kind, container, probe);
          workers.set(key, w);
        }
        w.podIP = pod.status?.podIP ?? '';
        if ((current?.containerId ?? '') !== w.containerId) this.reset(w, current);
        // A pod being deleted must not be restarted by a failing probe (upstream: quiet shutdown).
        if (pod.metadata?.deletionTimestamp && kind !== 'readiness' && !w.onHold) {
          this.clock.clearTimeout(w.timer);
          w.onHold = true;
          w.result = 'success';
        }
      }
    }
    for (const [key, w] of workers) {
      if (!wanted.has(key)) { this.clock.clearTimeout(w.timer); workers.delete(key); }
    }
    if (workers.size) this.pods.set(uid, workers);
    else this.pods.delete(uid);
  }

  /** Current result for a container's probe kind (undefined when it has no such probe). A startup probe reads 'failure' until it has succeeded. */
  result(podUid: string, containerName: string, kind: ProbeKind): ProbeResult | undefined {
    const w = this.pods.get(podUid)?.get(`${containerName}/${kind}`);
    if (!w) return undefined;
    return w.result === 'unknown' ? 'failure' : w.result;
  }

  /** Stops every worker of a pod. */
  remove(podUid: string): void {
    for (const w of this.pods.get(podUid)?.values() ?? []) {
      this.clock.clearTimeout(w.timer);
      w.generation++; // drops a probe still in flight
    }
    this.pods.delete(podUid);
  }

  /** Stops every worker; later syncs are ignored. */
  stop(): void {
    for (const uid of [...this.pods.keys()]) this.remove(uid);
    this.stopped = true;
  }

  /** Starts the worker over for a new container (or idles it when none runs), from the kind's initial value. */
  private reset(w: Worker, current: { containerId: string; startedAt: string } | undefined): void {
    this.clock.clearTimeout(w.timer);
    // No onChange here: the caller of sync() reads the reset results itself.
    Object.assign(w, {
      containerId: current?.containerId ?? '', startedAt: Date.parse(current?.startedAt ?? '') || this.clock.now(),
      result: initialResult(w.kind), lastResult: undefined, run: 0, onHold: false, busy: false, generation: w.generation + 1,
    });
    if (!current) return;
    const delay = w.startedAt + w.spec.initialDelaySeconds * 1000 - this.clock.now();
    w.timer = this.clock.setTimeout(() => this.tick(w), Math.max(0, delay));
  }

  private tick(w: Worker): void {
    w.timer = this.clock.setTimeout(() => this.tick(w), w.spec.periodSeconds * 1000);
    void this.probe(w);
  }

  private async probe(w: Worker): Promise<void> {
    if (w.busy || w.onHold || !w.containerId || this.stopped) return;
    if (this.clock.now() < w.startedAt + w.spec.initialDelaySeconds * 1000) return;
    const startup = this.pods.get(w.podUid)?.get(`${w.container.name}/startup`);
    const started = !startup || startup.result === 'success';
    // The startup probe runs until it succeeds; the other probes wait for that.
    if (w.kind === 'startup' ? started : !started) return;
    const generation = w.generation;
    w.busy = true;
    let outcome: { result: ProbeResult; message: string };
    try {
      outcome = await runProbe(w.spec, { podIP: w.podIP, containerId: w.containerId, container: w.container, runtime: this.opts.runtime });
    } catch (err) {
      // Upstream throws away the result of a probe that errored.
      this.log.debug({ err, pod: w.podUid, container: w.container.name, probe: w.kind }, 'probe errored');
      return;
    } finally {
      if (w.generation === generation) w.busy = false;
    }
    if (w.generation === generation && !this.stopped) this.record(w, outcome.result, outcome.message);
  }

  private record(w: Worker, result: ProbeResult, message: string): void {
    if (w.lastResult === result) w.run++;
    else { w.lastResult = result; w.run = 1; }
    if (w.run < (result === 'failure' ? w.spec.failureThreshold : w.spec.successThreshold)) return;
    const changed = w.result !== result;
    w.result = result;
    if (w.kind !== 'readiness' && result === 'failure') {
      // The kubelet restarts the container; probing resumes with the new container id.
      w.onHold = true;
      w.run = 0;
    }
    if (!changed) return;
    this.emit(w, result, message);
    if (w.kind === 'startup' && result === 'success') {
      // Started: find readiness out now instead of a period later (upstream's manual trigger).
      const readiness = this.pods.get(w.podUid)?.get(`${w.container.name}/readiness`);
      if (readiness) void this.probe(readiness);
    }
  }

  private emit(w: Worker, result: ProbeResult, message: string): void {
    this.log.debug({ pod: w.podUid, container: w.container.name, probe: w.kind, result }, 'probe result changed');
    try {
      this.opts.onChange(w.podUid, w.container.name, w.kind, result, message);
    } catch (err) {
      this.log.error({ err, pod: w.podUid, container: w.container.name, probe: w.kind }, 'probe change handler failed');
    }
  }
}

function initialResult(kind: ProbeKind): Worker['result'] {
  return kind === 'readiness' ? 'failure' : kind === 'liveness' ? 'success' : 'unknown';
}

function newWorker(podUid: string, kind: ProbeKind, container: Container, probe: Probe): Worker {
  const spec = {
    ...probe,
    initialDelaySeconds: probe.initialDelaySeconds ?? 0,
    periodSeconds: Math.max(1, probe.periodSeconds ?? 10),
    // Validation forces 1 for liveness and startup.
    successThreshold: kind === 'readiness' ? Math.max(1, probe.successThreshold ?? 1) : 1,
    failureThreshold: Math.max(1, probe.failureThreshold ?? 3),
  };
  return {
    podUid, kind, container, spec, podIP: '', containerId: '', startedAt: 0, result: initialResult(kind),
    run: 0, onHold: false, busy: false, generation: 0,
  };
}
