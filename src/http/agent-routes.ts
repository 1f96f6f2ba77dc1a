// The agent API (agent-api.md), base /agent/v1: every route authenticates the agent by bearer token,
// reads its parameters and calls the agent desk. Bodies may be JSON or forms (the body normaliser).

import Router from '@koa/router';
import type { AgentDesk } from '../endpoints/agent-desk.ts';
import type { AgentDirectory } from '../endpoints/agents.ts';
import { GatewayError } from '../errors.ts';
import { agentOf, bearerAuth } from './bearer-auth.ts';

export const AGENT_BASE = '/agent/v1';

export function agentRoutes(desk: AgentDesk, agents: AgentDirectory): Router {
  const router = new Router({ prefix: AGENT_BASE });
  router.use(bearerAuth(agents));

  /** Who the token belongs to (ours): the console needs the id to subscribe to /agent/{id}. */
  router.get('/me', (ctx) => {
    ctx.body = agentOf(ctx);
  });

  router.get('/chats', async (ctx) => {
    const state = ctx.state.params.state ?? 'waiting';
    if (state === 'waiting') ctx.body = { chats: await desk.waiting(agentOf(ctx)) };
    else if (state === 'mine') ctx.body = { chats: await desk.mine(agentOf(ctx)) };
    else throw new GatewayError('InvalidParameter', "The parameter 'state' must be waiting or mine.");
  });

  router.get('/chats/:id', async (ctx) => {
    ctx.body = await desk.view(agentOf(ctx), ctx.params.id!);
  });

  router.post('/chats/:id/accept', async (ctx) => {
    ctx.body = await desk.accept(agentOf(ctx), ctx.params.id!);
  });

  router.post('/chats/:id/send', async (ctx) => {
    ctx.body = await desk.send(agentOf(ctx), ctx.params.id!, ctx.state.params.message);
  });

  router.post('/chats/:id/typing', async (ctx) => {
    ctx.body = await desk.typing(agentOf(ctx), ctx.params.id!, ctx.state.params.typing);
  });

  router.post('/chats/:id/push-url', async (ctx) => {
    ctx.body = await desk.pushUrl(agentOf(ctx), ctx.params.id!, ctx.state.params.url);
  });

  router.post('/chats/:id/notice', async (ctx) => {
    ctx.body = await desk.notice(agentOf(ctx), ctx.params.id!, ctx.state.params.text);
  });

  router.post('/chats/:id/leave', async (ctx) => {
    ctx.body = await desk.leave(agentOf(ctx), ctx.params.id!);
  });

  return router;
}
