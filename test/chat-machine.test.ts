// The chat state machine on its own: every state a session can be in, times every command, with no
// store, no clock and no I/O. Each cell says what the command does there: the state it leads to and the
// events it adds, or the error that refuses it. The session handed in is deep-frozen: the machine
// never changes what it was given.

import { expect } from 'chai';
import { apply, type Command, type Rules } from '../src/chat/chat-machine.ts';
import type { FileLimits } from '../src/chat/file-rules.ts';
import type { Chat, ServiceSession } from '../src/chat/types.ts';
import { GatewayError } from '../src/errors.ts';

const T0 = Date.parse('2026-11-24T19:49:03Z');
const NOW = T0 + 5000;
const RULES: Rules = { maxTranscriptEvents: 100, maxMessageLength: 10 };
const FILES: FileLimits = {
  enabled: true,
  maxFileSize: 1000,
  maxFiles: 5,
  maxTotalSize: 5000,
  fileTypes: ['txt'],
  needAgent: true,
};

function freeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) freeze(child);
  }
  return value;
}

const bare: ServiceSession = {
  id: 'S',
  service: 'support',
  createdAt: T0,
  lastActivity: T0,
  ttl: 60,
  expiresAt: T0 + 60_000,
  data: { topic: 'billing' },
};
const start: Command = {
  kind: 'start',
  ids: { chatSessionId: 'C', userId: 'U', secureKey: 'K' },
  endpoint: 'desk',
  notifyBy: 'poll',
  params: { firstName: 'Ann', userData: {} },
};

/** Runs commands from a bare session, each on what the one before gave. */
function after(...commands: Command[]): ServiceSession {
  return commands.reduce((session, command) => apply(session, command, T0, RULES).session, bare);
}

const STATES: Record<string, ServiceSession> = {
  'not started': bare,
  waiting: after(start),
  connected: after(start, { kind: 'accept', agent: { id: 'a1', nickname: 'Bob' } }),
  'ended, agent still in': after(start, { kind: 'accept', agent: { id: 'a1', nickname: 'Bob' } }, { kind: 'disconnect' }),
  ended: after(start, { kind: 'disconnect' }),
};

const file = { id: 'F1', name: 'a.txt', size: 10, type: 'text/plain' };
const COMMANDS: Record<string, Command> = {
  start,
  'customer sends': { kind: 'send', text: 'hello' },
  'customer types': { kind: 'typing', started: true },
  'customer leaves': { kind: 'disconnect' },
  'customer renames': { kind: 'customerChange', change: { nickname: 'Annie' } },
  'a1 accepts': { kind: 'accept', agent: { id: 'a1', nickname: 'Bob' } },
  'a2 accepts': { kind: 'accept', agent: { id: 'a2', nickname: 'Cy' } },
  'a1 sends': { kind: 'agentSend', agentId: 'a1', text: 'Hi Ann' },
  'a1 types': { kind: 'agentTyping', agentId: 'a1', started: false },
  'a1 pushes a URL': { kind: 'agentPushUrl', agentId: 'a1', url: 'https://example.com/' },
  'a1 posts a notice': { kind: 'agentNotice', agentId: 'a1', text: 'Back in 5' },
  'a1 sends a file': { kind: 'agentFile', agentId: 'a1', file, limits: FILES },
  'a1 leaves': { kind: 'leave', agentId: 'a1' },
  'a1 whispers': { kind: 'agentWhisper', agentId: 'a1', text: 'psst' },
  'a1 transfers to a2': { kind: 'transfer', agentId: 'a1', to: { agent: { id: 'a2', nickname: 'Cy' } } },
  'a1 transfers to a queue': { kind: 'transfer', agentId: 'a1', to: { endpoint: 'desk' } },
  'a1 invites a2': { kind: 'join', by: 'a1', agent: { id: 'a2', nickname: 'Cy' } },
  'supervisor s1 joins silently': { kind: 'join', agent: { id: 's1', nickname: 'Sue', party: 'SUPERVISOR', silent: true } },
  expiry: { kind: 'expire' },
  'customer polls': { kind: 'seen' },
  "customer's last CometD client goes": { kind: 'customerGone' },
  "a customer's CometD client comes back": { kind: 'customerBack' },
  'idle check (no customerIdle rule)': { kind: 'idle' },
};

