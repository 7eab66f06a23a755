import type { Impersonation } from './kubeconfig.js';

/** Bytes of an HTTP token (RFC 7230 tchar), the ones client-go leaves unescaped in an Impersonate-Extra- key. */
const TOKEN = /^[!#$&'*+\-.^_`|~0-9A-Za-z]$/;

/** client-go's headerKeyEscape: every byte that is not a token character, and `%`, as `%XX`. */
export function headerKeyEscape(key: string): string {
  let out = '';
  for (const b of Buffer.from(key, 'utf8')) {
    const c = String.fromCharCode(b);
    out += b < 0x80 && TOKEN.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * The headers client-go's impersonating round tripper adds to every request: Impersonate-User, Impersonate-Uid when
 * set, one Impersonate-Group per group and one Impersonate-Extra-<key> per value (repeated headers as arrays).
 */
export function impersonationHeaders(imp: Impersonation | undefined): Record<string, string | string[]> {
  if (!imp) return {};
  const headers: Record<string, string | string[]> = { 'Impersonate-User': imp.user };
  if (imp.uid) headers['Impersonate-Uid'] = imp.uid;
  if (imp.groups.length) headers['Impersonate-Group'] = [...imp.groups];
  for (const [key, values] of Object.entries(imp.extra)) if (values.length) headers[`Impersonate-Extra-${headerKeyEscape(key)}`] = [...values];
  return headers;
}
