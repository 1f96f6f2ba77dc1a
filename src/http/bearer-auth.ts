// Who is calling the agent API: the `Authorization: Bearer <token>` header checked against the agent
// directory. The token is never logged nor echoed; a missing or wrong one is 401.

import type { Context, Next } from 'koa';
import type { Agent, AgentDirectory } from '../endpoints/agents.ts';
import { GatewayError } from '../errors.ts';

declare module 'koa' {
  interface DefaultState {
    agent?: Agent;
  }
}

const BEARER = /^Bearer[ ]+(\S+)[ ]*$/i;

export function bearerAuth(agents: AgentDirectory): (ctx: Context, next: Next) => Promise<void> {
  return async function authenticateAgent(ctx, next) {
    const match = BEARER.exec(ctx.get('authorization'));
    const agent = match ? agents.authenticate(match[1]) : undefined;
    if (!agent) {
      throw new GatewayError(
        'Unauthorized',
        match ? 'The agent token is not valid.' : 'Send the agent token as Authorization: Bearer <token>.',
        {
          headers: { 'WWW-Authenticate': 'Bearer realm="agent"' },
        },
      );
    }
    ctx.state.agent = agent;
    await next();
  };
}

/** The agent the request was authenticated as (routes behind bearerAuth only). */
export function agentOf(ctx: Context): Agent {
  const agent = ctx.state.agent;
  if (!agent) throw new GatewayError('Unauthorized', 'Send the agent token as Authorization: Bearer <token>.');
  return agent;
}
