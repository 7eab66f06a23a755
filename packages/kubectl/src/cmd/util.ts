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
