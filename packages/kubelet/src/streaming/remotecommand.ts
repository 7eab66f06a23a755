import { EventEmitter } from 'node:events';
import { PassThrough, Writable, type Duplex, type Readable } from 'node:stream';
import type { WebSocket } from 'ws';
import type { StreamOptions, StreamSession } from '../runtime.js';
import { header, serveSpdy, type SpdyStream } from './spdy.js';

/*
 * The remote-command protocols (upstream's k8s.io/apimachinery/pkg/util/remotecommand and the kubelet's
 * cri/streaming/remotecommand) on the server side: the caller's stdin, stdout, stderr, error and resize streams,
 * either as WebSocket channels or as SPDY streams, joined to a StreamSession.
 */

/** Channel numbers of the WebSocket protocols: the first byte of every binary message. */
export const CHANNEL = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

/** WebSocket subprotocols served, in preference order. v5 adds the close channel (255) that half-closes stdin. */
export const WEBSOCKET_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;

/** X-Stream-Protocol-Version values served over SPDY (v5 over SPDY is v4: its close signal exists only on WebSockets). */
export const SPDY_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;

/** metav1.Status as the error channel carries it (v4 and later). */
export interface ExecStatus {
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  code?: number;
  details?: { causes: { reason: string; message: string }[] };
}

export const successStatus = (): ExecStatus => ({ metadata: {}, status: 'Success' });

