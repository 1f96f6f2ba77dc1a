// Push notifications to a mobile app in the background, over real HTTP: a chat started with the
// push_notification_* parameters, a customer who stops calling, an agent who answers, and a real
// receiver on 127.0.0.1 standing in for the HTTP callback provider.

import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { agentClient, endpointFile, type AgentClient } from './helpers/agent-client.ts';
import { startCustomerChat } from './helpers/chat-client.ts';
import { eventually, makeTempDir, startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { signatureValid, startReceiver, type PushReceiver } from './helpers/push-receiver.ts';
import { TestClock } from './helpers/test-clock.ts';
import { sessionKey } from '../src/chat/session-records.ts';
import type { ServiceSession } from '../src/chat/types.ts';

const SECRET = 'a-signing-key-of-the-test-receiver';
const PUSH = { push_notification_deviceid: 'device-token-1', push_notification_type: 'customhttp', subscriptionID: 'sub-7' };

async function pushGateway(
  receiver: PushReceiver,
  env: Record<string, string> = {},
  provider: Record<string, unknown> = {},
  clock?: TestClock,
): Promise<{ gw: TestGateway; alice: AgentClient; pushDir: string }> {
  const pushDir = path.join(await makeTempDir('gms-push-'), 'push.d');
  await fs.mkdir(pushDir);
  await fs.writeFile(path.join(pushDir, '..', 'callback.key'), SECRET);
  await fs.writeFile(
    path.join(pushDir, 'callback.json'),
    JSON.stringify({ kind: 'http-callback', url: `${receiver.url}/push`, secretFile: '../callback.key', ...provider }),
  );
  const gw = await startTestGateway({
    clock,
    endpoints: { 'gms_builtin.json': endpointFile(['alice']) },
    env: {
      PUSH_DIR: pushDir,
      PUSH_AWAY_MS: '0',
      PUSH_COALESCE_MS: '100',
      PUSH_MIN_INTERVAL_MS: '60000',
      PUSH_DRAIN_INTERVAL_MS: '20',
      PUSH_RETRY_BASE_MS: '20',
      ...env,
    },
  });
  return { gw, alice: agentClient(gw, 'alice'), pushDir };
}

async function record(gw: TestGateway, serviceId: string): Promise<ServiceSession> {
  return (await gw.store.get<ServiceSession>(sessionKey(serviceId)))!;
}

function metric(text: string, provider: string, outcome: string): number {
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`gms_push_notifications_total{provider="${provider}",outcome="${outcome}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('push notifications over the HTTP callback', function () {
  this.timeout(20_000);
  let receiver: PushReceiver;
  let gw: TestGateway | undefined;
  beforeEach(async () => {
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
    await receiver.close();
  });

  it('a burst of agent messages to an absent customer is one signed notification in the GMS payload shape', async () => {
    // The burst is one notification however long the 50 calls take: the window closes when the clock says.
    const clock = new TestClock();
    const started = await pushGateway(receiver, { PUSH_COALESCE_MS: '60000' }, {}, clock);
    gw = started.gw;
    const customer = await startCustomerChat(gw, { start: { userDisplayName: 'Ann', ...PUSH } });
    const chatId = customer.start.body.chatSessionId as string;
    expect(customer.start.body.transcriptToShow).to.have.length(1);
    await started.alice.post(`/chats/${chatId}/accept`);
    for (let i = 1; i <= 50; i++)
      expect((await started.alice.post(`/chats/${chatId}/send`, { message: `answer ${i}` })).status).to.equal(200);
    expect(receiver.received).to.have.length(0);
    clock.advance(60_000);

    await eventually(() => receiver.received.length === 1, 5000, 'the notification');
    await gw.pushDrainer.idle();
    const got = receiver.received[0];
    expect(got.method).to.equal('POST');
    expect(got.path).to.equal('/push');
    expect(got.headers['content-type']).to.equal('application/json');
    expect(signatureValid(SECRET, got.headers['x-gms-signature'] as string, got.text)).to.equal(true);
    expect(signatureValid('another-key-altogether!', got.headers['x-gms-signature'] as string, got.text)).to.equal(false);
    expect(got.headers['idempotency-key']).to.equal(`${chatId}-2`);
    expect(got.body).to.include({
      deviceId: 'device-token-1',
      type: 'customhttp',
      serviceId: customer.id,
      _id: customer.id,
      _action: 'chat.refresh',
      chatId,
      subscriptionID: 'sub-7',
      notificationId: `${chatId}-2`,
      chatEnded: false,
      message: '51 new messages; the last from Alice: answer 50',
      title: 'New chat activity',
    });
    expect(got.body.lastTranscript).to.have.length(51);
    expect(got.body.lastTranscript[0]).to.deep.include.members(['Notice.Joined', 'Alice', 'AGENT']);
    expect(got.body.lastTranscript[50].slice(0, 3)).to.deep.equal(['Message.Text', 'Alice', 'answer 50']);
    const after = await record(gw, customer.id);
    expect(after.chat!.push!.pending).to.equal(undefined);
    expect(after.chat!.push!.sentAt).to.be.a('number');
    expect(metric((await gw.get('/metrics')).body as string, 'callback', 'sent')).to.equal(1);
  });

  it('nothing is queued for a customer who is there (polling within PUSH_AWAY_MS)', async () => {
    const started = await pushGateway(receiver, { PUSH_AWAY_MS: '60000' });
    gw = started.gw;
    const customer = await startCustomerChat(gw, { start: PUSH });
    const chatId = customer.start.body.chatSessionId as string;
    await started.alice.post(`/chats/${chatId}/accept`);
    await started.alice.post(`/chats/${chatId}/send`, { message: 'are you there?' });
    expect((await record(gw, customer.id)).chat!.push).to.deep.include({ deviceId: 'device-token-1', type: 'customhttp' });
    expect((await record(gw, customer.id)).chat!.push!.pending).to.equal(undefined);
    await gw.pushDrainer.idle();
    expect(receiver.received).to.have.length(0);
  });

  it('a customer silent for PUSH_AWAY_MS is away; a whisper between agents never makes a notification, a message does', async () => {
    const clock = new TestClock();
    const started = await pushGateway(receiver, { PUSH_AWAY_MS: '10000', PUSH_COALESCE_MS: '60000' }, {}, clock);
    gw = started.gw;
    const customer = await startCustomerChat(gw, { start: PUSH });
    const chatId = customer.start.body.chatSessionId as string;
    await started.alice.post(`/chats/${chatId}/accept`);
    expect((await record(gw, customer.id)).chat!.push!.pending).to.equal(undefined);
    clock.advance(10_000);
    expect((await started.alice.post(`/chats/${chatId}/whisper`, { message: 'note for agents' })).status).to.equal(200);
    expect((await record(gw, customer.id)).chat!.push!.pending).to.equal(undefined);
    await started.alice.post(`/chats/${chatId}/send`, { message: 'still there?' });
    expect((await record(gw, customer.id)).chat!.push!.pending).to.include({ from: 4, attempts: 0 });
    clock.advance(60_000);
    await eventually(() => receiver.received.length === 1, 5000, 'the notification');
    expect(receiver.received[0].body.lastTranscript.map((row: string[]) => row[2])).to.deep.equal(['still there?']);
  });

  it('the agent leaving, which ends the chat, is told too (chatEnded)', async () => {
    const clock = new TestClock();
    const started = await pushGateway(receiver, { PUSH_COALESCE_MS: '60000' }, {}, clock);
    gw = started.gw;
    const customer = await startCustomerChat(gw, { start: PUSH });
    const chatId = customer.start.body.chatSessionId as string;
    await started.alice.post(`/chats/${chatId}/accept`);
    await started.alice.post(`/chats/${chatId}/send`, { message: 'All done, goodbye' });
    expect((await started.alice.post(`/chats/${chatId}/leave`)).status).to.equal(200);
    clock.advance(60_000);
    await eventually(() => receiver.received.length === 1, 5000, 'the notification');
    expect(receiver.received[0].body).to.include({
      chatEnded: true,
      message: '3 new messages; the last from Alice: has left the session',
    });
    expect(receiver.received[0].body.lastTranscript.map((row: string[]) => row[0])).to.deep.equal([
      'Notice.Joined',
      'Message.Text',
      'Notice.Left',
    ]);
  });

  it('a customer who comes back before it is sent takes the queued notification back', async () => {
    const started = await pushGateway(receiver, { PUSH_COALESCE_MS: '60000' });
    gw = started.gw;
    const customer = await startCustomerChat(gw, { start: PUSH });
    const chatId = customer.start.body.chatSessionId as string;
    await started.alice.post(`/chats/${chatId}/send`, { message: 'x' }).then((r) => expect(r.status).to.equal(403));
    await started.alice.post(`/chats/${chatId}/accept`);
    const queued = (await record(gw, customer.id)).chat!.push!.pending!;
    expect(queued).to.include({ id: `${chatId}-2`, from: 2, attempts: 0 });
    expect((await customer.call('refresh')).status).to.equal(200);
    expect((await record(gw, customer.id)).chat!.push!.pending).to.equal(undefined);
    expect(await gw.store.upTo('push-due', Date.now() + 120_000, 10)).to.deep.equal([]);
    expect(receiver.received).to.have.length(0);
  });

  it('the text follows push_notification_language through the provider file, and debug apps go to debugUrl', async () => {
    const started = await pushGateway(
      receiver,
      {},
      {
        debugUrl: `${receiver.url}/sandbox`,
        defaultLanguage: 'en',
        messages: {
          en: { title: 'Support' },
          fr: {
            title: 'Assistance',
            message: '{nickname} vous a répondu : {text}',
            joined: '{nickname} a rejoint la discussion',
          },
          'fr-CA': { title: 'Soutien' },
        },
      },
    );
    gw = started.gw;
    const fr = await startCustomerChat(gw, {
      start: { ...PUSH, push_notification_language: 'fr-CA', push_notification_debug: 'true' },
    });
    const en = await startCustomerChat(gw, { start: { ...PUSH, push_notification_language: 'de' } });
    for (const c of [fr, en]) await started.alice.post(`/chats/${c.start.body.chatSessionId as string}/accept`);
    await eventually(() => receiver.received.length === 2, 5000, 'two notifications');
    const byDevice = (id: string) => receiver.received.find((r) => r.body.serviceId === id)!;
    expect(byDevice(fr.id).path).to.equal('/sandbox');
    expect(byDevice(fr.id).body).to.include({ title: 'Soutien', message: 'Alice a rejoint la discussion', language: 'fr-CA' });
    expect(byDevice(en.id).path).to.equal('/push');
    expect(byDevice(en.id).body).to.include({ title: 'Support', message: 'Alice has joined the chat' });
  });

  it('the provider file is hot-reloaded, a bad one is refused and the last good version keeps serving', async () => {
    const started = await pushGateway(receiver);
    gw = started.gw;
    await fs.writeFile(
      path.join(started.pushDir, 'callback.json'),
      JSON.stringify({ kind: 'http-callback', url: 'ftp://nowhere' }),
    );
    await eventually(() => gw!.pushProviders.rejected().length === 1, 5000, 'the bad file refused');
    expect(gw.pushProviders.rejected()[0].problems.map((p) => p.field)).to.include('url');
    const customer = await startCustomerChat(gw, { start: PUSH });
    await started.alice.post(`/chats/${customer.start.body.chatSessionId as string}/accept`);
    await eventually(() => receiver.received.length === 1, 5000, 'sent by the last good version');
    await fs.writeFile(
      path.join(started.pushDir, 'callback.json'),
      JSON.stringify({ kind: 'http-callback', url: `${receiver.url}/moved`, secretFile: '../callback.key' }),
    );
    await eventually(
      () => gw!.pushProviders.get('callback') && (gw!.pushProviders.get('callback') as { url: string }).url.endsWith('/moved'),
      5000,
      'the new url',
    );
    const second = await startCustomerChat(gw, { start: PUSH });
    await started.alice.post(`/chats/${second.start.body.chatSessionId as string}/accept`);
    await eventually(() => receiver.received.length === 2, 5000, 'the second notification');
    expect(receiver.received[1].path).to.equal('/moved');
  });

  it('bad push parameters are refused with 400 InvalidParameter, and none is no registration', async () => {
    const started = await pushGateway(receiver);
    gw = started.gw;
    const refused: Record<string, string>[] = [
      { push_notification_deviceid: 'abc' },
      { push_notification_type: 'fcm' },
      { ...PUSH, push_notification_debug: 'maybe' },
      { ...PUSH, push_notification_language: 'not a language' },
    ];
    for (const start of refused) {
      const created = await gw.post('/genesys/1/service/request-chat');
      const reply = await gw.post(`/genesys/1/service/${created.body._id as string}/ixn/chat`, start);
      expect(reply.status, JSON.stringify(start)).to.equal(400);
      expect(reply.body.exception).to.equal('InvalidParameter');
    }
    const plain = await startCustomerChat(gw, { start: { push_notification_type: 'comet' } });
    expect((await record(gw, plain.id)).chat!.push).to.equal(undefined);
    expect((await record(gw, plain.id)).chat!.customer.userData).to.deep.equal({});
  });

  it('5xx answers are retried with backoff until the receiver takes the notification, under the same idempotency key', async () => {
    receiver.answer = (_req, i) => (i < 2 ? { status: 503 } : { status: 200 });
    const started = await pushGateway(receiver);
    gw = started.gw;
    const customer = await startCustomerChat(gw, { start: PUSH });
    const chatId = customer.start.body.chatSessionId as string;
    await started.alice.post(`/chats/${chatId}/accept`);
    await eventually(() => receiver.received.length === 3, 5000, 'three attempts');
    await gw.pushDrainer.idle();
    expect(new Set(receiver.received.map((r) => r.headers['idempotency-key']))).to.have.property('size', 1);
    const text = (await gw.get('/metrics')).body as string;
    expect(metric(text, 'callback', 'retried')).to.equal(2);
    expect(metric(text, 'callback', 'sent')).to.equal(1);
    expect((await record(gw, customer.id)).chat!.push!.pending).to.equal(undefined);
  });

  it('a 410 from the receiver drops the device from the chat: later agent messages notify nobody', async () => {
    receiver.answer = () => ({ status: 410 });
    const started = await pushGateway(receiver);
    gw = started.gw;
    const customer = await startCustomerChat(gw, { start: PUSH });
    const chatId = customer.start.body.chatSessionId as string;
    await started.alice.post(`/chats/${chatId}/accept`);
    await eventually(async () => (await record(gw!, customer.id)).chat!.push === undefined, 5000, 'the device dropped');
    await started.alice.post(`/chats/${chatId}/send`, { message: 'hello?' });
    expect((await record(gw, customer.id)).chat!.push).to.equal(undefined);
    expect(receiver.received).to.have.length(1);
    expect(metric((await gw.get('/metrics')).body as string, 'callback', 'dropped')).to.equal(1);
  });

  it('a provider that never answers holds no chat call, and its timeouts are retried', async () => {
    receiver.answer = () => 'hang';
    const started = await pushGateway(receiver, {}, { timeoutMs: 3000 });
    gw = started.gw;
    const customer = await startCustomerChat(gw, { start: PUSH });
    const chatId = customer.start.body.chatSessionId as string;
    await started.alice.post(`/chats/${chatId}/accept`);
    await eventually(() => receiver.received.length >= 1, 5000, 'the first attempt');
    const begun = performance.now();
    for (let i = 0; i < 5; i++)
      expect((await started.alice.post(`/chats/${chatId}/send`, { message: `m${i}` })).status).to.equal(200);
    // Sends waiting on the held attempt would take its 3 s timeout.
    expect(performance.now() - begun).to.be.below(2500);
    await eventually(
      async () => metric((await gw!.get('/metrics')).body as string, 'callback', 'retried') >= 1,
      10_000,
      'a retry',
    );
  });
  it('a gateway that stops cuts short an attempt its provider holds, instead of waiting for the timeout', async () => {
    receiver.answer = () => 'hang';
    const started = await pushGateway(receiver, {}, { timeoutMs: 30_000 });
    const customer = await startCustomerChat(started.gw, { start: PUSH });
    await started.alice.post(`/chats/${customer.start.body.chatSessionId as string}/accept`);
    await eventually(() => receiver.received.length === 1, 5000, 'the attempt');
    const begun = performance.now();
    await started.gw.close();
    expect(performance.now() - begun).to.be.below(5000);
  });
});
