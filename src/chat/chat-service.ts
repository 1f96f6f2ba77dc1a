// The chat domain: service sessions, the chat state machine (waiting → connected → ended, or expired)
// and its transcript. Every change to a session is one atomic store update; committed events go to a
// ChatListener. No HTTP, no CometD, no knowledge of which store is behind the interface.
// Stored sessions are shared snapshots (store.ts): a change works on a draft, a shallow copy of the
// session and its chat, whose `events` and `agents` arrays are copied before they grow or shrink;
// events themselves never change once appended, so every version of a transcript shares them.

import { randomBytes, randomUUID } from 'node:crypto';
import { GatewayError } from '../errors.ts';
import type { Op, Store } from '../store/store.ts';
import type {
  Chat,
  ChatAgent,
  ChatEvent,
  ChatListener,
  ChatRouter,
  ChatUpdate,
  Clock,
  EventType,
  PartyType,
  ServiceLookup,
  ServiceOptions,
  ServiceSession,
} from './types.ts';
import { ChatFiles } from './chat-files.ts';
import { ChatQuota, type Place } from './chat-quota.ts';
import { ClientCaps, type ClientLimits } from './client-caps.ts';
import { chatKey, cometSet, indexOps, queueSet, recordEventCount, sessionKey, SessionRecords } from './session-records.ts';
import { eventsAfter } from './transcript.ts';

export const NOTICE_TEXT = {
  joined: 'has joined the session',
  left: 'has left the session',
  typingStarted: 'is typing',
  typingStopped: 'stopped typing',
} as const;

/** What a customer call returns: the session, its chat and the events to show (stored snapshots: read only). */
export interface ChatView {
  session: ServiceSession;
  chat: Chat;
  events: ChatEvent[];
  /** The number of the last event in the transcript. */
  position: number;
}

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
}

/** What a customer's change does to their live chat (decided by a protocol adapter's rule, inside the change). */
export interface CustomerChange {
  /** The customer's new nickname; their later events carry it. */
  nickname?: string;
  /** Keys added to (or replacing those of) the chat's user data. */
  userData?: Record<string, string>;
  /** Events from the customer, in order. */
  events?: { type: EventType; text: string; data?: Record<string, string> }[];
  /** A file stored for this chat (ChatFiles.put) that the chat holds from now on. */
  fileId?: string;
}

export interface Limits {
  /** Most events one chat may hold; more are refused, never dropped. */
  maxTranscriptEvents: number;
}

export interface ChatDomainDeps {
  store: Store;
  services: ServiceLookup;
  router: ChatRouter;
  listener: ChatListener;
  clock: Clock;
  limits?: Partial<Limits>;
  /** Caps per client address (client-caps.ts); absent: none. */
  clientLimits?: ClientLimits;
  /** How long an expired session is kept so that the sweeper can end its chat and tell the agents. */
  expiryGraceMs?: number;
}

/** Parses a `transcriptPosition` parameter: a whole number ≥ 0, or absent. */
export function parsePosition(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d{1,15}$/.test(raw)) {
    throw new GatewayError('InvalidParameter', 'transcriptPosition must be a whole number of 0 or more.');
  }
  return Number(raw);
}

export class ChatDomain {
  private readonly store: Store;
  private readonly services: ServiceLookup;
  private readonly router: ChatRouter;
  private readonly listener: ChatListener;
  private readonly clock: Clock;
  private readonly limits: Limits;
  private readonly graceMs: number;
  private readonly quota: ChatQuota;
  private readonly clientCaps: ClientCaps;
  /** Sessions as stored: a record and the sealed chunks of its transcript (session-records.ts). */
  private readonly records: SessionRecords;
  /** The content of the files sent in chats, kept and removed with them. */
  readonly files: ChatFiles;

