/**
 * A small in-memory API server on node:http for unit tests of the client, informer and leader election: REST
 * verbs on any resource path, resourceVersions, list paging, watches with replay from a resourceVersion, 410 for
 * compacted versions, and knobs to drop connections or answer anything a test likes.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { errors } from '../src/errors.js';
import type { KubeObject, WatchEvent } from '../src/types.js';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: unknown;
}

interface Route { prefix: string; resource: string; namespace?: string; name?: string; sub?: string }

interface Watcher { route: Route; res: ServerResponse; bookmarks: boolean }

/** `/api/v1[/namespaces/ns]/pods[/name[/sub]]` or `/apis/g/v/...`. */
function route(path: string): Route | undefined {
  const m = /^(\/api\/v1|\/apis\/[^/]+\/[^/]+)(?:\/namespaces\/([^/]+)(?=\/))?\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(path);
  if (!m) return undefined;
  return { prefix: m[1], namespace: m[2], resource: m[3], name: m[4], sub: m[5] };
}

export class FakeApiServer {
  readonly requests: RecordedRequest[] = [];
  /** Stored objects by `prefix/resource/namespace/name`. */
  readonly objects = new Map<string, KubeObject>();
  /** Every change, for watch replay. */
  readonly history: { rv: number; key: string; route: Route; event: WatchEvent }[] = [];
  rv = 100;
  /** Watches from below this resourceVersion get a 410 ERROR event. */
  compactedRv = 0;
  /** While set, changes are recorded for replay but not sent to open watches (as if the stream had stalled). */
  muted = false;
  /** Answer a request yourself: return true when handled. */
  intercept?: (req: RecordedRequest, res: ServerResponse) => boolean;
  url = '';
  private readonly server: Server;
  private readonly watchers = new Set<Watcher>();
  private readonly sockets = new Set<Socket>();

