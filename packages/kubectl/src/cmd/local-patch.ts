import { CliError } from '../errors.js';
import { isObject } from './targets.js';

/** RFC 7386: a JSON merge patch applied to a copy of `target`. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new CliError(`JSON pointer must be empty or start with a "/": ${path}`);
  return path.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** RFC 6902: a JSON patch applied to a copy of `target` (add, remove, replace, move, copy, test). */
export function applyJsonPatch<T>(target: T, ops: unknown): T {
  if (!Array.isArray(ops)) throw new CliError('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let doc: unknown = structuredClone(target);
  const get = (parts: string[]): unknown => parts.reduce<unknown>((cur, p) => {
    if (Array.isArray(cur)) return cur[Number(p)];
    if (isObject(cur)) return cur[p];
    return undefined;
  }, doc);
  const parentOf = (parts: string[]): { parent: unknown; key: string } => ({ parent: get(parts.slice(0, -1)), key: parts[parts.length - 1] });
  const remove = (path: string): unknown => {
    const { parent, key } = parentOf(pointer(path));
    if (Array.isArray(parent)) {
      const i = Number(key);
      if (!(i >= 0 && i < parent.length)) throw new CliError(`Unable to remove nonexistent key: ${key}: missing value`);
      return parent.splice(i, 1)[0];
    }
    if (!isObject(parent) || !(key in parent)) throw new CliError(`Unable to remove nonexistent key: ${key}: missing value`);
    const v = parent[key];
    delete parent[key];
    return v;
  };
  const add = (path: string, value: unknown, replace = false): void => {
    const parts = pointer(path);
    if (!parts.length) { doc = value; return; }
    const { parent, key } = parentOf(parts);
    if (Array.isArray(parent)) {
      const i = key === '-' ? parent.length : Number(key);
      if (!(i >= 0 && i <= parent.length)) throw new CliError(`add operation does not apply: doc is missing path: "${path}": missing value`);
      if (replace) parent[i] = value;
      else parent.splice(i, 0, value);
    } else if (isObject(parent)) {
      if (replace && !(key in parent)) throw new CliError(`replace operation does not apply: doc is missing key: ${path}: missing value`);
      parent[key] = value;
    } else {
      throw new CliError(`${replace ? 'replace' : 'add'} operation does not apply: doc is missing path: "${path}": missing value`);
    }
  };
  for (const op of ops as { op?: string; path?: string; from?: string; value?: unknown }[]) {
    const path = op.path ?? '';
    switch (op.op) {
      case 'add': add(path, structuredClone(op.value)); break;
      case 'remove': remove(path); break;
      case 'replace': add(path, structuredClone(op.value), true); break;
      case 'move': add(path, remove(op.from ?? '')); break;
      case 'copy': add(path, structuredClone(get(pointer(op.from ?? '')))); break;
      case 'test':
        if (JSON.stringify(get(pointer(path))) !== JSON.stringify(op.value)) throw new CliError(`testing value ${path} failed: test failed`);
        break;
      default: throw new CliError(`Unexpected kind: ${String(op.op)}`);
    }
  }
  return doc as T;
}
