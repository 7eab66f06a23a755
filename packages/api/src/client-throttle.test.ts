import { createServer, type Server } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../test/fake-apiserver.js';
import { ApiClient } from './client.js';
import { FakeClock } from './clock.js';
import { CONFIGMAPS } from './resources.js';

let server: Server;
let url: string;
let calls: number;
let throttleFirst: number;

beforeEach(async () => {
  calls = 0;
  throttleFirst = 0;
  server = createServer((_req, res) => {
    calls++;
    if (calls <= throttleFirst) {
      res.writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' })
        .end('{"kind":"Status","apiVersion":"v1","code":429,"reason":"TooManyRequests","message":"slow down"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"x"}}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterEach(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

describe('ApiClient client-side rate limit (qps, burst)', () => {
  it('sends a burst at once, then waits on the clock for each further token', async () => {
    const clock = new FakeClock();
    const client = new ApiClient({ server: url, qps: 10, burst: 2, clock });
    try {
      const gets = [0, 1, 2, 3].map(() => client.get(CONFIGMAPS, 'default', 'x'));
      await Promise.all(gets.slice(0, 2));
      expect(calls).toBe(2);
      expect(clock.pending()).toBe(2);
      clock.advance(100);
      await gets[2];
      expect(calls).toBe(3);
      clock.advance(100);
      await gets[3];
      expect(calls).toBe(4);
    } finally {
      await client.close();
    }
  });

  it('without qps there is no client-side limit', async () => {
    const clock = new FakeClock();
    const client = new ApiClient({ server: url, clock });
    try {
      await Promise.all(Array.from({ length: 20 }, () => client.get(CONFIGMAPS, 'default', 'x')));
      expect(calls).toBe(20);
      expect(clock.pending()).toBe(0);
    } finally {
      await client.close();
    }
  });
});

describe('ApiClient 429 retry', () => {
  it('waits Retry-After on the injected clock (jittered 50–100%) before retrying', async () => {
    throttleFirst = 1;
    const clock = new FakeClock();
    const client = new ApiClient({ server: url, clock, random: () => 1 });
    try {
      let done = false;
      const got = client.get(CONFIGMAPS, 'default', 'x').finally(() => { done = true; });
      await waitFor(() => clock.pending() === 1, 5000, 'the retry timer');
      expect(calls).toBe(1);
      clock.advance(999);
      await new Promise((r) => setImmediate(r));
      expect(done).toBe(false);
      clock.advance(1);
      expect((await got).metadata?.name).toBe('x');
      expect(calls).toBe(2);
    } finally {
      await client.close();
    }
  });

  it('stops waiting when the request is aborted', async () => {
    throttleFirst = 1;
    const clock = new FakeClock();
    const client = new ApiClient({ server: url, clock });
    const ac = new AbortController();
    try {
      const got = client.get(CONFIGMAPS, 'default', 'x', { signal: ac.signal });
      await waitFor(() => clock.pending() === 1, 5000, 'the retry timer');
      ac.abort(new Error('cancelled'));
      await expect(got).rejects.toThrow('cancelled');
      expect(calls).toBe(1);
    } finally {
      await client.close();
    }
  });
});
