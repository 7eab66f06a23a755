import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { IngressProxy } from './proxy.js';
import type { CertificateStore } from './tls.js';

export interface IngressListeners {
  /** Bound `host:port` of every HTTP and HTTPS listener. */
  http: string[];
  https: string[];
  close(): Promise<void>;
}

function listen(server: http.Server, host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject).listen({ host, port }, () => {
      server.off('error', reject);
      resolve(`${host}:${(server.address() as AddressInfo).port}`);
    });
  });
}

/**
 * The HTTP and HTTPS servers on each address (port 0 picks one port for the first address and uses it for the
 * rest). HTTPS picks its certificate by SNI from the store.
 */
export async function listenIngress(opts: { proxy: IngressProxy; certs: CertificateStore; addresses: string[]; httpPort: number; httpsPort: number }): Promise<IngressListeners> {
  const servers: http.Server[] = [];
  // Every client socket, upgraded tunnels included (closeAllConnections only knows HTTP ones), for close().
  const sockets = new Set<Duplex>();
  const bound = { http: [] as string[], https: [] as string[] };
  const make = (scheme: 'http' | 'https'): http.Server => {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => opts.proxy.handle(req, res, scheme);
    const server = scheme === 'http'
      ? http.createServer(handler)
      : https.createServer({ SNICallback: (name, cb) => cb(null, opts.certs.contextFor(name)), ...opts.certs.fallbackPair }, handler);
    server.on('upgrade', (req, socket, head) => opts.proxy.upgrade(req, socket, head, scheme));
    server.on('clientError', (_err, socket) => { if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'); else socket.destroy(); });
    server.on(scheme === 'http' ? 'connection' : 'secureConnection', (socket: Duplex) => { sockets.add(socket); socket.once('close', () => sockets.delete(socket)); });
    server.keepAliveTimeout = 75_000;
    server.headersTimeout = 60_000;
    servers.push(server);
    return server;
  };
  try {
    for (const [scheme, want] of [['http', opts.httpPort], ['https', opts.httpsPort]] as const) {
      let port = want;
      for (const host of opts.addresses) {
        const addr = await listen(make(scheme), host, port);
        port = Number(addr.slice(addr.lastIndexOf(':') + 1));
        bound[scheme].push(addr);
      }
    }
  } catch (err) {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    throw err;
  }
  return {
    ...bound,
    close: async () => {
      const closed = Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
