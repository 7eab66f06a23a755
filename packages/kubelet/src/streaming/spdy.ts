import type { Duplex } from 'node:stream';
import transport, { type SpdyConnection, type SpdyStream } from 'spdy-transport';

export type { SpdyConnection, SpdyStream };

/**
 * A server-side SPDY/3.1 session (what Go's moby/spdystream speaks to kubectl) on an upgraded connection or a
 * WebSocket tunnel, framed by spdy-transport. Every stream the client opens is answered (SYN_REPLY) at once and
 * handed to `onStream` with its headers (lower-case names, as SPDY/3 sends them: `streamtype`, `port`, `requestid`).
 *
 * spdy-transport was written for browsers' SPDY, whose SYN_STREAMs always carry `:method` and `:path`; spdystream's
 * carry only the application's headers. The parser instance of this one connection gets those two pseudo-headers
 * filled in where they are missing, so that it does not reject the frame.
 */
export function serveSpdy(socket: Duplex, onStream: (stream: SpdyStream) => void): SpdyConnection {
  const conn = transport.connection.create(socket, { protocol: 'spdy', isServer: true, windowSize: 1 << 24 });
  const state = (conn as unknown as { _spdyState: SpdyState })._spdyState;
  // spdystream sends no WINDOW_UPDATE (Go's kubelet and kubectl do no SPDY flow control): a sender that waits for
  // one stalls after the first 64 KiB. The send windows of the session and of every stream never run out here;
  // TCP's own flow control still holds the sender back.
  unlimited(state.window.send);
  const cloneWindow = state.streamWindow.clone.bind(state.streamWindow);
  state.streamWindow.clone = (id: number) => {
    const w = cloneWindow(id);
    unlimited(w.send);
    return w;
  };
  const parser = state.parser;
  const parseKVs = parser.parseKVs;
  parser.parseKVs = function (buffer, callback) {
    parseKVs.call(this, buffer, (err, headers) => {
      if (!err && headers && headers[':status'] === undefined) {
        headers[':method'] ??= 'POST';
        headers[':path'] ??= '/';
      }
      callback(err, headers);
    });
  };
  conn.start(3.1);
  conn.on('stream', (stream) => {
    stream.respond(200, {});
    onStream(stream);
  });
  // A peer that goes away mid-frame is an end like any other: the streams see it as their close.
  conn.on('error', () => conn.destroyStreams());
  socket.on('error', () => conn.destroyStreams());
  socket.on('close', () => conn.destroyStreams());
  return conn;
}

interface WindowSide { isEmpty(): boolean; getCurrent(): number }
interface SpdyWindow { send: WindowSide; clone(id: number): SpdyWindow }
interface SpdyState { parser: { parseKVs: ParseKVs }; window: SpdyWindow; streamWindow: SpdyWindow }

function unlimited(side: WindowSide): void {
  side.isEmpty = () => false;
  side.getCurrent = () => 0x7fffffff;
}

type ParseKVs = (this: unknown, buffer: unknown, callback: (err: Error | null, headers?: Record<string, string>) => void) => void;

/** The stream's header `name` (spdystream sends lower-case names; tolerate any case). */
export function header(stream: SpdyStream, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(stream.headers)) if (k.toLowerCase() === lower) return v;
  return undefined;
}
