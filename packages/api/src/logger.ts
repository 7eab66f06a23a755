import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/** The one logger of a process: JSON lines on stderr with a `component` field; level from LOG_LEVEL (default info). */
export function createLogger(component: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { component } }, pino.destination(2));
}

/** A logger that drops everything: for tests and library callers that pass none. */
export const silentLogger: Logger = pino({ level: 'silent' });
