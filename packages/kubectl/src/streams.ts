import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ApiClient } from '@k8ts/api';
import { CliError } from './errors.js';
import { extraCaCerts } from './extra-ca-certs.js';
import { KUBECTL_VERSION, PLATFORM, type Factory } from './factory.js';
import { impersonationHeaders } from './impersonation.js';

/*
 * The client side of kubectl's streaming subresources: pods/exec and pods/attach over the WebSocket channel
 * protocol (v5.channel.k8s.io, else v4), pods/portforward over a SPDY/3.1 upgrade (portforward.k8s.io).
 */

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const RESIZE = 4;
const CLOSE = 255;

/** What a remote command reads and writes. `stdin` is read only when given; `tty` merges stderr into stdout. */
export interface RemoteCommandOptions {
  stdin?: NodeJS.ReadableStream;
  stdout: (chunk: Buffer) => void;
  stderr: (chunk: Buffer) => void;
  tty: boolean;
  /** Called once the stream is up with a function sending a terminal size (the resize channel). */
  onResize?: (send: (width: number, height: number) => void) => void;
  /** Ends the stream early (its output dropped from then on); the result is then 0. */
  signal?: AbortSignal;
}

/** The connection settings of the factory as options of `ws` and of node:http(s). */
async function connectionOptions(f: Factory): Promise<{ base: URL; headers: Record<string, string | string[]>; tls: Record<string, unknown> }> {
  const cfg = f.clientConfig();
  const headers: Record<string, string | string[]> = {
    'User-Agent': `kubectl/${KUBECTL_VERSION} (${PLATFORM}) kubernetes/k8ts`,
    'Kubectl-Command': f.commandPath,
    ...impersonationHeaders(cfg.impersonate),
  };
  if (cfg.token) headers.Authorization = `Bearer ${cfg.token}`;
  const tls: Record<string, unknown> = {};
  const ca = cfg.ca ?? (cfg.server.startsWith('https:') ? await extraCaCerts() : undefined);
  if (ca) tls.ca = ca;
  if (cfg.cert) tls.cert = cfg.cert;
  if (cfg.key) tls.key = cfg.key;
  if (cfg.insecureSkipVerify) tls.rejectUnauthorized = false;
  return { base: new URL(cfg.server), headers, tls };
}

function url(base: URL, path: string, query: [string, string][], ws: boolean): URL {
  const u = new URL(base.toString().replace(/\/$/, '') + path);
  for (const [k, v] of query) u.searchParams.append(k, v);
  if (ws) u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u;
}

/** A refused upgrade as kubectl reports it: the server's Status as an ApiError, else the status line. */
async function refusal(res: IncomingMessage): Promise<Error> {
  const body = await new Promise<string>((resolve) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => { text += d; });
    res.on('end', () => resolve(text));
    res.on('error', () => resolve(text));
  });
  try {
    const status = JSON.parse(body);
    if (status?.kind === 'Status') {
      const { ApiError } = await import('@k8ts/api');
      return new ApiError(status.code ?? res.statusCode ?? 500, status.reason ?? '', status.message ?? body, status.details);
    }
  } catch { /* not a Status */ }
  return new CliError(`unable to upgrade connection: ${body.trim() || res.statusMessage || `HTTP ${res.statusCode}`}`);
}

/**
 * Runs pods/exec or pods/attach (`path`, with its query) over a WebSocket and resolves with the remote exit code
 * (0 on Success, the ExitCode cause on NonZeroExitCode). Any other failure Status is thrown with its message.
 */
