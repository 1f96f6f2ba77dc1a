// The Chat API Version 2 demo (/demo/v2/) in a real headless Chromium, polling as WebChat does: a
// customer and an agent (agent API) exchange messages and files both ways, and the chat ends.

import { text } from 'node:stream/consumers';
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { agentClient, endpointFile } from './helpers/agent-client.ts';
import { eventually, startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { launchChromium, requireChromium } from './helpers/chromium.ts';

describe('the Chat API v2 demo page in a browser', function () {
  this.timeout(60_000);
  let gw: TestGateway;
  let browser: Browser;

  before(async function () {
    requireChromium(this);
    gw = await startTestGateway({
      services: { 'request-chat.json': { fileTransfer: { enabled: true, fileTypes: ['txt'] } } },
      endpoints: { 'gms_builtin.json': endpointFile(['alice']) },
    });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
  });

  it('a customer on /demo/v2/ and an agent exchange messages and files, and the chat ends when the agent leaves', async () => {
    const page = await (await browser.newContext({ acceptDownloads: true })).newPage();
    const alice = agentClient(gw, 'alice');
    await page.goto(`${gw.url}/demo/v2/`);
    await page.getByLabel('First name').fill('Ann');
    await page.getByLabel('Last name').fill('Lee');
    await page.getByLabel('What is it about?').fill('My order');
    await page.getByRole('button', { name: 'Start chat' }).click();
    await page.getByText('Waiting for an agent').waitFor();

    const waiting = await eventually(
      async () => (await alice.get('/chats?state=waiting')).body.chats[0],
      5000,
      'the chat to wait',
    );
    expect(waiting).to.include({ nickname: 'Ann', subject: 'My order' });
    expect(waiting.userData).to.include({ _genesys_source: 'web', _genesys_widgets: 'gateway-demo' });
    const chatId = waiting.chatSessionId as string;
    await alice.post(`/chats/${chatId}/accept`);
    await alice.post(`/chats/${chatId}/send`, { message: 'Hello Ann, how can I help?' });
    await page.getByText('You are chatting with Alice.').waitFor();
    await page.getByRole('listitem').filter({ hasText: 'Hello Ann, how can I help?' }).waitFor();

    await page.getByLabel('Message').fill('Here is my receipt');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await eventually(
      async () =>
        (await alice.get(`/chats/${chatId}`)).body.events.some((e: { text: string }) => e.text === 'Here is my receipt'),
      5000,
      'the message',
    );

    await page
      .getByLabel(/Send a file/)
      .setInputFiles({ name: 'receipt.txt', mimeType: 'text/plain', buffer: Buffer.from('order 42') });
    const uploaded = await eventually(
      async () =>
        (await alice.get(`/chats/${chatId}`)).body.events.find((e: { type: string }) => e.type === 'Notice.FileUploaded'),
      5000,
      'the file',
    );
    const fromCustomer = await fetch(`${gw.url}/agent/v1/chats/${chatId}/files/${uploaded.data['file-id']}`, {
      headers: { authorization: `Bearer ${alice.token}` },
    });
    expect(await fromCustomer.text()).to.equal('order 42');

    const form = new FormData();
    form.append('file', new Blob(['refund approved']), 'answer.txt');
    expect((await alice.post(`/chats/${chatId}/files`, form)).status).to.equal(200);
    const link = page.getByRole('link', { name: 'answer.txt' });
    await link.waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    expect(download.suggestedFilename()).to.equal('answer.txt');
    expect(await text(await download.createReadStream())).to.equal('refund approved');

    await alice.post(`/chats/${chatId}/leave`);
    await page.getByText('The chat has ended.').waitFor();
    expect(await page.getByLabel('Transcript').innerText()).to.include('Alice has left the chat');
    expect(await page.getByRole('button', { name: 'Start a new chat' }).isVisible()).to.equal(true);
  });
});
