import { STATUS_CODES } from 'node:http';

// HTTP/1.x message heads and framing for the proxy's data path (RFC 9112), on raw header lists as
// http-parser-js hands them: [name, value, name, value, …] in the order received.

/** Hop-by-hop headers (RFC 9110 §7.6.1) a proxy must not forward. */
export const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** The largest request head accepted (Node's default --max-http-header-size). */
export const MAX_HEADER_BYTES = 16 * 1024;

/** Request headers the proxy sets itself: the client's are replaced, as ingress-nginx does. */
export const SET_BY_PROXY = new Set(['x-real-ip', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-proto']);
/** What the request side leaves out: hop-by-hop headers and those the proxy sets. */
export const REQUEST_SKIP = new Set([...HOP, ...SET_BY_PROXY]);

/** What one pass over a head finds: its framing, its Host, and the header names `Connection` makes hop-by-hop. */
export interface HeadScan {
  host: string | undefined;
  /** `Transfer-Encoding: chunked` (the last one counts, as the parser reads it). */
  chunked: boolean;
  /** The Transfer-Encoding header's value, trimmed and lower-cased, and how many there were. */
  transferEncoding: string | undefined;
  transferEncodings: number;
  hasLength: boolean;
  hasDate: boolean;
  /** Lower-cased tokens of every `Connection` header. */
  named: Set<string> | undefined;
}

/** Scans a raw header list ([name, value, …]). */
export function scanHead(raw: readonly string[]): HeadScan {
  const s: HeadScan = { host: undefined, chunked: false, transferEncoding: undefined, transferEncodings: 0, hasLength: false, hasDate: false, named: undefined };
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i]!;
    // Only names of these lengths matter: skip the lower-casing for the rest.
    switch (k.length) {
      case 4:
        if (k.toLowerCase() === 'host') s.host ??= raw[i + 1];
        else if (k.toLowerCase() === 'date') s.hasDate = true;
        break;
      case 10:
        if (k.toLowerCase() !== 'connection') break;
        for (const t of raw[i + 1]!.toLowerCase().split(',')) { const v = t.trim(); if (v) (s.named ??= new Set()).add(v); }
        break;
      case 14:
        if (k.toLowerCase() === 'content-length') s.hasLength = true;
        break;
      case 17:
        if (k.toLowerCase() !== 'transfer-encoding') break;
        s.transferEncoding = raw[i + 1]!.trim().toLowerCase();
        s.transferEncodings++;
        s.chunked = s.transferEncoding === 'chunked';
        break;
    }
  }
  return s;
}

/**
 * `name: value\r\n` lines of the headers to forward: those in `skip` and those `Connection` names left out, and
 * Content-Length too when the message is chunked (a message with both is framed by the chunks; forwarding both
 * invites request smuggling).
 */
export function forwardLines(raw: readonly string[], skip: ReadonlySet<string>, scan: HeadScan, keepUpgrade = false): string {
  const named = scan.named;
  const dropLength = scan.chunked && scan.hasLength;
  let out = '';
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i]!.toLowerCase();
    if ((skip.has(k) || named?.has(k) || (dropLength && k === 'content-length')) && !(keepUpgrade && k === 'upgrade')) continue;
    out += `${raw[i]}: ${raw[i + 1]}\r\n`;
  }
  return out;
}

/** The byte size of a head as parsed (request line or status line aside): what MAX_HEADER_BYTES bounds. */
export function headBytes(raw: readonly string[], url: string): number {
  let n = url.length + 16;
  for (let i = 0; i < raw.length; i++) n += raw[i]!.length + 2;
  return n;
}

/** `HTTP/1.1 <status> <reason>\r\n`, the reason phrase as sent upstream (else the standard one). */
export function statusLine(status: number, reason?: string): string {
  return `HTTP/1.1 ${status} ${reason || STATUS_CODES[status] || ''}\r\n`;
}

let dateMs = 0;
let dateValue = '';
/** The current `Date` header value, formatted at most once a second. */
export function httpDate(): string {
  const now = Date.now();
  if (now - dateMs >= 1000) { dateMs = now - (now % 1000); dateValue = new Date(now).toUTCString(); }
  return dateValue;
}

/** The chunk-size line of one chunk of `length` bytes (its data and a CRLF follow). */
export const chunkHead = (length: number): string => `${length.toString(16)}\r\n`;
/** The last chunk with no trailers. */
export const LAST_CHUNK = '0\r\n\r\n';

/** The ingress' error page (after nginx's). */
export function page(status: number, title: string, detail: string): string {
  return `<html>\n<head><title>${status} ${title}</title></head>\n<body>\n<center><h1>${status} ${title}</h1></center>\n<hr><center>k8ts-ingress: ${detail.replace(/[<>&]/g, '')}</center>\n</body>\n</html>\n`;
}
