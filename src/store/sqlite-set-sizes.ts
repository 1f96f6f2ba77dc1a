// The size of each set of the embedded store, kept in table `member_counts` so that counting a queue is
// one row read whatever its length. A transaction tallies the members it adds and removes, set by set,
// and writes each set's new size once at its end: one row write per set changed, not one per member.

import type Database from 'better-sqlite3';

/** Members added (positive) or removed (negative) by one transaction, by set name (namespaced). */
export type SizeChanges = Map<string, number>;

export function tally(changes: SizeChanges, name: string, by: number): void {
  changes.set(name, (changes.get(name) ?? 0) + by);
}

/** The table of set sizes, in a file being opened. */
export function createSetSizes(db: Database.Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS member_counts(name TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID`);
  // Files written by earlier versions kept the sizes by triggers, a row write per member: now counted here.
  db.exec(`DROP TRIGGER IF EXISTS member_added`);
  db.exec(`DROP TRIGGER IF EXISTS member_removed`);
}

export class SetSizes {
  private readonly grow: Database.Statement<[string, number]>;
  private readonly dropEmpty: Database.Statement<[string]>;

  constructor(db: Database.Database) {
    this.grow = db.prepare(
      `INSERT INTO member_counts (name, n) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET n = n + excluded.n`,
    );
    this.dropEmpty = db.prepare(`DELETE FROM member_counts WHERE name = ? AND n <= 0`);
  }

  /** Writes a transaction's changes, inside it; a set left empty has no row. */
  write(changes: SizeChanges): void {
    for (const [name, by] of changes) {
      if (by === 0) continue;
      this.grow.run(name, by);
      if (by < 0) this.dropEmpty.run(name);
    }
  }
}
