// The Store on top of a backend (memory, SQLite file, Redis) and a KeyLock: reads through keyv, guarded
// writes, the atomic update of a key with everything it touches, and an optional cache of hot values.

import Keyv from 'keyv';
import { KeyvBackendAdapter } from './keyv-adapter.ts';
import { guard } from './outage.ts';
import type { Backend, Change, KeyLock, Op, Store, Updater } from './store.ts';
import { ValueCache } from './value-cache.ts';

export interface KvStoreOptions {
  /**
   * Keep up to this many recently used values in this process as well (0: none). Only for a store that
   * this process alone writes (the embedded SQLite file), never for one shared by several gateways:
   * openStore never gives Redis one.
   */
  cacheEntries?: number;
  /**
   * Deep-freeze the values the cache keeps and hands out, so that a change to a shared snapshot (which
   * the Store contract forbids) throws where it happens. For test gateways; it costs a walk per write.
   */
  freezeValues?: boolean;
  /** Whether a key's value may be kept by the cache (not: values too large to keep, such as files). Default: all. */
  cacheable?: (key: string) => boolean;
}

/** Values the embedded store keeps in memory unless told otherwise (STORE_CACHE_ENTRIES). */
export const DEFAULT_CACHE_ENTRIES = 100_000;

/** How many keys found absent are remembered. */
const ABSENT_ENTRIES = 1000;

export class KvStore implements Store {
  private readonly cache: ValueCache | undefined;
  /** Keys read and found absent, apart from the values, so that reads of unknown ids cannot push hot sessions out. */
  private readonly absent: ValueCache | undefined;
  /** Counts writes, so that a read that raced with a write does not put an older value in the cache. */
  private writes = 0;
  private readonly cacheable: (key: string) => boolean;
  /** Keys are read through keyv; its key prefix is the backend's own (namespace), so none here. */
  private readonly keyv: Keyv;

  constructor(
    private readonly backend: Backend,
    private readonly lock: KeyLock,
    options: KvStoreOptions = {},
  ) {
    this.cache = options.cacheEntries
      ? new ValueCache({ maxEntries: options.cacheEntries, freeze: options.freezeValues })
      : undefined;
    this.absent = options.cacheEntries ? new ValueCache({ maxEntries: ABSENT_ENTRIES }) : undefined;
    this.cacheable = options.cacheable ?? (() => true);
    this.keyv = new Keyv(new KeyvBackendAdapter(backend), {
      namespace: undefined,
      serialize: undefined,
      deserialize: undefined,
      emitErrors: false,
      throwOnErrors: true,
    });
  }

  async get<T>(key: string): Promise<T | undefined> {
    const hit = this.cache?.get<T>(key);
    if (hit) return hit.value;
    if (this.absent?.get(key)) return undefined;
    const writesBefore = this.writes;
    // Keyv hands back only a live row (its expiry passed: none).
    const row = await guard(() => this.keyv.get<T>(key, { raw: true }));
    if (this.writes === writesBefore) {
      if (!row) this.absent?.set(key, true, Number.MAX_SAFE_INTEGER);
      else if (this.cacheable(key)) this.cache?.set(key, row.value, row.expires ?? Number.MAX_SAFE_INTEGER);
    }
    return row?.value;
  }

  peek<T>(key: string): T | undefined {
    return this.cache?.get<T>(key)?.value;
  }

  set<T>(key: string, value: T, ttlMs: number): Promise<void> {
    return this.write([{ kind: 'set', key, value, ttlMs }]);
  }

  delete(key: string): Promise<void> {
    return this.write([{ kind: 'delete', key }]);
  }

  write(ops: Op[]): Promise<void> {
    return this.commit(ops, undefined);
  }

  update<T, R>(key: string, fn: Updater<T, R>): Promise<R> {
    return this.lock.withLock(key, async (fence) => {
      const current = await this.get<T>(key);
      const change: Change<T, R> = await fn(current);
      const ops: Op[] = [...(change.also ?? [])];
      if ('write' in change) ops.push({ kind: 'set', key, value: change.write, ttlMs: change.ttlMs });
      else if ('remove' in change) ops.push({ kind: 'delete', key });
      if (ops.length > 0) await this.commit(ops, fence);
      change.committed?.();
      return change.result;
    });
  }

  members(set: string): Promise<string[]> {
    return guard(() => this.backend.members(set));
  }

  count(set: string): Promise<number> {
    return guard(() => this.backend.count(set));
  }

  upTo(set: string, maxScore: number, limit: number): Promise<string[]> {
    return guard(() => this.backend.upTo(set, maxScore, limit));
  }

  async *entries<T>(prefix: string): AsyncIterable<[string, T]> {
    for await (const [key, value] of this.backend.scan(prefix)) yield [key, value as T];
  }

  async close(): Promise<void> {
    await this.lock.close();
    this.cache?.clear();
    this.absent?.clear();
    await this.backend.close();
  }

  private async commit(ops: Op[], fence: Parameters<Backend['commit']>[1]): Promise<void> {
    this.writes++;
    await guard(() => this.backend.commit(ops, fence));
    this.writes++;
    if (!this.cache) return;
    // Cached only once the backend has it, so readers never see a write that may still fail.
    const now = Date.now();
    for (const op of ops) {
      if (op.kind === 'set') {
        if (this.cacheable(op.key)) this.cache.set(op.key, op.value, now + op.ttlMs);
        this.absent?.delete(op.key);
      } else if (op.kind === 'delete') this.cache.delete(op.key);
    }
  }
}
