// An agent calling the agent API with a bearer token, and endpoint files with agents whose tokens are known.

import { hashToken } from '../../src/endpoints/token-hash.ts';
import { request, type Body, type Reply, type TestGateway } from './gateway.ts';

export interface AgentClient {
  id: string;
  token: string;
  get(pathname: string): Promise<Reply>;
  post(pathname: string, body?: Body, headers?: Record<string, string>): Promise<Reply>;
}

/** The token of the test agent `id`: predictable, so tests read simply. */
export const tokenOf = (id: string): string => `token-of-${id}-for-tests`;

/** An endpoint file's content with the given agents (nickname = id with a capital). */
export function endpointFile(agentIds: string[], options: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...options,
    agents: agentIds.map((id) => ({ id, nickname: id[0].toUpperCase() + id.slice(1), token: hashToken(tokenOf(id)) })),
  };
}

export function agentClient(gw: Pick<TestGateway, 'url'>, id: string, token = tokenOf(id)): AgentClient {
  const auth = { authorization: `Bearer ${token}` };
  return {
    id,
    token,
    get: (p) => request(gw.url, 'GET', `/agent/v1${p}`, undefined, auth),
    post: (p, b, h) => request(gw.url, 'POST', `/agent/v1${p}`, b, { ...auth, ...h }),
  };
}
