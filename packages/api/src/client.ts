import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import type { DeleteOptions } from 'kubernetes-types/meta/v1.js';
import { createRequire } from 'node:module';
import type { Dispatcher, Pool } from 'undici';
import type * as Undici from 'undici';
import type * as Yaml from 'yaml';
import { realClock, sleep, type Clock } from './clock.js';
import { ApiError, errors } from './errors.js';
import type { Logger } from './logger.js';
import { TokenBucketRateLimiter } from './rate-limiter.js';
import { resourcePath, type ResourceDef } from './registry.js';
import type { KubeList, KubeObject, WatchEvent } from './types.js';

export type { DeleteOptions } from 'kubernetes-types/meta/v1.js';

/**
 * What every object satisfies, KubeObject and kubernetes-types interfaces alike (`Pod` has no index signature,
 * so it is not a KubeObject): the constraint of the client's and informer's type parameters.
 */
export type KubeObjectLike = Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>;

/** How to reach one API server. */
export interface ApiClientOptions {
  /** `http://127.0.0.1:6443` (https works when `tls` says how to trust it). */
  server: string;
  userAgent?: string;
  /** Sent with every request (kubectl's `Kubectl-Command` and `Kubectl-Session`). */
  headers?: Record<string, string>;
  log?: Logger;
  /** Sent as `Authorization: Bearer …`; never logged. */
  token?: string;
  tls?: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer; insecureSkipVerify?: boolean };
  /**
   * Client-side rate limit (client-go's rest.Config QPS and Burst, the components' `--kube-api-qps` and
   * `--kube-api-burst`): every request, retries included, waits for a token. Unset or 0: no client-side limit.
   */
  qps?: number;
  /** Requests allowed at once above the steady `qps` (default: `qps`, at least 1). */
  burst?: number;
  /** Where throttling and 429 retries wait (tests pass a FakeClock). */
  clock?: Clock;
  /** Jitter of 429 retries. */
  random?: () => number;
  /** Instead of undici's Pool (see HttpTransport). */
  transport?: HttpTransport;
}

/** The options of ApiClient.fromKubeconfig besides the file: who is asking, and how fast. */
export type KubeconfigClientOptions = Pick<ApiClientOptions, 'userAgent' | 'log' | 'qps' | 'burst' | 'clock'> & { context?: string };

export type QueryValue = string | number | boolean | undefined;

/**
 * What the client sends requests through: undici's Pool by default. A CLI that must start fast (k8ts-kubectl) passes
 * one over node:http, so undici is never loaded.
 */
export interface HttpTransport {
  request(opts: { method: Dispatcher.HttpMethod; path: string; headers: Record<string, string>; body?: string | Buffer; signal?: AbortSignal; bodyTimeout?: number }): Promise<Dispatcher.ResponseData>;
  destroy(): Promise<void>;
}

// Loaded on first use: importing the client must stay cheap for short-lived processes.
const lazyRequire = createRequire(import.meta.url);

/** A logger that drops everything, without loading pino. */
const noopLogger = { debug() {}, info() {}, warn() {}, error() {}, trace() {}, fatal() {}, child() { return noopLogger; }, level: 'silent' } as unknown as Logger;

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
  signal?: AbortSignal;
}

export interface WatchOptions {
  resourceVersion?: string;
  labelSelector?: string;
  fieldSelector?: string;
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
  signal?: AbortSignal;
}

export interface WriteOptions { dryRun?: boolean; fieldManager?: string; signal?: AbortSignal }

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  /** Objects are sent as JSON; strings and buffers as they are. */
  body?: unknown;
  contentType?: string;
  accept?: string;
  signal?: AbortSignal;
}

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

/**
 * A typed REST client for one API server on an undici keep-alive pool. Non-2xx answers throw
 * `ApiError.fromStatus`; an unreachable server throws ApiError 503 naming the server and what to do.
 */
export class ApiClient {
  readonly server: string;
  private readonly basePath: string;
  private readonly pool: Pool | HttpTransport;
  private readonly userAgent: string;
  private readonly headers: Record<string, string>;
  private readonly token: string | undefined;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly limiter: TokenBucketRateLimiter | undefined;

