// Push notifications survive what a gateway process meets: killed (SIGKILL) with a notification queued,
// or while sending one, the next start delivers it, once, under the same idempotency key; and the
// outbox works the same on the shared Redis.

import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { startCustomerChat } from './helpers/chat-client.ts';
import { eventually, makeTempDir, startTestGateway } from './helpers/gateway.ts';
import { startReceiver, type PushReceiver } from './helpers/push-receiver.ts';
import { TestClock } from './helpers/test-clock.ts';
import {
  agentHeaders,
  dropPrefix,
  requireRedis,
  SHARED_REDIS_URL,
  startNode,
  startNodes,
  uniquePrefix,
  type GatewayNode,
} from './helpers/redis-nodes.ts';
import { agentClient, endpointFile } from './helpers/agent-client.ts';

const PUSH = { push_notification_deviceid: 'device-token-9', push_notification_type: 'customhttp' };

async function pushFolder(receiver: PushReceiver): Promise<{ dir: string; pushDir: string }> {
  const dir = await makeTempDir('gms-push-restart-');
  const pushDir = path.join(dir, 'push.d');
  await fs.mkdir(pushDir);
  await fs.writeFile(
    path.join(pushDir, 'callback.json'),
    JSON.stringify({ kind: 'http-callback', url: `${receiver.url}/push`, secretEnv: 'PUSH_TEST_SECRET' }),
  );
  return { dir, pushDir };
}

function killed(node: GatewayNode): Promise<void> {
  const gone = new Promise<void>((resolve) => node.process.once('exit', () => resolve()));
  node.process.kill('SIGKILL');
  return gone;
}

describe('push notifications across a killed gateway process', function () {
  this.timeout(90_000);
  let receiver: PushReceiver;
  const nodes: GatewayNode[] = [];
  beforeEach(async () => {
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()));
    await receiver.close();
  });

  async function start(name: string, dir: string, pushDir: string, env: Record<string, string> = {}): Promise<GatewayNode> {
    const node = await startNode(name, {
      STORE_URL: `sqlite://${path.join(dir, 'sessions.sqlite')}`,
      STORE_PREFIX: 'gms',
      PUSH_DIR: pushDir,
      PUSH_TEST_SECRET: 'the-restart-tests-signing-key',
      PUSH_AWAY_MS: '0',
      PUSH_DRAIN_INTERVAL_MS: '50',
      ...env,
    });
    nodes.push(node);
    return node;
  }

  it('a notification queued when the process is killed is delivered once by the next start', async () => {
    const { dir, pushDir } = await pushFolder(receiver);
    const first = await start('push-a', dir, pushDir, { PUSH_COALESCE_MS: '3000' });
    const customer = await startCustomerChat(first, { start: PUSH });
    const chatId = customer.start.body.chatSessionId as string;
    expect((await first.post(`/agent/v1/chats/${chatId}/accept`, undefined, agentHeaders('alice'))).status).to.equal(200);
    await killed(first);
    expect(receiver.received).to.have.length(0);

    const second = await start('push-b', dir, pushDir);
    await eventually(() => receiver.received.length === 1, 10_000, 'the notification after the restart');
    await eventually(
      async () =>
        ((await second.get('/metrics')).body as string).includes(
          'gms_push_notifications_total{provider="callback",outcome="sent"} 1',
        ),
      5000,
      'the send counted',
    );
    // The settled outbox sends nothing more: another agent event of the same burst waits for PUSH_MIN_INTERVAL_MS.
    expect(receiver.received).to.have.length(1);
    expect(receiver.received[0].headers['idempotency-key']).to.equal(`${chatId}-2`);
    expect(receiver.received[0].body.lastTranscript[0].slice(0, 3)).to.deep.equal([
      'Notice.Joined',
      'Alice',
      'has joined the session',
    ]);
  });

  it('a process killed while its provider holds the request leaves the notification to the next start, same idempotency key', async () => {
    const { dir, pushDir } = await pushFolder(receiver);
    const first = await start('push-c', dir, pushDir, { PUSH_COALESCE_MS: '0', PUSH_CLAIM_MS: '1000' });
    let firstGone: Promise<void> | undefined;
    receiver.answer = () => {
      firstGone ??= killed(first);
      return 'hang';
    };
    const customer = await startCustomerChat(first, { start: PUSH });
    const chatId = customer.start.body.chatSessionId as string;
    await first.post(`/agent/v1/chats/${chatId}/accept`, undefined, agentHeaders('alice'));
    await eventually(() => firstGone !== undefined, 10_000, 'the first attempt');
    await firstGone;

    receiver.answer = () => ({ status: 200 });
    await start('push-d', dir, pushDir, { PUSH_CLAIM_MS: '1000' });
    await eventually(() => receiver.received.length === 2, 10_000, 'the attempt after the restart');
    expect(receiver.received.map((r) => r.headers['idempotency-key'])).to.deep.equal([`${chatId}-2`, `${chatId}-2`]);
  });
});

