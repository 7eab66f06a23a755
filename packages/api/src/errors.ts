/** metav1.Status as the API server sends it for failures (and a few successes). */
export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, unknown>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: StatusReason;
  details?: StatusDetails;
  code: number;
}

export type StatusReason =
  | 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Invalid' | 'BadRequest' | 'Unauthorized' | 'Forbidden'
  | 'MethodNotAllowed' | 'Expired' | 'Gone' | 'TooManyRequests' | 'InternalError' | 'ServiceUnavailable'
  | 'UnsupportedMediaType' | 'RequestEntityTooLarge' | 'NotAcceptable' | 'Timeout' | '';

export interface StatusCause { reason?: string; message?: string; field?: string }

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** A field-level validation failure, rendered upstream-style: `spec.replicas: Invalid value: -1: must be >= 0`. */
export interface FieldError {
  field: string;
  type: 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueNotSupported' | 'FieldValueDuplicate' | 'FieldValueForbidden'
    | 'FieldValueNotFound' | 'FieldValueTooLong' | 'FieldValueTooMany' | 'FieldValueTypeInvalid' | 'InternalError';
  message: string;
  value?: unknown;
}

/** The one error type of k8ts: carries an HTTP code and a Kubernetes reason, and converts to and from metav1.Status. */
export class ApiError extends Error {
  readonly code: number;
  readonly reason: StatusReason;
  readonly details: StatusDetails | undefined;

  constructor(code: number, reason: StatusReason, message: string, details?: StatusDetails, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ApiError';
    this.code = code;
    this.reason = reason;
    this.details = details;
  }

  /** The metav1.Status body for this error. */
  toStatus(): Status {
    const status: Status = {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: this.message, reason: this.reason, code: this.code,
    };
    // A NotFound always carries details (empty for a path nothing serves, as upstream's generic 404): kubectl reads
    // details.name of a NotFound without checking for it (kubectl debug tells a missing subresource that way).
    if (this.details) status.details = this.details;
    else if (this.reason === 'NotFound') status.details = {};
    return status;
  }

  /** Rebuilds an ApiError from a Status body (or anything a server sent back). */
  static fromStatus(body: unknown, httpCode: number): ApiError {
    if (isStatus(body)) {
      return new ApiError(body.code || httpCode, body.reason ?? '', body.message ?? `HTTP ${httpCode}`, body.details);
    }
    const text = typeof body === 'string' ? body.slice(0, 500) : JSON.stringify(body)?.slice(0, 500);
    return new ApiError(httpCode, reasonForCode(httpCode), `the server responded with HTTP ${httpCode}: ${text ?? ''}`);
  }

  get isNotFound(): boolean { return this.code === 404; }
  get isConflict(): boolean { return this.reason === 'Conflict'; }
  get isAlreadyExists(): boolean { return this.reason === 'AlreadyExists'; }
  get isGone(): boolean { return this.code === 410; }
}

/**
 * Whether a write was refused because its namespace is being deleted (upstream's
 * `apierrors.HasStatusCause(err, v1.NamespaceTerminatingCause)`): controllers drop such a create, as every one after
 * it would fail too.
 */
export function isNamespaceTerminating(err: unknown): boolean {
  return err instanceof ApiError && !!err.details?.causes?.some((c) => c.reason === 'NamespaceTerminating');
}

/** True when the value is a metav1.Status object. */
export function isStatus(v: unknown): v is Status {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'Status';
}

/** The reason upstream uses for a bare HTTP code. */
export function reasonForCode(code: number): StatusReason {
  switch (code) {
    case 400: return 'BadRequest';
    case 401: return 'Unauthorized';
    case 403: return 'Forbidden';
    case 404: return 'NotFound';
    case 405: return 'MethodNotAllowed';
    case 406: return 'NotAcceptable';
    case 409: return 'Conflict';
    case 410: return 'Expired';
    case 413: return 'RequestEntityTooLarge';
    case 415: return 'UnsupportedMediaType';
    case 422: return 'Invalid';
    case 429: return 'TooManyRequests';
    case 503: return 'ServiceUnavailable';
    case 504: return 'Timeout';
    default: return code >= 500 ? 'InternalError' : '';
  }
}

