import { createHash } from 'node:crypto';
import { groupVersion, RESOURCES, type ResourceDef } from '@k8ts/api';
import { METRICS_GROUP, metricsApiGroup, metricsDiscoveryGroup, METRICS_VERSION, metricsResourceList } from './metrics.js';

/** The Content-Type that tells kubectl a discovery answer is aggregated (kubectl-wire.md §2). */
export const AGGREGATED_CONTENT_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

/**
 * Kubernetes' version order (apimachinery's CompareKubeAwareVersionStrings): GA before beta before alpha, higher
 * numbers first, anything else after, alphabetically. Negative when `a` is preferred.
 */
export function compareKubeVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    return m ? { major: Number(m[1]), level: m[2] === 'alpha' ? 1 : m[2] === 'beta' ? 2 : 3, minor: Number(m[3] ?? 0) } : undefined;
  };
  const pa = parse(a);
  const pb = parse(b);
  if (pa && pb) return pb.level - pa.level || pb.major - pa.major || pb.minor - pa.minor;
  if (pa || pb) return pa ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Groups in preference order, each with its versions (preferred first); custom groups after the built-in ones. */
function groups(custom: readonly ResourceDef[]): { name: string; versions: string[] }[] {
  const out: { name: string; versions: string[] }[] = [];
  const add = (r: ResourceDef) => {
    let g = out.find((x) => x.name === r.group);
    if (!g) out.push((g = { name: r.group, versions: [] }));
    if (!g.versions.includes(r.version)) g.versions.push(r.version);
    return g;
  };
  for (const r of RESOURCES) if (r.group) add(r);
  const customGroups = new Set<{ name: string; versions: string[] }>();
  for (const r of custom) customGroups.add(add(r));
  // A CRD group's versions in Kubernetes' order (upstream's discovery controller sorts them so).
  for (const g of customGroups) g.versions.sort(compareKubeVersions);
  return out;
}

/**
 * A resource's storageVersionHash as upstream computes it (apiserver/pkg/endpoints/discovery StorageVersionHash):
 * base64 of the first 8 bytes of sha256("<group>/<version>/<kind>") of the version it is stored in.
 */
export function storageVersionHash(def: ResourceDef): string {
  const version = def.storageVersion ?? def.version;
  return createHash('sha256').update(`${def.storageGroup ?? def.group}/${version}/${def.kind}`).digest().subarray(0, 8).toString('base64');
}

function resourcesOf(group: string, version: string, custom: readonly ResourceDef[]): ResourceDef[] {
  const builtIn = RESOURCES.filter((r) => r.group === group && r.version === version);
  return custom.length ? [...builtIn, ...custom.filter((r) => r.group === group && r.version === version)] : builtIn;
}

/** GET /api (legacy form). */
export function apiVersions(): unknown {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '' }] };
}

function apiGroup(g: { name: string; versions: string[] }): unknown {
  const versions = g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v }));
  return { name: g.name, versions, preferredVersion: versions[0] };
}

/** GET /apis (legacy form). */
export function apiGroupList(custom: readonly ResourceDef[] = []): unknown {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [...groups(custom).map(apiGroup), metricsApiGroup()] };
}

/** GET /apis/{group}; undefined when the group is unknown. */
export function apiGroupDoc(name: string, custom: readonly ResourceDef[] = []): unknown {
  if (name === METRICS_GROUP) return { kind: 'APIGroup', apiVersion: 'v1', ...metricsApiGroup() };
  const g = groups(custom).find((x) => x.name === name);
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...(apiGroup(g) as object) } : undefined;
}

/** GET /api/v1 or /apis/{group}/{version}: an APIResourceList; undefined when unknown. */
export function apiResourceList(group: string, version: string, custom: readonly ResourceDef[] = []): unknown {
  if (group === METRICS_GROUP && version === METRICS_VERSION) return metricsResourceList();
  const defs = resourcesOf(group, version, custom);
  if (!defs.length) return undefined;
  const resources: unknown[] = [];
  for (const r of defs) {
    resources.push({
      name: r.resource, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs,
      ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
      ...(r.categories.length ? { categories: r.categories } : {}),
      // Only stored kinds have one (upstream: the REST storages that implement StorageVersioner).
      ...(r.virtual ? {} : { storageVersionHash: storageVersionHash(r) }),
    });
    for (const s of r.subresources) {
      resources.push({
        name: `${r.resource}/${s.name}`, singularName: '', namespaced: r.namespaced,
        ...(s.group !== r.group || s.version !== r.version ? { group: s.group, version: s.version } : {}),
        kind: s.kind, verbs: s.verbs,
      });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersion(group, version), resources };
}

function discoveryGroup(name: string, versions: string[], custom: readonly ResourceDef[]): unknown {
  return {
    metadata: { name },
    versions: versions.map((v) => ({
      version: v,
      freshness: 'Current',
      resources: resourcesOf(name, v, custom).map((r) => ({
        resource: r.resource,
        responseKind: { group: r.group, version: r.version, kind: r.kind },
        scope: r.namespaced ? 'Namespaced' : 'Cluster',
        singularResource: r.singular,
        verbs: r.verbs,
        ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
        ...(r.categories.length ? { categories: r.categories } : {}),
        ...(r.subresources.length ? {
          subresources: r.subresources.map((s) => ({
            subresource: s.name, responseKind: { group: s.group, version: s.version, kind: s.kind }, verbs: s.verbs,
          })),
        } : {}),
      })),
    })),
  };
}

/** Aggregated discovery (apidiscovery.k8s.io/v2): /api holds the core group only, /apis every other group. */
export function aggregatedDiscovery(core: boolean, custom: readonly ResourceDef[] = []): unknown {
  const items = core ? [discoveryGroup('', ['v1'], [])]
    : [...groups(custom).map((g) => discoveryGroup(g.name, g.versions, custom)), metricsDiscoveryGroup()];
  return { kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {}, items };
}

/** True when the Accept header asks for aggregated discovery. */
export function wantsAggregated(accept: string | undefined): boolean {
  return !!accept && /as=APIGroupDiscoveryList/.test(accept) && /v=v2(beta1)?\b/.test(accept);
}
