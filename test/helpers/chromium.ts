// The Chromium the browser tests drive: where it is, and what a run without it does. A developer's machine
// without it skips those suites with a message saying so; CI (CI=true), which installs it, fails instead,
// so that a broken install cannot pass as green.

import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** CHROMIUM_PATH overrides it (another install, or a path that does not exist to try a run without it). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Call first in a browser suite's `before(function () {...})`. */
export function requireChromium(suite: Mocha.Context): void {
  if (fs.existsSync(CHROMIUM)) return;
  const missing = `${CHROMIUM} is missing (apt-get install -y chromium; .ci/run installs it)`;
  if (process.env.CI === 'true') throw new Error(`${missing}: the browser tests cannot run in CI without it`);
  console.warn(`      skipped: ${suite.test?.parent?.fullTitle() ?? 'browser tests'}: ${missing}`);
  suite.skip();
}

/** Headless Chromium as every browser suite runs it; `extraArgs` for a suite's own switches. */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      ...extraArgs,
    ],
  });
}
