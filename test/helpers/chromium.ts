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
//
// Pages run in Chromium's headless shell where it is installed (Debian's chromium-headless-shell, the
// build Playwright itself runs headless tests on): the same Blink, V8 and network stack without the
// desktop browser around them, at about half the CPU per page. What only the desktop browser does
// (desktop notifications) asks for it by name.

import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserServer, LaunchOptions } from 'playwright-core';

/** CHROMIUM_PATH overrides it (another install, or a path that does not exist to try a run without it). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** CHROMIUM_HEADLESS_SHELL_PATH overrides it; without it, the desktop browser serves every suite. */
const HEADLESS_SHELL = process.env.CHROMIUM_HEADLESS_SHELL_PATH ?? '/usr/bin/chromium-headless-shell';

/** `shell`: the headless shell where installed; `desktop`: the browser people run, for what only it does. */
export type ChromiumKind = 'shell' | 'desktop';

/** Where a worker asks the main process for the run's Chromium (set by global setup, inherited by workers). */
const SERVER_ENV = 'GMS_TEST_CHROMIUM';

/** Call first in a browser suite's `before(function () {...})`. */
export function requireChromium(suite: Mocha.Context): void {
  if (fs.existsSync(CHROMIUM)) return;
  const missing = `${CHROMIUM} is missing (apt-get install -y chromium chromium-headless-shell; .ci/run installs them)`;
  if (process.env.CI === 'true') throw new Error(`${missing}: the browser tests cannot run in CI without it`);
  console.warn(`      skipped: ${suite.test?.parent?.fullTitle() ?? 'browser tests'}: ${missing}`);
  suite.skip();
}

/** The Chromium a browser suite drives, from its `before` hook; the suite's `after` hook closes it. */
export async function launchChromium(kind: ChromiumKind = 'shell'): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  const server = process.env[SERVER_ENV];
  if (process.env.MOCHA_WORKER_ID === undefined || !server) return chromium.launch(launchOptions(kind));
  const answer = await fetch(server + kind, { headers: { connection: 'close' } });
  const text = await answer.text();
  if (!answer.ok) throw new Error(`the run's Chromium could not be launched: ${text}`);
  return chromium.connect(text);
}

/** Headless Chromium as every browser suite runs it. */
const launchOptions = (kind: ChromiumKind): LaunchOptions => ({
  executablePath: kind === 'shell' && fs.existsSync(HEADLESS_SHELL) ? HEADLESS_SHELL : CHROMIUM,
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
});

let addressServer: http.Server | undefined;
const launched = new Map<ChromiumKind, Promise<BrowserServer>>();

/** Mocha global setup (main process): the server that launches the run's Chromium on a worker's first request. */
export async function mochaGlobalSetup(): Promise<void> {
  addressServer = http.createServer((request, response) => {
    const kind: ChromiumKind = request.url === '/desktop' ? 'desktop' : 'shell';
    let server = launched.get(kind);
    if (!server) {
      server = import('playwright-core').then(({ chromium }) => chromium.launchServer(launchOptions(kind)));
      launched.set(kind, server);
    }
    server.then(
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
  for (const server of launched.values()) await (await server.catch(() => undefined))?.close();
}