  constructor(opts: ApiClientOptions) {
    const url = new URL(opts.server);
    this.server = opts.server.replace(/\/+$/, '');
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.userAgent = opts.userAgent ?? 'k8ts/0.1.0';
    this.headers = Object.fromEntries(Object.entries(opts.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    this.token = opts.token;
    this.log = opts.log ?? noopLogger;
    this.clock = opts.clock ?? realClock;
    this.random = opts.random ?? Math.random;
    this.limiter = opts.qps ? new TokenBucketRateLimiter({ qps: opts.qps, burst: Math.max(1, opts.burst ?? Math.ceil(opts.qps)), clock: this.clock }) : undefined;
    const tls = opts.tls;
    this.pool = opts.transport ?? new (lazyRequire('undici') as typeof Undici).Pool(url.origin, {
      keepAliveTimeout: 30_000,
      connect: tls ? { ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: !tls.insecureSkipVerify } : undefined,
    });
  }

  /**
   * A client for the current context of a kubeconfig: `path`, else `$KUBECONFIG` (files joined by ':', first
   * value wins as in kubectl), else `~/.kube/config`.
   */
  static fromKubeconfig(path?: string, opts: KubeconfigClientOptions = {}): ApiClient {
    const files = path ? [path] : process.env.KUBECONFIG ? process.env.KUBECONFIG.split(delimiter).filter(Boolean) : [join(homedir(), '.kube', 'config')];
    const { context, ...rest } = opts;
    return new ApiClient({ ...kubeconfigServer(files, context), ...rest });
  }

  /** Closes all connections, aborting open watches. */
  async close(): Promise<void> {
    await this.pool.destroy();
  }

  /** GET one object. */
  get<T extends KubeObjectLike = KubeObject>(def: ResourceDef, ns: string | undefined, name: string, opts: { signal?: AbortSignal } = {}): Promise<T> {
    return this.json('GET', resourcePath(def, ns, name), { signal: opts.signal });
  }

  /** GET a collection (one page when `limit` is set; follow `metadata.continue`). */
  list<T extends KubeObjectLike = KubeObject>(def: ResourceDef, ns?: string, opts: ListOptions = {}): Promise<KubeList<T>> {
    const { signal, ...query } = opts;
    return this.json('GET', resourcePath(def, ns), { query: { ...query }, signal });
  }

  /** POST a new object into `ns` (or the object's own namespace). */
  create<T extends KubeObjectLike = KubeObject>(def: ResourceDef, ns: string | undefined, obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.json('POST', resourcePath(def, ns ?? obj.metadata?.namespace), {
      body: obj, query: writeQuery(opts), signal: opts.signal,
    });
  }

  /** PUT an object (or its `status`/`scale` subresource); `metadata.resourceVersion` makes it conditional. */
  update<T extends KubeObjectLike = KubeObject>(def: ResourceDef, ns: string | undefined, obj: T, opts: WriteOptions & { subresource?: string } = {}): Promise<T> {
    const name = obj.metadata?.name;
    if (!name) throw errors.badRequest('update: metadata.name is required');
    return this.json('PUT', resourcePath(def, ns ?? obj.metadata?.namespace, name, opts.subresource), {
      body: obj, query: writeQuery(opts), signal: opts.signal,
    });
  }

  /** PATCH with a merge, JSON, strategic-merge or server-side apply patch (apply needs `fieldManager`). */
  patch<T extends KubeObjectLike = KubeObject>(def: ResourceDef, ns: string | undefined, name: string, body: unknown, type: PatchType,
    opts: WriteOptions & { subresource?: string; force?: boolean } = {}): Promise<T> {
    return this.json('PATCH', resourcePath(def, ns, name, opts.subresource), {
      body, contentType: PATCH_CONTENT_TYPES[type], query: { ...writeQuery(opts), force: opts.force }, signal: opts.signal,
    });
  }

  /** DELETE one object; answers the object (when deletion is graceful or pending finalizers) or a Status. */
  delete<T extends KubeObjectLike = KubeObject>(def: ResourceDef, ns: string | undefined, name: string, opts?: DeleteOptions & { signal?: AbortSignal }): Promise<T> {
    const { signal, ...options } = opts ?? {};
    return this.json('DELETE', resourcePath(def, ns, name), {
      body: opts ? { kind: 'DeleteOptions', apiVersion: 'v1', ...options } : undefined, signal,
    });
  }

  /** DELETE every object of a collection matching the selectors. */
  deleteCollection<T extends KubeObjectLike = KubeObject>(def: ResourceDef, ns: string | undefined,
    opts: { labelSelector?: string; fieldSelector?: string; signal?: AbortSignal } & DeleteOptions = {}): Promise<KubeList<T>> {
    const { labelSelector, fieldSelector, signal, ...options } = opts;
    return this.json('DELETE', resourcePath(def, ns), {
      query: { labelSelector, fieldSelector }, body: { kind: 'DeleteOptions', apiVersion: 'v1', ...options }, signal,
    });
  }

  /**
   * Watches a collection: yields events as they arrive (split or concatenated JSON, newlines optional). An ERROR
   * event throws its Status as an ApiError (410 → `code === 410`); a lost connection throws ApiError 503; the
   * stream simply ends when the server closes it or `signal` aborts.
   */
  async *watch<T extends KubeObjectLike = KubeObject>(def: ResourceDef, ns: string | undefined, opts: WatchOptions = {}): AsyncGenerator<WatchEvent<T>> {
    const { signal, ...query } = opts;
    yield* this.watchPath<T>(resourcePath(def, ns), { query: { ...query }, signal });
  }

  /** Like watch, on any collection path and with any Accept (kubectl's `get -w` asks for Tables). */
  async *watchPath<T = KubeObject>(path: string, opts: { query?: Record<string, QueryValue>; accept?: string; signal?: AbortSignal } = {}): AsyncGenerator<WatchEvent<T>> {
    const { signal } = opts;
    const res = await this.send('GET', path, { query: { ...opts.query, watch: true }, accept: opts.accept, signal }, true);
    const decoder = new JsonObjectDecoder();
    const text = new TextDecoder();
    let finished = false;
    try {
      for await (const chunk of res.body) {
        for (const value of decoder.push(text.decode(chunk as Uint8Array, { stream: true }))) yield toWatchEvent<T>(value);
      }
      for (const value of decoder.push(text.decode())) yield toWatchEvent<T>(value);
      decoder.end();
      finished = true;
    } catch (err) {
      if (signal?.aborted) return;
      if (err instanceof ApiError) throw err;
      throw errors.unavailable(`lost the watch connection to the API server at ${this.server}: ${(err as Error).message}`, err);
    } finally {
      if (!finished) res.body.destroy();
    }
  }

  /** Any request (subresources such as `pods/binding`, `scale`, `eviction`, `log`): JSON answers parsed, others as text. */
  async request<T = unknown>(method: Dispatcher.HttpMethod, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, opts);
    const body = await this.readText(res);
    const type = String(res.headers['content-type'] ?? '');
    if (type.includes('json') || (!type && /^\s*[{[]/.test(body))) return parseJson(body) as T;
    return body as T;
  }

  /** A streamed answer (`pods/log?follow=true`): the body's chunks as they arrive; non-2xx answers throw. */
  async *stream(method: Dispatcher.HttpMethod, path: string, opts: RequestOptions = {}): AsyncGenerator<Buffer> {
    const res = await this.send(method, path, opts, true);
    let finished = false;
    try {
      for await (const chunk of res.body) yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      finished = true;
    } catch (err) {
      if (opts.signal?.aborted) return;
      throw this.unreachable(err);
    } finally {
      if (!finished) res.body.destroy();
    }
  }

  private async json<T>(method: Dispatcher.HttpMethod, path: string, opts: RequestOptions): Promise<T> {
    const res = await this.send(method, path, { ...opts, accept: 'application/json' });
    return parseJson(await this.readText(res)) as T;
  }

  /** Sends a request and returns a 2xx response whose body the caller must consume; anything else throws. */
  private async send(method: Dispatcher.HttpMethod, path: string, opts: RequestOptions, stream = false): Promise<Dispatcher.ResponseData> {
    const headers: Record<string, string> = { ...this.headers, 'user-agent': this.userAgent, accept: opts.accept ?? 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let body: string | Buffer | undefined;
    if (opts.body !== undefined) {
      body = typeof opts.body === 'string' || Buffer.isBuffer(opts.body) ? opts.body : JSON.stringify(opts.body);
      headers['content-type'] = opts.contentType ?? 'application/json';
    }
    const fullPath = this.basePath + path + queryString(opts.query);
    let res: Dispatcher.ResponseData;
    // A 429 with Retry-After is retried after that many seconds (at most 10 times), as client-go does.
    for (let attempt = 1; ; attempt++) {
      await this.limiter?.wait(opts.signal);
      try {
        res = await this.pool.request({
          method, path: fullPath, headers, body, signal: opts.signal,
          // Watches and streamed logs may stay quiet for minutes.
          ...(stream ? { bodyTimeout: 0 } : {}),
        });
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        throw this.unreachable(err);
      }
      const retryAfter = Number(res.headers['retry-after']);
      if (res.statusCode !== 429 || !(retryAfter >= 0) || attempt >= 10) break;
      await res.body.dump();
      this.log.debug({ method, path: fullPath, retryAfter, attempt }, 'throttled by the apiserver; retrying');
      await sleep(this.clock, Math.min(retryAfter, 10) * 1000 * (0.5 + this.random() / 2), opts.signal);
      if (opts.signal?.aborted) throw opts.signal.reason;
    }
    this.log.debug({ method, path: fullPath, status: res.statusCode }, 'api request');
    if (res.statusCode >= 200 && res.statusCode < 300) return res;
    const text = await this.readText(res, opts.signal);
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON: fromStatus quotes the text.
    }
    throw ApiError.fromStatus(parsed, res.statusCode);
  }

  private async readText(res: Dispatcher.ResponseData, signal?: AbortSignal): Promise<string> {
    try {
      return await res.body.text();
    } catch (err) {
      res.body.destroy();
      if (signal?.aborted) throw err;
      throw this.unreachable(err);
    }
  }

  private unreachable(err: unknown): ApiError {
    const e = err as { code?: string; message?: string };
    const what = [e.code, e.message].filter(Boolean).join(': ') || String(err);
    return errors.unavailable(
      `cannot reach the API server at ${this.server} (${what}): is it running? Start the cluster (npm start) or point --server / KUBECONFIG at a running API server`,
      err,
    );
  }
}

function writeQuery(opts: WriteOptions): Record<string, QueryValue> {
  return { dryRun: opts.dryRun ? 'All' : undefined, fieldManager: opts.fieldManager };
}

function queryString(query: Record<string, QueryValue> | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.append(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw errors.internal(`the API server sent invalid JSON: ${text.slice(0, 200)}`, err);
  }
}

function toWatchEvent<T>(value: unknown): WatchEvent<T> {
  const ev = value as { type?: unknown; object?: unknown };
  if (typeof ev !== 'object' || ev === null || typeof ev.type !== 'string' || typeof ev.object !== 'object' || ev.object === null) {
    throw errors.internal(`malformed watch event: ${JSON.stringify(value).slice(0, 200)}`);
  }
  if (ev.type === 'ERROR') throw ApiError.fromStatus(ev.object, (ev.object as { code?: number }).code ?? 500);
  return ev as WatchEvent<T>;
}

/**
 * Splits a stream of concatenated JSON objects (`{…}{…}` or one per line) into values, whatever the chunking.
 * Keeps its scanning state between pushes so each character is looked at once.
 */
export class JsonObjectDecoder {
  private buf = '';
  private pos = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;

  /** Adds text and returns the values completed by it. Throws ApiError 500 on anything but objects and whitespace. */
  push(text: string): unknown[] {
    this.buf += text;
    const out: unknown[] = [];
    let start = 0;
    for (; this.pos < this.buf.length; this.pos++) {
      const c = this.buf[this.pos];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === '\\') this.escaped = true;
        else if (c === '"') this.inString = false;
      } else if (c === '"' && this.depth > 0) {
        this.inString = true;
      } else if (c === '{' || c === '[') {
        if (this.depth === 0) start = this.pos;
        this.depth++;
      } else if ((c === '}' || c === ']') && this.depth > 0) {
        if (--this.depth === 0) {
          out.push(parseJson(this.buf.slice(start, this.pos + 1)));
          start = this.pos + 1;
        }
      } else if (this.depth === 0 && !/\s/.test(c)) {
        throw errors.internal(`unexpected ${JSON.stringify(c)} between JSON objects in a watch stream: ${this.buf.slice(this.pos, this.pos + 100)}`);
      }
    }
    // Keep only the unfinished object.
    this.buf = this.depth > 0 ? this.buf.slice(start) : '';
    this.pos = this.buf.length;
    return out;
  }

  /** Throws if the stream ended inside an object. */
  end(): void {
    if (this.depth > 0) throw errors.internal(`watch stream ended inside an object: ${this.buf.slice(0, 200)}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// kubeconfig

interface KubeconfigFile {
  'current-context'?: string;
  clusters?: { name: string; cluster?: Record<string, unknown> }[];
  contexts?: { name: string; context?: { cluster?: string; user?: string } }[];
  users?: { name: string; user?: Record<string, unknown> }[];
}

function kubeconfigServer(files: string[], contextName?: string): Omit<ApiClientOptions, 'userAgent' | 'log'> {
  let current = contextName;
  const clusters = new Map<string, { file: string; v: Record<string, unknown> }>();
  const users = new Map<string, { file: string; v: Record<string, unknown> }>();
  const contexts = new Map<string, { cluster?: string; user?: string }>();
  let found = 0;
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') continue;
      throw new Error(`cannot read kubeconfig ${file}: ${(err as Error).message}`, { cause: err });
    }
    found++;
    const { parse: parseYaml } = lazyRequire('yaml') as typeof Yaml;
    const cfg = (parseYaml(text) ?? {}) as KubeconfigFile;
    // As kubectl merges: the first file to set a value wins.
    current ||= cfg['current-context'];
    for (const c of cfg.clusters ?? []) if (!clusters.has(c.name)) clusters.set(c.name, { file, v: c.cluster ?? {} });
    for (const u of cfg.users ?? []) if (!users.has(u.name)) users.set(u.name, { file, v: u.user ?? {} });
    for (const c of cfg.contexts ?? []) if (!contexts.has(c.name)) contexts.set(c.name, c.context ?? {});
  }
  if (found === 0) throw new Error(`no kubeconfig found at ${files.join(', ')}: set KUBECONFIG or pass --server`);
  if (!current) throw new Error(`kubeconfig ${files.join(', ')} has no current-context: run kubectl config use-context or pass --server`);
  const ctx = contexts.get(current);
  if (!ctx) throw new Error(`kubeconfig context "${current}" not found in ${files.join(', ')}`);
  const cluster = clusters.get(ctx.cluster ?? '');
  const server = cluster?.v.server;
  if (typeof server !== 'string' || !server) throw new Error(`kubeconfig cluster "${ctx.cluster ?? ''}" of context "${current}" has no server`);
  const user = ctx.user ? users.get(ctx.user) : undefined;
  const material = (entry: { file: string; v: Record<string, unknown> } | undefined, key: string): Buffer | undefined => {
    const data = entry?.v[`${key}-data`];
    if (typeof data === 'string') return Buffer.from(data, 'base64');
    const file = entry?.v[key];
    if (typeof file === 'string') return readFileSync(isAbsolute(file) ? file : join(dirname(entry!.file), file));
    return undefined;
  };
  const ca = material(cluster, 'certificate-authority');
  const cert = material(user, 'client-certificate');
  const key = material(user, 'client-key');
  const insecureSkipVerify = cluster?.v['insecure-skip-tls-verify'] === true;
  const tokenFile = user?.v.tokenFile ?? user?.v['token-file'];
  const token = typeof user?.v.token === 'string' ? user.v.token
    : typeof tokenFile === 'string' ? readFileSync(tokenFile, 'utf8').trim() : undefined;
  return {
    server, token,
    tls: ca || cert || key || insecureSkipVerify ? { ca, cert, key, insecureSkipVerify } : undefined,
  };
}
