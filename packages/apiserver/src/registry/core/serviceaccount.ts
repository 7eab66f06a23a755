import type { ServiceAccount } from '@k8ts/api';
import { defineStrategy } from '../strategy.js';
import { age, AGE, column, NAME, nameOf, type Printer } from '../shared/printing.js';

const printer: Printer = {
  columns: [NAME, column('Secrets', 'Number of secrets the service account lists.'), AGE],
  row: (obj, now) => [nameOf(obj), (obj as ServiceAccount).secrets?.length ?? 0, age(obj, now)],
};

/** ServiceAccounts (upstream's pkg/registry/core/serviceaccount). */
export const serviceAccountStrategy = defineStrategy('', 'v1', 'serviceaccounts', { printer });
