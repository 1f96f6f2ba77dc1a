// The one error type of the gateway: a stable `exception` name (spec §Errors), an HTTP status and a
// message for a person. Every layer throws it; one middleware renders it.

export const EXCEPTIONS = {
  ServiceNotFound: 404,
  SessionNotFound: 404,
  NotFound: 404,
  InvalidParameter: 400,
  ChatNotStarted: 400,
  ChatAlreadyStarted: 400,
  ChatEnded: 400,
  Unauthorized: 401,
  Forbidden: 403,
  MethodNotAllowed: 405,
  Conflict: 409,
  PreconditionFailed: 412,
  PayloadTooLarge: 413,
  UnsupportedMediaType: 415,
  PreconditionRequired: 428,
  RateLimited: 429,
  InternalError: 500,
  ServiceUnavailable: 503,
} as const;

export type ExceptionName = keyof typeof EXCEPTIONS;

export class GatewayError extends Error {
  readonly exception: ExceptionName;
  readonly status: number;
  /** Extra response headers, e.g. Retry-After for RateLimited. */
  readonly headers: Readonly<Record<string, string>>;

  /** More fields of the error body, e.g. the problems of a refused admin write. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    exception: ExceptionName,
    message: string,
    options: { status?: number; headers?: Record<string, string>; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.exception = exception;
    this.status = options.status ?? EXCEPTIONS[exception];
    this.headers = options.headers ?? {};
    this.details = options.details ?? {};
  }
}

export function isGatewayError(err: unknown): err is GatewayError {
  return err instanceof GatewayError;
}
