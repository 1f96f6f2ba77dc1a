// What an agent does with the built-in endpoint's chats: see the waiting queue and their own chats,
// read a transcript, accept, add events, transfer, invite others (a conference) and leave. Checks that the agent serves the chat's endpoint
// and shapes chats as the agent API shows them; the chat domain does every change.

import type { AgentCommand, ChatDomain } from '../chat/chat-service.ts';
import { checkUpload, contentTypeFor, liveFile, NO_FILES, sanitizeFileName, type FileLimits } from '../chat/file-rules.ts';
import { agentSet, endpointConnectedSet } from '../chat/session-records.ts';
import type { Chat, ChatEvent, ServiceLookup, ServiceSession } from '../chat/types.ts';
import { GatewayError } from '../errors.ts';
import type { Store } from '../store/store.ts';
import type { Agent, AgentDirectory } from './agents.ts';
import type { QueueRouter } from './queue-router.ts';

/** A transcript event as agents see it (agent-api.md): an object, its time in ISO 8601. */
export interface AgentEvent {
  position: number;
  type: string;
  nickname: string;
  text: string;
  at: string;
  partyType: string;
  /** File events: the file's id, name, size and type. */
  data?: Record<string, string>;
  /** `agents`: not seen by the customer (a whisper, a silent supervisor's joining or leaving, a reminder). */
  visibility?: 'agents';
}

/** What every list of chats says of each: which chat, where, and who the customer is. */
interface ChatSummary {
  chatSessionId: string;
  service: string;
  endpoint: string;
  nickname: string;
  subject?: string;
}

/** An agent in a chat, as the agent API shows them. */
export interface ChatAgent {
  id: string;
  nickname: string;
  partyType: 'AGENT' | 'SUPERVISOR';
  silent: boolean;
}

export interface WaitingChat extends ChatSummary {
  waitingSince: string;
  userData: Record<string, string>;
}

/** A chat under way in a supervisor's endpoints: whom to listen in on (its transcript: GET /chats/{id}). */
export interface LiveChat extends ChatSummary {
  startedAt: string;
  agents: ChatAgent[];
}

/** Most chats one supervisor's list holds (the longest-running first). */
const LIVE_LIST_MAX = 200;

export interface AgentChatView {
  chatSessionId: string;
  service: string;
  endpoint: string;
  state: Chat['state'];
  startedAt: string;
  endedAt?: string;
  customer: { nickname: string; firstName?: string; lastName?: string; email?: string; subject?: string };
  userData: Record<string, string>;
  /** Who is in the chat besides the customer: `partyType` AGENT or SUPERVISOR, `silent` when the customer does not see them. */
  agents: ChatAgent[];
  transcriptPosition: number;
  events: AgentEvent[];
}

const MAX_URL_LENGTH = 2048;
const MAX_NOTICE_LENGTH = 4096;
/** Whether the agent takes chats (an agent never set is ready); kept for a week after it was last set. */
const readyKey = (agentId: string): string => `agent-ready:${agentId}`;
const READY_TTL_MS = 7 * 24 * 3600 * 1000;
/** Held, never written, while an agent with a cap accepts: one accept at a time per agent, on every node. */
const acceptingKey = (agentId: string): string => `agent-accepting:${agentId}`;

/** An agent's readiness and load, as the console shows them (GET /agent/v1/status, ours). */
export interface AgentStatus {
  ready: boolean;
  /** The chats the agent holds: accepted and not yet left or closed (ended ones count until closed). */
  chats: number;
  /** The most the agent may hold at once; null for no cap. */
  maxChats: number | null;
}

export function agentEvent(event: ChatEvent): AgentEvent {
  return {
    position: event.position,
    type: event.type,
    nickname: event.nickname,
    text: event.text,
    at: new Date(event.at).toISOString(),
    partyType: event.partyType,
    ...(event.data ? { data: event.data } : {}),
    ...(event.visibility ? { visibility: event.visibility } : {}),
  };
}

/** A colleague an agent may transfer a chat to or invite (GET /agent/v1/agents, ours). */
export interface Colleague {
  id: string;
  nickname: string;
  endpoints: string[];
  supervisor: boolean;
  ready: boolean;
  chats: number;
  maxChats: number | null;
}

export class AgentDesk {
  constructor(
    private readonly domain: ChatDomain,
    private readonly queues: QueueRouter,
    private readonly store: Store,
    private readonly services: ServiceLookup,
    private readonly agents: AgentDirectory,
  ) {}