describe('push notifications on Redis', function () {
  this.timeout(20_000);
  const prefix = uniquePrefix('push');
  before(async function () {
    await requireRedis(this);
  });
  after(() => dropPrefix(prefix));

  it('the outbox is written with the events and drained, one notification per burst', async () => {
    const receiver = await startReceiver();
    const { pushDir } = await pushFolder(receiver);
    process.env.PUSH_TEST_SECRET = 'the-redis-tests-signing-key';
    // The burst is over when the clock says so, however long the sends take on a busy machine.
    const clock = new TestClock();
    const gw = await startTestGateway({
      clock,
      endpoints: { 'gms_builtin.json': endpointFile(['alice']) },
      env: {
        STORE_URL: SHARED_REDIS_URL,
        STORE_PREFIX: prefix,
        PUSH_DIR: pushDir,
        PUSH_AWAY_MS: '0',
        PUSH_COALESCE_MS: '60000',
        PUSH_DRAIN_INTERVAL_MS: '20',
      },
    });
    try {
      const alice = agentClient(gw, 'alice');
      const customer = await startCustomerChat(gw, { start: PUSH });
      const chatId = customer.start.body.chatSessionId as string;
      await alice.post(`/chats/${chatId}/accept`);
      for (let i = 1; i <= 10; i++) await alice.post(`/chats/${chatId}/send`, { message: `answer ${i}` });
      expect(receiver.received).to.deep.equal([]);
      clock.advance(61_000);
      await eventually(() => receiver.received.length === 1, 5000, 'the notification');
      await gw.pushDrainer.idle();
      expect(receiver.received).to.have.length(1);
      expect(receiver.received[0].body.lastTranscript.length).to.be.at.least(2);
      expect(receiver.received[0].body.serviceId).to.equal(customer.id);
      expect(await gw.store.upTo('push-due', Date.now() + 3_600_000, 10)).to.deep.equal([]);
    } finally {
      await gw.close();
      await receiver.close();
      delete process.env.PUSH_TEST_SECRET;
    }
  });
});

describe('push notifications from several nodes on one Redis', function () {
  this.timeout(90_000);
  const prefix = uniquePrefix('push-nodes');
  let nodes: GatewayNode[] = [];
  let receiver: PushReceiver | undefined;
  before(async function () {
    await requireRedis(this);
  });
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await receiver?.close();
    await dropPrefix(prefix);
  });

  it('every node drains the one outbox; each notification is sent once, by one of them', async () => {
    receiver = await startReceiver();
    const { pushDir } = await pushFolder(receiver);
    nodes = await startNodes(2, {
      STORE_URL: SHARED_REDIS_URL,
      STORE_PREFIX: prefix,
      PUSH_DIR: pushDir,
      PUSH_TEST_SECRET: 'the-multi-node-tests-signing-key',
      PUSH_AWAY_MS: '0',
      PUSH_COALESCE_MS: '300',
      PUSH_DRAIN_INTERVAL_MS: '10',
    });
    const [a, b] = nodes;
    const chats = await Promise.all(Array.from({ length: 20 }, () => startCustomerChat(a, { start: PUSH })));
    for (const chat of chats)
      expect(
        (await b.post(`/agent/v1/chats/${chat.start.body.chatSessionId as string}/accept`, undefined, agentHeaders('alice')))
          .status,
      ).to.equal(200);
    const sent = async (): Promise<number> => {
      let total = 0;
      for (const node of nodes) {
        const line = ((await node.get('/metrics')).body as string)
          .split('\n')
          .find((l) => l.startsWith('gms_push_notifications_total{provider="callback",outcome="sent"}'));
        total += line ? Number(line.split(' ').pop()) : 0;
      }
      return total;
    };
    await eventually(async () => (await sent()) === 20, 20_000, 'twenty notifications sent');
    expect(receiver.received).to.have.length(20);
    expect(new Set(receiver.received.map((r) => r.headers['idempotency-key'])).size).to.equal(20);
    expect(new Set(receiver.received.map((r) => r.body.serviceId))).to.deep.equal(new Set(chats.map((c) => c.id)));
  });
});
