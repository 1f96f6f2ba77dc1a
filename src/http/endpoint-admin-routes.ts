// What an operator looks at for endpoints (ours): each loaded endpoint with its options, its agents
// (never their token hashes) and how many chats wait in it, and the endpoint files refused now.

import Router from '@koa/router';
import type { Registry } from '../config/registry.ts';
import { publicEndpoint, type EndpointDefinition } from '../endpoints/endpoint-file.ts';
import type { QueueRouter } from '../endpoints/queue-router.ts';
import type { AdminAccess } from './admin-access.ts';

export function endpointAdminRoutes(endpoints: Registry<EndpointDefinition>, queues: QueueRouter, access: AdminAccess): Router {
  const router = new Router();

  router.get('/genesys/1/admin/endpoints', access.require('read'), async (ctx) => {
    const loaded = await Promise.all(
      endpoints.list().map(async ({ name, file, loadedAt, value }) => ({
        ...publicEndpoint(value),
        file,
        loadedAt,
        waiting: await queues.count(name),
      })),
    );
    ctx.body = { endpoints: loaded, rejected: endpoints.rejected() };
  });

  return router;
}
