// Sessions on the embedded SQLite store: a hot session is read from memory as the stored object itself,
// with no copy and no JSON work, so stored values are shared snapshots (store.ts). A failed update,
// refused by the domain or by the file, must leave what every reader sees exactly as it was. Real chat
// domain, real SQLite file, and a second connection to that file to make its writes fail.

import { expect } from 'chai';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ChatDomain } from '../src/chat/chat-service.ts';
import type { ChatUpdate, ServiceOptions, ServiceSession } from '../src/chat/types.ts';
import { QueueRouter } from '../src/endpoints/queue-router.ts';
import { createLogger } from '../src/log.ts';
import { readSettings } from '../src/settings.ts';
import { openStore } from '../src/store/open-store.ts';
import type { Store } from '../src/store/store.ts';
import { makeTempDir } from './helpers/gateway.ts';
import { rejection } from './helpers/rejection.ts';
import { requireRedis, SHARED_REDIS_URL, uniquePrefix } from './helpers/redis-nodes.ts';
import { otherConnection } from './helpers/sqlite-file.ts';

const MAX_EVENTS = 4;

/** Runs one statement on the file through a connection of its own, as another program would. */
function execOn(file: string, sql: string): void {
  const db = otherConnection(file);
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}

describe('hot sessions on the embedded SQLite store', () => {
  let dir: string;
  let file: string;
  let store: Store;
  let router: QueueRouter;
  let domain: ChatDomain;
  let updates: ChatUpdate[];
  const service: ServiceOptions = {
    name: 'support',
    ttl: 60,
    endpoint: 'gms_builtin',
    enabled: true,
    maxMessageLength: 100,
    disconnectedStatus: 200,
  };

  async function open(): Promise<void> {
    store = await openStore({ url: `sqlite://${file}`, prefix: 'test', log: createLogger('silent') });
    router = new QueueRouter(store, (name) => (name === 'gms_builtin' ? { open: true } : undefined));
    domain = new ChatDomain({
      store,
      services: (name) => (name === service.name ? service : undefined),
      router,
      listener: { chatUpdated: (update) => updates.push(update) },
      clock: { now: () => Date.now() },
      limits: { maxTranscriptEvents: MAX_EVENTS },
    });
  }

  beforeEach(async () => {
    dir = await makeTempDir();
    file = path.join(dir, 'sessions.sqlite');
    updates = [];
    await open();
  });

  afterEach(async () => {
    await store.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function startChat(): Promise<{ id: string; chatSessionId: string }> {
    const session = await domain.createSession(service, {});
    const view = await domain.startChat(session.id, undefined, { firstName: 'Ann', userData: {} });
    return { id: session.id, chatSessionId: view.chat.chatSessionId };
  }

  async function transcript(id: string): Promise<string[]> {
    const session = await store.get<ServiceSession>(`session:${id}`);
    return (session?.chat?.events ?? []).map((e) => `${e.position} ${e.nickname}: ${e.text}`);
  }

  it('a hot session is read from memory: every read hands out the same stored object, no copy', async () => {
    const { id } = await startChat();
    await domain.send(id, undefined, 'hello');
    const first = await store.get<ServiceSession>(`session:${id}`);
    expect(await store.get<ServiceSession>(`session:${id}`)).to.equal(first);
    expect(await domain.getSession(id, undefined)).to.equal(first);
    // A change stores a new version: the old snapshot its readers hold stays as they read it.
    await domain.send(id, undefined, 'again');
    expect(first?.chat?.events).to.have.length(2);
    expect(await transcript(id)).to.deep.equal(['1 Ann: has joined the session', '2 Ann: hello', '3 Ann: again']);
  });

  it('an agent accepting a chat at its transcript limit is refused, and the chat still waits with no agent in it', async () => {
    const { id, chatSessionId } = await startChat();
    for (const text of ['two', 'three', 'four']) await domain.send(id, undefined, text);
    const before = await transcript(id);
    expect(before).to.have.length(MAX_EVENTS);

    // Accepting adds the agent and connects the chat before its Joined notice meets the limit.
    expect((await rejection(domain.accept(chatSessionId, { id: 'a1', nickname: 'Bob' }))).exception).to.equal('InvalidParameter');
    const found = await domain.findChat(chatSessionId);
    expect(found?.chat.state).to.equal('waiting');
    expect(found?.chat.agents).to.deep.equal([]);
    expect(await transcript(id)).to.deep.equal(before);
    expect(await router.waiting('gms_builtin')).to.deep.equal([chatSessionId]);
    // The customer can still leave, and what the file kept is what memory showed.
    await domain.disconnect(id, undefined);
    await store.close();
    await open();
    expect(await transcript(id)).to.deep.equal([...before, '5 Ann: has left the session']);
    expect((await domain.findChat(chatSessionId))?.chat.agents).to.deep.equal([]);
  });

  it('a send whose write the file refuses fails with 503, and the transcript is unchanged; the next send goes on from it', async () => {
    const { id } = await startChat();
    await domain.send(id, undefined, 'kept');
    const before = await transcript(id);
    updates = [];

    // Another program takes the table away: the gateway's next write fails, its reads still come from memory.
    execOn(file, 'ALTER TABLE keyv RENAME TO keyv_away');
    expect((await rejection(domain.send(id, undefined, 'lost'))).exception).to.equal('ServiceUnavailable');
    expect(await transcript(id)).to.deep.equal(before);
    expect(updates).to.deep.equal([]);

    execOn(file, 'ALTER TABLE keyv_away RENAME TO keyv');
    const view = await domain.send(id, undefined, 'after');
    expect(view.position).to.equal(3);
    expect(await transcript(id)).to.deep.equal([...before, '3 Ann: after']);
    await store.close();
    await open();
    expect(await transcript(id)).to.deep.equal([...before, '3 Ann: after']);
  });
});

describe('a store whose values are frozen (test gateways)', () => {
  it('refuses any change to a value it handed out, so a missed copy-on-write fails where it happens', async () => {
    const store = await openStore({
      url: 'memory://',
      prefix: 'frozen',
      log: createLogger('silent'),
      cacheEntries: 10,
      freezeValues: true,
    });
    try {
      await store.set('k', { list: [1], nested: { n: 1 } }, 60_000);
      const value = (await store.get<{ list: number[]; nested: { n: number } }>('k'))!;
      expect(() => value.list.push(2)).to.throw(TypeError);
      expect(() => {
        value.nested.n = 2;
      }).to.throw(TypeError);
      await store.update<{ list: number[] }, void>('k', (current) => {
        expect(() => current!.list.push(3)).to.throw(TypeError);
        return { write: { list: [...current!.list, 3] }, ttlMs: 60_000, result: undefined };
      });
      expect(await store.get('k')).to.deep.equal({ list: [1, 3] });
    } finally {
      await store.close();
    }
  });
});

describe('how many hot values the embedded store keeps (STORE_CACHE_ENTRIES)', () => {
  /** Whether the first value of three written is still handed out as the very object written (kept in memory). */
  async function keptInMemory(url: string, cacheEntries?: number, prefix = 'cache'): Promise<boolean> {
    const store = await openStore({
      url,
      prefix,
      log: createLogger('silent'),
      ...(cacheEntries === undefined ? {} : { cacheEntries }),
    });
    try {
      const written = [0, 1, 2].map((i) => ({ i }));
      for (const [i, value] of written.entries()) await store.set(`k${i}`, value, 60_000);
      const read = await store.get('k0');
      expect(read).to.deep.equal({ i: 0 });
      return read === written[0];
    } finally {
      await store.close();
    }
  }
  const sqliteUrl = async (): Promise<string> => `sqlite://${path.join(await makeTempDir('gms-cache-'), 's.sqlite')}`;

  it('keeps them by default, up to the number set, and none at 0 (every read from the file)', async () => {
    expect(await keptInMemory(await sqliteUrl())).to.equal(true);
    // Three values written, room for two: the oldest was let go and is read back from the file.
    expect(await keptInMemory(await sqliteUrl(), 2)).to.equal(false);
    expect(await keptInMemory(await sqliteUrl(), 0)).to.equal(false);
  });

  it('is read from the environment, 100,000 by default; a bad value is refused', () => {
    expect(readSettings({}).storeCacheEntries).to.equal(100_000);
    expect(readSettings({ STORE_CACHE_ENTRIES: '0' }).storeCacheEntries).to.equal(0);
    expect(() => readSettings({ STORE_CACHE_ENTRIES: 'lots' })).to.throw(/STORE_CACHE_ENTRIES/);
  });

  it('is never used for Redis, which other gateways write too', async function () {
    await requireRedis(this);
    expect(await keptInMemory(SHARED_REDIS_URL, 1000, uniquePrefix('cache'))).to.equal(false);
  });
});
