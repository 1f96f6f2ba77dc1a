// The Store on top of keyv: any keyv adapter for the data, and a KeyLock for atomic updates.

import type { Keyv } from 'keyv';
import { GatewayError } from '../errors.ts';
import type { Change, KeyLock, Store, Updater } from './store.ts';

export class KeyvStore implements Store {
  constructor(
    private readonly keyv: Keyv,
    private readonly lock: KeyLock,
  ) {}

  get<T>(key: string): Promise<T | undefined> {
    return guard(() => this.keyv.get<T>(key));
  }

  async set<T>(key: string, value: T, ttlMs: number): Promise<void> {
    await guard(() => this.keyv.set(key, value, ttlMs));
  }

  async delete(key: string): Promise<void> {
    await guard(() => this.keyv.delete(key));
  }

  update<T, R>(key: string, fn: Updater<T, R>): Promise<R> {
    return this.lock.withLock(key, async () => {
      const current = await this.get<T>(key);
      const change: Change<T, R> = await fn(current);
      if ('write' in change) await this.set(key, change.write, change.ttlMs);
      else if ('remove' in change) await this.delete(key);
      change.committed?.();
      return change.result;
    });
  }

  async *entries<T>(prefix: string): AsyncIterable<[string, T]> {
    const iterate = this.keyv.iterator;
    if (!iterate) return;
    for await (const [key, value] of iterate.call(this.keyv, this.keyv.namespace) as AsyncIterable<[string, T]>) {
      if (typeof key === 'string' && key.startsWith(prefix) && value !== undefined) yield [key, value];
    }
  }

  async close(): Promise<void> {
    await this.lock.close();
    await this.keyv.disconnect().catch(() => undefined);
  }
}

/** A backend that cannot answer is a 503 for the caller, never a crash or a silent "not found". */
async function guard<R>(op: () => Promise<R>): Promise<R> {
  try {
    return await op();
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    throw new GatewayError('ServiceUnavailable', 'The session store is not reachable; try again shortly.');
  }
}