/** What each command does in each state: the state after and the events added, or the refusal. */
const EXPECTED: Record<string, Record<string, string>> = {
  start: {
    'not started': 'waiting: Notice.Joined',
    waiting: 'ChatAlreadyStarted',
    connected: 'ChatAlreadyStarted',
    'ended, agent still in': 'ChatAlreadyStarted',
    ended: 'ChatAlreadyStarted',
  },
  'customer sends': {
    'not started': 'ChatNotStarted',
    waiting: 'waiting: Message.Text',
    connected: 'connected: Message.Text',
    'ended, agent still in': 'ChatEnded',
    ended: 'ChatEnded',
  },
  'customer types': {
    'not started': 'ChatNotStarted',
    waiting: 'waiting: Notice.TypingStarted',
    connected: 'connected: Notice.TypingStarted',
    'ended, agent still in': 'ChatEnded',
    ended: 'ChatEnded',
  },
  'customer leaves': {
    'not started': 'ChatNotStarted',
    waiting: 'ended: Notice.Left',
    connected: 'ended: Notice.Left',
    'ended, agent still in': 'ended: unchanged',
    ended: 'ended: unchanged',
  },
  'customer renames': {
    'not started': 'ChatNotStarted',
    waiting: 'waiting: -',
    connected: 'connected: -',
    'ended, agent still in': 'ChatEnded',
    ended: 'ChatEnded',
  },
  'a1 accepts': {
    'not started': 'ChatNotStarted',
    waiting: 'connected: Notice.Joined',
    connected: 'connected: unchanged',
    'ended, agent still in': 'ChatEnded',
    ended: 'ChatEnded',
  },
  'a2 accepts': {
    'not started': 'ChatNotStarted',
    waiting: 'connected: Notice.Joined',
    connected: 'Conflict',
    'ended, agent still in': 'ChatEnded',
    ended: 'ChatEnded',
  },
  'a1 sends': {
    'not started': 'ChatNotStarted',
    waiting: 'Forbidden',
    connected: 'connected: Message.Text',
    'ended, agent still in': 'ChatEnded',
    ended: 'ChatEnded',
  },
  'a1 types': {
    'not started': 'ChatNotStarted',
    waiting: 'Forbidden',
    connected: 'connected: Notice.TypingStopped',
    'ended, agent still in': 'ChatEnded',
    ended: 'ChatEnded',
  },
  'a1 pushes a URL': {
    'not started': 'ChatNotStarted',
    waiting: 'Forbidden',
    connected: 'connected: Notice.PushUrl',
    'ended, agent still in': 'ChatEnded',
    ended: 'ChatEnded',
  },
  'a1 posts a notice': {
    'not started': 'ChatNotStarted',
    waiting: 'Forbidden',
    connected: 'connected: Notice.Custom',
    'ended, agent still in': 'ChatEnded',
    ended: 'ChatEnded',
  },
  'a1 sends a file': {
    'not started': 'ChatNotStarted',
    waiting: 'Forbidden',
    connected: 'connected: Notice.FileUploaded',
    'ended, agent still in': 'ChatEnded',
    ended: 'ChatEnded',
  },
  'a1 leaves': {
    'not started': 'ChatNotStarted',
    waiting: 'Forbidden',
    connected: 'ended: Notice.Left',
    'ended, agent still in': 'ended: -',
    ended: 'ChatEnded',
  },
  expiry: {
    'not started': 'removed: -',
    waiting: 'removed: Notice.Left',
    connected: 'removed: Notice.Left',
    'ended, agent still in': 'removed: -',
    ended: 'removed: -',
  },
  // A poll records that the customer is there (customer-idle.ts); these chats poll, so CometD presence leaves them as they are.
  'customer polls': {
    'not started': 'ChatNotStarted',
    waiting: 'waiting: -',
    connected: 'connected: -',
    'ended, agent still in': 'ended: unchanged',
    ended: 'ended: unchanged',
  },
  "customer's last CometD client goes": {
    'not started': 'not started: unchanged',
    waiting: 'waiting: unchanged',
    connected: 'connected: unchanged',
    'ended, agent still in': 'ended: unchanged',
    ended: 'ended: unchanged',
  },
  "a customer's CometD client comes back": {
    'not started': 'ChatNotStarted',
    waiting: 'waiting: -',
    connected: 'connected: -',
    'ended, agent still in': 'ended: unchanged',
    ended: 'ended: unchanged',
  },
  'a1 whispers': {
    'not started': 'ChatNotStarted',
    waiting: 'Forbidden',
    connected: 'connected: Message.Text',
    'ended, agent still in': 'ChatEnded',
    ended: 'ChatEnded',
  },
  'a1 transfers to a2': {
    'not started': 'ChatNotStarted',
    waiting: 'Conflict',
    connected: 'connected: Notice.Left, Notice.Joined',
    'ended, agent still in': 'Conflict',
    ended: 'Conflict',
  },
  'a1 transfers to a queue': {
    'not started': 'ChatNotStarted',
    waiting: 'Conflict',
    connected: 'waiting: Notice.Left',
    'ended, agent still in': 'Conflict',
    ended: 'Conflict',
  },
  'a1 invites a2': {
    'not started': 'ChatNotStarted',
    waiting: 'Conflict',
    connected: 'connected: Notice.Joined',
    'ended, agent still in': 'ChatEnded',
    ended: 'ChatEnded',
  },
  'supervisor s1 joins silently': {
    'not started': 'ChatNotStarted',
    waiting: 'Conflict',
    connected: 'connected: Notice.Joined',
    'ended, agent still in': 'ChatEnded',
    ended: 'ChatEnded',
  },
  'idle check (no customerIdle rule)': {
    'not started': 'not started: unchanged',
    waiting: 'waiting: unchanged',
    connected: 'connected: unchanged',
    'ended, agent still in': 'ended: unchanged',
    ended: 'ended: unchanged',
  },
};

