import {
  compilePatchMeta, findResource, isDNS1123Subdomain, patchTableFor, type FieldError, type KubeObject, type PatchMeta, type ResourceDef,
} from '@k8ts/api';
import { copyJson } from '../copy.js';
import { checkTypes } from '../type-check.js';
import { defaultPrinter, type Printer } from './shared/printing.js';

/** A metadata.name rule: the messages of what is wrong, none when the name is valid. */
export type NameCheck = (name: string) => string[];

/** What a DELETE asked for, as far as a strategy needs to know. */
export interface DeleteRequest { gracePeriodSeconds?: number }

/**
 * Everything kind-specific about one resource, as upstream's pkg/registry/<group>/<kind>/strategy.go: the generic
 * store (rest-store.ts) calls these and knows no kind by name.
 */
export interface Strategy {
  readonly def: ResourceDef;
  /** The metadata.name rule (upstream's ValidateObjectMeta name func); DNS-1123 subdomain by default. */
  readonly nameCheck: NameCheck;
  /** Whether metadata.generation counts spec changes (the kind's controller reports observedGeneration). */
  readonly tracksGeneration: boolean;
  /**
   * The structural check upstream gets from decoding into the kind's Go type: runs first on every decoded body and
   * patched object; a field of the wrong JSON type is the one FieldError returned. Default: the kind's Go type in
   * type-check.ts. May normalize nulls in place as Go's decode would.
   */
  checkTypes(obj: KubeObject): FieldError[];
  /** Conversions applied to every decoded body (create, update, apply): e.g. a Secret's stringData into data. */
  convert(obj: KubeObject): void;
  /** Fills in upstream's defaults in place (pkg/apis/<group>/<version>/defaults.go). Idempotent. */
  defaults(obj: KubeObject): void;
  /** The status a new object starts with (PrepareForCreate); undefined removes it. */
  initialStatus(obj: KubeObject): unknown;
  /** Keeps what a main-resource update may not change (PrepareForUpdate): status, by default, when /status exists. */
  prepareForUpdate(next: KubeObject, old: KubeObject): void;
  /**
   * Kind-specific validation (ObjectMeta is the store's); `old` is given on update, `subresource` when the update came
   * through one (`status`, `ephemeralcontainers`), whose own update rules then apply.
   */
  validate(obj: KubeObject, old?: KubeObject, subresource?: string): FieldError[];
  /** Field-selector fields beyond metadata.name and metadata.namespace (upstream's GetAttrs). */
  fields(obj: KubeObject): Record<string, string>;
  /** The Table columns and cells `kubectl get` shows. */
  readonly printer: Printer;
  /** Strategic-merge metadata: merge keys and strategies of the kind's list fields. */
  readonly patchMeta: PatchMeta;
  /** Seconds a DELETE waits before the object goes (upstream's CheckGracefulDelete); 0 by default. */
  gracePeriod(obj: KubeObject, options: DeleteRequest): number;
  /**
   * A kind with its own deletion (upstream's namespace REST Delete): the object to keep, marked, or null to remove
   * it now. Undefined for the generic rules (grace period, then finalizers).
   */
  markForDeletion?(obj: KubeObject, now: number): KubeObject | null;
  /**
   * Whether an object being deleted whose metadata.finalizers are gone may go now; a namespace also waits for its
   * spec.finalizers (upstream's ShouldDeleteNamespaceDuringUpdate). Undefined: it may.
   */
  deletionBlocked?(obj: KubeObject): boolean;
  /**
   * Values an object holds exclusively while it exists (a Service's cluster IP and node ports, as
   * `serviceips/10.96.0.7`, `servicenodeports/30080`): taken and released in the object's own etcd transactions,
   * so they stay unique across apiservers (upstream keeps an allocation bitmap per range in etcd).
   */
  reservations?(obj: KubeObject): string[];
  /** The field error for a reservation the client asked for that another object holds. */
  reservationTaken?(obj: KubeObject, reservation: string): FieldError;
  /** The `status.selector` of the kind's autoscaling/v1 Scale, for kinds serving /scale. */
  scaleSelector?(obj: KubeObject): string;
  /**
   * Where a kind serving /scale keeps its replicas (a custom resource's specReplicasPath, statusReplicasPath and
   * labelSelectorPath); undefined: spec.replicas, status.replicas and scaleSelector.
   */
  scale?: ScaleFields;
  /**
   * Drops the fields the kind's schema does not have, in place, and returns their paths (a custom resource's
   * structural-schema pruning, on every decoded body). Undefined: the built-in kinds' protobuf schemas.
   */
  pruneUnknown?(obj: KubeObject): string[];
  /** Whether an update bumps metadata.generation (when tracksGeneration); undefined: when spec changed. */
  generationChanged?(next: KubeObject, old: KubeObject): boolean;
}

