// The chat domain's data: a service session, the chat it may hold, and the chat's events.
// Plain JSON-serialisable records, so any store can keep them.

import type { FileLimits } from './file-rules.ts';

export type PartyType = 'CLIENT' | 'AGENT' | 'SUPERVISOR' | 'EXTERNAL';

export type EventType =
  | 'Message.Text'
  | 'Notice.Joined'
  | 'Notice.Left'
  | 'Notice.TypingStarted'
  | 'Notice.TypingStopped'
  | 'Notice.PushUrl'
  | 'Notice.Custom'
  /** The customer changed their nickname (Chat API v2 `updateNickname`): `nickname` is the new one. */
  | 'Notice.NicknameUpdated'
  /** A file was attached to the chat: `data` holds its id, name, size and type (chat-files.ts). */
  | 'Notice.FileUploaded'
  /** A file attached earlier was deleted: `data` holds its id. */
  | 'Notice.FileDeleted';

export interface ChatEvent {
  /** 1-based; the same number always means the same event. */
  position: number;
  type: EventType;
  nickname: string;
  text: string;
  /** Milliseconds since the epoch. */
  at: number;
  partyType: PartyType;
  /** Which agent produced it (agent events only). */
  agentId?: string;
  /** Details of file events (`file-id`, `file-name`, ...), as Chat API v2 shows them. */
  data?: Record<string, string>;
  /** `agents`: seen by the agents only, never by the customer (a whisper, a silent supervisor, a reminder). */
  visibility?: 'agents';
}

/** `waiting`: routed, no agent yet; `connected`: an agent is in; `ended`: over for good. */
export type ChatState = 'waiting' | 'connected' | 'ended';

export interface ChatAgent {
  id: string;
  nickname: string;
  joinedAt: number;
  /** `SUPERVISOR` for a supervisor (their events carry that party type); absent: `AGENT`. */
  party?: 'SUPERVISOR';
  /** In the chat unseen by the customer: their joining, leaving and typing are agents-only; they may only whisper. */
  silent?: true;
}

export interface Customer {
  nickname: string;
  firstName?: string;
  lastName?: string;
  email?: string;
  subject?: string;
  /** Every other parameter the customer app sent when it started the chat. */
  userData: Record<string, string>;
}

export interface Chat {
  chatSessionId: string;
  state: ChatState;
  startedAt: number;
  endedAt?: number;
  endpoint: string;
  notifyBy: 'comet' | 'poll';
  userId: string;
  secureKey: string;
  customer: Customer;
  /** Agents (and supervisors) currently in the chat. */
  agents: ChatAgent[];
  /** When the chat was last put in its queue, if that was after its start (transferred back to a queue). */
  queuedAt?: number;
  events: ChatEvent[];
  /** The last position the customer was given, for clients that poll without one. */
  clientPosition: number;
  /** Set while the customer's CometD client is in the background (spec §4). */
  awayPosition?: number;
  /** Until when the store keeps the chat id → session index (ms since the epoch). */
  indexExpiresAt?: number;
  /**
   * The ids of the chunks of the transcript stored apart, oldest first (session-records.ts). In a stored
   * record, `events` holds only the events after them; everywhere else it holds them all.
   */
  chunks?: string[];
  /** Until when the store keeps those chunks (ms since the epoch). */
  chunksExpireAt?: number;
  /** The customer's last call (ms since the epoch); absent: the chat's start (customer-idle.ts). */
  customerSeenAt?: number;
  /** Set while no CometD client of a comet chat's customer is there: since when (ms since the epoch). */
  customerGoneAt?: number;
  /** When the customer was warned that the chat ends for their absence; cleared when they come back. */
  idleWarnedAt?: number;
  /** Since when the customer's last message waits for an answer from an agent (agent-reminder.ts); cleared by one. */
  awaitingAnswerSince?: number;
  /** When the agents were reminded of that wait; cleared with it. */
  agentRemindedAt?: number;
  /** The ids of the files stored with this chat (chat-files.ts), removed with it. */
  fileIds?: string[];
  /** The customer's device registered for push notifications at the start (notify/), with its outbox. */
  push?: PushRegistration;
}