  constructor(deps: ChatDomainDeps) {
    this.store = deps.store;
    this.services = deps.services;
    this.router = deps.router;
    this.listener = deps.listener;
    this.clock = deps.clock;
    this.limits = { maxTranscriptEvents: 10_000, ...deps.limits };
    this.graceMs = deps.expiryGraceMs ?? 60_000;
    this.records = new SessionRecords(this.store);
    this.files = new ChatFiles(this.store);
    this.quota = new ChatQuota(this.store, async (id) => {
      const session = await this.store.get<ServiceSession>(sessionKey(id));
      if (!session) return 'absent';
      return session.expiresAt > this.clock.now() && session.chat?.state !== 'ended' ? 'held' : 'freed';
    });
    this.clientCaps = new ClientCaps(this.store, deps.clientLimits ?? { sessions: 0, waiting: 0 }, {
      session: (id) => this.placeOf(id, (chat) => chat?.state !== 'ended'),
      waiting: (id) => this.placeOf(id, (chat) => (chat ? chat.state === 'waiting' : undefined)),
    });
  }

  /** Where a session stands for a cap: `holds` says whether its chat counts (undefined: not yet known). */
  private async placeOf(id: string, holds: (chat: Chat | undefined) => boolean | undefined): Promise<Place> {
    const session = await this.store.get<ServiceSession>(sessionKey(id));
    if (!session) return 'absent';
    if (session.expiresAt <= this.clock.now()) return 'freed';
    const held = holds(session.chat);
    return held === undefined ? 'absent' : held ? 'held' : 'freed';
  }

  // ---- service sessions (spec §1) ----

  /** `client`: the address asking, counted against MAX_SESSIONS_PER_ADDRESS (none: not counted). */
  async createSession(service: ServiceOptions, data: Record<string, string>, gmsUser?: string, client?: string): Promise<ServiceSession> {
    if (!service.enabled) {
      throw new GatewayError('ServiceUnavailable', `Service '${service.name}' is disabled and takes no new chats.`);
    }
    await this.router.admit(service.endpoint);
    const now = this.clock.now();
    const id = randomUUID();
    if (client !== undefined) await this.clientCaps.admitSession(client, id, now);
    if (service.maxChats !== undefined) await this.quota.admit(service.name, service.maxChats, id, now);
    const session: ServiceSession = {
      id,
      service: service.name,
      createdAt: now,
      lastActivity: now,
      ttl: service.ttl,
      expiresAt: now + service.ttl * 1000,
      data,
      ...(gmsUser ? { gmsUser } : {}),
    };
    await this.store.set(sessionKey(session.id), session, this.storeTtl(service.ttl));
    return session;
  }

  async getSession(id: string, gmsUser: string | undefined): Promise<ServiceSession> {
    const record = await this.store.get<ServiceSession>(sessionKey(id));
    if (!record || record.expiresAt <= this.clock.now()) throw sessionNotFound();
    checkOwner(record, gmsUser);
    return this.records.assemble(record);
  }

  // ---- the customer's chat (spec §2) ----

  async startChat(id: string, gmsUser: string | undefined, params: StartParams): Promise<ChatView> {
    const notifyBy = params.notifyBy === 'comet' ? 'comet' : 'poll';
    if (notifyBy === 'comet' && !gmsUser) {
      throw new GatewayError('InvalidParameter', 'notify_by=comet needs the gms_user header that the CometD client uses.');
    }
    return this.mutate(id, gmsUser, async (session, now, add) => {
      if (session.chat) throw new GatewayError('ChatAlreadyStarted', 'The chat of this session was already started.');
      const endpoint = this.options(session).endpoint;
      await this.router.admit(endpoint);
      if (params.client !== undefined) await this.clientCaps.admitWaiting(params.client, session.id, now);
      if (gmsUser && !session.gmsUser) session.gmsUser = gmsUser;
      const nickname = customerNickname(params);
      const chat: Chat = {
        chatSessionId: randomId(),
        state: 'waiting',
        startedAt: now,
        endpoint,
        notifyBy,
        userId: randomId(),
        secureKey: randomId(),
        customer: {
          nickname,
          ...definedOnly({ firstName: params.firstName, lastName: params.lastName, email: params.email, subject: params.subject }),
          // The business data given at session creation is attached to the interaction (spec §1);
          // a key given again at start wins.
          userData: { ...session.data, ...params.userData },
        },
        agents: [],
        events: [],
        clientPosition: 0,
      };
      session.chat = chat;
      add(chat, 'Notice.Joined', nickname, NOTICE_TEXT.joined, 'CLIENT');
      return { view: this.customerView(session, chat, 0) };
    });
  }

