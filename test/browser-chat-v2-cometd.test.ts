// Chat API Version 2 in its CometD mode, in a real headless Chromium with the official CometD client on
// another origin: operations published on /service/chatV2/<service>, answers and the agent's events
// delivered to that client alone; secureKey on every operation.

import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { agentClient, endpointFile } from './helpers/agent-client.ts';
import { eventually, startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { launchChromium, requireChromium } from './helpers/chromium.ts';

const COMETD_DIR = path.resolve('node_modules/cometd');

interface V2Reply {
  operation?: string;
  statusCode: number;
  chatId?: string;
  secureKey?: string;
  userId?: string;
  chatEnded?: boolean;
  nextPosition?: number;
  messages?: { index: number; type: string; text?: string; from: { nickname: string; type: string } }[];
  errors?: { code: number; advice: string }[];
}

function appSite(): http.Server {
  return http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://site');
    const file = url.pathname.startsWith('/cometd/') ? path.join(COMETD_DIR, path.basename(url.pathname)) : undefined;
    if (file && file.endsWith('.js') && fs.existsSync(file))
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(fs.readFileSync(file));
    else res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>shop</title>');
  });
}

/** The app: handshake, subscribe to the service's v2 channel, keep everything delivered there. */
async function startApp(page: Page, gateway: string): Promise<void> {
  await page.evaluate(`(async (gateway) => {
    const { CometD } = await import('/cometd/cometd.js');
    const cometd = new CometD();
    cometd.configure({ url: gateway + '/genesys/cometd' });
    window.app = { cometd, got: [], subscribed: undefined };
    cometd.handshake((reply) => {
      if (!reply.successful) return (window.app.subscribed = 'handshake failed: ' + reply.error);
      cometd.subscribe('/service/chatV2/request-chat', (m) => window.app.got.push(m.data), (s) => (window.app.subscribed = s.successful ? 'yes' : 'refused: ' + s.error));
    });
  })(${JSON.stringify(gateway)})`);
  expect(await (await page.waitForFunction('window.app.subscribed', undefined, { timeout: 10_000 })).jsonValue()).to.equal('yes');
}

const publish = (page: Page, data: Record<string, unknown>): Promise<unknown> =>
  page.evaluate(
    `new Promise((resolve) => window.app.cometd.publish('/service/chatV2/request-chat', ${JSON.stringify(data)}, (r) => resolve(r.successful)))`,
  );
const got = (page: Page): Promise<V2Reply[]> => page.evaluate<V2Reply[]>('window.app.got');

describe('Chat API v2 over CometD in a browser (/service/chatV2/<service>)', function () {
  this.timeout(60_000);
  let gw: TestGateway;
  let browser: Browser;
  let site: http.Server;
  let siteUrl: string;

  before(async function () {
    requireChromium(this);
    site = appSite();
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    gw = await startTestGateway({ env: { CORS_ORIGINS: siteUrl }, endpoints: { 'gms_builtin.json': endpointFile(['alice']) } });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
    site?.close();
  });

  it('requests a chat, gets the agent’s events pushed, sends with its secureKey; a wrong key and another client get nothing', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${siteUrl}/`);
    await startApp(page, gw.url);
    const other = await (await browser.newContext()).newPage();
    await other.goto(`${siteUrl}/`);
    await startApp(other, gw.url);

    expect(
      await publish(page, { operation: 'requestChat', nickname: 'Ann', subject: 'Order', userData: { source: 'cometd' } }),
    ).to.equal(true);
    const started = await eventually(
      async () => (await got(page)).find((r) => r.operation === 'requestChat'),
      10_000,
      'the requestChat answer',
    );
    expect(started).to.include({ statusCode: 0, nextPosition: 2, chatEnded: false });
    expect(started.messages!.map((m) => m.type)).to.deep.equal(['ParticipantJoined']);
    const { chatId, secureKey, userId } = started as Required<V2Reply>;

    const alice = agentClient(gw, 'alice');
    const waiting = (await alice.get('/chats?state=waiting')).body.chats.find(
      (c: { chatSessionId: string }) => c.chatSessionId === chatId,
    );
    expect(waiting).to.include({ nickname: 'Ann', subject: 'Order' });
    expect(waiting.userData).to.deep.equal({ source: 'cometd' });
    await alice.post(`/chats/${chatId}/accept`);
    await alice.post(`/chats/${chatId}/send`, { message: 'Hello from Alice' });
    await eventually(
      async () => (await got(page)).some((r) => r.messages?.some((m) => m.text === 'Hello from Alice')),
      10_000,
      'the pushed message',
    );
    const pushed = (await got(page))
      .filter((r) => r.operation === undefined)
      .flatMap((r) => r.messages!.map((m) => [m.index, m.type, m.from.type]));
    // The customer's own join came in the requestChat answer; pushes bring what follows, once each.
    expect(pushed).to.deep.equal([
      [2, 'ParticipantJoined', 'Agent'],
      [3, 'Message', 'Agent'],
    ]);

    await publish(page, { operation: 'sendMessage', chatId, secureKey, userId, message: 'Hi Alice' });
    await eventually(
      async () => (await alice.get(`/chats/${chatId}`)).body.events.some((e: { text: string }) => e.text === 'Hi Alice'),
      10_000,
      'the sent message',
    );
    const before = (await alice.get(`/chats/${chatId}`)).body;

    // A wrong secureKey is refused with the v2 envelope, to that client only, and changes nothing.
    await publish(other, { operation: 'sendMessage', chatId, secureKey: '0000000000000000', message: 'forged' });
    const refused = await eventually(
      async () => (await got(other)).find((r) => r.operation === 'sendMessage'),
      10_000,
      'the refusal',
    );
    expect(refused).to.deep.equal({
      operation: 'sendMessage',
      statusCode: 2,
      errors: [{ code: 102, advice: 'No such chat: the chatId is unknown or expired, or userId and secureKey do not match it.' }],
    });
    await publish(other, { operation: 'sendMessage', chatId, message: 'no key' });
    await eventually(async () => (await got(other)).some((r) => r.errors?.[0]?.code === 101), 10_000, 'the missing-key refusal');
    expect((await alice.get(`/chats/${chatId}`)).body).to.deep.equal(before);
    // The other client never received any of Ann's chat.
    expect((await got(other)).every((r) => r.operation === 'sendMessage')).to.equal(true);

    await publish(page, { operation: 'disconnect', chatId, secureKey });
    const ended = await eventually(
      async () => (await got(page)).find((r) => r.operation === 'disconnect'),
      10_000,
      'the disconnect answer',
    );
    expect(ended).to.include({ statusCode: 0, chatEnded: true });
    expect((await alice.get(`/chats/${chatId}`)).body.state).to.equal('ended');
  });
});
