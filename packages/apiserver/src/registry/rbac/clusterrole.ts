import { defineStrategy } from '../strategy.js';
import type { Obj } from '../shared/validation.js';
import { isValidPathSegmentName, rolePrinter, validateAggregationRule, validateRules } from './validation.js';

/** rbac.authorization.k8s.io/v1 ClusterRole: rules of the cluster, non-resource URLs too, or an aggregation rule. */
export const clusterRoleStrategy = defineStrategy('rbac.authorization.k8s.io', 'v1', 'clusterroles', {
  nameCheck: isValidPathSegmentName,
  validate: (obj) => [...validateRules(obj as unknown as Obj, false), ...validateAggregationRule(obj as unknown as Obj)],
  printer: rolePrinter,
});
