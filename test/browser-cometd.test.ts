// A GMS web app as real ones are written, in a real headless Chromium: the official CometD JavaScript
// client (the `cometd` npm package) loaded into a page of the app's own site, another origin than the
// gateway's, with its default transports (websocket first). Named by `requestHeaders: {gms_user}` as the
// public bank web client does it, or by `ext.gms_user`; either way every push arrives.

import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { startCustomerChat, type CustomerChat } from './helpers/chat-client.ts';
import { eventually, makeTempDir, startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { launchChromium, requireChromium } from './helpers/chromium.ts';

const COMETD_DIR = path.resolve('node_modules/cometd');
const AGENT = { id: 'a1', nickname: 'Bob' };

/** The app's site: its page, and the cometd package's modules as the app would bundle them. */
function appSite(): http.Server {
  return http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://site');
    const file = url.pathname.startsWith('/cometd/') ? path.join(COMETD_DIR, path.basename(url.pathname)) : undefined;
    if (file && file.endsWith('.js') && fs.existsSync(file)) {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(fs.readFileSync(file));
    } else {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>bank</title>');
    }
  });
}

/** Starts the app's CometD client in the page: handshake, subscribe to /_genesys, keep every push. */
async function startApp(
  page: Page,
  gateway: string,
  how: { headers?: Record<string, string>; ext?: Record<string, string> },
): Promise<void> {
  // The app's script as text: tsx would wrap a function's inner functions in helpers the page lacks.
  await page.evaluate(`(async ({ gateway, how }) => {
    const { CometD } = await import('/cometd/cometd.js');
    const cometd = new CometD();
    cometd.configure({ url: gateway + '/genesys/cometd', ...(how.headers ? { requestHeaders: how.headers } : {}) });
    window.app = { cometd, pushes: [], subscribed: undefined };
    cometd.handshake(how.ext ? { ext: how.ext } : {}, (reply) => {
      if (!reply.successful) return (window.app.subscribed = 'handshake failed: ' + reply.error);
      cometd.subscribe('/_genesys', (m) => window.app.pushes.push(m.data), (s) => (window.app.subscribed = s.successful ? 'yes' : 'refused: ' + s.error));
    });
  })(${JSON.stringify({ gateway, how })})`);
  const outcome = await page.waitForFunction('window.app.subscribed', undefined, { timeout: 10_000 });
  expect(await outcome.jsonValue()).to.equal('yes');
}

const transport = (page: Page): Promise<string> => page.evaluate<string>('window.app.cometd.getTransport().type');
const texts = (page: Page): Promise<string[]> =>
  page.evaluate<string[]>('window.app.pushes.flatMap((p) => p.message.transcriptToShow.map((e) => e[2]))');

