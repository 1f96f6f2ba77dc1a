// How a session is laid out in the store, everything one change of it writes, in one atomic write:
// - `session:<id>`: the session's record, holding its chat and the chat's latest events;
// - `transcript:<id>:<chunk id>`: older events, sealed CHUNK_EVENTS at a time into chunks written once
//   and never changed, so that writing a session costs the same whatever the length of its transcript;
// - `chat:<chat id>` → the session id: the agents' way in;
// - sets derived from the record, never written on their own: `queue:<endpoint>` holds the chats
//   waiting in it (by the time they were queued), `agent:<agent id>` the chats an agent is in, `comet:<gms_user>` a
//   customer's comet-mode sessions; `expiry` holds every session by its expiresAt (the sweep reads only
//   its due part); the census's sets: `connected` the chats with an agent, `service-waiting:<service>`
//   and `service-connected:<service>` a service's chats in each state (counted, never listed);
//   `endpoint-connected:<endpoint>` an endpoint's chats with an agent (its supervisors' list);
//   `away:<service>` the live chats whose customer is gone, by since when, and `warned:<service>` those
//   warned of it, by when (customer-idle.ts: the sweep reads only their due parts); `unanswered:<service>`
//   the connected chats whose customer waits for an answer, by since when (agent-reminder.ts);
//   `push-due` the sessions whose chat has a notification in its outbox, by when it is due (notify/).
// The domain sees whole sessions: `assemble` puts the sealed events back in front of the record's, and
// `writeOps` turns a change from one whole session to the next into the ops of its atomic write.

import { randomBytes } from 'node:crypto';
import { GatewayError } from '../errors.ts';
import type { Op, Store } from '../store/store.ts';
import { unansweredSince } from './agent-reminder.ts';
import { customerGoneSince } from './customer-idle.ts';
import type { Chat, ChatEvent, ServiceSession } from './types.ts';

/** Events per chunk: the record then holds fewer than this many events. */
export const CHUNK_EVENTS = 32;

export const sessionKey = (id: string): string => `session:${id}`;
export const chatKey = (chatSessionId: string): string => `chat:${chatSessionId}`;
const chunkKey = (sessionId: string, chunkId: string): string => `transcript:${sessionId}:${chunkId}`;
export const queueSet = (endpoint: string): string => `queue:${endpoint}`;
export const agentSet = (agentId: string): string => `agent:${agentId}`;
export const cometSet = (gmsUser: string): string => `comet:${gmsUser}`;
/** Every stored session, scored by when it expires. */
export const EXPIRY_SET = 'expiry';
/** Every chat with an agent in it. */
export const CONNECTED_SET = 'connected';
export const serviceWaitingSet = (service: string): string => `service-waiting:${service}`;
export const serviceConnectedSet = (service: string): string => `service-connected:${service}`;
/** An endpoint's chats with an agent in them (what its supervisors may listen in on). */
export const endpointConnectedSet = (endpoint: string): string => `endpoint-connected:${endpoint}`;
export const awaySet = (service: string): string => `away:${service}`;
export const warnedSet = (service: string): string => `warned:${service}`;
/** A service's connected chats whose customer waits for an answer, not yet reminded, by since when (agent-reminder.ts). */
export const unansweredSet = (service: string): string => `unanswered:${service}`;
/** Every session with a push notification to send, scored by when it is due. */
export const PUSH_DUE_SET = 'push-due';

/** The number of events in a chat given as its stored record (its sealed ones included). */
export function recordEventCount(chat: Chat): number {
  return (chat.chunks?.length ?? 0) * CHUNK_EVENTS + chat.events.length;
}

/** A session's record to write, and everything else its change writes with it. */
export interface SessionWrite {
  record: ServiceSession;
  ops: Op[];
}

export class SessionRecords {
  /**
   * The whole session last assembled or written for a record, by the record object itself: on a store
   * that hands out the stored objects (the embedded one), the next update of a hot session finds its
   * whole transcript here instead of reading its chunks again.
   */
  private readonly whole = new WeakMap<ServiceSession, ServiceSession>();

  constructor(private readonly store: Store) {}

  /** The whole session a stored record stands for (the record itself when nothing of it is sealed). */
  async assemble(record: ServiceSession): Promise<ServiceSession> {
    const chat = record.chat;
    if (!chat?.chunks?.length) return record;
    const known = this.whole.get(record);
    if (known) return known;
    const chunks = await Promise.all(chat.chunks.map((id) => this.store.get<ChatEvent[]>(chunkKey(record.id, id))));
    if (chunks.some((events) => events === undefined)) {
      throw new GatewayError(
        'ServiceUnavailable',
        'Part of the transcript of this chat could not be read from the session store.',
      );
    }
    const session: ServiceSession = {
      ...record,
      chat: { ...chat, events: [...(chunks as ChatEvent[][]).flat(), ...chat.events] },
    };
    this.whole.set(record, session);
    return session;
  }

