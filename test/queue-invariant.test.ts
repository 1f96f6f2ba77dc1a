// The queue invariant, on every backend: after any interleaving of customers starting and leaving chats,
// agents accepting and leaving them, and sessions expiring, a chat is in its endpoint's queue exactly
// while it is waiting, the queue counts exactly the waiting chats, and each agent's list holds exactly
// the chats the agent is in; the expiry index holds every stored session exactly once, at or before its
// expiresAt (a lower bound: the sweep, meeting it early, puts it back at its time),
// the census sets hold exactly the chats in their state, and the away set every live chat, by the
// customer's last call. Random runs (fast-check) of concurrent calls on the real chat domain and
// real stores: memory, an SQLite file, Redis. No sweep runs: nothing repairs the sets behind the test.

import path from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import { ChatDomain } from '../src/chat/chat-service.ts';
import {
  agentSet,
  awaySet,
  CONNECTED_SET,
  EXPIRY_SET,
  queueSet,
  serviceConnectedSet,
  serviceWaitingSet,
} from '../src/chat/session-records.ts';
import type { ServiceOptions, ServiceSession } from '../src/chat/types.ts';
import { QueueRouter } from '../src/endpoints/queue-router.ts';
import { createLogger } from '../src/log.ts';
import { openStore } from '../src/store/open-store.ts';
import type { Store } from '../src/store/store.ts';
import { makeTempDir } from './helpers/gateway.ts';
import { dropPrefix, requireRedis, SHARED_REDIS_URL, uniquePrefix } from './helpers/redis-nodes.ts';
import { fuzzRuns } from './helpers/fuzz-runs.ts';

const AGENTS = ['a0', 'a1', 'a2'];
const service: ServiceOptions = {
  name: 'support',
  ttl: 60,
  endpoint: 'gms_builtin',
  enabled: true,
  maxMessageLength: 100,
  disconnectedStatus: 200,
};

type Command =
  | { kind: 'start' }
  | { kind: 'accept' | 'leave'; chat: number; agent: number }
  | { kind: 'disconnect' | 'expire'; chat: number }
  | { kind: 'wait'; seconds: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.constant({ kind: 'start' as const }),
  fc.record({ kind: fc.constantFrom('accept' as const, 'leave' as const), chat: fc.nat(9), agent: fc.nat(AGENTS.length - 1) }),
  fc.record({ kind: fc.constantFrom('disconnect' as const, 'expire' as const), chat: fc.nat(9) }),
  fc.record({ kind: fc.constant('wait' as const), seconds: fc.integer({ min: 1, max: 70 }) }),
);

/** Batches of calls; the calls of one batch run at once. */
const runs = fc.array(fc.array(command, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 6 });

