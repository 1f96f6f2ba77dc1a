// Response headers every API call carries: no caching (spec), and CORS with the custom gms_user
// header allowed, preflights answered here.

import type { Context, Next } from 'koa';

const ALLOWED_HEADERS = 'gms_user, Content-Type, Authorization';
const ALLOWED_METHODS = 'GET, POST, OPTIONS';

export function noCache(): (ctx: Context, next: Next) => Promise<void> {
  return async function noCacheHeaders(ctx, next) {
    ctx.set('Pragma', 'no-cache');
    ctx.set('Cache-Control', 'no-cache, no-store');
    await next();
  };
}

export function cors(origins: string[]): (ctx: Context, next: Next) => Promise<void> {
  const any = origins.includes('*');
  return async function corsHeaders(ctx, next) {
    const origin = ctx.get('Origin');
    if (origin && (any || origins.includes(origin))) {
      ctx.set('Access-Control-Allow-Origin', any ? '*' : origin);
      if (!any) ctx.vary('Origin');
      if (ctx.method === 'OPTIONS') {
        ctx.set('Access-Control-Allow-Headers', ALLOWED_HEADERS);
        ctx.set('Access-Control-Allow-Methods', ALLOWED_METHODS);
        ctx.set('Access-Control-Max-Age', '600');
      }
    }
    if (ctx.method === 'OPTIONS') {
      ctx.status = 204;
      return;
    }
    await next();
  };
}
