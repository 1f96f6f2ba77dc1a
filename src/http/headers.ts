// Response headers every API call carries: no caching (spec), and CORS with the custom gms_user
// header allowed, preflights answered here. Plain functions, run by the edge layer (edge.ts).

import type { Context } from 'koa';

// apikey: Chat API v2 clients send it (GMS's API gateway key); the gateway ignores it.
const ALLOWED_HEADERS = 'gms_user, Content-Type, Authorization, apikey';
const ALLOWED_METHODS = 'GET, POST, OPTIONS';

export function setNoCache(ctx: Context): void {
  ctx.set('Pragma', 'no-cache');
  ctx.set('Cache-Control', 'no-cache, no-store');
}

/** Sets the CORS headers of a request; true when it was a preflight, now answered (204). */
export type CorsPolicy = (ctx: Context) => boolean;

export function corsPolicy(origins: string[]): CorsPolicy {
  const any = origins.includes('*');
  return (ctx) => {
    const origin = ctx.get('Origin');
    const preflight = ctx.method === 'OPTIONS';
    if (origin && (any || origins.includes(origin))) {
      ctx.set('Access-Control-Allow-Origin', any ? '*' : origin);
      if (!any) ctx.vary('Origin');
      if (preflight) {
        ctx.set('Access-Control-Allow-Headers', ALLOWED_HEADERS);
        ctx.set('Access-Control-Allow-Methods', ALLOWED_METHODS);
        ctx.set('Access-Control-Max-Age', '600');
      }
    }
    if (preflight) ctx.status = 204;
    return preflight;
  };
}
