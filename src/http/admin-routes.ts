// What an operator looks at: health, and the services loaded with their effective options and
// the files currently refused (ours).

import Router from '@koa/router';
import type { ServiceDefinition } from '../config/service-file.ts';
import type { Registry } from '../config/registry.ts';
import type { AdminAccess } from './admin-access.ts';

/** GET /healthz alone, in a router of its own: load balancers call it often, and it is tried first. */
export function healthRoutes(services: Registry<ServiceDefinition>): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok', services: services.size };
  });
  return router;
}

export function adminRoutes(services: Registry<ServiceDefinition>, access: AdminAccess): Router {
  const router = new Router();

  router.get('/genesys/1/admin/services', access.require('read'), (ctx) => {
    ctx.body = {
      services: services.list().map(({ name, file, loadedAt, value: { ignored, ...options } }) => ({
        name,
        file,
        loadedAt,
        options,
        // GMS options the file gives that the gateway accepts but does not apply, with the reason.
        ...(ignored ? { ignored } : {}),
      })),
      rejected: services.rejected(),
    };
  });

  return router;
}
