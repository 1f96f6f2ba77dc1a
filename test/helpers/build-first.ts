// Mocha global setup: builds dist/ before the run when it is missing or older than src/ (what
// `npm start` does), so that the tests starting the gateway as a process run the code as it ships.

import { spawnSync } from 'node:child_process';
import { ROOT } from './built.ts';

export function mochaGlobalSetup(): void {
  const run = spawnSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: ROOT, stdio: 'inherit' });
  if (run.status !== 0) throw new Error('dist/ could not be built: the tests that start the gateway as a process need it');
}
