// What agents are told on their CometD channel /agent/{agentId}: a new chat waiting in an endpoint
// they serve (or transferred back to its queue), a waiting chat taken or gone, and every new event of the chats they are in.
// Follows ChatHub; hands each message to a publish function (the CometD endpoint's agent channels),
// addressed to an agent of the chat's endpoint: an id declared with another token elsewhere is another
// agent (agents.ts), told nothing of this endpoint's chats.

import type { ChatUpdate } from '../chat/types.ts';
import type { Logger } from '../log.ts';
import type { ChatHub } from '../push/chat-hub.ts';
import { agentEvent, type AgentEvent, type WaitingChat } from './agent-desk.ts';
import type { Agent, AgentDirectory } from './agents.ts';

export type AgentPushMessage =
  | { type: 'waiting'; chat: WaitingChat }
  | { type: 'dequeued'; chatSessionId: string; endpoint: string }
  | {
      type: 'events';
      chatSessionId: string;
      service: string;
      endpoint: string;
      state: ChatUpdate['state'];
      events: AgentEvent[];
    };

/** Sends a message to the agent: the one of the message's endpoint (an id with another token elsewhere is another agent). */
export type PublishToAgent = (agent: Agent, message: AgentPushMessage) => void;

export interface AgentPushOptions {
  hub: ChatHub;
  agents: AgentDirectory;
  /** A waiting chat's summary, read once the chat is stored; undefined if it is no longer waiting. */
  waitingChat(chatSessionId: string): Promise<WaitingChat | undefined>;
  publish: PublishToAgent;
  /** Whether an agent takes chats now: one who is not ready is told of no new waiting chat. */
  isReady?: (agentId: string) => Promise<boolean>;
  log: Logger;
}

/** Starts following the hub; returns the function that stops it. */
export function pushToAgents(options: AgentPushOptions): () => void {
  const { agents, publish, log } = options;

  const announce = async (update: ChatUpdate): Promise<void> => {
    // An endpoint nobody serves has no one to tell: its chats are not read back for nothing.
    const all = agents.agentsOf(update.endpoint);
    if (all.length === 0) return;
    const chat = await options.waitingChat(update.chatSessionId);
    if (!chat) return;
    const isReady = options.isReady ?? (() => Promise.resolve(true));
    const ready = await Promise.all(all.map((agent) => isReady(agent.id)));
    all.forEach((agent, i) => {
      if (ready[i]) publish(agent, { type: 'waiting', chat });
    });
  };

  return options.hub.subscribe((update) => {
    // A chat waits anew when it starts, or when its agent transfers it back to a queue (their Left, the chat waiting).
    const isNew =
      update.state === 'waiting' &&
      update.events.some(
        (e) => e.position === 1 || (e.type === 'Notice.Left' && e.partyType !== 'CLIENT' && e.visibility !== 'agents'),
      );
    if (isNew) {
      announce(update).catch((err: unknown) =>
        log.warn({ err: String(err), chatSessionId: update.chatSessionId }, 'could not announce a waiting chat'),
      );
    }
    // A chat leaves the queue when an agent joins it, or when it ends before anyone did.
    const taken = update.events.some((e) => e.type === 'Notice.Joined' && e.partyType === 'AGENT');
    const endedWaiting = update.state === 'ended' && update.agentIds.length === 0;
    if (taken || endedWaiting) {
      for (const agent of agents.agentsOf(update.endpoint)) {
        publish(agent, { type: 'dequeued', chatSessionId: update.chatSessionId, endpoint: update.endpoint });
      }
    }
    if (update.agentIds.length > 0) {
      const message: AgentPushMessage = {
        type: 'events',
        chatSessionId: update.chatSessionId,
        service: update.service,
        endpoint: update.endpoint,
        state: update.state,
        events: update.events.map(agentEvent),
      };
      const inChat = new Set(update.agentIds);
      for (const agent of agents.agentsOf(update.endpoint)) if (inChat.has(agent.id)) publish(agent, message);
    }
  });
}
