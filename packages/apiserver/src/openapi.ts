import { createHash } from 'node:crypto';
import { apiVersionOf, groupVersion, RESOURCES, type ResourceDef } from '@k8ts/api';
import type { CustomResources } from './apiextensions/crd-controller.js';
import { publishedSchema } from './apiextensions/crd-schema.js';
import { buildDefinitions, definitionName, type Kind, type Schema } from './openapi-schemas.js';
import { messageType, schemas } from './protobuf/decode.js';

/**
 * /openapi/v3 as kubectl needs it (kubectl-wire.md §3): an index of group-versions, and per group-version the
 * paths whose PATCH operation names its group-version-kind and the fieldValidation parameter, so that kubectl
 * leaves field validation to the server, and the schemas of its kinds and every type they reach
 * (openapi-schemas.ts), for `kubectl explain`. Built on first use (a few hundred schemas).
 */
export class OpenApi {
  private built: Map<string, { body: string; hash: string }> | undefined;
  private customBuilt: { generation: number; docs: Map<string, { body: string; hash: string }> } | undefined;

  /** With `custom`, the custom resources' group-versions are published too, rebuilt when what is served changes. */
  constructor(private readonly custom?: CustomResources) {}

  private get docs(): Map<string, { body: string; hash: string }> {
    if (!this.built) {
      this.built = new Map();
      for (const r of RESOURCES) {
        const gv = r.group ? `apis/${r.group}/${r.version}` : `api/${r.version}`;
        if (this.built.has(gv)) continue;
        this.built.set(gv, withHash(JSON.stringify(this.groupVersionDoc(r.group, r.version))));
      }
    }
    return this.built;
  }

  /** The custom group-versions' documents (upstream's CRD OpenAPI controller), rebuilt when a CRD changes. */
  private get customDocs(): Map<string, { body: string; hash: string }> {
    const custom = this.custom;
    if (!custom) return new Map();
    if (this.customBuilt?.generation !== custom.generation) {
      const docs = new Map<string, { body: string; hash: string }>();
      const byGv = new Map<string, { def: ResourceDef; schema: Schema }[]>();
      for (const { versions } of custom.served()) {
        for (const v of versions) {
          const gv = `apis/${v.def.group}/${v.def.version}`;
          if (this.docs.has(gv)) continue; // a built-in group-version is not a CRD's to publish
          const gvk = { group: v.def.group, version: v.def.version, kind: v.def.kind };
          byGv.set(gv, [...(byGv.get(gv) ?? []), { def: v.def, schema: publishedSchema(v.schema, gvk) }]);
        }
      }
      for (const [gv, entries] of byGv) docs.set(gv, withHash(JSON.stringify(customGroupVersionDoc(entries))));
      this.customBuilt = { generation: custom.generation, docs };
    }
    return this.customBuilt.docs;
  }

  index(): unknown {
    const paths: Record<string, { serverRelativeURL: string }> = {};
    for (const docs of [this.docs, this.customDocs]) {
      for (const [gv, doc] of docs) paths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=${doc.hash}` };
    }
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
    return this.docs.get(gv)?.body ?? this.customDocs.get(gv)?.body;
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
    for (const r of resources) addPaths(paths, r, bodyOf(r));
    return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.4' }, paths, components: { schemas } };
  }
}

function withHash(body: string): { body: string; hash: string } {
  return { body, hash: createHash('sha512').update(body).digest('hex').slice(0, 64).toUpperCase() };
}

/** A resource's create, update and patch operations, naming its group-version-kind and the fieldValidation parameter. */
function addPaths(paths: Record<string, unknown>, r: ResourceDef, body: Record<string, unknown>): void {
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
    ...(action === 'patch' ? {} : body),
    responses: { 200: { description: 'OK' } },
  });
  paths[collectionPath(r)] = { post: op('post') };
  // A create-only kind (the reviews) has no object path.
  if (r.verbs.includes('update')) paths[`${collectionPath(r)}/{name}`] = { put: op('put'), patch: op('patch') };
}

/** Upstream's definition name of a custom kind: the group reversed, the version, the kind (`com.example.stable.v1.CronTab`). */
export function customDefinitionName(def: ResourceDef): string {
  return `${def.group.split('.').reverse().join('.')}.${def.version}.${def.kind}`;
}

let metaDefinitions: Record<string, Schema> | undefined;
/** ObjectMeta and the types it reaches, which every custom kind's metadata refers to. */
function objectMetaDefinitions(): Record<string, Schema> {
  if (!metaDefinitions) {
    const type = schemas().lookupType('k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta');
    const defs = buildDefinitions([{ type, group: '', version: '', kind: '' }], '#/components/schemas/');
    const meta = { ...defs[definitionName(type)] };
    delete meta['x-kubernetes-group-version-kind'];
    const props = { ...(meta.properties as Record<string, Schema>) };
    delete props.apiVersion;
    delete props.kind;
    defs[definitionName(type)] = { ...meta, properties: props };
    metaDefinitions = defs;
  }
  return metaDefinitions;
}

/** The document of a custom group-version: its kinds' paths and published schemas. */
function customGroupVersionDoc(entries: { def: ResourceDef; schema: Schema }[]): unknown {
  const paths: Record<string, unknown> = {};
  const components: Record<string, Schema> = { ...objectMetaDefinitions() };
  for (const { def, schema } of entries) {
    const name = customDefinitionName(def);
    components[name] = schema;
    addPaths(paths, def, { requestBody: { content: { '*/*': { schema: { $ref: `#/components/schemas/${name}` } } } } });
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes CRD Swagger', version: 'v0.1.0' }, paths, components: { schemas: components } };
}

function collectionPath(r: ResourceDef): string {
  const base = r.group ? `/apis/${groupVersion(r.group, r.version)}` : `/api/${r.version}`;
  return r.namespaced ? `${base}/namespaces/{namespace}/${r.resource}` : `${base}/${r.resource}`;
}
