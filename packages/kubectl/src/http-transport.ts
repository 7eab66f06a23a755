import type { HttpTransport } from '@k8ts/api/client';
import type { Dispatcher } from 'undici';
import type { IncomingMessage, Agent as HttpAgent } from 'node:http';
import type * as Https from 'node:https';
import { extraCaCerts } from './extra-ca-certs.js';

/**
 * The API client's transport over node:http(s) with keep-alive: loads in a millisecond where undici takes tens, which
 * is what a CLI run pays for on every invocation. `extraHeaders` go on every request (the Impersonate-* headers;
 * an array is a header repeated).
 */
export async function nodeHttpTransport(server: string, tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; insecureSkipVerify?: boolean },
  extraHeaders: Record<string, string | string[]> = {}): Promise<HttpTransport> {
  const url = new URL(server);
  const secure = url.protocol === 'https:';
  const mod = secure ? await import('node:https') : await import('node:http');
  const agent: HttpAgent = secure
    ? new (mod as typeof Https).Agent({ keepAlive: true, ca: tls?.ca ?? await extraCaCerts(), cert: tls?.cert, key: tls?.key, rejectUnauthorized: !tls?.insecureSkipVerify })
    : new mod.Agent({ keepAlive: true });
  return {
    request: (opts) => new Promise<Dispatcher.ResponseData>((resolve, reject) => {
      const req = mod.request({
        protocol: url.protocol, hostname: url.hostname, port: url.port || (secure ? 443 : 80), method: opts.method, path: opts.path,
        headers: { ...opts.headers, ...extraHeaders, ...(opts.body !== undefined ? { 'content-length': String(Buffer.byteLength(opts.body)) } : {}) },
        agent, signal: opts.signal,
      }, (res: IncomingMessage) => {
        const body = Object.assign(res, {
          text: async () => {
            const chunks: Buffer[] = [];
            for await (const c of res) chunks.push(c as Buffer);
            return Buffer.concat(chunks).toString('utf8');
          },
          dump: async () => { res.resume(); },
        });
        resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body } as unknown as Dispatcher.ResponseData);
      });
      req.on('error', reject);
      if (opts.body !== undefined) req.end(opts.body);
      else req.end();
    }),
    destroy: async () => { agent.destroy(); },
  };
}
