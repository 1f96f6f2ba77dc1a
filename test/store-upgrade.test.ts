// A store written by the previous version (its queues, agents' lists and comet index as records of their
// own, written after the session) is brought to this version's layout when the gateway starts: the
// waiting chat is listed and counted, the agent's chat is theirs, the customer's comet chat is found,
// and the old records are gone. The file is laid out row by row as that version wrote it.

import path from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { awaySet, EXPIRY_SET, queueSet } from '../src/chat/session-records.ts';
import { agentClient, endpointFile } from './helpers/agent-client.ts';
import { eventually, makeTempDir, startTestGateway, type TestGateway } from './helpers/gateway.ts';

/** An SQLite file holding `rows` as an earlier version laid them out (keyv's table, namespace `gms`). */
function writeRows(file: string, rows: Record<string, unknown>, now: number): void {
  const db = new Database(file);
  db.exec('CREATE TABLE keyv(key VARCHAR(255) PRIMARY KEY, value TEXT )');
  const insert = db.prepare('INSERT INTO keyv (key, value) VALUES (?, ?)');
  for (const [key, value] of Object.entries(rows)) insert.run(`gms:${key}`, JSON.stringify({ value, expires: now + 3_600_000 }));
  db.close();
}

describe('a store written by the previous version', () => {
  let gw: TestGateway | undefined;
  afterEach(() => gw?.close());

  it('is upgraded at start: its waiting, taken and comet chats are found as before, and its old records removed', async () => {
    const file = path.join(await makeTempDir('gms-upgrade-'), 'sessions.sqlite');
    const now = Date.now();
    const session = (id: string, chat: Record<string, unknown>, gmsUser?: string) => ({
      id,
      service: 'request-chat',
      createdAt: now,
      lastActivity: now,
      ttl: 600,
      expiresAt: now + 600_000,
      data: {},
      ...(gmsUser ? { gmsUser } : {}),
      chat: {
        startedAt: now - 1000,
        endpoint: 'gms_builtin',
        notifyBy: 'poll',
        userId: 'U',
        secureKey: 'K',
        customer: { nickname: 'Ann', userData: {} },
        agents: [],
        events: [
          {
            position: 1,
            type: 'Notice.Joined',
            nickname: 'Ann',
            text: 'has joined the session',
            at: now - 1000,
            partyType: 'CLIENT',
          },
        ],
        clientPosition: 1,
        indexExpiresAt: now + 2_400_000,
        ...chat,
      },
    });
    const rows: Record<string, unknown> = {
      'session:S1': session('S1', { chatSessionId: 'C1', state: 'waiting' }),
      'chat:C1': 'S1',
      'session:S2': session('S2', {
        chatSessionId: 'C2',
        state: 'connected',
        agents: [{ id: 'alice', nickname: 'Alice', joinedAt: now }],
      }),
      'chat:C2': 'S2',
      'session:S3': session(
        'S3',
        {
          chatSessionId: 'C3',
          state: 'connected',
          notifyBy: 'comet',
          agents: [{ id: 'alice', nickname: 'Alice', joinedAt: now }],
        },
        'ann',
      ),
      'chat:C3': 'S3',
      // The previous layout: queue shards, agents' lists and the comet index as records.
      'queue:gms_builtin#5': { chunks: [], tail: ['C1', 'C-GONE'], tailFrom: now - 1000, tailTo: now - 1000 },
      'agent-chats:alice': ['C2', 'C3'],
      'comet:ann': ['S3'],
    };
    writeRows(file, rows, now);

    gw = await startTestGateway({
      endpoints: { 'gms_builtin.json': endpointFile(['alice']) },
      env: { STORE_URL: `sqlite://${file}` },
    });
    const alice = agentClient(gw, 'alice');
    const ids = (reply: { body: { chats: { chatSessionId: string }[] } }) => reply.body.chats.map((c) => c.chatSessionId).sort();
    expect(ids(await alice.get('/chats'))).to.deep.equal(['C1']);
    expect(await gw.store.count(queueSet('gms_builtin'))).to.equal(1);
    expect(ids(await alice.get('/chats?state=mine'))).to.deep.equal(['C2', 'C3']);
    expect(await gw.domain.cometChatsOf('ann')).to.deep.equal(['S3']);
    expect((await alice.post('/chats/C1/accept')).status).to.equal(200);
    expect(ids(await alice.get('/chats'))).to.deep.equal([]);

    const old = new Database(file, { readonly: true });
    const left = old
      .prepare<[], { key: string }>(
        "SELECT key FROM keyv WHERE key LIKE 'gms:queue:%' OR key LIKE 'gms:agent-chats:%' OR key LIKE 'gms:comet:%'",
      )
      .all();
    old.close();
    expect(left).to.deep.equal([]);
  });

  it('written with sets but no expiry index (layout 2): its sessions are indexed at start, and the due ones end', async () => {
    const file = path.join(await makeTempDir('gms-upgrade-'), 'sessions.sqlite');
    const now = Date.now();
    const session = (id: string, expiresAt: number) => ({
      id,
      service: 'request-chat',
      createdAt: now - 60_000,
      lastActivity: now - 60_000,
      ttl: 600,
      expiresAt,
      data: {},
    });
    const rows: Record<string, unknown> = {
      'session:LIVE': session('LIVE', now + 600_000),
      // Its time ran out while no gateway ran; its row is still kept (the store's grace).
      'session:DUE': session('DUE', now - 1000),
      'store-layout': 2,
    };
    writeRows(file, rows, now);

    // The full scan (which ended due sessions in earlier versions) is kept out of the way.
    gw = await startTestGateway({
      env: { STORE_URL: `sqlite://${file}`, SWEEP_INTERVAL_MS: '50', SWEEP_SCAN_INTERVAL_MS: '600000' },
    });
    expect(await gw.store.upTo(EXPIRY_SET, now + 600_000, 10)).to.include('LIVE');
    await eventually(async () => (await gw!.store.get('session:DUE')) === undefined, 3000, 'the due session ended');
    expect(await gw.store.members(EXPIRY_SET)).to.deep.equal(['LIVE']);
  });

  it('written before the sets of absent customers (layout 3): a chat whose customer left long ago is warned after the upgrade', async () => {
    const file = path.join(await makeTempDir('gms-upgrade-'), 'sessions.sqlite');
    const now = Date.now();
    const rows: Record<string, unknown> = {
      'session:GONE': {
        id: 'GONE',
        service: 'brisk',
        createdAt: now - 60_000,
        lastActivity: now - 60_000,
        ttl: 600,
        expiresAt: now + 540_000,
        data: {},
        chat: {
          chatSessionId: 'CG',
          state: 'waiting',
          startedAt: now - 60_000,
          customerSeenAt: now - 60_000,
          endpoint: 'gms_builtin',
          notifyBy: 'poll',
          userId: 'U',
          secureKey: 'K',
          customer: { nickname: 'Gus', userData: {} },
          agents: [],
          events: [
            {
              position: 1,
              type: 'Notice.Joined',
              nickname: 'Gus',
              text: 'has joined the session',
              at: now - 60_000,
              partyType: 'CLIENT',
            },
          ],
          clientPosition: 1,
          indexExpiresAt: now + 2_400_000,
        },
      },
      'chat:CG': 'GONE',
      'store-layout': 3,
    };
    writeRows(file, rows, now);

    gw = await startTestGateway({
      services: { 'brisk.json': { customerIdleWarning: 5, customerIdleEnd: 600 } },
      env: { STORE_URL: `sqlite://${file}`, SWEEP_INTERVAL_MS: '50', SWEEP_SCAN_INTERVAL_MS: '600000' },
    });
    await eventually(
      async () => {
        const session = await gw!.store.get<{ chat: { events: { type: string }[] } }>('session:GONE');
        return session?.chat.events.some((e) => e.type === 'Notice.Custom') ?? false;
      },
      3000,
      'the warning',
    );
    expect(await gw.store.members(awaySet('brisk'))).to.deep.equal([]);
  });
});