  /** The other agents and supervisors of the agent's endpoints, with their readiness and load: whom to transfer to or invite. */
  async colleagues(agent: Agent): Promise<Colleague[]> {
    const seen = new Map<string, Agent>();
    for (const endpoint of agent.endpoints)
      for (const other of this.agents.agentsOf(endpoint))
        if (other.id !== agent.id && !seen.has(other.id)) seen.set(other.id, other);
    return Promise.all(
      [...seen.values()].map(async (other) => {
        const status = await this.status(other);
        return {
          id: other.id,
          nickname: other.nickname,
          endpoints: other.endpoints.filter((e) => agent.endpoints.includes(e)),
          supervisor: other.supervisor === true,
          ...status,
        };
      }),
    );
  }

  /** The chats waiting in the agent's endpoints, oldest first. */
  async waiting(agent: Agent): Promise<WaitingChat[]> {
    const ids = (await Promise.all(agent.endpoints.map((endpoint) => this.queues.waiting(endpoint)))).flat();
    const found = await Promise.all(ids.map((id) => this.domain.findChat(id)));
    const all = found.flatMap((f) => (f?.chat.state === 'waiting' ? [waitingChat(f.session, f.chat)] : []));
    return all.sort((a, b) => a.waitingSince.localeCompare(b.waitingSince));
  }

  /** A waiting chat's summary, for the push that announces it; undefined once it is no longer waiting. */
  async waitingChat(chatSessionId: string): Promise<WaitingChat | undefined> {
    const found = await this.domain.findChat(chatSessionId);
    return found?.chat.state === 'waiting' ? waitingChat(found.session, found.chat) : undefined;
  }

  /** For a supervisor: the chats with an agent in them in their endpoints, longest-running first. */
  async live(agent: Agent): Promise<LiveChat[]> {
    if (!agent.supervisor) throw new GatewayError('Forbidden', 'Only supervisors see the chats under way in their endpoints.');
    const ids = (await Promise.all(agent.endpoints.map((e) => this.store.members(endpointConnectedSet(e))))).flat();
    const found = await Promise.all(ids.slice(0, LIVE_LIST_MAX).map((id) => this.domain.findChat(id)));
    const live = found.flatMap((f) =>
      f?.chat.state === 'connected' && agent.endpoints.includes(f.chat.endpoint) ? [liveChat(f.session, f.chat)] : [],
    );
    return live.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }

  /**
   * The chats the agent is in, including ended ones the agent has not left yet: of the endpoints the
   * agent's token serves only. (The list is kept per id: the same id with another token elsewhere is
   * another agent, whose chats are skipped here, never dropped.)
   */
  async mine(agent: Agent): Promise<AgentChatView[]> {
    const ids = await this.store.members(agentSet(agent.id));
    const found = await Promise.all(ids.map((id) => this.domain.findChat(id)));
    return found.flatMap((f) =>
      f && agent.endpoints.includes(f.chat.endpoint) && f.chat.agents.some((a) => a.id === agent.id)
        ? [chatView(f.session, f.chat)]
        : [],
    );
  }

  async view(agent: Agent, chatSessionId: string): Promise<AgentChatView> {
    const { session, chat } = await this.served(agent, chatSessionId);
    return chatView(session, chat);
  }

  async status(agent: Agent): Promise<AgentStatus> {
    const [ready, chats] = await Promise.all([this.isReady(agent.id), this.store.count(agentSet(agent.id))]);
    return { ready, chats, maxChats: agent.maxChats ?? null };
  }

  async setReady(agent: Agent, ready: string | undefined): Promise<AgentStatus> {
    const value = ready?.trim().toLowerCase();
    if (value !== 'true' && value !== 'false' && value !== '1' && value !== '0') {
      throw new GatewayError('InvalidParameter', "The parameter 'ready' must be true or false.");
    }
    await this.store.set(readyKey(agent.id), value === 'true' || value === '1', READY_TTL_MS);
    return this.status(agent);
  }

  /**
   * A chat joins the agent's set in the same write as the accept; with a cap, the count and the accept
   * happen under the agent's own key, so that two accepts at once never take more places than are left.
   */
  async accept(agent: Agent, chatSessionId: string): Promise<AgentChatView> {
    const { session } = await this.served(agent, chatSessionId);
    return chatView(session, await this.takingPlace(agent, 'you', () => this.domain.accept(chatSessionId, agent)));
  }

