// Chat API Version 2 over real HTTP: the request sequences of the public v2 clients (Genesys Widgets'
// WebChat, a React Native app, a Python bot), replayed with their form bodies; a v1 and a v2 customer
// answered by one agent; the secureKey on every call; a restart on the SQLite store; the service option.

import path from 'node:path';
import { expect } from 'chai';
import { agentClient, endpointFile, type AgentClient } from './helpers/agent-client.ts';
import { startCustomerChat } from './helpers/chat-client.ts';
import { startV2Chat } from './helpers/chat-v2-client.ts';
import { eventually, makeTempDir, startTestGateway, type Reply, type TestGateway } from './helpers/gateway.ts';

interface Message {
  from: { nickname: string; participantId: number; type: string };
  index: number;
  type: string;
  utcTime: number;
  text?: string;
  userData?: Record<string, string>;
}

const messagesOf = (reply: Reply): Message[] => reply.body.messages as Message[];

describe('Chat API Version 2', () => {
  let gw: TestGateway;
  let alice: AgentClient;

  before(async () => {
    gw = await startTestGateway({
      services: { 'request-chat.json': {}, 'v1-only.json': { chatApiVersions: [1] }, 'v2-only.json': { chatApiVersions: [2] } },
      endpoints: { 'gms_builtin.json': endpointFile(['alice']) },
    });
    alice = agentClient(gw, 'alice');
  });
  after(() => gw.close());

  it("replays Genesys Widgets' WebChat: userData[...] form keys, refresh from nextPosition, typing, send, disconnect", async () => {
    // WebChat posts its registration form with jQuery: nested userData becomes userData[key]=value.
    const form = new URLSearchParams({
      nickname: 'Ann',
      firstName: 'Ann',
      lastName: 'Lee',
      emailAddress: 'ann@example.com',
      subject: 'Billing',
      'userData[_genesys_widgets]': '9.0.017.00',
      'userData[_genesys_source]': 'web',
      'userData[GCTI_LanguageCode]': 'en',
    });
    const start = await gw.post('/genesys/2/chat/request-chat', form);
    expect(start.status).to.equal(200);
    expect(start.body).to.include({ statusCode: 0, alias: 'gms_builtin', nextPosition: 2, chatEnded: false });
    expect(start.body.chatId).to.match(/^[0-9A-F]{16}$/);
    expect(start.body.userId).to.match(/^[0-9A-F]{16}$/);
    expect(start.body.secureKey).to.match(/^[0-9A-F]{16}$/);
    expect(messagesOf(start)).to.have.length(1);
    expect(messagesOf(start)[0]).to.deep.include({
      from: { nickname: 'Ann', participantId: 1, type: 'Client' },
      index: 1,
      type: 'ParticipantJoined',
    });
    expect(messagesOf(start)[0].utcTime).to.be.closeTo(Date.now(), 10_000);
    const { chatId, userId, secureKey, alias } = start.body as Record<string, string>;
    const call = (action: string, body: Record<string, string> = {}): Promise<Reply> =>
      gw.post(`/genesys/2/chat/request-chat/${chatId}/${action}`, {
        userId: userId,
        secureKey: secureKey,
        alias: alias,
        ...body,
      });

    // The agent finds the chat in the same queue as v1 chats, with the business data.
    const waiting = await alice.get('/chats?state=waiting');
    const entry = waiting.body.chats.find((c: { chatSessionId: string }) => c.chatSessionId === chatId);
    expect(entry).to.include({ service: 'request-chat', nickname: 'Ann', subject: 'Billing' });
    expect(entry.userData).to.deep.equal({ _genesys_widgets: '9.0.017.00', _genesys_source: 'web', GCTI_LanguageCode: 'en' });
    expect((await alice.post(`/chats/${chatId}/accept`)).status).to.equal(200);
    expect((await alice.post(`/chats/${chatId}/send`, { message: 'Hello Ann' })).status).to.equal(200);

    let next = start.body.nextPosition as number;
    const refreshed = await call('refresh', { transcriptPosition: String(next), message: '' });
    expect(refreshed.status).to.equal(200);
    expect(refreshed.body).to.include({ statusCode: 0, chatEnded: false, chatId, userId, secureKey, alias, nextPosition: 4 });
    expect(
      messagesOf(refreshed).map((m) => [m.index, m.type, m.from.type, m.from.participantId, m.from.nickname, m.text]),
    ).to.deep.equal([
      [2, 'ParticipantJoined', 'Agent', 2, 'Alice', undefined],
      [3, 'Message', 'Agent', 2, 'Alice', 'Hello Ann'],
    ]);
    next = refreshed.body.nextPosition;

    expect((await call('startTyping', { transcriptPosition: String(next) })).body.statusCode).to.equal(0);
    expect((await call('stopTyping')).body.statusCode).to.equal(0);
    const sent = await call('send', { message: 'My bill is wrong', messageType: 'text', transcriptPosition: String(next) });
    expect(sent.status).to.equal(200);
    expect(messagesOf(sent).map((m) => [m.index, m.type, m.text])).to.deep.equal([
      [4, 'TypingStarted', undefined],
      [5, 'TypingStopped', undefined],
      [6, 'Message', 'My bill is wrong'],
    ]);
    // Without transcriptPosition a send answers no messages, as GMS does.
    expect(messagesOf(await call('send', { message: 'Still there?' }))).to.deep.equal([]);

    const view = await alice.get(`/chats/${chatId}`);
    expect(view.body.events.slice(-3).map((e: { type: string; text: string }) => [e.type, e.text])).to.deep.equal([
      ['Notice.TypingStopped', 'stopped typing'],
      ['Message.Text', 'My bill is wrong'],
      ['Message.Text', 'Still there?'],
    ]);

    const left = await call('disconnect', { transcriptPosition: '8' });
    expect(left.body).to.include({ statusCode: 0, chatEnded: true, nextPosition: 9 });
    expect(messagesOf(left).map((m) => [m.index, m.type, m.from.type])).to.deep.equal([[8, 'ParticipantLeft', 'Client']]);
    expect((await alice.get(`/chats/${chatId}`)).body.state).to.equal('ended');
    // The chat stays readable until its session expires, and says it has ended.
    const after = await call('refresh', { transcriptPosition: '1' });
    expect(after.body).to.include({ statusCode: 0, chatEnded: true });
    expect(messagesOf(after)).to.have.length(8);
    // Sending into an ended chat is refused with the v2 envelope.
    const late = await call('send', { message: 'hello?' });
    expect(late.status).to.equal(400);
    expect(late.body).to.deep.equal({ statusCode: 1, errors: [{ code: 103, advice: 'The chat has ended.' }] });
  });

  it('replays the React Native client: a form of fields, an empty message on refresh, transcriptPosition = nextPosition - 1', async () => {
    const chat = await startV2Chat(gw, {
      form: {
        alias: '',
        secureKey: '',
        userId: '',
        nickname: 'Sara Ali',
        firstName: 'Sara',
        lastName: 'Ali',
        emailAddress: 'user@test.com',
        subject: 'شكوى',
        text: '',
        'userData[GCTI_LanguageCode]': 'ar',
        'userData[_genesys_source]': 'mobile',
        'userData[_genesys_referrer]': '',
      },
    });
    expect(chat.start.body.nextPosition).to.equal(2);
    expect((await alice.post(`/chats/${chat.chatId}/accept`)).status).to.equal(200);

    // The app polls with the position before its next one: the last message it saw comes again, with the
    // same index, and nothing is ever missed.
    const seen = new Map<number, Message>();
    let next = chat.start.body.nextPosition as number;
    for (const m of messagesOf(chat.start)) seen.set(m.index, m);
    for (let i = 0; i < 3; i++) {
      await alice.post(`/chats/${chat.chatId}/send`, { message: `answer ${i}` });
      const poll = await chat.call('refresh', { transcriptPosition: String(Math.max(0, next - 1)), message: '' });
      expect(poll.status).to.equal(200);
      expect(messagesOf(poll)[0].index).to.equal(next - 1);
      for (const m of messagesOf(poll)) {
        if (seen.has(m.index)) expect(m).to.deep.equal(seen.get(m.index));
        seen.set(m.index, m);
      }
      next = poll.body.nextPosition;
    }
    expect([...seen.keys()].sort((a, b) => a - b)).to.deep.equal([1, 2, 3, 4, 5]);
    // transcriptPosition 0 (the app's first poll) is the whole transcript.
    expect(messagesOf(await chat.call('refresh', { transcriptPosition: '0', message: '' }))).to.have.length(5);
    const sent = await chat.call('send', { message: 'thanks', messageType: 'text' });
    expect(sent.body).to.include({ statusCode: 0, nextPosition: 7 });
    expect((await chat.call('startTyping', { transcriptPosition: '6', message: 'typing…' })).body.nextPosition).to.equal(8);
  });

  it('replays the Python bot: a service URL with a trailing slash, an initial text, refresh from nextPosition', async () => {
    const start = await gw.post(
      '/genesys/2/chat/request-chat/',
      {
        nickname: 'TestUser',
        firstName: 'Test',
        lastName: 'User',
        emailAddress: 'test@example.com',
        subject: 'Testing',
        text: 'first words',
        'userData[_genesys_source]': 'web',
      },
      { apikey: 'whatever-the-bot-sends', 'content-type': 'application/x-www-form-urlencoded' },
    );
    expect(start.status).to.equal(200);
    expect(messagesOf(start).map((m) => [m.index, m.type, m.text])).to.deep.equal([
      [1, 'ParticipantJoined', undefined],
      [2, 'Message', 'first words'],
    ]);
    const base = `/genesys/2/chat/request-chat/${start.body.chatId}`;
    const creds = { alias: start.body.alias, secureKey: start.body.secureKey, userId: start.body.userId };
    let position = start.body.nextPosition as number;
    const poll = await gw.post(`${base}/refresh`, { ...creds, transcriptPosition: String(position), message: '' });
    expect(messagesOf(poll)).to.deep.equal([]);
    const sent = await gw.post(`${base}/send`, {
      ...creds,
      transcriptPosition: String(position),
      message: "<script>alert('XSS')</script>",
    });
    expect(messagesOf(sent).map((m) => m.text)).to.deep.equal(["<script>alert('XSS')</script>"]);
    position = sent.body.nextPosition;
    const bye = await gw.post(`${base}/disconnect`, { ...creds, transcriptPosition: String(position), message: '' });
    expect(bye.body).to.include({ statusCode: 0, chatEnded: true });
  });

  it('a v1 customer and a v2 customer wait in the same queue and one agent answers both', async () => {
    const v1 = await startCustomerChat(gw, { start: { userDisplayName: 'Vic One' } });
    const v2 = await startV2Chat(gw, { form: { nickname: 'Vee Two' } });
    const v1Id = v1.start.body.chatSessionId as string;
    const waiting = (await alice.get('/chats?state=waiting')).body.chats.map((c: { chatSessionId: string; nickname: string }) => [
      c.chatSessionId,
      c.nickname,
    ]);
    expect(waiting).to.deep.include.members([
      [v1Id, 'Vic One'],
      [v2.chatId, 'Vee Two'],
    ]);
    for (const id of [v1Id, v2.chatId]) {
      expect((await alice.post(`/chats/${id}/accept`)).status).to.equal(200);
      expect((await alice.post(`/chats/${id}/send`, { message: 'How can I help?' })).status).to.equal(200);
    }
    const mine = (await alice.get('/chats?state=mine')).body.chats.map((c: { chatSessionId: string }) => c.chatSessionId);
    expect(mine).to.include.members([v1Id, v2.chatId]);

    const v1Poll = await v1.call('refresh', { transcriptPosition: '1' });
    expect(v1Poll.body.transcriptToShow).to.deep.equal([
      ['Notice.Joined', 'Alice', 'has joined the session', v1Poll.body.transcriptToShow[0][3], 'AGENT'],
      ['Message.Text', 'Alice', 'How can I help?', v1Poll.body.transcriptToShow[1][3], 'AGENT'],
    ]);
    const v2Poll = await v2.call('refresh', { transcriptPosition: '2' });
    expect(messagesOf(v2Poll).map((m) => [m.type, m.from.nickname, m.text])).to.deep.equal([
      ['ParticipantJoined', 'Alice', undefined],
      ['Message', 'Alice', 'How can I help?'],
    ]);
    // Both customers answer; the agent reads both through the same API.
    await v1.call('send', { message: 'from v1' });
    await v2.call('send', { message: 'from v2' });
    expect((await alice.get(`/chats/${v1Id}`)).body.events.at(-1)).to.include({
      text: 'from v1',
      partyType: 'CLIENT',
      nickname: 'Vic One',
    });
    expect((await alice.get(`/chats/${v2.chatId}`)).body.events.at(-1)).to.include({
      text: 'from v2',
      partyType: 'CLIENT',
      nickname: 'Vee Two',
    });
    // The agent ends the v2 chat: the customer sees it end.
    await alice.post(`/chats/${v2.chatId}/leave`);
    const ended = await v2.call('refresh', { transcriptPosition: '5' });
    expect(ended.body.chatEnded).to.equal(true);
    expect(messagesOf(ended).map((m) => m.type)).to.deep.equal(['ParticipantLeft']);
  });

  it('a wrong or missing secureKey (or userId, or a chat of another service) changes nothing and answers the v2 error envelope', async () => {
    const chat = await startV2Chat(gw);
    await alice.post(`/chats/${chat.chatId}/accept`);
    const before = (await alice.get(`/chats/${chat.chatId}`)).body;
    const wrong = { ...chat.credentials(), secureKey: chat.secureKey.replace(/.$/, (c) => (c === '0' ? '1' : '0')) };
    const base = `/genesys/2/chat/request-chat/${chat.chatId}`;
    const actions: [string, Record<string, string>][] = [
      ['refresh', { transcriptPosition: '1' }],
      ['send', { message: 'forged' }],
      ['startTyping', {}],
      ['stopTyping', {}],
      ['updateNickname', { nickname: 'Mallory' }],
      ['customNotice', { message: 'forged' }],
      ['pushUrl', { pushUrl: 'https://evil.example' }],
      ['updateData', { 'userData[vip]': 'yes' }],
      ['file/limits', {}],
      ['disconnect', {}],
    ];
    for (const [action, body] of actions) {
      for (const creds of [wrong, { ...chat.credentials(), userId: 'FFFFFFFFFFFFFFFF' }]) {
        const reply = await gw.post(`${base}/${action}`, { ...creds, ...body });
        expect(reply.status, action).to.equal(404);
        expect(reply.body, action).to.deep.equal({
          statusCode: 2,
          errors: [
            { code: 102, advice: 'No such chat: the chatId is unknown or expired, or userId and secureKey do not match it.' },
          ],
        });
      }
      const missing = await gw.post(`${base}/${action}`, { userId: chat.userId, alias: chat.alias, ...body });
      expect(missing.status, action).to.equal(400);
      expect(missing.body.errors[0], action).to.deep.equal({ code: 101, advice: "The parameter 'secureKey' is required." });
    }
    // The right key on another service's path, and an unknown chat id, are the same not-found.
    expect((await gw.post(`/genesys/2/chat/v2-only/${chat.chatId}/refresh`, chat.credentials())).body.errors[0].code).to.equal(
      102,
    );
    expect(
      (await gw.post('/genesys/2/chat/request-chat/0123456789ABCDEF/refresh', chat.credentials())).body.errors[0].code,
    ).to.equal(102);
    expect((await gw.get(`${base}/file/X/download?userId=${chat.userId}&secureKey=0000000000000000`)).status).to.equal(404);

    const after = (await alice.get(`/chats/${chat.chatId}`)).body;
    expect(after).to.deep.equal(before);
  });

  it('nickname, custom notices, pushed URLs and user data from the customer reach the agent', async () => {
    const chat = await startV2Chat(gw, { form: { nickname: 'Ann', 'userData[orderId]': '42' } });
    await alice.post(`/chats/${chat.chatId}/accept`);
    expect((await chat.call('updateNickname', { nickname: 'Annie' })).body.statusCode).to.equal(0);
    expect((await chat.call('customNotice', { message: 'page=checkout' })).body.statusCode).to.equal(0);
    expect((await chat.call('pushUrl', { pushUrl: 'https://shop.example/cart' })).body.statusCode).to.equal(0);
    expect((await chat.call('updateData', { 'userData[orderId]': '43', 'userData["plan"]': 'gold' })).body.statusCode).to.equal(
      0,
    );
    const refused = await chat.call('pushUrl', { pushUrl: 'javascript:alert(1)' });
    expect(refused.status).to.equal(400);
    expect(refused.body.errors[0].code).to.equal(101);

    const view = (await alice.get(`/chats/${chat.chatId}`)).body;
    expect(view.customer.nickname).to.equal('Annie');
    expect(view.userData).to.deep.equal({ orderId: '43', plan: 'gold' });
    expect(
      view.events.slice(-3).map((e: { type: string; nickname: string; text: string }) => [e.type, e.nickname, e.text]),
    ).to.deep.equal([
      ['Notice.NicknameUpdated', 'Annie', 'was Ann'],
      ['Notice.Custom', 'Annie', 'page=checkout'],
      ['Notice.PushUrl', 'Annie', 'https://shop.example/cart'],
    ]);
    const messages = messagesOf(await chat.call('refresh', { transcriptPosition: '3' }));
    expect(messages.map((m) => [m.type, m.from.nickname, m.from.participantId, m.text])).to.deep.equal([
      ['NicknameUpdated', 'Annie', 1, undefined],
      ['CustomNotice', 'Annie', 1, 'page=checkout'],
      ['PushUrl', 'Annie', 1, 'https://shop.example/cart'],
    ]);
  });

  it('bad requests get the v2 envelope with a clear advice, never a crash', async () => {
    const noName = await gw.post('/genesys/2/chat/request-chat', { subject: 'x' });
    expect(noName.status).to.equal(400);
    expect(noName.body).to.deep.equal({
      statusCode: 1,
      errors: [{ code: 101, advice: "Give a 'nickname', or 'firstName' and 'lastName'." }],
    });
    const unknown = await gw.post('/genesys/2/chat/no-such-service', { nickname: 'Ann' });
    expect(unknown.status).to.equal(404);
    expect(unknown.body.errors[0].code).to.equal(104);
    const badJson = await gw.post('/genesys/2/chat/request-chat', '{"nickname": ', { 'content-type': 'application/json' });
    expect(badJson.status).to.equal(400);
    expect(badJson.body.statusCode).to.equal(1);
    const chat = await startV2Chat(gw);
    const badPosition = await chat.call('refresh', { transcriptPosition: '-3' });
    expect(badPosition.status).to.equal(400);
    expect(badPosition.body.errors[0].code).to.equal(101);
    const empty = await chat.call('send', { message: '  ' });
    expect(empty.body.errors[0]).to.deep.equal({
      code: 101,
      advice: "The parameter 'message' is required and must not be empty.",
    });
    const nowhere = await gw.post(`/genesys/2/chat/request-chat/${chat.chatId}/teleport`, chat.credentials());
    expect(nowhere.status).to.equal(404);
    expect(nowhere.body.statusCode).to.equal(2);
    // A JSON body with userData as an object works too.
    const json = await gw.post(
      '/genesys/2/chat/request-chat',
      JSON.stringify({ nickname: 'Jo', userData: { tier: 'gold', n: 3 } }),
      {
        'content-type': 'application/json',
      },
    );
    expect(json.status).to.equal(200);
    const entry = (await alice.get('/chats?state=waiting')).body.chats.find(
      (c: { chatSessionId: string }) => c.chatSessionId === json.body.chatId,
    );
    expect(entry.userData).to.deep.equal({ tier: 'gold', n: '3' });
  });

  it('the service files decide which services answer v2, v1 or both, and a change applies at once', async () => {
    expect((await gw.post('/genesys/2/chat/v1-only', { nickname: 'Ann' })).body.errors[0].code).to.equal(104);
    expect((await gw.post('/genesys/1/service/v1-only', {})).status).to.equal(200);
    expect((await gw.post('/genesys/2/chat/v2-only', { nickname: 'Ann' })).status).to.equal(200);
    const v1 = await gw.post('/genesys/1/service/v2-only', {});
    expect(v1.status).to.equal(404);
    expect(v1.body.exception).to.equal('ServiceNotFound');

    const chat = await startV2Chat(gw, { service: 'v2-only' });
    await gw.writeService('v2-only.json', { chatApiVersions: [1] });
    await eventually(
      async () => (await gw.post('/genesys/2/chat/v2-only', { nickname: 'Ann' })).status === 404,
      3000,
      'v2 switched off',
    );
    // A chat under way goes on.
    expect((await chat.call('send', { message: 'still here' })).body.statusCode).to.equal(0);
    await gw.writeService('v2-only.json', { chatApiVersions: [2] });
    await eventually(
      async () => (await gw.post('/genesys/2/chat/v2-only', { nickname: 'Ann' })).status === 200,
      3000,
      'v2 switched on',
    );
  });
});

