import { mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

/**
 * kubectl's discovery cache on disk (client-go's disk.CachedDiscoveryClient): under
 * `<cache-dir>/discovery/<host_port>/`, `servergroups.json` (an APIGroupList, the core group `""` first) and
 * `<group>/<version>/serverresources.json` (an APIResourceList; the core group's as `v1/serverresources.json`), each
 * good for 6 hours after it was written. Same layout and documents as kubectl's, so either reads what the other wrote.
 */
export const DISCOVERY_TTL_MS = 6 * 60 * 60 * 1000;

export interface ApiGroupList {
  kind: 'APIGroupList';
  apiVersion: 'v1';
  groups: { name: string; versions: { groupVersion: string; version: string }[]; preferredVersion?: { groupVersion: string; version: string } }[];
}
export interface ApiResourceList {
  kind: 'APIResourceList';
  apiVersion: 'v1';
  groupVersion: string;
  resources: {
    name: string; singularName: string; namespaced: boolean; group?: string; version?: string; kind: string; verbs: string[];
    shortNames?: string[]; categories?: string[];
  }[];
}
/** What discovery found: the groups, and each group-version's resources (keyed `v1`, `apps/v1`). */
export interface DiscoveryDocs { groups: ApiGroupList; resources: Map<string, ApiResourceList> }

/** `--cache-dir`, else `$KUBECACHEDIR`, else `~/.kube/cache`; then `discovery/<host_port>` as client-go names it. */
export function discoveryCacheDir(cacheDir: string | undefined, env: NodeJS.ProcessEnv, server: string): string {
  const parent = cacheDir || env.KUBECACHEDIR || path.join(env.HOME || homedir(), '.kube', 'cache');
  // client-go: strip the scheme, then every character outside [\w/.()] becomes `_`.
  const host = server.replace('https://', '').replace('http://', '').replace(/[^(\w/.)]/g, '_');
  return path.join(parent, 'discovery', host);
}

function gvDir(dir: string, groupVersion: string): string {
  return path.join(dir, ...groupVersion.split('/'));
}

function readFresh<T>(file: string, now: number, ttlMs: number): T | undefined {
  try {
    if (now > statSync(file).mtimeMs + ttlMs) return undefined;
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** The cached documents when every one is there and fresh; undefined otherwise (then discovery asks the server). */
export function readDiscoveryCache(dir: string, now = Date.now(), ttlMs = DISCOVERY_TTL_MS): DiscoveryDocs | undefined {
  const groups = readFresh<ApiGroupList>(path.join(dir, 'servergroups.json'), now, ttlMs);
  if (groups?.kind !== 'APIGroupList' || !Array.isArray(groups.groups)) return undefined;
  const resources = new Map<string, ApiResourceList>();
  for (const g of groups.groups) {
    for (const v of g.versions ?? []) {
      const list = readFresh<ApiResourceList>(path.join(gvDir(dir, v.groupVersion), 'serverresources.json'), now, ttlMs);
      if (list?.kind !== 'APIResourceList' || !Array.isArray(list.resources)) return undefined;
      resources.set(v.groupVersion, list);
    }
  }
  return { groups, resources };
}

function writeAtomic(file: string, data: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o750 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(data), { mode: 0o660 });
  renameSync(tmp, file);
}

/** Writes the documents; a cache that cannot be written (read-only home) is no error, as in kubectl. */
export function writeDiscoveryCache(dir: string, docs: DiscoveryDocs): void {
  try {
    // The resource lists first: a reader that sees the new servergroups.json finds its lists.
    for (const [gv, list] of docs.resources) writeAtomic(path.join(gvDir(dir, gv), 'serverresources.json'), list);
    writeAtomic(path.join(dir, 'servergroups.json'), docs.groups);
  } catch {
    // kubectl logs this at -v=3 and goes on.
  }
}

/** Makes the next run ask the server again (kubectl's Invalidate, which the next lookup then refreshes). */
export function invalidateDiscoveryCache(dir: string): void {
  try {
    unlinkSync(path.join(dir, 'servergroups.json'));
  } catch {
    // Nothing cached.
  }
}
