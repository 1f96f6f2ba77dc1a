// The one layer every request passes through before its route: request metrics, the error body,
// the no-cache and CORS headers, the client's address and its rate limit, and the parameters. One
// middleware calling plain functions in a fixed order, because each async layer costs a request far
// more than the work it does (six layers took ~20 µs of CPU per request; this one takes a fraction).

import type { IncomingMessage } from 'node:http';
import type { Context, Next } from 'koa';
import type { Logger } from '../log.ts';
import type { ParamsReader } from './body.ts';
import { notFound, renderFailure } from './error-body.ts';
import { setNoCache, type CorsPolicy } from './headers.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { RateLimiter } from './rate-limit.ts';

export interface EdgeParts {
  metrics: GatewayMetrics;
  log: Logger;
  cors: CorsPolicy;
  limits: RateLimiter;
  /** The client address of a request (client-address.ts, with the gateway's proxy settings). */
  addressOf: (req: IncomingMessage) => string;
  params: ParamsReader;
}

declare module 'koa' {
  interface DefaultState {
    /** Whose request this is, for every per-address rule (set by the edge before any route runs). */
    clientAddress: string;
  }
}

/** Operators' scrapes are never limited (the health probe is answered before the edge: health-probe.ts). */
const UNLIMITED_PATHS = new Set(['/metrics']);

export function edge({ metrics, log, cors, limits, addressOf, params }: EdgeParts): (ctx: Context, next: Next) => Promise<void> {
  return async function edgeLayer(ctx, next) {
    const started = performance.now();
    try {
      setNoCache(ctx);
      if (cors(ctx)) return;
      const address = addressOf(ctx.req);
      ctx.state.clientAddress = address;
      if (!UNLIMITED_PATHS.has(ctx.path)) limits.checkAddress(address);
      ctx.state.params = await params(ctx);
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw notFound(ctx);
    } catch (err) {
      renderFailure(ctx, err, log);
    } finally {
      metrics.observe(ctx, started);
    }
  };
}
