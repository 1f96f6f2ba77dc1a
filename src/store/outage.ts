// Tells a store that cannot answer (an outage: 503, try again) from a bug in the gateway or its data
// (a TypeError, a row that is not JSON: 500, logged with its cause). Only the first may be masked.

import Database from 'better-sqlite3';
import { GatewayError } from '../errors.ts';

/** node-redis's errors for a connection that is gone, closed, slow or refusing (its other errors are bugs). */
const REDIS_CONNECTION_ERRORS = new Set([
  'ConnectionTimeoutError',
  'SocketTimeoutError',
  'ClientClosedError',
  'ClientOfflineError',
  'DisconnectsClientError',
  'SocketClosedUnexpectedlyError',
  'ReconnectStrategyError',
  'TimeoutError',
]);
/** Replies of a Redis that is there but cannot serve now. */
const REDIS_BUSY_REPLY = /^(LOADING|READONLY|OOM|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|LEASELOST)\b/;

/** An error meaning the store was not reachable or refused the work for now. */
export class StoreUnreachable extends Error {
  override readonly name = 'StoreUnreachable';
}

export function isOutage(err: unknown): boolean {
  if (err instanceof StoreUnreachable || err instanceof Database.SqliteError) return true;
  if (!(err instanceof Error)) return false;
  if (REDIS_CONNECTION_ERRORS.has(err.constructor.name)) return true;
  if (err.constructor.name === 'ErrorReply' || err.constructor.name === 'SimpleError') return REDIS_BUSY_REPLY.test(err.message);
  // A socket error from the operating system (ECONNREFUSED, ECONNRESET, EPIPE...).
  return typeof (err as NodeJS.ErrnoException).code === 'string' && /^E[A-Z]+$/.test((err as NodeJS.ErrnoException).code!);
}

/**
 * Runs one store operation: an outage becomes 503 ServiceUnavailable (its cause kept for the log);
 * anything else goes on as it is, to be logged at `error` and answered 500 InternalError.
 */
export async function guard<R>(op: () => Promise<R>): Promise<R> {
  try {
    return await op();
  } catch (err) {
    if (err instanceof GatewayError || !isOutage(err)) throw err;
    throw new GatewayError('ServiceUnavailable', 'The session store is not reachable; try again shortly.', { cause: err });
  }
}
