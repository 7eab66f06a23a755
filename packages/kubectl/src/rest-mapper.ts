import type { ApiClient } from '@k8ts/api';
import type { ApiGroupList, ApiResourceList, DiscoveryDocs } from './discovery-cache.js';
import { CliError } from './errors.js';

/** One resource the server serves, as discovery describes it. */
export interface ResourceMapping {
  group: string;
  version: string;
  /** Plural: `deployments`. */
  resource: string;
  kind: string;
  singularName: string;
  namespaced: boolean;
  verbs: string[];
  shortNames: string[];
  categories: string[];
  /** Whether this is the group's preferred version. */
  preferred: boolean;
}

/** A group as discovery lists it: versions in preference order. */
export interface ApiGroupInfo { name: string; versions: string[]; preferredVersion: string }

/** `apps/v1` or `v1`. */
export function groupVersionOf(m: { group: string; version: string }): string {
  return m.group ? `${m.group}/${m.version}` : m.version;
}

/** `deployments.apps` / `pods`: how kubectl names a resource in messages and `-o name`. */
export function groupResource(m: ResourceMapping): string {
  return m.group ? `${m.resource}.${m.group}` : m.resource;
}

/** `deployment.apps` / `pod`: the prefix of `-o name` and of names in multi-type tables. */
export function kindPrefix(m: ResourceMapping): string {
  const k = m.kind.toLowerCase();
  return m.group ? `${k}.${m.group}` : k;
}

