// The agent side of the built-in endpoint, over real HTTP: the queue, accepting, talking with the
// customer, leaving, and who may do what.

import { expect } from 'chai';
import { agentClient, endpointFile, type AgentClient } from './helpers/agent-client.ts';
import { startCustomerChat } from './helpers/chat-client.ts';
import { request, startTestGateway, type TestGateway } from './helpers/gateway.ts';

const JSON_TYPE = { 'content-type': 'application/json' };

describe('agent API', () => {
  let gw: TestGateway;
  let alice: AgentClient;
  let victor: AgentClient;

  before(async () => {
    gw = await startTestGateway({
      services: { 'request-chat.json': {}, 'vip.json': { endpoint: 'vip_desk' } },
      endpoints: {
        'gms_builtin.json': endpointFile(['alice', ...Array.from({ length: 10 }, (_, i) => `racer${i}`)]),
        'vip_desk.json': endpointFile(['victor']),
      },
    });
    alice = agentClient(gw, 'alice');
    victor = agentClient(gw, 'victor');
  });
  after(() => gw.close());

  it('a customer and an agent hold a whole conversation, with every kind of event on both sides', async () => {
    const customer = await startCustomerChat(gw, { start: { userDisplayName: 'Ann', subject: 'Billing', orderId: '42' } });
    const chatId = customer.start.body.chatSessionId as string;

    const waiting = await alice.get('/chats?state=waiting');
    expect(waiting.status).to.equal(200);
    const entry = waiting.body.chats.find((c: { chatSessionId: string }) => c.chatSessionId === chatId);
    expect(entry).to.include({ service: 'request-chat', endpoint: 'gms_builtin', nickname: 'Ann', subject: 'Billing' });
    expect(entry.userData).to.deep.equal({ orderId: '42' });
    expect(Date.parse(entry.waitingSince)).to.be.closeTo(Date.now(), 10_000);

    expect((await alice.post(`/chats/${chatId}/accept`)).status).to.equal(200);
    expect(
      (await alice.get('/chats?state=waiting')).body.chats.map((c: { chatSessionId: string }) => c.chatSessionId),
    ).not.to.include(chatId);
    const mine = await alice.get('/chats?state=mine');
    expect(mine.body.chats.map((c: { chatSessionId: string }) => c.chatSessionId)).to.deep.equal([chatId]);

    // JSON and form bodies both work for every agent action.
    expect((await alice.post(`/chats/${chatId}/typing`, JSON.stringify({ typing: true }), JSON_TYPE)).status).to.equal(200);
    expect(
      (await alice.post(`/chats/${chatId}/send`, JSON.stringify({ message: 'Hello Ann, how can I help?' }), JSON_TYPE)).status,
    ).to.equal(200);
    expect((await alice.post(`/chats/${chatId}/typing`, { typing: 'false' })).status).to.equal(200);
    expect((await alice.post(`/chats/${chatId}/push-url`, { url: 'https://example.com/billing' })).status).to.equal(200);
    expect(
      (await alice.post(`/chats/${chatId}/notice`, JSON.stringify({ text: 'Transferring your file' }), JSON_TYPE)).status,
    ).to.equal(200);
    expect((await customer.call('send', { message: 'My bill is wrong' })).status).to.equal(200);

    const seen = await customer.call('refresh', { transcriptPosition: '1' });
    expect(seen.body.chatIxnState).to.equal('CONNECTED');
    expect(seen.body.transcriptToShow.map((e: string[]) => [e[0], e[1], e[2], e[4]])).to.deep.equal([
      ['Notice.Joined', 'Alice', 'has joined the session', 'AGENT'],
      ['Notice.TypingStarted', 'Alice', 'is typing', 'AGENT'],
      ['Message.Text', 'Alice', 'Hello Ann, how can I help?', 'AGENT'],
      ['Notice.TypingStopped', 'Alice', 'stopped typing', 'AGENT'],
      ['Notice.PushUrl', 'Alice', 'https://example.com/billing', 'AGENT'],
      ['Notice.Custom', 'Alice', 'Transferring your file', 'AGENT'],
      ['Message.Text', 'Ann', 'My bill is wrong', 'CLIENT'],
    ]);

    const view = await alice.get(`/chats/${chatId}`);
    expect(view.status).to.equal(200);
    expect(view.body).to.include({ chatSessionId: chatId, service: 'request-chat', state: 'connected', transcriptPosition: 8 });
    expect(view.body.events[0]).to.include({ position: 1, type: 'Notice.Joined', nickname: 'Ann', partyType: 'CLIENT' });
    expect(view.body.events[7]).to.include({ position: 8, type: 'Message.Text', nickname: 'Ann', text: 'My bill is wrong' });
    expect(Date.parse(view.body.events[7].at)).to.be.closeTo(Date.now(), 10_000);

    const left = await alice.post(`/chats/${chatId}/leave`);
    expect(left.status).to.equal(200);
    expect(left.body.state).to.equal('ended');
    const end = await customer.call('refresh');
    expect(end.body.chatIxnState).to.equal('DISCONNECTED');
    expect(end.body.transcriptToShow).to.deep.equal([
      ['Notice.Left', 'Alice', 'has left the session', end.body.transcriptToShow[0][3], 'AGENT'],
    ]);
    expect((await alice.get('/chats?state=mine')).body.chats).to.deep.equal([]);
    expect((await customer.call('send', { message: 'still there?' })).body.exception).to.equal('ChatEnded');
  });

  it("the business data given when the session was created reaches the agent with the start's user data, push registration does not", async () => {
    const created = await gw.post('/genesys/1/service/request-chat', { topic: 'billing', orderId: '1', _verbose: 'true' });
    const started = await gw.post(`/genesys/1/service/${created.body._id}/ixn/chat`, {
      userDisplayName: 'Dora',
      orderId: '42',
      lang: 'en',
      subscriptionID: 'sub-1',
      push_notification_deviceid: 'device-secret',
      push_notification_type: 'fcm',
      push_notification_language: 'en',
      push_notification_debug: 'true',
    });
    const chatId = started.body.chatSessionId as string;
    const entry = (await alice.get('/chats?state=waiting')).body.chats.find(
      (c: { chatSessionId: string }) => c.chatSessionId === chatId,
    );
    expect(entry.userData).to.deep.equal({ topic: 'billing', orderId: '42', lang: 'en' });
    const view = await alice.get(`/chats/${chatId}`);
    expect(view.body.userData).to.deep.equal({ topic: 'billing', orderId: '42', lang: 'en' });
    expect(view.body.events[0]).to.have.all.keys('position', 'type', 'nickname', 'text', 'at', 'partyType');
    expect(view.body.events[0]).to.include({
      position: 1,
      type: 'Notice.Joined',
      nickname: 'Dora',
      text: 'has joined the session',
      partyType: 'CLIENT',
    });
    await gw.post(`/genesys/1/service/${created.body._id}/ixn/chat/disconnect`);
  });

  it('the waiting queue lists the oldest chat first', async () => {
    const first = await startCustomerChat(gw, { start: { userDisplayName: 'First' } });
    const second = await startCustomerChat(gw, { start: { userDisplayName: 'Second' } });
    const ids = (await alice.get('/chats?state=waiting')).body.chats.map((c: { chatSessionId: string }) => c.chatSessionId);
    expect(ids.indexOf(first.start.body.chatSessionId)).to.be.lessThan(ids.indexOf(second.start.body.chatSessionId));
    for (const c of [first, second]) await c.call('disconnect');
    const after = (await alice.get('/chats?state=waiting')).body.chats.map((c: { chatSessionId: string }) => c.chatSessionId);
    expect(after).not.to.include(first.start.body.chatSessionId);
  });

  it('of ten agents accepting the same chat at once, exactly one gets it and nine get 409', async () => {
    const customer = await startCustomerChat(gw);
    const chatId = customer.start.body.chatSessionId as string;
    const racers = Array.from({ length: 10 }, (_, i) => agentClient(gw, `racer${i}`));
    const replies = await Promise.all(racers.map((r) => r.post(`/chats/${chatId}/accept`)));
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses).to.deep.equal([200, ...Array(9).fill(409)]);
    for (const r of replies.filter((r) => r.status === 409)) expect(r.body.exception).to.equal('Conflict');
    const joined = (await customer.call('refresh', { transcriptPosition: '0' })).body.transcriptToShow.filter(
      (e: string[]) => e[0] === 'Notice.Joined' && e[4] === 'AGENT',
    );
    expect(joined).to.have.length(1);
  });

  it('a missing or wrong token gets 401, and the token is never echoed', async () => {
    const none = await request(gw.url, 'GET', '/agent/v1/chats?state=waiting');
    expect(none.status).to.equal(401);
    expect(none.body.exception).to.equal('Unauthorized');
    expect(none.headers.get('www-authenticate')).to.match(/^Bearer/);
    const wrong = agentClient(gw, 'alice', 'not-alices-token');
    const reply = await wrong.post('/chats/0000000000000000/accept');
    expect(reply.status).to.equal(401);
    expect(JSON.stringify(reply.body)).not.to.include('not-alices-token');
    const basic = await request(gw.url, 'GET', '/agent/v1/chats', undefined, { authorization: 'Basic YWxpY2U6eA==' });
    expect(basic.status).to.equal(401);
  });

  it('an agent cannot see or touch the chats of an endpoint they do not serve (403)', async () => {
    const customer = await startCustomerChat(gw, { service: 'vip' });
    const chatId = customer.start.body.chatSessionId as string;
    expect(
      (await alice.get('/chats?state=waiting')).body.chats.map((c: { chatSessionId: string }) => c.chatSessionId),
    ).not.to.include(chatId);
    for (const reply of [await alice.get(`/chats/${chatId}`), await alice.post(`/chats/${chatId}/accept`)]) {
      expect(reply.status).to.equal(403);
      expect(reply.body.exception).to.equal('Forbidden');
    }
    expect(
      (await victor.get('/chats?state=waiting')).body.chats.map((c: { chatSessionId: string }) => c.chatSessionId),
    ).to.deep.equal([chatId]);
    expect((await victor.post(`/chats/${chatId}/accept`)).status).to.equal(200);
    // An agent of the endpoint who is not in the chat cannot speak in it either.
    const other = await startCustomerChat(gw);
    const otherId = other.start.body.chatSessionId as string;
    expect((await alice.post(`/chats/${otherId}/send`, { message: 'hi' })).status).to.equal(403);
  });

  it('refuses bad input with the error body: non-web URLs, empty texts, unknown chats and states', async () => {
    const customer = await startCustomerChat(gw);
    const chatId = customer.start.body.chatSessionId as string;
    await alice.post(`/chats/${chatId}/accept`);
    for (const url of ['javascript:alert(1)', 'ftp://example.com/x', 'file:///etc/passwd', 'not a url', '']) {
      const reply = await alice.post(`/chats/${chatId}/push-url`, { url });
      expect(reply.status, url).to.equal(400);
      expect(reply.body.exception).to.equal('InvalidParameter');
    }
    expect((await alice.post(`/chats/${chatId}/send`, { message: '  ' })).status).to.equal(400);
    expect((await alice.post(`/chats/${chatId}/notice`, {})).status).to.equal(400);
    expect((await alice.post(`/chats/${chatId}/typing`, { typing: 'maybe' })).status).to.equal(400);
    expect((await alice.get('/chats?state=everything')).status).to.equal(400);
    const unknown = await alice.get('/chats/FFFFFFFFFFFFFFFF');
    expect(unknown.status).to.equal(404);
    expect(unknown.body.exception).to.equal('SessionNotFound');
    const events = (await alice.get(`/chats/${chatId}`)).body.events;
    expect(events.map((e: { type: string }) => e.type)).to.deep.equal(['Notice.Joined', 'Notice.Joined']);
  });

  it('when the customer leaves, the agent sees the chat end and can then close it', async () => {
    const customer = await startCustomerChat(gw, { start: { userDisplayName: 'Cleo' } });
    const chatId = customer.start.body.chatSessionId as string;
    await alice.post(`/chats/${chatId}/accept`);
    await customer.call('disconnect', { message: 'Never mind, bye' });
    const view = await alice.get(`/chats/${chatId}`);
    expect(view.body.state).to.equal('ended');
    expect(view.body.events.slice(-2).map((e: { type: string; nickname: string }) => [e.type, e.nickname])).to.deep.equal([
      ['Message.Text', 'Cleo'],
      ['Notice.Left', 'Cleo'],
    ]);
    expect((await alice.post(`/chats/${chatId}/send`, { message: 'hello?' })).body.exception).to.equal('ChatEnded');
    const mine = (await alice.get('/chats?state=mine')).body.chats;
    expect(mine.find((c: { chatSessionId: string }) => c.chatSessionId === chatId).state).to.equal('ended');
    expect((await alice.post(`/chats/${chatId}/leave`)).status).to.equal(200);
    expect(
      (await alice.get('/chats?state=mine')).body.chats.map((c: { chatSessionId: string }) => c.chatSessionId),
    ).not.to.include(chatId);
  });

  it('tells an agent who they are', async () => {
    const me = await alice.get('/me');
    expect(me.body).to.deep.equal({ id: 'alice', nickname: 'Alice', endpoints: ['gms_builtin'], supervisor: false });
  });
});
