import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerClient, DockerError, demux, dockerSocketPath } from './docker-client.js';

/** One multiplexed frame: stream type, 3 zero bytes, big-endian length, payload. */
function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

async function run(chunks: Buffer[], opts?: Parameters<typeof demux>[0]): Promise<string> {
  let out = '';
  for await (const chunk of Readable.from(chunks).pipe(demux(opts))) out += (chunk as Buffer).toString();
  return out;
}

describe('demux', () => {
  const stream = Buffer.concat([frame(1, 'out one\n'), frame(2, 'err one\n'), frame(1, ''), frame(1, 'out two\n'), frame(2, 'err ✓\n')]);

  it('merges stdout and stderr in order when frames arrive whole or together', async () => {
    const merged = 'out one\nerr one\nout two\nerr ✓\n';
    expect(await run([stream])).toBe(merged);
    expect(await run([frame(1, 'a'), frame(2, 'b'), frame(1, 'c')])).toBe('abc');
  });

  it('reassembles frames split at every possible byte boundary', async () => {
    for (let cut = 1; cut < stream.length; cut++) {
      expect(await run([stream.subarray(0, cut), stream.subarray(cut)])).toBe('out one\nerr one\nout two\nerr ✓\n');
    }
    const bytes = [...stream].map((b) => Buffer.from([b]));
    expect(await run(bytes)).toBe('out one\nerr one\nout two\nerr ✓\n');
  });

  it('separates stderr when asked', async () => {
    const err: Buffer[] = [];
    const out = await run([stream.subarray(0, 13), stream.subarray(13, 30), stream.subarray(30)], { onStderr: (c) => err.push(c) });
    expect(out).toBe('out one\nout two\n');
    expect(Buffer.concat(err).toString()).toBe('err one\nerr ✓\n');
  });
});

describe('dockerSocketPath', () => {
  it('accepts unix:// URLs and paths, refuses other schemes', () => {
    expect(dockerSocketPath('unix:///var/run/docker.sock')).toBe('/var/run/docker.sock');
    expect(dockerSocketPath('/tmp/x.sock')).toBe('/tmp/x.sock');
    expect(() => dockerSocketPath('tcp://127.0.0.1:2375')).toThrow(/only unix sockets/);
  });
});

describe('DockerClient against a fake engine', () => {
  let dir: string;
  let server: http.Server;
  let client: DockerClient;
  const seen: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'k8ts-docker-client-'));
    server = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      const url = new URL(req.url!, 'http://docker');
      const json = (status: number, body: unknown) => res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
      switch (`${req.method} ${url.pathname}`) {
        case 'GET /v1.41/_ping': return res.end('OK');
        case 'GET /v1.41/containers/json': return json(200, [{ Id: 'abc', Labels: { a: 'b' } }]);
        case 'GET /v1.41/containers/nope/json': return json(404, { message: 'No such container: nope' });
        case 'POST /v1.41/containers/create': return json(409, { message: `Conflict. The container name "/${url.searchParams.get('name')}" is already in use` });
        case 'POST /v1.41/containers/abc/stop': return res.writeHead(304).end();
        case 'POST /v1.41/containers/abc/start': return res.writeHead(500, { 'Content-Type': 'text/plain' }).end('driver failed\n');
        case 'POST /v1.41/images/create':
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.write('{"status":"Pulling from library/x"}\n{"status":"Downloading","progress');
          return res.end('Detail":{}}\n{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}\n');
        default: return json(404, { message: 'page not found' });
      }
    });
    await new Promise<void>((resolve) => server.listen(path.join(dir, 'docker.sock'), resolve));
    client = new DockerClient(`unix://${path.join(dir, 'docker.sock')}`);
  });

  afterAll(async () => {
    await client?.close();
    await new Promise((resolve) => server?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('prefixes the API version and encodes queries', async () => {
    await client.ping();
    expect(await client.listContainers({ all: true, labels: ['io.kubernetes.pod.uid=u1'] })).toEqual([{ Id: 'abc', Labels: { a: 'b' } }]);
    expect(seen).toContain('GET /v1.41/_ping');
    const list = new URL(seen.find((s) => s.startsWith('GET /v1.41/containers/json'))!.slice(4), 'http://docker');
    expect(list.searchParams.get('all')).toBe('1');
    expect(JSON.parse(list.searchParams.get('filters')!)).toEqual({ label: ['io.kubernetes.pod.uid=u1'] });
  });

  it('turns unexpected statuses into DockerErrors with the engine message', async () => {
    const notFound = await client.inspectContainer('nope').catch((err: unknown) => err);
    expect(notFound).toBeInstanceOf(DockerError);
    expect(notFound).toMatchObject({ statusCode: 404, isNotFound: true, message: 'No such container: nope' });
    const conflict = await client.createContainer('k8s_x', { Image: 'busybox' }).catch((err: unknown) => err);
    expect(conflict).toMatchObject({ statusCode: 409, isConflict: true, isNotFound: false });
    expect((conflict as Error).message).toMatch(/"\/k8s_x" is already in use/);
    await expect(client.startContainer('abc')).rejects.toMatchObject({ statusCode: 500, message: 'driver failed' });
  });

  it('accepts the statuses an endpoint allows (304 from stop)', async () => {
    await expect(client.stopContainer('abc', 1)).resolves.toBeUndefined();
  });

  it('fails a pull on an error line in a 200 progress stream', async () => {
    await expect(client.pullImage('x')).rejects.toMatchObject({ name: 'DockerError', message: 'manifest unknown' });
    expect(seen.some((s) => s.includes('/images/create?fromImage=x&tag=latest'))).toBe(true);
  });

  it('says what to do when no engine listens on the socket', async () => {
    const missing = path.join(dir, 'missing.sock');
    const nowhere = new DockerClient(missing);
    try {
      const err = await nowhere.version().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DockerError);
      expect(err).toMatchObject({ statusCode: 0, isUnreachable: true });
      expect((err as Error).message).toBe(`no Docker engine at ${missing}: start dockerd or pass --docker-socket (or set DOCKER_HOST)`);
    } finally {
      await nowhere.close();
    }
  });
});
