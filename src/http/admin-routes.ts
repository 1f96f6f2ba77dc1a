// What an operator looks at: the services loaded with their effective options and the files currently
// refused (ours). The health probe is health-probe.ts.

import Router from '@koa/router';
import type { ServiceDefinition } from '../config/service-file.ts';
import type { Registry } from '../config/registry.ts';
import type { AdminAccess } from './admin-access.ts';

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
