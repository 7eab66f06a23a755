import type { ConfigMap } from '@k8ts/api';
import { defineStrategy } from '../strategy.js';
import { age, AGE, column, NAME, nameOf, type Printer } from '../shared/printing.js';
import {
  asObj, base64Bytes, immutableData, invalid, MAX_DATA_BYTES, sum, tooLong, utf8Bytes, validateKeys, type Errors, type Obj,
} from '../shared/validation.js';

function validateConfigMap(cm: Obj, old?: Obj): Errors {
  const errs: Errors = [];
  const data = asObj(cm.data);
  const binary = asObj(cm.binaryData);
  for (const k of Object.keys(data)) if (k in binary) errs.push(invalid(`data[${k}]`, k, 'duplicate of key present in binaryData'));
  errs.push(...validateKeys('data', data), ...validateKeys('binaryData', binary));
  // binaryData travels base64-encoded; its size is the decoded size.
  if (sum(Object.values(data), utf8Bytes) + sum(Object.values(binary), base64Bytes) > MAX_DATA_BYTES) errs.push(tooLong('data', MAX_DATA_BYTES));
  errs.push(...immutableData(cm, old, ['data', 'binaryData']));
  return errs;
}

const printer: Printer = {
  columns: [NAME, column('Data', 'Number of keys in data and binaryData.'), AGE],
  row(obj, now) {
    const cm = obj as ConfigMap;
    return [nameOf(cm), Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length, age(cm, now)];
  },
};

/** ConfigMaps (upstream's pkg/registry/core/configmap). */
export const configMapStrategy = defineStrategy('', 'v1', 'configmaps', { validate: validateConfigMap, printer });
