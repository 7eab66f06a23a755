import { defineStrategy } from '../strategy.js';
import type { Obj } from '../shared/validation.js';
import { bindingPrinter, defaultSubjects, isValidPathSegmentName, validateBinding } from './validation.js';

/** rbac.authorization.k8s.io/v1 ClusterRoleBinding: a ClusterRole granted to subjects cluster-wide. */
export const clusterRoleBindingStrategy = defineStrategy('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', {
  nameCheck: isValidPathSegmentName,
  defaults: (obj) => defaultSubjects(obj as unknown as Obj),
  validate: (obj, old) => validateBinding(obj as unknown as Obj, false, old as unknown as Obj | undefined),
  printer: bindingPrinter,
});
