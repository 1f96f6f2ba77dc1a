// Chooses the session store from STORE_URL: `sqlite://<file>` (the embedded, persistent default),
// `memory://` (tests), or `redis://...` (several gateway nodes sharing sessions).

import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.ts';
import { EmbeddedSqlite } from './embedded-sqlite.ts';
import { DEFAULT_CACHE_ENTRIES, KvStore, type KvStoreOptions } from './kv-store.ts';
import { LocalLock } from './local-lock.ts';
import { MemoryBackend } from './memory-backend.ts';
import { RedisBackend } from './redis-backend.ts';
import type { RedisConnection } from './redis-connection.ts';
import { RedisLock } from './redis-lock.ts';
import type { Store } from './store.ts';

export interface StoreOptions extends KvStoreOptions {
  url: string;
  prefix: string;
  log: Logger;
  /** For `redis://`: the node's connection, shared with the pub/sub bridge (opened here when absent). */
  redis?: RedisConnection;
}

/** Whether STORE_URL names a Redis server (`redis://` or `rediss://`). */
export function isRedisUrl(url: string): boolean {
  return /^rediss?:\/\//.test(url);
}

/** The embedded store's file for a `sqlite://` STORE_URL (undefined for the other stores). */
export function sqliteFile(url: string): string | undefined {
  return url.startsWith('sqlite://') ? url.slice('sqlite://'.length) : undefined;
}

/** The bytes the embedded store takes on disk now: its database file and its write-ahead log (absent: 0). */
export function sqliteDiskUse(file: string): { database: number; wal: number } {
  const size = (f: string): number => {
    try {
      return fs.statSync(f).size;
    } catch {
      return 0;
    }
  };
  return { database: size(file), wal: size(`${file}-wal`) };
}

export async function openStore({ url, prefix, log, redis, cacheEntries, ...options }: StoreOptions): Promise<Store> {
  const scheme = url.slice(0, url.indexOf(':'));
  if (scheme === 'memory') return new KvStore(new MemoryBackend(), new LocalLock(), { ...options, cacheEntries });
  if (scheme === 'sqlite') {
    const file = sqliteFile(url)!;
    createPrivately(file, log);
    // The file is this process's alone: another program holding its lock (an operator's sqlite3 shell
    // writing to it) makes writes fail after half a second rather than hold the event loop. Pages of
    // the expiry scan: tiny pages cost a query each, and huge ones hold the event loop while decoded.
    const backend = await EmbeddedSqlite.open(file, {
      busyTimeoutMs: 500,
      pageSize: 250,
      namespace: prefix,
      onError: (err) => log.warn({ err: String(err) }, 'session store error'),
    });
    // The file belongs to this process alone (its lock is local), so hot sessions can be read from memory.
    return new KvStore(backend, new LocalLock(), { ...options, cacheEntries: cacheEntries ?? DEFAULT_CACHE_ENTRIES });
  }
  if (scheme === 'redis' || scheme === 'rediss') {
    // The Redis client is loaded only for a Redis store: the others' start does not pay for it.
    const connection = redis ?? (await (await import('./redis-connection.ts')).RedisConnection.open({ url, log }));
    const lock = new RedisLock(connection, prefix, {
      onLeaseLost: (key) => log.error({ key }, 'a session lock expired while its update ran; its write was refused'),
    });
    const store = new KvStore(new RedisBackend(connection, prefix), lock, options);
    // A connection opened here is closed with the store.
    if (redis) return store;
    const close = store.close.bind(store);
    store.close = async () => {
      await close();
      await connection.close();
    };
    return store;
  }
  throw new Error(`STORE_URL ${JSON.stringify(url)}: unknown scheme (use sqlite://, memory:// or redis://)`);
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