/** A non-zero exit as upstream reports it: reason NonZeroExitCode, the code in a cause of type ExitCode. */
export function exitStatus(command: string[], code: number): ExecStatus {
  return {
    metadata: {}, status: 'Failure', reason: 'NonZeroExitCode',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${code}`,
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

export function internalErrorStatus(message: string): ExecStatus {
  return { metadata: {}, status: 'Failure', reason: 'InternalError', code: 500, message: `Internal error occurred: ${message}` };
}

/** The caller's side of a remote command, whatever carries it. */
export interface ClientStreams {
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  /** Emits 'resize' with {width, height}; 'close' when the caller goes away. */
  events: EventEmitter;
  writeStatus(status: ExecStatus): Promise<void>;
  close(): void;
}

/** TerminalSize as the resize channel/stream sends it. */
function parseSizes(text: string): { width: number; height: number }[] {
  const out: { width: number; height: number }[] = [];
  // Concatenated JSON objects (a json.Decoder on the stream); each is small and flat.
  for (const m of text.matchAll(/\{[^{}]*\}/g)) {
    try {
      const s = JSON.parse(m[0]) as { Width?: number; Height?: number };
      if (typeof s.Width === 'number' && typeof s.Height === 'number') out.push({ width: s.Width, height: s.Height });
    } catch { /* not a size */ }
  }
  return out;
}

/**
 * The WebSocket channel protocol (v4/v5.channel.k8s.io): binary messages whose first byte is the channel. Stdin
 * comes on 0, resizes on 4 (JSON TerminalSize), and with v5 `[255, 0]` closes stdin; stdout goes out on 1, stderr
 * on 2, the final Status on 3.
 */
export function websocketStreams(ws: WebSocket, opts: StreamOptions): ClientStreams {
  const events = new EventEmitter();
  const v5 = ws.protocol === 'v5.channel.k8s.io';
  const stdin = opts.stdin ? new PassThrough() : undefined;
  let resizeText = '';
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const msg = isBinary ? data : Buffer.from(data);
    if (!msg.length) return;
    const payload = msg.subarray(1);
    switch (msg[0]) {
      case CHANNEL.stdin: if (stdin && !stdin.writableEnded && payload.length) stdin.write(payload); break;
      case CHANNEL.resize: {
        resizeText += payload.toString();
        const sizes = parseSizes(resizeText);
        if (sizes.length) resizeText = '';
        for (const s of sizes) events.emit('resize', s);
        break;
      }
      case CHANNEL.close: if (v5 && payload[0] === CHANNEL.stdin) stdin?.end(); break;
      default: break; // writes on output channels from the client are ignored, as upstream
    }
  });
  ws.on('close', () => { stdin?.end(); events.emit('close'); });
  ws.on('error', () => undefined);
  const writer = (channel: number) => new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (ws.readyState !== ws.OPEN) { cb(); return; }
      ws.send(Buffer.concat([Buffer.of(channel), chunk]), { binary: true }, () => cb());
    },
  });
  return {
    ...(stdin ? { stdin } : {}),
    ...(opts.stdout ? { stdout: writer(CHANNEL.stdout) } : {}),
    ...(opts.stderr && !opts.tty ? { stderr: writer(CHANNEL.stderr) } : {}),
    events,
    writeStatus: (status) => new Promise((resolve) => {
      if (ws.readyState !== ws.OPEN) { resolve(); return; }
      ws.send(Buffer.concat([Buffer.of(CHANNEL.error), Buffer.from(JSON.stringify(status))]), { binary: true }, () => resolve());
    }),
    close: () => { if (ws.readyState === ws.OPEN) ws.close(1000); },
  };
}

/**
 * The SPDY protocol (v4.channel.k8s.io): the client opens one stream per kind, named by its `streamtype` header
 * (error, stdin, stdout, stderr, resize). Resolves once every stream the options call for is there; rejects after
 * `timeoutMs` (upstream's stream creation timeout) or when the connection ends first.
 */
export function spdyStreams(socket: Duplex, opts: StreamOptions, timeoutMs = 30_000): Promise<ClientStreams> {
  const wanted = new Set(['error', ...(opts.stdin ? ['stdin'] : []), ...(opts.stdout ? ['stdout'] : []),
    ...(opts.stderr && !opts.tty ? ['stderr'] : []), ...(opts.tty ? ['resize'] : [])]);
  const streams = new Map<string, SpdyStream>();
  const events = new EventEmitter();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { conn.destroyStreams(); socket.destroy(); reject(new Error('timed out waiting for client to create streams')); }, timeoutMs);
    const conn = serveSpdy(socket, (stream) => {
      const type = header(stream, 'streamtype') ?? '';
      stream.on('error', () => undefined);
      if (!wanted.has(type) || streams.has(type)) { stream.abort(); return; }
      streams.set(type, stream);
      if (type === 'resize') {
        let text = '';
        stream.on('data', (d: Buffer) => {
          text += d.toString();
          const sizes = parseSizes(text);
          if (sizes.length) text = '';
          for (const s of sizes) events.emit('resize', s);
        });
      }
      if (type === 'stdout' || type === 'stderr' || type === 'error') stream.resume();
      if (streams.size < wanted.size) return;
      clearTimeout(timer);
      const error = streams.get('error')!;
      resolve({
        ...(streams.has('stdin') ? { stdin: streams.get('stdin')! } : {}),
        ...(streams.has('stdout') ? { stdout: streams.get('stdout')! } : {}),
        ...(streams.has('stderr') ? { stderr: streams.get('stderr')! } : {}),
        events,
        writeStatus: (status) => new Promise((res) => {
          // Success is an empty error stream; a failure is its Status.
          if (status.status === 'Success') error.end(() => res());
          else error.end(JSON.stringify(status), () => res());
        }),
        close: () => { conn.end(); setTimeout(() => socket.destroy(), 1000).unref(); },
      });
    });
    socket.once('close', () => { clearTimeout(timer); events.emit('close'); reject(new Error('the connection closed before its streams were created')); });
  });
}

/**
 * Runs a remote command between the caller's streams and a session from `start`: stdin in, output out, resizes
 * passed on, and at the end the Status on the error stream (Success, NonZeroExitCode, or an InternalError when the
 * session could not start). A caller going away tears the session down.
 */
export async function runRemoteCommand(client: ClientStreams, start: () => Promise<StreamSession>, command: string[]): Promise<void> {
  // Resizes may come while the session starts (kubectl sends the terminal's size at once): kept until it runs.
  const sizes: { width: number; height: number }[] = [];
  let session: StreamSession | undefined;
  let resizing = Promise.resolve();
  const apply = () => { while (session && sizes.length) { const size = sizes.shift()!; const s = session; resizing = resizing.then(() => s.resize(size)); } };
  client.events.on('resize', (size: { width: number; height: number }) => { sizes.push(size); apply(); });
  try {
    session = await start();
  } catch (err) {
    await client.writeStatus(internalErrorStatus(`error executing command in container: ${(err as Error).message}`));
    client.close();
    return;
  }
  apply();
  const started = session;
  client.events.once('close', () => started.close());
  if (client.stdin && started.stdin) {
    client.stdin.pipe(started.stdin as unknown as Writable);
  }
  const outputs: Promise<unknown>[] = [];
  const join = (from: Readable, to: Writable | undefined) => {
    if (!to) { from.resume(); return; }
    from.pipe(to, { end: false });
    // Ended by hand, so that the Status goes out only after every byte of output was handed on.
    outputs.push(new Promise<void>((resolve) => {
      let done = false;
      const end = () => { if (done) return; done = true; to.end(() => resolve()); };
      from.once('end', end);
      from.once('close', end);
      to.once('close', () => resolve());
    }));
  };
  join(started.stdout, client.stdout);
  join(started.stderr, client.stderr);
  let code: number | undefined;
  try {
    code = await started.done;
    await Promise.all(outputs);
  } catch (err) {
    await client.writeStatus(internalErrorStatus(`error executing command in container: ${(err as Error).message}`));
    client.close();
    return;
  }
  await client.writeStatus(code ? exitStatus(command, code) : successStatus());
  client.close();
}