  constructor() {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Requests whose path and method match, in order. */
  requestsTo(method: string, pathPrefix: string, opts: { watch?: boolean } = {}): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.path.startsWith(pathPrefix) &&
      (opts.watch === undefined || (r.query.get('watch') === 'true') === opts.watch));
  }

  /** Open watch streams. */
  watchCount(): number {
    return this.watchers.size;
  }

  /** Cuts every watch connection without ending the response properly. */
  dropWatches(): void {
    for (const w of this.watchers) w.res.socket?.destroy();
    this.watchers.clear();
  }

  /** Ends every watch stream cleanly (as a server-side timeout does). */
  endWatches(): void {
    for (const w of this.watchers) w.res.end();
    this.watchers.clear();
  }

  /** Sends a BOOKMARK at the current resourceVersion to watchers that asked for them. */
  bookmark(kind: string, apiVersion: string): void {
    for (const w of this.watchers) {
      if (w.bookmarks) w.res.write(JSON.stringify({ type: 'BOOKMARK', object: { kind, apiVersion, metadata: { resourceVersion: String(this.rv) } } }));
    }
  }

  /** Creates or replaces an object directly (as another client would), notifying watchers. */
  put(path: string, obj: KubeObject): KubeObject {
    const r = route(path)!;
    const key = `${r.prefix}/${r.resource}/${obj.metadata?.namespace ?? ''}/${obj.metadata?.name}`;
    const existed = this.objects.has(key);
    const stored = this.store(key, obj);
    this.emit(key, r, existed ? 'MODIFIED' : 'ADDED', stored);
    return stored;
  }

  /** Deletes an object directly, notifying watchers. */
  remove(path: string, namespace: string | undefined, name: string): void {
    const r = route(path)!;
    const key = `${r.prefix}/${r.resource}/${namespace ?? ''}/${name}`;
    const obj = this.objects.get(key);
    if (!obj) return;
    this.objects.delete(key);
    const rv = String(++this.rv);
    this.emit(key, r, 'DELETED', { ...obj, metadata: { ...obj.metadata, resourceVersion: rv } });
  }

  get(path: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const r = route(path)!;
    return this.objects.get(`${r.prefix}/${r.resource}/${namespace ?? ''}/${name}`);
  }

  private store(key: string, obj: KubeObject): KubeObject {
    const old = this.objects.get(key);
    const stored: KubeObject = structuredClone(obj);
    stored.metadata = {
      ...stored.metadata,
      resourceVersion: String(++this.rv),
      uid: old?.metadata?.uid ?? `uid-${this.rv}`,
      creationTimestamp: old?.metadata?.creationTimestamp ?? new Date().toISOString(),
    };
    this.objects.set(key, stored);
    return stored;
  }

  private emit(key: string, r: Route, type: WatchEvent['type'], object: KubeObject): void {
    const rv = Number(object.metadata?.resourceVersion);
    const event = { type, object } as WatchEvent;
    this.history.push({ rv, key, route: r, event });
    if (this.muted) return;
    for (const w of this.watchers) if (this.matches(w.route, r, object)) w.res.write(`${JSON.stringify(event)}\n`);
  }

  private matches(watch: Route, r: Route, obj: KubeObject): boolean {
    return watch.prefix === r.prefix && watch.resource === r.resource && (!watch.namespace || watch.namespace === obj.metadata?.namespace);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // keep text
    }
    const url = new URL(req.url ?? '/', 'http://x');
    const rec: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body };
    this.requests.push(rec);
    if (this.intercept?.(rec, res)) return;

    const r = route(url.pathname);
    if (!r) return this.send(res, 404, errors.notFound('paths', '', url.pathname).toStatus());
    const ns = r.namespace ?? (body as KubeObject | undefined)?.metadata?.namespace;
    const key = (name: string | undefined): string => `${r.prefix}/${r.resource}/${r.namespace ?? ''}/${name}`;

    if (rec.method === 'GET' && !r.name && url.searchParams.get('watch') === 'true') return this.watch(r, url.searchParams, res);
    if (rec.method === 'GET' && !r.name) return this.list(r, url.searchParams, res);
    if (rec.method === 'GET') {
      const obj = this.objects.get(key(r.name));
      return obj ? this.send(res, 200, obj) : this.send(res, 404, errors.notFound(r.resource, '', r.name!).toStatus());
    }
    if (rec.method === 'POST') {
      const obj = body as KubeObject;
      const name = obj.metadata?.name ?? '';
      const k = `${r.prefix}/${r.resource}/${ns ?? ''}/${name}`;
      if (this.objects.has(k)) return this.send(res, 409, errors.alreadyExists(r.resource, '', name).toStatus());
      const stored = this.store(k, { ...obj, metadata: { ...obj.metadata, namespace: ns } });
      this.emit(k, r, 'ADDED', stored);
      return this.send(res, 201, stored);
    }
    if (rec.method === 'PUT' || rec.method === 'PATCH') {
      const old = this.objects.get(key(r.name));
      if (!old) return this.send(res, 404, errors.notFound(r.resource, '', r.name!).toStatus());
      const obj = (rec.method === 'PUT' ? body : { ...old, ...(body as object) }) as KubeObject;
      const want = obj.metadata?.resourceVersion;
      if (rec.method === 'PUT' && want && want !== old.metadata?.resourceVersion) {
        return this.send(res, 409, errors.conflict(r.resource, '', r.name!).toStatus());
      }
      const stored = this.store(key(r.name), obj);
      this.emit(key(r.name), r, 'MODIFIED', stored);
      return this.send(res, 200, stored);
    }
    if (rec.method === 'DELETE' && r.name) {
      const obj = this.objects.get(key(r.name));
      if (!obj) return this.send(res, 404, errors.notFound(r.resource, '', r.name).toStatus());
      this.remove(url.pathname, r.namespace, r.name);
      return this.send(res, 200, obj);
    }
    this.send(res, 405, errors.methodNotAllowed('not supported by the fake').toStatus());
  }

  private items(r: Route): KubeObject[] {
    const prefix = `${r.prefix}/${r.resource}/${r.namespace ? `${r.namespace}/` : ''}`;
    return [...this.objects].filter(([k]) => k.startsWith(prefix)).map(([, v]) => v);
  }

  private list(r: Route, q: URLSearchParams, res: ServerResponse): void {
    const all = this.items(r);
    const start = Number(q.get('continue') || 0);
    const limit = Number(q.get('limit') || 0);
    const page = limit ? all.slice(start, start + limit) : all.slice(start);
    const next = limit && start + limit < all.length ? String(start + limit) : undefined;
    this.send(res, 200, {
      kind: 'List', apiVersion: 'v1',
      metadata: { resourceVersion: String(this.rv), ...(next ? { continue: next } : {}) },
      // Items without kind/apiVersion, as the real server sends them.
      items: page.map((o) => {
        const item = { ...o };
        delete item.kind;
        delete item.apiVersion;
        return item;
      }),
    });
  }

  private watch(r: Route, q: URLSearchParams, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.flushHeaders();
    const from = Number(q.get('resourceVersion') || 0);
    if (from && from < this.compactedRv) {
      res.end(JSON.stringify({ type: 'ERROR', object: errors.gone(`too old resource version: ${from} (${this.compactedRv})`).toStatus() }));
      return;
    }
    for (const h of this.history) {
      if (h.rv > from && this.matches(r, h.route, h.event.object)) res.write(`${JSON.stringify(h.event)}\n`);
    }
    const w: Watcher = { route: r, res, bookmarks: q.get('allowWatchBookmarks') === 'true' };
    this.watchers.add(w);
    res.on('close', () => this.watchers.delete(w));
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }
}

/** Waits until `cond` holds, polling every few ms, or fails after `timeoutMs`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
