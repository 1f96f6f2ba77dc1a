// The keyv adapter for the embedded SQLite file (better-sqlite3), built so that a write costs the event
// loop a few microseconds and the file one transaction per turn of the event loop.
// better-sqlite3 runs statements synchronously on the calling thread. For this file that is the cheaper
// way: a row written by node-sqlite3's thread pool cost ~3x the CPU of the same row written here
// (2 kB rows, 4 per commit: 19 µs against 6 µs), and every hand-off woke a third busy thread on the
// gateway's CPUs. What it costs instead is that the event loop waits for the disk; with the write-ahead
// log that is one append per transaction (the log's checkpoints run on a worker: wal-checkpointer.ts).
// Writes: group commit. Sets and deletes are queued and written together, in the order they came, by one
// transaction at the end of the current turn of the event loop (setImmediate): every request read in
// that turn shares it. A caller's promise settles only once that transaction has committed, so an
// acknowledged write is on disk as far as the write-ahead log goes (synchronous=NORMAL: a crash of the
// gateway loses nothing committed, a power cut may lose the last transactions).
// Scans (the expiry sweep reads every key): paged by key, so a pass over n rows costs n row reads, and
// rows deleted during the pass cannot make it skip others.
// The file keeps the layout of keyv's SQLite adapter (table `keyv`, columns key and value, keyv's JSON
// rows), so files written by earlier versions still open.

import { EventEmitter } from 'node:events';
import Database from 'better-sqlite3';
import { startCheckpointer, type Checkpointer } from './wal-checkpointer.ts';

/** Most writes in one transaction, so that one turn of the event loop is never held for long. */
const MAX_BATCH = 1000;
/** How often the write-ahead log is checkpointed beside the event loop (wal-checkpointer.ts). */
const CHECKPOINT_INTERVAL_MS = 500;

const TABLE = 'keyv';

export interface EmbeddedSqliteOptions {
  /**
   * How long a statement waits for a lock held by another connection (another program opened the
   * file) before it fails. The event loop waits meanwhile, so this is kept short.
   */
  busyTimeoutMs: number;
  /** Rows per page of a scan: tiny pages cost a query each, huge ones hold the event loop while decoded. */
  pageSize: number;
}

type Write =
  | { kind: 'set'; key: string; value: string; resolve: (changes: number) => void; reject: (err: unknown) => void }
  | { kind: 'delete' | 'clear'; key: string; resolve: (changes: number) => void; reject: (err: unknown) => void };

export class EmbeddedSqlite extends EventEmitter {
  /** keyv offers its iterator only for adapters whose dialect it knows. */
  readonly opts = { dialect: 'sqlite' } as const;
  /** Set by keyv. */
  namespace?: string;

  /** Writes in arrival order, waiting for the end of this turn of the event loop. */
  private writes: Write[] = [];
  private flushing: NodeJS.Immediate | undefined;
  private readonly statements: {
    get: Database.Statement<[string], { value: string }>;
    upsert: Database.Statement<[string, string]>;
    delete: Database.Statement<[string]>;
    clear: Database.Statement<[string]>;
    page: Database.Statement<[string, string, number], { key: string; value: string }>;
  };
  private readonly commit: (writes: Write[]) => number[];
  private checkpointer: Checkpointer | undefined;

  private constructor(
    private readonly db: Database.Database,
    private readonly pageSize: number,
  ) {
    super();
    this.statements = {
      get: db.prepare(`SELECT value FROM ${TABLE} WHERE key = ?`),
      upsert: db.prepare(`INSERT INTO ${TABLE} (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`),
      delete: db.prepare(`DELETE FROM ${TABLE} WHERE key = ?`),
      clear: db.prepare(`DELETE FROM ${TABLE} WHERE key LIKE ?`),
      page: db.prepare(`SELECT key, value FROM ${TABLE} WHERE key LIKE ? AND key > ? ORDER BY key LIMIT ?`),
    };
    // One transaction: all of the batch is in the file, or (it threw, and rolled back) none of it.
    this.commit = db.transaction((writes: Write[]) =>
      writes.map((w) => {
        if (w.kind === 'set') return this.statements.upsert.run(w.key, w.value).changes;
        if (w.kind === 'delete') return this.statements.delete.run(w.key).changes;
        return this.statements.clear.run(w.key).changes;
      }),
    );
  }

  static async open(file: string, { busyTimeoutMs, pageSize }: EmbeddedSqliteOptions): Promise<EmbeddedSqlite> {
    const db = new Database(file, { timeout: busyTimeoutMs });
    try {
      // Write-ahead log, synced at checkpoints: a commit is one append instead of several fsyncs, and a
      // stopped or crashed gateway still finds every committed session.
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.exec(`CREATE TABLE IF NOT EXISTS ${TABLE}(key VARCHAR(255) PRIMARY KEY, value TEXT )`);
    } catch (err) {
      db.close();
      throw err;
    }
    const adapter = new EmbeddedSqlite(db, pageSize);
    try {
      adapter.checkpointer = await startCheckpointer(file, {
        intervalMs: CHECKPOINT_INTERVAL_MS,
        busyTimeoutMs,
        onError: (err) => void (adapter.listenerCount('error') > 0 && adapter.emit('error', err)),
      });
      // Commits no longer checkpoint themselves: the worker does it.
      db.pragma('wal_autocheckpoint = 0');
    } catch {
      // No worker thread: the commits go on checkpointing as SQLite does by default.
    }
    return adapter;
  }

  async get(key: string): Promise<string | undefined> {
    return this.statements.get.get(key)?.value;
  }

  set(key: string, value: string): Promise<void> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'set', key, value, resolve: () => resolve(), reject }));
  }

  delete(key: string): Promise<boolean> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'delete', key, resolve: (changes) => resolve(changes > 0), reject }));
  }

  clear(): Promise<void> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'clear', key: likeNamespace(this.namespace), resolve: () => resolve(), reject }));
  }

  async *iterator(namespace?: string): AsyncGenerator<[string, string], void> {
    const pattern = likeNamespace(namespace);
    for (let after = ''; ; ) {
      const rows = this.statements.page.all(pattern, after, this.pageSize);
      for (const row of rows) yield [row.key, row.value];
      if (rows.length < this.pageSize) return;
      after = rows[rows.length - 1]!.key;
    }
  }

  /** Writes what is queued, then closes the file. */
  async disconnect(): Promise<void> {
    if (this.flushing) clearImmediate(this.flushing);
    this.flushing = undefined;
    while (this.writes.length > 0) this.flush();
    // The worker's connection closes first, so that closing the gateway's, the last, empties the log.
    await this.checkpointer?.stop();
    this.db.close();
  }

  private enqueue(write: Write): void {
    this.writes.push(write);
    this.flushing ??= setImmediate(() => this.drain());
  }

  /** At the end of a turn of the event loop: one transaction, and a longer queue goes on in the next turn. */
  private drain(): void {
    this.flushing = undefined;
    this.flush();
    if (this.writes.length > 0) this.flushing = setImmediate(() => this.drain());
  }

  /** Commits the oldest writes, up to MAX_BATCH of them, as one transaction, and settles their promises. */
  private flush(): void {
    const batch = this.writes.splice(0, MAX_BATCH);
    let changes: number[];
    try {
      changes = this.commit(batch);
    } catch (err) {
      for (const w of batch) w.reject(err);
      return;
    }
    batch.forEach((w, i) => w.resolve(changes[i]!));
  }
}

function likeNamespace(namespace: string | undefined): string {
  return `${namespace ? `${namespace}:` : ''}%`;
}
