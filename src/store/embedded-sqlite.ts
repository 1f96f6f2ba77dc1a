// The keyv adapter for the embedded SQLite file (node-sqlite3), built so that a write costs the event loop
// one thread-pool round trip and the file one transaction per batch of writes.
// Statements are prepared once and kept: running a kept statement is one trip to the thread pool (bind,
// step and commit there), where preparing, running and finalising a fresh one per call took several,
// each waiting for a busy event loop to pick up its callback.
// Writes: group commit. Sets that arrive while a statement is being written go to the file together, as
// one multi-row upsert (one statement, so one transaction). A caller's promise settles only once the
// statement holding its row has committed. Deletes keep their place in the same queue, so a set and a
// later delete of one key reach the file in that order. Reads that miss the cache are batched the same way.
// Scans (the expiry sweep reads every key): paged by key instead of by OFFSET, so a pass over n rows
// costs n row reads rather than n²/page, and rows deleted during the pass cannot make it skip others.
// The file keeps the layout of keyv's SQLite adapter (table `keyv`, columns key and value, keyv's JSON
// rows), so files written before still open.

import { EventEmitter } from 'node:events';
import sqlite3 from 'sqlite3';

/**
 * Most rows in one upsert (or keys in one read). One statement is kept per batch size up to this, and a
 * kept upsert holds the text of its last rows until it runs again: this bounds that memory.
 */
const MAX_ROWS = 64;

const TABLE = 'keyv';

export interface EmbeddedSqliteOptions {
  /** How long a statement waits for a lock held by another connection before it fails. */
  busyTimeoutMs: number;
  /** Rows per page of a scan: tiny pages cost a query each, huge ones hold the event loop while decoded. */
  pageSize: number;
}

type Write =
  | { kind: 'set'; key: string; value: string; resolve: () => void; reject: (err: unknown) => void }
  /** A statement that runs on its own, in its place in the queue; settles with the rows it changed. */
  | { kind: 'alone'; sql: string; params: unknown[]; resolve: (changes: number) => void; reject: (err: unknown) => void };

interface Read {
  key: string;
  resolve: (value: string | undefined) => void;
  reject: (err: unknown) => void;
}

export class EmbeddedSqlite extends EventEmitter {
  /** keyv offers its iterator only for adapters whose dialect it knows. */
  readonly opts = { dialect: 'sqlite' } as const;
  /** Set by keyv. */
  namespace?: string;

  /** Writes in arrival order; the ones being written have already left the queue. */
  private readonly writes: Write[] = [];
  /** The running drain of the writes, if any. */
  private writing: Promise<void> | undefined;
  /** Reads waiting for the one under way: they are then answered together, by one statement. */
  private readonly reads: Read[] = [];
  private reading: Promise<void> | undefined;
  /** Kept statements by SQL text, prepared on first use. */
  private readonly statements = new Map<string, Promise<sqlite3.Statement>>();

  private constructor(
    private readonly db: sqlite3.Database,
    private readonly pageSize: number,
  ) {
    super();
  }

  static async open(file: string, { busyTimeoutMs, pageSize }: EmbeddedSqliteOptions): Promise<EmbeddedSqlite> {
    const db = await new Promise<sqlite3.Database>((resolve, reject) => {
      const opened = new sqlite3.Database(file, (err) => (err ? reject(err) : resolve(opened)));
    });
    db.configure('busyTimeout', busyTimeoutMs);
    // Write-ahead log, synced at checkpoints: a write is one append instead of several fsyncs, and a
    // stopped or crashed gateway still finds every committed session (only a power cut may lose the last ones).
    await new Promise<void>((resolve, reject) =>
      db.exec(
        'PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; ' +
          `CREATE TABLE IF NOT EXISTS ${TABLE}(key VARCHAR(255) PRIMARY KEY, value TEXT )`,
        (err) => (err ? reject(err) : resolve()),
      ),
    );
    return new EmbeddedSqlite(db, pageSize);
  }

