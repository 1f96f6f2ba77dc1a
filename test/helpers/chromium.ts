// The Chromium the browser tests drive: where it is, one for the whole run, and what a run without it
// does. A developer's machine without it skips those suites with a message saying so; CI (CI=true), which
// installs it, fails instead, so that a broken install cannot pass as green.
//
// A launch costs a second or more of CPU, so under --parallel the run's main process launches one Chromium
// when a worker first asks for it (global setup starts a small local server that hands out its address;
// a run without browser suites launches nothing) and closes it at the end; each browser suite connects
// to it, opens its own contexts (cookies, storage, permissions), and disconnects, closing them, with
// `browser.close()`. A run without workers (--no-parallel) launches one per suite, as it has no process
// of its own to keep one in beyond the leak check.

import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserServer, LaunchOptions } from 'playwright-core';

/** CHROMIUM_PATH overrides it (another install, or a path that does not exist to try a run without it). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where a worker asks the main process for the run's Chromium (set by global setup, inherited by workers). */
const SERVER_ENV = 'GMS_TEST_CHROMIUM';

/** Call first in a browser suite's `before(function () {...})`. */
export function requireChromium(suite: Mocha.Context): void {
  if (fs.existsSync(CHROMIUM)) return;
  const missing = `${CHROMIUM} is missing (apt-get install -y chromium; .ci/run installs it)`;
  if (process.env.CI === 'true') throw new Error(`${missing}: the browser tests cannot run in CI without it`);
  console.warn(`      skipped: ${suite.test?.parent?.fullTitle() ?? 'browser tests'}: ${missing}`);
  suite.skip();
}

/** The Chromium a browser suite drives, from its `before` hook; the suite's `after` hook closes it. */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  const server = process.env[SERVER_ENV];
  if (process.env.MOCHA_WORKER_ID === undefined || !server) return chromium.launch(LAUNCH);
  const answer = await fetch(server, { headers: { connection: 'close' } });
  const text = await answer.text();
  if (!answer.ok) throw new Error(`the run's Chromium could not be launched: ${text}`);
  return chromium.connect(text);
}

/** Headless Chromium as every browser suite runs it. */
const LAUNCH: LaunchOptions = {
  executablePath: CHROMIUM,
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    // The agent console's alert tone plays without a click first (browser.test.ts).
    '--autoplay-policy=no-user-gesture-required',
  ],
};

let addressServer: http.Server | undefined;
let launched: Promise<BrowserServer> | undefined;

/** Mocha global setup (main process): the server that launches the run's Chromium on a worker's first request. */
export async function mochaGlobalSetup(): Promise<void> {
  addressServer = http.createServer((_request, response) => {
    launched ??= import('playwright-core').then(({ chromium }) => chromium.launchServer(LAUNCH));
    launched.then(
      (browser) => response.end(browser.wsEndpoint()),
      (err: unknown) => response.writeHead(500).end(String(err)),
    );
  });
  await new Promise<void>((resolve) => addressServer!.listen(0, '127.0.0.1', resolve));
  // It never holds the run open: a run stopped with Ctrl-C ends without its teardown.
  addressServer.unref();
  process.env[SERVER_ENV] = `http://127.0.0.1:${(addressServer.address() as AddressInfo).port}/`;
}

export async function mochaGlobalTeardown(): Promise<void> {
  delete process.env[SERVER_ENV];
  await new Promise((resolve) => addressServer?.close(resolve) ?? resolve(undefined));
  await (await launched?.catch(() => undefined))?.close();
}
