// Push notifications through Firebase Cloud Messaging's HTTP v1 API, against a local stand-in for
// Google's token endpoint and FCM's send endpoint (their URLs are settings of the provider file): the
// stand-in checks the service account's JWT with its public key, and the test checks each request as
// FCM's documented API expects it.

import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { agentClient, endpointFile, type AgentClient } from './helpers/agent-client.ts';
import { startCustomerChat } from './helpers/chat-client.ts';
import { eventually, makeTempDir, startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { startReceiver, type Answer, type PushReceiver, type Received } from './helpers/push-receiver.ts';
import { agentHeaders, startNode, type GatewayNode } from './helpers/redis-nodes.ts';
import { TestClock } from './helpers/test-clock.ts';
import { sessionKey } from '../src/chat/session-records.ts';
import type { ServiceSession } from '../src/chat/types.ts';

const PROJECT = 'gms-test-project';
const CLIENT_EMAIL = 'push-sender@gms-test-project.iam.gserviceaccount.com';
const SEND_PATH = `/v1/projects/${PROJECT}/messages:send`;
const DEVICE = 'fcm-registration-token-of-the-test-device';

/** What the stand-in for Google's token endpoint checks of a JWT-bearer grant: the signature and the claims. */
function checkGrant(req: Received, publicKey: KeyObject, tokenUrl: string): void {
  expect(req.headers['content-type']).to.equal('application/x-www-form-urlencoded');
  const form = new URLSearchParams(req.text);
  expect(form.get('grant_type')).to.equal('urn:ietf:params:oauth:grant-type:jwt-bearer');
  const [header, claims, signature] = form.get('assertion')!.split('.');
  expect(JSON.parse(Buffer.from(header, 'base64url').toString())).to.deep.equal({ alg: 'RS256', typ: 'JWT' });
  expect(verify('RSA-SHA256', Buffer.from(`${header}.${claims}`), publicKey, Buffer.from(signature, 'base64url'))).to.equal(true);
  const c = JSON.parse(Buffer.from(claims, 'base64url').toString());
  expect(c).to.include({ iss: CLIENT_EMAIL, scope: 'https://www.googleapis.com/auth/firebase.messaging', aud: tokenUrl });
  expect(c.exp - c.iat).to.equal(3600);
  expect(c.iat).to.be.closeTo(Date.now() / 1000, 30);
}

/** A service account key and a `push.d/firebase.yaml` using it, in `dir`, for the stand-in at `googleUrl`; returns `push.d`. */
async function fcmProvider(dir: string, privateKey: KeyObject, googleUrl: string, more: string[] = []): Promise<string> {
  const pushDir = path.join(dir, 'push.d');
  await fs.mkdir(pushDir);
  const account = {
    type: 'service_account',
    project_id: PROJECT,
    client_email: CLIENT_EMAIL,
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    token_uri: `${googleUrl}/token`,
  };
  await fs.writeFile(path.join(dir, 'service-account.json'), JSON.stringify(account));
  const lines = [
    'kind: fcm',
    'credentialsFile: ../service-account.json',
    `sendUrl: ${googleUrl}/v1/projects/{projectId}/messages:send`,
  ];
  await fs.writeFile(path.join(pushDir, 'firebase.yaml'), [...lines, ...more].join('\n'));
  return pushDir;
}

describe('push notifications through FCM HTTP v1', function () {
  this.timeout(20_000);
  let google: PushReceiver;
  let gw: TestGateway | undefined;
  let alice: AgentClient;
  let publicKey: KeyObject;
  let tokensIssued: number;
  let expiresIn: number;
  /** How the send endpoint answers (after the checks), by send index. */
  let sendAnswer: (index: number) => Answer;
  let clock: TestClock;

  beforeEach(async () => {
    google = await startReceiver();
    tokensIssued = 0;
    expiresIn = 3600;
    sendAnswer = (i) => ({ status: 200, body: { name: `projects/${PROJECT}/messages/${i}` } });
    const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
    publicKey = keys.publicKey;
    let sends = 0;
    google.answer = (req) => {
      if (req.path === '/token') {
        checkGrant(req, publicKey, `${google.url}/token`);
        return { status: 200, body: { access_token: `access-${++tokensIssued}`, expires_in: expiresIn, token_type: 'Bearer' } };
      }
      if (req.path === SEND_PATH || req.path === '/v1/projects/gms-debug-project/messages:send') return sendAnswer(sends++);
      return { status: 404 };
    };
    const pushDir = await fcmProvider(await makeTempDir('gms-fcm-'), keys.privateKey, google.url, [
      'debug:',
      '  projectId: gms-debug-project',
      'messages:',
      '  de: { message: "{nickname} schreibt: {text}" }',
    ]);
    clock = new TestClock();
    gw = await startTestGateway({
      clock,
      endpoints: { 'gms_builtin.json': endpointFile(['alice']) },
      env: {
        PUSH_DIR: pushDir,
        PUSH_AWAY_MS: '0',
        PUSH_COALESCE_MS: '60000',
        PUSH_DRAIN_INTERVAL_MS: '20',
        PUSH_RETRY_BASE_MS: '20',
      },
    });
    alice = agentClient(gw, 'alice');
  });
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
    await google.close();
  });

  /** A chat of an absent customer whose agent just said `text`, and its notification's send request. */
  async function notified(start: Record<string, string>, text: string): Promise<{ id: string; chatId: string }> {
    const customer = await startCustomerChat(gw!, {
      start: { push_notification_deviceid: DEVICE, push_notification_type: 'fcm', ...start },
    });
    const chatId = customer.start.body.chatSessionId as string;
    await alice.post(`/chats/${chatId}/accept`);
    await alice.post(`/chats/${chatId}/send`, { message: text });
    // The notification's window closes (PUSH_COALESCE_MS) when the test says, whatever the machine's load.
    clock.advance(60_000);
    return { id: customer.id, chatId };
  }

  const sends = (): Received[] => google.received.filter((r) => r.path.endsWith('messages:send'));

  it('sends the v1 message with a token from the JWT-bearer grant, and keeps the token for the next one', async () => {
    const first = await notified({ push_notification_language: 'de-AT' }, 'Guten Tag');
    await eventually(() => sends().length === 1, 5000, 'the first send');
    await notified({}, 'Hello again');
    await eventually(() => sends().length === 2, 5000, 'the second send');
    expect(tokensIssued).to.equal(1);
    const [req] = sends();
    expect(req.method).to.equal('POST');
    expect(req.path).to.equal(SEND_PATH);
    expect(req.headers.authorization).to.equal('Bearer access-1');
    expect(req.headers['content-type']).to.match(/^application\/json/);
    const message = req.body.message;
    expect(Object.keys(req.body)).to.deep.equal(['message']);
    expect(message.token).to.equal(DEVICE);
    expect(message.notification).to.deep.equal({
      title: 'New chat activity',
      body: '2 new messages; the last from Alice: Guten Tag',
    });
    expect(message.android).to.deep.equal({ collapse_key: first.chatId, priority: 'HIGH' });
    expect(message.apns).to.deep.equal({ headers: { 'apns-collapse-id': first.chatId } });
    for (const value of Object.values(message.data)) expect(value).to.be.a('string');
    expect(message.data).to.include({
      serviceId: first.id,
      _id: first.id,
      _action: 'chat.refresh',
      type: 'fcm',
      language: 'de-AT',
      chatEnded: 'false',
    });
    expect(JSON.parse(message.data.lastTranscript).map((row: string[]) => row.slice(0, 3))).to.deep.equal([
      ['Notice.Joined', 'Alice', 'has joined the session'],
      ['Message.Text', 'Alice', 'Guten Tag'],
    ]);
  });

  it('a token about to expire is renewed, and one refused with 401 is replaced and the send tried again', async () => {
    expiresIn = 30;
    await notified({}, 'one');
    await eventually(() => sends().length === 1, 5000, 'the first send');
    await notified({}, 'two');
    await eventually(() => sends().length === 2, 5000, 'the second send');
    expect(tokensIssued).to.equal(2);
    expect(sends()[1].headers.authorization).to.equal('Bearer access-2');

    expiresIn = 3600;
    sendAnswer = (i) =>
      i === 2 ? { status: 401, body: { error: { code: 401, status: 'UNAUTHENTICATED' } } } : { status: 200, body: {} };
    await notified({}, 'three');
    await eventually(() => sends().length === 4, 5000, 'the send tried again');
    expect(sends()[3].headers.authorization).to.equal('Bearer access-4');
  });

  it('an UNREGISTERED token is dropped from the chat; debug apps go to the debug project', async () => {
    sendAnswer = () => ({
      status: 404,
      body: {
        error: {
          code: 404,
          message: 'Requested entity was not found.',
          status: 'NOT_FOUND',
          details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: 'UNREGISTERED' }],
        },
      },
    });
    const chat = await notified({ push_notification_debug: 'true' }, 'anyone?');
    await eventually(
      async () => (await gw!.store.get<ServiceSession>(sessionKey(chat.id)))!.chat!.push === undefined,
      5000,
      'the token dropped',
    );
    expect(sends()).to.have.length(1);
    expect(sends()[0].path).to.equal('/v1/projects/gms-debug-project/messages:send');
    const metrics = (await gw!.get('/metrics')).body as string;
    expect(metrics).to.include('gms_push_notifications_total{provider="firebase",outcome="dropped"} 1');
  });
});

