// The adapter for the embedded SQLite file, with the two costs that grew with load taken out.
// Writes: group commit. Writes that arrive while one is being written go to the file together, as one
// multi-row upsert (one statement, so one transaction), instead of one statement each. Each statement
// costs the event loop far more than its rows do, so under load this is most of a write's cost saved.
// A caller's promise settles only once the statement holding its row has committed: an acknowledged
// write is exactly as durable as before.
// Scans (the expiry sweep reads every key): paged by key instead of by OFFSET, so a pass over n rows
// costs n row reads rather than n²/page, and rows deleted during the pass cannot make it skip others.

import KeyvSqlite from '@keyv/sqlite';

/** Most rows in one statement: two bound values each, well under SQLite's limit of 32,766. */
const MAX_ROWS = 200;

type Write =
  | { kind: 'set'; key: string; value: string; resolve: () => void; reject: (err: unknown) => void }
  | { kind: 'delete'; key: string; resolve: (existed: boolean) => void; reject: (err: unknown) => void };

export class EmbeddedSqlite extends KeyvSqlite {
  /** Writes in arrival order; the one being written has already left the queue. */
  private readonly queue: Write[] = [];
  private writing = false;

  override set(key: string, value: string): Promise<void> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'set', key, value, resolve, reject }));
  }

  // Deletes join the same queue so that a set and a later delete of one key reach the file in order.
  override delete(key: string): Promise<boolean> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'delete', key, resolve, reject }));
  }

  override async *iterator(namespace?: string): AsyncGenerator<[string, string], void> {
    const pageSize = Number.parseInt(String(this.opts.iterationLimit), 10) || 10;
    const pattern = `${namespace ? `${namespace}:` : ''}%`;
    const select = `SELECT key, value FROM ${String(this.opts.table)} WHERE key LIKE ? AND key > ? ORDER BY key LIMIT ?`;
    for (let after = ''; ; ) {
      const rows = (await this.query(select, pattern, after, pageSize)) as { key: string; value: string }[];
      for (const row of rows) yield [row.key, row.value];
      if (rows.length < pageSize) return;
      after = rows[rows.length - 1]!.key;
    }
  }

  private enqueue(write: Write): void {
    this.queue.push(write);
    // An idle file is written at once (no added latency); a busy one gathers the next batch meanwhile.
    if (!this.writing) void this.drain();
  }

  private async drain(): Promise<void> {
    this.writing = true;
    while (this.queue.length > 0) {
      const first = this.queue[0]!;
      if (first.kind === 'delete') {
        this.queue.shift();
        await super.delete(first.key).then(first.resolve, first.reject);
        continue;
      }
      let rows = 1;
      while (rows < MAX_ROWS && rows < this.queue.length && this.queue[rows]!.kind === 'set') rows++;
      const batch = this.queue.splice(0, rows) as Extract<Write, { kind: 'set' }>[];
      // Rows are applied in order, so of two writes of one key in a batch the later one stays.
      const sql =
        `INSERT INTO ${String(this.opts.table)} (key, value) VALUES ${batch.map(() => '(?, ?)').join(', ')} ` +
        'ON CONFLICT(key) DO UPDATE SET value=excluded.value';
      await this.query(sql, ...batch.flatMap((w) => [w.key, w.value])).then(
        () => batch.forEach((w) => w.resolve()),
        (err: unknown) => batch.forEach((w) => w.reject(err)),
      );
    }
    this.writing = false;
  }
}
