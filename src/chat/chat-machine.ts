// The chat state machine, pure: `apply(session, command, now, rules)` gives the session after the
// command, the events it added (in order) and its effects, or throws the GatewayError that refuses it.
// No store, no clock, no randomness (new ids come with the command): every rule of a chat's life is
// here, tested with none of them (test/chat-machine.test.ts).
//
//   not started --start--> waiting --accept--> connected --the last agent leaves--> ended
//   connected --transfer to an agent, join (a conference)--> connected --transfer to a queue--> waiting
//   waiting / connected --the customer leaves, is gone too long (idle), or the session expires--> ended
//
// Silent parties (a supervisor who listens in) are in `chat.agents` with `silent`: every event of theirs
// is seen by the agents only (`visibility: 'agents'`), and they do not keep a chat going on their own.
//
// The session handed in is a stored snapshot and is never changed: the result is a new session that
// shares what it did not change (copy-on-write), or the same one when the command changed nothing.

import { GatewayError } from '../errors.ts';
import { checkUpload, fileEventData, liveFile, type FileFacts, type FileLimits } from './file-rules.ts';
import { IDLE_WARNING_TEXT, idleStep, seenSlackMs } from './customer-idle.ts';
import { REMINDER_TEXT, reminderDue } from './agent-reminder.ts';
import { pushAfter } from '../notify/outbox-rule.ts';
import type {
  Chat,
  ChatAgent,
  ChatEvent,
  Customer,
  CustomerIdleRule,
  EventType,
  PartyType,
  PushRegistration,
  PushRule,
  ServiceSession,
} from './types.ts';

export const NOTICE_TEXT = {
  joined: 'has joined the session',
  left: 'has left the session',
  typingStarted: 'is typing',
  typingStopped: 'stopped typing',
} as const;

export interface StartParams {
  notifyBy?: string;
  firstName?: string;
  lastName?: string;
  email?: string;
  subject?: string;
  userDisplayName?: string;
  userData: Record<string, string>;
  /** The client address starting the chat, counted against MAX_WAITING_PER_ADDRESS; none: not counted. */
  client?: string;
  /** The device to notify while the customer is away (notify/registration.ts). */
  push?: PushRegistration;
}

/** What a customer's change does to their live chat (decided by a protocol adapter's rule, inside the change). */
/** What a customer's v2 call may add to the transcript (messages and typing have their own commands). */
export type CustomerNoticeType = Extract<
  EventType,
  'Notice.Custom' | 'Notice.PushUrl' | 'Notice.NicknameUpdated' | 'Notice.FileUploaded' | 'Notice.FileDeleted'
>;

export interface CustomerChange {
  /** The customer's new nickname; their later events carry it. */
  nickname?: string;
  /** Keys added to (or replacing those of) the chat's user data. */
  userData?: Record<string, string>;
  /** Events from the customer, in order: only the kinds a Chat API v2 call adds besides a message or typing. */
  events?: { type: CustomerNoticeType; text: string; data?: Record<string, string> }[];
  /** A file stored for this chat (ChatFiles.put) that the chat holds from now on. */
  fileId?: string;
  /** Files the chat no longer holds: removed with this change. */
  deletedFileIds?: string[];
}

/** Who comes into a chat by a transfer or a join. */
export interface Joiner {
  id: string;
  nickname: string;
  party?: 'SUPERVISOR';
  silent?: boolean;
}