  /**
   * The agent hands the chat to another agent of its endpoint (`agentId`, who must be ready and have a
   * place left, and then holds it), or puts it back in an endpoint's queue (`endpoint`), in one write.
   */
  async transfer(agent: Agent, chatSessionId: string, to: { agentId?: string; endpoint?: string }): Promise<AgentChatView> {
    const { session, chat } = await this.served(agent, chatSessionId);
    const agentId = to.agentId?.trim() || undefined;
    const endpoint = to.endpoint?.trim() || undefined;
    if ((agentId === undefined) === (endpoint === undefined)) {
      throw new GatewayError('InvalidParameter', "Give either 'agentId' (an agent to transfer to) or 'endpoint' (a queue).");
    }
    if (agentId !== undefined) {
      const target = this.colleague(chat.endpoint, agentId, agent);
      const joiner = { id: target.id, nickname: target.nickname, ...(target.supervisor ? { party: 'SUPERVISOR' as const } : {}) };
      const after = await this.takingPlace(target, 'them', () =>
        this.domain.agentCommand(chatSessionId, { kind: 'transfer', agentId: agent.id, to: { agent: joiner } }),
      );
      return chatView(session, after);
    }
    const open = this.queues.isOpen(endpoint!);
    if (open === undefined) throw new GatewayError('InvalidParameter', `There is no endpoint '${endpoint}'.`);
    // A transfer is no new chat: a full queue (maxWaiting) takes it, a closed one does not.
    if (!open) throw new GatewayError('Conflict', `The endpoint '${endpoint}' is closed: its queue takes no chats.`);
    return this.command(session, { kind: 'transfer', agentId: agent.id, to: { endpoint: endpoint! } });
  }

  /**
   * The agent invites another agent or a supervisor of the chat's endpoint into it (a conference); only
   * a supervisor may come in `silent`. The one invited must be ready and have a place left.
   */
  async invite(
    agent: Agent,
    chatSessionId: string,
    agentId: string | undefined,
    silent: string | undefined,
  ): Promise<AgentChatView> {
    const { session, chat } = await this.served(agent, chatSessionId);
    if (agentId === undefined || agentId.trim() === '') {
      throw new GatewayError('InvalidParameter', "The parameter 'agentId' is required and must not be empty.");
    }
    const target = this.colleague(chat.endpoint, agentId.trim(), agent);
    const quiet = flag(silent, 'silent');
    if (quiet && !target.supervisor)
      throw new GatewayError('InvalidParameter', `${target.nickname} is not a supervisor: only supervisors join silently.`);
    const joiner = {
      id: target.id,
      nickname: target.nickname,
      ...(target.supervisor ? { party: 'SUPERVISOR' as const } : {}),
      silent: quiet,
    };
    return chatView(session, await this.takingPlace(target, 'them', () => this.domain.join(chatSessionId, agent.id, joiner)));
  }

  /** A supervisor comes into a connected chat of their endpoints on their own: seen by the customer, or `silent`. */
  async join(agent: Agent, chatSessionId: string, silent: string | undefined): Promise<AgentChatView> {
    const { session } = await this.served(agent, chatSessionId);
    if (!agent.supervisor) throw new GatewayError('Forbidden', 'Only supervisors join chats on their own; agents are invited.');
    const joiner = { id: agent.id, nickname: agent.nickname, party: 'SUPERVISOR' as const, silent: flag(silent, 'silent') };
    return chatView(session, await this.takingPlace(agent, 'you', () => this.domain.join(chatSessionId, undefined, joiner)));
  }

  /** A message for the agents of the chat only: the customer never sees it (the only way a silent supervisor writes). */
  async whisper(agent: Agent, chatSessionId: string, message: string | undefined): Promise<AgentChatView> {
    const { session } = await this.served(agent, chatSessionId);
    const max = this.services(session.service)?.maxMessageLength ?? 4096;
    return this.command(session, { kind: 'agentWhisper', agentId: agent.id, text: required(message, 'message', max) });
  }

