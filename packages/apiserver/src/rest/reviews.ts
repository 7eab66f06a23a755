import { errors, rfc3339, type FieldError, type KubeObject } from '@k8ts/api';
import type { TokenResult } from './token-review.js';
import type { UserInfo } from './user-info.js';

/**
 * The reviews of authorization.k8s.io/v1 and authentication.k8s.io/v1 (upstream's pkg/registry/authorization and
 * pkg/registry/authentication): create-only kinds answered from the request, nothing stored. k8ts authorizes
 * every request, so access reviews get upstream's AlwaysAllow answers.
 */

interface Selector { rawSelector?: unknown; requirements?: unknown[] }
interface ResourceAttributes { namespace?: string; fieldSelector?: Selector; labelSelector?: Selector; [k: string]: unknown }
interface AccessReviewSpec {
  resourceAttributes?: ResourceAttributes; nonResourceAttributes?: Record<string, unknown>;
  user?: string; groups?: string[]; uid?: string; extra?: Record<string, string[]>;
}
type Review = KubeObject & { spec?: Record<string, unknown>; status?: unknown };

const invalid = (field: string, value: unknown, message: string): FieldError => ({ field, type: 'FieldValueInvalid', value, message });
/** Go prints a nil pointer's bad value as the string "null". */
const orNull = (v: unknown) => v ?? 'null';

function validateSelector(selector: Selector | undefined, path: string): FieldError[] {
  if (!selector) return [];
  const raw = typeof selector.rawSelector === 'string' ? selector.rawSelector : '';
  const reqs = Array.isArray(selector.requirements) ? selector.requirements : [];
  const errs: FieldError[] = [];
  if (raw && reqs.length) errs.push(invalid(`${path}.rawSelector`, raw, 'may not specified at the same time as requirements'));
  if (!raw && !reqs.length) errs.push({ field: `${path}.requirements`, type: 'FieldValueRequired', message: `when ${path} is specified, requirements or rawSelector is required` });
  return errs;
}

/** The spec checks every access review shares (ValidateSelfSubjectAccessReviewSpec); `withUser` adds SAR's. */
function validateAccessSpec(spec: AccessReviewSpec, withUser: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (spec.resourceAttributes && spec.nonResourceAttributes) {
    errs.push(invalid('spec.nonResourceAttributes', spec.nonResourceAttributes, 'cannot be specified in combination with resourceAttributes'));
  }
  if (!spec.resourceAttributes && !spec.nonResourceAttributes) {
    errs.push(invalid('spec.resourceAttributes', orNull(spec.nonResourceAttributes), 'exactly one of nonResourceAttributes or resourceAttributes must be specified'));
  }
  if (withUser && !spec.user && !spec.groups?.length) errs.push(invalid('spec.user', spec.user ?? '', 'at least one of user or group must be specified'));
  const ra = spec.resourceAttributes;
  if (ra) {
    errs.push(...validateSelector(ra.fieldSelector, 'spec.resourceAttributes.fieldSelector'));
    errs.push(...validateSelector(ra.labelSelector, 'spec.resourceAttributes.labelSelector'));
  }
  return errs;
}

/** ObjectMeta without what the check ignores, and without the zero values JSON writes (creationTimestamp: null). */
function metaIsEmpty(meta: Record<string, unknown> | undefined, ignore: string[]): boolean {
  return Object.entries(meta ?? {}).every(([k, v]) => ignore.includes(k) || v === null || v === '' || v === 0
    || (typeof v === 'object' && Object.keys(v as object).length === 0));
}

/** upstream's ValidateSubjectAccessReview. */
export function validateSubjectAccessReview(obj: Review): FieldError[] {
  const errs = validateAccessSpec((obj.spec ?? {}) as AccessReviewSpec, true);
  if (!metaIsEmpty(obj.metadata as Record<string, unknown>, ['managedFields'])) errs.push(invalid('metadata', obj.metadata, 'must be empty'));
  return errs;
}

/** upstream's ValidateSelfSubjectAccessReview. */
export function validateSelfSubjectAccessReview(obj: Review): FieldError[] {
  const errs = validateAccessSpec((obj.spec ?? {}) as AccessReviewSpec, false);
  if (!metaIsEmpty(obj.metadata as Record<string, unknown>, ['managedFields'])) errs.push(invalid('metadata', obj.metadata, 'must be empty'));
  return errs;
}

