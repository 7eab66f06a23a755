import { isObj, type Obj } from './validation.js';

/*
 * Shared defaulting helpers (the JSON form of upstream's SetDefaults_* functions): every one only fills what is
 * missing, so applying defaults twice changes nothing.
 */


/** The object at `parent[key]`, created empty when missing. */
export function child(parent: Obj, key: string): Obj {
  if (!isObj(parent[key])) parent[key] = {};
  return parent[key] as Obj;
}

/** Sets `o[key]` when it is missing (undefined or null). */
export function fill(o: Obj, key: string, value: unknown): void {
  if (o[key] === undefined || o[key] === null) o[key] = value;
}

/** As fill, but also replaces Go's zero values (0, ''), which upstream treats as unset for these fields. */
export function fillZero(o: Obj, key: string, value: unknown): void {
  if (o[key] === undefined || o[key] === null || o[key] === 0 || o[key] === '') o[key] = value;
}

export const each = (list: unknown, fn: (o: Obj) => void): void => {
  if (Array.isArray(list)) for (const item of list) if (isObj(item)) fn(item);
};
