// A bounded in-process copy of recently used store values, for a store this process alone writes (the
// embedded SQLite file): reads of a hot session cost no query and no JSON work. Values are kept as the
// objects themselves and handed out without a copy, so they are shared snapshots that nobody may change
// (the Store contract in store.ts); each has its expiry, and the least recently used are dropped first.

interface Entry {
  value: unknown;
  /** Milliseconds since the epoch. */
  expires: number;
}

export interface ValueCacheOptions {
  maxEntries: number;
  /**
   * Deep-freeze every value kept, so that code changing a shared snapshot throws (in strict mode) at
   * the very line that does it instead of silently changing every other reader's value. For tests:
   * freezing walks the whole value on each write.
   */
  freeze?: boolean;
}

export class ValueCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly freeze: boolean;

  constructor(options: ValueCacheOptions) {
    this.maxEntries = options.maxEntries;
    this.freeze = options.freeze ?? false;
  }

  get<T>(key: string): { value: T } | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expires <= Date.now()) return undefined;
    this.entries.set(key, entry);
    return { value: entry.value as T };
  }

  set(key: string, value: unknown, expires: number): void {
    if (this.freeze) deepFreeze(value);
    this.entries.delete(key);
    this.entries.set(key, { value, expires });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}

function deepFreeze(value: unknown): void {
  // A frozen object was frozen here with all it holds: the events a new session version shares with
  // the last one are not walked again.
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
}
