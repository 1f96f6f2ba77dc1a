// Redis restarting in the middle of a chat: while it is down every call gets a quick 503
// ServiceUnavailable, the gateway keeps running, nothing half-written is left, and the chat goes on by
// itself once Redis is back. The Redis here is the test's own, so stopping it disturbs nobody else.

import { expect } from 'chai';
import { startCustomerChat } from './helpers/chat-client.ts';
import { eventually, startTestGateway, type Reply, type TestGateway } from './helpers/gateway.ts';
import { OwnRedis, requireRedis, startNode, uniquePrefix, type GatewayNode } from './helpers/redis-nodes.ts';

type WireEvent = [string, string, string, string, string];

describe('a gateway node when Redis restarts mid-chat', function () {
  this.timeout(30_000);
  let redis: OwnRedis | undefined;
  let node: GatewayNode | undefined;
  /** A second node, in this process, whose chat hub shows what reaches it from the first through Redis. */
  let watcher: TestGateway | undefined;
  const watched: string[] = [];

  before(async function () {
    // The shared Redis stands for "this machine has a redis-server"; the test starts its own.
    await requireRedis(this);
    redis = await OwnRedis.start();
    const env = { STORE_URL: redis.url, STORE_PREFIX: uniquePrefix('faults') };
    node = await startNode('F', env);
    watcher = await startTestGateway({ env });
    watcher.hub.subscribe((update) => watched.push(...update.events.map((e) => e.text)));
  });

  // A failed test must not leave the next one without Redis.
  afterEach(() => redis?.ensureRunning());

  after(async () => {
    await watcher?.close();
    await node?.stop();
    await redis?.remove();
  });

  it('answers 503 quickly while Redis is down, and carries the chat on when it is back', async () => {
    const gw = node!;
    const chat = await startCustomerChat(gw);
    expect((await chat.call('send', { message: 'before the restart' })).status).to.equal(200);

    await redis!.stop();
    for (const [action, body] of [
      ['send', { message: 'while Redis is down' }],
      ['refresh', { transcriptPosition: '0' }],
      ['startTyping', {}],
    ] as const) {
      const started = Date.now();
      const reply = await chat.call(action, body);
      expect(reply.status, `${action}: ${JSON.stringify(reply.body)}`).to.equal(503);
      expect(reply.body.exception).to.equal('ServiceUnavailable');
      expect(Date.now() - started, `${action} took too long`).to.be.below(3000);
    }
    const created = await gw.post('/genesys/1/service/request-chat');
    expect([created.status, created.body.exception]).to.deep.equal([503, 'ServiceUnavailable']);
    expect(gw.alive(), gw.output()).to.equal(true);

    await redis!.restart();
    const back = await eventually(
      async () => {
        const reply = await chat.call('send', { message: 'after the restart' });
        return reply.status === 200 ? reply : undefined;
      },
      10_000,
      'the node to reconnect to Redis',
    );
    expect(back?.status).to.equal(200);

    const transcript = (await chat.call('refresh', { transcriptPosition: '0' })).body.transcriptToShow as WireEvent[];
    expect(transcript.map((e) => e[2])).to.deep.equal(['has joined the session', 'before the restart', 'after the restart']);
    expect((await gw.post('/genesys/1/service/request-chat')).status).to.equal(200);

    // Pushes between the nodes resume too, once their subscriptions are back (none is replayed).
    let ping = 0;
    await eventually(
      async () => {
        await chat.call('send', { message: `ping ${++ping}` });
        return watched.some((text) => text.startsWith('ping '));
      },
      10_000,
      'a push from the node to reach the other node again',
    );
  });

  it('leaves no half-written chat when Redis stops while messages are being sent', async () => {
    const gw = node!;
    const chat = await startCustomerChat(gw);
    let sent = 0;
    const sending: Promise<Reply>[] = [];
    for (let i = 0; i < 200; i++) {
      sending.push(chat.call('send', { message: `m${i}` }).then((r) => ((sent += r.status === 200 ? 1 : 0), r)));
    }
    // Redis goes away with some messages stored and others still queued for the session's lock.
    await eventually(() => sent >= 10, 5000, 'the first messages to be sent');
    await redis!.stop();
    const replies = await Promise.all(sending);
    await redis!.restart();
    expect(replies.filter((r) => r.status === 503)).to.not.have.length(0);
    expect(replies.every((r) => r.status === 200 || (r.status === 503 && r.body.exception === 'ServiceUnavailable'))).to.equal(
      true,
    );
    expect(gw.alive(), gw.output()).to.equal(true);

    const after = await eventually(
      async () => {
        const reply = await chat.call('refresh', { transcriptPosition: '0' });
        return reply.status === 200 ? reply : undefined;
      },
      10_000,
      'the node to reconnect to Redis',
    );
    const events = after.body.transcriptToShow as WireEvent[];
    expect(after.body.transcriptPosition).to.equal(String(events.length));
    const stored = events.filter((e) => e[0] === 'Message.Text').map((e) => e[2]);
    expect(new Set(stored).size, 'a message stored twice').to.equal(stored.length);
    // Every message the customer was told was sent is in the chat.
    const confirmed = replies.flatMap((r, i) => (r.status === 200 ? [`m${i}`] : []));
    expect(stored).to.include.members(confirmed);
    // And the chat takes new messages, numbered right after.
    const next = await chat.call('send', { message: 'carry on' });
    expect(next.status).to.equal(200);
    expect(next.body.transcriptPosition).to.equal(String(events.length + 1));
  });

  it('answers 503 within a few seconds while Redis hangs without answering, and carries on when it answers again', async () => {
    const gw = node!;
    const chat = await startCustomerChat(gw);
    redis!.freeze();
    try {
      const started = Date.now();
      const reply = await chat.call('send', { message: 'into the void' });
      expect([reply.status, reply.body.exception]).to.deep.equal([503, 'ServiceUnavailable']);
      expect(Date.now() - started).to.be.below(5000);
    } finally {
      redis!.thaw();
    }
    const back = await eventually(
      async () => {
        const reply = await chat.call('send', { message: 'heard again' });
        return reply.status === 200 ? reply : undefined;
      },
      10_000,
      'Redis to answer again',
    );
    const texts = (back.body.transcriptToShow as WireEvent[]).map((e) => e[2]);
    expect(texts).to.include('heard again');
    expect(gw.alive(), gw.output()).to.equal(true);
  });
});