describe('Chat API Version 2 over restarts and expiry', () => {
  it('a v2 chat goes on after the gateway restarts on its SQLite store, and ends by its ttl like any chat', async () => {
    const file = path.join(await makeTempDir('gms-v2-persist-'), 'sessions.sqlite');
    const env = { STORE_URL: `sqlite://${file}`, SWEEP_INTERVAL_MS: '50' };
    const first = await startTestGateway({
      env,
      services: { 'request-chat.json': {}, 'brief.json': { ttl: 1 } },
      endpoints: { 'gms_builtin.json': endpointFile(['alice']) },
    });
    let second: TestGateway | undefined;
    try {
      const chat = await startV2Chat(first);
      await agentClient(first, 'alice').post(`/chats/${chat.chatId}/accept`);
      await chat.call('send', { message: 'before the restart' });
      await first.close();

      second = await startTestGateway({ env, dir: first.dir });
      const again = {
        call: (action: string, body: Record<string, string> = {}) =>
          second!.post(`/genesys/2/chat/request-chat/${chat.chatId}/${action}`, { ...chat.credentials(), ...body }),
      };
      const poll = await again.call('refresh', { transcriptPosition: '1' });
      expect(poll.status).to.equal(200);
      expect(messagesOf(poll).map((m) => [m.index, m.type, m.text])).to.deep.equal([
        [1, 'ParticipantJoined', undefined],
        [2, 'ParticipantJoined', undefined],
        [3, 'Message', 'before the restart'],
      ]);
      expect((await agentClient(second, 'alice').post(`/chats/${chat.chatId}/send`, { message: 'after it' })).status).to.equal(
        200,
      );
      expect(messagesOf(await again.call('refresh', { transcriptPosition: '4' })).map((m) => m.text)).to.deep.equal(['after it']);
      // A wrong key is refused after the restart too.
      expect((await again.call('refresh', { secureKey: '0000000000000000' })).status).to.equal(404);

      const brief = await startV2Chat(second, { service: 'brief' });
      // Polling would keep it alive (a call is activity): the agent's view, which is not, says when it is gone.
      const watcher = agentClient(second, 'alice');
      await eventually(
        async () => (await watcher.get(`/chats/${brief.chatId}`)).status === 404,
        5000,
        'the brief chat to expire',
      );
      expect((await brief.call('refresh')).body.errors[0].code).to.equal(102);
    } finally {
      await second?.close();
      await first.close();
    }
  });
});

describe('Chat API Version 2 under rate limits', () => {
  it('one busy v2 chat is limited on its own, with the v2 envelope and Retry-After, and another chat is not slowed', async () => {
    const gw = await startTestGateway({
      env: { RATE_LIMIT_EXEMPT: '', RATE_LIMIT_SESSION_PER_SEC: '1', RATE_LIMIT_SESSION_BURST: '3' },
    });
    try {
      const busy = await startV2Chat(gw);
      const calm = await startV2Chat(gw);
      const replies: Reply[] = [];
      for (let i = 0; i < 5; i++) replies.push(await busy.call('refresh', { transcriptPosition: '1' }));
      const limited = replies.filter((r) => r.status === 429);
      expect(limited.length).to.be.greaterThan(0);
      expect(limited[0].body.statusCode).to.equal(2);
      expect(limited[0].body.errors[0].code).to.equal(106);
      expect(Number(limited[0].headers.get('retry-after'))).to.be.greaterThan(0);
      expect((await calm.call('refresh', { transcriptPosition: '1' })).status).to.equal(200);
    } finally {
      await gw.close();
    }
  });
});