async function check(store: Store, batches: Command[][]): Promise<void> {
  let now = Date.now();
  const domain = new ChatDomain({
    store,
    services: () => service,
    router: new QueueRouter(store, () => ({ open: true })),
    listener: { chatUpdated: () => undefined },
    clock: { now: () => now },
  });
  const chats: { id: string; chatSessionId: string }[] = [];
  const run = async (c: Command): Promise<void> => {
    if (c.kind === 'wait') {
      now += c.seconds * 1000;
      return;
    }
    if (c.kind === 'start') {
      const session = await domain.createSession(service, {});
      const view = await domain.startChat(session.id, undefined, { userData: {} });
      chats.push({ id: session.id, chatSessionId: view.chat.chatSessionId });
      return;
    }
    const chat = chats[c.chat % Math.max(1, chats.length)];
    if (!chat) return;
    if (c.kind === 'accept') await domain.accept(chat.chatSessionId, { id: AGENTS[c.agent], nickname: AGENTS[c.agent] });
    else if (c.kind === 'leave') await domain.leave(chat.chatSessionId, AGENTS[c.agent]);
    else if (c.kind === 'disconnect') await domain.disconnect(chat.id, undefined);
    else await domain.expire(chat.id);
  };
  // Refusals (Conflict, ChatEnded, SessionNotFound...) are part of the game; only the sets are checked.
  for (const batch of batches) await Promise.allSettled(batch.map(run));

  const sessions: ServiceSession[] = [];
  for await (const [, session] of store.entries<ServiceSession>('session:')) sessions.push(session);
  const waiting = sessions.filter((s) => s.chat?.state === 'waiting').map((s) => s.chat!.chatSessionId);
  expect([...(await store.members(queueSet('gms_builtin')))].sort()).to.deep.equal(waiting.sort());
  expect(await store.count(queueSet('gms_builtin'))).to.equal(waiting.length);
  for (const agent of AGENTS) {
    const inChats = sessions.filter((s) => s.chat?.agents.some((a) => a.id === agent)).map((s) => s.chat!.chatSessionId);
    expect([...(await store.members(agentSet(agent)))].sort(), agent).to.deep.equal(inChats.sort());
  }
  const connected = sessions.filter((s) => s.chat?.state === 'connected').map((s) => s.chat!.chatSessionId);
  expect([...(await store.members(CONNECTED_SET))].sort(), 'connected').to.deep.equal([...connected].sort());
  expect([...(await store.members(serviceConnectedSet(service.name)))].sort(), 'service connected').to.deep.equal(
    [...connected].sort(),
  );
  expect([...(await store.members(serviceWaitingSet(service.name)))].sort(), 'service waiting').to.deep.equal(
    [...waiting].sort(),
  );
  // Polling customers count as gone since their last call: every live chat is in the away set, by it.
  const live = sessions.filter((s) => s.chat && s.chat.state !== 'ended');
  expect([...(await store.members(awaySet(service.name)))].sort(), 'away').to.deep.equal(live.map((s) => s.id).sort());
  for (const session of live) {
    const since = session.chat!.customerSeenAt ?? session.chat!.startedAt;
    expect(await store.upTo(awaySet(service.name), since, 1000), 'gone since its last call').to.include(session.id);
  }
  // The expiry index: each stored session once (a set has no duplicates), due no later than its expiresAt.
  expect([...(await store.members(EXPIRY_SET))].sort(), 'expiry index').to.deep.equal(sessions.map((s) => s.id).sort());
  for (const session of sessions) {
    expect(await store.upTo(EXPIRY_SET, session.expiresAt, 1000), 'due at its expiresAt').to.include(session.id);
  }
}

describe('the queue invariant under random concurrent chats', function () {
  this.timeout(120_000);
  const log = createLogger('silent');

  it('holds on the memory store', async () => {
    await fc.assert(
      fc.asyncProperty(runs, async (batches) => {
        const store = await openStore({ url: 'memory://', prefix: 'inv', log });
        try {
          await check(store, batches);
        } finally {
          await store.close();
        }
      }),
      { numRuns: fuzzRuns(60) },
    );
  });

  it('holds on the SQLite file', async () => {
    const dir = await makeTempDir('gms-invariant-');
    let n = 0;
    await fc.assert(
      fc.asyncProperty(runs, async (batches) => {
        const store = await openStore({ url: `sqlite://${path.join(dir, `s${n++}.sqlite`)}`, prefix: 'inv', log });
        try {
          await check(store, batches);
        } finally {
          await store.close();
        }
      }),
      { numRuns: fuzzRuns(25) },
    );
  });

  it('holds on Redis', async function () {
    await requireRedis(this);
    await fc.assert(
      fc.asyncProperty(runs, async (batches) => {
        const prefix = uniquePrefix('invariant');
        const store = await openStore({ url: SHARED_REDIS_URL, prefix, log });
        try {
          await check(store, batches);
        } finally {
          await store.close();
          await dropPrefix(prefix);
        }
      }),
      { numRuns: fuzzRuns(25) },
    );
  });
});
