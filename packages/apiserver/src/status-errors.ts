import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { ApiError, errors, reasonForCode, type Logger } from '@k8ts/api';
import { bodyTooLarge } from './limits.js';
import { notFound } from './routes/context.js';

/**
 * Every 4xx and 5xx the apiserver sends is a metav1.Status, as upstream's: our own ApiErrors, fastify's errors
 * (body too large, bad URL, unsupported method), and the HTTP parser's (431 header too large, 400 malformed
 * request), which never reach a route.
 */

/** The metav1.Status for anything thrown while serving a request. */
export function toApiError(err: unknown, log: Logger, req?: FastifyRequest): ApiError {
  if (err instanceof ApiError) return err;
  const e = err as { statusCode?: number; code?: string; message?: string };
  if (e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return bodyTooLarge();
  if (e?.code === 'FST_ERR_BAD_URL') return errors.badRequest(`invalid URL: ${req?.url ?? ''}`);
  if (e?.statusCode && e.statusCode >= 400 && e.statusCode < 500) return new ApiError(e.statusCode, reasonForCode(e.statusCode), e.message ?? 'bad request');
  // A stack overflow from a document deeper than the decoders allow is the client's input, not our failure.
  if (err instanceof RangeError && /call stack/i.test(err.message)) return errors.badRequest('the request nests too deeply to be processed');
  log.error({ err, method: req?.method, url: req?.url }, 'request failed');
  return errors.internal('Internal error occurred: the server could not complete the request');
}

function sendStatus(reply: FastifyReply, apiErr: ApiError): void {
  // Upstream sets Retry-After from the Status's retryAfterSeconds (a spent disruption budget sends none).
  const retryAfter = apiErr.details?.retryAfterSeconds;
  if (apiErr.code === 429 && retryAfter) void reply.header('Retry-After', String(retryAfter));
  void reply.code(apiErr.code).type('application/json').send(apiErr.toStatus());
}

/** Fastify constructor options that route fastify's own early errors (bad URL...) to a Status. */
export function statusServerOptions(log: Logger): Partial<FastifyServerOptions> {
  return {
    frameworkErrors: (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => sendStatus(reply, toApiError(err, log, req)),
    clientErrorHandler: (err: Error & { code?: string }, socket: Socket) => writeClientError(err, socket),
  };
}

/** The HTTP parser's errors (no request object exists yet): a Status written on the raw socket, then closed. */
function writeClientError(err: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable || err.code === 'ECONNRESET') { socket.destroy(); return; }
  const headerOverflow = err.code === 'HPE_HEADER_OVERFLOW';
  const timeout = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  const code = headerOverflow ? 431 : timeout ? 408 : 400;
  const text = headerOverflow ? 'Request Header Fields Too Large' : timeout ? 'Request Timeout' : 'Bad Request';
  const message = headerOverflow ? 'request header fields too large' : timeout ? 'the request timed out' : `malformed HTTP request: ${err.code ?? err.message}`;
  const body = JSON.stringify(new ApiError(code, reasonForCode(code), message).toStatus());
  socket.end(`HTTP/1.1 ${code} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** The error and not-found handlers of the app. */
export function installStatusErrors(app: FastifyInstance, log: Logger): void {
  app.setErrorHandler((err: unknown, req, reply) => {
    const apiErr = toApiError(err, log, req);
    if (apiErr.code >= 500) log.warn({ err: apiErr, url: req.url }, 'request failed');
    sendStatus(reply, apiErr);
  });
  app.setNotFoundHandler((_req, reply) => {
    sendStatus(reply, notFound());
  });
}