describe('CometD in a browser: a GMS web app on another origin, default transports', function () {
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
    // Only the app's site may call the gateway from a browser: the real set-up, not `*`.
    gw = await startTestGateway({ env: { CORS_ORIGINS: siteUrl } });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
    site?.close();
  });

  /** A comet chat of `gmsUser` on `gateway`, accepted by the agent, who answers `answer` first. */
  async function answeredChat(gateway: TestGateway, gmsUser: string, answer: string): Promise<CustomerChat> {
    const chat = await startCustomerChat(gateway, {
      headers: { gms_user: gmsUser },
      start: { notify_by: 'comet', userDisplayName: 'Ann' },
    });
    const chatId = chat.start.body.chatSessionId as string;
    await gateway.domain.accept(chatId, AGENT);
    await gateway.domain.agentCommand(chatId, { kind: 'agentSend', agentId: AGENT.id, text: answer });
    return chat;
  }

  async function chatWith(gmsUser: string): Promise<void> {
    const chat = await answeredChat(gw, gmsUser, 'Hello from the bank');
    await chat.call('send', { message: 'Hi' });
  }

  it('with requestHeaders {gms_user}: the websocket handshake names no one, so the client goes on over long-polling and gets every push', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${siteUrl}/`);
    await startApp(page, gw.url, { headers: { gms_user: 'bank-web-1' } });
    expect(await transport(page)).to.equal('long-polling');
    await chatWith('bank-web-1');
    await eventually(async () => (await texts(page)).length === 4, 10_000, 'four pushes in the page');
    expect(await texts(page)).to.deep.equal(['has joined the session', 'has joined the session', 'Hello from the bank', 'Hi']);
  });

  it('with ext.gms_user: the client stays on websocket and gets every push', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${siteUrl}/`);
    await startApp(page, gw.url, { ext: { gms_user: 'bank-web-2' } });
    expect(await transport(page)).to.equal('websocket');
    await chatWith('bank-web-2');
    await eventually(async () => (await texts(page)).length === 4, 10_000, 'four pushes in the page');
    expect(await texts(page)).to.deep.equal(['has joined the session', 'has joined the session', 'Hello from the bank', 'Hi']);
  });

  for (const [how, named, expected] of [
    ['requestHeaders {gms_user}', { headers: { gms_user: 'bank-web-3' } }, 'long-polling'],
    ['ext.gms_user', { ext: { gms_user: 'bank-web-4' } }, 'websocket'],
  ] as const) {
    it(`across a restart of the gateway (${expected}, named by ${how}): what was said before the client is back is pushed to it, once`, async () => {
      const dir = await makeTempDir();
      const env = { CORS_ORIGINS: siteUrl, STORE_URL: `sqlite://${path.join(dir, 'sessions.sqlite')}` };
      let node = await startTestGateway({ env });
      const port = new URL(node.url).port;
      try {
        const page = await (await browser.newContext()).newPage();
        await page.goto(`${siteUrl}/`);
        // As CometD's documentation has it: (re)subscribe on every successful handshake, so a new
        // session after the server lost the client carries on.
        await page.evaluate(`(async ({ gateway, named }) => {
          const { CometD } = await import('/cometd/cometd.js');
          const cometd = new CometD();
          cometd.configure({ url: gateway + '/genesys/cometd', ...(named.headers ? { requestHeaders: named.headers } : {}) });
          window.app = { cometd, pushes: [], handshakes: 0 };
          cometd.addListener('/meta/handshake', (reply) => {
            if (!reply.successful) return;
            window.app.handshakes++;
            cometd.subscribe('/_genesys', (m) => window.app.pushes.push(m.data));
          });
          cometd.handshake(named.ext ? { ext: named.ext } : {});
        })(${JSON.stringify({ gateway: node.url, named })})`);
        await page.waitForFunction('window.app.handshakes === 1', undefined, { timeout: 10_000 });
        expect(await transport(page)).to.equal(expected);
        const gmsUser = 'headers' in named ? named.headers.gms_user : named.ext.gms_user;
        const chat = await answeredChat(node, gmsUser, 'Before the restart');
        const chatId = chat.start.body.chatSessionId as string;
        await eventually(async () => (await texts(page)).includes('Before the restart'), 10_000, 'the first answer in the page');

        // A deploy: the gateway stops, and starts again on the same port and store; the agent answers at once.
        await node.close();
        node = await startTestGateway({ dir: node.dir, env: { ...env, PORT: port } });
        await node.domain.agentCommand(chatId, { kind: 'agentSend', agentId: AGENT.id, text: 'While you were reconnecting' });
        await eventually(
          async () => (await texts(page)).includes('While you were reconnecting'),
          20_000,
          'the answer given meanwhile',
        );
        await node.domain.agentCommand(chatId, { kind: 'agentSend', agentId: AGENT.id, text: 'And after' });
        await eventually(async () => (await texts(page)).includes('And after'), 10_000, 'the next answer');
        expect(await page.evaluate<number>('window.app.handshakes')).to.equal(2);
        expect(await texts(page)).to.deep.equal([
          'has joined the session',
          'has joined the session',
          'Before the restart',
          'While you were reconnecting',
          'And after',
        ]);
        await page.evaluate('window.app.cometd.disconnect()');
      } finally {
        await node.close();
      }
    });
  }

  it('a page of an origin not in CORS_ORIGINS gets nothing: its requests and its websocket are refused', async () => {
    const other = appSite();
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const page = await (await browser.newContext()).newPage();
      await page.goto(`http://127.0.0.1:${(other.address() as AddressInfo).port}/`);
      await page.evaluate(`(async (gateway) => {
        const { CometD } = await import('/cometd/cometd.js');
        const cometd = new CometD();
        cometd.configure({ url: gateway + '/genesys/cometd', requestHeaders: { gms_user: 'intruder' }, maxBackoff: 100 });
        window.app = { outcome: undefined };
        cometd.handshake((reply) => { window.app.outcome = reply.successful ? 'connected' : 'failed'; cometd.disconnect(); });
      })(${JSON.stringify(gw.url)})`);
      const outcome = await page.waitForFunction('window.app.outcome', undefined, { timeout: 10_000 });
      expect(await outcome.jsonValue()).to.equal('failed');
    } finally {
      other.close();
    }
  });
});