export type Command =
  | {
      kind: 'start';
      ids: { chatSessionId: string; userId: string; secureKey: string };
      endpoint: string;
      notifyBy: 'comet' | 'poll';
      gmsUser?: string;
      params: StartParams;
    }
  | { kind: 'send'; text: string | undefined }
  | { kind: 'typing'; started: boolean }
  | { kind: 'disconnect'; text?: string }
  | { kind: 'customerChange'; change: CustomerChange }
  | { kind: 'accept'; agent: { id: string; nickname: string } }
  | { kind: 'agentSend'; agentId: string; text: string }
  | { kind: 'agentTyping'; agentId: string; started: boolean }
  | { kind: 'agentPushUrl'; agentId: string; url: string }
  | { kind: 'agentNotice'; agentId: string; text: string }
  | { kind: 'agentFile'; agentId: string; file: FileFacts; limits: FileLimits }
  | { kind: 'agentDeleteFile'; agentId: string; fileId: string }
  | { kind: 'agentWhisper'; agentId: string; text: string }
  | { kind: 'leave'; agentId: string }
  /** The agent hands their place to another agent, or puts the chat back in a queue (README "Transfer"). */
  | { kind: 'transfer'; agentId: string; to: { agent: Joiner } | { endpoint: string } }
  /** Another agent or a supervisor joins a connected chat: invited by `by`, or (a supervisor) on their own. */
  | { kind: 'join'; by?: string; agent: Joiner }
  | { kind: 'expire' }
  /** A customer's call that changes nothing else (a poll): they are there. */
  | { kind: 'seen' }
  /**
   * The last CometD client of a comet chat's customer went; `customerBack` when one is there again.
   * `position`: the last event the gateway knows it handed to that client, when it knows one.
   */
  | { kind: 'customerGone'; position?: number }
  | { kind: 'customerBack' }
  /** The sweep's check of a customer's absence (rules.customerIdle, customer-idle.ts): warns, then ends the chat, when due. */
  | { kind: 'idle' }
  /** The sweep's check of an unanswered customer (rules.agentReminderSeconds, agent-reminder.ts): reminds the agents when due. */
  | { kind: 'remind' };

/** The customer's own commands: each one says they are there. */
const CUSTOMER_COMMANDS: ReadonlySet<Command['kind']> = new Set([
  'start',
  'send',
  'typing',
  'disconnect',
  'customerChange',
  'seen',
  'customerBack',
]);

/** What a system notice (the idle warning) is signed with; v1 shows it as an EXTERNAL party, as GMS does. */
export const SYSTEM_NICKNAME = 'system';

export interface Rules {
  /** Most events one chat may hold; more are refused, never dropped (leaving is always possible). */
  maxTranscriptEvents: number;
  /** Longest customer message, in characters. */
  maxMessageLength: number;
  /** The service's customerIdleWarning / customerIdleEnd, if it times customers out. */
  customerIdle?: CustomerIdleRule;
  /** The service's agentTimeoutNotification, if the agents are reminded of an unanswered customer. */
  agentReminderSeconds?: number;
  /** When push notifications are due (notify/outbox-rule.ts); undefined: none are ever queued. */
  push?: PushRule;
}

/** What an agent does that answers the customer (a whisper does not). */
const ANSWERS: ReadonlySet<Command['kind']> = new Set(['agentSend', 'agentPushUrl', 'agentFile']);

/** What else a command calls for, besides storing the session. */
export type Effect =
  /** Tell the chat's followers (its customer, these agents, other nodes) of the new events. */
  | { kind: 'publish'; agentIds: string[] }
  /** Remove these files' content, with the change that drops them from the chat. */
  | { kind: 'deleteFiles'; fileIds: string[] }
  /** Remove the session and everything of it. */
  | { kind: 'remove' };

export interface Outcome {
  session: ServiceSession;
  events: ChatEvent[];
  effects: Effect[];
}

