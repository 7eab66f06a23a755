import { Option } from 'commander';
import { ExitCode, formatError } from '../errors.js';
import type { Factory } from '../factory.js';

/** commander collector for repeatable flags (`-f a -f b`). */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** commander collector for repeatable, comma-separated flags (`-L a,b -L c`). */
export function collectLabels(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];
}

/** Whether an error is the server's NotFound. */
export function isNotFound(err: unknown): boolean {
  return err instanceof Error && err.name === 'ApiError' && (err as { code?: number }).code === 404;
}

/**
 * Prints errors collected while the command went on with other objects, as kubectl does after its output, and ends
 * with exit code 1 if any remain (`ignoreNotFound` drops NotFound ones).
 */
export function reportErrors(f: Factory, errors: unknown[], ignoreNotFound = false): void {
  const left = ignoreNotFound ? errors.filter((e) => !isNotFound(e)) : errors;
  if (!left.length) return;
  const server = f.serverForMessages();
  for (const e of left) f.io.err.write(`${formatError(e, server)}\n`);
  throw new ExitCode(1);
}

/** `-o, --output` of the commands that print what they wrote (kubectl's PrintFlags, without the table formats). */
export const outputFlag = (): Option => new Option('-o, --output <format>', 'Output format. One of: (json, yaml, name, go-template, go-template-file, template, templatefile, jsonpath, jsonpath-as-json, jsonpath-file).');

/** `--template`, for `-o go-template` and its kin (kubectl's PrintFlags). */
export const templateFlag = (): Option => new Option('--template <template>', 'Template string or path to template file to use when -o=go-template, -o=go-template-file.');

/** `--dry-run[=none|server|client]` as kubectl's cmdutil.AddDryRunFlag words it (parsed by write-util's parseDryRun). */
export const dryRunFlag = (): Option => new Option('--dry-run [strategy]', 'Must be "none", "server", or "client". If client strategy, only print the object that would be sent, without sending it. If server strategy, submit server-side request without persisting the resource.').default('none');
