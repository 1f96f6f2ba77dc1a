// Agents' CometD channels /agent/{id}, with real Bayeux clients: new waiting chats, chats taken, every
// event of the agent's chats, the end of a chat (customer left or expired), and nobody else's channel.

import { expect } from 'chai';
import faye from 'faye';
import type { AgentPushMessage } from '../src/endpoints/agent-push.ts';
import { closeFayeClient } from './helpers/faye-client.ts';
import { agentClient, endpointFile, tokenOf } from './helpers/agent-client.ts';
import { startCustomerChat } from './helpers/chat-client.ts';
import { eventually, startTestGateway, type TestGateway } from './helpers/gateway.ts';

interface Listener {
  client: InstanceType<typeof faye.Client>;
  received: AgentPushMessage[];
}

/** A Bayeux client subscribed to `channel`, proving who it is with `token` on the handshake or the subscribe. */
async function listen(
  gw: TestGateway,
  channel: string,
  token: string,
  on: 'handshake' | 'subscribe' = 'handshake',
): Promise<Listener> {
  const client = new faye.Client(`${gw.url}/genesys/cometd`, { timeout: 5 });
  client.addExtension({
    outgoing(message, callback) {
      if (message.channel === `/meta/${on}`) message.ext = { ...message.ext, token };
      callback(message);
    },
  });
  const received: AgentPushMessage[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      client
        .subscribe(channel, (data) => received.push(data as AgentPushMessage))
        .then(
          () => resolve(),
          (err) => reject(new Error(err.message)),
        );
    });
  } catch (err) {
    await closeFayeClient(client);
    throw err;
  }
  return { client, received };
}

/** One handshake sent by hand, to see the server's answer (a refused client would retry forever). */
async function handshake(gw: TestGateway, token: string): Promise<{ successful: boolean; error?: string }> {
  const res = await fetch(`${gw.url}/genesys/cometd`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([
      { channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'], ext: { token } },
    ]),
  });
  const [reply] = (await res.json()) as { successful: boolean; error?: string }[];
  return reply;
}

const ofChat = (l: Listener, chatSessionId: string) =>
  l.received.filter((m) => (m.type === 'waiting' ? m.chat.chatSessionId : m.chatSessionId) === chatSessionId);