export function apply(stored: ServiceSession, command: Command, now: number, rules: Rules): Outcome {
  // The busiest call, a poll that changes nothing, gives back the stored session without drafting a copy.
  if (command.kind === 'seen' && stored.chat && !pollChanges(stored.chat, now, rules)) {
    return { session: stored, events: [], effects: [] };
  }
  const session: ServiceSession = stored.chat ? { ...stored, chat: { ...stored.chat } } : { ...stored };
  const events: ChatEvent[] = [];
  const effects: Effect[] = [];
  const left: string[] = [];
  const add = (
    chat: Chat,
    type: EventType,
    nickname: string,
    text: string,
    party: PartyType,
    agentId?: string,
    data?: Record<string, string>,
    visibility?: 'agents',
  ): void => {
    if (chat.events.length >= rules.maxTranscriptEvents && type !== 'Notice.Left') {
      throw new GatewayError(
        'InvalidParameter',
        `The chat has reached its limit of ${rules.maxTranscriptEvents} events; nothing more can be added to it.`,
      );
    }
    // The stored events array is shared: copied once, by the first event of this command.
    if (events.length === 0) chat.events = chat.events.slice();
    const event: ChatEvent = {
      position: chat.events.length + 1,
      type,
      nickname,
      text,
      at: now,
      partyType: party,
    };
    if (agentId) event.agentId = agentId;
    if (data) event.data = data;
    if (visibility) event.visibility = visibility;
    chat.events.push(event);
    events.push(event);
  };
  const byAgent = (chat: Chat, agentId: string, type: EventType, text: string, data?: Record<string, string>): ChatAgent => {
    const agent = agentInChat(chat, agentId);
    add(chat, type, agent.nickname, text, agent.party ?? 'AGENT', agent.id, data, agent.silent ? 'agents' : undefined);
    return agent;
  };
  /** What reaches the customer: a silent party may only whisper. */
  const aloud = (chat: Chat, agentId: string): void => {
    if (agentInChat(chat, agentId).silent)
      throw new GatewayError(
        'Forbidden',
        'You are in this chat silently: the customer does not see you. Whisper to the agents instead.',
      );
  };
  /** A party goes: their typing stops and they leave (seen by the customer unless they were silent). */
  const agentLeaves = (chat: Chat, agent: ChatAgent): void => {
    stopTyping(chat, agent.party ?? 'AGENT', agent.nickname, agent.id, agent.silent ? 'agents' : undefined);
    add(
      chat,
      'Notice.Left',
      agent.nickname,
      NOTICE_TEXT.left,
      agent.party ?? 'AGENT',
      agent.id,
      undefined,
      agent.silent ? 'agents' : undefined,
    );
    chat.agents = chat.agents.filter((a) => a.id !== agent.id);
    left.push(agent.id);
  };
  const agentJoins = (chat: Chat, joiner: Joiner): void => {
    const agent: ChatAgent = {
      id: joiner.id,
      nickname: joiner.nickname,
      joinedAt: now,
      ...(joiner.party ? { party: joiner.party } : {}),
      ...(joiner.silent ? { silent: true as const } : {}),
    };
    chat.agents = [...chat.agents, agent];
    add(
      chat,
      'Notice.Joined',
      agent.nickname,
      NOTICE_TEXT.joined,
      agent.party ?? 'AGENT',
      agent.id,
      undefined,
      agent.silent ? 'agents' : undefined,
    );
  };

  /** A party leaving stops their typing: a TypingStarted not followed by their TypingStopped gets one (room allowing). */
  const stopTyping = (chat: Chat, party: PartyType, nickname: string, agentId?: string, visibility?: 'agents'): void => {
    for (let i = chat.events.length - 1; i >= 0; i--) {
      const e = chat.events[i];
      if (e.type !== 'Notice.TypingStarted' && e.type !== 'Notice.TypingStopped') continue;
      if (e.partyType !== party || e.agentId !== agentId) continue;
      if (e.type === 'Notice.TypingStarted' && chat.events.length < rules.maxTranscriptEvents)
        add(chat, 'Notice.TypingStopped', nickname, NOTICE_TEXT.typingStopped, party, agentId, undefined, visibility);
      return;
    }
  };
  const customerLeaves = (chat: Chat): void => {
    stopTyping(chat, 'CLIENT', chat.customer.nickname);
    add(chat, 'Notice.Left', chat.customer.nickname, NOTICE_TEXT.left, 'CLIENT');
    end(chat, now);
  };

  switch (command.kind) {
    case 'start': {
      if (session.chat) throw new GatewayError('ChatAlreadyStarted', 'The chat of this session was already started.');
      if (command.gmsUser && !session.gmsUser) session.gmsUser = command.gmsUser;
      const { params } = command;
      const nickname = customerNickname(params);
      const { chatSessionId, userId, secureKey } = command.ids;
      const chat: Chat = {
        chatSessionId,
        userId,
        secureKey,
        state: 'waiting',
        startedAt: now,
        endpoint: command.endpoint,
        notifyBy: command.notifyBy,
        customer: startingCustomer(nickname, params, session.data),
        agents: [],
        events: [],
        clientPosition: 0,
      };
      if (params.push) chat.push = params.push;
      session.chat = chat;
      add(chat, 'Notice.Joined', nickname, NOTICE_TEXT.joined, 'CLIENT');
      break;
    }
    case 'send': {
      const chat = liveChat(session);
      add(chat, 'Message.Text', chat.customer.nickname, checkMessage(command.text, rules), 'CLIENT');
      break;
    }
    case 'typing': {
      const chat = liveChat(session);
      const [type, text] = command.started
        ? (['Notice.TypingStarted', NOTICE_TEXT.typingStarted] as const)
        : (['Notice.TypingStopped', NOTICE_TEXT.typingStopped] as const);
      add(chat, type, chat.customer.nickname, text, 'CLIENT');
      break;
    }
    case 'disconnect': {
      const chat = startedChat(session);
      // Leaving an ended chat again is harmless (a retried request).
      if (chat.state === 'ended') break;
      if (command.text !== undefined && command.text !== '')
        add(chat, 'Message.Text', chat.customer.nickname, checkMessage(command.text, rules), 'CLIENT');
      customerLeaves(chat);
      break;
    }
    case 'customerChange': {
      const chat = startedChat(session);
      const change = command.change;
      const changes =
        change.nickname !== undefined ||
        change.userData !== undefined ||
        change.fileId !== undefined ||
        (change.events?.length ?? 0) > 0;
      if (changes && chat.state === 'ended') throw new GatewayError('ChatEnded', 'The chat has ended.');
      if (change.nickname !== undefined) chat.customer = { ...chat.customer, nickname: change.nickname };
      if (change.userData) chat.customer = { ...chat.customer, userData: { ...chat.customer.userData, ...change.userData } };
      if (change.fileId) chat.fileIds = [...(chat.fileIds ?? []), change.fileId];
      for (const e of change.events ?? []) add(chat, e.type, chat.customer.nickname, e.text, 'CLIENT', undefined, e.data);
      if (change.deletedFileIds?.length) dropFiles(chat, change.deletedFileIds, effects);
      break;
    }
    case 'accept': {
      const chat = startedChat(session);
      const { agent } = command;
      if (chat.state === 'ended') throw new GatewayError('ChatEnded', 'The chat has ended.');
      // Accepting again is harmless (a retried request).
      if (chat.agents.some((a) => a.id === agent.id)) break;
      if (chat.state !== 'waiting') throw new GatewayError('Conflict', 'Another agent has already accepted this chat.');
      chat.agents = [...chat.agents, { id: agent.id, nickname: agent.nickname, joinedAt: now }];
      chat.state = 'connected';
      add(chat, 'Notice.Joined', agent.nickname, NOTICE_TEXT.joined, 'AGENT', agent.id);
      break;
    }
    case 'agentSend':
      aloud(startedChat(session), command.agentId);
      byAgent(startedChat(session), command.agentId, 'Message.Text', command.text);
      break;
    case 'agentWhisper': {
      const chat = startedChat(session);
      const agent = agentInChat(chat, command.agentId);
      add(chat, 'Message.Text', agent.nickname, command.text, agent.party ?? 'AGENT', agent.id, undefined, 'agents');
      break;
    }
    case 'agentTyping':
      byAgent(
        startedChat(session),
        command.agentId,
        command.started ? 'Notice.TypingStarted' : 'Notice.TypingStopped',
        command.started ? NOTICE_TEXT.typingStarted : NOTICE_TEXT.typingStopped,
      );
      break;
    case 'agentPushUrl':
      aloud(startedChat(session), command.agentId);
      byAgent(startedChat(session), command.agentId, 'Notice.PushUrl', command.url);
      break;
    case 'agentNotice':
      aloud(startedChat(session), command.agentId);
      byAgent(startedChat(session), command.agentId, 'Notice.Custom', command.text);
      break;
    case 'agentFile': {
      const chat = startedChat(session);
      aloud(chat, command.agentId);
      checkUpload(chat, command.limits, 'AGENT', command.file);
      chat.fileIds = [...(chat.fileIds ?? []), command.file.id];
      byAgent(chat, command.agentId, 'Notice.FileUploaded', command.file.name, fileEventData(command.file));
      break;
    }
    case 'agentDeleteFile': {
      const chat = startedChat(session);
      agentInChat(chat, command.agentId);
      const file = liveFile(chat, command.fileId);
      if (file.partyType === 'CLIENT') throw new GatewayError('Forbidden', 'Only the side that sent a file can delete it.');
      byAgent(chat, command.agentId, 'Notice.FileDeleted', file.text, { 'file-id': command.fileId });
      dropFiles(chat, [command.fileId], effects);
      break;
    }
    case 'leave': {
      const chat = startedChat(session);
      const agentId = command.agentId;
      if (chat.state === 'ended') {
        // The customer left first: leaving closes the chat for the agent, with nothing more to tell.
        if (!chat.agents.some((a) => a.id === agentId)) throw new GatewayError('ChatEnded', 'The chat has ended.');
        chat.agents = chat.agents.filter((a) => a.id !== agentId);
        break;
      }
      agentLeaves(chat, agentInChat(chat, agentId));
      // A conference goes on with the others; the chat ends with the last party the customer sees.
      if (chat.state === 'connected' && !chat.agents.some((a) => !a.silent)) end(chat, now);
      break;
    }
    case 'transfer': {
      const chat = startedChat(session);
      if (chat.state === 'ended') throw new GatewayError('Conflict', 'The chat has ended: it can no longer be transferred.');
      const from = chat.agents.find((a) => a.id === command.agentId);
      // Of two transfers at once, the second finds its agent gone: refused as a conflict, not a fault.
      if (!from || chat.state !== 'connected')
        throw new GatewayError('Conflict', 'You are no longer in this chat: it was transferred, or you left it.');
      if (from.silent) throw new GatewayError('Forbidden', 'You are in this chat silently: leave it instead of transferring it.');
      const { to } = command;
      if ('agent' in to) {
        if (chat.agents.some((a) => a.id === to.agent.id))
          throw new GatewayError('Conflict', `${to.agent.nickname} is already in this chat.`);
        // One update: GMS clients show a Left and a Joined of agents together as one transfer.
        agentLeaves(chat, from);
        agentJoins(chat, { ...to.agent, silent: false });
      } else {
        if (chat.agents.some((a) => a.id !== from.id && !a.silent))
          throw new GatewayError('Conflict', 'Others are still in this chat: leave it instead of transferring it to a queue.');
        agentLeaves(chat, from);
        chat.state = 'waiting';
        chat.endpoint = to.endpoint;
        chat.queuedAt = now;
      }
      break;
    }
    case 'join': {
      const chat = startedChat(session);
      if (chat.state === 'ended') throw new GatewayError('ChatEnded', 'The chat has ended.');
      if (command.by !== undefined) {
        const by = chat.agents.find((a) => a.id === command.by);
        if (!by) throw new GatewayError('Conflict', 'You are no longer in this chat: it was transferred, or you left it.');
        if (by.silent) throw new GatewayError('Forbidden', 'You are in this chat silently: you cannot invite others.');
      }
      if (chat.state !== 'connected')
        throw new GatewayError('Conflict', 'The chat is waiting for an agent: accept it (or have it accepted) first.');
      if (chat.agents.some((a) => a.id === command.agent.id))
        throw new GatewayError('Conflict', `${command.agent.nickname} is already in this chat.`);
      agentJoins(chat, command.agent);
      break;
    }
    case 'expire': {
      const chat = session.chat;
      // The chat ends for the agents, as if the customer had left; the session goes.
      if (chat && chat.state !== 'ended') customerLeaves(chat);
      effects.push({ kind: 'remove' });
      break;
    }
    case 'seen':
      startedChat(session);
      break;
    case 'customerGone': {
      const chat = session.chat;
      if (chat?.notifyBy !== 'comet' || chat.state === 'ended') break;
      if (chat.customerGoneAt === undefined) chat.customerGoneAt = now;
      // Pushes committed after the last one handed to the client never reached it: they are not given
      // (an app that went to the background said itself what it has: its away mark stands).
      if (command.position !== undefined && chat.awayPosition === undefined && command.position < chat.clientPosition)
        chat.clientPosition = command.position;
      break;
    }
    case 'customerBack': {
      const chat = startedChat(session);
      if (chat.customerGoneAt !== undefined) chat.customerGoneAt = undefined;
      break;
    }
    case 'remind': {
      const chat = session.chat;
      if (!chat || !reminderDue(chat, rules.agentReminderSeconds, now)) break;
      const waited = Math.round((now - chat.awaitingAnswerSince!) / 1000);
      add(
        chat,
        'Notice.Custom',
        SYSTEM_NICKNAME,
        REMINDER_TEXT(chat.customer.nickname, waited),
        'EXTERNAL',
        undefined,
        undefined,
        'agents',
      );
      chat.agentRemindedAt = now;
      break;
    }
    case 'idle': {
      const chat = session.chat;
      if (!chat) break;
      const due = idleStep(chat, rules.customerIdle, now);
      if (due === 'warn') {
        add(chat, 'Notice.Custom', SYSTEM_NICKNAME, IDLE_WARNING_TEXT(rules.customerIdle!.endSeconds), 'EXTERNAL');
        chat.idleWarnedAt = now;
      } else if (due === 'end') customerLeaves(chat);
      break;
    }
  }
  const chat = session.chat;
  if (chat && chat.state !== 'ended') {
    // A customer's message starts a wait for an answer; an agent's answer ends it; a new agent (accept,
    // transfer) gets the whole reminder time from joining.
    const asked = events.some((e) => e.partyType === 'CLIENT' && e.type === 'Message.Text');
    const answered = ANSWERS.has(command.kind) && events.some((e) => e.visibility !== 'agents');
    const joined = events.some((e) => e.type === 'Notice.Joined' && e.partyType !== 'CLIENT' && e.visibility !== 'agents');
    if (answered && chat.awaitingAnswerSince !== undefined) {
      chat.awaitingAnswerSince = undefined;
      chat.agentRemindedAt = undefined;
    } else if ((asked && chat.awaitingAnswerSince === undefined) || (joined && chat.awaitingAnswerSince !== undefined)) {
      chat.awaitingAnswerSince = now;
      // Cleared only when set: a field added as undefined would cost the draft a new shape for nothing.
      if (chat.agentRemindedAt !== undefined) chat.agentRemindedAt = undefined;
    }
  }
  // The customer's own call says they are there (recorded at most once a second, or a quarter of the
  // warning time, so that most polls stay free of writes), and takes back a warning of their absence.
  if (chat && CUSTOMER_COMMANDS.has(command.kind) && presenceDue(chat, now, rules)) {
    chat.customerSeenAt = now;
    if (chat.idleWarnedAt !== undefined) chat.idleWarnedAt = undefined;
  }
  // The device registered for push notifications gets one for the events of an absent customer (its
  // outbox, written with them).
  if (chat?.push && stored.chat)
    chat.push = pushAfter(stored.chat, chat.push, events, CUSTOMER_COMMANDS.has(command.kind), now, rules.push);
  // A comet chat's new events are pushed as they commit: they count as given to the customer while a
  // CometD client of theirs is there; an away mark, or the last client gone, holds the place (README
  // "Background and return").
  if (chat?.notifyBy === 'comet' && chat.awayPosition === undefined && chat.customerGoneAt === undefined && events.length > 0)
    chat.clientPosition = chat.events.length;
  if (events.length > 0) effects.unshift({ kind: 'publish', agentIds: [...(chat?.agents.map((a) => a.id) ?? []), ...left] });
  const changed =
    events.length > 0 || effects.length > 0 || session.gmsUser !== stored.gmsUser || differs(session.chat, stored.chat);
  return { session: changed ? session : stored, events, effects };
}

