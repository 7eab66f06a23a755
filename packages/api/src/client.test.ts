import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeApiServer, waitFor } from '../test/fake-apiserver.js';
import { ApiClient, JsonObjectDecoder } from './client.js';
import { ApiError } from './errors.js';
import { CONFIGMAPS, DEPLOYMENTS, NODES, PODS } from './resources.js';
import type { KubeObject, WatchEvent } from './types.js';

const pod = (name: string, extra: Partial<KubeObject> = {}): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox' }] }, ...extra });

async function caught(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error('expected an ApiError');
}

/** Writes and waits until the bytes have left for the socket, so the next write travels as its own chunk. */
function flushed(res: ServerResponse, data: Buffer): Promise<void> {
  return new Promise((resolve) => res.write(data, () => setImmediate(resolve)));
}

let server: FakeApiServer;
let client: ApiClient;

beforeEach(async () => {
  server = await new FakeApiServer().start();
  client = new ApiClient({ server: server.url, userAgent: 'k8ts-test/1' });
});

afterEach(async () => {
  await client.close();
  await server.close();
});

describe('ApiClient REST verbs', () => {
  it('creates, gets, lists, updates, patches and deletes on upstream paths', async () => {
    const created = await client.create(PODS, 'default', pod('web'), { fieldManager: 'test', dryRun: false });
    expect(created.metadata?.resourceVersion).toBeDefined();
    const post = server.requests.at(-1)!;
    expect(post).toMatchObject({ method: 'POST', path: '/api/v1/namespaces/default/pods' });
    expect(post.query.get('fieldManager')).toBe('test');
    expect(post.query.has('dryRun')).toBe(false);
    expect(post.headers['content-type']).toBe('application/json');
    expect(post.headers['user-agent']).toBe('k8ts-test/1');
    expect(post.headers.accept).toBe('application/json');

    expect((await client.get(PODS, 'default', 'web')).metadata?.uid).toBe(created.metadata?.uid);

    const list = await client.list(PODS, 'default', { labelSelector: 'app=web', fieldSelector: 'spec.nodeName=', limit: 10 });
    expect(list.items.map((p) => p.metadata?.name)).toEqual(['web']);
    const q = server.requests.at(-1)!.query;
    expect([q.get('labelSelector'), q.get('fieldSelector'), q.get('limit')]).toEqual(['app=web', 'spec.nodeName=', '10']);

    const updated = await client.update(PODS, undefined, { ...created, spec: { containers: [] } });
    expect(server.requests.at(-1)).toMatchObject({ method: 'PUT', path: '/api/v1/namespaces/default/pods/web' });
    expect(updated.metadata?.resourceVersion).not.toBe(created.metadata?.resourceVersion);

    await client.update(PODS, 'default', { ...updated, status: { phase: 'Running' } }, { subresource: 'status' });
    expect(server.requests.at(-1)).toMatchObject({ method: 'PUT', path: '/api/v1/namespaces/default/pods/web/status' });

    await client.patch(PODS, 'default', 'web', { metadata: { labels: { a: 'b' } } }, 'merge');
    expect(server.requests.at(-1)!.headers['content-type']).toBe('application/merge-patch+json');
    await client.patch(PODS, 'default', 'web', [{ op: 'add', path: '/x', value: 1 }], 'json');
    expect(server.requests.at(-1)!.headers['content-type']).toBe('application/json-patch+json');
    await client.patch(PODS, 'default', 'web', {}, 'strategic');
    expect(server.requests.at(-1)!.headers['content-type']).toBe('application/strategic-merge-patch+json');
    await client.patch(PODS, 'default', 'web', pod('web'), 'apply', { fieldManager: 'kubectl', force: true, dryRun: true });
    const apply = server.requests.at(-1)!;
    expect(apply.headers['content-type']).toBe('application/apply-patch+yaml');
    expect(Object.fromEntries(apply.query)).toEqual({ fieldManager: 'kubectl', force: 'true', dryRun: 'All' });
    expect(apply.body).toEqual(pod('web'));

    const deleted = await client.delete(PODS, 'default', 'web', { gracePeriodSeconds: 0, propagationPolicy: 'Background' });
    expect(deleted.metadata?.name).toBe('web');
    expect(server.requests.at(-1)).toMatchObject({
      method: 'DELETE', path: '/api/v1/namespaces/default/pods/web',
      body: { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0, propagationPolicy: 'Background' },
    });
  });

  it('builds cluster-scoped, group and all-namespace paths', async () => {
    await client.list(NODES, 'ignored');
    expect(server.requests.at(-1)!.path).toBe('/api/v1/nodes');
    await client.list(PODS);
    expect(server.requests.at(-1)!.path).toBe('/api/v1/pods');
    await caught(client.get(DEPLOYMENTS, 'prod', 'web'));
    expect(server.requests.at(-1)!.path).toBe('/apis/apps/v1/namespaces/prod/deployments/web');
  });

  it('sends deleteCollection selectors as query and options as body', async () => {
    server.intercept = (req, res) => {
      if (req.method !== 'DELETE') return false;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[]}');
      return true;
    };
    await client.deleteCollection(PODS, 'default', { labelSelector: 'app=web', gracePeriodSeconds: 5 });
    const req = server.requests.at(-1)!;
    expect(req.path).toBe('/api/v1/namespaces/default/pods');
    expect(req.query.get('labelSelector')).toBe('app=web');
    expect(req.body).toEqual({ kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 5 });
  });

  it('request() reaches subresources and returns text for non-JSON answers', async () => {
    server.intercept = (req, res) => {
      if (req.path.endsWith('/log')) {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('line 1\nline 2\n');
        return true;
      }
      if (req.path.endsWith('/scale')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(req.body));
        return true;
      }
      if (req.path.endsWith('/binding')) {
        res.writeHead(201, { 'content-type': 'application/json' }).end('{"kind":"Status","apiVersion":"v1","status":"Success","code":201}');
        return true;
      }
      return false;
    };
    expect(await client.request('GET', '/api/v1/namespaces/default/pods/web/log', { query: { container: 'c', follow: false, tailLines: 10 } }))
      .toBe('line 1\nline 2\n');
    expect(Object.fromEntries(server.requests.at(-1)!.query)).toEqual({ container: 'c', follow: 'false', tailLines: '10' });
    const status = await client.request<{ status: string }>('POST', '/api/v1/namespaces/default/pods/web/binding', {
      body: { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'web' }, target: { kind: 'Node', name: 'n1' } },
    });
    expect(status.status).toBe('Success');
    expect(server.requests.at(-1)!.body).toMatchObject({ kind: 'Binding', target: { name: 'n1' } });
    const scale = await client.request('PUT', '/apis/apps/v1/namespaces/default/deployments/web/scale', { body: '{"spec":{"replicas":3}}' });
    expect(scale).toEqual({ spec: { replicas: 3 } });
    expect(server.requests.at(-1)!.headers['content-type']).toBe('application/json');
  });
});

