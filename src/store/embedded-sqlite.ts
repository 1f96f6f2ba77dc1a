// The backend on the embedded SQLite file (better-sqlite3), built so that a write costs the event loop a
// few microseconds and the file one transaction per turn of the event loop.
// better-sqlite3 runs statements synchronously on the calling thread. For this file that is the cheaper
// way: a row written by node-sqlite3's thread pool cost ~3x the CPU of the same row written here
// (2 kB rows, 4 per commit: 19 µs against 6 µs), and every hand-off woke a third busy thread on the
// gateway's CPUs. What it costs instead is that the event loop waits for the disk; with the write-ahead
// log that is one append per transaction (the log's checkpoints run on a worker: wal-checkpointer.ts).
// Writes: group commit. Commits (each one change: rows and set members) are queued and written together,
// in the order they came, by one transaction at the end of the current turn of the event loop
// (setImmediate): every request read in that turn shares it, and a commit is never split between two
// transactions. A caller's promise settles only once that transaction has committed, so an
// acknowledged write is on disk as far as the write-ahead log goes (synchronous=NORMAL: a crash of the
// gateway loses nothing committed, a power cut may lose the last transactions).
// Scans (the expiry sweep reads every key): paged by key, so a pass over n rows costs n row reads, and
// rows deleted during the pass cannot make it skip others.
// Values keep the layout of keyv's SQLite adapter (table `keyv`, columns key and value, keyv's JSON
// rows), so files written by earlier versions still open; sets are rows of table `sets`, ordered by score,
// their sizes rows of `set_sizes` kept by triggers.

import Database from 'better-sqlite3';
import type { Backend, Op, Row } from './store.ts';
import { startCheckpointer, type Checkpointer } from './wal-checkpointer.ts';

/** Most commits in one transaction, so that one turn of the event loop is never held for long. */
const MAX_BATCH = 1000;
/** How often the write-ahead log is checkpointed beside the event loop (wal-checkpointer.ts). */
const CHECKPOINT_INTERVAL_MS = 500;
/** The write-ahead log's size past which it is emptied and truncated, whatever the load. */
const WAL_LIMIT_BYTES = 64 * 1024 * 1024;

export interface EmbeddedSqliteOptions {
  /**
   * How long a statement waits for a lock held by another connection (another program opened the
   * file) before it fails. The event loop waits meanwhile, so this is kept short.
   */
  busyTimeoutMs: number;
  /** Rows per page of a scan: tiny pages cost a query each, huge ones hold the event loop while decoded. */
  pageSize: number;
  /** Put in front of every key and set name (`<namespace>:<key>`), as keyv did. */
  namespace: string;
  /** A checkpoint failed (the log keeps growing until one succeeds). */
  onError?: (err: Error) => void;
  /** The write-ahead log's size past which it is emptied and truncated (default 64 MiB). */
  walLimitBytes?: number;
}

