import { ApiError, errors, type KubeObject } from '@k8ts/api';
import { rfc3339 } from '../registry/strategy.js';
import type { FieldType } from './schema.js';
import { FieldSet, fieldEl, pathString } from './set.js';
import { compare, merge, MAX_TRACKED_DEPTH, removeItems, toFieldSet } from './typed.js';

/**
 * metadata.managedFields as upstream's field manager keeps them (k8s.io/apimachinery/pkg/util/managedfields/internal
 * and structured-merge-diff's merge.Updater): one entry per manager, operation, subresource (and apiVersion, for
 * updates); an update gives its manager what it added or changed and takes that from every other manager; an apply
 * owns exactly what its configuration holds, conflicts with other managers' fields unless forced, and removes what it
 * applied before and no manager owns any more; at most 10 update entries, the oldest merged into `ancient-changes`.
 */

export type Operation = 'Apply' | 'Update';

export interface ManagerEntry {
  manager: string;
  operation: Operation;
  apiVersion: string;
  time?: string;
  subresource?: string;
  set: FieldSet;
}

/** The entries by manager identifier (manager, operation, subresource, and apiVersion for updates). */
export type Managed = Map<string, ManagerEntry>;

/** Who writes: the manager's name, the request's apiVersion and the subresource ('' for the main resource). */
export interface Writer { manager: string; apiVersion: string; subresource?: string }

export const MAX_UPDATE_MANAGERS = 10;
export const ANCIENT_CHANGES = 'ancient-changes';
export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

export function managerId(e: { manager: string; operation: Operation; apiVersion: string; subresource?: string }): string {
  return JSON.stringify([e.manager, e.operation, e.operation === 'Apply' ? '' : e.apiVersion, e.subresource ?? '']);
}

/** The default manager of a request without ?fieldManager: its User-Agent up to the first '/' (prefixFromUserAgent). */
export function managerFromUserAgent(userAgent: string | undefined): string {
  return (userAgent ?? '').split('/')[0].slice(0, 128);
}

/** Decodes metadata.managedFields; throws on an entry that is not of its form. */
export function decodeManagedFields(list: unknown): Managed {
  const m: Managed = new Map();
  if (list === undefined || list === null) return m;
  if (!Array.isArray(list)) throw new Error('managedFields must be a list');
  for (const raw of list) {
    if (typeof raw !== 'object' || raw === null) throw new Error('a managedFields entry must be an object');
    const e = raw as Record<string, unknown>;
    if (e.operation !== 'Apply' && e.operation !== 'Update') throw new Error(`invalid operation ${JSON.stringify(e.operation)}`);
    if (e.fieldsType !== undefined && e.fieldsType !== 'FieldsV1') throw new Error(`invalid fieldsType ${JSON.stringify(e.fieldsType)}`);
    const entry: ManagerEntry = {
      manager: typeof e.manager === 'string' ? e.manager : '',
      operation: e.operation,
      apiVersion: typeof e.apiVersion === 'string' ? e.apiVersion : '',
      set: FieldSet.fromFieldsV1(e.fieldsV1 ?? {}),
    };
    if (typeof e.time === 'string') entry.time = e.time;
    if (typeof e.subresource === 'string' && e.subresource) entry.subresource = e.subresource;
    const id = managerId(entry);
    if (m.has(id)) throw new Error(`duplicate entry for manager ${JSON.stringify(entry.manager)} with operation ${entry.operation}`);
    m.set(id, entry);
  }
  return m;
}