function outcomeOf(session: ServiceSession, command: Command): string {
  try {
    const out = apply(freeze(session), command, NOW, RULES);
    const state = out.effects.some((e) => e.kind === 'remove') ? 'removed' : (out.session.chat?.state ?? 'not started');
    const events = out.session === session ? 'unchanged' : out.events.map((e) => e.type).join(', ') || '-';
    return `${state}: ${events}`;
  } catch (err) {
    if (err instanceof GatewayError) return err.exception;
    throw err;
  }
}

describe('the chat state machine, every state × every command', () => {
  for (const [commandName, command] of Object.entries(COMMANDS)) {
    it(`${commandName}: ${Object.entries(EXPECTED[commandName])
      .map(([s, o]) => `${s} → ${o}`)
      .join('; ')}`, () => {
      const got = Object.fromEntries(Object.entries(STATES).map(([name, session]) => [name, outcomeOf(session, command)]));
      expect(got).to.deep.equal(EXPECTED[commandName]);
    });
  }
});

describe('the chat state machine, its rules', () => {
  const connected = STATES.connected;

  it('numbers events 1..n, dated now, with who sent them, and tells the agents in the chat and any who just left', () => {
    const out = apply(connected, { kind: 'agentSend', agentId: 'a1', text: 'Hi Ann' }, NOW, RULES);
    expect(out.events).to.deep.equal([
      { position: 3, type: 'Message.Text', nickname: 'Bob', text: 'Hi Ann', at: NOW, partyType: 'AGENT', agentId: 'a1' },
    ]);
    expect(out.session.chat!.events.map((e) => e.position)).to.deep.equal([1, 2, 3]);
    expect(out.effects).to.deep.equal([{ kind: 'publish', agentIds: ['a1'] }]);
    const left = apply(connected, { kind: 'leave', agentId: 'a1' }, NOW, RULES);
    expect(left.effects).to.deep.equal([{ kind: 'publish', agentIds: ['a1'] }]);
    expect(left.session.chat).to.include({ state: 'ended', endedAt: NOW });
  });

  it('starts a chat with the customer’s nickname and the session’s business data under the start’s', () => {
    const out = apply(
      bare,
      { ...start, params: { userDisplayName: ' Annie ', userData: { topic: 'sales', lang: 'en' } } },
      NOW,
      RULES,
    );
    const chat = out.session.chat as Chat;
    expect(chat.customer).to.deep.equal({ nickname: 'Annie', userData: { topic: 'sales', lang: 'en' } });
    expect(chat).to.include({ chatSessionId: 'C', state: 'waiting', startedAt: NOW, endpoint: 'desk' });
  });

  it('refuses an empty or too long customer message, and any event but leaving once the transcript is full', () => {
    const refusal = (command: Command, rules = RULES): string => {
      try {
        apply(connected, command, NOW, rules);
        return 'accepted';
      } catch (err) {
        return (err as GatewayError).exception;
      }
    };
    expect(refusal({ kind: 'send', text: ' ' })).to.equal('InvalidParameter');
    expect(refusal({ kind: 'send', text: 'x'.repeat(11) })).to.equal('InvalidParameter');
    expect(refusal({ kind: 'send', text: '😀'.repeat(10) })).to.equal('accepted');
    const full = { ...RULES, maxTranscriptEvents: 2 };
    expect(refusal({ kind: 'agentSend', agentId: 'a1', text: 'x' }, full)).to.equal('InvalidParameter');
    expect(refusal({ kind: 'disconnect' }, full)).to.equal('accepted');
  });

  it('an agent deletes only a file of the agent side, and the file goes with the change', () => {
    const withFile = apply(connected, { kind: 'agentFile', agentId: 'a1', file, limits: FILES }, NOW, RULES).session;
    expect(withFile.chat!.fileIds).to.deep.equal(['F1']);
    const out = apply(withFile, { kind: 'agentDeleteFile', agentId: 'a1', fileId: 'F1' }, NOW, RULES);
    expect(out.events.map((e) => [e.type, e.text, e.data])).to.deep.equal([['Notice.FileDeleted', 'a.txt', { 'file-id': 'F1' }]]);
    expect(out.session.chat!.fileIds).to.deep.equal([]);
    expect(out.effects).to.deep.include({ kind: 'deleteFiles', fileIds: ['F1'] });
    expect(() => apply(out.session, { kind: 'agentDeleteFile', agentId: 'a1', fileId: 'F1' }, NOW, RULES)).to.throw(GatewayError);
  });
});

