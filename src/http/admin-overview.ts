// What the admin page shows beside the configuration (ours): chats under way per service and endpoint
// (from the expiry sweep's census, shared by every node), the agents with their load and the CometD
// clients listening for them on this node, and the JSON schemas the page builds its forms from.

import fs from 'node:fs/promises';
import Router from '@koa/router';
import type { NodeConfig } from '../admin/config-sync.ts';
import type { ChatCensus } from '../chat/expiry.ts';
import type { Registry } from '../config/registry.ts';
import { SCHEMAS_DIR } from '../config/schema-files.ts';
import type { EndpointDefinition } from '../endpoints/endpoint-file.ts';
import { GatewayError } from '../errors.ts';
import type { AdminAccess } from './admin-access.ts';
import { ADMIN_BASE } from './admin-api.ts';

export interface OverviewSources {
  endpoints: Registry<EndpointDefinition>;
  census: () => Promise<ChatCensus | undefined>;
  /** Agent id → CometD clients of this node on its channel. */
  agentsConnected: () => Record<string, number>;
  /** This node's id. */
  node: () => string;
  /** Every node's configuration version (ConfigSync). */
  nodes: () => Promise<NodeConfig[]>;
}

const SCHEMAS: Record<string, string> = { service: 'request-chat', endpoint: 'endpoint' };

export function adminOverviewRoutes(sources: OverviewSources, access: AdminAccess): Router {
  const router = new Router({ prefix: ADMIN_BASE });

  router.get('/overview', access.require('read'), async (ctx) => {
    const census = await sources.census().catch(() => undefined);
    const listening = sources.agentsConnected();
    const agents = new Map<string, { id: string; nickname: string; endpoints: string[] }>();
    for (const { name, value } of sources.endpoints.list()) {
      for (const agent of value.agents) {
        const known = agents.get(agent.id) ?? { id: agent.id, nickname: agent.nickname, endpoints: [] };
        known.endpoints.push(name);
        agents.set(agent.id, known);
      }
    }
    ctx.body = {
      node: sources.node(),
      // The figures of the last sweep (any node's), and how old they are.
      chats: census
        ? {
            at: new Date(census.at).toISOString(),
            connected: census.connected,
            waiting: census.waiting,
            services: census.services ?? {},
          }
        : null,
      agents: [...agents.values()]
        .sort((a, b) => a.id.localeCompare(b.id))
        .map((a) => ({ ...a, chats: census?.agents?.[a.id] ?? 0, listening: listening[a.id] ?? 0 })),
    };
  });

  /** Drift is visible: nodes with the same version have applied the same API changes and loaded the same options. */
  router.get('/nodes', access.require('read'), async (ctx) => {
    const nodes = await sources.nodes();
    ctx.body = {
      node: sources.node(),
      nodes: nodes.map((n) => ({ ...n, version: `r${n.revision}-${n.digest}`, seenAt: new Date(n.seenAt).toISOString() })),
    };
  });

  router.get('/schemas/:kind', access.require('read'), async (ctx) => {
    const file = SCHEMAS[ctx.params.kind];
    if (!file) throw new GatewayError('NotFound', 'The schemas are service and endpoint.');
    ctx.type = 'application/schema+json';
    ctx.body = await fs.readFile(`${SCHEMAS_DIR}${file}.schema.json`, 'utf8');
  });

  return router;
}
