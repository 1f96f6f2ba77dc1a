// Cross-node push at the ChatHub: what a call on node B commits reaches the push subscribers of node A
// (CometD customers, agent channels) once each and in order, and node A's own updates are not echoed
// back to it through Redis.

import { expect } from 'chai';
import type { ChatUpdate } from '../src/chat/types.ts';
import { startCustomerChat } from './helpers/chat-client.ts';
import { eventually, startTestGateway, type TestGateway } from './helpers/gateway.ts';
import {
  agentHeaders,
  dropPrefix,
  requireRedis,
  SHARED_REDIS_URL,
  startNode,
  uniquePrefix,
  type GatewayNode,
} from './helpers/redis-nodes.ts';

describe('chat updates between gateway nodes', function () {
  this.timeout(30_000);
  const prefix = uniquePrefix('bridge');
  let nodeA: TestGateway | undefined;
  let nodeB: GatewayNode | undefined;
  const seenOnA: ChatUpdate[] = [];

  before(async function () {
    await requireRedis(this);
    const env = { STORE_URL: SHARED_REDIS_URL, STORE_PREFIX: prefix };
    nodeB = await startNode('B', env);
    nodeA = await startTestGateway({ env });
    nodeA.hub.subscribe((update) => seenOnA.push(update));
  });

  after(async () => {
    await Promise.all([nodeA?.close(), nodeB?.stop()]);
    if (nodeA) await dropPrefix(prefix);
  });

  const positionsOnA = (chatSessionId: string): number[] =>
    seenOnA.filter((u) => u.chatSessionId === chatSessionId).flatMap((u) => u.events.map((e) => e.position));

  it("delivers what happens on node B to node A's subscribers once each, in order", async () => {
    const chat = await startCustomerChat(nodeB!);
    const chatSessionId = chat.start.body.chatSessionId as string;
    expect((await nodeB!.post(`/agent/v1/chats/${chatSessionId}/accept`, {}, agentHeaders('bob'))).status).to.equal(200);
    const sends = Array.from({ length: 30 }, (_, i) => chat.call('send', { message: `from B ${i}` }));
    expect((await Promise.all(sends)).map((r) => r.status)).to.deep.equal(Array(30).fill(200));

    await eventually(() => positionsOnA(chatSessionId).length >= 32, 3000, 'node A to see all 32 events');
    expect(positionsOnA(chatSessionId)).to.deep.equal(Array.from({ length: 32 }, (_, i) => i + 1));
    const joined = seenOnA.find((u) => u.chatSessionId === chatSessionId && u.events.some((e) => e.nickname === 'Bob'));
    // Enough for node A to push to the right customer and agents.
    expect(joined).to.include({ serviceId: chat.id, state: 'connected' });
    expect(joined!.agentIds).to.deep.equal(['bob']);
  });

  it("does not deliver node A's own updates to it a second time", async () => {
    const chat = await startCustomerChat(nodeA!);
    const chatSessionId = chat.start.body.chatSessionId as string;
    await chat.call('send', { message: 'on A' });
    expect(positionsOnA(chatSessionId)).to.deep.equal([1, 2]);
    // Redis delivers in order: once B's event has come back to A, any echo of A's own would have too.
    await nodeB!.post(`/genesys/1/service/${chat.id}/ixn/chat/send`, { message: 'on B' });
    await eventually(() => positionsOnA(chatSessionId).includes(3), 3000, "node B's event on node A");
    expect(positionsOnA(chatSessionId)).to.deep.equal([1, 2, 3]);
  });
});