  /** Another agent of the endpoint, by id (the one listed in that endpoint's file). */
  private colleague(endpoint: string, agentId: string, self: Agent): Agent {
    if (agentId === self.id) throw new GatewayError('InvalidParameter', 'You cannot transfer a chat to, or invite, yourself.');
    const found = this.agents.agentsOf(endpoint).find((a) => a.id === agentId);
    if (!found)
      throw new GatewayError('InvalidParameter', `No agent '${agentId}' serves the endpoint '${endpoint}' of this chat.`);
    return found;
  }

  /**
   * A chat comes to `taker` (accept, a transfer to them, an invitation): they must be ready and, with a
   * cap, have a place left; the count and the change happen under the taker's own key, so that two at
   * once never take more places than are left. `who` says whom the refusal speaks of.
   */
  private async takingPlace(taker: Agent, who: 'you' | 'them', change: () => Promise<Chat>): Promise<Chat> {
    if (!(await this.isReady(taker.id))) {
      throw new GatewayError(
        'Conflict',
        who === 'you'
          ? 'You are set as not ready: set yourself ready to accept chats.'
          : `${taker.nickname} is set as not ready and takes no chats now.`,
      );
    }
    const max = taker.maxChats;
    if (max === undefined) return change();
    return this.store.update<never, Chat>(acceptingKey(taker.id), async () => {
      if ((await this.store.count(agentSet(taker.id))) >= max) {
        throw new GatewayError(
          'Conflict',
          who === 'you'
            ? `You already hold ${max} chats, the most you may hold at once: leave or close one first.`
            : `${taker.nickname} already holds ${max} chats, the most they may hold at once.`,
        );
      }
      return { result: await change() };
    });
  }

  async send(agent: Agent, chatSessionId: string, message: string | undefined): Promise<AgentChatView> {
    const { session } = await this.served(agent, chatSessionId);
    const max = this.services(session.service)?.maxMessageLength ?? 4096;
    return this.command(session, { kind: 'agentSend', agentId: agent.id, text: required(message, 'message', max) });
  }

  async typing(agent: Agent, chatSessionId: string, typing: string | undefined): Promise<AgentChatView> {
    const { session } = await this.served(agent, chatSessionId);
    if (typing === undefined) throw new GatewayError('InvalidParameter', "The parameter 'typing' must be true or false.");
    return this.command(session, { kind: 'agentTyping', agentId: agent.id, started: flag(typing, 'typing') });
  }

  async pushUrl(agent: Agent, chatSessionId: string, url: string | undefined): Promise<AgentChatView> {
    const { session } = await this.served(agent, chatSessionId);
    return this.command(session, { kind: 'agentPushUrl', agentId: agent.id, url: webUrl(required(url, 'url', MAX_URL_LENGTH)) });
  }

  async notice(agent: Agent, chatSessionId: string, text: string | undefined): Promise<AgentChatView> {
    const { session } = await this.served(agent, chatSessionId);
    return this.command(session, { kind: 'agentNotice', agentId: agent.id, text: required(text, 'text', MAX_NOTICE_LENGTH) });
  }

  /** The agent leaves; leaving a chat that already ended (the customer left) just closes it for the agent. */
  async leave(agent: Agent, chatSessionId: string): Promise<AgentChatView> {
    const { session } = await this.served(agent, chatSessionId);
    return chatView(session, await this.domain.leave(chatSessionId, agent.id));
  }

  /** The agent sends a file into a chat they are in, within the service's file limits for the agent side. */
  async uploadFile(
    agent: Agent,
    chatSessionId: string,
    file: { name: string; content: Buffer },
    limits: FileLimits,
  ): Promise<AgentChatView> {
    const { session, chat } = await this.served(agent, chatSessionId);
    const name = sanitizeFileName(file.name);
    const size = file.content.length;
    checkUpload(chat, limits, 'AGENT', { name, size });
    const type = contentTypeFor(name);
    const fileId = await this.domain.putFile(session, { name, type, content: file.content });
    try {
      return await this.command(session, {
        kind: 'agentFile',
        agentId: agent.id,
        file: { id: fileId, name, size, type },
        limits,
      });
    } catch (err) {
      // Refused inside the change (a concurrent upload used the allowance): the content goes too.
      await this.domain.files.remove(chatSessionId, [fileId]);
      throw err;
    }
  }

  /** A file of a chat the agent may see (either side's), not deleted. */
  async file(agent: Agent, chatSessionId: string, fileId: string): Promise<ChatEvent> {
    const { chat } = await this.served(agent, chatSessionId);
    return liveFile(chat, fileId);
  }

