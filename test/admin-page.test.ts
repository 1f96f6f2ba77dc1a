// The admin page at /admin/ in a real headless Chromium: create a service from the page and call it at
// once with the customer API, edit its ttl, and see a bad value refused inline before saving; a locked
// gateway asks for an admin token first. Set SCREENSHOT_DIR to keep screenshots (desktop and phone).

import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { startCustomerChat } from './helpers/chat-client.ts';
import { endpointFile } from './helpers/agent-client.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { hashToken } from '../src/endpoints/token-hash.ts';
import { launchChromium, requireChromium } from './helpers/chromium.ts';

describe('admin page in a browser', function () {
  this.timeout(60_000);
  let gw: TestGateway;
  let browser: Browser;

  before(async function () {
    requireChromium(this);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });
  // The pages are the gateway's clients: closed first, so that no request of theirs is in flight as it stops.
  const contexts: BrowserContext[] = [];
  const newPage = async (options?: BrowserContextOptions): Promise<Page> => {
    const context = await browser.newContext(options);
    contexts.push(context);
    return context.newPage();
  };
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
    await gw?.close();
  });

  async function snap(page: Page, name: string): Promise<void> {
    const dir = process.env.SCREENSHOT_DIR;
    if (!dir) return;
    await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
  }

  it('creates a service that customers can call at once, edits its ttl, and refuses a bad value inline', async () => {
    gw = await startTestGateway({
      services: {
        'request-chat.json': { description: 'The default chat' },
        'billing.json': { ttl: 600, endpoint: 'gms_builtin' },
        'broken.json': '{"ttl": "soon"}',
      },
      endpoints: { 'gms_builtin.json': endpointFile(['alice', 'bob'], { maxWaiting: 50, description: 'The built-in queue' }) },
      env: { SWEEP_INTERVAL_MS: '100' },
    });
    await startCustomerChat(gw, { service: 'billing' });
    const page = await newPage({ viewport: { width: 1280, height: 860 } });
    await page.goto(`${gw.url}/admin/`);
    await page.getByRole('heading', { name: 'Services' }).waitFor();
    // The refused file and its problem are shown, and the live chat counted for its service.
    await page.getByText('broken.json').first().waitFor();
    expect(await page.locator('#refused').innerText()).to.include('must be integer');
    await page.locator('#service-rows tr', { hasText: 'billing' }).locator('td').nth(4).filter({ hasText: '1' }).waitFor();
    await snap(page, 'admin-desktop');

    await page.getByRole('button', { name: 'New service' }).click();
    await page.getByLabel('Name').fill('promo');
    await page.getByLabel('ttl').fill('300');
    await page.getByLabel('description').fill('Spring promotion');
    await snap(page, 'admin-new-service');
    await page.getByRole('button', { name: 'Create service' }).click();
    await page.getByText('created: customers call').waitFor();
    // Called at once, through the customer API.
    const created = await gw.post('/genesys/1/service/promo');
    expect(created.status).to.equal(200);
    expect(gw.services.get('promo')).to.include({ ttl: 300, description: 'Spring promotion' });

    await page.getByRole('button', { name: 'Edit service promo' }).click();
    await page.getByLabel('ttl').fill('0');
    const error = page.locator('.field[data-field="ttl"] .field-error');
    await error.filter({ hasText: 'must be >= 1' }).waitFor();
    expect(await page.getByRole('button', { name: 'Save' }).isDisabled()).to.equal(true);
    await snap(page, 'admin-inline-error');
    await page.getByLabel('ttl').fill('120');
    await page.getByText('Will change').waitFor();
    expect(await error.innerText()).to.equal('');
    expect(await page.locator('#editor-changes').innerText()).to.include('ttl: 300 → 120');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('is saved and in force').waitFor();
    expect(gw.services.get('promo')!.ttl).to.equal(120);
    expect(JSON.parse(fs.readFileSync(path.join(gw.servicesDir, 'promo.json'), 'utf8'))).to.deep.equal({
      ttl: 120,
      description: 'Spring promotion',
    });

    const phone = await newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
    await phone.goto(`${gw.url}/admin/`);
    await phone.getByRole('heading', { name: 'Services' }).waitFor();
    await phone.locator('#service-rows tr', { hasText: 'promo' }).waitFor();
    await snap(phone, 'admin-phone');
    await phone.getByRole('button', { name: 'Edit service billing' }).click();
    await phone.getByLabel('ttl').waitFor();
    await snap(phone, 'admin-phone-editor');
  });

  it('on a locked gateway asks for an admin token, and refuses a wrong one', async () => {
    gw = await startTestGateway({ env: { ADMIN_TOKENS: `ops:read-write:${hashToken('page-admin-token')}` } });
    const page = await newPage();
    await page.goto(`${gw.url}/admin/`);
    await page.getByLabel('Admin token').fill('wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('This token is not valid.').waitFor();
    await page.getByLabel('Admin token').fill('page-admin-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#service-rows tr', { hasText: 'request-chat' }).waitFor();
    expect(await page.getByRole('button', { name: 'Sign out' }).isVisible()).to.equal(true);
  });
});
