/** The slice of spdy-transport (no types of its own) k8ts uses: SPDY/3.1 connections over a duplex (the kubelet serves, kubectl port-forward dials). */
declare module 'spdy-transport' {
  import type { Duplex } from 'node:stream';
  import type { EventEmitter } from 'node:events';

  export interface SpdyStream extends Duplex {
    id: number;
    /** The SYN_STREAM's header block, names in lower case. */
    headers: Record<string, string>;
    respond(status: number, headers: Record<string, string>, callback?: () => void): void;
    abort(code?: string, callback?: () => void): void;
  }

  export interface SpdyConnection extends EventEmitter {
    start(version: number): void;
    end(callback?: () => void): void;
    destroyStreams(err?: Error): void;
    on(event: 'stream', listener: (stream: SpdyStream) => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
    on(event: 'close', listener: () => void): this;
    on(event: string, listener: (...args: any[]) => void): this;
  }

  const transport: {
    connection: {
      create(socket: Duplex, options: { protocol: 'spdy' | 'http2'; isServer: boolean; windowSize?: number; maxChunk?: number | false; acceptPush?: boolean }): SpdyConnection;
    };
  };
  export default transport;
}