describe('ApiClient errors', () => {
  it('turns a 404 Status into ApiError NotFound with its details', async () => {
    const err = await caught(client.get(PODS, 'default', 'nope'));
    expect(err.code).toBe(404);
    expect(err.reason).toBe('NotFound');
    expect(err.isNotFound).toBe(true);
    expect(err.message).toBe('pods "nope" not found');
    expect(err.details).toEqual({ name: 'nope', kind: 'pods' });
  });

  it('turns a stale update into ApiError Conflict and a duplicate create into AlreadyExists', async () => {
    const created = await client.create(PODS, 'default', pod('web'));
    await client.update(PODS, 'default', created);
    expect((await caught(client.update(PODS, 'default', created))).isConflict).toBe(true);
    expect((await caught(client.create(PODS, 'default', pod('web')))).isAlreadyExists).toBe(true);
  });

  it('keeps the text of non-Status error bodies', async () => {
    server.intercept = (_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('plain text failure 500');
      return true;
    };
    const err = await caught(client.list(PODS));
    expect(err.code).toBe(500);
    expect(err.reason).toBe('InternalError');
    expect(err.message).toContain('plain text failure 500');
  });

  it('reports a refused connection as 503 naming the server and what to do', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const dead = new ApiClient({ server: `http://127.0.0.1:${port}` });
    try {
      const err = await caught(dead.get(PODS, 'default', 'x'));
      expect(err.code).toBe(503);
      expect(err.reason).toBe('ServiceUnavailable');
      expect(err.message).toContain(`http://127.0.0.1:${port}`);
      expect(err.message).toContain('ECONNREFUSED');
      expect(err.message).toMatch(/start the cluster|--server|KUBECONFIG/i);
    } finally {
      await dead.close();
    }
  });

  it('rethrows aborts as they are, not as 503', async () => {
    server.intercept = () => true; // never answers
    const ctl = new AbortController();
    const p = client.get(PODS, 'default', 'x', { signal: ctl.signal });
    await waitFor(() => server.requests.length === 1);
    ctl.abort();
    await expect(p).rejects.not.toBeInstanceOf(ApiError);
  });
});

