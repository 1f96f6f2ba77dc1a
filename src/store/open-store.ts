// Chooses the session store from STORE_URL: `sqlite://<file>` (the embedded, persistent default),
// `memory://` (tests), or `redis://...` (several gateway nodes sharing sessions).

import fs from 'node:fs';
import path from 'node:path';
import { Keyv } from 'keyv';
import KeyvRedis from '@keyv/redis';
import type { Logger } from '../log.ts';
import { EmbeddedSqlite } from './embedded-sqlite.ts';
import { KeyvStore, type KeyvStoreOptions } from './keyv-store.ts';
import { LocalLock } from './local-lock.ts';
import { RedisConnection } from './redis-connection.ts';
import { RedisLock } from './redis-lock.ts';
import type { KeyLock, Store } from './store.ts';
import { PLAIN_JSON } from './stored-json.ts';

export interface StoreOptions {
  url: string;
  prefix: string;
  log: Logger;
  /** For `redis://`: the node's connection, shared with the pub/sub bridge (opened here when absent). */
  redis?: RedisConnection;
}

export async function openStore({ url, prefix, log, redis }: StoreOptions): Promise<Store> {
  const scheme = url.slice(0, url.indexOf(':'));
  let keyv: Keyv;
  let lock: KeyLock = new LocalLock();
  let options: KeyvStoreOptions = {};
  let connection: RedisConnection | undefined;
  if (scheme === 'memory') {
    keyv = new Keyv({ namespace: prefix, throwOnErrors: true, ...PLAIN_JSON });
  } else if (scheme === 'sqlite') {
    const file = url.slice('sqlite://'.length);
    createPrivately(file, log);
    // The writes of one turn of the event loop share one transaction (group commit), scans page by key;
    // see embedded-sqlite.ts. The file is this process's alone: another program holding its lock (an
    // operator's sqlite3 shell writing to it) makes writes fail after half a second rather than hold
    // the event loop. Pages of the expiry scan: tiny pages cost a query each, and huge ones hold the
    // event loop while they are decoded.
    const sqlite = await EmbeddedSqlite.open(file, { busyTimeoutMs: 500, pageSize: 250 });
    keyv = new Keyv({ store: sqlite, namespace: prefix, throwOnErrors: true, ...PLAIN_JSON });
    // The file belongs to this process alone (its lock is local), so hot sessions can be read from memory.
    options = { cacheEntries: 10_000 };
  } else if (scheme === 'redis' || scheme === 'rediss') {
    connection = redis ?? (await RedisConnection.open({ url, log }));
    // throwOnErrors: by default the adapter swallows errors and answers "not found", which would turn a
    // Redis outage into SessionNotFound; thrown, KeyvStore renders it as 503. Data keys are
    // `<prefix>::<key>` with Redis's own TTLs (SET PX).
    const redisLock = new RedisLock(connection.client, prefix, {
      onLeaseLost: (key) => log.error({ key }, 'a session lock expired while its update ran; its write was refused'),
    });
    // The adapter writes through the lock's fence, so a holder that lost its lease cannot overwrite.
    const adapter = new KeyvRedis(redisLock.fencedClient(`${prefix}::`), { namespace: prefix, throwOnErrors: true, throwOnConnectError: true });
    keyv = new Keyv({ store: adapter, namespace: prefix, useKeyPrefix: false, throwOnErrors: true, ...PLAIN_JSON });
    lock = redisLock;
  } else {
    throw new Error(`STORE_URL ${JSON.stringify(url)}: unknown scheme (use sqlite://, memory:// or redis://)`);
  }
  // keyv emits errors instead of throwing when nobody listens; a listener keeps the process alive. The
  // Redis adapter repeats each reconnect error of an outage that the connection has already logged.
  keyv.on('error', (err: unknown) => {
    if (!connection?.down) log.warn({ err: String(err) }, 'session store error');
  });
  return new KeyvStore(keyv, lock, options);
}

/**
 * The sessions (customers' messages and data) are for the gateway's user alone: a folder it creates is
 * 0700 and the file 0600 (SQLite gives its -wal and -shm files the file's mode). An existing file is
 * left as the operator set it, with a warning if others may read it.
 */
function createPrivately(file: string, log: Logger): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
  try {
    fs.closeSync(fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    if ((fs.statSync(file).mode & 0o077) !== 0) {
      log.warn({ file }, 'the session file can be read by other users of this machine: chmod 600 it (and its folder 700)');
    }
  }
}
