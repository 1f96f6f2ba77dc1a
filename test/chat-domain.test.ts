// The chat domain on its own (no HTTP): the chat state machine and time to live, driven through
// ChatDomain with a real store, the real queue router and a clock the test moves. Every test runs twice:
// on the memory store, and on a store with the embedded store's value cache whose values are deep-frozen,
// so that any change the domain makes to a shared snapshot (store.ts) throws instead of passing unseen.

import { expect } from 'chai';
import { ChatDomain, type ChatView } from '../src/chat/chat-service.ts';
import { ExpirySweeper } from '../src/chat/expiry.ts';
import { CHUNK_EVENTS } from '../src/chat/session-records.ts';
import type { ChatUpdate, ServiceOptions, ServiceSession } from '../src/chat/types.ts';
import { QueueRouter } from '../src/endpoints/queue-router.ts';
import { createLogger } from '../src/log.ts';
import { openStore } from '../src/store/open-store.ts';
import type { Store } from '../src/store/store.ts';
import { eventually } from './helpers/gateway.ts';
import { rejection } from './helpers/rejection.ts';

const START = Date.parse('2026-11-24T19:49:03Z');
const GRACE_MS = 60_000;

/** `cached`: the store holds values in this process (Store.peek), as the embedded one does. */
const STORES: { name: string; cached: boolean; open: () => Promise<Store> }[] = [
  {
    name: 'memory store',
    cached: false,
    open: () => openStore({ url: 'memory://', prefix: 'test', log: createLogger('silent') }),
  },
  {
    name: 'cached store, frozen values',
    cached: true,
    open: () =>
      openStore({ url: 'memory://', prefix: 'test', log: createLogger('silent'), cacheEntries: 1000, freezeValues: true }),
  },
];

