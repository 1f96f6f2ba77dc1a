// Chooses the session store from STORE_URL: `sqlite://<file>` (the embedded, persistent default),
// `memory://` (tests), or `redis://...` (several gateway nodes sharing sessions).

import fs from 'node:fs';
import path from 'node:path';
import { Keyv } from 'keyv';
import KeyvSqlite from '@keyv/sqlite';
import type { Logger } from '../log.ts';
import { KeyvStore } from './keyv-store.ts';
import { LocalLock } from './local-lock.ts';
import type { Store } from './store.ts';

export interface StoreOptions {
  url: string;
  prefix: string;
  log: Logger;
}

export async function openStore({ url, prefix, log }: StoreOptions): Promise<Store> {
  const scheme = url.slice(0, url.indexOf(':'));
  let keyv: Keyv;
  if (scheme === 'memory') {
    keyv = new Keyv({ namespace: prefix, throwOnErrors: true });
  } else if (scheme === 'sqlite') {
    const file = url.slice('sqlite://'.length);
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    keyv = new Keyv({ store: new KeyvSqlite({ uri: `sqlite://${file}`, busyTimeout: 5000 }), namespace: prefix, throwOnErrors: true });
  } else {
    throw new Error(`STORE_URL ${JSON.stringify(url)}: unknown scheme (use sqlite://, memory:// or redis://)`);
  }
  // keyv emits errors instead of throwing when nobody listens; a listener keeps the process alive.
  keyv.on('error', (err: unknown) => log.warn({ err: String(err) }, 'session store error'));
  return new KeyvStore(keyv, new LocalLock());
}
