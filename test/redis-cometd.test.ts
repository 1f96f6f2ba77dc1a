// Cross-node push end to end: a customer's CometD client connected to node A and an agent's CometD
// channel on node C each receive, once and in order, the events that calls on the other nodes produce.

import { expect } from 'chai';
import { createClient } from '@keyv/redis';
import faye from 'faye';
import type { AgentPushMessage } from '../src/endpoints/agent-push.ts';
import type { ChatPush } from '../src/push/customer-push.ts';
import { closeFayeClients } from './helpers/faye-client.ts';
import { eventually } from './helpers/gateway.ts';
import {
  AGENTS,
  agentHeaders,
  dropPrefix,
  requireRedis,
  SHARED_REDIS_URL,
  startNodes,
  uniquePrefix,
  type GatewayNode,
} from './helpers/redis-nodes.ts';

type FayeClient = InstanceType<typeof faye.Client>;

/** A Bayeux client on `node` subscribed to `channel`; `ext` goes on its handshake. */
async function subscribe<T>(
  node: GatewayNode,
  channel: string,
  options: { header?: [string, string]; ext?: Record<string, string> },
): Promise<{ client: FayeClient; received: T[] }> {
  const client = new faye.Client(`${node.url}/genesys/cometd`, { timeout: 5 });
  client.disable('websocket');
  if (options.header) client.setHeader(...options.header);
  client.addExtension({
    outgoing(message, callback) {
      if (message.channel === '/meta/handshake' && options.ext) message.ext = { ...message.ext, ...options.ext };
      callback(message);
    },
  });
  const received: T[] = [];
  await new Promise<void>((resolve, reject) => {
    client
      .subscribe(channel, (data) => received.push(data as T))
      .then(
        () => resolve(),
        (err) => reject(new Error(err.message)),
      );
  });
  return { client, received };
}

describe('push across gateway nodes over CometD', function () {
  this.timeout(30_000);
  const prefix = uniquePrefix('cometd');
  let nodes: GatewayNode[] = [];
  const clients: FayeClient[] = [];

  before(async function () {
    await requireRedis(this);
    // Sweeps run often; one node holds the sweep lease, and a handover between nodes must not end a chat twice.
    nodes = await startNodes(
      3,
      { STORE_URL: SHARED_REDIS_URL, STORE_PREFIX: prefix, SWEEP_INTERVAL_MS: '50' },
      {
        'request-chat.json': {},
        'brief-chat.json': { ttl: 1 },
      },
    );
  });

  after(async () => {
    // Waiting for the server to confirm each disconnect lets the nodes stop at once, with no long-poll open.
    await closeFayeClients(clients);
    await Promise.all(nodes.map((n) => n.stop()));
    if (nodes.length > 0) await dropPrefix(prefix);
  });

  it("brings every event made on other nodes to the customer's client on node A and the agent's channel on node C, once each", async () => {
    const [a, b, c] = nodes as [GatewayNode, GatewayNode, GatewayNode];
    const gmsUser = `customer-${prefix}`;
    const customer = await subscribe<ChatPush>(a, '/_genesys', { header: ['gms_user', gmsUser] });
    const alice = AGENTS[0];
    const agent = await subscribe<AgentPushMessage>(c, `/agent/${alice.id}`, { ext: { token: alice.token } });
    clients.push(customer.client, agent.client);

    const headers = { gms_user: gmsUser };
    const created = await b.post('/genesys/1/service/request-chat', {}, headers);
    const id = created.body._id as string;
    const chatPath = `/genesys/1/service/${id}/ixn/chat`;
    const started = await b.post(chatPath, { firstName: 'Ann', lastName: 'Lee', notify_by: 'comet' }, headers);
    expect(started.status).to.equal(200);
    const chatSessionId = started.body.chatSessionId as string;

    await eventually(
      () => agent.received.some((m) => m.type === 'waiting' && m.chat.chatSessionId === chatSessionId),
      5000,
      'the agent on C to hear of the waiting chat',
    );
    expect((await b.post(`/agent/v1/chats/${chatSessionId}/accept`, {}, agentHeaders(alice.id))).status).to.equal(200);
    expect((await c.post(`${chatPath}/send`, { message: 'sent on C' }, headers)).status).to.equal(200);
    expect(
      (await a.post(`/agent/v1/chats/${chatSessionId}/send`, { message: 'answered on A' }, agentHeaders(alice.id))).status,
    ).to.equal(200);
    expect((await b.post(`${chatPath}/send`, { message: 'sent on B' }, headers)).status).to.equal(200);

    const pushedTexts = (): string[] => customer.received.flatMap((p) => p.message.transcriptToShow.map((e) => e[2]));
    await eventually(() => pushedTexts().includes('sent on B'), 5000, 'the last event to reach the customer on A');
    expect(pushedTexts()).to.deep.equal([
      'has joined the session',
      'has joined the session',
      'sent on C',
      'answered on A',
      'sent on B',
    ]);
    expect(customer.received.map((p) => p.message.transcriptPosition)).to.deep.equal(['1', '2', '3', '4', '5']);

    const agentTexts = (): string[] =>
      agent.received.flatMap((m) =>
        m.type === 'events' && m.chatSessionId === chatSessionId ? m.events.map((e) => e.text) : [],
      );
    await eventually(() => agentTexts().includes('sent on B'), 5000, 'the last event to reach the agent on C');
    expect(agentTexts()).to.deep.equal(['has joined the session', 'sent on C', 'answered on A', 'sent on B']);
    expect(agent.received.filter((m) => m.type === 'waiting' && m.chat.chatSessionId === chatSessionId)).to.have.length(1);
  });

  it('lets Redis expire a session, and has exactly one node end its chat for the agent', async () => {
    const [a, b, c] = nodes as [GatewayNode, GatewayNode, GatewayNode];
    const alice = AGENTS[0];
    const agent = await subscribe<AgentPushMessage>(a, `/agent/${alice.id}`, { ext: { token: alice.token } });
    clients.push(agent.client);
    // The session's key carries a Redis TTL of its own (the service's ttl and a grace period to end the chat),
    // read at once: the chat's 1 s ttl may be over by the time a loaded machine gets to the accept.
    const redis = createClient({ url: SHARED_REDIS_URL });
    await redis.connect();
    let id: string;
    let chatSessionId: string;
    try {
      id = (await b.post('/genesys/1/service/brief-chat')).body._id as string;
      chatSessionId = (await c.post(`/genesys/1/service/${id}/ixn/chat`, { firstName: 'Ann', lastName: 'Lee' })).body
        .chatSessionId as string;
      const ttlMs = await redis.pTTL(`${prefix}::session:${id}`);
      expect(ttlMs).to.be.within(1, 61_000);
    } finally {
      redis.destroy();
    }
    expect((await b.post(`/agent/v1/chats/${chatSessionId}/accept`, {}, agentHeaders(alice.id))).status).to.equal(200);

    const leftEvents = (): number =>
      agent.received.filter(
        (m) => m.type === 'events' && m.chatSessionId === chatSessionId && m.events.some((e) => e.type === 'Notice.Left'),
      ).length;
    await eventually(() => leftEvents() > 0, 5000, 'the chat to expire');
    for (const node of nodes) {
      const reply = await node.post(`/genesys/1/service/${id}/ixn/chat/refresh`);
      expect([reply.status, reply.body.exception]).to.deep.equal([404, 'SessionNotFound']);
    }
    // A second ending would come from another node's sweep racing the first, right behind it.
    expect(leftEvents()).to.equal(1);
  });
});
