// The chat domain's shell around the pure state machine (chat-machine.ts): it loads a session, applies a
// command to it, stores everything the change touches in one atomic write (session-records.ts), and
// then publishes the new events to a ChatListener. Service sessions, their time to live and what a
// customer is shown are kept here too. No HTTP, no CometD, no knowledge of which store is used.
// Stored sessions are shared snapshots (store.ts): the machine returns new objects, never changing them.

import { randomUUID } from 'node:crypto';
import { GatewayError } from '../errors.ts';
import type { Change, Store } from '../store/store.ts';
import type {
  Chat,
  ChatEvent,
  ChatListener,
  ChatRouter,
  ChatUpdate,
  Clock,
  PushRule,
  ServiceLookup,
  ServiceOptions,
  ServiceSession,
} from './types.ts';
import { ChatFiles } from './chat-files.ts';
import {
  apply,
  startedChat,
  type Command,
  type CustomerChange,
  type Effect,
  type Joiner,
  type Rules,
  type StartParams,
} from './chat-machine.ts';
import { ChatQuota, type Place } from './chat-quota.ts';
import { ClientCaps, type ClientLimits } from './client-caps.ts';
import {
  chatKey,
  cometSet,
  EXPIRY_SET,
  indexOps,
  placeIn,
  recordEventCount,
  sessionKey,
  SessionRecords,
} from './session-records.ts';
import { randomId } from './random-id.ts';
import { eventsAfter } from './transcript.ts';

export { NOTICE_TEXT, type CustomerChange, type Joiner, type StartParams } from './chat-machine.ts';

/** What a customer call returns: the session, its chat and the events to show (stored snapshots: read only). */
export interface ChatView {
  session: ServiceSession;
  chat: Chat;
  events: ChatEvent[];
  /** The number of the last event in the transcript. */
  position: number;
}

/** The commands an agent gives a chat: specific ones, each with its own rules (chat-machine.ts). */
export type AgentCommand = Extract<Command, { agentId: string }>;

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
  /** How long an expired session is kept so that the sweeper can end its chat and tell the agents. */
  expiryGraceMs?: number;
  /** Caps per client address (client-caps.ts); absent: none. */
  clientLimits?: ClientLimits;
  /** When push notifications are queued for absent customers (notify/outbox-rule.ts); absent: never. */
  push?: PushRule;
}

