// A session's JSON without serialising its whole transcript on every write. Events never change once
// appended, and a chat's new version shares the event objects of the old one (copy-on-write, store.ts),
// so the JSON of the first n events is kept per session and only the events after them are serialised:
// a send costs the same with 5 events as with 5,000 (JSON.stringify of 50 events alone took ~37 µs).
// Only worth it on a store that hands out the stored objects themselves (Store.sharesValues): elsewhere
// every read makes new event objects, and nothing kept would ever be recognised.

import type { ChatEvent, ServiceSession } from './types.ts';

interface Transcript {
  /** The last event the JSON covers: the same object must still sit at that position for it to apply. */
  last: ChatEvent;
  count: number;
  /** The events' JSON, comma-separated, without the brackets. */
  json: string;
}

export interface SessionJsonLimits {
  /** Sessions whose transcript JSON is kept; the least recently written go first. */
  maxSessions: number;
  /** Characters of transcript JSON kept in all, so that long chats cannot hold unbounded memory. */
  maxChars: number;
}

export class SessionJson {
  private readonly transcripts = new Map<string, Transcript>();
  private chars = 0;
  private readonly limits: SessionJsonLimits;

  constructor(limits: Partial<SessionJsonLimits> = {}) {
    this.limits = { maxSessions: 10_000, maxChars: 32 * 1024 * 1024, ...limits };
  }

  serialize(session: ServiceSession): string {
    const chat = session.chat;
    if (!chat || chat.events.length === 0) return JSON.stringify(session);
    const events = this.eventsJson(session.id, chat.events);
    // Objects are written with their events spliced in last: JSON.stringify leaves out a property whose
    // value is undefined, and its output of an object always ends with "}" (a chat has other fields).
    const chatJson = JSON.stringify({ ...chat, events: undefined });
    const sessionJson = JSON.stringify({ ...session, chat: undefined });
    return `${sessionJson.slice(0, -1)},"chat":${chatJson.slice(0, -1)},"events":[${events}]}}`;
  }

  /** Forgets a session (it was deleted). */
  forget(sessionId: string): void {
    const known = this.transcripts.get(sessionId);
    if (!known) return;
    this.transcripts.delete(sessionId);
    this.chars -= known.json.length;
  }

  private eventsJson(sessionId: string, events: ChatEvent[]): string {
    const known = this.transcripts.get(sessionId);
    let json: string;
    if (known && known.count <= events.length && events[known.count - 1] === known.last) {
      json = known.json;
      for (let i = known.count; i < events.length; i++) json += `,${JSON.stringify(events[i])}`;
    } else {
      json = events.map((event) => JSON.stringify(event)).join(',');
    }
    this.forget(sessionId);
    this.transcripts.set(sessionId, { last: events[events.length - 1]!, count: events.length, json });
    this.chars += json.length;
    while (this.transcripts.size > this.limits.maxSessions || this.chars > this.limits.maxChars) {
      const oldest = this.transcripts.keys().next();
      if (oldest.done) break;
      this.forget(oldest.value);
    }
    return json;
  }
}
