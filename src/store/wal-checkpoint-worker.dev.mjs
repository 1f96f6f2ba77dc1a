// Starts wal-checkpoint-worker.ts in its worker thread when the gateway runs from its TypeScript sources
// (tests, `npm run dev`): tsx's loader does not reach worker threads on Node 20, so it is registered here.
// The build leaves this file out; dist/ starts the compiled worker directly.

import { register } from 'tsx/esm/api';

register();
await import('./wal-checkpoint-worker.ts');
