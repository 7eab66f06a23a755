import type { ApiError, StatusCause } from '@k8ts/api';

/**
 * An error a command reports the way kubectl does. `message` is printed as `error: <message>` unless `raw`, when it
 * is printed as it is; `usage` adds kubectl's `See 'kubectl <cmd> -h' for help and examples` line.
 */
export class CliError extends Error {
  readonly exitCode: number;
  readonly raw: boolean;
  readonly usage: string | undefined;

  constructor(message: string, opts: { exitCode?: number; raw?: boolean; usage?: string; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'CliError';
    this.exitCode = opts.exitCode ?? 1;
    this.raw = opts.raw ?? false;
    this.usage = opts.usage;
  }
}

/** kubectl's usage error: `error: <message>` and `See 'kubectl <command> -h' for help and examples`. */
export function usageError(command: string, message: string): CliError {
  return new CliError(message, { usage: command });
}

/** Ends the process with an exit code and nothing printed (as `kubectl diff` does when objects differ). */
export class ExitCode extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

function isApiError(err: unknown): err is ApiError {
  return err instanceof Error && err.name === 'ApiError' && typeof (err as ApiError).code === 'number';
}

interface NetError { code?: string; message?: string; cause?: unknown; errors?: unknown[] }

/** The network error under an ApiError (undici's, then Node's), if the request never got an answer. */
function networkCause(err: unknown): NetError | undefined {
  let e = err as NetError | undefined;
  for (let depth = 0; e && depth < 5; depth++) {
    if (typeof e.code === 'string' && /^E[A-Z_]+$/.test(e.code) || e.code?.startsWith('UND_ERR')) return e;
    if (Array.isArray(e.errors) && e.errors.length) e = e.errors[0] as NetError;
    else e = e.cause as NetError | undefined;
  }
  return undefined;
}

/** host:port of a server URL, as kubectl names the server in connection errors. */
export function serverHost(server: string): string {
  try {
    const u = new URL(server);
    return u.port ? `${u.hostname}:${u.port}` : u.host || server;
  } catch {
    return server;
  }
}

/**
 * The text kubectl prints for an error (its `cmdutil.CheckErr`), without the trailing newline. `server` is the
 * URL the command talked to, for connection errors.
 */
export function formatError(err: unknown, server?: string): string {
  if (err instanceof CliError) {
    const text = err.raw ? err.message : `error: ${err.message}`;
    return err.usage ? `${text}\nSee 'kubectl ${err.usage} -h' for help and examples` : text;
  }
  if (isApiError(err)) {
    const net = err.code === 503 ? networkCause(err.cause) : undefined;
    if (net) return connectionError(net, server);
    return apiErrorMessage(err);
  }
  const net = networkCause(err);
  if (net) return connectionError(net, server);
  const e = err as { message?: string } | undefined;
  return `error: ${e?.message ?? String(err)}`;
}

function connectionError(net: NetError, server: string | undefined): string {
  const host = server ? serverHost(server) : 'localhost:8080';
  if (net.code === 'ECONNREFUSED') return `The connection to the server ${host} was refused - did you specify the right host or port?`;
  if (net.code === 'ENOTFOUND' || net.code === 'EAI_AGAIN') {
    return `Unable to connect to the server: dial tcp: lookup ${host.replace(/:\d+$/, '')}: no such host`;
  }
  if (net.code === 'UND_ERR_HEADERS_TIMEOUT' || net.code === 'UND_ERR_CONNECT_TIMEOUT' || net.code === 'ETIMEDOUT' || net.code === 'ABORT_ERR') {
    return `Unable to connect to the server: net/http: request canceled (Client.Timeout exceeded while awaiting headers)`;
  }
  return `Unable to connect to the server: ${net.message ?? net.code}`;
}

/** `Error from server (NotFound): pods "x" not found` and kubectl's other renderings of a metav1.Status. */
export function apiErrorMessage(err: ApiError): string {
  if (err.code === 401) return `error: You must be logged in to the server (${err.message || 'Unauthorized'})`;
  if (err.reason === 'Invalid' && !err.details) return `The request is invalid: ${err.message}`;
  if (err.reason === 'Invalid' && err.details) {
    const d = err.details;
    const head = d.kind || d.name ? `The ${d.kind ?? ''} "${d.name ?? ''}" is invalid` : 'The request is invalid';
    const causes = d.causes ?? [];
    if (causes.length === 0) return `error: ${head}`;
    if (causes.length === 1) return `${head}: ${causeText(causes[0])}`;
    return `${head}: \n${causes.map((c) => `* ${causeText(c)}`).join('\n')}`;
  }
  if (err.reason) return `Error from server (${err.reason}): ${err.message}`;
  return `Error from server: ${err.message}`;
}

function causeText(c: StatusCause): string {
  return c.field ? `${c.field}: ${c.message ?? ''}` : c.message ?? '';
}

/** The exit code kubectl ends with for this error. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof CliError || err instanceof ExitCode) return err.exitCode;
  return 1;
}