/** How long the store keeps an expired session by default, for the sweeper to end its chat and tell the agents. */
export const EXPIRY_GRACE_MS = 60_000;

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
  private readonly push: PushRule | undefined;
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
    this.graceMs = deps.expiryGraceMs ?? EXPIRY_GRACE_MS;
    this.push = deps.push;
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
  async createSession(
    service: ServiceOptions,
    data: Record<string, string>,
    gmsUser?: string,
    client?: string,
  ): Promise<ServiceSession> {
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
    // Its places first: the embedded store then writes the new record's row once, with them.
    await this.store.write([
      ...indexOps(undefined, session),
      { kind: 'set', key: sessionKey(session.id), value: session, ttlMs: this.storeTtl(service.ttl) },
    ]);
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
    return this.customer(id, gmsUser, async (session, now) => {
      if (session.chat) throw new GatewayError('ChatAlreadyStarted', 'The chat of this session was already started.');
      const endpoint = this.options(session).endpoint;
      await this.router.admit(endpoint);
      if (params.client !== undefined) await this.clientCaps.admitWaiting(params.client, session.id, now);
      const ids = { chatSessionId: randomId(), userId: randomId(), secureKey: randomId() };
      return { command: { kind: 'start', ids, endpoint, notifyBy, gmsUser, params }, from: 0 };
    });
  }

  send(id: string, gmsUser: string | undefined, message: string | undefined): Promise<ChatView> {
    return this.customer(id, gmsUser, () => ({ command: { kind: 'send', text: message } }));
  }

  refresh(id: string, gmsUser: string | undefined, position: number | undefined, message?: string): Promise<ChatView> {
    const sends = message !== undefined && message !== '';
    return this.customer(
      id,
      gmsUser,
      (session) => {
        const chat = startedChat(session);
        if (chat.state === 'ended' && this.options(session).disconnectedStatus === 400) {
          throw new GatewayError('ChatEnded', 'The chat has ended.');
        }
        const command: Command = sends ? { kind: 'send', text: message } : { kind: 'seen' };
        return { command, from: position, pollOnly: true };
      },
      !sends,
    );
  }

  /** A customer's call that only says they are there (Chat API v2's refresh and read receipt): answered as a poll. */
  seen(id: string, gmsUser: string | undefined): Promise<ChatView> {
    return this.customer(id, gmsUser, () => ({ command: { kind: 'seen' }, pollOnly: true }), true);
  }

  typing(id: string, gmsUser: string | undefined, started: boolean): Promise<ChatView> {
    return this.customer(id, gmsUser, () => ({ command: { kind: 'typing', started } }));
  }

  /** The customer leaves; leaving an ended chat again is harmless (a retried request). */
  disconnect(id: string, gmsUser: string | undefined, message?: string): Promise<ChatView> {
    return this.customer(id, gmsUser, () => ({ command: { kind: 'disconnect', text: message } }));
  }

  /**
   * A change of the customer's chat that a protocol adapter decides (Chat API v2: nickname, user data,
   * notices, files). `decide` sees the chat as it is inside the atomic change and may refuse by throwing;
   * it is handed ended chats too, so that a change that only reads (a refresh) still counts as activity.
   */
  customerChange(
    id: string,
    gmsUser: string | undefined,
    decide: (chat: Readonly<Chat>, now: number) => CustomerChange,
  ): Promise<ChatView> {
    return this.customer(id, gmsUser, (session, now) => {
      const change = decide(startedChat(session), now);
      const changes =
        change.nickname !== undefined ||
        change.userData !== undefined ||
        change.fileId !== undefined ||
        (change.events?.length ?? 0) > 0;
      return { command: { kind: 'customerChange', change }, pollOnly: !changes };
    });
  }

  /**
   * Stores a file's content for the session's chat, for two lifetimes of the session (the chat renews
   * it with its index); the chat holds it once a change names its id (CustomerChange.fileId, agentFile).
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
    return this.store.update<ServiceSession, void>(sessionKey(id), (record) => {
      if (!record?.chat || record.expiresAt <= this.clock.now()) return { result: undefined };
      const seen = Math.min(position, recordEventCount(record.chat));
      const chat: Chat = { ...record.chat, awayPosition: seen, clientPosition: seen };
      return { write: { ...record, chat }, ttlMs: this.storeTtl(record.ttl), result: undefined };
    });
  }

  /** Events the customer missed while away, for its new CometD session (spec §4); clears the away mark. */
  async comeBack(id: string): Promise<ChatView | undefined> {
    const session = await this.store.get<ServiceSession>(sessionKey(id));
    if (!session?.chat || (session.chat.awayPosition === undefined && session.chat.customerGoneAt === undefined))
      return undefined;
    return this.customer(id, session.gmsUser, (s) => {
      const chat = startedChat(s);
      return { command: { kind: 'customerBack' }, from: chat.awayPosition ?? chat.clientPosition, comeBack: true };
    });
  }

  /**
   * The last CometD client of the customer of this comet chat went (customer-idle.ts: their absence
   * counts from now), having been handed the chat's events up to `position` when that is known.
   */
  customerGone(id: string, position?: number): Promise<void> {
    return this.quiet(id, () => ({ kind: 'customerGone', ...(position === undefined ? {} : { position }) }));
  }

  /**
   * The sweep found this chat's customer gone long enough by the service's customerIdleWarning /
   * customerIdleEnd (found in `set`): the machine warns, or ends the chat, if that is still due under the lock.
   */
  async idle(id: string, set: string): Promise<void> {
    return this.sweepCommand(id, set, 'idle');
  }

  /** The sweep found this chat's customer waiting for an answer longer than agentTimeoutNotification (in `set`): the agents are reminded, if still due. */
  remind(id: string, set: string): Promise<void> {
    return this.sweepCommand(id, set, 'remind');
  }

  private async sweepCommand(id: string, set: string, kind: 'idle' | 'remind'): Promise<void> {
    try {
      await this.change(sessionKey(id), () => ({ command: { kind }, quiet: true, met: set, view: () => undefined }));
    } catch (err) {
      if (!(err instanceof GatewayError && err.exception === 'SessionNotFound')) throw err;
      // Gone with its store TTL while no node swept: nothing else takes it out of the set it was found in.
      await this.store.write([{ kind: 'remove', set, member: id, owner: sessionKey(id) }]);
    }
  }

  /** The service ids of a customer's comet-mode chats whose sessions are alive (ended chats included). */
  async cometChatsOf(gmsUser: string): Promise<string[]> {
    const live: string[] = [];
    for (const id of await this.store.members(cometSet(gmsUser))) {
      const session = await this.store.get<ServiceSession>(sessionKey(id));
      if (session?.chat?.notifyBy === 'comet' && session.gmsUser === gmsUser && session.expiresAt > this.clock.now())
        live.push(id);
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
    return this.agent(chatSessionId, { kind: 'accept', agent });
  }

  /** The agent leaves; the chat ends when no agent is left in it. Leaving a chat that ended just closes it for the agent. */
  leave(chatSessionId: string, agentId: string): Promise<Chat> {
    return this.agent(chatSessionId, { kind: 'leave', agentId });
  }

  /**
   * Another agent or a supervisor comes into a connected chat (a conference): invited by the agent `by`,
   * or a supervisor on their own (no `by`).
   */
  join(chatSessionId: string, by: string | undefined, agent: Joiner): Promise<Chat> {
    return this.agent(chatSessionId, { kind: 'join', agent, ...(by !== undefined ? { by } : {}) });
  }

  /** What an agent in the chat does: a message, typing, a URL, a notice, a file or its deletion, a whisper, a transfer. */
  agentCommand(chatSessionId: string, command: AgentCommand): Promise<Chat> {
    return this.agent(chatSessionId, command);
  }

  // ---- expiry (spec §3; the sweep that finds due sessions is in expiry.ts) ----

  /**
   * Ends and removes one session whose time to live has run out, with everything of it, in one write:
   * its chat ends for the agents and leaves its queue. False when the session is gone or had activity.
   */
  expire(id: string): Promise<boolean> {
    return this.store.update<ServiceSession, boolean>(sessionKey(id), async (record) => {
      const now = this.clock.now();
      // Whatever the expiry index said, it now says what the store holds: a session gone (its store TTL
      // ran out with no node sweeping) leaves it; one extended by a write that lost the index (never by
      // this version) is put back at its time.
      const owner = sessionKey(id);
      if (!record) return { result: false, also: [{ kind: 'remove', set: EXPIRY_SET, member: id, owner }] };
      if (record.expiresAt > now)
        return { result: false, also: [{ kind: 'add', set: EXPIRY_SET, member: id, score: record.expiresAt, owner }] };
      // A transcript whose chunks are lost still ends: its last event is then numbered from what is left.
      const stored = await this.records.assemble(record).catch(() => record);
      const outcome = apply(stored, { kind: 'expire' }, now, this.rules(stored));
      const chat = record.chat;
      const also = [...this.records.removal(record), ...this.files.removal(chat?.chatSessionId, chat?.fileIds)];
      return { remove: true, also, result: true, committed: this.publisher(outcome.session, outcome.events, outcome.effects) };
    });
  }

  // ---- keeping the sets derived from the sessions (the sweeper) ----

  /** Puts a chat in, or takes it out of, one of the sets derived from its session (a queue, a census set), as its session says, under its lock. */
  async repairMember(set: string, chatSessionId: string): Promise<void> {
    const serviceId = await this.store.get<string>(chatKey(chatSessionId));
    // The index is written with the chat's first membership and removed with its last: without it the chat is gone.
    if (!serviceId) return this.store.write([{ kind: 'remove', set, member: chatSessionId }]);
    await this.store.update<ServiceSession, void>(sessionKey(serviceId), (current) => {
      const mine = current?.chat?.chatSessionId === chatSessionId ? current : undefined;
      return { result: undefined, also: [placeIn(mine, set, chatSessionId, serviceId)] };
    });
  }

  // ---- the shell ----

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

  private rules(session: ServiceSession): Rules {
    const options = this.options(session);
    return {
      maxTranscriptEvents: this.limits.maxTranscriptEvents,
      maxMessageLength: options.maxMessageLength,
      ...(options.customerIdle ? { customerIdle: options.customerIdle } : {}),
      ...(options.agentReminderSeconds !== undefined ? { agentReminderSeconds: options.agentReminderSeconds } : {}),
      ...(this.push ? { push: this.push } : {}),
    };
  }

  private storeTtl(ttlSeconds: number): number {
    return ttlSeconds * 1000 + this.graceMs;
  }

  /**
   * A customer's change: their session (alive and theirs), and what they are shown from `from` on.
   * `poll`: a plain poll, whose `decide` only reads (see `change`).
   */
  private customer(
    id: string,
    gmsUser: string | undefined,
    decide: (session: ServiceSession, now: number) => CustomerStep | Promise<CustomerStep>,
    poll = false,
  ): Promise<ChatView> {
    return this.change(
      sessionKey(id),
      async (stored, now) => {
        checkOwner(stored, gmsUser);
        const step = await decide(stored, now);
        return {
          command: step.command,
          pollOnly: step.pollOnly,
          // The events the customer is shown; moves the chat's positions past them.
          view: (session) => {
            const chat = startedChat(session);
            const from = step.from ?? chat.clientPosition;
            if (step.comeBack) chat.awayPosition = undefined;
            chat.clientPosition = chat.events.length;
            return { session, chat, events: eventsAfter(chat, from), position: chat.events.length };
          },
        };
      },
      poll,
    );
  }

  /** A change no party made (presence, the sweep): nothing is written when the command changes nothing; gone sessions are skipped. */
  private async quiet(id: string, command: () => Command): Promise<void> {
    await this.change(sessionKey(id), () => ({ command: command(), quiet: true, view: () => undefined })).catch(
      (err: unknown) => {
        if (!(err instanceof GatewayError && err.exception === 'SessionNotFound')) throw err;
      },
    );
  }

  /** An agent's change of a chat, found by its id. */
  private async agent(chatSessionId: string, command: Command): Promise<Chat> {
    const serviceId = await this.store.get<string>(chatKey(chatSessionId));
    if (!serviceId) throw chatNotFound();
    return this.change(sessionKey(serviceId), (stored) => {
      if (stored.chat?.chatSessionId !== chatSessionId) throw chatNotFound();
      return { command, view: (session) => session.chat! };
    });
  }

  /**
   * One atomic change of a session: loads it whole, applies the command the caller decides on it,
   * extends its time to live, stores the session and everything the change touches in one write, and
   * (once stored, still under its lock) publishes the new events in order.
   *
   * `readFirst` (a poll, whose `decide` only reads): when this process holds the session in memory and
   * the poll would write nothing (nothing new, the stored expiry still within its slack), it is answered
   * from that snapshot without waiting for the session's lock, as if it came just before any change in
   * progress; anything else goes through the lock.
   */
  private async change<V>(
    key: string,
    decide: (stored: ServiceSession, now: number) => Step<V> | Promise<Step<V>>,
    readFirst = false,
  ): Promise<V> {
    const held = readFirst ? this.store.peek<ServiceSession>(key) : undefined;
    if (held && this.pollWritesNothing(held, this.clock.now())) {
      const change = await this.settle(held, decide);
      if (!('write' in change) && !('remove' in change) && !change.also && !change.committed) return change.result;
    }
    return this.store.update<ServiceSession, V>(key, (record) => this.settle(record, decide));
  }

  /** Whether a poll of this stored session now leaves its expiry as written (the cheap part of what `settle` checks). */
  private pollWritesNothing(stored: ServiceSession, now: number): boolean {
    const ttl = this.options(stored).ttl;
    return stored.expiresAt > now && withinPollSlack(stored.expiresAt, now + ttl * 1000, ttl);
  }

  /** What one change of a stored session decides: the updater of `change`, run under the session's lock. */
  private async settle<V>(
    record: ServiceSession | undefined,
    decide: (stored: ServiceSession, now: number) => Step<V> | Promise<Step<V>>,
  ): Promise<Change<ServiceSession, V>> {
    const now = this.clock.now();
    if (!record || record.expiresAt <= now) throw sessionNotFound();
    const stored = await this.records.assemble(record);
    const step = await decide(stored, now);
    const outcome = step.command
      ? apply(stored, step.command, now, this.rules(stored))
      : { session: stored, events: [], effects: [] };
    if (step.quiet && outcome.session === stored) {
      // Nothing was due: the sweep met the session early in a set kept as a lower bound; it goes back to its time.
      return { result: step.view(stored), ...(step.met ? { also: [placeIn(stored, step.met, stored.id, stored.id)] } : {}) };
    }
    // What the shell itself changes (positions, time to live) goes on a copy, never on `stored`.
    const session =
      outcome.session !== stored ? outcome.session : stored.chat ? { ...stored, chat: { ...stored.chat } } : { ...stored };
    const view = step.view(session);
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
      step.pollOnly &&
      outcome.session === stored &&
      chat?.clientPosition === stored.chat?.clientPosition &&
      chat?.awayPosition === stored.chat?.awayPosition &&
      ttl === stored.ttl &&
      withinPollSlack(stored.expiresAt, session.expiresAt, ttl)
    ) {
      return { result: view };
    }
    const indexBefore = chat?.indexExpiresAt;
    const written = this.records.write(stored, session, now, this.storeTtl(ttl));
    // The chat's files live as long as its index (renewed by records.write), like its transcript's chunks.
    if (chat?.fileIds?.length && chat.indexExpiresAt !== indexBefore) {
      written.ops.push(...(await this.files.renewal(chat.chatSessionId, chat.fileIds, chat.indexExpiresAt! - now)));
    }
    for (const effect of outcome.effects)
      if (effect.kind === 'deleteFiles') written.ops.push(...this.files.removal(chat?.chatSessionId, effect.fileIds));
    return {
      write: written.record,
      ttlMs: this.storeTtl(ttl),
      also: written.ops,
      result: view,
      committed: this.publisher(session, outcome.events, outcome.effects),
    };
  }

  /** Publishes a committed change's events to the listener, if the machine said so. */
  private publisher(session: ServiceSession, events: ChatEvent[], effects: Effect[]): (() => void) | undefined {
    const chat = session.chat;
    const publish = effects.find((e) => e.kind === 'publish');
    if (!chat || !publish) return undefined;
    return () => {
      const update: ChatUpdate = {
        serviceId: session.id,
        service: session.service,
        chatSessionId: chat.chatSessionId,
        endpoint: chat.endpoint,
        notifyBy: chat.notifyBy,
        state: chat.state,
        startedAt: chat.startedAt,
        agentIds: publish.agentIds,
        events,
        ...(session.gmsUser ? { gmsUser: session.gmsUser } : {}),
      };
      this.listener.chatUpdated(update);
    };
  }
}

