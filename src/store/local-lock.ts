// Per-key FIFO queue inside one process: enough for a single gateway node on the embedded store.

import type { KeyLock } from './store.ts';

export class LocalLock implements KeyLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  withLock<R>(key: string, fn: () => Promise<R>): Promise<R> {
    const previous = this.tails.get(key);
    // A key nobody holds is taken at once (fn is async: it reports failures by rejecting); otherwise after
    // the last holder queued before.
    const run = previous ? previous.then(fn, fn) : fn();
    // The tail never rejects, so one failed update does not poison the queue behind it.
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return run;
  }

  async close(): Promise<void> {
    await Promise.all([...this.tails.values()]);
  }
}
