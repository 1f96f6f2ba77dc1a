// The agent console and the customer demo page in a real headless Chromium: a customer on /demo/ and
// an agent on /agent/ talk both ways, and the chat ends for the customer when the agent leaves.
// Set SCREENSHOT_DIR to keep a screenshot of each page.

import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { expect } from 'chai';
import { chromium, type Browser, type Page } from 'playwright-core';
import { endpointFile, tokenOf } from './helpers/agent-client.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

const CHROMIUM = '/usr/bin/chromium';

describe('agent console and demo page in a browser', function () {
  this.timeout(60_000);
  let gw: TestGateway;
  let browser: Browser;

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does it)`);
    gw = await startTestGateway({ endpoints: { 'gms_builtin.json': endpointFile(['alice']) } });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
  });

  async function snap(page: Page, name: string): Promise<void> {
    const dir = process.env.SCREENSHOT_DIR;
    if (dir) await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
  }

  it('a customer and an agent exchange messages both ways, and the chat ends when the agent leaves', async () => {
    const customer = await (await browser.newContext()).newPage();
    const agent = await (await browser.newContext()).newPage();

    await customer.goto(`${gw.url}/demo/`);
    await customer.getByLabel('Your name').fill('Ann');
    await customer.getByLabel('What is it about?').fill('My order');
    await customer.getByRole('button', { name: 'Start chat' }).click();
    await customer.getByText('Waiting for an agent').waitFor();
    expect(await customer.getByLabel('Your name').isVisible()).to.equal(false);

    await agent.goto(`${gw.url}/agent/`);
    await snap(agent, 'agent-sign-in');
    await agent.getByLabel('Agent token').fill('wrong token');
    await agent.getByRole('button', { name: 'Sign in' }).click();
    await agent.getByText('This token is not valid.').waitFor();
    await agent.getByLabel('Agent token').fill(tokenOf('alice'));
    await agent.getByRole('button', { name: 'Sign in' }).click();
    await agent.getByText('Signed in as Alice').waitFor();
    expect(await agent.getByLabel('Agent token').isVisible()).to.equal(false);
    await agent.getByRole('button', { name: 'Accept the chat with Ann' }).click();
    await agent.getByRole('heading', { name: 'Chat with Ann' }).waitFor();

    await customer.getByText('You are chatting with Alice.').waitFor();
    await agent.getByLabel('Message').fill('Hello Ann, how can I help?');
    await agent.getByRole('button', { name: 'Send', exact: true }).click();
    await customer.getByRole('listitem').filter({ hasText: 'Hello Ann, how can I help?' }).waitFor();

    await customer.getByLabel('Message').fill('Where is my parcel?');
    await customer.getByRole('button', { name: 'Send' }).click();
    await agent.getByRole('listitem').filter({ hasText: 'Where is my parcel?' }).waitFor();
    await customer.getByLabel('Message').fill('and one more thing');
    await agent.getByText('Ann is typing…').waitFor();
    await snap(customer, 'demo');
    await snap(agent, 'agent');

    await agent.getByRole('button', { name: 'Leave chat' }).click();
    await customer.getByText('The chat has ended.').waitFor();
    expect(await customer.getByLabel('Transcript').innerText()).to.include('Alice has left the session');
    expect(await customer.getByRole('button', { name: 'Start a new chat' }).isVisible()).to.equal(true);
    await snap(customer, 'demo-ended');
  });

  it('a customer app on another origin, sending the gms_user header with credentials as CometD clients do, handshakes and gets its pushes', async () => {
    // The app's own site: another port is another origin, so every call to the gateway is cross-origin
    // and the browser asks the gateway first (a CORS preflight) for the gms_user header.
    const site = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>shop</title>'));
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    try {
      const page = await (await browser.newContext()).newPage();
      await page.goto(`http://127.0.0.1:${(site.address() as AddressInfo).port}/`);
      // The app's script as text: tsx would wrap a function's inner functions in helpers the page lacks.
      // Bayeux by hand, as the official CometD client's long-polling transport sends it: JSON POSTs with
      // credentials and the app's headers.
      const pushed = await page.evaluate(`(async (gateway) => {
        const user = { gms_user: 'shop-customer-1' };
        const bayeux = async (message) => (await fetch(gateway + '/genesys/cometd', {
          method: 'POST', credentials: 'include', headers: { ...user, 'content-type': 'application/json' }, body: JSON.stringify([message]),
        })).json();
        const post = async (path, body) => (await fetch(gateway + path, {
          method: 'POST', headers: { ...user, 'content-type': 'application/x-www-form-urlencoded' }, body,
        })).json();
        const [handshake] = await bayeux({ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'] });
        const clientId = handshake.clientId;
        const [subscribed] = await bayeux({ channel: '/meta/subscribe', clientId, subscription: '/_genesys' });
        if (!subscribed.successful) return ['subscribe refused: ' + subscribed.error];
        const created = await post('/genesys/1/service/request-chat', '');
        await post('/genesys/1/service/' + created._id + '/ixn/chat', 'notify_by=comet&firstName=Ann');
        await post('/genesys/1/service/' + created._id + '/ixn/chat/send', 'message=From+the+shop');
        const texts = [];
        for (let i = 0; i < 10 && texts.length < 2; i++) {
          for (const m of await bayeux({ channel: '/meta/connect', clientId, connectionType: 'long-polling', advice: { timeout: 1000 } })) {
            if (m.channel === '/_genesys') texts.push(...m.data.message.transcriptToShow.map((e) => e[2]));
          }
        }
        await bayeux({ channel: '/meta/disconnect', clientId });
        return texts;
      })(${JSON.stringify(gw.url)})`);
      expect(pushed).to.deep.equal(['has joined the session', 'From the shop']);
    } finally {
      site.close();
    }
  });
});
