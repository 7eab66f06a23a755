import { defineStrategy } from '../strategy.js';
import type { Obj } from '../shared/validation.js';
import { bindingPrinter, defaultSubjects, isValidPathSegmentName, validateBinding } from './validation.js';

/** rbac.authorization.k8s.io/v1 RoleBinding: a Role or ClusterRole granted to subjects in one namespace. */
export const roleBindingStrategy = defineStrategy('rbac.authorization.k8s.io', 'v1', 'rolebindings', {
  nameCheck: isValidPathSegmentName,
  defaults: (obj) => defaultSubjects(obj as unknown as Obj),
  validate: (obj, old) => validateBinding(obj as unknown as Obj, true, old as unknown as Obj | undefined),
  printer: bindingPrinter,
});
