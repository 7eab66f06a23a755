import { isDNS1123Label, type Namespace } from '@k8ts/api';
import { asField, defineStrategy, rfc3339 } from '../strategy.js';
import { child, fill, fillZero } from '../shared/defaults.js';
import { age, AGE, column, NAME, nameOf, type Printer } from '../shared/printing.js';
import type { Obj } from '../shared/validation.js';

function defaultNamespace(ns: Obj): void {
  const name = ns.metadata?.name;
  // Upstream labels every namespace with its own name, so selectors can pick namespaces by name.
  if (name) child(child(ns, 'metadata'), 'labels')['kubernetes.io/metadata.name'] = name;
  fill(child(ns, 'spec'), 'finalizers', ['kubernetes']);
  fillZero(child(ns, 'status'), 'phase', 'Active');
}

const printer: Printer = {
  columns: [NAME, column('Status', 'The status of the namespace'), AGE],
  row: (obj, now) => [nameOf(obj), (obj as Namespace).status?.phase ?? '', age(obj, now)],
};

/**
 * Namespaces (upstream's pkg/registry/core/namespace): spec.finalizers change only through the lifecycle, and a
 * deleted namespace stays Terminating until its content is gone and its finalizers are empty.
 */
export const namespaceStrategy = defineStrategy('', 'v1', 'namespaces', {
  nameCheck: isDNS1123Label,
  defaults: defaultNamespace,
  initialStatus: () => ({ phase: 'Active' }),
  prepareForUpdate: (next, old) => {
    next.spec = structuredClone(old.spec);
    if (old.status === undefined) delete next.status; else next.status = structuredClone(old.status);
  },
  markForDeletion: (ns: Obj, now) => {
    const meta = ns.metadata;
    if (!meta.deletionTimestamp) meta.deletionTimestamp = rfc3339(new Date(now));
    meta.deletionGracePeriodSeconds = 0;
    ns.status = { ...ns.status, phase: 'Terminating' };
    const pending = (ns.spec?.finalizers ?? []).length + (meta.finalizers?.length ?? 0);
    return pending ? ns : null;
  },
  deletionBlocked: (ns: Obj) => (ns.spec?.finalizers ?? []).length > 0,
  fields: (n: Obj) => ({ 'status.phase': asField(n.status?.phase) }),
  printer,
});
