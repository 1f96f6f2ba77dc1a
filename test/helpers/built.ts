// The gateway as it ships: tests that start it (or one of its command-line tools) as a process run the
// compiled modules in dist/, as `npm start` does, not the sources through tsx. build-first.ts builds
// dist/ before the run when it is missing or older than src/.

import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** The gateway's entry point, as `npm start` runs it. */
export const GATEWAY_MAIN = path.join(ROOT, 'dist', 'main.js');

/** A module of src/ as built: `built('config/validate-cli')` is dist/config/validate-cli.js. */
export function built(module: string): string {
  return path.join(ROOT, 'dist', `${module}.js`);
}