/** What a change does: the command to apply (none for a plain read), and what its caller gets back. */
interface Step<V> {
  command?: Command;
  view: (session: ServiceSession) => V;
  /** A poll: nothing changes but the customer's position and the session's expiry. */
  pollOnly?: boolean;
  /** Not a party's call: a command that changes nothing writes nothing (nor extends the session). */
  quiet?: boolean;
  /** The sweep's set the session was found due in: if nothing changes, its place there is written as it stands. */
  met?: string;
}

interface CustomerStep {
  command?: Command;
  /** The position after which events are shown (the customer's own position when absent). */
  from?: number;
  pollOnly?: boolean;
  /** A CometD client of the customer came back: the away mark goes. */
  comeBack?: boolean;
}

/** A poll that moves nothing and extends the expiry by less than this (and 1% of the ttl) is not written back. */
const POLL_WRITE_SLACK_MS = 1000;

/** Whether a poll moving a session's expiry from `storedExpiresAt` to `expiresAt` may leave the stored one as it is. */
function withinPollSlack(storedExpiresAt: number, expiresAt: number, ttlSeconds: number): boolean {
  return expiresAt - storedExpiresAt < Math.min(POLL_WRITE_SLACK_MS, ttlSeconds * 10);
}

function checkOwner(session: ServiceSession, gmsUser: string | undefined): void {
  if (session.gmsUser !== undefined && session.gmsUser !== gmsUser) {
    throw new GatewayError('Forbidden', 'This session belongs to another gms_user.');
  }
}

function sessionNotFound(): GatewayError {
  return new GatewayError('SessionNotFound', 'No such service session: the id is unknown or the session has expired.');
}

function chatNotFound(): GatewayError {
  return new GatewayError('SessionNotFound', 'No such chat: the id is unknown or the chat has expired.');
}
