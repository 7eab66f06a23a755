/**
 * The strategic-merge metadata kubectl compiles in from k8s.io/api's struct tags (`patchStrategy`,
 * `patchMergeKey`): which lists merge by a key, which are sets, which maps keep only the keys sent (`retainKeys`).
 * kubectl reads no schema from the server for built-in kinds; neither do we: the tables are @k8ts/api's, the ones
 * the apiserver applies patches with. Kinds without a table (CRDs) are patched with a JSON merge patch, as kubectl does.
 */
// The subpath, not the package's index: apply and diff load the tables without the rest of @k8ts/api (its client, logger).
import { compilePatchMeta, patchTableFor, type PatchMeta } from '@k8ts/api/patch-meta';

export type { PatchMeta } from '@k8ts/api/patch-meta';

const compiled = new Map<string, PatchMeta>();

/** The patch metadata of a built-in kind, or undefined for kinds kubectl does not know (JSON merge patch then). */
export function patchMetaFor(apiVersion: string, kind: string): PatchMeta | undefined {
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
  const key = `${group}/${kind}`;
  let meta = compiled.get(key);
  if (!meta) {
    const table = patchTableFor(group, kind);
    if (!table) return undefined;
    meta = compilePatchMeta(table);
    compiled.set(key, meta);
  }
  return meta;
}

/** No lists merge and no maps retain keys: what a JSON merge patch means. */
export const NO_META: PatchMeta = () => undefined;
