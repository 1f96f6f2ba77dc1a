// Chat API v2's CometD mode across nodes: a customer on `/service/chatV2/<service>` of node A, the agent on
// node B (its API and its CometD channel), one Redis. Each side gets every event the other makes, once and in
// order, and a second client of the customer on node B resumes the chat with requestNotifications.

import { expect } from 'chai';
import faye from 'faye';
import type { AgentPushMessage } from '../src/endpoints/agent-push.ts';
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
interface V2Message {
  index: number;
  type: string;
  text?: string;
  from: { nickname: string; type: string };
}
interface V2Data {
  operation?: string;
  statusCode: number;
  chatId?: string;
  userId?: string;
  secureKey?: string;
  nextPosition?: number;
  chatEnded?: boolean;
  messages?: V2Message[];
  errors?: { code: number }[];
}

const CHANNEL = '/service/chatV2/request-chat';

describe('Chat API v2 over CometD across nodes (Redis)', function () {
  this.timeout(60_000);
  const prefix = uniquePrefix('v2-cometd');
  let nodes: GatewayNode[] = [];
  const clients: FayeClient[] = [];

  before(async function () {
    await requireRedis(this);
    nodes = await startNodes(2, { STORE_URL: SHARED_REDIS_URL, STORE_PREFIX: prefix });
  });
  after(async () => {
    await Promise.all(
      clients.map((client) =>
        Promise.resolve(client.disconnect() as unknown as PromiseLike<unknown> | undefined).catch(() => undefined),
      ),
    );
    await Promise.all(nodes.map((n) => n.stop()));
    if (nodes.length > 0) await dropPrefix(prefix);
  });

  /** A Bayeux client on `node` subscribed to `channel` (long-polling), `ext` on its handshake. */
  async function subscribe<T>(
    node: GatewayNode,
    channel: string,
    ext?: Record<string, string>,
  ): Promise<{ client: FayeClient; received: T[] }> {
    const client = new faye.Client(`${node.url}/genesys/cometd`, { timeout: 5 });
    client.disable('websocket');
    if (ext) {
      client.addExtension({
        outgoing(message, callback) {
          if (message.channel === '/meta/handshake') message.ext = { ...message.ext, ...ext };
          callback(message);
        },
      });
    }
    clients.push(client);
    const received: T[] = [];
    await new Promise<void>((resolve, reject) => {
      client
        .subscribe(channel, (data) => received.push(data as T))
        .then(
          () => resolve(),
          (err) => reject(new Error(String(err.message))),
        );
    });
    return { client, received };
  }

  /** Publishes an operation and waits for its answer (the data carrying that `operation`). */
  async function operate(customer: { client: FayeClient; received: V2Data[] }, data: Record<string, unknown>): Promise<V2Data> {
    const seen = customer.received.length;
    await customer.client.publish(CHANNEL, data);
    return await eventually(
      () => customer.received.slice(seen).find((d) => d.operation === data.operation),
      10_000,
      `the answer to ${String(data.operation)}`,
    );
  }

  /** Every message pushed to the client (answers and notifications), by index, each index once. */
  function pushedMessages(received: V2Data[]): V2Message[] {
    const all = received.flatMap((d) => d.messages ?? []);
    const indexes = all.map((m) => m.index);
    expect(new Set(indexes).size, `no message pushed twice: ${indexes.join(',')}`).to.equal(indexes.length);
    expect(
      [...indexes].sort((a, b) => a - b),
      'in order',
    ).to.deep.equal(indexes);
    return all;
  }

  it("a customer's CometD client on node A and the agent on node B each get what the other does, once and in order", async () => {
    const [a, b] = nodes;
    const alice = AGENTS[0];
    const agentPush = await subscribe<AgentPushMessage>(b, `/agent/${alice.id}`, { token: alice.token });
    const customer = await subscribe<V2Data>(a, CHANNEL);

    const started = await operate(customer, {
      operation: 'requestChat',
      nickname: 'Ann',
      subject: 'Bills',
      text: 'Hello, anyone?',
    });
    expect(started.statusCode).to.equal(0);
    const { chatId, userId, secureKey } = started as Required<Pick<V2Data, 'chatId' | 'userId' | 'secureKey'>>;
    // The agent's node is told of the waiting chat made on A, and lists it.
    await eventually(
      () => agentPush.received.some((m) => m.type === 'waiting' && m.chat.chatSessionId === chatId),
      5000,
      'the waiting push on B',
    );
    const agent = (p: string, body?: Record<string, string>) =>
      b.post(`/agent/v1/chats/${chatId}${p}`, body ?? {}, agentHeaders(alice.id));
    expect((await agent('/accept')).status).to.equal(200);
    expect((await agent('/send', { message: 'Hi Ann, Alice here' })).status).to.equal(200);
    await eventually(
      () => pushedMessages(customer.received).some((m) => m.type === 'Message' && m.text === 'Hi Ann, Alice here'),
      5000,
      "the agent's message on A",
    );
    const joined = pushedMessages(customer.received).find((m) => m.type === 'ParticipantJoined' && m.from.type === 'Agent');
    expect(joined?.from.nickname).to.equal(alice.nickname);

    // The customer's operations on A reach the agent on B: its CometD channel and its API.
    expect(
      (await operate(customer, { operation: 'sendMessage', chatId, userId, secureKey, message: 'My bill is wrong' })).statusCode,
    ).to.equal(0);
    await eventually(
      () =>
        agentPush.received.some(
          (m) => m.type === 'events' && m.chatSessionId === chatId && m.events.some((e) => e.text === 'My bill is wrong'),
        ),
      5000,
      "the customer's message on B's agent channel",
    );
    expect((await operate(customer, { operation: 'startTyping', chatId, userId, secureKey })).statusCode).to.equal(0);
    const seen = await b.get(`/agent/v1/chats/${chatId}`, agentHeaders(alice.id));
    expect(seen.body.events.map((e: { type: string }) => e.type)).to.include.members(['Message.Text', 'Notice.TypingStarted']);
    // A wrong secureKey changes nothing, on whichever node.
    const refused = await operate(customer, { operation: 'sendMessage', chatId, secureKey: 'not-the-key', message: 'x' });
    expect(refused.errors?.[0]?.code).to.equal(102);

    // A second client of the customer, on node B, resumes the chat: the transcript from where it says, then live events.
    const resumed = await subscribe<V2Data>(b, CHANNEL);
    const again = await operate(resumed, {
      operation: 'requestNotifications',
      chatId,
      userId,
      secureKey,
      transcriptPosition: '1',
    });
    expect(again.messages?.map((m) => m.text).filter(Boolean)).to.include.members([
      'Hello, anyone?',
      'Hi Ann, Alice here',
      'My bill is wrong',
    ]);
    expect((await agent('/send', { message: 'Let me check' })).status).to.equal(200);
    for (const received of [customer.received, resumed.received]) {
      await eventually(
        () => pushedMessages(received).some((m) => m.text === 'Let me check'),
        5000,
        'the next message on both clients',
      );
    }

    // The agent leaves on B: the customer on A is told the chat ended.
    expect((await agent('/leave')).status).to.equal(200);
    await eventually(() => customer.received.some((d) => d.chatEnded === true), 5000, 'chatEnded on A');
    const all = pushedMessages(customer.received);
    expect(all.at(-1)?.type).to.equal('ParticipantLeft');
    expect(all.map((m) => m.index)).to.deep.equal(Array.from({ length: all.length }, (_, i) => i + 1));
  });
});