for (const kind of STORES)
  describe(`chat domain (${kind.name})`, () => {
    let store: Store;
    let router: QueueRouter;
    let domain: ChatDomain;
    let now: number;
    let service: ServiceOptions;
    let updates: ChatUpdate[];

    beforeEach(async () => {
      store = await kind.open();
      router = new QueueRouter(store, (name) => (name === 'gms_builtin' ? { open: true } : undefined));
      now = START;
      service = {
        name: 'support',
        ttl: 60,
        endpoint: 'gms_builtin',
        enabled: true,
        maxMessageLength: 100,
        disconnectedStatus: 200,
      };
      updates = [];
      domain = new ChatDomain({
        store,
        services: (name) => (name === service.name ? service : undefined),
        router,
        listener: { chatUpdated: (update) => updates.push(update) },
        clock: { now: () => now },
        expiryGraceMs: GRACE_MS,
      });
    });

    afterEach(async () => {
      await store.close();
    });

    /** One expiry sweep over the store, as the node holding the sweep lease runs it. */
    async function expireDue(): Promise<number> {
      const sweeper = new ExpirySweeper({
        store,
        clock: { now: () => now },
        sessions: domain,
        node: 'test-node',
        intervalMs: 1000,
      });
      return (await sweeper.sweep()).expired;
    }

    async function startChat(): Promise<{ id: string; view: ChatView }> {
      const session = await domain.createSession(service, { topic: 'billing' });
      const view = await domain.startChat(session.id, undefined, { firstName: 'Ann', userData: {} });
      return { id: session.id, view };
    }

    const texts = (view: ChatView): string[] => view.events.map((e) => `${e.position} ${e.type} ${e.nickname}: ${e.text}`);

    describe('the state machine: not started → waiting → connected → ended', () => {
      it('a session without a chat refuses every chat call with ChatNotStarted', async () => {
        const session = await domain.createSession(service, {});
        for (const call of [
          domain.send(session.id, undefined, 'hi'),
          domain.refresh(session.id, undefined, undefined),
          domain.typing(session.id, undefined, true),
          domain.disconnect(session.id, undefined),
        ]) {
          expect((await rejection(call)).exception).to.equal('ChatNotStarted');
        }
      });

      it('a started chat waits in its endpoint queue until an agent accepts it; then the agent is in', async () => {
        const { id, view } = await startChat();
        expect(view.chat.state).to.equal('waiting');
        expect(texts(view)).to.deep.equal(['1 Notice.Joined Ann: has joined the session']);
        expect(await router.waiting('gms_builtin')).to.deep.equal([view.chat.chatSessionId]);
        expect((await rejection(domain.startChat(id, undefined, { userData: {} }))).exception).to.equal('ChatAlreadyStarted');

        now += 5000;
        const chat = await domain.accept(view.chat.chatSessionId, { id: 'a1', nickname: 'Bob' });
        expect(chat.state).to.equal('connected');
        expect(await router.waiting('gms_builtin')).to.deep.equal([]);
        await domain.agentCommand(view.chat.chatSessionId, { kind: 'agentSend', agentId: 'a1', text: 'Hello Ann' });
        const seen = await domain.refresh(id, undefined, undefined);
        expect(texts(seen)).to.deep.equal(['2 Notice.Joined Bob: has joined the session', '3 Message.Text Bob: Hello Ann']);
        expect(seen.events.map((e) => e.partyType)).to.deep.equal(['AGENT', 'AGENT']);
        expect(seen.events[0].at - view.chat.startedAt).to.equal(5000);
        // A second agent cannot take a chat that is already connected.
        expect((await rejection(domain.accept(view.chat.chatSessionId, { id: 'a2', nickname: 'Cy' }))).exception).to.equal(
          'Conflict',
        );
      });

      it('the last agent leaving ends the chat: the customer can read it, but not write to it', async () => {
        const { id, view } = await startChat();
        await domain.accept(view.chat.chatSessionId, { id: 'a1', nickname: 'Bob' });
        const ended = await domain.leave(view.chat.chatSessionId, 'a1');
        expect(ended.state).to.equal('ended');
        const after = await domain.refresh(id, undefined, undefined);
        expect(after.chat.state).to.equal('ended');
        expect(texts(after)).to.deep.equal([
          '2 Notice.Joined Bob: has joined the session',
          '3 Notice.Left Bob: has left the session',
        ]);
        expect((await rejection(domain.send(id, undefined, 'hello?'))).exception).to.equal('ChatEnded');
        expect((await rejection(domain.typing(id, undefined, false))).exception).to.equal('ChatEnded');
        expect(
          (await rejection(domain.agentCommand(view.chat.chatSessionId, { kind: 'agentSend', agentId: 'a1', text: 'x' })))
            .exception,
        ).to.equal('ChatEnded');
      });

      it('the customer leaving a waiting chat ends it and takes it out of the queue', async () => {
        const { id, view } = await startChat();
        const left = await domain.disconnect(id, undefined, 'never mind');
        expect(left.chat.state).to.equal('ended');
        expect(texts(left)).to.deep.equal(['2 Message.Text Ann: never mind', '3 Notice.Left Ann: has left the session']);
        expect(await router.waiting('gms_builtin')).to.deep.equal([]);
        expect((await rejection(domain.accept(view.chat.chatSessionId, { id: 'a1', nickname: 'Bob' }))).exception).to.equal(
          'ChatEnded',
        );
      });

      it('every committed change reaches the listener once, with its new events in order', async () => {
        const { id, view } = await startChat();
        await domain.send(id, undefined, 'one');
        await domain.refresh(id, undefined, 0);
        await rejection(domain.send(id, undefined, ''));
        await domain.disconnect(id, undefined);
        expect(updates.map((u) => u.events.map((e) => e.position))).to.deep.equal([[1], [2], [3]]);
        expect(updates.map((u) => u.state)).to.deep.equal(['waiting', 'waiting', 'ended']);
        expect(updates.every((u) => u.chatSessionId === view.chat.chatSessionId && u.serviceId === id)).to.equal(true);
      });

      it('a refused call leaves the stored session exactly as it was', async () => {
        const { id } = await startChat();
        await domain.send(id, undefined, 'kept');
        const before = await store.get<ServiceSession>(`session:${id}`);
        now += 1000;
        await rejection(domain.send(id, undefined, 'x'.repeat(101)));
        await rejection(domain.send(id, undefined, '   '));
        await rejection(domain.startChat(id, undefined, { userData: {} }));
        await rejection(domain.disconnect(id, undefined, 'x'.repeat(101)));
        expect(await store.get<ServiceSession>(`session:${id}`)).to.deep.equal(before);
      });
    });

    describe('long transcripts: the record holds the latest events, older ones are sealed in chunks', () => {
      /** Sends until the chat holds `count` events; returns the texts sent. */
      async function fill(id: string, count: number): Promise<void> {
        for (let n = (await domain.refresh(id, undefined, 0)).position; n < count; n++)
          await domain.send(id, undefined, `message ${n + 1}`);
      }
      const record = (id: string): Promise<ServiceSession | undefined> => store.get<ServiceSession>(`session:${id}`);

      it('a chat of 3.5 chunks reads back whole, in order, from any position; its record keeps fewer than a chunk of events', async () => {
        const { id, view } = await startChat();
        const total = Math.floor(CHUNK_EVENTS * 3.5);
        await fill(id, total);
        const stored = await record(id);
        expect(stored?.chat?.chunks).to.have.length(3);
        expect(stored?.chat?.events.map((e) => e.position)).to.deep.equal(
          Array.from({ length: total - 3 * CHUNK_EVENTS }, (_, i) => 3 * CHUNK_EVENTS + i + 1),
        );

        const whole = await domain.refresh(id, undefined, 0);
        expect(whole.position).to.equal(total);
        expect(whole.events.map((e) => e.position)).to.deep.equal(Array.from({ length: total }, (_, i) => i + 1));
        expect(whole.events[total - 1].text).to.equal(`message ${total}`);
        expect((await domain.refresh(id, undefined, CHUNK_EVENTS - 2)).events.map((e) => e.position)[0]).to.equal(
          CHUNK_EVENTS - 1,
        );
        // The agent's view, the next event's position and the away mark count the sealed events too.
        expect((await domain.findChat(view.chat.chatSessionId))?.chat.events).to.have.length(total);
        expect((await domain.send(id, undefined, 'one more')).position).to.equal(total + 1);
        await domain.markAway(id, 1_000_000);
        expect(await domain.comeBack(id))
          .to.have.property('events')
          .that.deep.equals([]);
        await domain.markAway(id, 40);
        expect((await domain.comeBack(id))?.events.map((e) => e.position)).to.deep.equal(
          Array.from({ length: total + 1 - 40 }, (_, i) => 41 + i),
        );
      });

      it('a session stored whole by an earlier version reads back whole, and is sealed at its next write', async () => {
        const { id } = await startChat();
        await fill(id, 2 * CHUNK_EVENTS + 10);
        const whole = await domain.getSession(id, undefined);
        // As earlier versions stored it: every event in the record itself.
        const { chunks: _chunks, chunksExpireAt: _until, ...chat } = whole.chat!;
        await store.set(`session:${id}`, { ...whole, chat }, 60_000);
        expect((await domain.refresh(id, undefined, 0)).events.map((e) => e.position)).to.deep.equal(
          Array.from({ length: 2 * CHUNK_EVENTS + 10 }, (_, i) => i + 1),
        );
        const sent = await domain.send(id, undefined, 'after the upgrade');
        expect(sent.position).to.equal(2 * CHUNK_EVENTS + 11);
        expect((await record(id))?.chat?.events).to.have.length(11);
        expect((await domain.refresh(id, undefined, 0)).events).to.have.length(2 * CHUNK_EVENTS + 11);
      });

      it('chunks are kept for two lifetimes of the record at a time, renewed before they run out', async () => {
        const { id } = await startChat();
        await fill(id, CHUNK_EVENTS + 1);
        const first = (await record(id))?.chat?.chunksExpireAt ?? 0;
        const recordTtlMs = service.ttl * 1000 + GRACE_MS;
        expect(first).to.equal(now + 2 * recordTtlMs);
        // Activity within the ttl keeps the session; the chunks' expiry moves once less than a lifetime is left.
        for (const step of [50_000, 50_000]) {
          now += step;
          await domain.send(id, undefined, 'still early');
          expect((await record(id))?.chat?.chunksExpireAt).to.equal(first);
        }
        now += 50_000;
        await domain.send(id, undefined, 'renewed');
        expect((await record(id))?.chat?.chunksExpireAt).to.equal(now + 2 * recordTtlMs);
        expect((await domain.refresh(id, undefined, 0)).events).to.have.length(CHUNK_EVENTS + 4);
      });

      it('expiry removes the chunks with the session', async () => {
        const { id } = await startChat();
        await fill(id, 2 * CHUNK_EVENTS + 5);
        const keysOf = async (): Promise<string[]> => {
          const keys: string[] = [];
          for await (const [key] of store.entries('')) if (key.includes(id)) keys.push(key);
          return keys;
        };
        expect((await keysOf()).filter((key) => key.includes('transcript:'))).to.have.length(2);
        now += 61_000;
        expect(await expireDue()).to.equal(1);
        // Removing the rest is not awaited by the sweep: wait for it, however busy the machine.
        await eventually(async () => (await keysOf()).length === 0, 3000, 'the chunks to be removed');
      });
    });

    describe('polls', () => {
      /** Holds the session's lock, as a change in progress does, until `release` is called. */
      function holdLock(id: string): { release: () => void; done: Promise<void> } {
        let release = (): void => undefined;
        const done = store.update<ServiceSession, void>(
          `session:${id}`,
          () => new Promise((resolve) => (release = () => resolve({ result: undefined }))),
        );
        return { release: () => release(), done };
      }
      const settled = async (p: Promise<unknown>): Promise<boolean> => {
        let done = false;
        void p.then(() => (done = true));
        for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
        return done;
      };

      it(`a poll with nothing to write is answered ${kind.cached ? 'from memory, without waiting for a change in progress' : 'under the lock'}, and the change shows in the next one`, async () => {
        const { id, view } = await startChat();
        await domain.refresh(id, undefined, undefined);
        const lock = holdLock(id);
        await new Promise((resolve) => setImmediate(resolve));
        const poll = domain.refresh(id, undefined, undefined);
        try {
          expect(await settled(poll)).to.equal(kind.cached);
        } finally {
          lock.release();
        }
        await lock.done;
        expect((await poll).events).to.deep.equal([]);
        await domain.accept(view.chat.chatSessionId, { id: 'alice', nickname: 'Alice' });
        const next = await domain.refresh(id, undefined, undefined);
        expect(next.events.map((e) => e.type)).to.deep.equal(['Notice.Joined']);
        expect((await domain.refresh(id, undefined, undefined)).events).to.deep.equal([]);
      });

      it(`a Chat API v2 refresh (seen) is a poll too${kind.cached ? ', answered from memory when it has nothing to write' : ''}`, async () => {
        const { id } = await startChat();
        await domain.seen(id, undefined);
        const lock = holdLock(id);
        await new Promise((resolve) => setImmediate(resolve));
        const poll = domain.seen(id, undefined);
        try {
          expect(await settled(poll)).to.equal(kind.cached);
        } finally {
          lock.release();
        }
        expect((await poll).position).to.equal(1);
        const session = await domain.createSession(service, {});
        expect((await rejection(domain.seen(session.id, undefined))).exception).to.equal('ChatNotStarted');
      });

      it('a poll that extends the stored expiry waits for the lock and writes it', async () => {
        const { id } = await startChat();
        now += 5_000;
        const lock = holdLock(id);
        await new Promise((resolve) => setImmediate(resolve));
        const poll = domain.refresh(id, undefined, undefined);
        try {
          expect(await settled(poll)).to.equal(false);
        } finally {
          lock.release();
        }
        await poll;
        expect((await store.get<ServiceSession>(`session:${id}`))?.expiresAt).to.equal(now + service.ttl * 1000);
      });

      it('a poll within the slack leaves the stored expiry as written, and refuses what it refused under the lock', async () => {
        const { id } = await startChat();
        const written = (await store.get<ServiceSession>(`session:${id}`))?.expiresAt;
        now += 500;
        await domain.refresh(id, undefined, undefined);
        expect((await store.get<ServiceSession>(`session:${id}`))?.expiresAt).to.equal(written);
        const owned = await domain.createSession(service, {}, 'user-1');
        await domain.startChat(owned.id, 'user-1', { userData: {} });
        expect((await rejection(domain.refresh(owned.id, 'user-2', undefined))).exception).to.equal('Forbidden');
        service = { ...service, disconnectedStatus: 400 };
        await domain.disconnect(id, undefined);
        now += 10;
        expect((await rejection(domain.refresh(id, undefined, undefined))).exception).to.equal('ChatEnded');
      });
    });

    describe('time to live', () => {
      it('a session lives ttl seconds after its last activity, and each activity extends it', async () => {
        const { id } = await startChat();
        now += 59_000;
        await domain.send(id, undefined, 'still here');
        now += 59_000;
        expect((await domain.refresh(id, undefined, 0)).events).to.have.length(2);
        now += 60_000;
        expect((await rejection(domain.refresh(id, undefined, 0))).exception).to.equal('SessionNotFound');
        expect((await rejection(domain.send(id, undefined, 'too late'))).exception).to.equal('SessionNotFound');
      });

      it('expiry ends the chat for the agents, removes the session, its chat index and its queue entry', async () => {
        const { id, view } = await startChat();
        const other = await startChat();
        now += 30_000;
        await domain.send(other.id, undefined, 'keep me');
        now += 31_000;
        updates = [];

        expect(await expireDue()).to.equal(1);
        expect(await store.get(`session:${id}`)).to.equal(undefined);
        expect(await store.get(`chat:${view.chat.chatSessionId}`)).to.equal(undefined);
        expect(await domain.findChat(view.chat.chatSessionId)).to.equal(undefined);
        expect(await router.waiting('gms_builtin')).to.deep.equal([other.view.chat.chatSessionId]);
        expect(updates).to.have.length(1);
        expect(updates[0]).to.include({ chatSessionId: view.chat.chatSessionId, state: 'ended' });
        expect(updates[0].events.map((e) => e.type)).to.deep.equal(['Notice.Left']);
        // The other session had activity and is untouched; a second sweep finds nothing more.
        expect(await expireDue()).to.equal(0);
        expect((await domain.refresh(other.id, undefined, 0)).events).to.have.length(2);
      });

      it('the sweep counts the chats under way, waiting by endpoint and connected, by service and by agent, and stores that census', async () => {
        const sweeper = new ExpirySweeper({
          store,
          clock: { now: () => now },
          sessions: domain,
          node: 'node-a',
          intervalMs: 1000,
        });
        const accepted = await startChat();
        await domain.accept(accepted.view.chat.chatSessionId, { id: 'alice', nickname: 'Alice' });
        const waiting = await startChat();
        const ended = await startChat();
        await domain.disconnect(ended.id, undefined);
        await domain.createSession(service, {}); // a session without a chat is not a chat
        await startChat(); // left to expire
        now += 30_000;
        for (const { id } of [accepted, waiting, ended]) await domain.refresh(id, undefined, 0);
        now += 31_000;
        const { expired, census } = await sweeper.sweep();
        expect(expired).to.equal(2);
        expect(census).to.deep.equal({
          waiting: { gms_builtin: 1 },
          connected: 1,
          services: { [service.name]: { waiting: 1, connected: 1 } },
          agents: { alice: 1 },
          // The agents' figures come from the full scan, which the first pass takes.
          scannedAt: now,
          node: 'node-a',
          at: now,
        });
        expect(await sweeper.census()).to.deep.equal(census);
      });

      it('an ended chat or a session without a chat expires too, without any event', async () => {
        const { id, view } = await startChat();
        await domain.disconnect(id, undefined);
        const bare = await domain.createSession(service, {});
        now += 61_000;
        updates = [];
        expect(await expireDue()).to.equal(2);
        expect(await store.get(`session:${id}`)).to.equal(undefined);
        expect(await store.get(`session:${bare.id}`)).to.equal(undefined);
        expect(await store.get(`chat:${view.chat.chatSessionId}`)).to.equal(undefined);
        expect(updates).to.deep.equal([]);
      });

      it("a changed ttl in the service's options applies to a session at its next activity", async () => {
        const { id } = await startChat();
        service = { ...service, ttl: 5 };
        now += 10_000;
        // 10 s passed since the change, more than the new ttl: the session still runs on the one it was given.
        await domain.send(id, undefined, 'touch');
        const stored = await store.get<ServiceSession>(`session:${id}`);
        expect(stored?.ttl).to.equal(5);
        expect(stored?.expiresAt).to.equal(now + 5000);
        now += 5_000;
        expect((await rejection(domain.refresh(id, undefined, 0))).exception).to.equal('SessionNotFound');
        expect(await expireDue()).to.equal(1);
      });
    });
  });