  /** The agent deletes a file they sent: the transcript says so and the content goes, in one change. */
  async deleteFile(agent: Agent, chatSessionId: string, fileId: string): Promise<AgentChatView> {
    const { session } = await this.served(agent, chatSessionId);
    return this.command(session, { kind: 'agentDeleteFile', agentId: agent.id, fileId });
  }

  /** The file limits of a chat's service (none when the service is gone or takes no files). */
  async fileLimits(agent: Agent, chatSessionId: string): Promise<FileLimits> {
    const { session } = await this.served(agent, chatSessionId);
    return this.services(session.service)?.fileTransfer ?? NO_FILES;
  }

  private async command(session: ServiceSession, command: AgentCommand): Promise<AgentChatView> {
    return chatView(session, await this.domain.agentCommand(session.chat!.chatSessionId, command));
  }

  /** Whether the agent takes chats now (an agent never set is ready). */
  async isReady(agentId: string): Promise<boolean> {
    return (await this.store.get<boolean>(readyKey(agentId))) !== false;
  }

  /** The chat, if it exists (404) and belongs to an endpoint the agent serves (403). */
  private async served(agent: Agent, chatSessionId: string): Promise<{ session: ServiceSession; chat: Chat }> {
    const found = await this.domain.findChat(chatSessionId);
    if (!found) throw new GatewayError('SessionNotFound', 'No such chat: the id is unknown or the chat has expired.');
    if (!agent.endpoints.includes(found.chat.endpoint)) {
      throw new GatewayError('Forbidden', `This chat belongs to the endpoint '${found.chat.endpoint}', which you do not serve.`);
    }
    return found;
  }
}

function chatSummary(session: ServiceSession, chat: Chat): ChatSummary {
  return {
    chatSessionId: chat.chatSessionId,
    service: session.service,
    endpoint: chat.endpoint,
    nickname: chat.customer.nickname,
    ...(chat.customer.subject !== undefined ? { subject: chat.customer.subject } : {}),
  };
}

function chatAgents(chat: Chat): ChatAgent[] {
  return chat.agents.map((a) => ({ id: a.id, nickname: a.nickname, partyType: a.party ?? 'AGENT', silent: a.silent === true }));
}

function waitingChat(session: ServiceSession, chat: Chat): WaitingChat {
  return {
    ...chatSummary(session, chat),
    waitingSince: new Date(chat.queuedAt ?? chat.startedAt).toISOString(),
    userData: chat.customer.userData,
  };
}

function liveChat(session: ServiceSession, chat: Chat): LiveChat {
  return { ...chatSummary(session, chat), startedAt: new Date(chat.startedAt).toISOString(), agents: chatAgents(chat) };
}

export function chatView(session: ServiceSession, chat: Chat): AgentChatView {
  const { nickname, firstName, lastName, email, subject, userData } = chat.customer;
  return {
    chatSessionId: chat.chatSessionId,
    service: session.service,
    endpoint: chat.endpoint,
    state: chat.state,
    startedAt: new Date(chat.startedAt).toISOString(),
    ...(chat.endedAt !== undefined ? { endedAt: new Date(chat.endedAt).toISOString() } : {}),
    customer: { nickname, firstName, lastName, email, subject },
    userData,
    agents: chatAgents(chat),
    transcriptPosition: chat.events.length,
    events: chat.events.map(agentEvent),
  };
}

/** A true/false parameter (`1`/`0` too); absent is false. */
function flag(value: string | undefined, name: string): boolean {
  if (value === undefined) return false;
  const v = value.trim().toLowerCase();
  if (v !== 'true' && v !== 'false' && v !== '1' && v !== '0') {
    throw new GatewayError('InvalidParameter', `The parameter '${name}' must be true or false.`);
  }
  return v === 'true' || v === '1';
}

function required(value: string | undefined, name: string, max: number): string {
  if (value === undefined || value.trim() === '') {
    throw new GatewayError('InvalidParameter', `The parameter '${name}' is required and must not be empty.`);
  }
  if ([...value].length > max)
    throw new GatewayError('InvalidParameter', `The parameter '${name}' is longer than ${max} characters.`);
  return value;
}

function webUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new GatewayError('InvalidParameter', "The parameter 'url' is not a valid absolute URL.");
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new GatewayError('InvalidParameter', "The parameter 'url' must be an http or https URL.");
  }
  return url.href;
}