describe('the chat state machine, a customer gone (customerIdleWarning 2 s, customerIdleEnd 3 s)', () => {
  const IDLE: Rules = { ...RULES, customerIdle: { warningSeconds: 2, endSeconds: 3 } };
  const at = (session: ServiceSession, command: Command, ms: number) => apply(freeze(session), command, T0 + ms, IDLE);
  const kinds = (out: { events: { type: string; nickname: string; partyType: string }[] }) =>
    out.events.map((e) => [e.type, e.nickname, e.partyType]);
  const waiting = STATES.waiting;

  it('warns everyone once the customer has been gone the warning time, then ends the chat the end time later', () => {
    expect(at(waiting, { kind: 'idle' }, 1999).session).to.equal(waiting);
    const warned = at(waiting, { kind: 'idle' }, 2000);
    expect(kinds(warned)).to.deep.equal([['Notice.Custom', 'system', 'EXTERNAL']]);
    expect(warned.events[0].text).to.equal('The customer seems to have gone; the chat ends in 3 s unless they come back.');
    expect(warned.session.chat).to.include({ state: 'waiting', idleWarnedAt: T0 + 2000 });
    expect(at(warned.session, { kind: 'idle' }, 4999).session).to.equal(warned.session);
    const ended = at(warned.session, { kind: 'idle' }, 5000);
    expect(kinds(ended)).to.deep.equal([['Notice.Left', 'Ann', 'CLIENT']]);
    expect(ended.session.chat).to.include({ state: 'ended', endedAt: T0 + 5000 });
    expect(ended.effects).to.deep.equal([{ kind: 'publish', agentIds: [] }]);
    expect(at(ended.session, { kind: 'idle' }, 60_000).session).to.equal(ended.session);
  });

  it('a call of the customer takes the warning back: the next one needs a whole new absence', () => {
    const warned = at(waiting, { kind: 'idle' }, 2000).session;
    const back = at(warned, { kind: 'seen' }, 2500).session;
    expect(back.chat!.idleWarnedAt).to.equal(undefined);
    expect(back.chat!.customerSeenAt).to.equal(T0 + 2500);
    expect(at(back, { kind: 'idle' }, 4499).session).to.equal(back);
    expect(kinds(at(back, { kind: 'idle' }, 4500))).to.deep.equal([['Notice.Custom', 'system', 'EXTERNAL']]);
  });

  it('a poll soon after the last one recorded changes nothing (no write): a quarter of the warning time, at most a second', () => {
    const seen = at(waiting, { kind: 'seen' }, 400);
    expect(seen.session).to.equal(waiting);
    expect(at(waiting, { kind: 'seen' }, 500).session.chat!.customerSeenAt).to.equal(T0 + 500);
  });

  it('a poll soon after the last one still takes back a notification waiting for the customer (they are there)', () => {
    const chat = waiting.chat!;
    const pending = { id: 'C-1', from: 1, dueAt: T0 + 60_000, attempts: 0 };
    const registered = { ...waiting, chat: { ...chat, push: { deviceId: 'd', type: 'fcm', debug: false, pending } } };
    const seen = at(registered, { kind: 'seen' }, 400);
    expect(seen.session).not.to.equal(registered);
    expect(seen.session.chat!.push).to.deep.equal({ deviceId: 'd', type: 'fcm', debug: false, pending: undefined });
    expect(seen.session.chat!.customerSeenAt).to.equal(undefined);
  });

  it('a CometD customer is there until their last client goes, and again once one comes back', () => {
    const comet = after({ ...start, notifyBy: 'comet', gmsUser: 'ann' });
    expect(at(comet, { kind: 'idle' }, 100_000).session).to.equal(comet);
    const gone = at(comet, { kind: 'customerGone' }, 10_000).session;
    expect(gone.chat!.customerGoneAt).to.equal(T0 + 10_000);
    expect(at(gone, { kind: 'customerGone' }, 11_000).session).to.equal(gone);
    expect(at(gone, { kind: 'idle' }, 11_999).session).to.equal(gone);
    expect(kinds(at(gone, { kind: 'idle' }, 12_000))).to.deep.equal([['Notice.Custom', 'system', 'EXTERNAL']]);
    const back = at(gone, { kind: 'customerBack' }, 11_000).session;
    expect(back.chat!.customerGoneAt).to.equal(undefined);
    expect(at(back, { kind: 'idle' }, 100_000).session).to.equal(back);
  });

  it("a comet chat's events count as given while a client of the customer is there; gone, the place is what the client was handed", () => {
    const accept: Command = { kind: 'accept', agent: { id: 'a1', nickname: 'Bob' } };
    const comet = after({ ...start, notifyBy: 'comet', gmsUser: 'ann' }, accept);
    const say = (s: ServiceSession, text: string): ServiceSession =>
      at(s, { kind: 'agentSend', agentId: 'a1', text }, 1000).session;
    const pushed = say(comet, 'one');
    expect(pushed.chat!.clientPosition).to.equal(3);
    // The last client went having been handed up to 2: 3 never reached it, nor does what comes after.
    const gone = at(pushed, { kind: 'customerGone', position: 2 }, 2000).session;
    expect([gone.chat!.clientPosition, gone.chat!.customerGoneAt]).to.deep.equal([2, T0 + 2000]);
    expect(say(gone, 'two').chat!.clientPosition).to.equal(2);
    // What was handed is never more than what was given: a position past it changes nothing.
    expect(at(pushed, { kind: 'customerGone', position: 9 }, 2000).session.chat!.clientPosition).to.equal(3);
    // An app in the background said itself what it has: its away mark stands.
    const away = { ...pushed, chat: { ...pushed.chat!, awayPosition: 1, clientPosition: 1 } };
    expect(at(away, { kind: 'customerGone', position: 3 }, 2000).session.chat!.clientPosition).to.equal(1);
    expect(at(away, { kind: 'customerGone', position: 0 }, 2000).session.chat!.clientPosition).to.equal(1);
  });

  it('a party leaving stops their typing first: the customer (gone, leaving, expiring) and an agent', () => {
    const typing = at(STATES.connected, { kind: 'typing', started: true }, 0).session;
    const warned = at(typing, { kind: 'idle' }, 2000).session;
    expect(kinds(at(warned, { kind: 'idle' }, 5000))).to.deep.equal([
      ['Notice.TypingStopped', 'Ann', 'CLIENT'],
      ['Notice.Left', 'Ann', 'CLIENT'],
    ]);
    expect(kinds(at(typing, { kind: 'disconnect' }, 10))).to.deep.equal([
      ['Notice.TypingStopped', 'Ann', 'CLIENT'],
      ['Notice.Left', 'Ann', 'CLIENT'],
    ]);
    expect(kinds(at(typing, { kind: 'expire' }, 10))).to.deep.equal([
      ['Notice.TypingStopped', 'Ann', 'CLIENT'],
      ['Notice.Left', 'Ann', 'CLIENT'],
    ]);
    const stopped = at(typing, { kind: 'typing', started: false }, 10).session;
    expect(kinds(at(stopped, { kind: 'disconnect' }, 20))).to.deep.equal([['Notice.Left', 'Ann', 'CLIENT']]);
    const agentTyping = at(STATES.connected, { kind: 'agentTyping', agentId: 'a1', started: true }, 0).session;
    expect(kinds(at(agentTyping, { kind: 'leave', agentId: 'a1' }, 10))).to.deep.equal([
      ['Notice.TypingStopped', 'Bob', 'AGENT'],
      ['Notice.Left', 'Bob', 'AGENT'],
    ]);
    // The customer typing is not the agent's to stop.
    expect(kinds(at(typing, { kind: 'leave', agentId: 'a1' }, 10))).to.deep.equal([['Notice.Left', 'Bob', 'AGENT']]);
  });
});

