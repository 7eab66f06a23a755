import { validateLabelSelector, asList, asObj, invalid, isObj, notSupported, required, type Errors, type Obj } from '../shared/validation.js';
import { column, NAME, AGE, nameOf, age, type Printer } from '../shared/printing.js';
import type { KubeObject } from '@k8ts/api';

/*
 * rbac.authorization.k8s.io/v1, shared by the four kinds: upstream's pkg/apis/rbac/validation and the rbac
 * printers of pkg/printers/internalversion. Nothing here authorizes: k8ts has no authorizer yet, these are
 * stored kinds with upstream's validation, defaults and columns.
 */

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** Upstream's ValidateRBACName (path.IsValidPathSegmentName). */
export function isValidPathSegmentName(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  const errs: string[] = [];
  for (const bad of ['/', '%']) if (name.includes(bad)) errs.push(`may not contain '${bad}'`);
  return errs;
}

/** ValidatePolicyRule: verbs always; then either non-resource URLs (cluster roles only) or API groups and resources. */
export function validatePolicyRule(rule: Obj, namespaced: boolean, path: string): Errors {
  const errs: Errors = [];
  const len = (v: unknown) => (Array.isArray(v) ? v.length : 0);
  if (len(rule.verbs) === 0) errs.push(required(`${path}.verbs`, 'verbs must contain at least one value'));
  if (len(rule.nonResourceURLs) > 0) {
    if (namespaced) errs.push(invalid(`${path}.nonResourceURLs`, rule.nonResourceURLs, 'namespaced rules cannot apply to non-resource URLs'));
    if (len(rule.apiGroups) > 0 || len(rule.resources) > 0 || len(rule.resourceNames) > 0) {
      errs.push(invalid(`${path}.nonResourceURLs`, rule.nonResourceURLs, 'rules cannot apply to both regular resources and non-resource URLs'));
    }
    return errs;
  }
  if (len(rule.apiGroups) === 0) errs.push(required(`${path}.apiGroups`, 'resource rules must supply at least one api group'));
  if (len(rule.resources) === 0) errs.push(required(`${path}.resources`, 'resource rules must supply at least one resource'));
  return errs;
}

export function validateRules(obj: Obj, namespaced: boolean): Errors {
  return asList(obj.rules).flatMap((r, i) => validatePolicyRule(r, namespaced, `rules[${i}]`));
}

/** A ClusterRole's aggregationRule needs at least one valid selector. */
export function validateAggregationRule(obj: Obj): Errors {
  if (!isObj(obj.aggregationRule)) return [];
  const selectors = asList(obj.aggregationRule.clusterRoleSelectors);
  if (selectors.length === 0) {
    return [required('aggregationRule.clusterRoleSelectors', 'at least one clusterRoleSelector required if aggregationRule is non-nil')];
  }
  return selectors.flatMap((s, i) => validateLabelSelector(s, `aggregationRule.clusterRoleSelectors[${i}]`));
}

/** SetDefaults_Subject: User and Group subjects are of the rbac group, ServiceAccounts of the core one. */
export function defaultSubjects(binding: Obj): void {
  for (const s of asList(binding.subjects)) {
    if (s.apiGroup !== undefined && s.apiGroup !== '') continue;
    if (s.kind === 'User' || s.kind === 'Group') s.apiGroup = RBAC_GROUP;
    else if (s.kind === 'ServiceAccount') s.apiGroup = '';
  }
}

/** ValidateRoleBinding / ValidateClusterRoleBinding: the roleRef, every subject, and roleRef immutable on update. */
export function validateBinding(binding: Obj, namespaced: boolean, old?: Obj): Errors {
  const errs: Errors = [];
  const ref = asObj(binding.roleRef);
  if (ref.apiGroup !== RBAC_GROUP) errs.push(notSupported('roleRef.apiGroup', ref.apiGroup ?? '', [RBAC_GROUP]));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(ref.kind)) errs.push(notSupported('roleRef.kind', ref.kind ?? '', kinds));
  if (!ref.name) errs.push(required('roleRef.name'));
  else for (const m of isValidPathSegmentName(String(ref.name))) errs.push(invalid('roleRef.name', ref.name, m));
  asList(binding.subjects).forEach((s, i) => errs.push(...validateSubject(s, namespaced, `subjects[${i}]`)));
  if (old && JSON.stringify(asObj(old.roleRef)) !== JSON.stringify(ref)) errs.push(invalid('roleRef', ref, 'cannot change roleRef'));
  return errs;
}

/** ValidateRoleBindingSubject. */
function validateSubject(s: Obj, namespaced: boolean, path: string): Errors {
  const errs: Errors = [];
  if (!s.name) errs.push(required(`${path}.name`));
  switch (s.kind) {
    case 'ServiceAccount':
      if (s.name) for (const m of isServiceAccountName(String(s.name))) errs.push(invalid(`${path}.name`, s.name, m));
      if (s.apiGroup) errs.push(notSupported(`${path}.apiGroup`, s.apiGroup, ['']));
      if (!namespaced && !s.namespace) errs.push(required(`${path}.namespace`));
      break;
    case 'User':
    case 'Group':
      if (s.apiGroup !== RBAC_GROUP) errs.push(notSupported(`${path}.apiGroup`, s.apiGroup ?? '', [RBAC_GROUP]));
      break;
    default:
      errs.push(notSupported(`${path}.kind`, s.kind ?? '', ['ServiceAccount', 'User', 'Group']));
  }
  return errs;
}

/** A ServiceAccount name is a DNS-1123 subdomain (ValidateServiceAccountName). */
function isServiceAccountName(name: string): string[] {
  if (name.length > 253) return ['must be no more than 253 characters'];
  return /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(name) ? []
    : ["a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"];
}

const createdAt = (obj: KubeObject): string => obj.metadata?.creationTimestamp ?? '';

/** Roles and ClusterRoles: NAME, CREATED AT (upstream's roleColumnDefinitions). */
export const rolePrinter: Printer = {
  columns: [NAME, column('Created At', 'Time when the role was created (metadata.creationTimestamp).', 0, 'date')],
  row: (obj) => [nameOf(obj), createdAt(obj)],
};

/** RoleBindings and ClusterRoleBindings: NAME, ROLE, AGE; USERS, GROUPS, SERVICEACCOUNTS with -o wide. */
export const bindingPrinter: Printer = {
  columns: [
    NAME,
    column('Role', 'Role referenced by the binding, as kind/name.'),
    AGE,
    column('Users', 'Users in the binding.', 1),
    column('Groups', 'Groups in the binding.', 1),
    column('ServiceAccounts', 'ServiceAccounts in the binding, as namespace:name.', 1),
  ],
  row(obj, now) {
    const b = obj as unknown as Obj;
    const ref = asObj(b.roleRef);
    const subjects = asList(b.subjects);
    const of = (kind: string) => subjects.filter((s) => s.kind === kind);
    return [
      nameOf(obj), `${ref.kind ?? ''}/${ref.name ?? ''}`, age(obj, now),
      of('User').map((s) => s.name).join(', '), of('Group').map((s) => s.name).join(', '),
      of('ServiceAccount').map((s) => `${s.namespace ?? ''}:${s.name}`).join(', '),
    ];
  },
};
