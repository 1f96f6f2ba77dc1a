// keyv's storage adapter over a backend: the sessions' keys are read through keyv, as rows of keyv's
// format ({ value, expires }), whichever backend keeps them. What keyv has no call for (one atomic
// write of several keys and set members, the sets themselves) goes to the backend directly (kv-store.ts).

import { EventEmitter } from 'node:events';
import type { KeyvStoreAdapter, StoredData } from 'keyv';
import type { Backend, Row } from './store.ts';

export class KeyvBackendAdapter extends EventEmitter implements KeyvStoreAdapter {
  readonly opts = {};
  namespace?: string;

  constructor(private readonly backend: Backend) {
    super();
  }

  /** The row as the backend holds it: keyv takes an object as already deserialised. */
  get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    return this.backend.read(key) as Promise<StoredData<Value> | undefined>;
  }

  /** Keyv's own writes (none of the gateway's: those are atomic commits); `ttl` in milliseconds. */
  async set(key: string, row: Row, ttl?: number): Promise<void> {
    await this.backend.commit([{ kind: 'set', key, value: row.value, ttlMs: ttl ?? Number.MAX_SAFE_INTEGER - Date.now() }]);
  }

  /**
   * Keyv deletes a row it reads expired. A read must never remove a row that a write renewed in the
   * meantime, so expired rows are left to the sweep and to the backends' scans, which check first.
   */
  async delete(): Promise<boolean> {
    return false;
  }

  async clear(): Promise<void> {
    throw new Error('the session store is not cleared through keyv: sessions go with their chats');
  }
}
