import type { Lease } from '@k8ts/api';
import { defineStrategy } from '../strategy.js';
import { age, AGE, column, NAME, nameOf, type Printer } from '../shared/printing.js';

const printer: Printer = {
  columns: [NAME, column('Holder', 'The identity of the holder of the lease.'), AGE],
  row: (obj, now) => [nameOf(obj), (obj as Lease).spec?.holderIdentity ?? '', age(obj, now)],
};

/** coordination.k8s.io/v1 Leases (upstream's pkg/registry/coordination/lease). */
export const leaseStrategy = defineStrategy('coordination.k8s.io', 'v1', 'leases', { printer });