/** The REST path of a collection or an object of `m`. */
export function resourceUrl(m: ResourceMapping, namespace?: string, name?: string, subresource?: string): string {
  let p = m.group ? `/apis/${m.group}/${m.version}` : `/api/${m.version}`;
  if (m.namespaced && namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${m.resource}`;
  if (name !== undefined) p += `/${encodeURIComponent(name)}`;
  if (subresource) p += `/${subresource}`;
  return p;
}

const AGGREGATED_ACCEPT = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,'
  + 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';

interface AggregatedList {
  kind: 'APIGroupDiscoveryList';
  items?: { metadata?: { name?: string }; versions?: { version: string; resources?: AggregatedResource[] }[] }[];
}
interface AggregatedResource {
  resource: string;
  responseKind?: { group?: string; version?: string; kind?: string };
  scope?: string;
  singularResource?: string;
  verbs?: string[];
  shortNames?: string[];
  categories?: string[];
  subresources?: { subresource: string; responseKind?: { group?: string; version?: string; kind?: string }; verbs?: string[] }[];
}
interface ApiResource {
  name: string; singularName?: string; namespaced?: boolean; kind: string; group?: string; version?: string;
  verbs?: string[]; shortNames?: string[]; categories?: string[];
}

/**
 * Maps what a user types (`po`, `pods`, `pod`, `Pod`, `deployments.apps`, `deploy.v1.apps`) and what a manifest
 * says (apiVersion + kind) to the server's resources, from discovery (aggregated when the server offers it, else
 * one request per group-version). Built once per run.
 */
export class RESTMapper {
  /** Set when a lookup found nothing: with a mapper from the disk cache, the cache may be stale (see Factory). */
  missed = false;
  /** Where kubectl's warnings of the lookups go (the Factory prints them as `Warning: …`). */
  onWarning?: (message: string) => void;
  private readonly warned = new Set<string>();

  private constructor(readonly mappings: ResourceMapping[], readonly groups: ApiGroupInfo[], readonly fromCache = false) {}

  /** Fetches discovery from the server; `onDocs` gets the documents in the disk cache's form (to write them). */
  static async discover(client: ApiClient, onDocs?: (docs: DiscoveryDocs) => void): Promise<RESTMapper> {
    const [core, apis] = await Promise.all([
      client.request<unknown>('GET', '/api', { accept: AGGREGATED_ACCEPT, query: { timeout: '32s' } }),
      client.request<unknown>('GET', '/apis', { accept: AGGREGATED_ACCEPT, query: { timeout: '32s' } }),
    ]);
    if (isAggregated(core) && isAggregated(apis)) {
      onDocs?.(aggregatedToDocs([core, apis]));
      return RESTMapper.fromAggregated([core, apis]);
    }
    return RESTMapper.fromLegacy(client, core as { versions?: string[] }, apis as { groups?: LegacyGroup[] }, onDocs);
  }

  /** From kubectl's disk cache (servergroups.json and each serverresources.json). */
  static fromDocs(docs: DiscoveryDocs, fromCache = true): RESTMapper {
    const groups: ApiGroupInfo[] = [];
    const mappings: ResourceMapping[] = [];
    for (const g of docs.groups.groups) {
      const versions = (g.versions ?? []).map((v) => v.version);
      const preferred = g.preferredVersion?.version ?? versions[0] ?? '';
      groups.push({ name: g.name, versions, preferredVersion: preferred });
      for (const v of g.versions ?? []) {
        for (const r of docs.resources.get(v.groupVersion)?.resources ?? []) {
          if (r.name.includes('/')) continue;
          mappings.push({
            group: g.name, version: v.version, resource: r.name, kind: r.kind, singularName: r.singularName || r.kind.toLowerCase(),
            namespaced: !!r.namespaced, verbs: r.verbs ?? [], shortNames: r.shortNames ?? [], categories: r.categories ?? [],
            preferred: v.version === preferred,
          });
        }
      }
    }
    return new RESTMapper(mappings, groups, fromCache);
  }

  /** From apidiscovery.k8s.io/v2 APIGroupDiscoveryLists (/api then /apis). */
  static fromAggregated(lists: AggregatedList[]): RESTMapper {
    const mappings: ResourceMapping[] = [];
    const groups: ApiGroupInfo[] = [];
    for (const list of lists) {
      for (const g of list.items ?? []) {
        const group = g.metadata?.name ?? '';
        const versions = (g.versions ?? []).map((v) => v.version);
        groups.push({ name: group, versions, preferredVersion: versions[0] ?? '' });
        (g.versions ?? []).forEach((v, i) => {
          for (const r of v.resources ?? []) {
            mappings.push({
              group, version: v.version, resource: r.resource, kind: r.responseKind?.kind ?? '',
              singularName: r.singularResource || (r.responseKind?.kind ?? '').toLowerCase(),
              namespaced: r.scope === 'Namespaced', verbs: r.verbs ?? [], shortNames: r.shortNames ?? [],
              categories: r.categories ?? [], preferred: i === 0,
            });
          }
        });
      }
    }
    return new RESTMapper(mappings, groups);
  }

  private static async fromLegacy(client: ApiClient, core: { versions?: string[] }, apis: { groups?: LegacyGroup[] }, onDocs?: (docs: DiscoveryDocs) => void): Promise<RESTMapper> {
    const coreVersions = core.versions ?? [];
    const groups: ApiGroupList = {
      kind: 'APIGroupList', apiVersion: 'v1',
      groups: [
        { name: '', versions: coreVersions.map((v) => ({ groupVersion: v, version: v })), preferredVersion: { groupVersion: coreVersions[0] ?? '', version: coreVersions[0] ?? '' } },
        ...(apis.groups ?? []).map((g) => {
          const versions = (g.versions ?? []).map((v) => ({ groupVersion: v.groupVersion || `${g.name}/${v.version}`, version: v.version }));
          const preferred = g.preferredVersion?.version ?? versions[0]?.version ?? '';
          return { name: g.name, versions, preferredVersion: { groupVersion: `${g.name}/${preferred}`, version: preferred } };
        }),
      ],
    };
    const gvs = groups.groups.flatMap((g) => g.versions.map((v) => v.groupVersion));
    let complete = true;
    const lists = await Promise.all(gvs.map(async (gv): Promise<[string, ApiResourceList]> => {
      const path = gv.includes('/') ? `/apis/${gv}` : `/api/${gv}`;
      try {
        const list = await client.request<{ resources?: ApiResource[] }>('GET', path, { accept: 'application/json, */*', query: { timeout: '32s' } });
        return [gv, { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv, resources: (list.resources ?? []).map((r) => ({ ...r, namespaced: !!r.namespaced, singularName: r.singularName ?? '', verbs: r.verbs ?? [] })) }];
      } catch {
        // kubectl only warns about a failing group-version (memcache.go) and goes on without it.
        complete = false;
        return [gv, { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv, resources: [] }];
      }
    }));
    const docs: DiscoveryDocs = { groups, resources: new Map(lists) };
    // A failed group-version is not cached as empty.
    if (complete) onDocs?.(docs);
    return RESTMapper.fromDocs(docs, false);
  }

  /**
   * The resource a user means by `arg` (`po`, `pods`, `pod`, `Pod`, `deployments.apps`, `deployments.v1.apps`,
   * `deploy.apps`): the preferred version unless one is named. Throws kubectl's
   * `the server doesn't have a resource type "x"`.
   */
  resourceFor(arg: string): ResourceMapping {
    const found = this.find(arg);
    if (!found) throw new CliError(`the server doesn't have a resource type "${arg}"`, { raw: false });
    return found;
  }

  /** Like resourceFor, undefined when nothing matches. */
  find(arg: string): ResourceMapping | undefined {
    const lower = arg.toLowerCase();
    const candidates: { name: string; group?: string; version?: string }[] = [{ name: lower }];
    const parts = lower.split('.');
    if (parts.length >= 2) {
      // resource.group, and resource.version.group
      candidates.push({ name: parts[0], group: parts.slice(1).join('.') });
      if (parts.length >= 3) candidates.push({ name: parts[0], version: parts[1], group: parts.slice(2).join('.') });
    }
    for (const c of candidates) {
      const matches = this.mappings.filter((m) => (c.group === undefined || m.group === c.group) && (c.version === undefined || m.version === c.version));
      // Plural, singular and kind first, then short names, as kubectl's shortcut expander.
      const pick = (pred: (m: ResourceMapping) => boolean): ResourceMapping | undefined => {
        const hits = matches.filter(pred);
        return hits.length ? bestOf(hits, c.group === undefined) : undefined;
      };
      const hit = pick((m) => m.resource === c.name) ?? pick((m) => m.singularName === c.name)
        ?? pick((m) => m.kind.toLowerCase() === c.name);
      if (hit) return hit;
      const short = pick((m) => m.shortNames.includes(c.name));
      if (short) {
        this.warnAmbiguousShortName(c.name, short, matches.filter((m) => m.shortNames.includes(c.name)));
        return short;
      }
    }
    this.missed = true;
    return undefined;
  }

  /**
   * As kubectl's shortcut expander: a short name other resources have too (`ev`: core and events.k8s.io Events) warns
   * once per resource it did not pick, `short name "ev" could also match lower priority resource events.events.k8s.io`.
   */
  private warnAmbiguousShortName(name: string, picked: ResourceMapping, hits: ResourceMapping[]): void {
    for (const m of hits) {
      if (m.group === picked.group && m.resource === picked.resource) continue;
      const other = m.group ? `${m.resource}.${m.group}` : m.resource;
      if (this.warned.has(`${name}/${other}`)) continue;
      this.warned.add(`${name}/${other}`);
      this.onWarning?.(`short name "${name}" could also match lower priority resource ${other}`);
    }
  }

  /** The resource of a manifest's apiVersion and kind. Throws kubectl's `no matches for kind "X" in version "v"`. */
  kindFor(apiVersion: string, kind: string): ResourceMapping {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion];
    const m = this.mappings.find((x) => x.group === group && x.version === version && x.kind === kind);
    if (!m) {
      this.missed = true;
      throw new CliError(`no matches for kind "${kind}" in version "${apiVersion}"`);
    }
    return m;
  }

  /** Every resource in `category` (`all`), in discovery order, preferred versions only, listable ones only. */
  category(category: string): ResourceMapping[] {
    return this.mappings.filter((m) => m.preferred && m.categories.includes(category) && m.verbs.includes('list'));
  }

  /** The preferred version's mappings, in discovery order (as `kubectl api-resources` lists them). */
  preferredResources(): ResourceMapping[] {
    return this.mappings.filter((m) => m.preferred);
  }
}

