import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, errors, type KubeObject } from '@k8ts/api';
import { boolParam, intParam, rvParam, wantedFormat } from '../http.js';
import { CUSTOM_INFO } from '../apiextensions/custom-resource.js';
import { warningHeaders } from '../field-validation.js';
import { toTableRowEvent } from '../table.js';
import type { CacheEvent } from '../watch-cache.js';
import type { ApiContext, Query, Target } from './context.js';

/** What a watcher may have buffered and not yet taken before it is dropped. */
const MAX_BUFFERED = 32 * 1024 * 1024;

/**
 * A watch on a collection: subscribes to the resource's watch cache from the asked resourceVersion and streams
 * `{type, object}` lines, filtered by namespace and selectors (objects entering or leaving the selection become
 * ADDED and DELETED), with bookmarks when asked, until the timeout or the client goes.
 */
export function serveWatch(ctx: ApiContext, req: FastifyRequest, reply: FastifyReply, t: Target, query: Query): void {
  const store = ctx.stores.get(t.def)!;
  const cache = ctx.caches.get(t.def)!;
  const sel = store.selector(query);
  let from = rvParam(query.resourceVersion);
  // sendInitialEvents (a watch-list): true sends the current state whatever the resourceVersion, then a
  // bookmark marking its end; false sends only what happens from resourceVersion (or now) on.
  const initialEvents = query.sendInitialEvents === undefined ? undefined : boolParam(query.sendInitialEvents);
  const bookmarks = boolParam(query.allowWatchBookmarks);
  if (initialEvents && !bookmarks) {
    throw errors.invalid('ListOptions', 'meta.k8s.io', '', [{ field: 'allowWatchBookmarks', type: 'FieldValueForbidden', message: 'sendInitialEvents requires setting allowWatchBookmarks to true' }]);
  }
  if (initialEvents) from = undefined;
  const timeoutSeconds = intParam(query.timeoutSeconds, 'timeoutSeconds') ?? 1800 + Math.floor(Math.random() * 1800);
  const table = wantedFormat(req.headers.accept) === 'table';
  const res: ServerResponse = reply.raw;
  reply.hijack();
  const warning = CUSTOM_INFO.get(t.def)?.warning;
  res.writeHead(200, {
    'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked',
    ...(warning ? { Warning: warningHeaders([warning]) } : {}),
  });
  res.flushHeaders(); // kubectl waits for headers before it trusts a quiet watch (kubectl-wire.md §5)
  let closed = false;
  let sent = from ?? 0;
  // Lines are sent together once the events at hand are all handled (setImmediate: after the etcd messages that
  // arrived meanwhile), one socket write for many events when the server is busy, as soon as ever when it is not.
  let pending: string[] = [];
  let pendingLength = 0;
  let flushing: NodeJS.Immediate | undefined;
  const flush = () => {
    if (flushing) clearImmediate(flushing);
    flushing = undefined;
    if (closed || !pending.length || res.destroyed) return;
    const lines = pending.length === 1 ? pending[0] : pending.join('');
    pending = [];
    pendingLength = 0;
    res.write(lines);
    // A watcher that cannot keep up is dropped; it re-watches from its last resourceVersion.
    if (res.writableLength > MAX_BUFFERED) close();
  };
  const write = (type: string, object: unknown, json?: string) => {
    if (closed) return;
    const line = json !== undefined ? `{"type":"${type}","object":${json}}\n` : JSON.stringify({ type, object }) + '\n';
    pending.push(line);
    pendingLength += line.length;
    if (res.writableLength + pendingLength > MAX_BUFFERED) flush();
    else flushing ??= setImmediate(flush);
  };
  const selective = sel.labels.length > 0 || sel.fields.length > 0;
  const inScope = (o: KubeObject | undefined) => !!o && (!t.namespace || o.metadata?.namespace === t.namespace) && store.matches(sel, o);
  const deliver = (ev: CacheEvent) => {
    const now = inScope(ev.object);
    // With no selectors, what was in scope still is (an object's namespace never changes): the old state is not needed.
    const before = ev.type === 'MODIFIED' && selective ? inScope(ev.prev) : now;
    let type: string | undefined = ev.type;
    if (ev.type === 'MODIFIED' && now !== before) type = now ? 'ADDED' : 'DELETED';
    else if (!now && !(ev.type === 'MODIFIED' && before)) type = undefined;
    sent = Math.max(sent, ev.revision);
    if (!type) return;
    if (table) write(type, toTableRowEvent(t.def, store.conversion ? store.withType(ev.object) : ev.object, query.includeObject));
    else if (store.conversion) write(type, store.withType(ev.object));
    else write(type, ev.object, (ev.json ??= JSON.stringify(ev.object)));
  };
  // A failure on one event (a printer, a selector) ends this watch with an ERROR event, as upstream; never the process.
  const deliverSafely = (ev: CacheEvent) => {
    try {
      deliver(ev);
    } catch (err) {
      ctx.log.warn({ err, resource: t.def.resource }, 'watch event failed; ending the watch');
      write('ERROR', errors.internal(`Internal error occurred: ${(err as Error).message ?? 'watch event could not be encoded'}`).toStatus());
      queueMicrotask(close);
    }
  };
  const timers: NodeJS.Timeout[] = [];
  let sub: { close(): void } | undefined;
  const close = () => {
    if (closed) return;
    flush();
    if (closed) return;
    closed = true;
    sub?.close();
    for (const tm of timers) clearTimeout(tm);
    ctx.watchers.delete(close);
    res.end();
  };
  ctx.watchers.add(close);
  req.raw.on('close', close);
  res.on('error', close);
  timers.push(setTimeout(close, timeoutSeconds * 1000));
  cache.ready.then(() => {
    if (closed) return;
    try {
      sub = cache.subscribe(initialEvents === false ? from ?? cache.revision : from, deliverSafely, close);
    } catch (err) {
      if (err instanceof ApiError) { write('ERROR', err.toStatus()); close(); return; }
      throw err;
    }
    if (initialEvents) {
      write('BOOKMARK', { kind: t.def.kind, apiVersion: store.withType({}).apiVersion,
        metadata: { resourceVersion: String(Math.max(sent, cache.revision)), annotations: { 'k8s.io/initial-events-end': 'true' } } });
    }
    if (bookmarks) {
      const tick = () => {
        write('BOOKMARK', { kind: t.def.kind, apiVersion: store.withType({}).apiVersion, metadata: { resourceVersion: String(Math.max(sent, cache.revision)) } });
        timers.push(setTimeout(tick, ctx.bookmarkMs));
      };
      timers.push(setTimeout(tick, ctx.bookmarkMs));
    }
  }).catch((err: unknown) => {
    ctx.log.error({ err }, 'watch failed');
    close();
  });
}
