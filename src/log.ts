// Structured logs (pino, JSON lines). Quiet by default: `info` tells an operator what changed
// (a service loaded, a file rejected, the gateway listening); per-request detail is `debug`.

import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime });
}