describe('the chat state machine, transfer and conference', () => {
  const connected = STATES.connected;
  const kinds = (out: { events: { type: string; nickname: string; partyType: string; visibility?: string }[] }) =>
    out.events.map((e) => [e.type, e.nickname, e.partyType, e.visibility ?? 'all']);

  it('a transfer to an agent is one update: the old agent Left and the new Joined, both told, the old one out', () => {
    const out = apply(
      freeze(connected),
      { kind: 'transfer', agentId: 'a1', to: { agent: { id: 'a2', nickname: 'Cy' } } },
      NOW,
      RULES,
    );
    expect(kinds(out)).to.deep.equal([
      ['Notice.Left', 'Bob', 'AGENT', 'all'],
      ['Notice.Joined', 'Cy', 'AGENT', 'all'],
    ]);
    expect(out.session.chat!.agents.map((a) => a.id)).to.deep.equal(['a2']);
    expect(out.effects).to.deep.equal([{ kind: 'publish', agentIds: ['a2', 'a1'] }]);
  });

  it('a transfer to a queue: the chat waits again from now, in that endpoint, with its transcript and data', () => {
    const out = apply(freeze(connected), { kind: 'transfer', agentId: 'a1', to: { endpoint: 'other' } }, NOW, RULES);
    expect(out.session.chat).to.include({ state: 'waiting', endpoint: 'other', queuedAt: NOW });
    expect(out.session.chat!.agents).to.deep.equal([]);
    expect(out.session.chat!.events).to.have.length(3);
    expect(out.session.chat!.customer.userData).to.deep.equal({ topic: 'billing' });
  });

  it('a silent supervisor: every event of theirs is for the agents; they may only whisper; they keep no chat going alone', () => {
    const sue = { id: 's1', nickname: 'Sue', party: 'SUPERVISOR' as const, silent: true };
    const watched = apply(freeze(connected), { kind: 'join', agent: sue }, NOW, RULES);
    expect(kinds(watched)).to.deep.equal([['Notice.Joined', 'Sue', 'SUPERVISOR', 'agents']]);
    const session = watched.session;
    expect(() => apply(freeze(session), { kind: 'agentSend', agentId: 's1', text: 'hi' }, NOW, RULES)).to.throw('silently');
    expect(() => apply(freeze(session), { kind: 'agentNotice', agentId: 's1', text: 'hi' }, NOW, RULES)).to.throw('silently');
    expect(kinds(apply(freeze(session), { kind: 'agentTyping', agentId: 's1', started: true }, NOW, RULES))).to.deep.equal([
      ['Notice.TypingStarted', 'Sue', 'SUPERVISOR', 'agents'],
    ]);
    expect(kinds(apply(freeze(session), { kind: 'agentWhisper', agentId: 's1', text: 'hi' }, NOW, RULES))).to.deep.equal([
      ['Message.Text', 'Sue', 'SUPERVISOR', 'agents'],
    ]);
    const alone = apply(freeze(session), { kind: 'leave', agentId: 'a1' }, NOW, RULES).session;
    expect(alone.chat).to.include({ state: 'ended' });
    expect(alone.chat!.agents.map((a) => a.id)).to.deep.equal(['s1']);
  });

  it('one agent leaving a conference is their Left only; the chat goes on with the other', () => {
    const both = apply(freeze(connected), { kind: 'join', by: 'a1', agent: { id: 'a2', nickname: 'Cy' } }, NOW, RULES).session;
    const out = apply(freeze(both), { kind: 'leave', agentId: 'a1' }, NOW, RULES);
    expect(kinds(out)).to.deep.equal([['Notice.Left', 'Bob', 'AGENT', 'all']]);
    expect(out.session.chat).to.include({ state: 'connected' });
    expect(() => apply(freeze(both), { kind: 'transfer', agentId: 'a1', to: { endpoint: 'desk' } }, NOW, RULES)).to.throw(
      'Others are still in this chat',
    );
  });
});

