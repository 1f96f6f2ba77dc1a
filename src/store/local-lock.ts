// Per-key FIFO queue inside one process: enough for a single gateway node on the embedded store.

import type { KeyLock } from './store.ts';

export class LocalLock implements KeyLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  async withLock<R>(key: string, fn: () => Promise<R>): Promise<R> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    // The tail never rejects, so one failed update does not poison the queue behind it.
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    try {
      return await run;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.tails.values()]);
  }
}