/** `pods` or `deployments.apps`: how upstream names a resource in messages. */
export function qualifiedResource(resource: string, group: string): string {
  return group ? `${resource}.${group}` : resource;
}

/** Constructors for the errors upstream's storage and handlers produce, with upstream's messages. */
export const errors = {
  notFound: (resource: string, group: string, name: string) =>
    new ApiError(404, 'NotFound', `${qualifiedResource(resource, group)} "${name}" not found`,
      { name, ...(group ? { group } : {}), kind: resource }),
  alreadyExists: (resource: string, group: string, name: string) =>
    new ApiError(409, 'AlreadyExists', `${qualifiedResource(resource, group)} "${name}" already exists`,
      { name, ...(group ? { group } : {}), kind: resource }),
  conflict: (resource: string, group: string, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again') =>
    new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(resource, group)} "${name}": ${why}`,
      { name, ...(group ? { group } : {}), kind: resource }),
  invalid: (kind: string, group: string, name: string, causes: FieldError[]) =>
    new ApiError(422, 'Invalid',
      `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${causes.map(formatFieldError).join(', ')}`,
      {
        name, ...(group ? { group } : {}), kind,
        causes: causes.map((c) => ({ reason: c.type, message: formatFieldError(c).slice(c.field.length + 2), field: c.field })),
      }),
  badRequest: (message: string) => new ApiError(400, 'BadRequest', message),
  forbidden: (message: string) => new ApiError(403, 'Forbidden', message),
  methodNotAllowed: (message: string) => new ApiError(405, 'MethodNotAllowed', message),
  gone: (message: string) => new ApiError(410, 'Expired', message),
  tooLarge: (message: string) => new ApiError(413, 'RequestEntityTooLarge', message),
  unsupportedMediaType: (message: string) => new ApiError(415, 'UnsupportedMediaType', message),
  tooManyRequests: (message: string) => new ApiError(429, 'TooManyRequests', message, { retryAfterSeconds: 1 }),
  internal: (message: string, cause?: unknown) => new ApiError(500, 'InternalError', message, undefined, { cause }),
  unavailable: (message: string, cause?: unknown) => new ApiError(503, 'ServiceUnavailable', message, undefined, { cause }),
};

/** `spec.replicas: Invalid value: -1: must be greater than or equal to 0`, as upstream's field.Error prints. */
export function formatFieldError(e: FieldError): string {
  switch (e.type) {
    case 'FieldValueRequired': return `${e.field}: Required value${e.message ? `: ${e.message}` : ''}`;
    // A value left out (upstream's field.OmitValueType, e.g. CEL rule failures on objects) is not printed.
    case 'FieldValueInvalid': return `${e.field}: Invalid value: ${e.value === undefined ? '' : `${JSON.stringify(e.value)}: `}${e.message}`;
    case 'FieldValueNotSupported': return `${e.field}: Unsupported value: ${JSON.stringify(e.value)}${e.message ? `: ${e.message}` : ''}`;
    case 'FieldValueDuplicate': return `${e.field}: Duplicate value${e.value === undefined ? '' : `: ${JSON.stringify(e.value)}`}${e.message ? `: ${e.message}` : ''}`;
    case 'FieldValueForbidden': return `${e.field}: Forbidden: ${e.message}`;
    case 'FieldValueNotFound': return `${e.field}: Not found: ${JSON.stringify(e.value)}`;
    case 'FieldValueTooLong': return `${e.field}: Too long: ${e.message}`;
    // upstream's ErrorTypeTooMany prints the count it found (omitted when unknown), then the limit.
    case 'FieldValueTooMany': return `${e.field}: Too many: ${e.value === undefined ? '' : `${JSON.stringify(e.value)}: `}${e.message}`;
    // ErrorTypeTypeInvalid reads "Invalid value" like ErrorTypeInvalid; the type differs so callers can tell a
    // wrong type (which stops CEL rules from running) from a wrong value.
    case 'FieldValueTypeInvalid': return `${e.field}: Invalid value: ${JSON.stringify(e.value)}: ${e.message}`;
    case 'InternalError': return `${e.field}: Internal error: ${e.message}`;
  }
}
