import { isObj, notSupported, required, type Errors } from './validation.js';

/*
 * What PersistentVolumes and PersistentVolumeClaims share: access modes (validation and the short form `kubectl get`
 * prints) and the volume mode default.
 */

const ACCESS_MODES: [string, string][] = [
  ['ReadWriteOnce', 'RWO'], ['ReadOnlyMany', 'ROX'], ['ReadWriteMany', 'RWX'], ['ReadWriteOncePod', 'RWOP'],
];
const SUPPORTED = ACCESS_MODES.map(([m]) => m);

/** spec.accessModes: at least one, each supported; ReadWriteOncePod only alone (upstream's ValidatePersistentVolume*). */
export function validateAccessModes(modes: unknown, path: string): Errors {
  const list = Array.isArray(modes) ? modes : [];
  if (!list.length) return [required(path)];
  const errs: Errors = [];
  for (const m of list) if (!SUPPORTED.includes(m)) errs.push(notSupported(path, m, SUPPORTED));
  if (list.includes('ReadWriteOncePod') && list.length > 1) {
    errs.push({ field: path, type: 'FieldValueForbidden', message: 'may not use ReadWriteOncePod with other access modes' });
  }
  return errs;
}

/** `RWO,ROX` in upstream's fixed order, each once (GetAccessModesAsString). */
export function accessModesString(modes: unknown): string {
  const list = Array.isArray(modes) ? modes : [];
  return ACCESS_MODES.filter(([m]) => list.includes(m)).map(([, short]) => short).join(',');
}

/** The `storage` quantity of a capacity or requests map, '' when absent. */
export function storageOf(resources: unknown): string {
  return isObj(resources) && resources.storage !== undefined ? String(resources.storage) : '';
}

