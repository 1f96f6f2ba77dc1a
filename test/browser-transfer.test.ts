// Transfer and conference in the agent console, in a real headless Chromium: two agents' pages and the
// customer widget at once. Alice transfers the chat to Bob (the customer reads Alice leaving and Bob
// joining), Bob invites a supervisor silently (the customer sees nothing of them), whispers, and puts
// the chat back in the queue, where Alice is told of it and takes it again.
// Set SCREENSHOT_DIR to keep screenshots (desktop, and a phone at 390x844).

import path from 'node:path';
import { expect } from 'chai';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { endpointFile, tokenOf } from './helpers/agent-client.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { launchChromium, requireChromium } from './helpers/chromium.ts';

const PHONE: BrowserContextOptions = {
  viewport: { width: 390, height: 844 },
  isMobile: true,
  hasTouch: true,
  deviceScaleFactor: 2,
};

describe('transfer and conference in the agent console (browser)', function () {
  this.timeout(60_000);
  let gw: TestGateway;
  let browser: Browser;
  const problems: string[] = [];
  const contexts: BrowserContext[] = [];

  before(async function () {
    requireChromium(this);
    browser = await launchChromium();
    const file = endpointFile(['alice', 'bob', 'sam']);
    (file.agents as Array<Record<string, unknown>>)[2].role = 'supervisor';
    gw = await startTestGateway({ endpoints: { 'gms_builtin.json': file } });
  });
  after(async () => {
    await Promise.all(contexts.map((c) => c.close()));
    await gw?.close();
    await browser?.close();
  });

  async function newPage(
    name: string,
    options: BrowserContextOptions = { viewport: { width: 1280, height: 800 } },
  ): Promise<Page> {
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

  async function signIn(agent: Page, id: string): Promise<void> {
    await agent.goto(`${gw.url}/agent/`);
    await agent.getByLabel('Agent token').fill(tokenOf(id));
    await agent.getByRole('button', { name: 'Sign in' }).click();
    await agent.getByText(`Signed in as ${id[0].toUpperCase()}${id.slice(1)}`).waitFor();
  }

  /** Picks the dialog's option whose words include `text`, and confirms with `button`. */
  async function handOff(agent: Page, opener: string, text: string, button: string, silent = false): Promise<void> {
    await agent.getByRole('button', { name: opener }).click();
    const dialog = agent.getByRole('dialog');
    await dialog.waitFor();
    const value = await dialog.locator('option', { hasText: text }).getAttribute('value');
    await dialog.getByLabel('To', { exact: true }).selectOption(value);
    if (silent) await dialog.getByLabel('Silently: the customer does not see them').check();
    await dialog.getByRole('button', { name: button }).click();
  }

  const people = (page: Page) => page.getByRole('list', { name: 'In this chat' }).getByRole('listitem');
  const line = (page: Page, text: string) => page.getByRole('log').getByRole('listitem').filter({ hasText: text });

  it('Alice transfers to Bob, Bob invites a silent supervisor, whispers, and puts the chat back in the queue', async () => {
    const customer = await newPage('customer');
    const alice = await newPage('alice');
    const bob = await newPage('bob');

    await customer.goto(`${gw.url}/demo/`);
    await customer.getByLabel('Your name').fill('Ann');
    await customer.getByRole('button', { name: 'Start chat' }).click();
    await customer.getByText('Waiting for someone to join…').waitFor();

    await signIn(alice, 'alice');
    await signIn(bob, 'bob');
    await alice.getByRole('button', { name: 'Accept the chat with Ann' }).click();
    await alice.getByRole('heading', { name: 'Chat with Ann' }).waitFor();
    expect(await people(alice).allTextContents()).to.deep.equal(['Ann (customer)', 'Alice (you)']);
    await customer.getByText('You are chatting with Alice.').waitFor();

    // The transfer dialog lists Bob (ready) and the queue.
    await alice.getByRole('button', { name: 'Transfer…' }).click();
    // The list is filled from GET /agent/v1/agents after the dialog opens: wait for its last entry.
    await alice.getByRole('dialog').locator('option', { hasText: 'This chat’s queue' }).waitFor({ state: 'attached' });
    const options = await alice.getByRole('dialog').locator('option').allTextContents();
    expect(options).to.deep.equal([
      'Bob — ready · 0 chats',
      'Sam (supervisor) — ready · 0 chats',
      'This chat’s queue (gms_builtin)',
    ]);
    await snap(alice, 'transfer-dialog-desktop');
    await alice.getByRole('button', { name: 'Cancel' }).click();

    await handOff(alice, 'Transfer…', 'Bob', 'Transfer');
    await alice.getByText('You transferred the chat with Ann to Bob.').waitFor();
    // The customer gets Alice's Left and Bob's Joined in one update, and reads them as one hand-over.
    await customer.getByText('Alice passed you to Bob').waitFor();
    await customer.getByText('You are chatting with Bob.').waitFor();
    expect(await customer.getByRole('log').innerText()).not.to.include('Alice left the chat');

    // Bob is told of the chat (push) and opens it from "My chats".
    await bob.getByRole('button', { name: /Ann/ }).first().click();
    await bob.getByRole('heading', { name: 'Chat with Ann' }).waitFor();
    expect(await people(bob).allTextContents()).to.deep.equal(['Ann (customer)', 'Bob (you)']);
    await bob.getByLabel('Message', { exact: true }).fill('Hi Ann, Bob here.');
    await bob.getByLabel('Message', { exact: true }).press('Enter');
    await customer.getByRole('log').getByText('Hi Ann, Bob here.').waitFor();

    // Bob invites the supervisor silently: the customer sees nothing of Sam.
    await handOff(bob, 'Invite…', 'Sam', 'Invite', true);
    await people(bob).filter({ hasText: 'Sam (supervisor, silent)' }).waitFor();
    await line(bob, 'Sam (supervisor) joined the chat (not shown to the customer)').waitFor();
    // In a conference Bob may whisper: the agents read it, the customer never does.
    await bob.getByLabel('Agents only').check();
    expect(await bob.getByRole('button', { name: 'Whisper' }).isVisible()).to.equal(true);
    await bob.getByLabel('Message', { exact: true }).fill('Sam, this one wants a refund.');
    await bob.getByLabel('Message', { exact: true }).press('Enter');
    await line(bob, 'Sam, this one wants a refund.').waitFor();
    await snap(bob, 'conference-desktop');

    // On a phone, the same chat and the transfer dialog fit the screen.
    const phone = await newPage('bob-phone', PHONE);
    await signIn(phone, 'bob');
    await phone.getByRole('button', { name: /Ann/ }).first().click();
    await phone.getByRole('heading', { name: 'Chat with Ann' }).waitFor();
    await snap(phone, 'conference-phone');
    // Nothing makes the page wider than the phone (no sideways scrolling).
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).to.be.at.most(390);
    await phone.getByRole('button', { name: 'Transfer…' }).click();
    await phone.getByRole('dialog').waitFor();
    await snap(phone, 'transfer-dialog-phone');
    await phone.getByRole('button', { name: 'Cancel' }).click();

    // Back to the queue: Alice is told of the chat waiting again, and takes it.
    await handOff(bob, 'Transfer…', 'queue', 'Transfer');
    await bob.getByText('You put the chat with Ann back in the queue gms_builtin.').waitFor();
    await customer.getByText('Bob left the chat').waitFor();
    await alice.getByRole('button', { name: 'Accept the chat with Ann' }).click();
    await alice.getByRole('heading', { name: 'Chat with Ann' }).waitFor();
    await customer.getByText('You are chatting with Alice.').waitFor();
    // Alice reads the whole chat, whisper included; the customer never had Sam nor the whisper.
    await line(alice, 'Sam, this one wants a refund.').waitFor();
    expect(await people(alice).allTextContents()).to.deep.equal(['Ann (customer)', 'Sam (supervisor, silent)', 'Alice (you)']);
    const customerText = await customer.getByRole('log').innerText();
    expect(customerText).not.to.include('Sam');
    expect(customerText).not.to.include('refund');
    await snap(customer, 'customer-after-transfers-desktop');
    expect(problems).to.deep.equal([]);
  });

  it('a supervisor sees the chats under way, listens in on one silently, and the customer sees nothing of it', async () => {
    const customer = await newPage('customer-2');
    const bob = await newPage('bob-2');
    const sam = await newPage('sam');
    await customer.goto(`${gw.url}/demo/`);
    await customer.getByLabel('Your name').fill('Otto');
    await customer.getByRole('button', { name: 'Start chat' }).click();
    await customer.getByText('Waiting for someone to join…').waitFor();
    await signIn(bob, 'bob');
    await bob.getByRole('button', { name: 'Accept the chat with Otto' }).click();
    await customer.getByText('You are chatting with Bob.').waitFor();

    // Agents have no such list; the supervisor's console shows it (read again every 10 s, and at sign-in).
    expect(await bob.getByRole('heading', { name: /Under way/ }).isVisible()).to.equal(false);
    await signIn(sam, 'sam');
    const otto = sam
      .getByRole('list')
      .filter({ has: sam.getByText('with Bob') })
      .getByRole('listitem')
      .filter({ hasText: 'Otto' });
    await otto.waitFor();
    await snap(sam, 'supervisor-under-way-desktop');
    await sam.getByRole('button', { name: 'Listen in on the chat with Otto (the customer does not see you)' }).click();
    await sam.getByRole('heading', { name: 'Chat with Otto' }).waitFor();
    await people(sam).filter({ hasText: 'Sam (you' }).waitFor();
    await people(bob).filter({ hasText: 'Sam (supervisor, silent)' }).waitFor();

    await customer.getByRole('textbox', { name: 'Your message' }).fill('Is anyone listening?');
    await customer.getByRole('textbox', { name: 'Your message' }).press('Enter');
    await line(sam, 'Is anyone listening?').waitFor();
    expect(await customer.getByRole('log').innerText()).not.to.include('Sam');
    expect(problems).to.deep.equal([]);
  });
});