/** A mobile device told of new agent events while its app is in the background (the push_notification_* parameters). */
export interface PushRegistration {
  /** push_notification_deviceid: the provider's token for the app on this device. */
  deviceId: string;
  /** push_notification_type as given (fcm, gcm, ios, customhttp...): picks the provider serving it. */
  type: string;
  /** push_notification_provider: a provider by name, overriding the choice by type. */
  provider?: string;
  /** push_notification_language: the language of the notification's text. */
  language?: string;
  /** push_notification_debug: the app is a development build (the provider's sandbox, where it has one). */
  debug: boolean;
  /** subscriptionID, handed back in every notification. */
  subscriptionId?: string;
  /** The notification waiting to be sent: the chat's outbox (one at a time; later events join it). */
  pending?: PendingNotification;
  /** When the last notification was sent (ms since the epoch): the next waits PUSH_MIN_INTERVAL_MS after it. */
  sentAt?: number;
}

export interface PendingNotification {
  /** `<chat id>-<from>`: the same for every attempt, sent to the provider as the idempotency key. */
  id: string;
  /** The position of the first event it tells of; it tells of every notable event from there on. */
  from: number;
  /** When it is to be sent (next); while a node sends it, when that node's claim runs out. */
  dueAt: number;
  /** Attempts made so far. */
  attempts: number;
}

/** When a chat's customer counts as away and how notifications are spaced (settings PUSH_*). */
export interface PushRule {
  /** A polling customer silent, or a CometD customer without a client, this long is away (an app in the background at once). */
  awayMs: number;
  /** How long a first event waits for others to join its notification. */
  coalesceMs: number;
  /** The least time between two notifications of one chat. */
  minIntervalMs: number;
}

export interface ServiceSession {
  id: string;
  service: string;
  createdAt: number;
  lastActivity: number;
  /** The time to live in force at the last activity, in seconds. */
  ttl: number;
  expiresAt: number;
  gmsUser?: string;
  data: Record<string, string>;
  chat?: Chat;
}

/** A service's options as the domain needs them, read at the moment of use. */
export interface ServiceOptions {
  name: string;
  ttl: number;
  endpoint: string;
  enabled: boolean;
  maxMessageLength: number;
  disconnectedStatus: 200 | 400;
  /** Most chats the service holds at once; undefined for no cap. */
  maxChats?: number;
  /** What files may be sent in its chats; undefined: none. */
  fileTransfer?: FileLimits;
  /** When a chat whose customer is gone is warned, then ended (customer-idle.ts); undefined: never. */
  customerIdle?: CustomerIdleRule;
  /** agentTimeoutNotification: seconds a customer's message may wait for an answer before the agents are reminded. */
  agentReminderSeconds?: number;
}

/** The service options customerIdleWarning / customerIdleEnd. */
export interface CustomerIdleRule {
  warningSeconds: number;
  endSeconds: number;
}

export type ServiceLookup = (name: string) => ServiceOptions | undefined;

/** What happened to one chat in one committed update: the new events, in order. */
export interface ChatUpdate {
  serviceId: string;
  service: string;
  chatSessionId: string;
  gmsUser?: string;
  endpoint: string;
  notifyBy: 'comet' | 'poll';
  state: ChatState;
  startedAt: number;
  /** Agents in the chat after the update, plus any who left in it. */
  agentIds: string[];
  events: ChatEvent[];
}

/** Where committed chat events go (CometD, agents, other nodes). The domain knows nothing more. */
export interface ChatListener {
  chatUpdated(update: ChatUpdate): void;
}

/** Decides whether a chat may be routed to an endpoint (its queue is a set derived from the sessions). */
export interface ChatRouter {
  /** Throws ServiceUnavailable when the endpoint is unknown, closed or full. */
  admit(endpoint: string): Promise<void>;
}

export interface Clock {
  now(): number;
}