describe('ApiClient.watch', () => {
  let watchRes: ServerResponse | undefined;
  beforeEach(() => {
    watchRes = undefined;
    server.intercept = (req, res) => {
      if (req.query.get('watch') !== 'true') return false;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      watchRes = res;
      return true;
    };
  });

  it('sends the watch query and decodes events split across chunks or concatenated, newlines optional', async () => {
    const it = client.watch(PODS, 'default', { resourceVersion: '42', allowWatchBookmarks: true, timeoutSeconds: 300, labelSelector: 'a=b' })[Symbol.asyncIterator]();
    const first = it.next();
    await waitFor(() => watchRes !== undefined);
    expect(Object.fromEntries(server.requests.at(-1)!.query)).toEqual({
      resourceVersion: '42', allowWatchBookmarks: 'true', timeoutSeconds: '300', labelSelector: 'a=b', watch: 'true',
    });
    // One whole event and half of the next in one chunk.
    watchRes!.write('{"type":"ADDED","object":{"kind":"Pod","metadata":{"name":"a","resourceVersion":"43"}}}{"type":"MOD');
    expect((await first).value).toEqual({ type: 'ADDED', object: { kind: 'Pod', metadata: { name: 'a', resourceVersion: '43' } } });

    // The rest, split inside a multi-byte character, with braces and escaped quotes inside strings.
    const rest = Buffer.from('IFIED","object":{"metadata":{"name":"b","annotations":{"x":"€ {\\"}[ 𝄞"}}}}\n\n  {"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"50"}}}');
    const cut = rest.indexOf(Buffer.from('€')) + 1;
    const second = it.next();
    await flushed(watchRes!, rest.subarray(0, cut));
    watchRes!.write(rest.subarray(cut));
    expect((await second).value).toEqual({ type: 'MODIFIED', object: { metadata: { name: 'b', annotations: { x: '€ {"}[ 𝄞' } } } });
    expect((await it.next()).value).toMatchObject({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '50' } } });

    const end = it.next();
    watchRes!.end();
    expect((await end).done).toBe(true);
  });

  it('decodes a byte-at-a-time stream', async () => {
    const events: WatchEvent[] = [];
    const done = (async () => {
      for await (const ev of client.watch(PODS, undefined)) events.push(ev);
    })();
    await waitFor(() => watchRes !== undefined);
    const payload = Buffer.from('{"type":"ADDED","object":{"metadata":{"name":"ü"}}}{"type":"DELETED","object":{"metadata":{"name":"v"}}}');
    for (const byte of payload) await flushed(watchRes!, Buffer.from([byte]));
    watchRes!.end();
    await done;
    expect(events.map((e) => [e.type, e.object.metadata?.name])).toEqual([['ADDED', 'ü'], ['DELETED', 'v']]);
  });

  it('throws an ERROR event as ApiError with the Status code (410 Expired)', async () => {
    const events: WatchEvent[] = [];
    const p = (async () => {
      for await (const ev of client.watch(PODS, 'default', { resourceVersion: '1' })) events.push(ev);
    })();
    await waitFor(() => watchRes !== undefined);
    watchRes!.write('{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n');
    watchRes!.write('{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 1 (90)","reason":"Expired","code":410}}\n');
    const err = await caught(p);
    expect(err.code).toBe(410);
    expect(err.reason).toBe('Expired');
    expect(err.message).toBe('too old resource version: 1 (90)');
    expect(events).toHaveLength(1);
  });

  it('throws an HTTP error answer to the watch request', async () => {
    server.intercept = (_req, res) => {
      res.writeHead(410, { 'content-type': 'application/json' }).end('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","reason":"Expired","code":410,"message":"gone"}');
      return true;
    };
    const err = await caught((async () => {
      for await (const _ of client.watch(PODS, 'default')) { /* none */ }
    })());
    expect(err.code).toBe(410);
  });

  it('throws 503 when the connection drops mid-stream', async () => {
    const p = (async () => {
      for await (const _ of client.watch(PODS, 'default')) { /* none */ }
    })();
    await waitFor(() => watchRes !== undefined);
    watchRes!.write('{"type":"ADDED","object":{"metadata":{"na');
    watchRes!.socket!.destroy();
    const err = await caught(p);
    expect(err.code).toBe(503);
    expect(err.message).toContain(server.url);
  });

  it('ends quietly when aborted, and closes the connection when the consumer stops early', async () => {
    const ctl = new AbortController();
    const seen: string[] = [];
    const p = (async () => {
      for await (const ev of client.watch(PODS, 'default', { signal: ctl.signal })) seen.push(ev.type);
    })();
    await waitFor(() => watchRes !== undefined);
    watchRes!.write('{"type":"ADDED","object":{}}');
    await waitFor(() => seen.length === 1);
    ctl.abort();
    await p;

    watchRes = undefined;
    let closed = false;
    const p2 = (async () => {
      for await (const _ of client.watch(PODS, 'default')) break;
    })();
    await waitFor(() => watchRes !== undefined);
    watchRes!.on('close', () => { closed = true; });
    watchRes!.write('{"type":"ADDED","object":{}}');
    await p2;
    await waitFor(() => closed, 5000, 'the server to see the watch closed');
  });

  it('sets no body timeout on watches', async () => {
    // A quiet watch must survive undici's default 300 s body timeout; we can only check the stream stays open
    // across a normal request on the same client.
    const it = client.watch(PODS, 'default')[Symbol.asyncIterator]();
    const next = it.next();
    await waitFor(() => watchRes !== undefined);
    server.intercept = undefined;
    await client.list(PODS, 'default');
    watchRes!.end('{"type":"ADDED","object":{}}');
    expect((await next).value).toEqual({ type: 'ADDED', object: {} });
  });
});

