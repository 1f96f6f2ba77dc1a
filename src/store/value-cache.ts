// A bounded in-process copy of recently used store values, for a store this process alone writes (the
// embedded SQLite file): reads of a hot session cost no query. Values are kept as JSON, so every reader
// gets its own object to change, and with their expiry; the least recently used are dropped first.

interface Entry {
  json: string;
  /** Milliseconds since the epoch. */
  expires: number;
}

export class ValueCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly maxEntries: number) {}

  get<T>(key: string): { value: T } | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expires <= Date.now()) return undefined;
    this.entries.set(key, entry);
    return { value: JSON.parse(entry.json) as T };
  }

  set(key: string, value: unknown, expires: number): void {
    this.setJson(key, JSON.stringify(value), expires);
  }

  /** For a value its writer has already serialised. */
  setJson(key: string, json: string, expires: number): void {
    this.entries.delete(key);
    this.entries.set(key, { json, expires });
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