/** Whether a customer's call is to be recorded as their presence: not yet this second, or it takes back a warning. */
function presenceDue(chat: Chat, now: number, rules: Rules): boolean {
  return (
    chat.state !== 'ended' &&
    (chat.idleWarnedAt !== undefined || now - (chat.customerSeenAt ?? chat.startedAt) >= seenSlackMs(rules.customerIdle))
  );
}

/**
 * Whether a poll (`seen`) changes a chat: it adds no event, so all it can change is the customer's
 * presence and their device's pending notification (both as the general path below does them).
 */
function pollChanges(chat: Chat, now: number, rules: Rules): boolean {
  return (
    presenceDue(chat, now, rules) ||
    (chat.push !== undefined && pushAfter(chat, chat.push, [], true, now, rules.push) !== chat.push)
  );
}

/** Whether a command changed the draft chat (a shallow copy: changed fields are new values). */
function differs(draft: Chat | undefined, stored: Chat | undefined): boolean {
  if (!draft || !stored) return draft !== stored;
  return (Object.keys(draft) as (keyof Chat)[]).some((key) => draft[key] !== stored[key]);
}

function dropFiles(chat: Chat, fileIds: string[], effects: Effect[]): void {
  chat.fileIds = (chat.fileIds ?? []).filter((id) => !fileIds.includes(id));
  effects.push({ kind: 'deleteFiles', fileIds });
}