  send(id: string, gmsUser: string | undefined, message: string | undefined): Promise<ChatView> {
    return this.mutate(id, gmsUser, (session, _now, add) => {
      const chat = liveChat(session);
      const text = this.checkMessage(session, message);
      add(chat, 'Message.Text', chat.customer.nickname, text, 'CLIENT');
      return { view: this.customerView(session, chat, undefined) };
    });
  }

  refresh(id: string, gmsUser: string | undefined, position: number | undefined, message?: string): Promise<ChatView> {
    return this.mutate(id, gmsUser, (session, _now, add) => {
      const chat = startedChat(session);
      if (chat.state === 'ended' && this.options(session).disconnectedStatus === 400) {
        throw new GatewayError('ChatEnded', 'The chat has ended.');
      }
      if (message !== undefined && message !== '') {
        liveChat(session);
        add(chat, 'Message.Text', chat.customer.nickname, this.checkMessage(session, message), 'CLIENT');
      }
      return { view: this.customerView(session, chat, position), pollOnly: true };
    });
  }

  typing(id: string, gmsUser: string | undefined, started: boolean): Promise<ChatView> {
    return this.mutate(id, gmsUser, (session, _now, add) => {
      const chat = liveChat(session);
      add(
        chat,
        started ? 'Notice.TypingStarted' : 'Notice.TypingStopped',
        chat.customer.nickname,
        started ? NOTICE_TEXT.typingStarted : NOTICE_TEXT.typingStopped,
        'CLIENT',
      );
      return { view: this.customerView(session, chat, undefined) };
    });
  }

  /** The customer leaves; leaving an ended chat again is harmless (a retried request). */
  disconnect(id: string, gmsUser: string | undefined, message?: string): Promise<ChatView> {
    return this.mutate(id, gmsUser, (session, now, add) => {
      const chat = startedChat(session);
      if (chat.state === 'ended') return { view: this.customerView(session, chat, undefined) };
      if (message !== undefined && message !== '') {
        add(chat, 'Message.Text', chat.customer.nickname, this.checkMessage(session, message), 'CLIENT');
      }
      add(chat, 'Notice.Left', chat.customer.nickname, NOTICE_TEXT.left, 'CLIENT');
      endChat(chat, now);
      return { view: this.customerView(session, chat, undefined) };
    });
  }

  /**
   * A change of the customer's chat that a protocol adapter decides (Chat API v2: nickname, user data,
   * notices, files). `decide` sees the chat as it is inside the atomic change and may refuse by throwing;
   * it is handed ended chats too, so that a change that only reads (a refresh) still counts as activity.
   */
  customerChange(id: string, gmsUser: string | undefined, decide: (chat: Readonly<Chat>, now: number) => CustomerChange): Promise<ChatView> {
    return this.mutate(id, gmsUser, (session, now, add) => {
      const chat = startedChat(session);
      const change = decide(chat, now);
      const changes = change.nickname !== undefined || change.userData !== undefined || change.fileId !== undefined || (change.events?.length ?? 0) > 0;
      if (changes && chat.state === 'ended') throw new GatewayError('ChatEnded', 'The chat has ended.');
      if (change.nickname !== undefined) chat.customer = { ...chat.customer, nickname: change.nickname };
      if (change.userData) chat.customer = { ...chat.customer, userData: { ...chat.customer.userData, ...change.userData } };
      if (change.fileId) chat.fileIds = [...(chat.fileIds ?? []), change.fileId];
      for (const e of change.events ?? []) add(chat, e.type, chat.customer.nickname, e.text, 'CLIENT', undefined, e.data);
      return { view: this.customerView(session, chat, undefined), pollOnly: !changes };
    });
  }

  /**
   * Stores a file's content for the session's chat, for two lifetimes of the session (the chat renews
   * it with its index); the chat holds it once a change names its id (CustomerChange.fileId, agentEvent).
   */
  putFile(session: ServiceSession, file: { name: string; type: string; content: Buffer }): Promise<string> {
    return this.files.put(startedChat(session).chatSessionId, file, 2 * this.storeTtl(session.ttl));
  }