  get(key: string): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      this.reads.push({ key, resolve, reject });
      this.reading ??= this.readAll().finally(() => (this.reading = undefined));
    });
  }

  set(key: string, value: string): Promise<void> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'set', key, value, resolve, reject }));
  }

  async delete(key: string): Promise<boolean> {
    return (await this.runAlone(`DELETE FROM ${TABLE} WHERE key = ?`, [key])) > 0;
  }

  async clear(): Promise<void> {
    await this.runAlone(`DELETE FROM ${TABLE} WHERE key LIKE ?`, [likeNamespace(this.namespace)]);
  }

  async *iterator(namespace?: string): AsyncGenerator<[string, string], void> {
    const select = await this.statement(`SELECT key, value FROM ${TABLE} WHERE key LIKE ? AND key > ? ORDER BY key LIMIT ?`);
    const pattern = likeNamespace(namespace);
    for (let after = ''; ; ) {
      const rows = await all<{ key: string; value: string }>(select, [pattern, after, this.pageSize]);
      for (const row of rows) yield [row.key, row.value];
      if (rows.length < this.pageSize) return;
      after = rows[rows.length - 1]!.key;
    }
  }

  /** Lets the reads and writes under way or waiting finish, then closes the file. */
  async disconnect(): Promise<void> {
    while (this.writing || this.reading) await Promise.all([this.writing, this.reading]);
    const kept = await Promise.all([...this.statements.values()].map((statement) => statement.catch(() => undefined)));
    // The file closes only once no statement is left open on it.
    await Promise.all(
      kept.map((statement) => new Promise<void>((resolve) => (statement ? statement.finalize(() => resolve()) : resolve()))),
    );
    await new Promise<void>((resolve, reject) => this.db.close((err) => (err ? reject(err) : resolve())));
  }

  private runAlone(sql: string, params: unknown[]): Promise<number> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'alone', sql, params, resolve, reject }));
  }

  private enqueue(write: Write): void {
    this.writes.push(write);
    // An idle file is written at once (no added latency); a busy one gathers the next batch meanwhile.
    this.writing ??= this.drain().finally(() => (this.writing = undefined));
  }

  private async drain(): Promise<void> {
    while (this.writes.length > 0) {
      const first = this.writes[0]!;
      if (first.kind === 'alone') {
        this.writes.shift();
        await this.statement(first.sql)
          .then((statement) => run(statement, first.params))
          .then(first.resolve, first.reject);
        continue;
      }
      let rows = 1;
      while (rows < MAX_ROWS && rows < this.writes.length && this.writes[rows]!.kind === 'set') rows++;
      const batch = this.writes.splice(0, rows) as Extract<Write, { kind: 'set' }>[];
      // Rows are applied in order, so of two writes of one key in a batch the later one stays.
      const upsert = `INSERT INTO ${TABLE} (key, value) VALUES ${placeholders(rows, '(?, ?)')} ON CONFLICT(key) DO UPDATE SET value=excluded.value`;
      await this.statement(upsert)
        .then((statement) => run(statement, batch.flatMap((w) => [w.key, w.value])))
        .then(
          () => batch.forEach((w) => w.resolve()),
          (err: unknown) => batch.forEach((w) => w.reject(err)),
        );
    }
  }

  // One read at a time, like the writes: reads arriving meanwhile are answered by the next statement,
  // so a burst of reads (a cold cache after a restart) costs one trip to the thread pool per batch.
  private async readAll(): Promise<void> {
    while (this.reads.length > 0) {
      const batch = this.reads.splice(0, MAX_ROWS);
      const keys = [...new Set(batch.map((r) => r.key))];
      // `all` steps to the end, which ends the read transaction; a statement left on a row would hold
      // it open and keep checkpoints from emptying the write-ahead log.
      await this.statement(`SELECT key, value FROM ${TABLE} WHERE key IN (${placeholders(keys.length, '?')})`)
        .then((statement) => all<{ key: string; value: string }>(statement, keys))
        .then(
          (rows) => {
            const found = new Map(rows.map((row) => [row.key, row.value]));
            for (const r of batch) r.resolve(found.get(r.key));
          },
          (err: unknown) => batch.forEach((r) => r.reject(err)),
        );
    }
  }

  private statement(sql: string): Promise<sqlite3.Statement> {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = new Promise((resolve, reject) => {
        const prepared = this.db.prepare(sql, (err) => (err ? reject(err) : resolve(prepared)));
      });
      // A statement that failed to prepare is tried again when next needed.
      statement.catch(() => this.statements.delete(sql));
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

function likeNamespace(namespace: string | undefined): string {
  return `${namespace ? `${namespace}:` : ''}%`;
}

function placeholders(count: number, each: string): string {
  return Array.from({ length: count }, () => each).join(', ');
}

/** Runs a kept statement; settles with the number of rows it changed. */
function run(statement: sqlite3.Statement, params: unknown[]): Promise<number> {
  return new Promise((resolve, reject) => {
    statement.run(params, function (this: sqlite3.RunResult, err) {
      if (err) failed(statement, err, reject);
      else resolve(this.changes);
    });
  });
}

function all<Row>(statement: sqlite3.Statement, params: unknown[]): Promise<Row[]> {
  return new Promise((resolve, reject) => {
    statement.all<Row>(params, (err, rows) => (err ? failed(statement, err, reject) : resolve(rows)));
  });
}

/**
 * A statement that failed (the file busy, say) stays active until it is reset, and while it is, the
 * connection's transaction stays open: the writes after it would be acknowledged without being committed.
 */
function failed(statement: sqlite3.Statement, err: Error, reject: (err: unknown) => void): void {
  statement.reset(() => reject(err));
}
