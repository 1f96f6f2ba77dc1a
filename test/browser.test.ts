// The agent console and the customer widget in a real headless Chromium, two pages at once: a customer
// on /demo/ and an agent on /agent/ talk both ways; the console calls for attention (unread counts, the
// tab title, sound and desktop alerts, live waiting times, timestamps); both pages show a lost connection
// and clear it when a gateway is back on the same port; a reload resumes the chat on both sides; the
// widget speaks plainly, counts characters, fills a phone screen and is reachable by keyboard.
// Set SCREENSHOT_DIR to keep a screenshot of each page (desktop, and a phone at 390x844).

import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { expect } from 'chai';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { agentClient, endpointFile, tokenOf } from './helpers/agent-client.ts';
import { startV2Chat } from './helpers/chat-v2-client.ts';
import { eventually, makeTempDir, startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { launchChromium, requireChromium } from './helpers/chromium.ts';

const PHONE: BrowserContextOptions = {
  viewport: { width: 390, height: 844 },
  isMobile: true,
  hasTouch: true,
  deviceScaleFactor: 2,
};
const LIMITED_SERVICE = {
  'request-chat.json': {},
  'short.json': { maxMessageLength: 40 },
  'files.json': { fileTransfer: { enabled: true } },
};

/** Spies on what the console asks the browser for (a desktop notification, a tone), then lets it through. */
const ATTENTION_SPY = `
  window.__alerts = [];
  window.__tones = 0;
  const RealNotification = window.Notification;
  window.Notification = class extends RealNotification {
    constructor(title, options) { super(title, options); window.__alerts.push(title + ' | ' + (options && options.body)); }
  };
  const start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function (...args) { window.__tones += 1; return start.apply(this, args); };
`;

describe('agent console and customer widget in a browser', function () {
  this.timeout(60_000);
  let gw: TestGateway;
  let browser: Browser;
  let desktop: Browser | undefined;
  let problems: string[];
  let contexts: BrowserContext[];

  before(async function () {
    requireChromium(this);
    browser = await launchChromium();
  });
  beforeEach(async () => {
    problems = [];
    contexts = [];
    gw = await startTestGateway({ endpoints: { 'gms_builtin.json': endpointFile(['alice', 'bob']) }, services: LIMITED_SERVICE });
  });
  afterEach(async function () {
    // The pages go first: left open, they would report the gateway going away.
    await Promise.all(contexts.map((c) => c.close()));
    await gw?.close();
    // Every page of every test runs without a script error or a console error (a 404, an exception).
    if (this.currentTest?.state === 'passed') expect(problems).to.deep.equal([]);
  });
  after(async () => {
    await browser?.close();
    await desktop?.close();
  });

  async function newPage(name: string, options: BrowserContextOptions = {}): Promise<Page> {
    const context = await browser.newContext(options);
    contexts.push(context);
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`${name}: ${m.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`${name}: ${err.message}`));
    return page;
  }

  async function snap(page: Page, name: string): Promise<void> {
    const dir = process.env.SCREENSHOT_DIR;
    if (dir) await page.screenshot({ path: path.join(dir, `${name}.png`) });
  }

  async function startChat(customer: Page, name: string, subject = '', query = ''): Promise<void> {
    await customer.goto(`${gw.url}/demo/${query}`);
    await customer.getByLabel('Your name').fill(name);
    if (subject) await customer.getByLabel('How can we help?').fill(subject);
    await customer.getByRole('button', { name: 'Start chat' }).click();
    await customer.getByText('Waiting for someone to join…').waitFor();
  }

  async function signIn(agent: Page, id = 'alice'): Promise<void> {
    await agent.goto(`${gw.url}/agent/`);
    await agent.getByLabel('Agent token').fill(tokenOf(id));
    await agent.getByRole('button', { name: 'Sign in' }).click();
    await agent.getByText(`Signed in as ${id[0].toUpperCase()}${id.slice(1)}`).waitFor();
  }

  async function accept(agent: Page, name: string): Promise<void> {
    await agent.getByRole('button', { name: `Accept the chat with ${name}` }).click();
    await agent.getByRole('heading', { name: `Chat with ${name}` }).waitFor();
  }

  async function say(page: Page, label: string, text: string): Promise<void> {
    await page.getByLabel(label, { exact: true }).fill(text);
    await page.getByLabel(label, { exact: true }).press('Enter');
  }

  const message = (page: Page, text: string) => page.getByRole('log').getByRole('listitem').filter({ hasText: text });

  it('a customer and an agent exchange messages both ways, the agent confirms leaving, and the customer reads plain words throughout', async () => {
    const customer = await newPage('customer');
    const agent = await newPage('agent');

    await startChat(customer, 'Ann', 'My order');
    expect(await customer.getByLabel('Your name').isVisible()).to.equal(false);

    await agent.goto(`${gw.url}/agent/`);
    await snap(agent, 'agent-sign-in');
    await agent.getByLabel('Agent token').fill('wrong token');
    await agent.getByRole('button', { name: 'Sign in' }).click();
    await agent.getByText('This token is not valid.').waitFor();
    // The browser reports the refused token's 401 itself; that one is expected.
    problems = problems.filter((p) => !p.includes('status of 401'));
    await signIn(agent);
    expect(await agent.getByLabel('Agent token').isVisible()).to.equal(false);
    await accept(agent, 'Ann');

    await customer.getByText('You are chatting with Alice.').waitFor();
    await say(agent, 'Message', 'Hello Ann, how can I help?');
    await message(customer, 'Hello Ann, how can I help?').waitFor();

    await say(customer, 'Your message', 'Where is my parcel?');
    await message(agent, 'Where is my parcel?').waitFor();
    await customer.getByLabel('Your message').fill('and one more thing');
    await agent.getByText('Ann is typing…').waitFor();
    await snap(customer, 'demo');
    await snap(agent, 'agent');

    // Leaving asks first; staying keeps the chat as it was.
    await agent.getByRole('button', { name: 'Leave chat' }).click();
    await agent.getByRole('dialog', { name: 'Leave this chat?' }).waitFor();
    await snap(agent, 'agent-confirm-leave');
    await agent.getByRole('button', { name: 'Stay' }).click();
    expect(await agent.getByRole('dialog').isVisible()).to.equal(false);
    expect(await agent.getByRole('heading', { name: 'Chat with Ann' }).isVisible()).to.equal(true);
    await agent.getByRole('button', { name: 'Leave chat' }).click();
    await agent.getByRole('dialog').getByRole('button', { name: 'Leave chat' }).click();

    // The pane says what happened, without the old transcript under it.
    await agent.getByText('You left the chat with Ann. The chat has ended.').waitFor();
    expect(await agent.getByRole('heading', { name: 'No chat open' }).isVisible()).to.equal(true);
    expect(await agent.getByLabel('Transcript').isVisible()).to.equal(false);

    await customer.getByText('The chat has ended.').first().waitFor();
    const words = await customer.locator('body').innerText();
    expect(words).to.include('Alice left the chat');
    for (const technical of ['GMS', 'CometD', 'session', 'request-chat', 'Service', 'Notice', 'CLIENT', 'AGENT'])
      expect(words).not.to.include(technical);
    expect(await customer.getByRole('button', { name: 'Start a new chat' }).isVisible()).to.equal(true);
    await snap(customer, 'demo-ended');
    // Letting the push connection go at the end is no lost connection.
    expect(await customer.getByText('Connection lost').isVisible()).to.equal(false);

    // The customer ends a chat only after confirming too.
    await customer.getByRole('button', { name: 'Start a new chat' }).click();
    await customer.getByLabel('Your name').fill('Ann');
    await customer.getByRole('button', { name: 'Start chat' }).click();
    await customer.getByRole('button', { name: 'End chat' }).click();
    await customer.getByRole('dialog', { name: 'End this chat?' }).waitFor();
    await customer.getByRole('button', { name: 'Keep chatting' }).click();
    expect(await customer.getByLabel('Your message').isVisible()).to.equal(true);
    await customer.getByRole('button', { name: 'End chat' }).click();
    await customer.getByRole('dialog').getByRole('button', { name: 'End chat' }).click();
    await customer.getByText('You ended the chat').waitFor();
  });

  it('the console calls for attention: live waiting times, a tab-title count, sound and desktop alerts when chosen, unread counts per chat and message times', async () => {
    // Desktop notifications are the desktop browser's: the headless shell the other pages run in has none.
    desktop ??= await launchChromium('desktop');
    const agentContext = await desktop.newContext();
    contexts.push(agentContext);
    await agentContext.grantPermissions(['notifications'], { origin: gw.url });
    await agentContext.addInitScript(ATTENTION_SPY);
    const agent = await agentContext.newPage();
    agent.on('console', (m) => m.type() === 'error' && problems.push(`agent: ${m.text()}`));
    agent.on('pageerror', (err) => problems.push(`agent: ${err.message}`));
    const ann = await newPage('ann');
    const otto = await newPage('otto');

    await signIn(agent);
    expect(await agent.title()).to.equal('Agent console');
    const asked = Date.now();
    await startChat(ann, 'Ann', 'My order');
    // Counted from the start of the chat: at most the seconds since Ann asked (a busy machine may show it
    // first at 1 s or more), and the timer moves on by itself.
    const waited = async (): Promise<number> => Number(/(\d+) s$/.exec(await agent.getByText(/^waiting \d+ s$/).innerText())![1]);
    const first = await waited();
    expect(first).to.be.at.most(Math.ceil((Date.now() - asked) / 1000));
    expect(await agent.title()).to.equal('(1) Agent console');
    await eventually(async () => (await waited()) > first, 10_000, 'the waiting time moving on');
    // Nothing rings unless the agent chose it.
    expect(await agent.evaluate('[window.__alerts.length, window.__tones]')).to.deep.equal([0, 0]);

    await agent.getByLabel('Sound').check();
    await agent.getByLabel('Desktop alerts').check();
    expect(await agent.getByLabel('Desktop alerts').isChecked()).to.equal(true);
    const tonesAfterSample = await agent.evaluate<number>('window.__tones');
    expect(tonesAfterSample).to.equal(1); // the sample played when sound was switched on

    await startChat(otto, 'Otto', 'A refund');
    await agent.getByRole('button', { name: 'Accept the chat with Otto' }).waitFor();
    expect(await agent.title()).to.equal('(2) Agent console');
    expect(await agent.evaluate('window.__alerts')).to.deep.equal(['New chat waiting: Otto | A refund']);
    expect(await agent.evaluate('window.__tones')).to.equal(tonesAfterSample + 1);

    await accept(agent, 'Ann');
    await accept(agent, 'Otto');
    expect(await agent.title()).to.equal('Agent console');
    // Ann writes while Otto's chat is open: her chat shows one unread, and so does the title.
    await say(ann, 'Your message', 'Are you there?');
    await agent.getByRole('button', { name: 'Open the chat with Ann, 1 unread' }).waitFor();
    expect(await agent.title()).to.equal('(1) Agent console');
    await say(ann, 'Your message', 'Hello?');
    await agent.getByRole('button', { name: 'Open the chat with Ann, 2 unread' }).waitFor();
    expect(await agent.title()).to.equal('(2) Agent console');
    await snap(agent, 'agent-unread');

    await agent.getByRole('button', { name: 'Open the chat with Ann, 2 unread' }).click();
    await agent.getByRole('heading', { name: 'Chat with Ann' }).waitFor();
    await agent.getByRole('button', { name: 'Open the chat with Ann', exact: true }).waitFor();
    expect(await agent.title()).to.equal('Agent console');

    // Every message carries its time, on both sides.
    const times = await message(agent, 'Are you there?').locator('time').innerText();
    expect(times).to.match(/^\d{1,2}:\d{2}/);
    expect(await message(ann, 'Are you there?').locator('time').innerText()).to.equal(times);
  });

  it('the console shows readiness and load: not ready or at the cap, Accept is off and says why', async () => {
    await gw.writeEndpoint('gms_builtin.json', endpointFile(['alice'], { maxChatsPerAgent: 1 }));
    await eventually(async () => (await agentClient(gw, 'alice').get('/status')).body.maxChats === 1, 3000, 'the cap');
    const agent = await newPage('agent');
    const ann = await newPage('ann');
    const otto = await newPage('otto');
    await signIn(agent);
    await agent.getByText('0 / 1').waitFor();
    await startChat(ann, 'Ann');
    const acceptAnn = agent.getByRole('button', { name: 'Accept the chat with Ann' });
    await acceptAnn.waitFor();

    await agent.getByLabel('Ready').uncheck();
    await agent.getByText('Not ready', { exact: true }).waitFor();
    await agent.getByText('You are not ready: set yourself ready to accept chats.').waitFor();
    expect(await acceptAnn.isDisabled()).to.equal(true);
    expect((await agentClient(gw, 'alice').get('/status')).body.ready).to.equal(false);
    await snap(agent, 'agent-not-ready');

    await agent.getByLabel('Not ready').check();
    await agent.getByText('You are not ready').waitFor({ state: 'hidden' });
    await accept(agent, 'Ann');
    await agent.getByText('1 / 1').waitFor();
    await startChat(otto, 'Otto');
    const acceptOtto = agent.getByRole('button', { name: 'Accept the chat with Otto' });
    await acceptOtto.waitFor();
    await agent.getByText('You hold 1 of 1 chats: close one to accept another.').waitFor();
    expect(await acceptOtto.isDisabled()).to.equal(true);

    await ann.getByRole('button', { name: 'End chat' }).click();
    await ann.getByRole('dialog').getByRole('button', { name: 'End chat' }).click();
    await agent.getByText('This chat has ended.').waitFor();
    await agent.getByRole('button', { name: 'Close chat' }).click();
    await agent.getByText('You closed the chat with Ann.').waitFor();
    await agent.getByText('0 / 1').waitFor();
    expect(await acceptOtto.isDisabled()).to.equal(false);
    await accept(agent, 'Otto');
  });

  it("the console offers the endpoint file's canned responses: one picked goes into the message box, to edit and send", async () => {
    const canned = [
      { title: 'Greeting', text: 'Hello, thank you for waiting! How can I help?' },
      { title: 'Order status', text: 'Let me look up your order.' },
    ];
    await gw.writeEndpoint('gms_builtin.json', endpointFile(['alice'], { cannedResponses: canned }));
    const alice = agentClient(gw, 'alice');
    await eventually(
      async () => (await alice.get('/canned-responses')).body.responses?.length === 2,
      3000,
      'the canned responses',
    );
    expect((await alice.get('/canned-responses')).body).to.deep.equal({
      responses: canned.map((r) => ({ endpoint: 'gms_builtin', ...r })),
    });

    const customer = await newPage('customer');
    const agent = await newPage('agent');
    await startChat(customer, 'Ann');
    await signIn(agent);
    await accept(agent, 'Ann');
    await agent.getByLabel('Canned response').selectOption({ label: 'Greeting' });
    expect(await agent.getByLabel('Message', { exact: true }).inputValue()).to.equal(canned[0].text);
    await agent.getByLabel('Canned response').selectOption({ label: 'Order status' });
    expect(await agent.getByLabel('Message', { exact: true }).inputValue()).to.equal(`${canned[0].text}\n${canned[1].text}`);
    await snap(agent, 'agent-canned');
    await agent.getByLabel('Message', { exact: true }).press('Enter');
    await message(customer, 'Let me look up your order.').waitFor();
  });

  it('a 300-character word wraps on both pages, on a desktop and on a phone', async () => {
    const customer = await newPage('customer', PHONE);
    const agent = await newPage('agent');
    await startChat(customer, 'Ann');
    await signIn(agent);
    await accept(agent, 'Ann');
    const word = 'w'.repeat(300);
    await say(customer, 'Your message', word);
    await say(agent, 'Message', 'a'.repeat(300));
    await message(agent, word).waitFor();
    await message(customer, 'a'.repeat(300)).waitFor();
    const overflow = (page: Page) => page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
    expect(await overflow(agent)).to.equal(0);
    expect(await overflow(customer)).to.equal(0);
    await snap(agent, 'agent-long-word');
    await snap(customer, 'demo-phone-long-word');
  });

  it('after a reload the console reopens the open chat and the widget resumes the chat where it was', async () => {
    const customer = await newPage('customer');
    const agent = await newPage('agent');
    await startChat(customer, 'Ann');
    await signIn(agent);
    await accept(agent, 'Ann');
    await say(customer, 'Your message', 'Before the reload');
    await message(agent, 'Before the reload').waitFor();

    await customer.reload();
    await message(customer, 'Before the reload').waitFor();
    await customer.getByText('You are chatting with Alice.').waitFor();
    expect(await customer.getByLabel('Your name').isVisible()).to.equal(false);
    expect(await message(customer, 'Before the reload').count()).to.equal(1);

    await agent.reload();
    await agent.getByRole('heading', { name: 'Chat with Ann' }).waitFor();
    await message(agent, 'Before the reload').waitFor();
    expect(await agent.getByText('Connected').isVisible()).to.equal(true);

    // Both still talk, pushed as before.
    await say(customer, 'Your message', 'After the reload');
    await message(agent, 'After the reload').waitFor();
    await say(agent, 'Message', 'Still here');
    await message(customer, 'Still here').waitFor();

    // An ended chat is not resumed: a reload then offers a new one.
    await customer.getByRole('button', { name: 'End chat' }).click();
    await customer.getByRole('dialog').getByRole('button', { name: 'End chat' }).click();
    await customer.getByRole('button', { name: 'Start a new chat' }).waitFor();
    await customer.reload();
    await customer.getByLabel('Your name').waitFor();
    await agent.getByText('This chat has ended.').waitFor();
  });

  it('the widget counts characters against the service limit and refuses a too-long message before Send', async () => {
    const customer = await newPage('customer');
    await startChat(customer, 'Ann', '', '?service=short');
    const box = customer.getByLabel('Your message');
    const send = customer.getByRole('button', { name: 'Send' });
    await box.fill('x'.repeat(20));
    expect(await customer.locator('#counter').innerText()).to.equal(''); // far from the limit: no noise
    await box.fill('x'.repeat(35));
    await customer.getByText('35 / 40').waitFor();
    await box.fill('x'.repeat(42));
    await customer.getByText('2 characters too long').waitFor();
    expect(await send.isDisabled()).to.equal(true);
    expect(await box.getAttribute('aria-invalid')).to.equal('true');
    await box.press('Enter');
    expect(await message(customer, 'x'.repeat(42)).count()).to.equal(0);
    expect(await box.inputValue()).to.equal('x'.repeat(42)); // kept, to be shortened
    await box.press('Backspace');
    await box.press('Backspace');
    await customer.getByText('40 / 40').waitFor();
    await box.press('Enter');
    await message(customer, 'x'.repeat(40)).waitFor();
    expect(await customer.getByRole('alert').innerText()).to.equal('');
  });

  it('on a phone the widget fills the screen; its fields are labelled, reachable in order by keyboard, and new messages are announced', async () => {
    const customer = await newPage('customer', PHONE);
    await customer.goto(`${gw.url}/demo/`);
    await snap(customer, 'demo-phone-start');
    const box = await customer.locator('.widget').boundingBox();
    expect(box).to.deep.equal({ x: 0, y: 0, width: 390, height: 844 });

    // Keyboard only: name, subject, start.
    await customer.locator('body').focus();
    await customer.keyboard.press('Tab');
    expect(await customer.evaluate('document.activeElement.id')).to.equal('name');
    await customer.keyboard.type('Ann');
    await customer.keyboard.press('Tab');
    expect(await customer.evaluate('document.activeElement.id')).to.equal('subject');
    await customer.keyboard.press('Tab');
    expect(await customer.evaluate('document.activeElement.textContent')).to.equal('Start chat');
    await customer.keyboard.press('Enter');
    await customer.getByText('Waiting for someone to join…').waitFor();
    expect(await customer.evaluate('document.activeElement.id')).to.equal('message');

    const log = customer.getByRole('log', { name: 'Messages' });
    expect(await log.getAttribute('aria-live')).to.equal('polite');
    const agent = await newPage('agent');
    await signIn(agent);
    await accept(agent, 'Ann');
    await say(agent, 'Message', 'Hi Ann!');
    await log.getByText('Hi Ann!').waitFor();
    await snap(customer, 'demo-phone-chat');
    const chat = await customer.locator('.widget').boundingBox();
    expect(chat).to.deep.equal({ x: 0, y: 0, width: 390, height: 844 });
  });

  it('the console shows the files of a chat, downloads them with the agent token, sends one, and shows a deleted one as deleted', async () => {
    const chat = await startV2Chat(gw, { service: 'files' });
    const agent = await newPage('agent');
    await signIn(agent);
    await accept(agent, 'Ann');

    const form = new FormData();
    for (const [k, v] of Object.entries(chat.credentials())) form.append(k, v);
    form.append('file', new Blob(['the order number is 42']), 'order.txt');
    const uploaded = await gw.post(`/genesys/2/chat/files/${chat.chatId}/file`, form);
    expect(uploaded.status).to.equal(200);
    const fileId = uploaded.body.userData['file-id'] as string;

    const get = agent.getByRole('button', { name: 'Download order.txt' });
    await get.waitFor();
    expect(await message(agent, 'order.txt').innerText()).to.include('22 B');
    const [download] = await Promise.all([agent.waitForEvent('download'), get.click()]);
    expect(download.suggestedFilename()).to.equal('order.txt');
    expect(await text(await download.createReadStream())).to.equal('the order number is 42');

    await agent
      .getByLabel('Attach a file')
      .setInputFiles({ name: 'label.txt', mimeType: 'text/plain', buffer: Buffer.from('return label') });
    await agent.getByRole('button', { name: 'Download label.txt' }).waitFor();
    expect(JSON.stringify((await chat.call('refresh')).body)).to.include('label.txt');
    await snap(agent, 'agent-files');

    expect((await chat.call(`file/${fileId}/delete`)).status).to.equal(200);
    await agent.getByText('Ann deleted the file order.txt').waitFor();
    expect(await get.count()).to.equal(0);
  });

  it('serves a site icon, so browsers asking for /favicon.ico get one, and what the widget needs of a service', async () => {
    const icon = await gw.get('/favicon.ico');
    expect(icon.status).to.equal(200);
    expect(icon.headers.get('content-type')).to.equal('image/svg+xml');
    expect(String(icon.body)).to.match(/^<svg /);
    const settings = await gw.get('/demo/service/short');
    expect(settings.body).to.deep.equal({ service: 'short', enabled: true, maxMessageLength: 40 });
    const missing = await gw.get('/demo/service/nope');
    expect(missing.status).to.equal(404);
    expect(missing.body.exception).to.equal('ServiceNotFound');
  });

  it('both pages show a reconnecting banner while the gateway is down and clear it when a new gateway starts on the same port; the chat goes on', async () => {
    // A gateway on a file store, so the one started after it on the same port finds the same chats.
    const dir = await makeTempDir();
    const env = { STORE_URL: `sqlite://${path.join(dir, 'sessions.sqlite')}` };
    await fs.promises.mkdir(path.join(dir, 'services.d'));
    await fs.promises.mkdir(path.join(dir, 'endpoints.d'));
    await fs.promises.writeFile(path.join(dir, 'services.d', 'request-chat.json'), '{}');
    await fs.promises.writeFile(path.join(dir, 'endpoints.d', 'gms_builtin.json'), JSON.stringify(endpointFile(['alice'])));
    await gw.close();
    gw = await startTestGateway({ dir, env });
    const port = new URL(gw.url).port;

    const customer = await newPage('customer');
    const agent = await newPage('agent');
    await startChat(customer, 'Ann');
    await signIn(agent);
    await accept(agent, 'Ann');
    const customerBanner = customer.getByText('Connection lost. Reconnecting…');
    const agentBanner = agent.getByText('Connection lost. Reconnecting…');
    expect(await customerBanner.isVisible()).to.equal(false);
    expect(await agentBanner.isVisible()).to.equal(false);

    await gw.close();
    await customerBanner.waitFor();
    await agentBanner.waitFor();
    await snap(customer, 'demo-reconnecting');
    await snap(agent, 'agent-reconnecting');
    // A message sent meanwhile fails in plain words and stays in the box.
    await say(customer, 'Your message', 'Sent while down');
    await customer.getByText('Not sent: no connection.').waitFor();
    expect(await customer.getByLabel('Your message').inputValue()).to.equal('Sent while down');

    gw = await startTestGateway({ dir, env: { ...env, PORT: port } });
    await customerBanner.waitFor({ state: 'hidden' });
    await agentBanner.waitFor({ state: 'hidden' });
    await customer.getByLabel('Your message').press('Enter');
    await message(agent, 'Sent while down').waitFor();
    await say(agent, 'Message', 'Welcome back');
    await message(customer, 'Welcome back').waitFor();
    // The browser's own reports of refused connections are expected here, and only those.
    problems = problems.filter((p) => !/ERR_CONNECTION_REFUSED|WebSocket connection/.test(p));
  });

  it('a customer app on another origin, sending the gms_user header with credentials as CometD clients do, handshakes and gets its pushes', async () => {
    // The app's own site: another port is another origin, so every call to the gateway is cross-origin
    // and the browser asks the gateway first (a CORS preflight) for the gms_user header.
    const site = http.createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>shop</title>'),
    );
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
