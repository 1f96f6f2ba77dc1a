// Sessions on the embedded SQLite store (STORE_URL=sqlite://...) survive a restart of the gateway: the
// chat, its transcript, the customer's position and its owner are all there when a new gateway starts.

import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { startCustomerChat } from './helpers/chat-client.ts';
import { eventually, makeTempDir, startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { CHUNK_EVENTS } from '../src/chat/session-records.ts';
import { rowsMentioning, storedRows } from './helpers/sqlite-file.ts';
import { TestClock } from './helpers/test-clock.ts';

describe('sessions on the embedded SQLite store', () => {
  let installed: string | undefined;
  let env: Record<string, string>;
  let file: string;
  /** Every gateway of a test runs on it: a ttl runs out when the test moves it, not by waiting. */
  let clock: TestClock;
  const running: TestGateway[] = [];

  /** The first call installs a gateway in its own folders; later calls restart that same installation. */
  const start = async (): Promise<TestGateway> => {
    const gw = await startTestGateway(
      installed
        ? { env, clock, dir: installed }
        : { env, clock, services: { 'request-chat.json': {}, 'brief.json': { ttl: 60 } } },
    );
    installed = gw.dir;
    running.push(gw);
    return gw;
  };

  beforeEach(async () => {
    installed = undefined;
    clock = new TestClock();
    file = path.join(await makeTempDir('gms-persist-'), 'data', 'sessions.sqlite');
    env = { STORE_URL: `sqlite://${file}`, SWEEP_INTERVAL_MS: '50' };
  });

  afterEach(async () => {
    for (const gw of running.splice(0)) await gw.close();
  });

  it("the SQLite file, its write-ahead log and the folder it is created in are private to the gateway's user (0600 / 0700)", async () => {
    const gw = await start();
    await startCustomerChat(gw);
    const mode = async (p: string): Promise<number> => (await fs.stat(p)).mode & 0o777;
    expect(await mode(file)).to.equal(0o600);
    expect(await mode(`${file}-wal`)).to.equal(0o600);
    expect(await mode(path.dirname(file))).to.equal(0o700);
  });

  it('a chat stopped mid-way is all there after the gateway restarts: transcript, position and owner', async () => {
    const first = await start();
    const chat = await startCustomerChat(first, { headers: { gms_user: 'ann' } });
    // Texts that look like keyv's own markers (a leading colon, ':base64:') come back as sent.
    await chat.call('send', { message: ':base64:aGk= :) before the restart' });
    await chat.call('startTyping');
    const before = await chat.call('refreshFromStart');
    expect(before.body.transcriptPosition).to.equal('3');
    await first.close();

    const second = await start();
    const again = {
      call: (action: string, body: Record<string, string> = {}) =>
        second.post(`/genesys/1/service/${chat.id}/ixn/chat/${action}`, body, { gms_user: 'ann' }),
    };
    // The position the server kept for this customer survived: an empty poll shows nothing new.
    const poll = await again.call('refresh');
    expect(poll.status).to.equal(200);
    expect(poll.body).to.include({
      chatIxnState: 'CONNECTED',
      transcriptPosition: '3',
      chatSessionId: chat.start.body.chatSessionId,
    });
    expect(poll.body.transcriptToShow).to.deep.equal([]);
    const whole = await again.call('refreshFromStart');
    expect(whole.body.transcriptToShow).to.deep.equal(before.body.transcriptToShow);
    expect(whole.body.transcriptToShow[1][2]).to.equal(':base64:aGk= :) before the restart');
    expect(whole.body.startedAt).to.equal(chat.start.body.startedAt);

    const after = await again.call('send', { message: 'after the restart' });
    expect(after.body.transcriptPosition).to.equal('4');
    expect(after.body.transcriptToShow.map((e: string[]) => e[2])).to.deep.equal(['after the restart']);
    const intruder = await second.post(`/genesys/1/service/${chat.id}/ixn/chat/refresh`, {}, { gms_user: 'mallory' });
    expect(intruder.status).to.equal(403);
  });

  it('50 concurrent sends on the SQLite store all land, at positions 2..51', async () => {
    const gw = await start();
    const chat = await startCustomerChat(gw);
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => chat.call('send', { message: `m${i}` })));
    expect(replies.map((r) => r.status).filter((s) => s !== 200)).to.deep.equal([]);
    const whole = await chat.call('refreshFromStart');
    expect(whole.body.transcriptPosition).to.equal('51');
    expect(
      whole.body.transcriptToShow
        .slice(1)
        .map((e: string[]) => e[2])
        .sort(),
    ).to.deep.equal(Array.from({ length: 50 }, (_, i) => `m${i}`).sort());
  });

  it('sends to 40 chats at once (written to the file together) are each acknowledged and all there after a restart', async () => {
    const first = await start();
    const chats = await Promise.all(Array.from({ length: 40 }, () => startCustomerChat(first)));
    const replies = await Promise.all(chats.map((chat, i) => chat.call('send', { message: `to chat ${i}` })));
    expect(replies.map((r) => r.status).filter((s) => s !== 200)).to.deep.equal([]);
    await first.close();

    const second = await start();
    const texts = await Promise.all(
      chats.map(async (chat) => {
        const whole = await second.post(`/genesys/1/service/${chat.id}/ixn/chat/refreshFromStart`);
        return whole.body.transcriptToShow.map((e: string[]) => e[2]).slice(1);
      }),
    );
    expect(texts).to.deep.equal(chats.map((_, i) => [`to chat ${i}`]));
  });

  it('a long chat is all there after a restart, and its session row stays as small as a short one', async () => {
    const first = await start();
    const chat = await startCustomerChat(first);
    for (let n = 2; n <= 100; n++) expect((await chat.call('send', { message: `message ${n}` })).status).to.equal(200);
    const before = await chat.call('refreshFromStart');
    expect(before.body.transcriptToShow).to.have.length(100);
    await first.close();

    // The session's own row holds only the events after the sealed chunks; the chunks are rows of their own.
    const rows = (await storedRows(file)).filter((row) => row.key.includes(chat.id));
    const session = rows.find((row) => row.key.endsWith(`session:${chat.id}`))!;
    const stored = (JSON.parse(session.value) as { value: { chat: { events: unknown[] } } }).value;
    expect(stored.chat.events.length).to.be.below(CHUNK_EVENTS);
    expect(rows.filter((row) => row.key.includes(`transcript:${chat.id}:`))).to.have.length(Math.floor(100 / CHUNK_EVENTS));

    const second = await start();
    const whole = await second.post(`/genesys/1/service/${chat.id}/ixn/chat/refreshFromStart`);
    expect(whole.body.transcriptToShow).to.deep.equal(before.body.transcriptToShow);
    const next = await second.post(`/genesys/1/service/${chat.id}/ixn/chat/send`, { message: 'after the restart' });
    expect(next.body.transcriptPosition).to.equal('101');
  });

  it('an expired long chat leaves no row behind: session, chat index and transcript chunks', async () => {
    const gw = await start();
    const chat = await startCustomerChat(gw, { service: 'brief' });
    for (let n = 2; n <= 2 * CHUNK_EVENTS + 3; n++)
      expect((await chat.call('send', { message: `message ${n}` })).status).to.equal(200);
    expect((await rowsMentioning(file, chat.id)).filter((key) => key.includes('transcript:'))).to.have.length(2);
    clock.advance(60_001);
    await eventually(
      async () => (await rowsMentioning(file, chat.id)).length === 0,
      5000,
      'the expired session and its chunks to be removed',
    );
    expect(await rowsMentioning(file, chat.start.body.chatSessionId)).to.deep.equal([]);
  });

  it('a session whose ttl ran out while the gateway was stopped is gone, and removed, when it starts again', async () => {
    const first = await start();
    const chat = await startCustomerChat(first, { service: 'brief' });
    await first.close();
    expect(await rowsMentioning(file, chat.id)).to.not.deep.equal([]);
    // The gateway is down for longer than the service's ttl of a minute.
    clock.advance(60_001);

    const second = await start();
    const reply = await second.post(`/genesys/1/service/${chat.id}/ixn/chat/refresh`);
    expect(reply.status).to.equal(404);
    expect(reply.body.exception).to.equal('SessionNotFound');
    await eventually(async () => (await rowsMentioning(file, chat.id)).length === 0, 3000, 'the expired session to be removed');
    expect(await rowsMentioning(file, chat.start.body.chatSessionId)).to.deep.equal([]);
  });
});