  /**
   * The customer's CometD client went to the background having seen events up to `position`: that is
   * now the position it was given (a refresh without one answers what follows it), and the mark stays
   * until a CometD client of the customer comes back (README "Background and return").
   */
  markAway(id: string, position: number): Promise<void> {
    return this.store.update<ServiceSession, void>(sessionKey(id), (session) => {
      if (!session?.chat || session.expiresAt <= this.clock.now()) return { result: undefined };
      const seen = Math.min(position, recordEventCount(session.chat));
      const chat: Chat = { ...session.chat, awayPosition: seen, clientPosition: seen };
      return { write: { ...session, chat }, ttlMs: this.storeTtl(session.ttl), result: undefined };
    });
  }

  /** Events the customer missed while away, for its new CometD session (spec §4); clears the away mark. */
  async comeBack(id: string): Promise<ChatView | undefined> {
    const session = await this.store.get<ServiceSession>(sessionKey(id));
    if (!session?.chat || session.chat.awayPosition === undefined) return undefined;
    return this.mutate(id, session.gmsUser, (s) => {
      const chat = startedChat(s);
      const from = chat.awayPosition ?? chat.clientPosition;
      chat.awayPosition = undefined;
      return { view: this.customerView(s, chat, from) };
    });
  }

  /** The service ids of a customer's comet-mode chats whose sessions are alive (ended chats included). */
  async cometChatsOf(gmsUser: string): Promise<string[]> {
    const live: string[] = [];
    for (const id of await this.store.members(cometSet(gmsUser))) {
      const session = await this.store.get<ServiceSession>(sessionKey(id));
      if (session?.chat?.notifyBy === 'comet' && session.gmsUser === gmsUser && session.expiresAt > this.clock.now()) live.push(id);
    }
    return live;
  }

  // ---- the agent side (agent-api.md) ----

  /** The chat and its session as stored (shared snapshots: read only). */
  async findChat(chatSessionId: string): Promise<{ session: ServiceSession; chat: Chat } | undefined> {
    const serviceId = await this.store.get<string>(chatKey(chatSessionId));
    if (!serviceId) return undefined;
    const record = await this.store.get<ServiceSession>(sessionKey(serviceId));
    if (!record?.chat || record.chat.chatSessionId !== chatSessionId || record.expiresAt <= this.clock.now()) return undefined;
    const session = await this.records.assemble(record);
    return { session, chat: session.chat! };
  }

  /** The agent joins a waiting chat; of several agents racing, exactly one wins. */
  accept(chatSessionId: string, agent: { id: string; nickname: string }): Promise<Chat> {
    return this.mutateChat(chatSessionId, (session, chat, now, add) => {
      if (chat.state === 'ended') throw new GatewayError('ChatEnded', 'The chat has ended.');
      if (chat.agents.some((a) => a.id === agent.id)) return { chat };
      if (chat.state !== 'waiting') throw new GatewayError('Conflict', 'Another agent has already accepted this chat.');
      const member: ChatAgent = { id: agent.id, nickname: agent.nickname, joinedAt: now };
      chat.agents = [...chat.agents, member];
      chat.state = 'connected';
      add(chat, 'Notice.Joined', agent.nickname, NOTICE_TEXT.joined, 'AGENT', agent.id);
      return { chat };
    });
  }

  /**
   * An event from an agent who is in the chat: a message, typing, a URL, a custom notice or a file.
   * `check` may refuse it from the chat as it is inside the change (file limits); `fileId` names a file
   * stored for this chat (ChatFiles.put) that the chat holds from now on.
   */
  agentEvent(
    chatSessionId: string,
    agentId: string,
    type: EventType,
    text: string,
    extra: { data?: Record<string, string>; fileId?: string; check?: (chat: Readonly<Chat>) => void } = {},
  ): Promise<Chat> {
    return this.mutateChat(chatSessionId, (_session, chat, _now, add) => {
      const agent = agentInChat(chat, agentId);
      extra.check?.(chat);
      if (extra.fileId) chat.fileIds = [...(chat.fileIds ?? []), extra.fileId];
      add(chat, type, agent.nickname, text, 'AGENT', agent.id, extra.data);
      return { chat };
    });
  }

