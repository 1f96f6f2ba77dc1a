// The agent API (agent-api.md), base /agent/v1: every route authenticates the agent by bearer token,
// reads its parameters and calls the agent desk. Bodies may be JSON or forms (the body normaliser).

import Router from '@koa/router';
import type { AgentDesk } from '../endpoints/agent-desk.ts';
import type { AgentDirectory, CannedResponses } from '../endpoints/agents.ts';
import { GatewayError } from '../errors.ts';
import { FileRefused } from '../chat/file-rules.ts';
import type { ChatDomain } from '../chat/chat-service.ts';
import { agentOf, bearerAuth } from './bearer-auth.ts';
import { sendFile } from './file-download.ts';
import { readUpload } from './upload.ts';

export const AGENT_BASE = '/agent/v1';

export function agentRoutes(desk: AgentDesk, agents: AgentDirectory & CannedResponses, domain: ChatDomain): Router {
  const router = new Router({ prefix: AGENT_BASE });
  router.use(bearerAuth(agents));

  /** Who the token belongs to (ours): the console needs the id to subscribe to /agent/{id}. */
  router.get('/me', (ctx) => {
    const { id, nickname, endpoints, supervisor } = agentOf(ctx);
    ctx.body = { id, nickname, endpoints, supervisor: supervisor === true };
  });

  /** The ready-made answers of the agent's endpoints, each with its endpoint (ours). */
  router.get('/canned-responses', (ctx) => {
    const agent = agentOf(ctx);
    ctx.body = {
      responses: agent.endpoints.flatMap((endpoint) => agents.cannedResponses(endpoint).map((r) => ({ endpoint, ...r }))),
    };
  });

  /** Whether the agent takes chats, how many it holds and may hold (ours). */
  router.get('/status', async (ctx) => {
    ctx.body = await desk.status(agentOf(ctx));
  });

  router.post('/status', async (ctx) => {
    ctx.body = await desk.setReady(agentOf(ctx), ctx.state.params.ready);
  });

  router.get('/chats', async (ctx) => {
    const state = ctx.state.params.state ?? 'waiting';
    if (state === 'waiting') ctx.body = { chats: await desk.waiting(agentOf(ctx)) };
    else if (state === 'mine') ctx.body = { chats: await desk.mine(agentOf(ctx)) };
    else if (state === 'live') ctx.body = { chats: await desk.live(agentOf(ctx)) };
    else throw new GatewayError('InvalidParameter', "The parameter 'state' must be waiting, mine or live.");
  });

  router.get('/chats/:id', async (ctx) => {
    ctx.body = await desk.view(agentOf(ctx), ctx.params.id);
  });

  router.post('/chats/:id/accept', async (ctx) => {
    ctx.body = await desk.accept(agentOf(ctx), ctx.params.id);
  });

  router.post('/chats/:id/send', async (ctx) => {
    ctx.body = await desk.send(agentOf(ctx), ctx.params.id, ctx.state.params.message);
  });

  router.post('/chats/:id/typing', async (ctx) => {
    ctx.body = await desk.typing(agentOf(ctx), ctx.params.id, ctx.state.params.typing);
  });

  router.post('/chats/:id/push-url', async (ctx) => {
    ctx.body = await desk.pushUrl(agentOf(ctx), ctx.params.id, ctx.state.params.url);
  });

  router.post('/chats/:id/notice', async (ctx) => {
    ctx.body = await desk.notice(agentOf(ctx), ctx.params.id, ctx.state.params.text);
  });

  // Files (multipart, the part named `file`): the chat's service sets what the agent side may send.
  router.post('/chats/:id/files', async (ctx) => {
    const agent = agentOf(ctx);
    const limits = await desk.fileLimits(agent, ctx.params.id);
    if (!limits.enabled) {
      ctx.req.resume();
      throw new FileRefused('disabled', 'File transfer is not enabled for the service of this chat.');
    }
    const upload = await readUpload(ctx, limits.maxFileSize);
    ctx.body = await desk.uploadFile(agent, ctx.params.id, upload.file, limits);
  });

  router.get('/chats/:id/files/:fileId', async (ctx) => {
    const event = await desk.file(agentOf(ctx), ctx.params.id, ctx.params.fileId);
    await sendFile(ctx, domain, ctx.params.id, event);
  });

  router.post('/chats/:id/files/:fileId/delete', async (ctx) => {
    ctx.body = await desk.deleteFile(agentOf(ctx), ctx.params.id, ctx.params.fileId);
  });

  /** The others of the agent's endpoints, ready or not, with their load: whom to transfer to or invite (ours). */
  router.get('/agents', async (ctx) => {
    ctx.body = { agents: await desk.colleagues(agentOf(ctx)) };
  });

  router.post('/chats/:id/transfer', async (ctx) => {
    const { agentId, endpoint } = ctx.state.params;
    ctx.body = await desk.transfer(agentOf(ctx), ctx.params.id, { agentId, endpoint });
  });

  router.post('/chats/:id/invite', async (ctx) => {
    ctx.body = await desk.invite(agentOf(ctx), ctx.params.id, ctx.state.params.agentId, ctx.state.params.silent);
  });

  router.post('/chats/:id/join', async (ctx) => {
    ctx.body = await desk.join(agentOf(ctx), ctx.params.id, ctx.state.params.silent);
  });

  router.post('/chats/:id/whisper', async (ctx) => {
    ctx.body = await desk.whisper(agentOf(ctx), ctx.params.id, ctx.state.params.message);
  });

  router.post('/chats/:id/leave', async (ctx) => {
    ctx.body = await desk.leave(agentOf(ctx), ctx.params.id);
  });

  return router;
}
