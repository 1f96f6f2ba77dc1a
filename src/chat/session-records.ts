// How a session is laid out in the store, so that writing it costs the same whatever the length of its
// transcript. The session's record (`session:<id>`) holds the chat and its latest events; the older ones
// are sealed, CHUNK_EVENTS at a time, into chunk records (`transcript:<id>:<chunk id>`) that are written
// once and never changed. Without this every message rewrote the whole transcript: on the SQLite file a
// send cost 0.23 ms of CPU at 20 events, 0.39 ms at 200 and 1.4 ms at 1,000.
// The domain sees whole sessions: `assemble` puts the sealed events back in front of the record's, and
// `seal` turns a whole session into the record to write, writing its newly full chunks first. A chunk's
// id is new each time one is sealed, so a write that loses the race for the session (a node whose lock
// ran out) can only leave a chunk that no record names, never change one that a record names.

import { randomBytes } from 'node:crypto';
import { GatewayError } from '../errors.ts';
import type { Store } from '../store/store.ts';
import type { Chat, ChatEvent, ServiceSession } from './types.ts';

/** Events per chunk: the record then holds fewer than this many events. */
export const CHUNK_EVENTS = 32;

const chunkKey = (sessionId: string, chunkId: string): string => `transcript:${sessionId}:${chunkId}`;

/** The number of events in a chat given as its stored record (its sealed ones included). */
export function recordEventCount(chat: Chat): number {
  return (chat.chunks?.length ?? 0) * CHUNK_EVENTS + chat.events.length;
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
      throw new GatewayError('ServiceUnavailable', 'Part of the transcript of this chat could not be read from the session store.');
    }
    const session: ServiceSession = { ...record, chat: { ...chat, events: [...(chunks as ChatEvent[][]).flat(), ...chat.events] } };
    this.whole.set(record, session);
    return session;
  }

  /**
   * The record to write for the whole `session` (an update's draft: its chat's `chunks` are set here),
   * once the chunks it newly fills are in the store. Chunks outlive the record: they are kept for two of
   * its lifetimes (`recordTtlMs`) at a time, and all rewritten with a new expiry when that runs short.
   */
  async seal(session: ServiceSession, now: number, recordTtlMs: number): Promise<ServiceSession> {
    const chat = session.chat;
    if (!chat) return session;
    const sealed = chat.chunks ?? [];
    const full = Math.floor(chat.events.length / CHUNK_EVENTS);
    let expiresAt = chat.chunksExpireAt ?? 0;
    const renew = full > 0 && expiresAt < now + recordTtlMs;
    if (full === sealed.length && !renew) return this.record(session, chat);
    if (renew) expiresAt = now + 2 * recordTtlMs;
    const ids = [...sealed];
    while (ids.length < full) ids.push(`${ids.length}-${randomBytes(4).toString('hex')}`);
    await Promise.all(
      ids.map((id, k) =>
        k >= sealed.length || renew
          ? this.store.set(chunkKey(session.id, id), chat.events.slice(k * CHUNK_EVENTS, (k + 1) * CHUNK_EVENTS), expiresAt - now)
          : undefined,
      ),
    );
    chat.chunks = ids;
    chat.chunksExpireAt = expiresAt;
    return this.record(session, chat);
  }

  /** Removes the chunks of a record whose session is gone. */
  async removeChunks(record: ServiceSession): Promise<void> {
    await Promise.all((record.chat?.chunks ?? []).map((id) => this.store.delete(chunkKey(record.id, id))));
  }

  private record(session: ServiceSession, chat: Chat): ServiceSession {
    const from = (chat.chunks?.length ?? 0) * CHUNK_EVENTS;
    const record = from === 0 ? session : { ...session, chat: { ...chat, events: chat.events.slice(from) } };
    this.whole.set(record, session);
    return record;
  }
}