function end(chat: Chat, now: number): void {
  chat.state = 'ended';
  chat.endedAt = now;
}

export function startedChat(session: ServiceSession): Chat {
  if (!session.chat) throw new GatewayError('ChatNotStarted', 'The chat has not been started; call .../ixn/chat first.');
  return session.chat;
}

function liveChat(session: ServiceSession): Chat {
  const chat = startedChat(session);
  if (chat.state === 'ended') throw new GatewayError('ChatEnded', 'The chat has ended.');
  return chat;
}

function agentInChat(chat: Chat, agentId: string): ChatAgent {
  if (chat.state === 'ended') throw new GatewayError('ChatEnded', 'The chat has ended.');
  const agent = chat.agents.find((a) => a.id === agentId);
  if (!agent) throw new GatewayError('Forbidden', 'You are not in this chat; accept it first.');
  return agent;
}

function checkMessage(message: string | undefined, rules: Rules): string {
  if (message === undefined || message.trim() === '') {
    throw new GatewayError('InvalidParameter', "The parameter 'message' is required and must not be empty.");
  }
  if ([...message].length > rules.maxMessageLength) {
    throw new GatewayError('InvalidParameter', `The message is longer than ${rules.maxMessageLength} characters.`);
  }
  return message;
}

function customerNickname(params: StartParams): string {
  const display = params.userDisplayName?.trim();
  if (display) return display;
  const full = [params.firstName?.trim(), params.lastName?.trim()].filter(Boolean).join(' ');
  return full || 'Customer';
}

/** The customer as their chat starts: the names given, and the session's data with the start's own on top. */
function startingCustomer(nickname: string, params: StartParams, sessionData: Record<string, string>): Customer {
  const customer: Omit<Customer, 'userData'> = { nickname };
  if (params.firstName !== undefined) customer.firstName = params.firstName;
  if (params.lastName !== undefined) customer.lastName = params.lastName;
  if (params.email !== undefined) customer.email = params.email;
  if (params.subject !== undefined) customer.subject = params.subject;
  // The business data given at session creation is attached to the interaction (spec §1); a key given again at start wins.
  return Object.assign(customer, { userData: { ...sessionData, ...params.userData } });
}