  /** The agent leaves; the chat ends when no agent is left in it. Leaving a chat that ended just closes it for the agent. */
  leave(chatSessionId: string, agentId: string): Promise<Chat> {
    return this.mutateChat(chatSessionId, (_session, chat, now, add) => {
      if (chat.state === 'ended') {
        if (!chat.agents.some((a) => a.id === agentId)) throw new GatewayError('ChatEnded', 'The chat has ended.');
        chat.agents = chat.agents.filter((a) => a.id !== agentId);
        return { chat };
      }
      const agent = agentInChat(chat, agentId);
      add(chat, 'Notice.Left', agent.nickname, NOTICE_TEXT.left, 'AGENT', agent.id);
      chat.agents = chat.agents.filter((a) => a.id !== agentId);
      if (chat.agents.length === 0) endChat(chat, now);
      return { chat, leftAgentIds: [agent.id] };
    });
  }

  // ---- expiry (spec §3; the sweep that finds due sessions is in expiry.ts) ----

  /**
   * Ends and removes one session whose time to live has run out: its chat ends for the agents and
   * leaves its queue. False when the session is gone or had activity meanwhile.
   */
  expire(id: string): Promise<boolean> {
    return this.store.update<ServiceSession, boolean>(sessionKey(id), (current) => {
      const now = this.clock.now();
      if (!current || current.expiresAt > now) return { result: false };
      const chat = current.chat;
      const also = [...this.records.removal(current), ...this.files.removal(chat?.chatSessionId, chat?.fileIds)];
      if (!chat || chat.state === 'ended') return { remove: true, also, result: true };
      const agentIds = chat.agents.map((a) => a.id);
      const left = newEvent(recordEventCount(chat) + 1, 'Notice.Left', chat.customer.nickname, NOTICE_TEXT.left, 'CLIENT', now);
      // What the agents are told the chat became; the session itself is removed.
      const ended: Chat = { ...chat, state: 'ended', endedAt: now };
      return { remove: true, also, result: true, committed: () => this.publish(current, ended, [left], agentIds) };
    });
  }

  // ---- keeping the sets derived from the sessions (the sweeper, and a store written by an earlier version) ----

  /** Puts a chat in, or takes it out of, an endpoint's queue as its session says, under the session's lock. */
  async requeue(endpoint: string, chatSessionId: string): Promise<void> {
    const place: Op = { kind: 'add', set: queueSet(endpoint), member: chatSessionId, score: 0 };
    const serviceId = await this.store.get<string>(chatKey(chatSessionId));
    // The index is written with the chat's first membership and removed with its last: without it the chat is gone.
    if (!serviceId) return this.store.write([{ kind: 'remove', set: place.set, member: chatSessionId }]);
    await this.store.update<ServiceSession, void>(sessionKey(serviceId), (current) => {
      const chat = current?.chat;
      const waiting = chat?.chatSessionId === chatSessionId && chat.state === 'waiting' && chat.endpoint === endpoint;
      const also: Op[] = [waiting ? { ...place, score: chat.startedAt } : { kind: 'remove', set: place.set, member: chatSessionId }];
      return { result: undefined, also };
    });
  }

  /** Adds every set membership a stored session stands for (a session stored before the sets existed). */
  reindex(id: string): Promise<void> {
    return this.store.update<ServiceSession, void>(sessionKey(id), (current) => ({ result: undefined, also: indexOps(undefined, current) }));
  }

  // ---- internals ----

  private options(session: ServiceSession): ServiceOptions {
    // A session outlives edits of its service file, and even its deletion: the last known values serve.
    return (
      this.services(session.service) ?? {
        name: session.service,
        ttl: session.ttl,
        endpoint: session.chat?.endpoint ?? 'gms_builtin',
        enabled: true,
        maxMessageLength: 4096,
        disconnectedStatus: 200,
      }
    );
  }

  private storeTtl(ttlSeconds: number): number {
    return ttlSeconds * 1000 + this.graceMs;
  }

