import { CliError } from '../errors.js';

/** `--dry-run` values: none, client, server (kubectl's GetDryRunStrategy, with `true`/`false` accepted). */
export type DryRun = 'none' | 'client' | 'server';

/** Parses `--dry-run[=client|server|none]` with kubectl's message for anything else. */
export function parseDryRun(value: string | boolean | undefined): DryRun {
  if (value === undefined || value === false || value === 'none' || value === 'false' || value === '') return 'none';
  if (value === true || value === 'client' || value === 'true' || value === 'unchanged') return 'client';
  if (value === 'server') return 'server';
  throw new CliError(`Invalid dry-run value (${String(value)}). Must be "none", "server", or "client".`);
}

/** The `(dry run)` / `(server dry run)` suffix of kubectl's success lines. */
export function dryRunSuffix(d: DryRun): string {
  return d === 'client' ? ' (dry run)' : d === 'server' ? ' (server dry run)' : '';
}

/** `--validate` → the fieldValidation query value (kubectl's GetValidationDirective). */
export function fieldValidation(value: string | boolean | undefined): 'Strict' | 'Warn' | 'Ignore' {
  const v = String(value ?? 'strict').toLowerCase();
  if (v === 'strict' || v === 'true') return 'Strict';
  if (v === 'warn') return 'Warn';
  if (v === 'ignore' || v === 'false') return 'Ignore';
  throw new CliError(`invalid - validate option "${String(value)}"; must be one of: strict (or true), warn, ignore (or false)`);
}

/**
 * kubectl's AddSourceToErr: a server error about an object read from a file says which file
 * (`error when creating "x.yaml": …`). Only metav1.Status errors are rewritten, and not Invalid ones (their message
 * is rebuilt from details).
 */
export function addSourceToErr(verb: string, source: string, err: unknown): unknown {
  if (err instanceof Error && err.name === 'ApiError' && source && (err as { reason?: string }).reason !== 'Invalid'
    && (err as { code?: number }).code !== 503) {
    err.message = `error when ${verb} "${source}": ${err.message}`;
  }
  return err;
}
