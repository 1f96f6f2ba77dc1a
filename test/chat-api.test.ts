// Chat API v1 over polling (spec §2), end to end over HTTP against a real gateway: a whole chat checked
// field by field, every bad input of the issue with its error body, and concurrent sends.

import { expect } from 'chai';
import { startCustomerChat, type CustomerChat } from './helpers/chat-client.ts';
import { startTestGateway, type Reply, type TestGateway } from './helpers/gateway.ts';

const ISO_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** The five strings of an event, with the seconds column checked for shape and then left out. */
function events(reply: Reply): [string, string, string, string][] {
  const shown = reply.body.transcriptToShow as unknown[][];
  expect(shown).to.be.an('array');
  return shown.map((event) => {
    expect(event).to.have.length(5);
    for (const field of event) expect(field).to.be.a('string');
    expect(event[3]).to.match(/^\d+$/);
    return [event[0], event[1], event[2], event[4]] as [string, string, string, string];
  });
}

function expectError(reply: Reply, status: number, exception: string): void {
  expect(reply.status, JSON.stringify(reply.body)).to.equal(status);
  expect(reply.body).to.have.all.keys('message', 'exception');
  expect(reply.body.exception).to.equal(exception);
  expect(reply.body.message).to.be.a('string').and.not.equal('');
}