  private checkMessage(session: ServiceSession, message: string | undefined): string {
    if (message === undefined || message.trim() === '') {
      throw new GatewayError('InvalidParameter', "The parameter 'message' is required and must not be empty.");
    }
    const max = this.options(session).maxMessageLength;
    if ([...message].length > max) {
      throw new GatewayError('InvalidParameter', `The message is longer than ${max} characters.`);
    }
    return message;
  }

  /** The events the customer is shown; moves the draft `chat`'s positions past them. */
  private customerView(session: ServiceSession, chat: Chat, position: number | undefined): ChatView {
    const from = position ?? chat.clientPosition;
    const last = chat.events.length;
    chat.clientPosition = last;
    return { session, chat, events: eventsAfter(chat, from), position: last };
  }

  /**
   * One atomic change of a customer's session: checks it is alive and theirs, lets `fn` change it and
   * add events, refreshes its time to live, stores it, then publishes the new events in order.
   */
  private mutate(
    id: string,
    gmsUser: string | undefined,
    fn: (session: ServiceSession, now: number, add: AddEvent) => MutationResult<ChatView> | Promise<MutationResult<ChatView>>,
  ): Promise<ChatView> {
    return this.change(sessionKey(id), async (session, now, add) => {
      checkOwner(session, gmsUser);
      return fn(session, now, add);
    });
  }

  private async mutateChat(
    chatSessionId: string,
    fn: (session: ServiceSession, chat: Chat, now: number, add: AddEvent) => Omit<MutationResult<Chat>, 'view'> & { chat: Chat },
  ): Promise<Chat> {
    const serviceId = await this.store.get<string>(chatKey(chatSessionId));
    if (!serviceId) throw chatNotFound();
    return this.change(sessionKey(serviceId), (session, now, add) => {
      if (session.chat?.chatSessionId !== chatSessionId) throw chatNotFound();
      const { chat, leftAgentIds } = fn(session, session.chat, now, add);
      return { view: chat, leftAgentIds };
    });
  }

  private async change<V>(
    key: string,
    fn: (session: ServiceSession, now: number, add: AddEvent) => MutationResult<V> | Promise<MutationResult<V>>,
  ): Promise<V> {
    return this.store.update<ServiceSession, V>(key, async (record) => {
      const now = this.clock.now();
      if (!record || record.expiresAt <= now) throw sessionNotFound();
      const stored = await this.records.assemble(record);
      // `fn` changes a draft: whatever it does before it throws, or if the write fails, `stored` is as it was.
      const session: ServiceSession = stored.chat ? { ...stored, chat: { ...stored.chat } } : { ...stored };
      const added: ChatEvent[] = [];
      /** The events array this update copied; later events of the same update are pushed onto it. */
      let ownEvents: ChatEvent[] | undefined;
      const add: AddEvent = (chat, type, nickname, text, partyType, agentId, data) => {
        // Leaving is always possible, so that a full chat can still end.
        if (chat.events.length >= this.limits.maxTranscriptEvents && type !== 'Notice.Left') {
          throw new GatewayError('InvalidParameter', `The chat has reached its limit of ${this.limits.maxTranscriptEvents} events; nothing more can be added to it.`);
        }
        if (chat.events !== ownEvents) ownEvents = chat.events = chat.events.slice();
        const event = newEvent(ownEvents.length + 1, type, nickname, text, partyType, now, agentId, data);
        ownEvents.push(event);
        added.push(event);
      };
      const outcome = await fn(session, now, add);
      // A comet chat's new events are pushed as they commit: they count as given to the customer, unless
      // its app is in the background, where the away mark holds its place (README "Background and return").
      if (session.chat?.notifyBy === 'comet' && session.chat.awayPosition === undefined && added.length > 0) {
        session.chat.clientPosition = session.chat.events.length;
      }
      // Activity extends the session by the service's ttl in force now (spec §3).
      const ttl = this.options(session).ttl;
      session.ttl = ttl;
      session.lastActivity = now;
      session.expiresAt = now + ttl * 1000;
      const chat = session.chat;
      if (
        // The agents' way in (chat id → session) must live as long as the session (records.write renews it).
        (chat?.indexExpiresAt ?? Infinity) >= now + this.storeTtl(ttl) &&
        // The busiest call, a poll with nothing new, costs no write: the stored expiry then lags the last
        // poll by less than a second (or 1% of the ttl).
        outcome.pollOnly &&
        added.length === 0 &&
        chat?.clientPosition === stored.chat?.clientPosition &&
        chat?.awayPosition === stored.chat?.awayPosition &&
        ttl === stored.ttl &&
        session.expiresAt - stored.expiresAt < Math.min(POLL_WRITE_SLACK_MS, ttl * 10)
      ) {
        return { result: outcome.view };
      }
      const agentIds = [...(chat?.agents.map((a) => a.id) ?? []), ...(outcome.leftAgentIds ?? [])];
      const indexBefore = chat?.indexExpiresAt;
      const written = this.records.write(stored, session, now, this.storeTtl(ttl));
      // The chat's files live as long as its index (renewed by records.write), like its transcript's chunks.
      if (chat?.fileIds?.length && chat.indexExpiresAt !== indexBefore) {
        written.ops.push(...(await this.files.renewal(chat.chatSessionId, chat.fileIds, chat.indexExpiresAt! - now)));
      }
      return {
        write: written.record,
        ttlMs: this.storeTtl(ttl),
        also: written.ops,
        result: outcome.view,
        committed: chat && added.length > 0 ? () => this.publish(session, chat, added, agentIds) : undefined,
      };
    });
  }