/** Encodes the entries as upstream orders them: Apply before Update, then by time, manager, apiVersion, subresource. */
export function encodeManagedFields(m: Managed): Record<string, unknown>[] {
  const secs = (t?: string) => (t ? Math.floor(Date.parse(t) / 1000) : 0);
  const entries = [...m.values()].filter((e) => !e.set.empty());
  entries.sort((p, q) => (p.operation !== q.operation ? (p.operation < q.operation ? -1 : 1)
    : secs(p.time) - secs(q.time) || cmp(p.manager, q.manager) || cmp(p.apiVersion, q.apiVersion) || cmp(p.subresource ?? '', q.subresource ?? '')));
  return entries.map((e) => ({
    manager: e.manager, operation: e.operation, apiVersion: e.apiVersion, ...(e.time ? { time: e.time } : {}),
    fieldsType: 'FieldsV1', fieldsV1: e.set.toFieldsV1(), ...(e.subresource ? { subresource: e.subresource } : {}),
  }));
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The paths upstream never tracks (stripMeta): the object's identity and the server's own bookkeeping. */
const STRIPPED_META = ['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'managedFields', 'resourceVersion'];

/**
 * The object without what is never tracked, shallowly copied; with reset fields, also without what the write cannot
 * change (the status of a main-resource write, all but the status of a status write), so no walk visits them.
 */
export function stripMeta(obj: unknown, reset?: ResetFields): unknown {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return obj;
  const o = obj as Record<string, unknown>;
  if (reset?.only) return o[reset.only] === undefined ? {} : { [reset.only]: o[reset.only] };
  // Copied key by key: object rest and `delete` are several times slower, and this runs twice on every write.
  const out: Record<string, unknown> = {};
  const skipStatus = reset?.ignored === STATUS_ONLY;
  for (const k in o) {
    if (k === 'apiVersion' || k === 'kind' || (skipStatus && k === 'status')) continue;
    if (k !== 'metadata') { out[k] = o[k]; continue; }
    const metadata = o[k];
    if (typeof metadata !== 'object' || metadata === null) continue;
    const meta: Record<string, unknown> = {};
    let any = false;
    for (const f in metadata) {
      if (STRIPPED.has(f)) continue;
      meta[f] = (metadata as Record<string, unknown>)[f];
      any = true;
    }
    if (any) out.metadata = meta;
  }
  return out;
}

const STRIPPED = new Set(STRIPPED_META);

/** Fields a write may not own: the status through the main resource, all but the status through /status. */
export interface ResetFields { ignored?: FieldSet; only?: string }

/** The reset fields of a main-resource write of a kind with /status: its status. */
export const STATUS_ONLY = FieldSet.of([fieldEl('status')]);

function restrict(set: FieldSet, reset: ResetFields): FieldSet {
  let s = reset.ignored ? set.recursiveDifference(reset.ignored) : set;
  if (reset.only) {
    const keep = new FieldSet();
    const c = s.children.get(fieldEl(reset.only));
    if (c) keep.children.set(fieldEl(reset.only), c);
    s = keep;
  }
  return s;
}

function cloneManaged(m: Managed): Managed {
  return new Map([...m].map(([k, e]) => [k, { ...e }]));
}

/**
 * An Update (create, update, non-apply patch) from `live` (undefined on create) to `next`: the writer's entry gains
 * what changed, every other entry loses what this write changed or removed. The time moves only when something
 * changed. Returns the new entries.
 */
export function updateManaged(live: unknown, next: unknown, managed: Managed, writer: Writer, type: FieldType, reset: ResetFields = {}, now?: string): Managed {
  const c = compare(live === undefined ? undefined : stripMeta(live, reset), stripMeta(next, reset), type);
  const touched = c.added.union(c.modified);
  // Nothing changed: nobody gains or loses a field, and no time moves.
  if (touched.empty() && c.removed.empty()) return managed;
  const out = cloneManaged(managed);
  for (const [id, e] of out) {
    const s = e.set.difference(touched).difference(c.removed);
    if (s.empty()) out.delete(id); else e.set = s;
  }
  const mine = restrict(touched, reset);
  if (!mine.empty()) {
    const entry: ManagerEntry = { manager: writer.manager, operation: 'Update', apiVersion: writer.apiVersion, ...(writer.subresource ? { subresource: writer.subresource } : {}), set: mine, time: now ?? rfc3339() };
    const id = managerId(entry);
    const prev = out.get(id);
    if (prev) entry.set = prev.set.union(mine);
    out.set(id, entry);
  }
  return capManagers(out);
}

/** A field owned by another manager that a write would change. */
export interface Conflict { manager: ManagerEntry; path: string[] }

/** The outcome of an apply: the object to store and its entries. */
export interface Applied { object: Record<string, unknown>; managed: Managed; changed: boolean }

/**
 * A server-side apply of `config` onto `live` (undefined: the object does not exist yet), as merge.Updater.Apply:
 * merge, own exactly the configuration's fields, prune what this manager applied before and nobody owns now, then
 * conflicts with other managers' fields (409 unless `force`; `kubectl` may take over fields the last-applied
 * annotation holds with their live values, as upstream's lastAppliedManager).
 */
export function applyManaged(live: Record<string, unknown> | undefined, config: Record<string, unknown>, managed: Managed, writer: Writer,
  type: FieldType, force: boolean, reset: ResetFields = {}, now?: string): Applied {
  const id = managerId({ manager: writer.manager, operation: 'Apply', apiVersion: writer.apiVersion, subresource: writer.subresource });
  const last = managed.get(id)?.set;
  const configFields = stripMeta(config);
  const mine = restrict(toFieldSet(configFields, type), reset);
  let merged = merge(live ?? {}, config, type) as Record<string, unknown>;
  const out = cloneManaged(managed);
  const entry: ManagerEntry = { manager: writer.manager, operation: 'Apply', apiVersion: writer.apiVersion, ...(writer.subresource ? { subresource: writer.subresource } : {}), set: mine };
  if (managed.get(id)?.time) entry.time = managed.get(id)!.time;
  out.set(id, entry);
  if (last && !last.empty()) {
    // Prune: what this manager applied last time, applies no more, and no manager (itself included) owns.
    let owned = new FieldSet();
    for (const e of out.values()) owned.addAll(e.set);
    owned = owned.withAncestors();
    const drop = last.withAncestors().difference(owned);
    if (!drop.empty()) merged = removeItems(merged, drop, type) as Record<string, unknown>;
  }
  merged = dropNulls(merged) as Record<string, unknown>;
  const c = compare(live === undefined ? undefined : stripMeta(live), stripMeta(merged), type);
  const touched = c.added.union(c.modified);
  const conflicts: Conflict[] = [];
  for (const [otherId, e] of out) {
    if (otherId === id) continue;
    for (const path of e.set.intersection(touched).paths()) conflicts.push({ manager: e, path });
  }
  if (conflicts.length && !force && !allowedByLastApplied(live, conflicts, writer, type)) throw conflictError(conflicts);
  for (const [otherId, e] of out) {
    if (otherId === id) continue;
    const s = e.set.difference(touched).difference(c.removed);
    if (s.empty()) out.delete(otherId); else e.set = s;
  }
  if (entry.set.empty()) out.delete(id);
  const changed = live === undefined || !c.added.empty() || !c.modified.empty() || !c.removed.empty();
  if (changed) entry.time = now ?? rfc3339();
  return { object: merged, managed: capManagers(out), changed };
}

/** Nulls in an applied configuration remove the field (the Go types decode them as unset). */
function dropNulls(v: unknown, depth = 0): unknown {
  if (depth > MAX_TRACKED_DEPTH) return v;
  if (Array.isArray(v)) return v.map((x) => dropNulls(x, depth + 1));
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = dropNulls(x, depth + 1);
  return out;
}

/**
 * Upstream's lastAppliedManager: `kubectl apply --server-side` on an object applied client-side before takes over,
 * without a conflict, the fields of the last-applied annotation whose live values are still the annotation's.
 */
function allowedByLastApplied(live: Record<string, unknown> | undefined, conflicts: Conflict[], writer: Writer, type: FieldType): boolean {
  if (writer.manager !== 'kubectl' || !live) return false;
  const text = (live.metadata as { annotations?: Record<string, string> } | undefined)?.annotations?.[LAST_APPLIED];
  if (!text) return false;
  let lastApplied: unknown;
  try { lastApplied = JSON.parse(text); } catch { return false; }
  if (typeof lastApplied !== 'object' || lastApplied === null) return false;
  const stripped = stripMeta(lastApplied);
  const allowed = toFieldSet(stripped, type).difference(compare(stripped, stripMeta(live), type).modified);
  return conflicts.every((c) => allowed.has(c.path));
}

function printManager(e: ManagerEntry): string {
  let s = JSON.stringify(e.manager);
  if (e.subresource) s += ` with subresource ${JSON.stringify(e.subresource)}`;
  return e.operation === 'Update' ? `${s} using ${e.apiVersion}` : s;
}

/** Upstream's 409 for apply conflicts (NewConflictError), one FieldManagerConflict cause per field. */
export function conflictError(conflicts: Conflict[]): ApiError {
  const causes = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${printManager(c.manager)}`, field: pathString(c.path) }));
  let message: string;
  if (conflicts.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${printManager(conflicts[0].manager)}: ${pathString(conflicts[0].path)}`;
  } else {
    const byManager = new Map<string, Conflict[]>();
    for (const c of conflicts) {
      const k = managerId(c.manager);
      byManager.set(k, [...(byManager.get(k) ?? []), c]);
    }
    const lines: string[] = [];
    for (const k of [...byManager.keys()].sort()) {
      const list = byManager.get(k)!;
      lines.push(`conflicts with ${printManager(list[0].manager)}:`);
      for (const c of list) lines.push(`- ${pathString(c.path)}`);
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new ApiError(409, 'Conflict', message, { causes });
}

/** capManagersManager: at most 10 Update entries; the oldest are merged into `ancient-changes` per apiVersion. */
export function capManagers(m: Managed, max = MAX_UPDATE_MANAGERS): Managed {
  const updaters = [...m.entries()].filter(([, e]) => e.operation === 'Update');
  if (updaters.length <= max) return m;
  updaters.sort(([, a], [, b]) => (a.time ?? '').localeCompare(b.time ?? ''));
  let count = updaters.length;
  const firstByVersion = new Map<string, string>();
  for (const [id, e] of updaters) {
    if (count <= max) break;
    const bucketId = managerId({ manager: ANCIENT_CHANGES, operation: 'Update', apiVersion: e.apiVersion });
    const first = firstByVersion.get(e.apiVersion);
    if (first === undefined) { firstByVersion.set(e.apiVersion, id); continue; }
    let bucket = m.get(bucketId);
    if (!bucket) {
      const f = m.get(first)!;
      m.delete(first);
      bucket = { manager: ANCIENT_CHANGES, operation: 'Update', apiVersion: e.apiVersion, set: f.set, time: f.time };
      m.set(bucketId, bucket);
    }
    bucket.set = bucket.set.union(e.set);
    bucket.time = e.time;
    m.delete(id);
    count--;
  }
  return m;
}

/**
 * The entries a write starts from (upstream's decodeLiveOrNew): the request's own metadata.managedFields when it
 * sets valid, non-empty ones (never through a subresource), none when it sets `[]`, else the live object's.
 */
export function baseManaged(live: KubeObject | undefined, requested: unknown, subresource: string | undefined): Managed {
  const liveManaged = () => { try { return decodeManagedFields(live?.metadata?.managedFields); } catch { return new Map() as Managed; } };
  if (subresource) return liveManaged();
  if (Array.isArray(requested) && (requested.length === 0 || (requested.length === 1 && isEmptyEntry(requested[0])))) return new Map();
  try {
    const m = decodeManagedFields(requested);
    return m.size ? m : liveManaged();
  } catch {
    return liveManaged();
  }
}

function isEmptyEntry(e: unknown): boolean {
  return typeof e === 'object' && e !== null && Object.keys(e).length === 0;
}

/** 400 for an applied configuration that sets managedFields itself. */
export function checkApplyConfig(config: Record<string, unknown>): void {
  const meta = config.metadata as Record<string, unknown> | undefined;
  if (meta && meta.managedFields !== undefined && meta.managedFields !== null) throw errors.badRequest('metadata.managedFields must be nil');
}