/** A /scale subresource's replicas and selector, read from and written to an object. */
export interface ScaleFields {
  specReplicas(obj: KubeObject): number;
  statusReplicas(obj: KubeObject): number;
  selector(obj: KubeObject): string;
  /** Sets the wanted replicas in place. */
  setSpecReplicas(obj: KubeObject, replicas: number): void;
}

/**
 * A further served version of a kind whose objects are stored in another version (upstream's conversion functions
 * between a group's versions): requests in `def`'s version are converted to the storage version before the storage
 * version's strategy sees them, and answers back.
 */
export interface VersionConversion {
  /** The served row (its `storageVersion` names the stored one). */
  readonly def: ResourceDef;
  /** The Go types of this version, checked on decode before conversion. */
  checkTypes(obj: KubeObject): FieldError[];
  toStorage(obj: KubeObject): KubeObject;
  fromStorage(obj: KubeObject): KubeObject;
  /** On an update or patch through this version, puts back from the stored object what this version cannot express. */
  restore?(next: KubeObject, old: KubeObject): void;
  /**
   * Validation of writes through this version beyond the stored kind's (upstream's ValidateEventCreate/Update with
   * the request's group-version), on the stored form; `old` is given on update.
   */
  validate?(obj: KubeObject, old?: KubeObject): FieldError[];
  /**
   * The stored kind's field-selector label of one of this version's (upstream's field label conversion:
   * `regarding.name` → `involvedObject.name`); undefined for a label this version does not select on.
   * Without it, the stored kind's labels are this version's.
   */
  fieldLabel?(label: string): string | undefined;
}

/** What a kind's file gives: any Strategy member but `def` and `patchMeta` (the kind's row of @k8ts/api's patch tables). */
export type StrategySpec = Partial<Omit<Strategy, 'def' | 'patchMeta'>>;

/** Whether the resource serves a /status subresource (its status then changes only there). */
export function hasStatus(def: ResourceDef): boolean {
  return def.subresources.some((s) => s.name === 'status');
}

/**
 * A kind's strategy from its registry row (`group`, `version`, `resource` in packages/api/src/registry.ts) and what
 * it overrides; the rest are upstream's generic rules.
 */
export function defineStrategy(group: string, version: string, resource: string, spec: StrategySpec): Strategy {
  const def = findResource(group, version, resource);
  if (!def) throw new Error(`no registry row for ${group}/${version}/${resource}: add it to packages/api/src/registry.ts`);
  const status = hasStatus(def);
  return {
    nameCheck: isDNS1123Subdomain,
    tracksGeneration: false,
    checkTypes: (obj) => checkTypes(def, obj),
    convert: () => undefined,
    defaults: () => undefined,
    initialStatus: (obj) => (status ? {} : obj.status),
    prepareForUpdate: (next, old) => {
      if (!status) return;
      if (old.status === undefined) delete next.status; else next.status = copyJson(old.status);
    },
    validate: () => [],
    fields: () => ({}),
    printer: defaultPrinter,
    gracePeriod: () => 0,
    ...spec,
    def,
    patchMeta: compilePatchMeta(patchTableFor(def.group, def.kind) ?? {}),
  };
}

/** A field-selector value: '' for a missing field, else its string form. */
export const asField = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

/** An RFC 3339 timestamp with second precision, as the API writes them. */
export const rfc3339 = (d = new Date()): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
