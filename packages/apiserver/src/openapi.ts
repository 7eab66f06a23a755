import { createHash } from 'node:crypto';
import { apiVersionOf, groupVersion, RESOURCES, type ResourceDef } from '@k8ts/api';
import { buildDefinitions, definitionName, type Kind } from './openapi-schemas.js';
import { messageType, schemas } from './protobuf/decode.js';

/**
 * /openapi/v3 as kubectl needs it (kubectl-wire.md §3): an index of group-versions, and per group-version the
 * paths whose PATCH operation names its group-version-kind and the fieldValidation parameter, so that kubectl
 * leaves field validation to the server, and the schemas of its kinds and every type they reach
 * (openapi-schemas.ts), for `kubectl explain`. Built on first use (a few hundred schemas).
 */
export class OpenApi {
  private built: Map<string, { body: string; hash: string }> | undefined;

  private get docs(): Map<string, { body: string; hash: string }> {
    if (!this.built) {
      this.built = new Map();
      for (const r of RESOURCES) {
        const gv = r.group ? `apis/${r.group}/${r.version}` : `api/${r.version}`;
        if (this.built.has(gv)) continue;
        const body = JSON.stringify(this.groupVersionDoc(r.group, r.version));
        this.built.set(gv, { body, hash: createHash('sha512').update(body).digest('hex').slice(0, 64).toUpperCase() });
      }
    }
    return this.built;
  }

  index(): unknown {
    const paths: Record<string, { serverRelativeURL: string }> = {};
    for (const [gv, doc] of this.docs) paths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=${doc.hash}` };
    return { paths };
  }

  /**
   * /openapi/v2 as gnostic's protobuf (kubectl-wire.md §1): kubectl falls back to it to validate a `kind: List`
   * client-side (its /openapi/v3 check does not cover List). The document names no definitions: kubectl then
   * validates nothing client-side and sends each item with `fieldValidation=Strict`, which the server enforces;
   * and its client-side apply keeps its compiled-in strategic-merge metadata, which is what our SMP implements.
   */
  v2(): Buffer {
    const type = schemas().lookupType('openapi.v2.Document');
    return Buffer.from(type.encode(type.fromObject({ swagger: '2.0', info: { title: 'Kubernetes', version: 'v1.32.4' } })).finish());
  }

  /** The document of `api/v1` or `apis/apps/v1`, or undefined. */
  document(gv: string): string | undefined {
    return this.docs.get(gv)?.body;
  }

  private groupVersionDoc(group: string, version: string): unknown {
    const paths: Record<string, unknown> = {};
    const resources = RESOURCES.filter((x) => x.group === group && x.version === version);
    const kinds: Kind[] = [];
    for (const r of resources) {
      const type = messageType(apiVersionOf(r), r.kind);
      if (type) kinds.push({ type, group: r.group, version: r.version, kind: r.kind });
    }
    const schemas = buildDefinitions(kinds, '#/components/schemas/');
    const bodyOf = (r: ResourceDef) => {
      const k = kinds.find((x) => x.kind === r.kind);
      return k ? { requestBody: { content: { '*/*': { schema: { $ref: `#/components/schemas/${definitionName(k.type)}` } } } } } : {};
    };
    for (const r of resources) {
      const gvk = { group: r.group, version: r.version, kind: r.kind };
      const op = (action: string) => ({
        'x-kubernetes-action': action,
        'x-kubernetes-group-version-kind': gvk,
        operationId: `${action}${r.kind}`,
        parameters: [
          { name: 'dryRun', in: 'query', schema: { type: 'string' } },
          { name: 'fieldManager', in: 'query', schema: { type: 'string' } },
          { name: 'fieldValidation', in: 'query', schema: { type: 'string' } },
        ],
        ...(action === 'patch' ? {} : bodyOf(r)),
        responses: { 200: { description: 'OK' } },
      });
      paths[collectionPath(r)] = { post: op('post') };
      paths[`${collectionPath(r)}/{name}`] = { put: op('put'), patch: op('patch') };
    }
    return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.4' }, paths, components: { schemas } };
  }
}

function collectionPath(r: ResourceDef): string {
  const base = r.group ? `/apis/${groupVersion(r.group, r.version)}` : `/api/${r.version}`;
  return r.namespaced ? `${base}/namespaces/{namespace}/${r.resource}` : `${base}/${r.resource}`;
}
