// The merged log view of a local cluster: every component's log file, one line each, prefixed with the component's
// name in its own colour; pino and etcd (zap) JSON lines shown as `time LEVEL message key=value…`.
import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as sleep } from 'node:timers/promises';

const PINO_LEVELS = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const LEVEL_COLOURS = { TRACE: 90, DEBUG: 90, INFO: 32, WARN: 33, ERROR: 31, FATAL: 35 };
const NAME_COLOURS = [36, 35, 34, 33, 32, 96, 95, 94, 93, 92, 91];
// Fields every line has, or that the prefix already says.
const HIDDEN = new Set(['level', 'time', 'ts', 'msg', 'message', 'pid', 'hostname', 'component', 'caller', 'v']);

/**
 * Whether to colour output on `stream`: a TTY without NO_COLOR, or FORCE_COLOR set (not '0').
 * @param {NodeJS.WriteStream} stream
 * @returns {boolean}
 */
export function useColour(stream) {
  if (process.env.FORCE_COLOR !== undefined) return process.env.FORCE_COLOR !== '0';
  return Boolean(stream.isTTY) && process.env.NO_COLOR === undefined;
}

/**
 * A formatter of one component's lines: `name | 12:00:01.234 INFO  message key=value`.
 * @param {string[]} names every component's name (for the prefix width and a stable colour each)
 * @param {boolean} colour
 * @returns {(name: string, line: string) => { text: string, time: number | undefined }}
 */
export function lineFormatter(names, colour) {
  const width = Math.max(...names.map((n) => n.length));
  const paint = (code, s) => (colour ? `\x1b[${code}m${s}\x1b[0m` : s);
  return (name, line) => {
    const index = names.indexOf(name);
    const prefix = `${paint(NAME_COLOURS[(index < 0 ? names.length : index) % NAME_COLOURS.length], name.padEnd(width))} |`;
    const parsed = parseLine(line);
    if (!parsed) return { text: `${prefix} ${line}`, time: undefined };
    const { time, level, msg, fields } = parsed;
    const clock = time === undefined ? '' : `${new Date(time).toISOString().slice(11, 23)} `;
    const rest = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`).join(' ');
    const lvl = paint(LEVEL_COLOURS[level] ?? 0, level.padEnd(5));
    return { text: `${prefix} ${paint(90, clock)}${lvl} ${msg}${rest ? ` ${paint(90, rest)}` : ''}`, time };
  };
}

/**
 * A JSON log line of pino (`level` a number, `time` ms) or zap (`level` a word, `ts` RFC 3339) as its parts; undefined
 * for any other line.
 * @param {string} line
 */
export function parseLine(line) {
  if (!line.startsWith('{')) return undefined;
  let obj;
  try { obj = JSON.parse(line); } catch { return undefined; }
  if (!obj || typeof obj !== 'object') return undefined;
  const level = typeof obj.level === 'number' ? PINO_LEVELS[obj.level] ?? String(obj.level) : String(obj.level ?? 'INFO').toUpperCase();
  const raw = obj.time ?? obj.ts;
  const time = typeof raw === 'number' ? raw : typeof raw === 'string' ? Date.parse(raw) : undefined;
  const fields = {};
  for (const [k, v] of Object.entries(obj)) {
    if (HIDDEN.has(k)) continue;
    // An error's stack is one field of many lines: its first line is enough in a merged view.
    fields[k] = k === 'err' && v && typeof v === 'object' ? `${v.type ?? 'Error'}: ${v.message ?? ''}` : v;
  }
  return { time: Number.isFinite(time) ? time : undefined, level, msg: String(obj.msg ?? obj.message ?? ''), fields };
}

/**
 * The last `lines` lines of each file, merged in time order (a line without a time keeps its place after the one
 * before it), formatted.
 * @param {{ name: string, file: string }[]} sources
 * @param {{ lines: number, colour: boolean }} options
 * @returns {string[]}
 */
export function tailMerged(sources, { lines, colour }) {
  const format = lineFormatter(sources.map((s) => s.name), colour);
  const all = [];
  for (const { name, file } of sources) {
    let text = '';
    try { text = readTail(file, lines); } catch { continue; }
    let last = 0;
    text.split('\n').filter(Boolean).forEach((line, i) => {
      const f = format(name, line);
      last = f.time ?? last;
      all.push({ text: f.text, time: last, source: name, i });
    });
  }
  all.sort((a, b) => a.time - b.time || (a.source === b.source ? a.i - b.i : 0));
  return all.map((l) => l.text);
}

function readTail(file, lines) {
  const size = fs.statSync(file).size;
  const fd = fs.openSync(file, 'r');
  try {
    // Enough bytes for `lines` lines of a few hundred characters, doubled until it holds them or the whole file.
    for (let bytes = Math.max(4096, lines * 400); ; bytes *= 2) {
      const start = Math.max(0, size - bytes);
      const buf = Buffer.alloc(size - start);
      fs.readSync(fd, buf, 0, buf.length, start);
      const parts = buf.toString('utf8').split('\n');
      if (start > 0) parts.shift(); // a partial first line
      if (parts.length > lines || start === 0) return parts.slice(-lines - 1).join('\n');
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Follows every file from its current end (or from `fromStart` offsets), writing each new whole line formatted to
 * `out` as it appears, until `signal` aborts. Files that do not exist yet are picked up when they appear; a file that
 * shrank (truncated) is read again from its start.
 * @param {{ name: string, file: string }[]} sources
 * @param {{ out: NodeJS.WritableStream, colour: boolean, signal: AbortSignal, intervalMs?: number, offsets?: Map<string, number> }} options
 * @returns {Promise<void>}
 */
export async function followLogs(sources, { out, colour, signal, intervalMs = 200, offsets }) {
  const format = lineFormatter(sources.map((s) => s.name), colour);
  const state = sources.map(({ name, file }) => ({ name, file, offset: offsets?.get(file) ?? sizeOf(file), partial: '', decoder: new StringDecoder('utf8') }));
  while (!signal.aborted) {
    for (const s of state) {
      const size = sizeOf(s.file);
      if (size < s.offset) { s.offset = 0; s.partial = ''; s.decoder = new StringDecoder('utf8'); }
      if (size === s.offset) continue;
      const fd = fs.openSync(s.file, 'r');
      try {
        const buf = Buffer.alloc(Math.min(size - s.offset, 1024 * 1024));
        const n = fs.readSync(fd, buf, 0, buf.length, s.offset);
        s.offset += n;
        const parts = (s.partial + s.decoder.write(buf.subarray(0, n))).split('\n');
        s.partial = parts.pop() ?? '';
        for (const line of parts) if (line) out.write(`${format(s.name, line).text}\n`);
      } finally {
        fs.closeSync(fd);
      }
    }
    try { await sleep(intervalMs, undefined, { signal }); } catch { break; }
  }
}

function sizeOf(file) {
  return fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0;
}
