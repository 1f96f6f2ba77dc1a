// A clock for the gateway's `clock` option that a test moves forward: real time plus the jumps the test
// made, so that a ttl or an idle time runs out at once instead of being waited out, while time still
// passes as usual between the jumps.

import type { Clock } from '../../src/chat/types.ts';

export class TestClock implements Clock {
  private offsetMs = 0;

  now(): number {
    return Date.now() + this.offsetMs;
  }

  /** Moves the clock `ms` forward. */
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}
