import type { PatchMeta } from './patch-meta.js';

/**
 * kubectl's three-way strategic merge patch (k8s.io/apimachinery strategicpatch.CreateThreeWayMergePatch): the
 * changes and additions from `current` (live) to `modified` (the new manifest), plus the deletions from `original`
 * (last applied) to `modified`, with `$setElementOrder`, `$retainKeys`, `$patch: delete` and
 * `$deleteFromPrimitiveList` directives where upstream puts them. With `meta` that knows no field it is the
 * three-way JSON merge patch kubectl sends for kinds it has no Go type for.
 */

type Obj = Record<string, unknown>;
interface DiffOptions { ignoreDeletions: boolean; ignoreChangesAndAdditions: boolean; setElementOrder: boolean; buildRetainKeys: boolean }

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

function kindOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** The patch that takes `current` to `modified`, deleting what `original` had and `modified` dropped. */
export function threeWayMergePatch(original: Obj | undefined, modified: Obj, current: Obj, meta: PatchMeta): Obj {
  const delta = diffMaps(current, modified, [], meta, { ignoreDeletions: true, ignoreChangesAndAdditions: false, setElementOrder: true, buildRetainKeys: false });
  const deletions = original
    ? diffMaps(original, modified, [], meta, { ignoreDeletions: false, ignoreChangesAndAdditions: true, setElementOrder: true, buildRetainKeys: false })
    : {};
  return mergePatches(deletions, delta, [], meta);
}

function diffMaps(original: Obj, modified: Obj, path: string[], meta: PatchMeta, o: DiffOptions): Obj {
  const patch: Obj = {};
  const retainKeys: string[] = [];
  for (const key of Object.keys(modified)) {
    const mv = modified[key];
    if (o.buildRetainKeys && mv !== null && mv !== undefined) retainKeys.push(key);
    if (key.startsWith('$')) continue;
    if (!(key in original)) {
      if (!o.ignoreChangesAndAdditions) patch[key] = mv;
      continue;
    }
    const ov = original[key];
    if (kindOf(ov) !== kindOf(mv)) {
      if (!o.ignoreChangesAndAdditions) patch[key] = mv;
      continue;
    }
    if (isObj(ov) && isObj(mv)) {
      const fm = meta([...path, key]);
      const sub = diffMaps(ov, mv, [...path, key], meta, { ...o, buildRetainKeys: fm?.strategy === 'retainKeys' });
      if (Object.keys(sub).length) patch[key] = sub;
    } else if (Array.isArray(ov) && Array.isArray(mv)) {
      sliceDiff(key, ov, mv, patch, path, meta, o);
    } else if (!deepEqual(ov, mv) && !o.ignoreChangesAndAdditions) {
      patch[key] = mv;
    }
  }
  if (!o.ignoreDeletions) {
    for (const key of Object.keys(original)) if (!(key in modified)) patch[key] = null;
  }
  const additional = Object.keys(original).some((k) => original[k] !== null && original[k] !== undefined && !(k in modified));
  if (retainKeys.length && (Object.keys(patch).length || additional)) patch.$retainKeys = [...retainKeys].sort();
  return patch;
}

function sliceDiff(key: string, ov: unknown[], mv: unknown[], patch: Obj, path: string[], meta: PatchMeta, o: DiffOptions): void {
  const fm = meta([...path, key]);
  if (!fm || !fm.strategy.startsWith('merge')) {
    if (!deepEqual(ov, mv) && !o.ignoreChangesAndAdditions) patch[key] = mv;
    return;
  }
  const itemOpts = { ...o, buildRetainKeys: fm.strategy.includes('retainKeys') };
  const elementIsMap = [...ov, ...mv].some(isObj);
  if (elementIsMap && fm.mergeKey) {
    const mk = fm.mergeKey;
    const { changes, deletes } = diffListsOfMaps(ov as Obj[], mv as Obj[], [...path, key, '[]'], mk, meta, itemOpts);
    // normalizeSliceOrder: changes in the order of modified, then the deletions.
    const order = new Map(mv.map((x, i) => [keyString((x as Obj)[mk]), i]));
    changes.sort((a, b) => (order.get(keyString(a[mk])) ?? 0) - (order.get(keyString(b[mk])) ?? 0));
    const list = [...changes, ...deletes];
    const orderSame = sameOrder(ov as Obj[], mv as Obj[], mk);
    if (list.length) patch[key] = list;
    if (o.setElementOrder && ((!o.ignoreChangesAndAdditions && (list.length > 0 || !orderSame)) || (!o.ignoreDeletions && list.length > 0))) {
      patch[`$setElementOrder/${key}`] = mv.map((x) => ({ [mk]: (x as Obj)[mk] }));
    }
    return;
  }
  // A set of scalars.
  const { adds, deletes } = diffListsOfScalars(ov, mv, o);
  if (adds.length) patch[key] = adds;
  if (deletes.length) patch[`$deleteFromPrimitiveList/${key}`] = deletes;
  if (o.setElementOrder && ((!o.ignoreDeletions && deletes.length > 0) || (!o.ignoreChangesAndAdditions && !deepEqual(ov, mv)))) {
    patch[`$setElementOrder/${key}`] = mv;
  }
}