interface Pending {
  ops: Op[];
  /** The rows to set, as text, by op index: serialised before they are queued. */
  texts: (string | undefined)[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class EmbeddedSqlite implements Backend {
  /** Commits in arrival order, waiting for the end of this turn of the event loop. */
  private pending: Pending[] = [];
  private flushing: NodeJS.Immediate | undefined;
  private readonly statements: ReturnType<typeof prepare>;
  private readonly transaction: (batch: Pending[]) => void;
  private checkpointer: Checkpointer | undefined;

  private constructor(
    private readonly db: Database.Database,
    private readonly options: EmbeddedSqliteOptions,
  ) {
    this.statements = prepare(db);
    // One transaction: all of the batch is in the file, or (it threw, and rolled back) none of it.
    this.transaction = db.transaction((batch: Pending[]) => {
      for (const { ops, texts } of batch) ops.forEach((op, i) => this.apply(op, texts[i]));
    });
  }

  static async open(file: string, options: EmbeddedSqliteOptions): Promise<EmbeddedSqlite> {
    const db = new Database(file, { timeout: options.busyTimeoutMs });
    try {
      // Write-ahead log, synced at checkpoints: a commit is one append instead of several fsyncs, and a
      // stopped or crashed gateway still finds every committed session.
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      // Whenever the log starts over, it is cut back to this size instead of keeping its largest.
      db.pragma(`journal_size_limit = ${options.walLimitBytes ?? WAL_LIMIT_BYTES}`);
      db.exec(`CREATE TABLE IF NOT EXISTS keyv(key VARCHAR(255) PRIMARY KEY, value TEXT )`);
      db.exec(
        `CREATE TABLE IF NOT EXISTS sets(name TEXT NOT NULL, member TEXT NOT NULL, score REAL NOT NULL, PRIMARY KEY (name, member)) WITHOUT ROWID`,
      );
      db.exec(`CREATE INDEX IF NOT EXISTS sets_by_score ON sets(name, score)`);
      countSetSizes(db);
    } catch (err) {
      db.close();
      throw err;
    }
    const backend = new EmbeddedSqlite(db, options);
    try {
      backend.checkpointer = await startCheckpointer(file, {
        intervalMs: CHECKPOINT_INTERVAL_MS,
        busyTimeoutMs: options.busyTimeoutMs,
        walLimitBytes: options.walLimitBytes ?? WAL_LIMIT_BYTES,
        onError: (err) => options.onError?.(err),
      });
      // Commits no longer checkpoint themselves: the worker does it.
      db.pragma('wal_autocheckpoint = 0');
    } catch {
      // No worker thread: the commits go on checkpointing as SQLite does by default.
    }
    return backend;
  }

  async read(key: string): Promise<Row | undefined> {
    const text = this.statements.get.get(this.name(key))?.value;
    return text === undefined ? undefined : (JSON.parse(text) as Row);
  }

  commit(ops: Op[]): Promise<void> {
    // Serialised here, so that a value that cannot be stored fails its own commit and no other.
    const now = Date.now();
    const texts = ops.map((op) => (op.kind === 'set' ? JSON.stringify({ value: op.value, expires: now + op.ttlMs }) : undefined));
    return new Promise((resolve, reject) => {
      this.pending.push({ ops, texts, resolve, reject });
      this.flushing ??= setImmediate(() => this.drain());
    });
  }

  async members(set: string): Promise<string[]> {
    return this.statements.members.all(this.name(set)).map((row) => row.member);
  }

  async count(set: string): Promise<number> {
    return this.statements.count.get(this.name(set))?.n ?? 0;
  }

  async upTo(set: string, maxScore: number, limit: number): Promise<string[]> {
    return this.statements.upTo.all(this.name(set), maxScore, limit).map((row) => row.member);
  }

  async *scan(prefix: string): AsyncIterable<[string, unknown]> {
    const from = this.name(prefix);
    const skip = this.name('').length;
    for (let after = ''; ;) {
      const rows = this.statements.page.all(`${escapeLike(from)}%`, after, this.options.pageSize);
      const now = Date.now();
      for (const { key, value } of rows) {
        const row = JSON.parse(value) as Row;
        if (row.expires === undefined || row.expires > now) yield [key.slice(skip), row.value];
        else this.statements.deleteIfSame.run(key, value);
      }
      if (rows.length < this.options.pageSize) return;
      after = rows[rows.length - 1].key;
    }
  }

  /** Writes what is queued, then closes the file. */
  async close(): Promise<void> {
    if (this.flushing) clearImmediate(this.flushing);
    this.flushing = undefined;
    while (this.pending.length > 0) this.flush();
    // The worker's connection closes first, so that closing the gateway's, the last, empties the log.
    await this.checkpointer?.stop();
    this.db.close();
  }

  private apply(op: Op, text: string | undefined): void {
    const s = this.statements;
    if (op.kind === 'set') s.upsert.run(this.name(op.key), text!);
    else if (op.kind === 'delete') s.delete.run(this.name(op.key));
    else if (op.kind === 'add') s.add.run(this.name(op.set), op.member, op.score);
    else s.remove.run(this.name(op.set), op.member);
  }

  private name(key: string): string {
    return `${this.options.namespace}:${key}`;
  }

  /** At the end of a turn of the event loop: one transaction, and a longer queue goes on in the next turn. */
  private drain(): void {
    this.flushing = undefined;
    this.flush();
    if (this.pending.length > 0) this.flushing = setImmediate(() => this.drain());
  }

  /** Commits the oldest changes, up to MAX_BATCH of them, as one transaction, and settles their promises. */
  private flush(): void {
    const batch = this.pending.splice(0, MAX_BATCH);
    try {
      this.transaction(batch);
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    for (const p of batch) p.resolve();
  }
}

function prepare(db: Database.Database) {
  return {
    get: db.prepare<[string], { value: string }>(`SELECT value FROM keyv WHERE key = ?`),
    upsert: db.prepare<[string, string]>(
      `INSERT INTO keyv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
    ),
    delete: db.prepare<[string]>(`DELETE FROM keyv WHERE key = ?`),
    deleteIfSame: db.prepare<[string, string]>(`DELETE FROM keyv WHERE key = ? AND value = ?`),
    page: db.prepare<[string, string, number], { key: string; value: string }>(
      `SELECT key, value FROM keyv WHERE key LIKE ? ESCAPE '\\' AND key > ? ORDER BY key LIMIT ?`,
    ),
    add: db.prepare<[string, string, number]>(
      `INSERT INTO sets (name, member, score) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET score = excluded.score`,
    ),
    remove: db.prepare<[string, string]>(`DELETE FROM sets WHERE name = ? AND member = ?`),
    members: db.prepare<[string], { member: string }>(`SELECT member FROM sets WHERE name = ? ORDER BY score, member`),
    count: db.prepare<[string], { n: number }>(`SELECT n FROM set_sizes WHERE name = ?`),
    upTo: db.prepare<[string, number, number], { member: string }>(
      `SELECT member FROM sets WHERE name = ? AND score <= ? ORDER BY score, member LIMIT ?`,
    ),
  };
}

/**
 * Each set's size kept in `set_sizes` by triggers, in the transaction that adds or removes its members,
 * so that counting a queue is one row read whatever its length. A file written before that table
 * existed has it filled once, from its sets, in the same transaction that creates it.
 */
function countSetSizes(db: Database.Database): void {
  db.transaction(() => {
    const exists = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'set_sizes'`).get();
    if (!exists) {
      db.exec(`CREATE TABLE set_sizes(name TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID`);
      db.exec(`INSERT INTO set_sizes (name, n) SELECT name, COUNT(*) FROM sets GROUP BY name`);
    }
    db.exec(`CREATE TRIGGER IF NOT EXISTS set_member_added AFTER INSERT ON sets BEGIN
      INSERT INTO set_sizes (name, n) VALUES (new.name, 1) ON CONFLICT (name) DO UPDATE SET n = n + 1;
    END`);
    db.exec(`CREATE TRIGGER IF NOT EXISTS set_member_removed AFTER DELETE ON sets BEGIN
      UPDATE set_sizes SET n = n - 1 WHERE name = old.name;
      DELETE FROM set_sizes WHERE name = old.name AND n <= 0;
    END`);
  })();
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