describe('Chat API v1 over polling', () => {
  let gw: TestGateway;

  afterEach(async () => {
    await gw?.close();
  });

  describe('a whole chat', () => {
    beforeEach(async () => {
      gw = await startTestGateway();
    });

    it('start, send, poll at different positions, type, and leave answer exactly the fields of the spec', async () => {
      const chat = await startCustomerChat(gw, { start: { _verbose: 'true', subject: 'billing', orderId: '42' } });
      const start = chat.start;
      expect(start.headers.get('content-type')).to.match(/^application\/json/);
      expect(start.headers.get('cache-control')).to.equal('no-cache, no-store');
      expect(start.headers.get('pragma')).to.equal('no-cache');
      expect(start.body.chatIxnState).to.equal('CONNECTED');
      expect(start.body.chatSessionId).to.be.a('string').with.length(16).and.not.equal(chat.id);
      expect(start.body.transcriptPosition).to.equal('1');
      expect(start.body.chatServiceMessage).to.equal('Chat service is available');
      expect(start.body.startedAt).to.match(ISO_SECONDS);
      expect(Math.abs(Date.parse(start.body.startedAt) - Date.now())).to.be.below(5000);
      expect(events(start)).to.deep.equal([['Notice.Joined', 'Ann Lee', 'has joined the session', 'CLIENT']]);
      expect(start.body.transcriptToShow[0][3]).to.equal('0');

      // The _verbose extras: the chat server's ids and absolute action links with underscores.
      const base = `/genesys/1/service/${chat.id}/ixn/chat`;
      expect(start.body.userId).to.be.a('string').and.not.equal('');
      expect(start.body.secureKey).to.be.a('string').and.not.equal('');
      expect(start.body.alias).to.be.a('string');
      expect(start.body).to.include({
        _chatIxnAPI_SEND_URL: `${base}/send`,
        _chatIxnAPI_REFRESH_URL: `${base}/refresh`,
        _chatIxnAPI_REFRESH_FROM_START_URL: `${base}/refreshFromStart`,
        _chatIxnAPI_START_TYPING_URL: `${base}/startTyping`,
        _chatIxnAPI_STOP_TYPING_URL: `${base}/stopTyping`,
        _chatIxnAPI_DISCONNECT_URL: `${base}/disconnect`,
      });

      // Without _verbose: the six fields and nothing else.
      const hello = await chat.call('send', { message: 'Hello' });
      expect(hello.status).to.equal(200);
      expect(hello.body).to.have.all.keys(
        'chatIxnState',
        'chatSessionId',
        'transcriptPosition',
        'chatServiceMessage',
        'startedAt',
        'transcriptToShow',
      );
      expect(hello.body).to.include({
        chatIxnState: 'CONNECTED',
        chatSessionId: start.body.chatSessionId,
        transcriptPosition: '2',
      });
      expect(hello.body.startedAt).to.equal(start.body.startedAt);
      expect(events(hello)).to.deep.equal([['Message.Text', 'Ann Lee', 'Hello', 'CLIENT']]);

      const second = await chat.call('send', { message: 'My invoice is wrong' });
      expect(second.body.transcriptPosition).to.equal('3');
      expect(events(second)).to.deep.equal([['Message.Text', 'Ann Lee', 'My invoice is wrong', 'CLIENT']]);

      const typing = await chat.call('startTyping');
      expect(typing.body.transcriptPosition).to.equal('4');
      expect(events(typing)).to.deep.equal([['Notice.TypingStarted', 'Ann Lee', 'is typing', 'CLIENT']]);
      const stopped = await chat.call('stopTyping');
      expect(stopped.body.transcriptPosition).to.equal('5');
      expect(events(stopped)).to.deep.equal([['Notice.TypingStopped', 'Ann Lee', 'stopped typing', 'CLIENT']]);

      const fromTwo = await chat.call('refresh', { transcriptPosition: '2' });
      expect(fromTwo.body.transcriptPosition).to.equal('5');
      expect(events(fromTwo).map((e) => e[0])).to.deep.equal(['Message.Text', 'Notice.TypingStarted', 'Notice.TypingStopped']);

      // An empty body polls from the position the server last gave this session: nothing new.
      const empty = await chat.call('refresh');
      expect(empty.body).to.include({ chatIxnState: 'CONNECTED', transcriptPosition: '5' });
      expect(empty.body.transcriptToShow).to.deep.equal([]);

      const all = [
        ['Notice.Joined', 'Ann Lee', 'has joined the session', 'CLIENT'],
        ['Message.Text', 'Ann Lee', 'Hello', 'CLIENT'],
        ['Message.Text', 'Ann Lee', 'My invoice is wrong', 'CLIENT'],
        ['Notice.TypingStarted', 'Ann Lee', 'is typing', 'CLIENT'],
        ['Notice.TypingStopped', 'Ann Lee', 'stopped typing', 'CLIENT'],
      ];
      expect(events(await chat.call('refresh', { transcriptPosition: '0' }))).to.deep.equal(all);
      const fromStart = await chat.call('refreshFromStart');
      expect(fromStart.body.transcriptPosition).to.equal('5');
      expect(events(fromStart)).to.deep.equal(all);
      // A position beyond the end shows nothing and tells the real end.
      const beyond = await chat.call('refresh', { transcriptPosition: '99' });
      expect(beyond.body).to.include({ transcriptPosition: '5' });
      expect(beyond.body.transcriptToShow).to.deep.equal([]);

      // refresh may carry a message; the answer shows what is new since the last position given.
      const withMessage = await chat.call('refresh', { message: 'Are you there?' });
      expect(withMessage.body.transcriptPosition).to.equal('6');
      expect(events(withMessage)).to.deep.equal([['Message.Text', 'Ann Lee', 'Are you there?', 'CLIENT']]);

      const left = await chat.call('disconnect', { message: 'Bye' });
      expect(left.status).to.equal(200);
      expect(left.body).to.include({ chatIxnState: 'DISCONNECTED', transcriptPosition: '8' });
      expect(events(left)).to.deep.equal([
        ['Message.Text', 'Ann Lee', 'Bye', 'CLIENT'],
        ['Notice.Left', 'Ann Lee', 'has left the session', 'CLIENT'],
      ]);

      const after = await chat.call('refresh');
      expect(after.status).to.equal(200);
      expect(after.body).to.include({ chatIxnState: 'DISCONNECTED', transcriptPosition: '8' });
      expect(after.body.transcriptToShow).to.deep.equal([]);
      const whole = await chat.call('refreshFromStart');
      expect(whole.body.chatIxnState).to.equal('DISCONNECTED');
      expect(events(whole)).to.have.length(8);
      expect(events(whole).slice(0, 5)).to.deep.equal(all);
    });

    it('a send answers every event since the position the customer was last given, whichever call gave it', async () => {
      const chat = await startCustomerChat(gw);
      await chat.call('startTyping');
      await chat.call('refresh', { transcriptPosition: '0' });
      await chat.call('stopTyping');
      const sent = await chat.call('send', { message: 'x' });
      expect(sent.body.transcriptPosition).to.equal('4');
      expect(events(sent).map((e) => e[0])).to.deep.equal(['Message.Text']);
      // An explicit position asked for once does not stick: the next empty poll starts after the end given.
      await chat.call('refresh', { transcriptPosition: '1' });
      expect((await chat.call('refresh')).body.transcriptToShow).to.deep.equal([]);
    });

    it('names the customer by userDisplayName, else first and last name, else Customer', async () => {
      const nickname = async (start: Record<string, string>): Promise<string> => {
        const created = await gw.post('/genesys/1/service/request-chat');
        const started = await gw.post(`/genesys/1/service/${created.body._id}/ixn/chat`, start);
        return started.body.transcriptToShow[0][1];
      };
      expect(await nickname({ userDisplayName: 'Annie', firstName: 'Ann', lastName: 'Lee' })).to.equal('Annie');
      expect(await nickname({ firstName: 'Ann', lastName: 'Lee' })).to.equal('Ann Lee');
      expect(await nickname({ firstName: 'Ann' })).to.equal('Ann');
      expect(await nickname({})).to.equal('Customer');
    });

    it('accepts the same calls as JSON, and as JSON sent with the form content type', async () => {
      const chat = await startCustomerChat(gw);
      const path = `/genesys/1/service/${chat.id}/ixn/chat/send`;
      const json = await gw.post(path, JSON.stringify({ message: 'as json' }), { 'content-type': 'application/json' });
      const jquery = await gw.post(path, JSON.stringify({ message: 'as form' }), {
        'content-type': 'application/x-www-form-urlencoded',
      });
      expect(events(json)[0][2]).to.equal('as json');
      expect(events(jquery)[0][2]).to.equal('as form');
    });

    it('the customer leaving a chat that is still waiting ends it at once', async () => {
      const chat = await startCustomerChat(gw);
      const left = await chat.call('disconnect');
      expect(left.body).to.include({ chatIxnState: 'DISCONNECTED', transcriptPosition: '2' });
      expect(events(left)).to.deep.equal([['Notice.Left', 'Ann Lee', 'has left the session', 'CLIENT']]);
      // A retried disconnect is harmless and adds nothing.
      const again = await chat.call('disconnect');
      expect(again.status).to.equal(200);
      expect(again.body).to.include({ chatIxnState: 'DISCONNECTED', transcriptPosition: '2' });
    });
  });

  it('with disconnectedStatus 400, a refresh after the end answers 400 ChatEnded', async () => {
    gw = await startTestGateway({ services: { 'strict.json': { disconnectedStatus: 400 } } });
    const chat = await startCustomerChat(gw, { service: 'strict' });
    expect((await chat.call('disconnect')).body.chatIxnState).to.equal('DISCONNECTED');
    expectError(await chat.call('refresh'), 400, 'ChatEnded');
    expectError(await chat.call('refresh', { transcriptPosition: '0' }), 400, 'ChatEnded');
    expectError(await chat.call('refreshFromStart'), 400, 'ChatEnded');
  });

  describe('bad input gets its error body and leaves the transcript as it was', () => {
    let chat: CustomerChat;
    let before: Reply;

    const transcript = async (): Promise<Reply> => chat.call('refresh', { transcriptPosition: '0' });

    beforeEach(async () => {
      gw = await startTestGateway({
        services: { 'request-chat.json': {}, 'short.json': { maxMessageLength: 10 } },
        env: { BODY_LIMIT_BYTES: '16384' },
      });
      chat = await startCustomerChat(gw, { headers: { gms_user: 'ann' } });
      await chat.call('send', { message: 'first' });
      await chat.call('startTyping');
      before = await transcript();
      expect(before.body.transcriptPosition).to.equal('3');
    });

    afterEach(async () => {
      const now = await transcript();
      expect(now.body.transcriptPosition).to.equal(before.body.transcriptPosition);
      expect(now.body.transcriptToShow).to.deep.equal(before.body.transcriptToShow);
    });

    it('a missing, empty or blank message is 400 InvalidParameter', async () => {
      expectError(await chat.call('send'), 400, 'InvalidParameter');
      expectError(await chat.call('send', { message: '' }), 400, 'InvalidParameter');
      expectError(await chat.call('send', { message: '  \n ' }), 400, 'InvalidParameter');
      expectError(await chat.call('refresh', { message: '   ' }), 400, 'InvalidParameter');
      expectError(await chat.call('disconnect', { message: ' ' }), 400, 'InvalidParameter');
    });

    it("a message longer than the service's maxMessageLength is 400 InvalidParameter, with or without refresh", async () => {
      expectError(await chat.call('send', { message: 'x'.repeat(4097) }), 400, 'InvalidParameter');
      expectError(await chat.call('refresh', { message: 'x'.repeat(4097) }), 400, 'InvalidParameter');
      expectError(await chat.call('disconnect', { message: 'x'.repeat(4097) }), 400, 'InvalidParameter');

      const short = await startCustomerChat(gw, { service: 'short' });
      expectError(await short.call('send', { message: '12345678901' }), 400, 'InvalidParameter');
      // Characters, not bytes or UTF-16 units: ten emoji fit.
      expect((await short.call('send', { message: '😀'.repeat(10) })).status).to.equal(200);
    });

    it('a body over the size limit is 413 PayloadTooLarge, as a form or as JSON', async () => {
      expectError(await chat.call('send', { message: 'x'.repeat(20_000) }), 413, 'PayloadTooLarge');
      const json = await gw.post(`/genesys/1/service/${chat.id}/ixn/chat/send`, JSON.stringify({ message: 'x'.repeat(20_000) }), {
        'content-type': 'application/json',
        gms_user: 'ann',
      });
      expectError(json, 413, 'PayloadTooLarge');
    });

    it('an unknown service id is 404 SessionNotFound on every call', async () => {
      for (const action of ['', 'send', 'refresh', 'refreshFromStart', 'startTyping', 'stopTyping', 'disconnect']) {
        const reply = await gw.post(
          `/genesys/1/service/6c1b7c1e-0d43-4f5e-9a3e-2f0f6c3f1a11/ixn/chat${action ? `/${action}` : ''}`,
          {
            message: 'hi',
          },
        );
        expectError(reply, 404, 'SessionNotFound');
      }
      expectError(await gw.post('/genesys/1/service/not-a-uuid/ixn/chat/refresh'), 404, 'SessionNotFound');
    });

    it('starting the chat twice is 400 ChatAlreadyStarted', async () => {
      expectError(await chat.call('', { firstName: 'Ann' }), 400, 'ChatAlreadyStarted');
    });

    it('a call before the chat is started is 400 ChatNotStarted', async () => {
      const created = await gw.post('/genesys/1/service/request-chat');
      const base = `/genesys/1/service/${created.body._id}/ixn/chat`;
      for (const action of ['send', 'refresh', 'refreshFromStart', 'startTyping', 'stopTyping', 'disconnect']) {
        expectError(await gw.post(`${base}/${action}`, { message: 'hi' }), 400, 'ChatNotStarted');
      }
      // The session is still there and can start its chat afterwards.
      expect((await gw.post(base, { firstName: 'Bo' })).body.transcriptPosition).to.equal('1');
    });

    it('send, typing and refresh with a message after the chat ended are 400 ChatEnded', async () => {
      const other = await startCustomerChat(gw);
      await other.call('disconnect');
      const ended = await other.call('refresh', { transcriptPosition: '0' });
      expectError(await other.call('send', { message: 'late' }), 400, 'ChatEnded');
      expectError(await other.call('startTyping'), 400, 'ChatEnded');
      expectError(await other.call('stopTyping'), 400, 'ChatEnded');
      expectError(await other.call('refresh', { message: 'late' }), 400, 'ChatEnded');
      const still = await other.call('refresh', { transcriptPosition: '0' });
      expect(still.body.transcriptToShow).to.deep.equal(ended.body.transcriptToShow);
    });

    it('a gms_user other than the one that created the session, or none, is 403 Forbidden', async () => {
      const base = `/genesys/1/service/${chat.id}/ixn/chat`;
      for (const action of ['send', 'refresh', 'refreshFromStart', 'startTyping', 'disconnect']) {
        expectError(await gw.post(`${base}/${action}`, { message: 'intruder' }, { gms_user: 'mallory' }), 403, 'Forbidden');
        expectError(await gw.post(`${base}/${action}`, { message: 'intruder' }), 403, 'Forbidden');
      }
    });

    it('a transcriptPosition that is not a whole number of 0 or more is 400 InvalidParameter', async () => {
      for (const position of ['abc', '-1', '1.5', '1e2', ' 2', '0x10', '99999999999999999999']) {
        expectError(await chat.call('refresh', { transcriptPosition: position, message: 'not sent' }), 400, 'InvalidParameter');
      }
      // The server-kept position did not move either: an empty poll still shows nothing new.
      expect((await chat.call('refresh')).body.transcriptToShow).to.deep.equal([]);
    });
  });

  it('50 concurrent sends to one chat all land, at positions 2..51 without gaps or duplicates', async () => {
    gw = await startTestGateway();
    const chat = await startCustomerChat(gw);
    const texts = Array.from({ length: 50 }, (_, i) => `message ${i}`);
    const replies = await Promise.all(texts.map((message) => chat.call('send', { message })));
    for (const reply of replies) expect(reply.status).to.equal(200);
    const given = replies.map((r) => Number(r.body.transcriptPosition)).sort((a, b) => a - b);
    expect(given).to.deep.equal(Array.from({ length: 50 }, (_, i) => i + 2));

    const whole = await chat.call('refreshFromStart');
    expect(whole.body.transcriptPosition).to.equal('51');
    const sent = events(whole).slice(1);
    expect(sent.every((e) => e[0] === 'Message.Text')).to.equal(true);
    expect(sent.map((e) => e[2]).sort()).to.deep.equal([...texts].sort());
    // Each send's answer ends with its own message, at the position it was given.
    for (const reply of replies) {
      const shown = events(reply);
      const position = Number(reply.body.transcriptPosition);
      expect(shown.at(-1)![2]).to.equal(events(whole)[position - 1][2]);
    }
  });
});