/** upstream's ValidateLocalSubjectAccessReview: a SAR whose resource namespace is its own, and no non-resource URL. */
export function validateLocalSubjectAccessReview(obj: Review): FieldError[] {
  const spec = (obj.spec ?? {}) as AccessReviewSpec;
  const errs = validateAccessSpec(spec, true);
  if (!metaIsEmpty(obj.metadata as Record<string, unknown>, ['namespace', 'managedFields'])) {
    errs.push(invalid('metadata', obj.metadata, 'must be empty except for namespace'));
  }
  const namespace = obj.metadata?.namespace ?? '';
  if (spec.resourceAttributes && (spec.resourceAttributes.namespace ?? '') !== namespace) {
    errs.push(invalid('spec.resourceAttributes.namespace', spec.resourceAttributes.namespace ?? '', 'must match metadata.namespace'));
  }
  if (spec.nonResourceAttributes) errs.push(invalid('spec.nonResourceAttributes', spec.nonResourceAttributes, 'disallowed on this kind of request'));
  return errs;
}

/** upstream's AlwaysAllow authorizer: allowed, with no reason. */
export function alwaysAllow(): { allowed: true } {
  return { allowed: true };
}

/** upstream's AlwaysAllow RulesFor: every verb on every resource and every non-resource URL, complete. */
export function alwaysAllowRules(): unknown {
  return {
    resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
    nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
    incomplete: false,
  };
}

/** What a review is answered from: who asks, the namespace of the path, and the token authenticator. */
export interface ReviewRequest {
  user: UserInfo;
  namespace?: string;
  authenticate: (token: string, audiences: string[] | undefined) => Promise<TokenResult>;
  now?: Date;
}

/** The object a review answers with: the one posted (its metadata as Go writes an empty one), status filled. */
function answered(obj: Review, status: unknown): Review {
  const { kind, apiVersion, metadata, spec, status: _, ...rest } = obj;
  return { kind, apiVersion, metadata: { creationTimestamp: null, ...metadata }, spec: spec ?? {}, ...rest, status } as unknown as Review;
}

/**
 * Answers a review of `kind` (already decoded, its kind and apiVersion checked): 422 with upstream's messages
 * when it is invalid, 400 where upstream's REST refuses it.
 */
export async function createReview(kind: string, obj: Review, req: ReviewRequest): Promise<Review> {
  const check = (group: string, errs: FieldError[]) => { if (errs.length) throw errors.invalid(kind, group, '', errs); };
  switch (kind) {
    case 'SelfSubjectAccessReview':
      check('authorization.k8s.io', validateSelfSubjectAccessReview(obj));
      return answered(obj, alwaysAllow());
    case 'SubjectAccessReview':
      check('authorization.k8s.io', validateSubjectAccessReview(obj));
      return answered(obj, alwaysAllow());
    case 'LocalSubjectAccessReview': {
      check('authorization.k8s.io', validateLocalSubjectAccessReview(obj));
      if (!req.namespace) throw errors.badRequest('namespace is required on this type: ');
      if (req.namespace !== obj.metadata?.namespace) throw errors.badRequest(`spec.resourceAttributes.namespace must match namespace: ${req.namespace}`);
      return answered(obj, alwaysAllow());
    }
    case 'SelfSubjectRulesReview': {
      // upstream answers with a new object: the spec's namespace is not echoed.
      if (!(obj.spec as { namespace?: string } | undefined)?.namespace) throw errors.badRequest('no namespace on request');
      return { kind: obj.kind, apiVersion: obj.apiVersion, metadata: { creationTimestamp: null }, spec: {}, status: alwaysAllowRules() } as unknown as Review;
    }
    case 'SelfSubjectReview':
      return {
        kind: obj.kind, apiVersion: obj.apiVersion, metadata: { creationTimestamp: rfc3339(req.now ?? new Date()) },
        status: { userInfo: userInfoJson(req.user) },
      } as Review;
    case 'TokenReview': {
      const spec = (obj.spec ?? {}) as { token?: string; audiences?: string[] };
      if (!spec.token) throw errors.badRequest('token is required for TokenReview in authentication');
      const result = await req.authenticate(spec.token, spec.audiences);
      const status = result.authenticated
        ? { authenticated: true, user: userInfoJson(result.user), audiences: result.audiences }
        : { user: {}, error: result.error };
      return answered(obj, status);
    }
    default: throw errors.internal(`no review of kind ${kind}`);
  }
}

/** A UserInfo as Go writes it: empty uid and extra left out. */
function userInfoJson(u: UserInfo): UserInfo {
  return {
    username: u.username, ...(u.uid ? { uid: u.uid } : {}), ...(u.groups?.length ? { groups: u.groups } : {}),
    ...(u.extra && Object.keys(u.extra).length ? { extra: u.extra } : {}),
  };
}
