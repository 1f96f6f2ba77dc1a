// How every error is rendered as {"message", "exception"} with its status (Chat API v2 calls: as v2's
// error envelope, chat-v2-wire.ts): never a stack trace, never HTML.
// Unexpected errors are logged with their stack, shown as InternalError.

import type { Context } from 'koa';
import { GatewayError, isGatewayError, type ExceptionName } from '../errors.ts';
import type { Logger } from '../log.ts';
import { isV2Path, renderV2Error } from './chat-v2-wire.ts';

/** Errors thrown by Koa and its middleware (`ctx.throw`, http-errors) carry a status. */
function fromHttpError(err: unknown): GatewayError | undefined {
  const status = (err as { status?: unknown })?.status;
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  const byStatus: Partial<Record<number, ExceptionName>> = {
    400: 'InvalidParameter',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'NotFound',
    405: 'MethodNotAllowed',
    409: 'Conflict',
    413: 'PayloadTooLarge',
    415: 'UnsupportedMediaType',
    429: 'RateLimited',
  };
  const exception = byStatus[status] ?? 'InvalidParameter';
  const expose = (err as { expose?: boolean }).expose;
  const message = expose && err instanceof Error ? err.message : 'The request is not valid.';
  return new GatewayError(exception, message, { status });
}

export function renderError(ctx: Context, err: GatewayError): void {
  // Chat API v2 clients read their own envelope, whatever failed (a route, the body, a rate limit).
  if (isV2Path(ctx.path)) return renderV2Error(ctx, err);
  ctx.status = err.status;
  ctx.set(err.headers);
  ctx.body = { ...err.details, message: err.message, exception: err.exception };
}

/** Renders anything a request threw: known errors as themselves, the rest logged and shown as InternalError. */
export function renderFailure(ctx: Context, err: unknown, log: Logger): void {
  const known = isGatewayError(err) ? err : fromHttpError(err);
  if (known) {
    renderError(ctx, known);
    const cause = known.cause === undefined ? {} : { err: known.cause };
    log.debug({ method: ctx.method, path: ctx.path, status: known.status, exception: known.exception, ...cause }, known.message);
    return;
  }
  log.error({ method: ctx.method, path: ctx.path, err }, 'request failed unexpectedly');
  renderError(ctx, new GatewayError('InternalError', 'The gateway could not handle this request.'));
}

/** A request no route answered. */
export function notFound(ctx: Context): GatewayError {
  return new GatewayError('NotFound', `Nothing is served at ${ctx.method} ${ctx.path}.`);
}