describe('the chat state machine, agents reminded of an unanswered customer (agentTimeoutNotification 2 s)', () => {
  const REMIND: Rules = { ...RULES, agentReminderSeconds: 2 };
  const at = (session: ServiceSession, command: Command, ms: number) => apply(freeze(session), command, T0 + ms, REMIND);
  const asked = at(STATES.connected, { kind: 'send', text: 'Hello?' }, 0).session;

  it('reminds the agents only, once the wait is due, once per wait; an answer ends the wait, a whisper does not', () => {
    expect(asked.chat).to.include({ awaitingAnswerSince: T0 });
    expect(at(asked, { kind: 'remind' }, 1999).session).to.equal(asked);
    const reminded = at(asked, { kind: 'remind' }, 2000);
    expect(reminded.events.map((e) => [e.type, e.nickname, e.text, e.visibility])).to.deep.equal([
      ['Notice.Custom', 'system', 'Ann has been waiting 2 s for an answer.', 'agents'],
    ]);
    expect(at(reminded.session, { kind: 'remind' }, 9000).session).to.equal(reminded.session);
    const whispered = at(reminded.session, { kind: 'agentWhisper', agentId: 'a1', text: 'on it' }, 3000).session;
    expect(whispered.chat).to.include({ awaitingAnswerSince: T0, agentRemindedAt: T0 + 2000 });
    const answered = at(whispered, { kind: 'agentSend', agentId: 'a1', text: 'Hi' }, 3000).session;
    expect(answered.chat!.awaitingAnswerSince).to.equal(undefined);
    expect(answered.chat!.agentRemindedAt).to.equal(undefined);
  });

  it('an agent joining by a transfer gets the whole reminder time from then', () => {
    const moved = at(asked, { kind: 'transfer', agentId: 'a1', to: { agent: { id: 'a2', nickname: 'Cy' } } }, 1500).session;
    expect(moved.chat).to.include({ awaitingAnswerSince: T0 + 1500 });
    expect(at(moved, { kind: 'remind' }, 2500).events).to.deep.equal([]);
    expect(at(moved, { kind: 'remind' }, 3500).events).to.have.length(1);
  });
});
