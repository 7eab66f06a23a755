import type { KubeObject } from '@k8ts/api';

/** The annotation client-side apply keeps the last applied configuration in. */
export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** Go's json.Marshal of a decoded JSON value: compact, map keys sorted by bytes, HTML characters escaped. */
export function goMarshal(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return `[${v.map(goMarshal).join(',')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    return `{${keys.map((k) => `${escape(JSON.stringify(k))}:${goMarshal(o[k])}`).join(',')}}`;
  }
  if (typeof v === 'string') return escape(JSON.stringify(v));
  return JSON.stringify(v);
}

function escape(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The value kubectl stores in the last-applied annotation for `obj` (its GetModifiedConfiguration): the object as
 * given, namespace filled in, the annotation itself taken out (leaving `annotations: {}`), as compact sorted JSON
 * with a trailing newline.
 */
export function lastAppliedValue(obj: KubeObject, namespace: string | undefined): string {
  const copy = structuredClone(obj) as KubeObject & { metadata: Record<string, unknown> };
  copy.metadata ??= {};
  if (namespace && !copy.metadata.namespace) copy.metadata.namespace = namespace;
  const annotations = { ...(copy.metadata.annotations as Record<string, string> | undefined) };
  delete annotations[LAST_APPLIED];
  copy.metadata.annotations = annotations;
  return `${goMarshal(copy)}\n`;
}

/** `obj` with the last-applied annotation set (what `create --save-config` and apply's create send). */
export function withLastApplied(obj: KubeObject, namespace: string | undefined): KubeObject {
  const value = lastAppliedValue(obj, namespace);
  const copy = structuredClone(obj) as KubeObject & { metadata: Record<string, unknown> };
  copy.metadata ??= {};
  copy.metadata.annotations = { ...(copy.metadata.annotations as Record<string, string> | undefined), [LAST_APPLIED]: value };
  return copy;
}
