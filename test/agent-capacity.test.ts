// Agent readiness and capacity, over real HTTP: an agent set as not ready accepts nothing; an agent holds
// at most its endpoint file's maxChatsPerAgent (or its own maxChats) chats, ended ones until closed, and
// accepts racing for the last place take it once.

import { expect } from 'chai';
import faye from 'faye';
import type { AgentPushMessage } from '../src/endpoints/agent-push.ts';
import { closeFayeClient } from './helpers/faye-client.ts';
import { agentClient, endpointFile, tokenOf, type AgentClient } from './helpers/agent-client.ts';
import { startCustomerChat } from './helpers/chat-client.ts';
import { eventually, startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { dropPrefix, requireRedis, SHARED_REDIS_URL, uniquePrefix } from './helpers/redis-nodes.ts';
import { loadEndpointFile } from '../src/endpoints/endpoint-file.ts';

describe('agent readiness and capacity', () => {
  let gw: TestGateway;
  let alice: AgentClient;
  let bob: AgentClient;
  let carol: AgentClient;

  before(async () => {
    const file = endpointFile(['alice', 'bob', 'carol'], { maxChatsPerAgent: 2 });
    // Carol's own cap replaces the endpoint's.
    (file.agents as Array<Record<string, unknown>>)[2].maxChats = 3;
    gw = await startTestGateway({ endpoints: { 'gms_builtin.json': file } });
    alice = agentClient(gw, 'alice');
    bob = agentClient(gw, 'bob');
    carol = agentClient(gw, 'carol');
  });
  after(() => gw.close());

  const newChat = async (): Promise<{ id: string; leave: () => Promise<unknown> }> => {
    const customer = await startCustomerChat(gw);
    return { id: customer.start.body.chatSessionId as string, leave: () => customer.call('disconnect') };
  };

  it('an agent set as not ready is refused with 409 and a clear message, and accepts again once ready', async () => {
    expect((await bob.get('/status')).body).to.deep.equal({ ready: true, chats: 0, maxChats: 2 });
    const notReady = await bob.post('/status', { ready: 'false' });
    expect(notReady.status).to.equal(200);
    expect(notReady.body).to.deep.equal({ ready: false, chats: 0, maxChats: 2 });
    const chat = await newChat();
    const refused = await bob.post(`/chats/${chat.id}/accept`);
    expect(refused.status).to.equal(409);
    expect(refused.body).to.deep.equal({
      exception: 'Conflict',
      message: 'You are set as not ready: set yourself ready to accept chats.',
    });
    expect((await bob.get('/chats?state=waiting')).body.chats.map((c: { chatSessionId: string }) => c.chatSessionId)).to.include(
      chat.id,
    );

    expect((await bob.post('/status', { ready: 'true' })).body.ready).to.equal(true);
    expect((await bob.post(`/chats/${chat.id}/accept`)).status).to.equal(200);
    expect((await bob.get('/status')).body).to.deep.equal({ ready: true, chats: 1, maxChats: 2 });
    const bad = await bob.post('/status', { ready: 'maybe' });
    expect(bad.status).to.equal(400);
    expect(bad.body.exception).to.equal('InvalidParameter');
    await bob.post(`/chats/${chat.id}/leave`);
  });

  it('an agent set as not ready is told of no new waiting chat over CometD until ready again', async () => {
    const client = new faye.Client(`${gw.url}/genesys/cometd`, { timeout: 5 });
    client.addExtension({
      outgoing(message, callback) {
        if (message.channel === '/meta/handshake') message.ext = { ...message.ext, token: tokenOf('bob') };
        callback(message);
      },
    });
    const heard: AgentPushMessage[] = [];
    try {
      await client.subscribe('/agent/bob', (data) => heard.push(data as AgentPushMessage));
      await bob.post('/status', { ready: 'false' });
      const first = await newChat();
      await bob.post('/status', { ready: 'true' });
      const second = await newChat();
      const waitingIds = () => heard.flatMap((m) => (m.type === 'waiting' ? [m.chat.chatSessionId] : []));
      // Pushes on one channel arrive in order: once the second is heard, the first was never sent.
      await eventually(() => waitingIds().includes(second.id), 3000, 'bob to hear of the second chat');
      expect(waitingIds()).not.to.include(first.id);
      await first.leave();
      await second.leave();
    } finally {
      await closeFayeClient(client);
    }
  });

  it('an agent at its cap is refused the next chat; an ended chat holds its place until the agent closes it', async () => {
    const [one, two, three] = [await newChat(), await newChat(), await newChat()];
    expect((await alice.post(`/chats/${one.id}/accept`)).status).to.equal(200);
    expect((await alice.post(`/chats/${two.id}/accept`)).status).to.equal(200);
    const full = await alice.post(`/chats/${three.id}/accept`);
    expect(full.status).to.equal(409);
    expect(full.body.message).to.equal('You already hold 2 chats, the most you may hold at once: leave or close one first.');
    // The chat still waits for someone else.
    expect((await bob.get('/chats?state=waiting')).body.chats.map((c: { chatSessionId: string }) => c.chatSessionId)).to.include(
      three.id,
    );

    await one.leave(); // the customer leaves: the chat ends, and Alice still holds it
    expect((await alice.get('/status')).body.chats).to.equal(2);
    expect((await alice.post(`/chats/${three.id}/accept`)).status).to.equal(409);
    await alice.post(`/chats/${one.id}/leave`); // closed
    expect((await alice.post(`/chats/${three.id}/accept`)).status).to.equal(200);
    expect((await alice.get('/status')).body).to.deep.equal({ ready: true, chats: 2, maxChats: 2 });
    await alice.post(`/chats/${two.id}/leave`);
    await alice.post(`/chats/${three.id}/leave`);
  });

  it("an agent's own maxChats replaces the endpoint's", async () => {
    const chats = [await newChat(), await newChat(), await newChat(), await newChat()];
    const replies = [];
    for (const c of chats) replies.push((await carol.post(`/chats/${c.id}/accept`)).status);
    expect(replies).to.deep.equal([200, 200, 200, 409]);
    for (const c of chats.slice(0, 3)) await carol.post(`/chats/${c.id}/leave`);
    await chats[3].leave();
  });

  it('of five accepts at once by an agent with one place left, exactly one succeeds, and the others still wait', async () => {
    const held = await newChat();
    expect((await alice.post(`/chats/${held.id}/accept`)).status).to.equal(200);
    const racing = await Promise.all(Array.from({ length: 5 }, () => newChat()));
    const replies = await Promise.all(racing.map((c) => alice.post(`/chats/${c.id}/accept`)));
    expect(replies.map((r) => r.status).sort()).to.deep.equal([200, 409, 409, 409, 409]);
    expect((await alice.get('/status')).body.chats).to.equal(2);
    const waiting = (await bob.get('/chats?state=waiting')).body.chats.map((c: { chatSessionId: string }) => c.chatSessionId);
    expect(racing.filter((c) => waiting.includes(c.id))).to.have.length(4);
  });

  it('refuses a cap below 1 in an endpoint file, naming the field', () => {
    const agent = { id: 'alice', nickname: 'Alice', token: 'sha256:' + 'a'.repeat(64) };
    const refused = (content: unknown): string[] => {
      const r = loadEndpointFile('/x/gms_builtin.json', JSON.stringify(content));
      return r.ok ? [] : r.problems.map((p) => p.field);
    };
    expect(refused({ maxChatsPerAgent: 0 })).to.deep.equal(['maxChatsPerAgent']);
    expect(refused({ agents: [{ ...agent, maxChats: 0 }] })).to.deep.equal(['agents.0.maxChats']);
    expect(refused({ maxChatsPerAgent: 3, agents: [{ ...agent, maxChats: 1 }] })).to.deep.equal([]);
  });

  it('a refused accept (another agent was first) gives the place back', async () => {
    const chat = await newChat();
    expect((await bob.post(`/chats/${chat.id}/accept`)).status).to.equal(200);
    const before = (await carol.get('/status')).body.chats;
    expect((await carol.post(`/chats/${chat.id}/accept`)).status).to.equal(409);
    expect((await carol.get('/status')).body.chats).to.equal(before);
  });
});

describe('agent capacity on Redis', function () {
  this.timeout(20_000);
  let gw: TestGateway;
  const prefix = uniquePrefix('capacity');

  before(async function () {
    await requireRedis(this);
    gw = await startTestGateway({
      endpoints: { 'gms_builtin.json': endpointFile(['alice'], { maxChatsPerAgent: 1 }) },
      env: { STORE_URL: SHARED_REDIS_URL, STORE_PREFIX: prefix },
    });
  });
  after(async () => {
    await gw?.close();
    await dropPrefix(prefix);
  });

  it('of ten accepts at once by an agent with one place, exactly one succeeds, each store round trip apart', async () => {
    const alice = agentClient(gw, 'alice');
    const chats = await Promise.all(Array.from({ length: 10 }, () => startCustomerChat(gw)));
    const replies = await Promise.all(chats.map((c) => alice.post(`/chats/${c.start.body.chatSessionId as string}/accept`)));
    expect(replies.map((r) => r.status).sort()).to.deep.equal([200, ...Array(9).fill(409)]);
    expect((await alice.get('/status')).body).to.deep.equal({ ready: true, chats: 1, maxChats: 1 });
  });
});
