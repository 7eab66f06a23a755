import { defineStrategy } from '../strategy.js';
import type { Obj } from '../shared/validation.js';
import { isValidPathSegmentName, rolePrinter, validateRules } from './validation.js';

/** rbac.authorization.k8s.io/v1 Role: rules of one namespace (upstream's pkg/registry/rbac/role). */
export const roleStrategy = defineStrategy('rbac.authorization.k8s.io', 'v1', 'roles', {
  nameCheck: isValidPathSegmentName,
  validate: (obj) => validateRules(obj as unknown as Obj, true),
  printer: rolePrinter,
});