describe('agent push over CometD', () => {
  let gw: TestGateway;
  const listeners: Listener[] = [];
  const open = async (channel: string, token: string): Promise<Listener> => {
    const l = await listen(gw, channel, token);
    listeners.push(l);
    return l;
  };

  before(async () => {
    gw = await startTestGateway({
      services: { 'request-chat.json': {}, 'vip.json': { endpoint: 'vip_desk' }, 'brief.json': { ttl: 1 } },
      endpoints: { 'gms_builtin.json': endpointFile(['alice', 'bob']), 'vip_desk.json': endpointFile(['victor']) },
      env: { SWEEP_INTERVAL_MS: '50' },
    });
  });
  afterEach(() => Promise.all(listeners.splice(0).map((l) => closeFayeClient(l.client))));
  after(() => gw.close());

  it('agents of the endpoint hear of a new chat; the one who accepts hears its every event to the end', async () => {
    const alice = await open('/agent/alice', tokenOf('alice'));
    const bob = await open('/agent/bob', tokenOf('bob'));
    const victor = await open('/agent/victor', tokenOf('victor'));

    const customer = await startCustomerChat(gw, { start: { userDisplayName: 'Ann', subject: 'Refund' } });
    const chatId = customer.start.body.chatSessionId as string;
    for (const agent of [alice, bob]) {
      const waiting = await eventually(() => ofChat(agent, chatId)[0], 3000, 'the waiting chat');
      expect(waiting.type).to.equal('waiting');
      expect(waiting.type === 'waiting' && waiting.chat).to.include({
        chatSessionId: chatId,
        nickname: 'Ann',
        subject: 'Refund',
        endpoint: 'gms_builtin',
      });
    }

    await agentClient(gw, 'alice').post(`/chats/${chatId}/accept`);
    await eventually(() => ofChat(bob, chatId).some((m) => m.type === 'dequeued'), 3000, 'bob to see the chat taken');
    await customer.call('send', { message: 'Where is my refund?' });
    await agentClient(gw, 'alice').post(`/chats/${chatId}/send`, { message: 'Looking now' });
    await customer.call('disconnect');

    const eventsOf = () => ofChat(alice, chatId).flatMap((m) => (m.type === 'events' ? m.events : []));
    await eventually(() => eventsOf().some((e) => e.type === 'Notice.Left'), 3000, 'alice to see the customer leave');
    const events = eventsOf();
    expect(events.map((e) => [e.position, e.type, e.nickname])).to.deep.equal([
      [2, 'Notice.Joined', 'Alice'],
      [3, 'Message.Text', 'Ann'],
      [4, 'Message.Text', 'Alice'],
      [5, 'Notice.Left', 'Ann'],
    ]);
    const last = ofChat(alice, chatId).at(-1)!;
    expect(last).to.include({ type: 'events', state: 'ended' });

    // Bob was told of the queue, never of the conversation; Victor serves another endpoint.
    expect(ofChat(bob, chatId).map((m) => m.type)).to.deep.equal(['waiting', 'dequeued']);
    expect(ofChat(victor, chatId)).to.deep.equal([]);
  });

  it("every agent event reaches a CometD customer on /_genesys, down to the agent's leaving", async () => {
    const client = new faye.Client(`${gw.url}/genesys/cometd`, { timeout: 5 });
    client.setHeader('gms_user', 'ann-push');
    const pushes: { message: { chatIxnState: string; transcriptToShow: string[][] } }[] = [];
    await new Promise<void>((resolve, reject) => {
      client
        .subscribe('/_genesys', (data) => pushes.push(data as (typeof pushes)[number]))
        .then(
          () => resolve(),
          (err) => reject(new Error(err.message)),
        );
    });
    try {
      const customer = await startCustomerChat(gw, {
        headers: { gms_user: 'ann-push' },
        start: { notify_by: 'comet', userDisplayName: 'Ann' },
      });
      const chatId = customer.start.body.chatSessionId as string;
      const alice = agentClient(gw, 'alice');
      await alice.post(`/chats/${chatId}/accept`);
      await alice.post(`/chats/${chatId}/typing`, { typing: 'true' });
      await alice.post(`/chats/${chatId}/send`, { message: 'Hello Ann' });
      await alice.post(`/chats/${chatId}/typing`, { typing: 'false' });
      await alice.post(`/chats/${chatId}/push-url`, { url: 'http://example.com/help' });
      await alice.post(`/chats/${chatId}/notice`, { text: 'Survey at the end' });
      await alice.post(`/chats/${chatId}/leave`);
      await eventually(() => pushes.some((p) => p.message.chatIxnState === 'DISCONNECTED'), 3000, 'the end to be pushed');
      const agentEvents = pushes.flatMap((p) => p.message.transcriptToShow).filter((e) => e[4] === 'AGENT');
      expect(agentEvents.map((e) => [e[0], e[1], e[2]])).to.deep.equal([
        ['Notice.Joined', 'Alice', 'has joined the session'],
        ['Notice.TypingStarted', 'Alice', 'is typing'],
        ['Message.Text', 'Alice', 'Hello Ann'],
        ['Notice.TypingStopped', 'Alice', 'stopped typing'],
        ['Notice.PushUrl', 'Alice', 'http://example.com/help'],
        ['Notice.Custom', 'Alice', 'Survey at the end'],
        ['Notice.Left', 'Alice', 'has left the session'],
      ]);
    } finally {
      await closeFayeClient(client);
    }
  });

  it('an agent in a chat that expires sees it end', async () => {
    const alice = await open('/agent/alice', tokenOf('alice'));
    const customer = await startCustomerChat(gw, { service: 'brief' });
    const chatId = customer.start.body.chatSessionId as string;
    await agentClient(gw, 'alice').post(`/chats/${chatId}/accept`);
    const ended = () =>
      ofChat(alice, chatId).find(
        (m): m is Extract<AgentPushMessage, { type: 'events' }> => m.type === 'events' && m.state === 'ended',
      );
    await eventually(ended, 4000, 'the chat to expire');
    expect(ended()!.events.map((e) => [e.type, e.nickname, e.partyType])).to.deep.equal([['Notice.Left', 'Ann Lee', 'CLIENT']]);
  });

  it("a wrong token is refused, and no agent can listen on another agent's channel", async () => {
    expect(await handshake(gw, 'not-a-token')).to.include({ successful: false });
    expect(await handshake(gw, tokenOf('alice'))).to.include({ successful: true });
    await expectRefused(listen(gw, '/agent/alice', 'not-a-token', 'subscribe'));
    await expectRefused(listen(gw, '/agent/alice', tokenOf('bob'), 'subscribe'));
    await expectRefused(listen(gw, '/agent/alice', tokenOf('bob')));
    await expectRefused(listen(gw, '/agent/*', tokenOf('bob')));
    await expectRefused(listen(gw, '/agent/**', tokenOf('bob')));
  });
});

async function expectRefused(subscribing: Promise<Listener>): Promise<void> {
  let listener: Listener | undefined;
  try {
    listener = await subscribing;
  } catch {
    return;
  }
  await closeFayeClient(listener.client);
  expect.fail('the subscription was accepted');
}
