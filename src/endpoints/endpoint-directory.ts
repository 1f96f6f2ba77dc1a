// The loaded endpoint files seen two ways: whether an endpoint takes chats now (for the queue router)
// and who its agents are (the AgentDirectory of the agent API and the agent CometD channels).
// Reads the registry at every call, so an edited file applies to the very next request.

import type { Registry } from '../config/registry.ts';
import type { Agent, AgentDirectory, CannedResponses } from './agents.ts';
import type { EndpointDefinition } from './endpoint-file.ts';
import type { EndpointStatus } from './queue-router.ts';
import { digestsEqual, storedDigest, tokenDigest } from './token-hash.ts';

export class EndpointDirectory implements AgentDirectory, CannedResponses {
  constructor(private readonly endpoints: Registry<EndpointDefinition>) {}

  /** Undefined when no file defines the endpoint: services routed there answer 503 saying so. */
  status(name: string): EndpointStatus | undefined {
    const endpoint = this.endpoints.get(name);
    if (!endpoint) return undefined;
    return { open: endpoint.open, ...(endpoint.maxWaiting !== undefined ? { maxWaiting: endpoint.maxWaiting } : {}) };
  }

  authenticate(token: string): Agent | undefined {
    const presented = tokenDigest(token);
    let found: { id: string; nickname: string; token: string } | undefined;
    // Every hash is compared, match or not, so the time taken says nothing about which one matched.
    for (const endpoint of this.endpoints.list()) {
      for (const agent of endpoint.value.agents) {
        if (digestsEqual(presented, storedDigest(agent.token)) && !found) found = agent;
      }
    }
    return found && this.agent(found);
  }

  cannedResponses(endpoint: string): Array<{ title: string; text: string }> {
    return this.endpoints.get(endpoint)?.cannedResponses ?? [];
  }

  agentsOf(endpoint: string): Agent[] {
    return (this.endpoints.get(endpoint)?.agents ?? []).map((a) => this.agent(a));
  }

  /**
   * An agent listed in several files with the same token serves all of those endpoints; the same id
   * with another token is another agent, serving only the endpoints that list it with that token.
   */
  private agent(entry: { id: string; nickname: string; token: string }): Agent {
    const endpoints: string[] = [];
    const caps: number[] = [];
    let supervisor = false;
    for (const e of this.endpoints.list()) {
      const listed = e.value.agents.find((a) => a.id === entry.id && a.token === entry.token);
      if (!listed) continue;
      endpoints.push(e.name);
      const cap = listed.maxChats ?? e.value.maxChatsPerAgent;
      if (cap !== undefined) caps.push(cap);
      if (listed.role === 'supervisor') supervisor = true;
    }
    return {
      id: entry.id,
      nickname: entry.nickname,
      endpoints,
      ...(caps.length > 0 ? { maxChats: Math.min(...caps) } : {}),
      ...(supervisor ? { supervisor } : {}),
    };
  }
}
