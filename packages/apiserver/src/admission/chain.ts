import { ApiError, qualifiedResource, type KubeObject, type ResourceDef, type StatusCause } from '@k8ts/api';

/** The verbs admission sees, as upstream's admission.Operation. DELETE covers deletecollection, item by item. */
export type Operation = 'CREATE' | 'UPDATE' | 'DELETE';

/** One request as admission sees it (upstream's admission.Attributes). */
export interface AdmissionAttributes {
  operation: Operation;
  def: ResourceDef;
  namespace: string | undefined;
  name: string;
  /** '' for the main resource; 'status' and the like for subresources. */
  subresource: string;
  /** The object to be written (CREATE, UPDATE): mutating plugins change it in place. Undefined on DELETE. */
  object?: KubeObject;
  /** The stored object (UPDATE, DELETE). */
  oldObject?: KubeObject;
  dryRun: boolean;
}

/**
 * An admission plugin (upstream's plugin/pkg/admission/*): `mutate` may change the object (MutationInterface.Admit),
 * `validate` may only refuse (ValidationInterface.Validate). Either throws an ApiError to refuse the request.
 */
export interface AdmissionPlugin {
  readonly name: string;
  mutate?(a: AdmissionAttributes): Promise<void> | void;
  validate?(a: AdmissionAttributes): Promise<void> | void;
}

/**
 * The configured plugins in order. The store runs `mutate` (every plugin's mutating half, in order) before the
 * kind's validation and `validate` after it, on create, update and delete alike, as upstream's admission chain.
 */
export class AdmissionChain {
  constructor(readonly plugins: readonly AdmissionPlugin[] = []) {}

  async mutate(a: AdmissionAttributes): Promise<void> {
    for (const p of this.plugins) await p.mutate?.(a);
  }

  async validate(a: AdmissionAttributes): Promise<void> {
    for (const p of this.plugins) await p.validate?.(a);
  }
}

/** A 403 as upstream's admission.NewForbidden builds it: `pods "x" is forbidden: <why>`. */
export function forbidden(def: ResourceDef, name: string, why: string, causes?: StatusCause[]): ApiError {
  return new ApiError(403, 'Forbidden', `${qualifiedResource(def.resource, def.group)} "${name}" is forbidden: ${why}`,
    { name, ...(def.group ? { group: def.group } : {}), kind: def.resource, ...(causes ? { causes } : {}) });
}