describe('JsonObjectDecoder', () => {
  it('splits concatenated objects regardless of chunking', () => {
    const text = '{"a":"}{"} {"b":[1,{"c":"\\\\"}]}\n{"d":"\\"{"}';
    for (let size = 1; size <= text.length; size++) {
      const d = new JsonObjectDecoder();
      const out: unknown[] = [];
      for (let i = 0; i < text.length; i += size) out.push(...d.push(text.slice(i, i + size)));
      d.end();
      expect(out).toEqual([{ a: '}{' }, { b: [1, { c: '\\' }] }, { d: '"{' }]);
    }
  });

  it('rejects text between objects and a stream ending inside one', () => {
    expect(() => new JsonObjectDecoder().push('{"a":1} garbage')).toThrow(/unexpected "g"/);
    const d = new JsonObjectDecoder();
    d.push('{"a":');
    expect(() => d.end()).toThrow(/ended inside an object/);
  });
});

describe('ApiClient.fromKubeconfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-kubeconfig-'));
  const write = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it("uses the current context's cluster server and user token", async () => {
    const path = write('config', `
apiVersion: v1
kind: Config
current-context: k8ts
clusters:
- name: other
  cluster: { server: "http://127.0.0.1:1" }
- name: local
  cluster:
    server: ${server.url}
contexts:
- name: k8ts
  context: { cluster: local, user: admin }
users:
- name: admin
  user: { token: s3cret }
`);
    const c = ApiClient.fromKubeconfig(path);
    try {
      expect(c.server).toBe(server.url);
      await c.list(PODS, 'default');
      expect(server.requests.at(-1)!.headers.authorization).toBe('Bearer s3cret');
    } finally {
      await c.close();
    }
  });

  it('merges KUBECONFIG files, first value winning', async () => {
    const a = write('a', 'current-context: ctx\n');
    const b = write('b', `current-context: ignored
contexts: [{ name: ctx, context: { cluster: c } }]
clusters: [{ name: c, cluster: { server: "${server.url}" } }]
`);
    const old = process.env.KUBECONFIG;
    process.env.KUBECONFIG = [join(dir, 'missing'), a, b].join(':');
    try {
      const c = ApiClient.fromKubeconfig();
      expect(c.server).toBe(server.url);
      await c.close();
    } finally {
      if (old === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = old;
    }
  });

  it('explains a missing file or context', () => {
    expect(() => ApiClient.fromKubeconfig(join(dir, 'nope'))).toThrow(/no kubeconfig found .*set KUBECONFIG or pass --server/);
    expect(() => ApiClient.fromKubeconfig(write('noctx', 'current-context: x\n'))).toThrow(/context "x" not found/);
  });
});

describe('ApiClient throttling', () => {
  it('retries a 429 after its Retry-After, then succeeds', async () => {
    let calls = 0;
    const server = createServer((_req, res) => {
      calls++;
      if (calls < 3) { res.writeHead(429, { 'retry-after': '0', 'content-type': 'application/json' }).end('{"kind":"Status","apiVersion":"v1","code":429,"reason":"TooManyRequests","message":"slow down"}'); return; }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"x"}}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    const client = new ApiClient({ server: `http://127.0.0.1:${port}` });
    try {
      const got = await client.get(CONFIGMAPS, 'default', 'x');
      expect(got.metadata?.name).toBe('x');
      expect(calls).toBe(3);
    } finally {
      await client.close();
      server.close();
    }
  });
});