export async function remoteCommand(f: Factory, path: string, query: [string, string][], o: RemoteCommandOptions): Promise<number> {
  const { WebSocket } = await import('ws');
  const { base, headers, tls } = await connectionOptions(f);
  const ws = new WebSocket(url(base, path, query, true), ['v5.channel.k8s.io', 'v4.channel.k8s.io'], { headers, ...tls, perMessageDeflate: false });
  let status: any;
  let stopStdin = (): void => {};
  const closed = new Promise<void>((resolve, reject) => {
    ws.on('unexpected-response', (_req, res) => { refusal(res).then((e) => { reject(e); ws.terminate(); }, reject); });
    ws.on('error', (err) => reject(err));
    ws.on('message', (data: Buffer, isBinary) => {
      const buf = isBinary ? data : Buffer.from(data);
      if (!buf.length) return;
      const payload = buf.subarray(1);
      switch (buf[0]) {
        case STDOUT: if (payload.length) o.stdout(payload); break;
        case STDERR: if (payload.length) o.stderr(payload); break;
        case ERROR: {
          const text = payload.toString('utf8');
          try { status = JSON.parse(text); } catch { status = { status: 'Failure', message: text }; }
          break;
        }
        default: break;
      }
    });
    ws.on('close', () => resolve());
    o.signal?.addEventListener('abort', () => { ws.removeAllListeners('message'); ws.terminate(); resolve(); }, { once: true });
  });
  ws.on('open', () => {
    const v5 = ws.protocol === 'v5.channel.k8s.io';
    const send = (channel: number, data: Buffer | string): void => {
      if (ws.readyState !== ws.OPEN) return;
      ws.send(Buffer.concat([Buffer.from([channel]), Buffer.isBuffer(data) ? data : Buffer.from(data)]));
    };
    o.onResize?.((width, height) => send(RESIZE, JSON.stringify({ Width: width, Height: height })));
    if (o.stdin) {
      const input = o.stdin;
      const onData = (d: Buffer | string): void => send(STDIN, Buffer.isBuffer(d) ? d : Buffer.from(d));
      const onEnd = (): void => { if (v5) send(CLOSE, Buffer.from([STDIN])); };
      input.on('data', onData);
      input.once('end', onEnd);
      stopStdin = () => {
        input.off('data', onData);
        input.off('end', onEnd);
        input.pause();
      };
      input.resume();
    }
  });
  try {
    await closed;
  } finally {
    stopStdin();
  }
  if (o.signal?.aborted) return 0;
  if (!status || status.status === 'Success') return 0;
  if (status.reason === 'NonZeroExitCode') {
    const cause = (status.details?.causes ?? []).find((c: any) => c.reason === 'ExitCode');
    const code = Number(cause?.message);
    return Number.isInteger(code) ? code : 1;
  }
  throw new CliError(status.message ?? 'error stream protocol error: unknown error');
}

/** An HTTP upgrade (`Upgrade: SPDY/3.1` with its stream protocol) of `path`: the raw connection once 101 came. */
export async function upgrade(f: Factory, path: string, protocol: string): Promise<{ socket: Duplex; head: Buffer }> {
  const { base, headers, tls } = await connectionOptions(f);
  const u = url(base, path, [], false);
  const http = u.protocol === 'https:' ? await import('node:https') : await import('node:http');
  return new Promise((resolve, reject) => {
    const req = http.request(u, {
      method: 'POST', ...tls, agent: false,
      headers: { ...headers, Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': protocol },
    });
    req.on('upgrade', (res, socket, head) => {
      if (res.headers['x-stream-protocol-version'] && res.headers['x-stream-protocol-version'] !== protocol) {
        socket.destroy();
        reject(new CliError(`unable to upgrade streaming request: protocol ${String(res.headers['x-stream-protocol-version'])} is not ${protocol}`));
        return;
      }
      resolve({ socket, head });
    });
    req.on('response', (res) => { refusal(res).then(reject, reject); });
    req.on('error', reject);
    req.end();
  });
}

/** The container a streaming command targets: `-c`, else the default-container annotation, else the first (with kubectl's notice). */
export function pickContainer(f: Factory, pod: any, name: string | undefined, quiet = false, err: { write(s: string): unknown } = f.io.err): string {
  if (name) return name;
  const containers = pod.spec?.containers ?? [];
  const annotated = pod.metadata?.annotations?.['kubectl.kubernetes.io/default-container'];
  if (annotated) {
    if ([...containers, ...(pod.spec?.initContainers ?? []), ...(pod.spec?.ephemeralContainers ?? [])].some((c: any) => c.name === annotated)) return annotated;
    err.write(`Default container name "${annotated}" not found in pod ${pod.metadata.name}\n`);
  }
  if (!containers.length) throw new CliError(`pod ${pod.metadata.namespace}/${pod.metadata.name} does not have any containers`);
  if (!quiet && (containers.length > 1 || pod.spec?.initContainers?.length || pod.spec?.ephemeralContainers?.length)) {
    const names = [...containers.map((c: any) => c.name), ...(pod.spec?.initContainers ?? []).map((c: any) => `${c.name} (init)`), ...(pod.spec?.ephemeralContainers ?? []).map((c: any) => `${c.name} (ephem)`)];
    err.write(`Defaulted container "${containers[0].name}" out of: ${names.join(', ')}\n`);
  }
  return containers[0].name;
}

/** kubectl's podcmd.FindOrDefaultContainerByName for attach: `-c` must name a container of the pod; else the default. */
export function findOrDefaultContainer(f: Factory, pod: any, name: string | undefined, quiet = false): any {
  const all = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []), ...(pod.spec?.ephemeralContainers ?? [])];
  if (name) {
    const found = all.find((c: any) => c.name === name);
    if (!found) throw new CliError(`container ${name} not found in pod ${pod.metadata.name}`);
    return found;
  }
  const chosen = pickContainer(f, pod, undefined, quiet);
  return all.find((c: any) => c.name === chosen);
}

const CONTROLLERS = new Set(['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicationController', 'Service']);

