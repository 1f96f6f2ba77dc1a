// Time to live over HTTP (spec §3): a session lives `ttl` seconds after its last activity, then answers
// 404 SessionNotFound and is really removed from the store; an edited ttl applies at the next activity.
// The store is the embedded SQLite file, read directly to see what is really kept. The gateway runs on a
// test clock: a ttl runs out when the test moves the clock past it, not after waiting it out.

import path from 'node:path';
import { expect } from 'chai';
import { startCustomerChat } from './helpers/chat-client.ts';
import { eventually, makeTempDir, startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { rowsMentioning } from './helpers/sqlite-file.ts';
import { TestClock } from './helpers/test-clock.ts';

describe('time to live of service sessions', () => {
  let gw: TestGateway;
  let file: string;
  let clock: TestClock;

  async function gateway(services: Record<string, unknown>): Promise<TestGateway> {
    file = path.join(await makeTempDir('gms-ttl-'), 'sessions.sqlite');
    clock = new TestClock();
    gw = await startTestGateway({ services, clock, env: { STORE_URL: `sqlite://${file}`, SWEEP_INTERVAL_MS: '50' } });
    return gw;
  }

  const gone = (text: string) => async (): Promise<boolean> => (await rowsMentioning(file, text)).length === 0;

  afterEach(async () => {
    await gw?.close();
  });

  it('a session idle for longer than its ttl answers 404 SessionNotFound, and nothing of it is left in the store', async () => {
    await gateway({ 'brief.json': { ttl: 60 } });
    const chat = await startCustomerChat(gw, { service: 'brief' });
    await chat.call('send', { message: 'a secret' });
    const chatSessionId = chat.start.body.chatSessionId as string;
    expect(await rowsMentioning(file, chat.id)).to.include(`gms:session:${chat.id}`);
    const rows = await rowsMentioning(file, chatSessionId);
    expect(rows).to.include(`gms:chat:${chatSessionId}`);
    expect(rows.filter((key) => key.startsWith('gms:queue:gms_builtin'))).to.have.length(1);

    // Alive until its ttl has passed, then removed, not hidden: no row holds the session, its chat index,
    // its queue entry or its messages.
    clock.advance(55_000); // short of the ttl by more than a loaded machine's real seconds (the clock is real time plus jumps)
    expect((await chat.call('refresh')).status).to.equal(200);
    clock.advance(60_001);
    await eventually(gone(chat.id), 5000, 'the session to be removed from the store');
    expect(await rowsMentioning(file, chatSessionId)).to.deep.equal([]);
    expect(await rowsMentioning(file, 'a secret')).to.deep.equal([]);

    for (const action of ['refresh', 'send', 'refreshFromStart', 'startTyping', 'disconnect', '']) {
      const reply = await chat.call(action, { message: 'hello?' });
      expect(reply.status, action).to.equal(404);
      expect(reply.body).to.deep.equal({ message: reply.body.message, exception: 'SessionNotFound' });
    }
  });

  it('every call on a session is activity that keeps it alive past its ttl', async () => {
    await gateway({ 'brief.json': { ttl: 60 } });
    const chat = await startCustomerChat(gw, { service: 'brief' });
    // Three minutes in all, never one without a call.
    for (let i = 0; i < 4; i++) {
      clock.advance(45_000);
      expect((await chat.call('refresh')).status).to.equal(200);
    }
    expect((await chat.call('refreshFromStart')).body.transcriptPosition).to.equal('1');
  });

  it('a ttl edited in the service file applies to new sessions at once, and to a running one at its next activity', async () => {
    await gateway({ 'support.json': { ttl: 3600 } });
    const chat = await startCustomerChat(gw, { service: 'support' });
    await gw.writeService('support.json', { ttl: 30 });
    const probe: string = await eventually(
      async () => {
        const created = await gw.post('/genesys/1/service/support', { _gateway_extras: 'true' });
        return created.body._ttl === 30 ? (created.body._id as string) : '';
      },
      3000,
      'the edited service file to load',
    );

    // A new session runs on the new ttl and is gone once 30 seconds have passed; the running chat, idle since
    // the edit, is still kept on the ttl it was last given.
    clock.advance(30_001);
    await eventually(gone(probe), 4000, 'the new session to expire');
    expect(await rowsMentioning(file, chat.id)).to.include(`gms:session:${chat.id}`);

    expect((await chat.call('send', { message: 'still there?' })).status).to.equal(200);
    clock.advance(30_001);
    await eventually(gone(chat.id), 4000, 'the running session to expire on its new ttl');
    expect((await chat.call('refresh')).body.exception).to.equal('SessionNotFound');
  });
});
