import { closeSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as Crypto from 'node:crypto';
import type { ApiClient } from '@k8ts/api/client';
import type { Logger } from '@k8ts/api';
import { CliError } from './errors.js';
import { loadKubeconfig, resolveClientConfig, type ClientConfig, type ConnectionOverrides, type KubeConfig } from './kubeconfig.js';
import type { RESTMapper } from './rest-mapper.js';

/** kubectl's global flags (genericclioptions.ConfigFlags plus klog's `-v`), as commander parses them (`--as-group` as `asGroup`). */
export interface GlobalFlags extends ConnectionOverrides {
  kubeconfig?: string;
  requestTimeout?: string;
  v?: string;
  cacheDir?: string;
}

/** Where a command reads and writes: the process's streams, or buffers in tests. */
export interface IOStreams {
  in: NodeJS.ReadableStream;
  out: { write(s: string): unknown };
  err: { write(s: string): unknown };
}

/** The version string kubectl reports and sends; the User-Agent starts `kubectl/` so managers are named alike. */
export const KUBECTL_VERSION = 'v1.32.4-k8ts';
const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' };
export const PLATFORM = `${process.platform}/${GO_ARCH[process.arch] ?? process.arch}`;

/**
 * Everything a command needs from its environment, made lazily and once per run: the merged kubeconfig, the
 * resolved connection, the namespace, the API client and the RESTMapper from discovery (kubectl's cmdutil.Factory).
 */
export class Factory {
  /** `kubectl get`: sent as Kubectl-Command, and named in usage errors. */
  commandPath = 'kubectl';
  private readonly session = randomUuid();
  private config: KubeConfig | undefined;
  private resolved: ClientConfig | undefined;
  private clientP: Promise<ApiClient> | undefined;
  private mapperP: Promise<RESTMapper> | undefined;
  private mapperDone: RESTMapper | undefined;
  private invalidateCache: (() => void) | undefined;
  /** Set once the run wrote output, read stdin or sent a request other than a GET: it cannot be run again. */
  private sideEffects = false;
  /** Where the streams are: a command writes and reads through these (they note side effects). */
  readonly io: IOStreams;

  /** `freshDiscovery`: ask the server even when the disk cache is fresh (a second attempt after a stale cache). */
  constructor(readonly flags: GlobalFlags, io: IOStreams = processStreams(), readonly env: NodeJS.ProcessEnv = process.env, private readonly freshDiscovery = false) {
    const mark = (): void => { this.sideEffects = true; };
    // Handing stdin on is no side effect; calling any of its methods (reading it) is. Made on first use: creating
    // process.stdin costs milliseconds at start-up.
    let stdin: NodeJS.ReadableStream | undefined;
    const stdinOnce = (): NodeJS.ReadableStream => stdin ??= new Proxy(io.in, {
      get: (target, prop) => {
        const value: unknown = Reflect.get(target, prop, target);
        if (typeof value !== 'function') return value;
        mark();
        return (value as (...a: unknown[]) => unknown).bind(target);
      },
    });
    this.io = {
      get in() { return stdinOnce(); },
      out: { write: (s: string) => { mark(); return io.out.write(s); } },
      err: { write: (s: string) => { mark(); return io.err.write(s); } },
    };
  }

  /** The merged kubeconfig chain (`--kubeconfig`, else `$KUBECONFIG`, else `~/.kube/config`). */
  kubeconfig(): KubeConfig {
    this.config ??= loadKubeconfig(this.flags.kubeconfig, this.env);
    return this.config;
  }

  /** Server, credentials and namespace after the flags are applied. Throws kubectl's configuration errors. */
  clientConfig(): ClientConfig {
    this.resolved ??= resolveClientConfig(this.kubeconfig(), {
      context: this.flags.context, cluster: this.flags.cluster, user: this.flags.user, namespace: this.flags.namespace,
      server: this.flags.server, token: this.flags.token, certificateAuthority: this.flags.certificateAuthority,
      clientCertificate: this.flags.clientCertificate, clientKey: this.flags.clientKey,
      insecureSkipTlsVerify: this.flags.insecureSkipTlsVerify, tlsServerName: this.flags.tlsServerName,
      as: this.flags.as, asGroup: this.flags.asGroup, asUid: this.flags.asUid,
    });
    return this.resolved;
  }

  /** The server URL, for messages; never throws. */
  serverForMessages(): string | undefined {
    try {
      return this.clientConfig().server;
    } catch {
      return this.flags.server;
    }
  }

  /** `-n`, else the context's namespace, else `default`. */
  namespace(): string {
    return this.flags.namespace || this.clientConfig().namespace;
  }

  /** Whether `-n` was given (kubectl then refuses manifests naming another namespace). */
  namespaceExplicit(): boolean {
    return !!this.flags.namespace;
  }

  /** The verbosity of `-v`. */
  verbosity(): number {
    return Number(String(this.flags.v ?? '0').replace(/^=/, '')) || 0;
  }

  /** The API client (imported on first use, so commands that never talk to a server do not load it). */
  client(): Promise<ApiClient> {
    this.clientP ??= (async () => {
      const cfg = this.clientConfig();
      const tls = cfg.ca || cfg.cert || cfg.key || cfg.insecureSkipVerify
        ? { ca: cfg.ca, cert: cfg.cert, key: cfg.key, insecureSkipVerify: cfg.insecureSkipVerify } : undefined;
      const [{ ApiClient }, { nodeHttpTransport }, { impersonationHeaders }] = await Promise.all([
        import('@k8ts/api/client'), import('./http-transport.js'), import('./impersonation.js')]);
      const transport = await nodeHttpTransport(cfg.server, tls, impersonationHeaders(cfg.impersonate));
      return new ApiClient({
        server: cfg.server, token: cfg.token, tls,
        transport: {
          ...transport,
          request: (opts) => {
            if (opts.method !== 'GET') this.sideEffects = true;
            return transport.request(opts);
          },
        },
        userAgent: `kubectl/${KUBECTL_VERSION} (${PLATFORM}) kubernetes/k8ts`,
        headers: { 'Kubectl-Command': this.commandPath, 'Kubectl-Session': this.session },
        log: this.verbosity() >= 6 ? requestLogger(this.io) : undefined,
      });
    })();
    return this.clientP;
  }

  /**
   * The RESTMapper from the server's discovery, once per run: from kubectl's disk cache while that is fresh (6 h, in
   * `--cache-dir`), else from the server, then written to the cache.
   */
  mapper(): Promise<RESTMapper> {
    this.mapperP ??= (async () => {
      const [{ RESTMapper }, cache] = await Promise.all([import('./rest-mapper.js'), import('./discovery-cache.js')]);
      const dir = cache.discoveryCacheDir(this.flags.cacheDir, this.env, this.clientConfig().server);
      this.invalidateCache = () => cache.invalidateDiscoveryCache(dir);
      const cached = this.freshDiscovery ? undefined : cache.readDiscoveryCache(dir);
      this.mapperDone = cached
        ? RESTMapper.fromDocs(cached)
        : await RESTMapper.discover(await this.client(), (docs) => cache.writeDiscoveryCache(dir, docs));
      this.mapperDone.onWarning = (message) => this.warn(message);
      return this.mapperDone;
    })();
    return this.mapperP;
  }

  /**
   * After a failed run: whether a lookup missed in a mapper from the disk cache (a resource type created since, as a
   * CRD). kubectl then invalidates the cache and looks again; here the cache is invalidated, and the answer says
   * whether the run may simply be repeated with fresh discovery (nothing printed, read or written yet).
   */
  staleDiscovery(): 'none' | 'rerun' | 'invalidated' {
    const m = this.mapperDone;
    if (!m?.fromCache || !m.missed) return 'none';
    this.invalidateCache?.();
    return this.sideEffects ? 'invalidated' : 'rerun';
  }

  /** Prints kubectl's `Warning: …` line on stderr. */
  warn(message: string): void {
    this.io.err.write(`Warning: ${message}\n`);
  }

  /** Closes connections (open watches end). */
  async close(): Promise<void> {
    if (this.clientP) await (await this.clientP.catch(() => undefined))?.close();
  }
}

/**
 * A random (version 4) UUID, kubectl's Kubectl-Session. From /dev/urandom, as Go's crypto/rand reads it: node:crypto
 * takes milliseconds to load, and this is all a command needs it for.
 */
export function randomUuid(): string {
  const b = Buffer.alloc(16);
  try {
    const fd = openSync('/dev/urandom', 'r');
    try {
      readSync(fd, b, 0, 16, null);
    } finally {
      closeSync(fd);
    }
  } catch {
    (createRequire(import.meta.url)('node:crypto') as typeof Crypto).randomFillSync(b);
  }
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The process's stdin, stdout and stderr. */
export function processStreams(): IOStreams {
  // process.stdin is made on first use (it costs milliseconds, and most commands never read it).
  return { get in() { return process.stdin; }, out: process.stdout, err: process.stderr };
}

/** A Logger printing the client's request lines at `-v=6` and above, klog-style. */
function requestLogger(io: IOStreams): Logger {
  const line = (obj: unknown, msg?: string): void => {
    const o = (typeof obj === 'object' && obj ? obj : {}) as { method?: string; path?: string; status?: number };
    if (msg === 'api request') io.err.write(`I ${new Date().toISOString()} round_trippers.go] "Response" verb="${o.method}" url="${o.path}" status="${o.status}"\n`);
  };
  const logger = { debug: line, info: line, warn: line, error: line, trace: () => {}, fatal: line, child: () => logger, level: 'debug' };
  return logger as unknown as Logger;
}

/** Parses `--request-timeout` (`0`, `30`, `1s`, `2m`, `1h`) into milliseconds; 0 means none. */
export function parseRequestTimeout(value: string | undefined): number {
  if (!value || value === '0') return 0;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const ms = parseGoDuration(value);
  if (ms === undefined) throw new CliError('Invalid timeout value. Timeout must be a single integer in seconds, or an integer followed by a corresponding time unit (e.g. 1s | 2m | 3h)');
  return ms;
}

/** Go's time.ParseDuration subset: `1h2m3.5s`, `300ms`. Undefined when it does not parse. */
export function parseGoDuration(value: string): number | undefined {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  if (value === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|\u00b5s|ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(value))) {
    total += Number(m[1]) * units[m[2]];
    pos = re.lastIndex;
  }
  return pos === value.length && pos > 0 ? total : undefined;
}
