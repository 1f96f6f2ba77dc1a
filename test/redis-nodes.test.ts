// Three gateway nodes behind a load balancer with no sticky sessions, sharing one Redis: a chat goes on
// whichever node each call lands on, and concurrent events from every node land once, in one order.

import { expect } from 'chai';
import { startCustomerChat, type CustomerChat } from './helpers/chat-client.ts';
import type { Reply } from './helpers/gateway.ts';
import {
  agentHeaders,
  dropPrefix,
  requireRedis,
  SHARED_REDIS_URL,
  startNodes,
  uniquePrefix,
  type GatewayNode,
} from './helpers/redis-nodes.ts';

type WireEvent = [string, string, string, string, string];

describe('several gateway nodes on one Redis', function () {
  this.timeout(30_000);
  const prefix = uniquePrefix('nodes');
  let nodes: GatewayNode[] = [];

  before(async function () {
    await requireRedis(this);
    nodes = await startNodes(3, { STORE_URL: SHARED_REDIS_URL, STORE_PREFIX: prefix });
  });

  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    if (nodes.length > 0) await dropPrefix(prefix);
  });

  const node = (i: number): GatewayNode => nodes[i % nodes.length];

  /** A customer whose every call goes to the next node, round robin, as a load balancer would send it. */
  async function roamingCustomer(): Promise<
    CustomerChat & { chatSessionId: string; on(i: number, action: string, body?: Record<string, string>): Promise<Reply> }
  > {
    let turn = 0;
    const roaming = { post: (p: string, b?: Record<string, string>) => node(turn++).post(p, b) };
    const chat = await startCustomerChat(roaming);
    const on = (i: number, action: string, body: Record<string, string> = {}): Promise<Reply> =>
      node(i).post(`/genesys/1/service/${chat.id}/ixn/chat/${action}`, body);
    return { ...chat, chatSessionId: chat.start.body.chatSessionId as string, on };
  }

  function agent(
    i: number,
    agentId: string,
    action: string,
    chatSessionId: string,
    body: Record<string, string> = {},
  ): Promise<Reply> {
    return node(i).post(`/agent/v1/chats/${chatSessionId}/${action}`, body, agentHeaders(agentId));
  }

  it("carries a chat on whichever node each of the customer's and the agent's calls lands", async () => {
    const chat = await roamingCustomer();
    // The session was created on node A and the chat started on node B.
    const waiting = await node(2).get('/agent/v1/chats?state=waiting', agentHeaders('alice'));
    expect(waiting.body.chats.map((c: { chatSessionId: string }) => c.chatSessionId)).to.include(chat.chatSessionId);

    expect((await agent(0, 'alice', 'accept', chat.chatSessionId)).status).to.equal(200);
    expect((await chat.on(1, 'send', { message: 'Hello from B' })).status).to.equal(200);
    expect((await agent(2, 'alice', 'send', chat.chatSessionId, { message: 'Hello from C' })).status).to.equal(200);

    const seen = await chat.on(0, 'refresh', { transcriptPosition: '0' });
    expect(seen.status).to.equal(200);
    expect(seen.body.transcriptPosition).to.equal('4');
    expect(seen.body.transcriptToShow.map((e: WireEvent) => [e[0], e[1], e[2]])).to.deep.equal([
      ['Notice.Joined', 'Ann Lee', 'has joined the session'],
      ['Notice.Joined', 'Alice', 'has joined the session'],
      ['Message.Text', 'Ann Lee', 'Hello from B'],
      ['Message.Text', 'Alice', 'Hello from C'],
    ]);
    // The position node A gave is known to node B: a poll with no position there shows only what is new.
    await agent(1, 'alice', 'notice', chat.chatSessionId, { text: 'new' });
    const next = await chat.on(1, 'refresh');
    expect(next.body.transcriptToShow.map((e: WireEvent) => e[2])).to.deep.equal(['new']);
  });

  it('lets exactly one of several agents racing on different nodes accept a chat', async () => {
    const chat = await roamingCustomer();
    const replies = await Promise.all(['alice', 'bob', 'carol'].map((id, i) => agent(i, id, 'accept', chat.chatSessionId)));
    expect(replies.map((r) => r.status).sort()).to.deep.equal([200, 409, 409]);
    for (const lost of replies.filter((r) => r.status === 409)) expect(lost.body.exception).to.equal('Conflict');

    const transcript = (await chat.on(2, 'refresh', { transcriptPosition: '0' })).body.transcriptToShow as WireEvent[];
    expect(transcript.filter((e) => e[0] === 'Notice.Joined' && e[4] === 'AGENT')).to.have.length(1);
  });

  it('numbers 200 concurrent events from every node 1..n once each, in one order that every node reports', async () => {
    const chat = await roamingCustomer();
    expect((await agent(1, 'alice', 'accept', chat.chatSessionId)).status).to.equal(200);

    const calls: Promise<Reply>[] = [];
    for (let i = 0; i < 200; i++) {
      const kind = i % 5;
      if (kind === 0 || kind === 1) calls.push(chat.on(i, 'send', { message: `customer ${i}` }));
      else if (kind === 2) calls.push(agent(i, 'alice', 'send', chat.chatSessionId, { message: `agent ${i}` }));
      else if (kind === 3) calls.push(chat.on(i, i % 2 ? 'startTyping' : 'stopTyping'));
      else calls.push(agent(i, 'alice', 'typing', chat.chatSessionId, { typing: String(i % 2 === 0) }));
    }
    const replies = await Promise.all(calls);
    expect(replies.filter((r) => r.status !== 200).map((r) => r.body)).to.deep.equal([]);

    const transcripts = await Promise.all(nodes.map((_, i) => chat.on(i, 'refresh', { transcriptPosition: '0' })));
    const first = transcripts[0].body;
    expect(first.transcriptPosition).to.equal('202');
    for (const other of transcripts.slice(1)) expect(other.body.transcriptToShow).to.deep.equal(first.transcriptToShow);

    const texts = (first.transcriptToShow as WireEvent[]).filter((e) => e[0] === 'Message.Text').map((e) => e[2]);
    const sent = Array.from({ length: 200 }, (_, i) => i)
      .filter((i) => i % 5 <= 2)
      .map((i) => (i % 5 === 2 ? `agent ${i}` : `customer ${i}`));
    expect([...texts].sort()).to.deep.equal([...sent].sort());

    // The agent's view numbers the same events 1..n, in the same order, on every node.
    const views = await Promise.all(nodes.map((n) => n.get(`/agent/v1/chats/${chat.chatSessionId}`, agentHeaders('alice'))));
    for (const view of views) {
      const events = view.body.events as { position: number; type: string; text: string }[];
      expect(events.map((e) => e.position)).to.deep.equal(Array.from({ length: 202 }, (_, i) => i + 1));
      expect(events.map((e) => [e.type, e.text])).to.deep.equal((first.transcriptToShow as WireEvent[]).map((e) => [e[0], e[2]]));
    }
  });
});
