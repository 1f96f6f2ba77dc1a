// SessionJson writes what JSON.stringify writes (once parsed back), whatever the transcript and its
// history: appended events, a transcript replaced by another of the same length, strings full of quotes,
// backslashes and control characters, and more sessions than it keeps.

import { expect } from 'chai';
import fc from 'fast-check';
import { SessionJson } from '../src/chat/session-json.ts';
import type { ChatEvent, ServiceSession } from '../src/chat/types.ts';

const text = fc.string({ unit: fc.oneof(fc.constantFrom('"', '\\', '\u0000', '\n', '}', ',', ']', '\u2028'), fc.string({ minLength: 1, maxLength: 1 })), maxLength: 12 });

function event(position: number, body: string): ChatEvent {
  return { position, type: 'Message.Text', nickname: body, text: body, at: position * 1000, partyType: 'CLIENT' };
}

function session(id: string, events: ChatEvent[], note: string): ServiceSession {
  return {
    id,
    service: 'request-chat',
    createdAt: 1,
    lastActivity: 2,
    ttl: 3600,
    expiresAt: 3,
    data: { note, [note]: note },
    chat: {
      chatSessionId: 'C1',
      state: 'connected',
      startedAt: 1,
      endpoint: 'gms_builtin',
      notifyBy: 'poll',
      userId: 'U',
      secureKey: 'K',
      customer: { nickname: note, userData: { note } },
      agents: [],
      events,
      clientPosition: events.length,
    },
  };
}

const same = (codec: SessionJson, s: ServiceSession): void => {
  expect(JSON.parse(codec.serialize(s))).to.deep.equal(JSON.parse(JSON.stringify(s)));
};

describe('SessionJson', () => {
  it('writes what JSON.stringify writes while a transcript grows, one or several events at a time', () => {
    fc.assert(
      fc.property(fc.array(fc.array(text, { minLength: 1, maxLength: 4 }), { maxLength: 12 }), text, (steps, note) => {
        const codec = new SessionJson();
        let events: ChatEvent[] = [];
        same(codec, session('s1', events, note));
        for (const step of steps) {
          // Copy-on-write, as the chat domain does: a new array sharing the old events.
          events = [...events, ...step.map((body, i) => event(events.length + i + 1, body))];
          same(codec, session('s1', events, note));
        }
      }),
    );
  });

  it('notices a transcript that is not the one it knows (same length, other events) and writes the new one', () => {
    const codec = new SessionJson();
    codec.serialize(session('s1', [event(1, 'a'), event(2, 'b')], 'n'));
    const other = [event(1, 'x'), event(2, 'y'), event(3, 'z')];
    expect(JSON.parse(codec.serialize(session('s1', other, 'n'))).chat.events).to.deep.equal(other);
    const shorter = [event(1, 'q')];
    expect(JSON.parse(codec.serialize(session('s1', shorter, 'n'))).chat.events).to.deep.equal(shorter);
  });

  it('keeps sessions apart, and stays right past the number of sessions it keeps', () => {
    const codec = new SessionJson({ maxSessions: 2 });
    const transcripts = new Map<string, ChatEvent[]>();
    for (let round = 1; round <= 3; round++) {
      for (const id of ['a', 'b', 'c']) {
        const events = [...(transcripts.get(id) ?? []), event(round, `${id}${round}`)];
        transcripts.set(id, events);
        same(codec, session(id, events, id));
      }
    }
  });

  it('stays right when long transcripts overflow the characters it keeps, and keeps no more than that', () => {
    const codec = new SessionJson({ maxChars: 2000 });
    const transcripts = new Map<string, ChatEvent[]>();
    for (let round = 1; round <= 20; round++) {
      for (const id of ['a', 'b', 'c']) {
        const events = [...(transcripts.get(id) ?? []), event(round, `${id}${round}`.repeat(10))];
        transcripts.set(id, events);
        same(codec, session(id, events, id));
        expect((codec as unknown as { chars: number }).chars).to.be.at.most(2000);
      }
    }
  });

  it('writes a session without a chat, or with an empty transcript, as JSON.stringify does', () => {
    const codec = new SessionJson();
    const bare: ServiceSession = { id: 'x', service: 's', createdAt: 1, lastActivity: 1, ttl: 1, expiresAt: 1, data: {} };
    expect(codec.serialize(bare)).to.equal(JSON.stringify(bare));
    same(codec, session('y', [], 'n'));
  });
});
