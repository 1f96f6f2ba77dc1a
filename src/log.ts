// Structured logs (pino, JSON lines). Quiet by default: `info` tells an operator what changed
// (a service loaded, a file rejected, the gateway listening); per-request detail is `debug`.

import fs from 'node:fs';
import { pino, type Logger } from 'pino';

export type { Logger };

/** How long a line may wait for a full pipe to drain before it is dropped. */
const FULL_PIPE_WAIT_MS = 1000;
const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes each line to stdout synchronously, as pino's default does, but never hangs on a reader that went
 * away: pino's own stream retries a failed write forever when the process exits, so a gateway whose log
 * pipe closed (its parent or log shipper gone) could never stop. Once stdout is broken, logs are dropped.
 */
function stdoutLines(): { write(line: string): void } {
  let broken = false;
  return {
    write(line) {
      let rest = Buffer.from(line);
      const deadline = Date.now() + FULL_PIPE_WAIT_MS;
      while (!broken && rest.length > 0) {
        try {
          rest = rest.subarray(fs.writeSync(1, rest));
        } catch (err) {
          const full = (err as NodeJS.ErrnoException).code === 'EAGAIN';
          // Anything but a full pipe (EPIPE: the reader is gone) stays broken.
          if (!full) broken = true;
          if (!full || Date.now() > deadline) return;
          Atomics.wait(pause, 0, 0, 10);
        }
      }
    },
  };
}

export function createLogger(level: string): Logger {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, stdoutLines());
}
