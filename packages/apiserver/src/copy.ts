/**
 * A deep copy of decoded JSON (an object as a request body or etcd value decodes), as structuredClone makes it
 * but an order of magnitude faster on such data: plain objects and arrays are copied member by member (undefined
 * members kept, as structuredClone keeps them); anything else that is an object (a Date, a Buffer, an object
 * without Object's prototype) is left to structuredClone. No cycles: decoded JSON has none.
 */
export function copyJson<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = copyJson(value[i]);
    return out as T;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return structuredClone(value);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const member = copyJson((value as Record<string, unknown>)[key]);
    // A "__proto__" member (JSON.parse makes it an own property) stays a member, never the copy's prototype.
    if (key === '__proto__') Object.defineProperty(out, key, { value: member, enumerable: true, writable: true, configurable: true });
    else out[key] = member;
  }
  return out as T;
}
