// GET /healthz, answered ahead of the edge: load balancers and orchestrators ask every node every few
// seconds, and the probe needs none of what the edge does for the API (parameters, CORS, rate limits,
// per-route metrics), so it costs a request about what a bare Koa answer does. It is not counted in
// gms_http_requests_total. Other methods go on to the routers, which answer 404 as for any unknown route.

import type { Context, Next } from 'koa';
import type { Registry } from '../config/registry.ts';
import type { ServiceDefinition } from '../config/service-file.ts';
import { setNoCache } from './headers.ts';

export const HEALTH_PATH = '/healthz';

export function healthProbe(services: Registry<ServiceDefinition>): (ctx: Context, next: Next) => Promise<void> | void {
  return (ctx, next) => {
    if (!isHealthPath(ctx.path) || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    setNoCache(ctx);
    ctx.body = { status: 'ok', services: services.size };
  };
}

/** As the routers match paths: any case, with or without a trailing slash. */
function isHealthPath(path: string): boolean {
  if (path === HEALTH_PATH) return true;
  const bare = path.endsWith('/') ? path.slice(0, -1) : path;
  return bare.length === HEALTH_PATH.length && bare.toLowerCase() === HEALTH_PATH;
}
