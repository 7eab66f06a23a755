import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import type { IngressProxy } from './proxy.js';
import type { CertificateStore } from './tls.js';

export interface IngressListeners {
  /** Bound `host:port` of every HTTP and HTTPS listener. */
  http: string[];
  https: string[];
  close(): Promise<void>;
}

function listen(server: net.Server, host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject).listen({ host, port }, () => {
      server.off('error', reject);
      resolve(`${host}:${(server.address() as AddressInfo).port}`);
    });
  });
}

/**
 * The HTTP and HTTPS listeners on each address (port 0 picks one port for the first address and uses it for the
 * rest): plain TCP servers whose connections the proxy serves itself. HTTPS picks its certificate by SNI from the store.
 */
export async function listenIngress(opts: { proxy: IngressProxy; certs: CertificateStore; addresses: string[]; httpPort: number; httpsPort: number }): Promise<IngressListeners> {
  const servers: net.Server[] = [];
  // Every accepted TCP socket (TLS ones mid-handshake too, and upgraded tunnels), for close().
  const sockets = new Set<net.Socket>();
  const bound = { http: [] as string[], https: [] as string[] };
  // Half-open allowed: a client that shuts its side after a request still gets the response (as node:http's server).
  const make = (scheme: 'http' | 'https'): net.Server => {
    const server = scheme === 'http'
      ? net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => opts.proxy.handle(socket, 'http'))
      : tls.createServer({ allowHalfOpen: true, noDelay: true, SNICallback: (name, cb) => cb(null, opts.certs.contextFor(name)), ...opts.certs.fallbackPair },
        (socket) => opts.proxy.handle(socket, 'https'));
    server.on('connection', (socket: net.Socket) => { sockets.add(socket); socket.once('close', () => sockets.delete(socket)); });
    // A failed handshake: the socket is destroyed already; nothing to answer.
    if (scheme === 'https') server.on('tlsClientError', () => {});
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
