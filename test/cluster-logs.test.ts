// scripts/lib/logs.mjs: the merged log view of scripts/cluster (pino and etcd lines formatted, files merged and followed).
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JS module shared with scripts/cluster
import { followLogs, lineFormatter, tailMerged } from '../scripts/lib/logs.mjs';
import { eventually } from './harness.js';

const dir = mkdtempSync(path.join(tmpdir(), 'k8ts-logs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pino = (time: number, msg: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ level: 30, time, pid: 1, hostname: 'h', component: 'kubelet', msg, ...extra });

describe('the merged log view', () => {
  it('formats pino and etcd (zap) lines with the component, time, level, message and fields; other lines as they are', () => {
    const format = lineFormatter(['etcd', 'kubelet-node-1'], false);
    expect(format('kubelet-node-1', pino(Date.UTC(2026, 0, 1, 12, 0, 1, 234), 'bound pod', { pod: 'default/web', node: 'node 1' })).text)
      .toBe('kubelet-node-1 | 12:00:01.234 INFO  bound pod pod=default/web node="node 1"');
    expect(format('etcd', '{"level":"warn","ts":"2026-01-01T12:00:02.000Z","caller":"x.go:1","msg":"slow fdatasync","took":"1.2s"}').text)
      .toBe('etcd           | 12:00:02.000 WARN  slow fdatasync took=1.2s');
    expect(format('etcd', '--- 2026-01-01T12:00:00.000Z scripts/cluster starts etcd ---').text).toBe('etcd           | --- 2026-01-01T12:00:00.000Z scripts/cluster starts etcd ---');
    const err = format('kubelet-node-1', JSON.stringify({ level: 50, time: 0, msg: 'failed', err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at x' } })).text;
    expect(err).toContain('ERROR failed err="Error: boom"');
    expect(err).not.toContain('at x');
    // Colours only when asked: the name and level painted.
    expect(lineFormatter(['etcd'], true)('etcd', pino(0, 'hi')).text).toMatch(/^\x1b\[36metcd\x1b\[0m \| /);
  });

  it('merges the last lines of each file in time order', () => {
    const a = path.join(dir, 'a.log');
    const b = path.join(dir, 'b.log');
    writeFileSync(a, [pino(1000, 'a1'), pino(3000, 'a3'), pino(5000, 'a5')].join('\n') + '\n');
    writeFileSync(b, [pino(2000, 'b2'), 'a plain line', pino(4000, 'b4')].join('\n') + '\n');
    const lines = tailMerged([{ name: 'a', file: a }, { name: 'b', file: b }, { name: 'missing', file: path.join(dir, 'none.log') }], { lines: 2, colour: false });
    expect(lines.map((l: string) => l.replace(/ \d\d:\d\d:\d\d\.\d{3} INFO +/, ' ').replace(/ +\|/, ' |'))).toEqual(['b | a plain line', 'a | a3', 'b | b4', 'a | a5']);
  });

  it('follows the files from their end: whole lines as they are written, a file created later, a truncated one again', async () => {
    const a = path.join(dir, 'f-a.log');
    const later = path.join(dir, 'f-later.log');
    writeFileSync(a, `${pino(0, 'old')}\n`);
    const out = new PassThrough();
    let text = '';
    out.on('data', (c) => { text += String(c); });
    const ac = new AbortController();
    const following = followLogs([{ name: 'a', file: a }, { name: 'later', file: later }], { out, colour: false, signal: ac.signal, intervalMs: 20 });
    try {
      appendFileSync(a, `${pino(0, 'new')}\n{"level":30,"time":0,"msg":"par`);
      await eventually(() => text.includes('new'), 'the new line');
      expect(text).not.toContain('old');
      expect(text).not.toContain('par');
      appendFileSync(a, 'tial"}\n');
      await eventually(() => text.includes('partial'), 'the completed line');
      writeFileSync(later, 'hello from a new file\n');
      await eventually(() => text.includes('later | hello from a new file'), 'the new file');
      writeFileSync(a, 'after truncation\n');
      await eventually(() => text.includes('a     | after truncation'), 'the truncated file read again');
    } finally {
      ac.abort();
      await following;
    }
  });
});