  /**
   * The write that takes a session from `before` to the whole session `after` (an update's draft: its
   * chat's `chunks` and expiries are set here), or removes it (`after` undefined). Chunks and the chat
   * index outlive the record: they are kept for two of its lifetimes (`recordTtlMs`) at a time, and all
   * rewritten with a new expiry when that runs short.
   */
  write(before: ServiceSession | undefined, after: ServiceSession, now: number, recordTtlMs: number): SessionWrite {
    const ops = indexOps(before, after);
    const chat = after.chat;
    if (!chat) return { record: after, ops };
    if ((chat.indexExpiresAt ?? 0) < now + recordTtlMs) {
      chat.indexExpiresAt = now + 2 * recordTtlMs;
      ops.push({ kind: 'set', key: chatKey(chat.chatSessionId), value: after.id, ttlMs: 2 * recordTtlMs });
    }
    const sealed = chat.chunks ?? [];
    const full = Math.floor(chat.events.length / CHUNK_EVENTS);
    let expiresAt = chat.chunksExpireAt ?? 0;
    const renew = full > 0 && expiresAt < now + recordTtlMs;
    if (full > sealed.length || renew) {
      if (renew) expiresAt = now + 2 * recordTtlMs;
      const ids = [...sealed];
      // A new id for each chunk sealed: a write that loses the race for the session can only leave a
      // chunk no record names, never change one that a record names.
      while (ids.length < full) ids.push(`${ids.length}-${randomBytes(4).toString('hex')}`);
      ids.forEach((id, k) => {
        if (k >= sealed.length || renew) {
          const events = chat.events.slice(k * CHUNK_EVENTS, (k + 1) * CHUNK_EVENTS);
          ops.push({ kind: 'set', key: chunkKey(after.id, id), value: events, ttlMs: expiresAt - now });
        }
      });
      chat.chunks = ids;
      chat.chunksExpireAt = expiresAt;
    }
    const from = (chat.chunks?.length ?? 0) * CHUNK_EVENTS;
    const record = from === 0 ? after : { ...after, chat: { ...chat, events: chat.events.slice(from) } };
    this.whole.set(record, after);
    return { record, ops };
  }

  /** Everything to delete with a session's record: its chunks, its chat index, its places in sets. */
  removal(record: ServiceSession): Op[] {
    const chat = record.chat;
    if (!chat) return indexOps(record, undefined);
    return [
      ...indexOps(record, undefined),
      { kind: 'delete', key: chatKey(chat.chatSessionId) },
      ...(chat.chunks ?? []).map((id): Op => ({ kind: 'delete', key: chunkKey(record.id, id) })),
    ];
  }
}

/** The set members a session stands for: each derived from the record alone. */
interface Place {
  set: string;
  member: string;
  score: number;
  /**
   * The score is a time the sweep acts at, kept as a lower bound: written when the member comes in or
   * its time moves earlier, not each time it moves later (every activity moves a session's expiry and a
   * polling customer's presence). The sweep, meeting a member early, puts it back at its time.
   */
  early?: true;
}

function memberships(session: ServiceSession | undefined): Map<string, Place> {
  const places = new Map<string, Place>();
  if (!session) return places;
  const add = (set: string, member: string, score: number, early?: true): void =>
    void places.set(`${set}\n${member}`, { set, member, score, ...(early ? { early } : {}) });
  add(EXPIRY_SET, session.id, session.expiresAt, true);
  const chat = session.chat;
  if (!chat) return places;
  if (chat.state === 'waiting') {
    // A chat transferred back to a queue waits from then on.
    const since = chat.queuedAt ?? chat.startedAt;
    add(queueSet(chat.endpoint), chat.chatSessionId, since);
    add(serviceWaitingSet(session.service), chat.chatSessionId, since);
  } else if (chat.state === 'connected') {
    add(CONNECTED_SET, chat.chatSessionId, chat.startedAt);
    add(serviceConnectedSet(session.service), chat.chatSessionId, chat.startedAt);
    add(endpointConnectedSet(chat.endpoint), chat.chatSessionId, chat.startedAt);
  }
  for (const agent of chat.agents) add(agentSet(agent.id), chat.chatSessionId, agent.joinedAt);
  if (chat.push?.pending) add(PUSH_DUE_SET, session.id, chat.push.pending.dueAt);
  if (chat.state === 'ended') return places;
  if (chat.idleWarnedAt !== undefined) add(warnedSet(session.service), session.id, chat.idleWarnedAt);
  else {
    const since = customerGoneSince(chat);
    if (since !== undefined) add(awaySet(session.service), session.id, since, true);
  }
  const unanswered = unansweredSince(chat);
  if (unanswered !== undefined) add(unansweredSet(session.service), session.id, unanswered);
  if (chat.notifyBy === 'comet' && session.gmsUser) add(cometSet(session.gmsUser), session.id, chat.startedAt);
  return places;
}

/** The place a session stands for in one set, if it has one there. */
export function membership(session: ServiceSession | undefined, set: string, member: string): { score: number } | undefined {
  return memberships(session).get(`${set}\n${member}`);
}

/** The set ops that take the indices from what `before` stood for to what `after` stands for (the same session). */
export function indexOps(before: ServiceSession | undefined, after: ServiceSession | undefined): Op[] {
  const session = after ?? before;
  if (!session) return [];
  const owner = sessionKey(session.id);
  const was = memberships(before);
  const is = memberships(after);
  const ops: Op[] = [];
  for (const [id, place] of was) if (!is.has(id)) ops.push({ kind: 'remove', set: place.set, member: place.member, owner });
  // A member whose score changed is added again, unless its score is a lower bound that only moved later.
  for (const [id, place] of is) {
    const before = was.get(id)?.score;
    if (before === place.score || (place.early && before !== undefined && before < place.score)) continue;
    ops.push({ kind: 'add', set: place.set, member: place.member, score: place.score, owner });
  }
  return ops;
}

/**
 * The op that puts `member` where `session` says it stands in `set` (at its score, or out of the set);
 * `sessionId`: the session whose place it is (the one stored at that id, whether or not it is `session`).
 */
export function placeIn(session: ServiceSession | undefined, set: string, member: string, sessionId: string): Op {
  const place = membership(session, set, member);
  const owner = sessionKey(sessionId);
  return place ? { kind: 'add', set, member, score: place.score, owner } : { kind: 'remove', set, member, owner };
}