/** Aggregated discovery (/api, /apis) as kubectl's disk cache keeps it: an APIGroupList and APIResourceLists. */
function aggregatedToDocs(lists: AggregatedList[]): DiscoveryDocs {
  const groups: ApiGroupList = { kind: 'APIGroupList', apiVersion: 'v1', groups: [] };
  const resources = new Map<string, ApiResourceList>();
  for (const list of lists) {
    for (const g of list.items ?? []) {
      const name = g.metadata?.name ?? '';
      const gv = (v: string): string => (name ? `${name}/${v}` : v);
      const versions = (g.versions ?? []).map((v) => ({ groupVersion: gv(v.version), version: v.version }));
      groups.groups.push({ name, versions, ...(versions[0] ? { preferredVersion: versions[0] } : {}) });
      for (const v of g.versions ?? []) {
        const out: ApiResourceList = { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv(v.version), resources: [] };
        for (const r of v.resources ?? []) {
          // client-go's conversion (aggregated_discovery.go): the response kind's group and version, and a
          // subresource with its parent's singular name and scope.
          const namespaced = r.scope === 'Namespaced';
          const singularName = r.singularResource ?? '';
          const gvOf = (k?: { group?: string; version?: string }) => ({ ...(k?.group ? { group: k.group } : {}), ...(k?.version ? { version: k.version } : {}) });
          out.resources.push({
            name: r.resource, singularName, namespaced, ...gvOf(r.responseKind), kind: r.responseKind?.kind ?? '', verbs: r.verbs ?? [],
            ...(r.shortNames?.length ? { shortNames: r.shortNames } : {}), ...(r.categories?.length ? { categories: r.categories } : {}),
          });
          for (const sub of r.subresources ?? []) {
            out.resources.push({
              name: `${r.resource}/${sub.subresource}`, singularName, namespaced, ...gvOf(sub.responseKind), kind: sub.responseKind?.kind ?? '',
              verbs: sub.verbs ?? [],
            });
          }
        }
        resources.set(out.groupVersion, out);
      }
    }
  }
  return { groups, resources };
}

interface LegacyGroup { name: string; versions?: { groupVersion: string; version: string }[]; preferredVersion?: { version: string } }

function isAggregated(v: unknown): v is AggregatedList {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'APIGroupDiscoveryList';
}

/**
 * Among matches of one name, the one kubectl picks: the core group and then the preferred version first (kubectl
 * prefers the legacy group for bare names, e.g. `events` → v1 Event over events.k8s.io).
 */
function bestOf(hits: ResourceMapping[], bare: boolean): ResourceMapping {
  const score = (m: ResourceMapping): number => (m.preferred ? 2 : 0) + (bare && m.group === '' ? 4 : 0);
  return [...hits].sort((a, b) => score(b) - score(a))[0];
}