/**
 * The pod `POD` or `TYPE/NAME` stands for (polymorphichelpers.AttachablePodForObject): a pod as it is; a controller
 * or service through its selector, the first of its pods by podutils.ActivePods reversed (running and ready first),
 * waiting up to `timeoutMs` (--pod-running-timeout) for one to exist when there is none, as GetFirstPod does.
 * Also returns the object itself (port-forward maps a service's ports).
 */
export async function podFor(f: Factory, client: ApiClient, arg: string, namespace: string, timeoutMs = 60_000): Promise<{ pod: any; obj: any; kind: string }> {
  const slash = arg.indexOf('/');
  const mapper = await f.mapper();
  const mapping = slash < 0 ? mapper.resourceFor('pods') : mapper.resourceFor(arg.slice(0, slash));
  const name = slash < 0 ? arg : arg.slice(slash + 1);
  const { resourceUrl } = await import('./rest-mapper.js');
  const obj = await client.request<any>('GET', resourceUrl(mapping, mapping.namespaced ? namespace : undefined, name));
  if (mapping.kind === 'Pod' && !mapping.group) return { pod: obj, obj, kind: 'Pod' };
  if (!CONTROLLERS.has(mapping.kind)) throw new CliError(`cannot attach to *v1.${mapping.kind}: selector for *v1.${mapping.kind} not implemented`);
  const selector = obj.spec?.selector;
  let labelSelector: string;
  if (mapping.kind === 'Service' || mapping.kind === 'ReplicationController') {
    labelSelector = Object.entries(selector ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(',');
  } else {
    const { selectorString } = await import('./describe/format.js');
    labelSelector = selectorString(selector);
  }
  if (!labelSelector) throw new CliError(`invalid label selector: the ${mapping.kind.toLowerCase()} has no selector`);
  return { pod: await firstPod(client, namespace, labelSelector, timeoutMs), obj, kind: mapping.kind };
}

/** polymorphichelpers.GetFirstPod: the most active pod of a list, else the first one a watch from that list sees. */
async function firstPod(client: ApiClient, namespace: string, labelSelector: string, timeoutMs: number): Promise<any> {
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`;
  const list = await client.request<any>('GET', path, { query: { labelSelector } });
  const pods: any[] = list.items ?? [];
  if (pods.length) return pods.sort(activeFirst)[0];
  const ac = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; ac.abort(); }, timeoutMs);
  try {
    for await (const ev of client.watchPath<any>(path, { query: { labelSelector, resourceVersion: list.metadata?.resourceVersion }, signal: ac.signal })) {
      if (ev.type === 'ADDED' || ev.type === 'MODIFIED') return ev.object;
    }
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  throw new CliError(timedOut ? 'timed out waiting for the condition' : 'watch closed before UntilWithoutRetry timeout');
}

/**
 * sort.Reverse(podutils.ActivePods): assigned first, then Running before Unknown before the rest, ready before not,
 * ready for longer first, fewer restarts (of the most restarted container) first, older first.
 */
function activeFirst(a: any, b: any): number {
  const rank = (p: any): number[] => {
    const phase = p.status?.phase;
    const ready = (p.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
    const isReady = ready?.status === 'True';
    const restarts = Math.max(0, ...(p.status?.containerStatuses ?? []).map((c: any) => c.restartCount ?? 0));
    return [
      p.spec?.nodeName ? 0 : 1,
      phase === 'Running' ? 0 : phase === 'Unknown' ? 1 : 2,
      isReady ? 0 : 1,
      isReady ? Date.parse(ready?.lastTransitionTime ?? '') || Infinity : 0,
      restarts,
      Date.parse(p.metadata?.creationTimestamp ?? '') || Infinity,
    ];
  };
  const ra = rank(a);
  const rb = rank(b);
  for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return ra[i] - rb[i];
  return 0;
}

/**
 * Terminal handling for `-t`: raw mode on stdin while the stream is up, and the terminal's size sent first and on
 * every SIGWINCH. Returns the restore function. Only for the process's own TTY.
 */
export function setupTerminal(input: NodeJS.ReadableStream, output: unknown): { raw: boolean; restore: () => void; monitor: (send: (w: number, h: number) => void) => void } {
  const tin = input as NodeJS.ReadStream;
  if (!tin.isTTY || typeof tin.setRawMode !== 'function') return { raw: false, restore: () => {}, monitor: () => {} };
  const tout = (output as NodeJS.WriteStream)?.isTTY ? output as NodeJS.WriteStream : undefined;
  tin.setRawMode(true);
  let onResize: (() => void) | undefined;
  return {
    raw: true,
    monitor: (send) => {
      if (!tout) return;
      onResize = () => send(tout.columns, tout.rows);
      onResize();
      tout.on('resize', onResize);
    },
    restore: () => {
      if (onResize) tout?.off('resize', onResize);
      tin.setRawMode(false);
    },
  };
}