describe('push notifications through FCM HTTP v1 over HTTPS, as Google serves it', function () {
  this.timeout(60_000);
  let google: PushReceiver | undefined;
  let node: GatewayNode | undefined;
  afterEach(async () => {
    await node?.stop();
    await google?.close();
  });

  it('the token grant and the send go over TLS to a stand-in whose certificate the gateway process trusts', async () => {
    const dir = await makeTempDir('gms-fcm-tls-');
    // A certificate for 127.0.0.1, trusted by the gateway process alone (NODE_EXTRA_CA_CERTS), as a
    // private CA of a proxy in front of Google would be.
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    google = await startReceiver({
      key: await fs.readFile(path.join(dir, 'key.pem'), 'utf8'),
      cert: await fs.readFile(path.join(dir, 'cert.pem'), 'utf8'),
    });
    expect(google.url).to.match(/^https:/);
    const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const stand = google;
    stand.answer = (req) => {
      if (req.path === '/token') {
        checkGrant(req, keys.publicKey, `${stand.url}/token`);
        return { status: 200, body: { access_token: 'access-tls', expires_in: 3600, token_type: 'Bearer' } };
      }
      return req.path === SEND_PATH ? { status: 200, body: { name: `projects/${PROJECT}/messages/1` } } : { status: 404 };
    };
    const pushDir = await fcmProvider(dir, keys.privateKey, google.url);
    node = await startNode('fcm-tls', {
      STORE_URL: 'memory://',
      STORE_PREFIX: 'gms',
      PUSH_DIR: pushDir,
      PUSH_AWAY_MS: '0',
      PUSH_COALESCE_MS: '0',
      // The agent's join may be a notification of its own: the message's must not wait 15 s behind it.
      PUSH_MIN_INTERVAL_MS: '0',
      PUSH_DRAIN_INTERVAL_MS: '50',
      NODE_EXTRA_CA_CERTS: path.join(dir, 'cert.pem'),
    });
    const customer = await startCustomerChat(node, {
      start: { push_notification_deviceid: DEVICE, push_notification_type: 'fcm' },
    });
    const chatId = customer.start.body.chatSessionId as string;
    expect((await node.post(`/agent/v1/chats/${chatId}/accept`, undefined, agentHeaders('alice'))).status).to.equal(200);
    await node.post(`/agent/v1/chats/${chatId}/send`, { message: 'Over TLS' }, agentHeaders('alice'));
    // The message's notification is awaited (the join's may come first, on its own).
    const send = await eventually(
      () => stand.received.find((r) => r.path === SEND_PATH && JSON.stringify(r.body).includes('Over TLS')),
      15_000,
      'the send over TLS',
    );
    expect(stand.received[0].path).to.equal('/token');
    expect(stand.received.filter((r) => r.path === '/token')).to.have.length(1);
    expect(send.headers.authorization).to.equal('Bearer access-tls');
    expect(send.body.message.token).to.equal(DEVICE);
    expect(send.body.message.notification.body).to.include('Over TLS');
  });
});
