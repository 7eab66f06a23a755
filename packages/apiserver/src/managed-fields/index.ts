import { apiVersionOf, type PatchMeta, type ResourceDef } from '@k8ts/api';
import { buildDefinitions, definitionName } from '../openapi-schemas.js';
import { messageType } from '../protobuf/decode.js';
import { DEDUCED, typeFromOpenApi, type FieldType, type OpenApiSource } from './schema.js';

export { FieldSet, pathString } from './set.js';
export { typeFromOpenApi, DEDUCED, type FieldType, type OpenApiSource } from './schema.js';
export { compare, merge, removeItems, toFieldSet } from './typed.js';
export {
  applyManaged, baseManaged, capManagers, checkApplyConfig, conflictError, decodeManagedFields, encodeManagedFields,
  managerFromUserAgent, updateManaged, LAST_APPLIED, type Managed, type ManagerEntry, type Writer,
} from './manager.js';

/**
 * Structs that upstream marks `+structType=atomic` (x-kubernetes-map-type: atomic in its OpenAPI): owned and
 * replaced whole. Our schemas are built from protobuf definitions that do not carry the marker.
 */
const ATOMIC_DEFINITIONS = new Set([
  'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector',
  'io.k8s.api.core.v1.LocalObjectReference', 'io.k8s.api.core.v1.TypedLocalObjectReference', 'io.k8s.api.core.v1.ObjectReference',
  'io.k8s.api.core.v1.NodeSelector', 'io.k8s.api.core.v1.NodeSelectorTerm', 'io.k8s.api.core.v1.TopologySelectorTerm',
  'io.k8s.api.core.v1.ConfigMapKeySelector', 'io.k8s.api.core.v1.SecretKeySelector',
  'io.k8s.api.core.v1.ObjectFieldSelector', 'io.k8s.api.core.v1.ResourceFieldSelector',
]);

const registered = new Map<string, FieldType>();
const builtIn = new Map<string, WeakMap<object, FieldType>>();
const NO_OVERLAY = {};

const gvkKey = (group: string, version: string, kind: string) => `${group}/${version}/${kind}`;

/**
 * Registers the schema of a kind served without a built-in one (a CustomResourceDefinition's version): its
 * OpenAPI v3 schema (root inline, `x-kubernetes-list-type` … honoured); undefined unregisters (deduced again).
 */
export function registerManagedFieldsSchema(group: string, version: string, kind: string, src: OpenApiSource | undefined): void {
  if (src) registered.set(gvkKey(group, version, kind), typeFromOpenApi(src)); else registered.delete(gvkKey(group, version, kind));
}

/**
 * The managed-fields type of a kind by group, version and kind: a registered schema, else the built-in kind's
 * OpenAPI schema with its strategic-merge keys as list types, else deduced (maps granular, lists atomic).
 */
export function managedFieldsType(def: Pick<ResourceDef, 'group' | 'version' | 'kind'>, patchMeta?: PatchMeta): FieldType {
  const key = gvkKey(def.group, def.version, def.kind);
  const reg = registered.get(key);
  if (reg) return reg;
  let byOverlay = builtIn.get(key);
  if (!byOverlay) { byOverlay = new WeakMap(); builtIn.set(key, byOverlay); }
  let t = byOverlay.get(patchMeta ?? NO_OVERLAY);
  if (t) return t;
  const type = messageType(apiVersionOf(def as ResourceDef), def.kind);
  if (!type) { byOverlay.set(patchMeta ?? NO_OVERLAY, DEDUCED); return DEDUCED; }
  const definitions = buildDefinitions([{ type, group: def.group, version: def.version, kind: def.kind }], '#/components/schemas/');
  t = typeFromOpenApi({ definitions, root: definitionName(type), listOverlay: patchMeta, atomicDefinitions: ATOMIC_DEFINITIONS });
  byOverlay.set(patchMeta ?? NO_OVERLAY, t);
  return t;
}
