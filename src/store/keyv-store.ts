// The Store on top of keyv: any keyv adapter for the data, and a KeyLock for atomic updates.

import type { Keyv } from 'keyv';
import { guard } from './outage.ts';
import type { Change, KeyLock, Store, Updater } from './store.ts';
import { ValueCache } from './value-cache.ts';

export interface KeyvStoreOptions {
  /**
   * Keep up to this many recently used values in this process as well. Only for a store that this
   * process alone writes (the embedded SQLite file), never for one shared by several gateways.
   */
  cacheEntries?: number;
  /**
   * Deep-freeze the values the cache keeps and hands out, so that a change to a shared snapshot (which
   * the Store contract forbids) throws where it happens. For test gateways; it costs a walk per write.
   */
  freezeValues?: boolean;
}

/** How many keys found absent are remembered. */
const ABSENT_ENTRIES = 1000;

export class KeyvStore implements Store {
  private readonly cache: ValueCache | undefined;
  /**
   * Keys read and found absent, with the cache (empty queue shards are read on every chat start). Apart
   * from the values, so that reads of ids that do not exist cannot push hot sessions out.
   */
  private readonly absent: ValueCache | undefined;
  /** Counts writes, so that a read that raced with a write does not put an older value in the cache. */
  private writes = 0;

  constructor(
    private readonly keyv: Keyv,
    private readonly lock: KeyLock,
    options: KeyvStoreOptions = {},
  ) {
    this.cache = options.cacheEntries ? new ValueCache({ maxEntries: options.cacheEntries, freeze: options.freezeValues }) : undefined;
    this.absent = options.cacheEntries ? new ValueCache({ maxEntries: ABSENT_ENTRIES }) : undefined;
  }

  async get<T>(key: string): Promise<T | undefined> {
    if (!this.cache) return guard(() => this.keyv.get<T>(key));
    const hit = this.cache.get<T>(key);
    if (hit) return hit.value;
    if (this.absent?.get(key)) return undefined;
    const writesBefore = this.writes;
    const raw = await guard(() => this.keyv.get<T>(key, { raw: true }));
    if (raw?.value === undefined) {
      if (this.writes === writesBefore) this.absent?.set(key, true, Number.MAX_SAFE_INTEGER);
      return undefined;
    }
    if (this.writes === writesBefore) this.cache.set(key, raw.value, raw.expires ?? Number.MAX_SAFE_INTEGER);
    return raw.value;
  }

  async set<T>(key: string, value: T, ttlMs: number): Promise<void> {
    this.writes++;
    await guard(() => this.keyv.set(key, value, ttlMs));
    this.writes++;
    if (!this.cache) return;
    // Cached only once the file has it, so readers never see a write that may still fail; a write that
    // failed (SQLite rolls its statement back) leaves the last stored value cached, as it was.
    this.cache.set(key, value, Date.now() + ttlMs);
    this.absent?.delete(key);
  }

  async delete(key: string): Promise<void> {
    this.writes++;
    await guard(() => this.keyv.delete(key));
    this.writes++;
    this.cache?.delete(key);
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
    this.cache?.clear();
    this.absent?.clear();
    await this.keyv.disconnect().catch(() => undefined);
  }
}
