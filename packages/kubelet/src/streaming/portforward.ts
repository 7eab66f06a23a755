import type { Duplex } from 'node:stream';
import { header, serveSpdy, type SpdyConnection, type SpdyStream } from './spdy.js';

/** X-Stream-Protocol-Version of port-forward over SPDY, and the WebSocket subprotocol that tunnels the same SPDY. */
export const PORTFORWARD_PROTOCOL = 'portforward.k8s.io';
export const PORTFORWARD_WEBSOCKET_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';

interface Pair { port: number; error?: SpdyStream; data?: SpdyStream }

/**
 * Port-forward over SPDY (upstream's kubelet cri/streaming/portforward/httpstream.go): per forwarded connection the
 * client opens an `error` and a `data` stream carrying the same `port` and `requestid` headers. Once both are there
 * `dial(port)` connects into the pod and the data stream is piped to it both ways; a failure is written on the error
 * stream (`error forwarding port …`). Both streams are closed when the connection ends. Streams without a valid
 * port are reset. One connection failing or closing leaves the others and the session alone.
 */
export function servePortForward(socket: Duplex, pod: { name: string; uid: string }, dial: (port: number) => Promise<Duplex>): SpdyConnection {
  const pairs = new Map<string, Pair>();
  return serveSpdy(socket, (stream) => {
    stream.on('error', () => undefined);
    const type = header(stream, 'streamtype');
    const port = Number(header(stream, 'port'));
    if (!Number.isInteger(port) || port < 1 || port > 65535 || (type !== 'error' && type !== 'data')) { stream.abort(); return; }
    // Clients before requestID paired an error stream with the data stream opened right after it (ids 2 apart).
    const id = header(stream, 'requestid') ?? String(type === 'error' ? stream.id : stream.id - 2);
    const pair = pairs.get(id) ?? { port };
    pairs.set(id, pair);
    if (pair[type]) { stream.abort(); return; }
    pair[type] = stream;
    if (!pair.error || !pair.data) return;
    pairs.delete(id);
    void forward(pair as Required<Pair>, pod, dial);
  });
}

async function forward(pair: Required<Pair>, pod: { name: string; uid: string }, dial: (port: number) => Promise<Duplex>): Promise<void> {
  const { error, data, port } = pair;
  error.resume(); // the client writes nothing on it
  let target: Duplex;
  try {
    target = await dial(port);
  } catch (err) {
    error.end(`error forwarding port ${port} to pod ${pod.name}, uid ${pod.uid}: ${(err as Error).message}`);
    data.end();
    return;
  }
  target.on('error', () => undefined);
  data.pipe(target);
  target.pipe(data);
  const done = () => { if (!error.writableEnded) error.end(); };
  target.once('close', () => { done(); if (!data.writableEnded) data.end(); });
  data.once('close', () => { done(); target.destroy(); });
}
