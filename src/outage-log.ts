// Logs an outage of something the gateway depends on (Redis, the store behind the expiry sweep) once
// when it starts and once when it ends, with how long it lasted, however many retries fail in between.

import type { Logger } from './log.ts';

export interface OutageMessages {
  /** Logged (warn) at the first failure. */
  down: string;
  /** Logged (info) when every part works again; the duration is appended. */
  back: string;
}

export class OutageLog {
  /** The parts failing now (a connection's command and subscriber clients, say). */
  private readonly failing = new Set<string>();
  private since: number | undefined;

  constructor(
    private readonly log: Logger,
    private readonly messages: OutageMessages,
    private readonly clock: { now(): number } = Date,
  ) {}

  get down(): boolean {
    return this.since !== undefined;
  }

  failed(err: unknown, part?: string): void {
    this.failing.add(part ?? '');
    if (this.since !== undefined) return;
    this.since = this.clock.now();
    this.log.warn({ err: String(err), ...(part ? { part } : {}) }, this.messages.down);
  }

  recovered(part?: string): void {
    this.failing.delete(part ?? '');
    if (this.since === undefined || this.failing.size > 0) return;
    const outageMs = this.clock.now() - this.since;
    this.since = undefined;
    this.log.info({ outageMs }, `${this.messages.back} after ${(outageMs / 1000).toFixed(1)} s`);
  }
}
