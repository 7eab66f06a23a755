import { errors } from '@k8ts/api';
import type { DeleteOptions } from './rest-store.js';

/*
 * dryRun, as upstream's apiserver reads it: `?dryRun=All` on any write (CreateOptions, UpdateOptions,
 * PatchOptions, DeleteOptions), `dryRun: ["All"]` in a DeleteOptions body, and an Eviction's
 * `deleteOptions.dryRun`. A dry run goes through defaults, admission and validation and writes nothing.
 */

/** The options kind a dryRun came with, for the 422 message (upstream's ValidateCreateOptions and friends). */
export type OptionsKind = 'CreateOptions' | 'UpdateOptions' | 'PatchOptions' | 'DeleteOptions';

const DRY_RUN_ALL = 'All';

/** The dryRun values of a query parameter (repeatable) or a body field; 422 for anything but a list of "All". */
export function dryRunValues(kind: OptionsKind, value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const values = Array.isArray(value) ? value : [value];
  if (values.some((v) => v !== DRY_RUN_ALL)) {
    throw errors.invalid(kind, 'meta.k8s.io', '', [
      { field: 'dryRun', type: 'FieldValueNotSupported', value: values, message: `supported values: "${DRY_RUN_ALL}"` },
    ]);
  }
  return values as string[];
}

/** Whether a write with these dryRun values is a dry run (validating them first). */
export function isDryRun(kind: OptionsKind, value: unknown): boolean {
  return dryRunValues(kind, value).length > 0;
}

/**
 * The DeleteOptions an Eviction deletes its pod with: the request's `?dryRun=` pushed into the Eviction's own
 * deleteOptions; 400 when both are set and differ (upstream's propagateDryRun).
 */
export function evictionDeleteOptions(eviction: { deleteOptions?: DeleteOptions } | undefined, queryDryRun: unknown): DeleteOptions {
  const fromQuery = dryRunValues('CreateOptions', queryDryRun);
  const own = eviction?.deleteOptions;
  if (!own) return fromQuery.length ? { dryRun: fromQuery } : {};
  const fromBody = dryRunValues('DeleteOptions', own.dryRun);
  if (fromBody.length === 0) return fromQuery.length ? { ...own, dryRun: fromQuery } : own;
  if (fromQuery.length && fromQuery.join(',') !== fromBody.join(',')) {
    throw errors.badRequest(`Non-matching dry-run options in request and content: [${fromQuery.join(' ')}] and [${fromBody.join(' ')}]`);
  }
  return own;
}
