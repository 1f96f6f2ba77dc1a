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
// rows), so files written by earlier versions still open. Sets are rows of table `members`, keyed by
// set, score and member: members come in at the time end of their set, not on a page of their own. A
// member given with its owner (store.ts) is also listed in the owner's row (column `places`), which is
// how it is found again to be moved or removed, and deleting the row takes it out of its sets: a chat's
// places cost its record's page, not one random page each. Set sizes are rows of `member_counts`, written
// once per set by each transaction (sqlite-set-sizes.ts).

import Database from 'better-sqlite3';
import { createSetSizes, SetSizes, tally, type SizeChanges } from './sqlite-set-sizes.ts';
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

/** A member's place in a set: the set's name (namespaced), the member, its score. */
type Place = [name: string, member: string, score: number];

/** An owner's places, by set and member, whether they changed since its row was last written, whether it has a row. */
interface OwnerPlaces {
  places: Map<string, Place>;
  changed: boolean;
  exists: boolean;
}

/** What a transaction has touched so far: owners by key (namespaced), and the sizes of the sets it changed. */
interface Touched {
  owners: Map<string, OwnerPlaces>;
  sizes: SizeChanges;
}

const placeKey = (name: string, member: string): string => `${name}\n${member}`;

function placesText(places: Map<string, Place>): string | null {
  return places.size === 0 ? null : JSON.stringify([...places.values()]);
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
  private readonly sizes: SetSizes;
  private readonly transaction: Database.Transaction<(batch: Pending[]) => void>;
  private checkpointer: Checkpointer | undefined;

  private constructor(
    private readonly db: Database.Database,
    private readonly options: EmbeddedSqliteOptions,
  ) {
    const s = (this.statements = prepare(db));
    const sizes = (this.sizes = new SetSizes(db));
    // One transaction: all of the batch is in the file, or (it threw, and rolled back) none of it. It
    // reads owners' places before it writes, so it is begun IMMEDIATE (flush): a deferred one would
    // fail at its first write, without waiting, when a checkpoint restarted the log after that read.
    this.transaction = db.transaction((batch: Pending[]) => {
      const touched: Touched = { owners: new Map(), sizes: new Map() };
      for (const { ops, texts } of batch) for (let i = 0; i < ops.length; i++) this.apply(ops, i, texts[i], touched);
      // Owners whose places changed after their row was written (or with no row written this time).
      for (const [key, owner] of touched.owners) if (owner.changed) s.setPlaces.run(placesText(owner.places), key);
      sizes.write(touched.sizes);
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
      db.exec(`CREATE TABLE IF NOT EXISTS keyv(key VARCHAR(255) PRIMARY KEY, value TEXT, places TEXT)`);
      // A table of keyv's own adapter has no column for the places of its rows yet.
      if (!(db.pragma('table_info(keyv)') as { name: string }[]).some((c) => c.name === 'places'))
        db.exec(`ALTER TABLE keyv ADD COLUMN places TEXT`);
      db.exec(
        `CREATE TABLE IF NOT EXISTS members(name TEXT NOT NULL, score REAL NOT NULL, member TEXT NOT NULL, owner TEXT, PRIMARY KEY (name, score, member)) WITHOUT ROWID`,
      );
      createSetSizes(db);
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
        else this.dropExpired(key, value);
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

  /** Applies `ops[i]`, the later ops of its commit in view. */
  private apply(ops: Op[], i: number, text: string | undefined, touched: Touched): void {
    const op = ops[i];
    const s = this.statements;
    const owners = touched.owners;
    if (op.kind === 'set') {
      const key = this.name(op.key);
      const owner = owners.get(key);
      if (!owner?.changed) s.upsert.run(key, text!);
      else {
        s.upsertWithPlaces.run(key, text!, placesText(owner.places));
        owner.changed = false;
      }
      if (owner) owner.exists = true;
      return;
    }
    if (op.kind === 'delete') {
      const key = this.name(op.key);
      for (const [name, member, score] of this.owner(key, owners).places.values())
        this.removeMember(name, score, member, touched.sizes);
      owners.set(key, { places: new Map(), changed: false, exists: false });
      s.delete.run(key);
      return;
    }
    const name = this.name(op.set);
    const key = placeKey(name, op.member);
    // Where the member is now: listed in its owner's row, or, given without its owner (a repair) or by one
    // with no row, found in its set (with the owner it was added by). An owner whose row this commit
    // writes later (a new session, its members first) lists it from the start: the row is written once.
    let owner = op.owner === undefined ? undefined : this.name(op.owner);
    let listed = owner === undefined ? undefined : this.owner(owner, owners);
    if (!listed?.exists && !(op.kind === 'add' && listed && writesLater(ops, i, op.owner!))) owner = listed = undefined;
    let score = listed?.places.get(key)?.[2];
    if (!listed) {
      const row = s.findMember.get(name, op.member);
      score = row?.score;
      const found = row?.owner ? this.owner(row.owner, owners) : undefined;
      if (found?.exists) [owner, listed] = [row!.owner!, found];
    }
    if (op.kind === 'add' && score === op.score) return;
    if (score !== undefined) this.removeMember(name, score, op.member, touched.sizes);
    if (op.kind === 'add') {
      s.addMember.run(name, op.score, op.member, owner ?? null);
      tally(touched.sizes, name, 1);
      listed?.places.set(key, [name, op.member, op.score]);
    } else listed?.places.delete(key);
    if (listed && (op.kind === 'add' || score !== undefined)) listed.changed = true;
  }

  private removeMember(name: string, score: number, member: string, sizes: SizeChanges): void {
    if (this.statements.removeMember.run(name, score, member).changes > 0) tally(sizes, name, -1);
  }

  /** An owner's places as this transaction has them (read from its row the first time). */
  private owner(key: string, owners: Touched['owners']): OwnerPlaces {
    let owner = owners.get(key);
    if (!owner) {
      const row = this.statements.places.get(key);
      const places = new Map<string, Place>();
      if (row?.places) for (const place of JSON.parse(row.places) as Place[]) places.set(placeKey(place[0], place[1]), place);
      owner = { places, changed: false, exists: row !== undefined };
      owners.set(key, owner);
    }
    return owner;
  }

  /** Removes a row found expired, with its places, unless it was written again meanwhile. */
  private dropExpired(key: string, value: string): void {
    this.db
      .transaction(() => {
        const row = this.statements.placesIfSame.get(key, value);
        if (!row) return;
        const sizes: SizeChanges = new Map();
        if (row.places)
          for (const [name, member, score] of JSON.parse(row.places) as Place[]) this.removeMember(name, score, member, sizes);
        this.statements.deleteIfSame.run(key, value);
        this.sizes.write(sizes);
      })
      .immediate();
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
      this.transaction.immediate(batch);
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
    upsertWithPlaces: db.prepare<[string, string, string | null]>(
      `INSERT INTO keyv (key, value, places) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, places = excluded.places`,
    ),
    places: db.prepare<[string], { places: string | null }>(`SELECT places FROM keyv WHERE key = ?`),
    setPlaces: db.prepare<[string | null, string]>(`UPDATE keyv SET places = ? WHERE key = ?`),
    placesIfSame: db.prepare<[string, string], { places: string | null }>(`SELECT places FROM keyv WHERE key = ? AND value = ?`),
    delete: db.prepare<[string]>(`DELETE FROM keyv WHERE key = ?`),
    deleteIfSame: db.prepare<[string, string]>(`DELETE FROM keyv WHERE key = ? AND value = ?`),
    page: db.prepare<[string, string, number], { key: string; value: string }>(
      `SELECT key, value FROM keyv WHERE key LIKE ? ESCAPE '\\' AND key > ? ORDER BY key LIMIT ?`,
    ),
    addMember: db.prepare<[string, number, string, string | null]>(
      `INSERT INTO members (name, score, member, owner) VALUES (?, ?, ?, ?)`,
    ),
    removeMember: db.prepare<[string, number, string]>(`DELETE FROM members WHERE name = ? AND score = ? AND member = ?`),
    findMember: db.prepare<[string, string], { score: number; owner: string | null }>(
      `SELECT score, owner FROM members WHERE name = ? AND member = ?`,
    ),
    members: db.prepare<[string], { member: string }>(`SELECT member FROM members WHERE name = ? ORDER BY score, member`),
    count: db.prepare<[string], { n: number }>(`SELECT n FROM member_counts WHERE name = ?`),
    upTo: db.prepare<[string, number, number], { member: string }>(
      `SELECT member FROM members WHERE name = ? AND score <= ? ORDER BY score, member LIMIT ?`,
    ),
  };
}

/** Whether an op after `ops[i]` sets `key`. */
function writesLater(ops: Op[], i: number, key: string): boolean {
  for (let k = i + 1; k < ops.length; k++) {
    const op = ops[k];
    if (op.kind === 'set' && op.key === key) return true;
  }
  return false;
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
