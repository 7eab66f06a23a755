import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import type { StreamSession } from '../runtime.js';
import { exitStatus, runRemoteCommand, websocketStreams } from './remotecommand.js';

/** A WebSocket stand-in: frames the server sends are kept; `receive` delivers a client frame. */
function fakeSocket(protocol: string) {
  const ws = Object.assign(new EventEmitter(), {
    protocol, OPEN: 1, readyState: 1, sent: [] as Buffer[], closed: false,
    send(data: Buffer, _opts: unknown, cb?: () => void) { this.sent.push(Buffer.from(data)); cb?.(); },
    close() { this.closed = true; this.readyState = 3; this.emit('close'); },
  });
  const receive = (...bytes: (number | string)[]) => ws.emit('message',
    Buffer.concat(bytes.map((b) => (typeof b === 'number' ? Buffer.of(b) : Buffer.from(b)))), true);
  return { ws, receive, frames: () => ws.sent.map((f) => [f[0], f.subarray(1).toString()] as const) };
}

/** A session whose output the test writes and whose stdin it reads. */
function session(code: number | undefined) {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const resizes: { width: number; height: number }[] = [];
  let finish!: () => void;
  const done = new Promise<number | undefined>((resolve) => { finish = () => { stdout.end(); stderr.end(); resolve(code); }; });
  const s: StreamSession = { stdin, stdout, stderr, done, resize: async (r) => { resizes.push(r); }, close: () => undefined };
  return { s, stdin, stdout, stderr, resizes, finish };
}

describe('the WebSocket channel protocol (server side)', () => {
  it('v5: stdin frames in, 255 closes stdin; stdout, stderr, then the Status out, in that order', async () => {
    const { ws, receive, frames } = fakeSocket('v5.channel.k8s.io');
    const client = websocketStreams(ws as unknown as WebSocket, { stdin: true, stdout: true, stderr: true, tty: false });
    const fake = session(0);
    const running = runRemoteCommand(client, async () => fake.s, ['cat']);
    const got: string[] = [];
    fake.stdin.on('data', (d: Buffer) => got.push(d.toString()));
    const stdinEnded = new Promise((resolve) => fake.stdin.on('end', resolve));
    await new Promise((r) => setImmediate(r));
    receive(0, 'ab');
    receive(0, 'c');
    receive(255, 0);
    await stdinEnded;
    expect(got.join('')).toBe('abc');
    fake.stdout.write('out');
    fake.stderr.write('err');
    fake.finish();
    await running;
    expect(frames()).toEqual([[1, 'out'], [2, 'err'], [3, '{"metadata":{},"status":"Success"}']]);
    expect(ws.closed).toBe(true);
  });

  it('resize frames (JSON TerminalSize, possibly split) become resizes; v4 ignores the close channel', async () => {
    const { ws, receive } = fakeSocket('v4.channel.k8s.io');
    const client = websocketStreams(ws as unknown as WebSocket, { stdin: true, stdout: true, stderr: false, tty: true });
    const fake = session(2);
    let stdinEnded = false;
    fake.stdin.on('end', () => { stdinEnded = true; });
    fake.stdin.resume();
    const running = runRemoteCommand(client, async () => fake.s, ['sh']);
    await new Promise((r) => setImmediate(r));
    receive(4, '{"Width":80,');
    receive(4, '"Height":24}');
    receive(4, '{"Width":100,"Height":40}\n');
    receive(255, 0);
    await new Promise((r) => setTimeout(r, 10));
    expect(fake.resizes).toEqual([{ width: 80, height: 24 }, { width: 100, height: 40 }]);
    expect(stdinEnded).toBe(false);
    fake.finish();
    await running;
    expect(JSON.parse(ws.sent.at(-1)!.subarray(1).toString())).toEqual(exitStatus(['sh'], 2));
  });

  it('the exit Status as upstream words it', () => {
    expect(exitStatus(['sh', '-c', 'exit 3'], 3)).toEqual({
      metadata: {}, status: 'Failure', reason: 'NonZeroExitCode',
      message: 'command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
  });

  it('a session that cannot start: an InternalError Status, then the close', async () => {
    const { ws, frames } = fakeSocket('v5.channel.k8s.io');
    const client = websocketStreams(ws as unknown as WebSocket, { stdin: false, stdout: true, stderr: true, tty: false });
    await runRemoteCommand(client, async () => { throw new Error('no such exec'); }, ['x']);
    expect(frames()).toEqual([[3, JSON.stringify({ metadata: {}, status: 'Failure', reason: 'InternalError', code: 500, message: 'Internal error occurred: error executing command in container: no such exec' })]]);
    expect(ws.closed).toBe(true);
  });
});
