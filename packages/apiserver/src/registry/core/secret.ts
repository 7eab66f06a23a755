import type { Secret } from '@k8ts/api';
import { asField, defineStrategy } from '../strategy.js';
import { fillZero } from '../shared/defaults.js';
import { age, AGE, column, NAME, nameOf, type Printer } from '../shared/printing.js';
import {
  asObj, base64Bytes, immutable, immutableData, isObj, MAX_DATA_BYTES, sum, tooLong, utf8Bytes, validateKeys, type Errors, type Obj,
} from '../shared/validation.js';

function validateSecret(secret: Obj, old?: Obj): Errors {
  const errs: Errors = [];
  const data = asObj(secret.data);
  const stringData = asObj(secret.stringData);
  // stringData is write-only sugar for data; upstream reports its keys as data keys.
  errs.push(...validateKeys('data', { ...data, ...stringData }));
  const fromData = Object.entries(data).filter(([k]) => !(k in stringData)).map(([, v]) => v);
  if (sum(fromData, base64Bytes) + sum(Object.values(stringData), utf8Bytes) > MAX_DATA_BYTES) errs.push(tooLong('data', MAX_DATA_BYTES));
  if (old) {
    if ((secret.type ?? '') !== (old.type ?? '')) errs.push(immutable('type', secret.type));
    errs.push(...immutableData({ ...secret, data: effectiveData(secret) }, { ...old, data: effectiveData(old) }, ['data']));
  }
  return errs;
}

/** A secret's data as it will be stored: stringData values, base64-encoded, win over data. */
function effectiveData(secret: Obj): Obj {
  const encoded = Object.entries(asObj(secret.stringData)).map(([k, v]) => [k, Buffer.from(String(v ?? '')).toString('base64')]);
  return { ...asObj(secret.data), ...Object.fromEntries(encoded) };
}

const printer: Printer = {
  columns: [NAME, column('Type', 'Used to facilitate programmatic handling of secret data.'), column('Data', 'Number of keys in data.'), AGE],
  row(obj, now) {
    const s = obj as Secret;
    return [nameOf(s), s.type ?? '', Object.keys(s.data ?? {}).length, age(s, now)];
  },
};

/** Secrets (upstream's pkg/registry/core/secret). */
export const secretStrategy = defineStrategy('', 'v1', 'secrets', {
  convert: (obj: Obj) => {
    if (!isObj(obj.stringData)) return;
    // stringData is write-only convenience: merged into data (base64), as upstream's conversion does.
    const data = { ...(isObj(obj.data) ? obj.data : {}) } as Record<string, unknown>;
    for (const [k, v] of Object.entries(obj.stringData)) data[k] = Buffer.from(String(v)).toString('base64');
    obj.data = data;
    delete obj.stringData;
  },
  defaults: (s) => fillZero(s, 'type', 'Opaque'),
  validate: validateSecret,
  fields: (s: Obj) => ({ type: asField(s.type) }),
  printer,
});
