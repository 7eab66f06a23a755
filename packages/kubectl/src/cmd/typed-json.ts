import { goJsonString } from '../printers/index.js';

/** Go's json.MarshalIndent of a typed struct: fields in declaration order (map keys, e.g. labels, sorted). */
export function typedGoJson(v: unknown, pad: string, sortKeys = false): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return goJsonString(v);
  if (typeof v !== 'object') return String(v);
  const inner = `${pad}    `;
  if (Array.isArray(v)) return v.length ? `[\n${v.map((x) => inner + typedGoJson(x, inner)).join(',\n')}\n${pad}]` : '[]';
  let keys = Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined);
  if (sortKeys) keys = keys.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  if (!keys.length) return '{}';
  const maps = new Set(['labels', 'annotations', 'matchLabels', 'selector', 'data', 'binaryData', 'hard', 'stringData']);
  return `{\n${keys.map((k) => `${inner}${goJsonString(k)}: ${typedGoJson((v as Record<string, unknown>)[k], inner, maps.has(k))}`).join(',\n')}\n${pad}}`;
}

/** What a command prints for an object it built itself (kubectl's typed struct) under `-o`. */
export function printBuilt(obj: unknown, fmt: { kind: string }, print: () => string): string {
  return fmt.kind === 'json' ? `${typedGoJson(obj, '')}\n` : print();
}