function keyString(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function sameOrder(ov: Obj[], mv: Obj[], mk: string): boolean {
  if (ov.length !== mv.length) return false;
  return ov.every((x, i) => keyString(x[mk]) === keyString(mv[i]?.[mk]));
}

function diffListsOfMaps(ov: Obj[], mv: Obj[], itemPath: string[], mk: string, meta: PatchMeta, o: DiffOptions): { changes: Obj[]; deletes: Obj[] } {
  const sort = (l: Obj[]) => [...l].filter(isObj).sort((a, b) => (keyString(a[mk]) < keyString(b[mk]) ? -1 : keyString(a[mk]) > keyString(b[mk]) ? 1 : 0));
  const os = sort(ov);
  const ms = sort(mv);
  const changes: Obj[] = [];
  const deletes: Obj[] = [];
  let i = 0;
  let j = 0;
  while (i < os.length || j < ms.length) {
    const ok = i < os.length ? keyString(os[i][mk]) : undefined;
    const mkv = j < ms.length ? keyString(ms[j][mk]) : undefined;
    if (ok !== undefined && mkv !== undefined && ok === mkv) {
      const sub = diffMaps(os[i], ms[j], itemPath, meta, o);
      if (Object.keys(sub).length) {
        sub[mk] = ms[j][mk];
        changes.push(sub);
      }
      i++;
      j++;
    } else if (ok === undefined || (mkv !== undefined && ok > mkv)) {
      if (!o.ignoreChangesAndAdditions) changes.push(ms[j]);
      j++;
    } else {
      if (!o.ignoreDeletions) deletes.push({ $patch: 'delete', [mk]: os[i][mk] });
      i++;
    }
  }
  return { changes, deletes };
}

function diffListsOfScalars(ov: unknown[], mv: unknown[], o: DiffOptions): { adds: unknown[]; deletes: unknown[] } {
  const s = (l: unknown[]) => [...new Map(l.map((x) => [keyString(x), x])).entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const os = s(ov);
  const ms = s(mv);
  const adds: unknown[] = [];
  const deletes: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < os.length || j < ms.length) {
    if (i < os.length && j < ms.length && os[i][0] === ms[j][0]) { i++; j++; continue; }
    if (j >= ms.length || (i < os.length && os[i][0] < ms[j][0])) {
      if (!o.ignoreDeletions) deletes.push(os[i][1]);
      i++;
    } else {
      if (!o.ignoreChangesAndAdditions) adds.push(ms[j][1]);
      j++;
    }
  }
  // Additions in the order of modified.
  const order = new Map(mv.map((x, k) => [keyString(x), k]));
  adds.sort((a, b) => (order.get(keyString(a)) ?? 0) - (order.get(keyString(b)) ?? 0));
  return { adds, deletes };
}

/** mergeMap(deletions, delta): the two halves of the three-way patch combined (merge-keyed lists item by item). */
function mergePatches(a: Obj, b: Obj, path: string[], meta: PatchMeta): Obj {
  const out: Obj = { ...a };
  for (const [k, bv] of Object.entries(b)) {
    const av = out[k];
    if (isObj(av) && isObj(bv)) out[k] = mergePatches(av, bv, [...path, k], meta);
    else if (Array.isArray(av) && Array.isArray(bv) && !k.startsWith('$')) {
      const mk = meta([...path, k])?.mergeKey;
      if (mk) {
        const merged: unknown[] = [...av];
        for (const item of bv) {
          const idx = merged.findIndex((x) => isObj(x) && isObj(item) && keyString(x[mk]) === keyString(item[mk]));
          if (idx >= 0 && isObj(merged[idx]) && isObj(item)) merged[idx] = mergePatches(merged[idx] as Obj, item, [...path, k, '[]'], meta);
          else merged.push(item);
        }
        out[k] = merged;
      } else out[k] = [...av, ...bv.filter((x) => !av.some((y) => deepEqual(x, y)))];
    } else out[k] = bv;
  }
  return out;
}