  private publish(session: ServiceSession, chat: Chat, events: ChatEvent[], agentIds: string[]): void {
    const update: ChatUpdate = {
      serviceId: session.id,
      service: session.service,
      chatSessionId: chat.chatSessionId,
      endpoint: chat.endpoint,
      notifyBy: chat.notifyBy,
      state: chat.state,
      startedAt: chat.startedAt,
      agentIds,
      events,
      ...(session.gmsUser ? { gmsUser: session.gmsUser } : {}),
    };
    this.listener.chatUpdated(update);
  }
}

/** Appends an event to `chat`, which must be the update's draft chat (never a stored one). */
type AddEvent = (
  chat: Chat,
  type: EventType,
  nickname: string,
  text: string,
  partyType: PartyType,
  agentId?: string,
  data?: Record<string, string>,
) => void;

interface MutationResult<V> {
  view: V;
  leftAgentIds?: string[];
  /** A poll: nothing changes but the customer's position and the session's expiry. */
  pollOnly?: boolean;
}

/** A poll that moves nothing and extends the expiry by less than this (and 1% of the ttl) is not written back. */
const POLL_WRITE_SLACK_MS = 1000;

function newEvent(
  position: number,
  type: EventType,
  nickname: string,
  text: string,
  partyType: PartyType,
  at: number,
  agentId?: string,
  data?: Record<string, string>,
): ChatEvent {
  return { position, type, nickname, text, at, partyType, ...(agentId ? { agentId } : {}), ...(data ? { data } : {}) };
}

function endChat(chat: Chat, now: number): void {
  chat.state = 'ended';
  chat.endedAt = now;
}

function startedChat(session: ServiceSession): Chat {
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

function checkOwner(session: ServiceSession, gmsUser: string | undefined): void {
  if (session.gmsUser !== undefined && session.gmsUser !== gmsUser) {
    throw new GatewayError('Forbidden', 'This session belongs to another gms_user.');
  }
}

function customerNickname(params: StartParams): string {
  const display = params.userDisplayName?.trim();
  if (display) return display;
  const full = [params.firstName?.trim(), params.lastName?.trim()].filter(Boolean).join(' ');
  return full || 'Customer';
}

function definedOnly(values: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter((e): e is [string, string] => e[1] !== undefined));
}

/** 16 characters from a cryptographic source: chat ids, user ids and secure keys. */
function randomId(): string {
  return randomBytes(8).toString('hex').toUpperCase();
}

function sessionNotFound(): GatewayError {
  return new GatewayError('SessionNotFound', 'No such service session: the id is unknown or the session has expired.');
}

function chatNotFound(): GatewayError {
  return new GatewayError('SessionNotFound', 'No such chat: the id is unknown or the chat has expired.');
}
