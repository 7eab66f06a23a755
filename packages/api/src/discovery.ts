import type { ApiClient } from './client.js';
import { findResource, type ResourceDef, type SubresourceDef } from './registry.js';

/** The Accept value of aggregated discovery (apidiscovery.k8s.io/v2), with plain JSON as the fallback. */
const AGGREGATED = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json';

interface DiscoveryResource {
  resource: string; singularResource?: string; scope: string; verbs?: string[]; shortNames?: string[]; categories?: string[];
  responseKind?: { group: string; version: string; kind: string };
  subresources?: { subresource: string; responseKind?: { group: string; version: string; kind: string }; verbs?: string[] }[];
}
interface DiscoveryGroup { metadata: { name: string }; versions: { version: string; resources: DiscoveryResource[] }[] }

/**
 * The resources the server serves that the registry does not have (custom resources of CRDs), from aggregated
 * discovery of /apis (client-go's discovery client, which the garbage collector, namespace deletion and the HPA
 * use to find resources added at run time). Versions after a group's preferred one get `storageVersion` set to the
 * preferred version: they are the same objects, so clients walking every kind take only the preferred rows
 * (storedResources), as upstream's ServerPreferredResources.
 */
export async function discoverResources(client: ApiClient, signal?: AbortSignal): Promise<ResourceDef[]> {
  const doc = await client.request<{ items?: DiscoveryGroup[] }>('GET', '/apis', { accept: AGGREGATED, signal });
  const out: ResourceDef[] = [];
  for (const g of doc.items ?? []) {
    const preferred = g.versions[0]?.version;
    for (const v of g.versions) {
      for (const r of v.resources) {
        if (findResource(g.metadata.name, v.version, r.resource) || !r.responseKind?.kind) continue;
        const kind = r.responseKind.kind;
        const subresources: SubresourceDef[] = (r.subresources ?? [])
          .filter((s) => s.subresource === 'status' || s.subresource === 'scale')
          .map((s) => ({
            name: s.subresource as 'status' | 'scale', group: s.responseKind?.group ?? g.metadata.name,
            version: s.responseKind?.version ?? v.version, kind: s.responseKind?.kind ?? kind, verbs: s.verbs ?? [],
          }));
        out.push({
          group: g.metadata.name, version: v.version, resource: r.resource, singular: r.singularResource || kind.toLowerCase(), kind,
          listKind: `${kind}List`, namespaced: r.scope === 'Namespaced', shortNames: r.shortNames ?? [], categories: r.categories ?? [],
          verbs: r.verbs ?? [], subresources,
          ...(v.version !== preferred ? { storageVersion: preferred } : {}),
        });
      }
    }
  }
  return out;
}
