// The sets a session stands for, as one change writes them (indexOps): the times the sweep acts at (the
// expiry index, the customer's absence) are lower bounds, so activity that only moves them later writes
// no set at all; moving earlier, coming in or going out always does.

import { expect } from 'chai';
import { awaySet, EXPIRY_SET, indexOps, placeIn, queueSet } from '../src/chat/session-records.ts';
import type { ServiceSession } from '../src/chat/types.ts';

const at = 1_800_000_000_000;
const session = (expiresAt: number, seenAt: number, state: 'waiting' | 'connected' = 'waiting'): ServiceSession =>
  ({
    id: 'S',
    service: 'brisk',
    createdAt: at,
    lastActivity: at,
    ttl: 600,
    expiresAt,
    data: {},
    chat: {
      chatSessionId: 'C',
      state,
      startedAt: at,
      customerSeenAt: seenAt,
      endpoint: 'gms_builtin',
      notifyBy: 'poll',
      userId: 'U',
      secureKey: 'K',
      customer: { nickname: 'Ann', userData: {} },
      agents: [],
      events: [],
      clientPosition: 0,
    },
  }) as unknown as ServiceSession;

describe('the sets a session change writes', () => {
  it('a poll that extends the session and records the customer there writes no set', () => {
    expect(indexOps(session(at + 600_000, at), session(at + 605_000, at + 5000))).to.deep.equal([]);
  });

  it('a time that moves earlier is written; a new session is written whole', () => {
    expect(indexOps(session(at + 600_000, at + 5000), session(at + 300_000, at + 5000))).to.deep.equal([
      { kind: 'add', set: EXPIRY_SET, member: 'S', score: at + 300_000, owner: 'session:S' },
    ]);
    const all = indexOps(undefined, session(at + 600_000, at));
    const owner = 'session:S';
    expect(all).to.deep.include({ kind: 'add', set: EXPIRY_SET, member: 'S', score: at + 600_000, owner });
    expect(all).to.deep.include({ kind: 'add', set: awaySet('brisk'), member: 'S', score: at, owner });
    expect(all).to.deep.include({ kind: 'add', set: queueSet('gms_builtin'), member: 'C', score: at, owner });
  });

  it('the sweep puts a member met early back at the time its session stands for', () => {
    expect(placeIn(session(at + 605_000, at + 5000), awaySet('brisk'), 'S', 'S')).to.deep.equal({
      kind: 'add',
      set: awaySet('brisk'),
      member: 'S',
      score: at + 5000,
      owner: 'session:S',
    });
    expect(placeIn(undefined, awaySet('brisk'), 'S', 'S')).to.deep.equal({
      kind: 'remove',
      set: awaySet('brisk'),
      member: 'S',
      owner: 'session:S',
    });
  });
});
