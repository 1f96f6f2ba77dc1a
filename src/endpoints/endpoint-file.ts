// An endpoint file (endpoints.d/<name>.json|yaml) → the endpoint's options and agents, validated
// against schemas/endpoint.schema.json with its defaults.

import { validateConfigText, type LoadResult } from '../config/config-file.ts';

export interface EndpointAgent {
  id: string;
  nickname: string;
  /** `sha256:<hex>` of the agent's bearer token. */
  token: string;
  /** The most chats this agent holds at once, instead of the endpoint's maxChatsPerAgent. */
  maxChats?: number;
  /** `supervisor`: joins chats on their own (silently too); their events carry the party type SUPERVISOR. */
  role?: 'agent' | 'supervisor';
}

/** A ready-made answer an agent picks in the console. */
export interface CannedResponse {
  title: string;
  text: string;
}

export interface EndpointDefinition {
  name: string;
  open: boolean;
  maxWaiting?: number;
  /** The most chats one agent of this endpoint holds at once; undefined for no cap. */
  maxChatsPerAgent?: number;
  description?: string;
  /** Absent when the file has none. */
  cannedResponses?: CannedResponse[];
  agents: EndpointAgent[];
}

export function loadEndpointFile(file: string, text: string): LoadResult<EndpointDefinition> {
  const checked = validateConfigText(file, text, 'endpoint');
  if (!checked.ok) return checked;
  const { name, label, options } = checked;
  const { open, maxWaiting, maxChatsPerAgent, description, cannedResponses, agents } = options as unknown as Omit<
    EndpointDefinition,
    'name'
  >;
  const seen = new Set<string>();
  for (const [i, agent] of agents.entries()) {
    if (seen.has(agent.id)) {
      return { ok: false, name, problems: [{ file: label, field: `agents.${i}.id`, reason: `'${agent.id}' is listed twice` }] };
    }
    seen.add(agent.id);
  }
  return {
    ok: true,
    name,
    value: {
      name,
      open,
      ...(maxWaiting !== undefined ? { maxWaiting } : {}),
      ...(maxChatsPerAgent !== undefined ? { maxChatsPerAgent } : {}),
      ...(description ? { description } : {}),
      ...(cannedResponses && cannedResponses.length > 0
        ? { cannedResponses: cannedResponses.map(({ title, text }) => ({ title, text })) }
        : {}),
      agents: agents.map(({ id, nickname, token, maxChats, role }) => ({
        id,
        nickname,
        token: token.toLowerCase(),
        ...(maxChats !== undefined ? { maxChats } : {}),
        ...(role === 'supervisor' ? { role } : {}),
      })),
    },
  };
}

/** An endpoint as operators may see it, in logs and the admin listing: its agents without token hashes. */
export function publicEndpoint(
  value: EndpointDefinition,
): Omit<EndpointDefinition, 'agents'> & { agents: Array<{ id: string; nickname: string }> } {
  return {
    ...value,
    agents: value.agents.map(({ id, nickname, maxChats, role }) => ({
      id,
      nickname,
      ...(maxChats !== undefined ? { maxChats } : {}),
      ...(role ? { role } : {}),
    })),
  };
}

/** An endpoint file's content with its agents' token hashes hidden (audit lines, read-only admins). */
export function redactAgentTokens(source: Record<string, unknown>): Record<string, unknown> {
  const agents = source.agents;
  if (!Array.isArray(agents)) return source;
  return {
    ...source,
    agents: agents.map((a: unknown) =>
      typeof a === 'object' && a !== null && 'token' in a ? { ...a, token: 'sha256:(hidden)' } : a,
    ),
  };
}
