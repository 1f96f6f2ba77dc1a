// Reads the embedded store's SQLite file directly, beside a running gateway, to see what it really keeps
// (keyv hides expired entries on reads; this does not).

import sqlite3 from 'sqlite3';

export interface StoredRow {
  key: string;
  value: string;
}

export async function storedRows(file: string): Promise<StoredRow[]> {
  const db = await new Promise<sqlite3.Database>((resolve, reject) => {
    const opened = new sqlite3.Database(file, sqlite3.OPEN_READONLY, (err) => (err ? reject(err) : resolve(opened)));
  });
  db.configure('busyTimeout', 2000);
  try {
    return await new Promise<StoredRow[]>((resolve, reject) => {
      db.all<StoredRow>('SELECT key, value FROM keyv', (err, rows) => (err ? reject(err) : resolve(rows)));
    });
  } finally {
    await new Promise<void>((resolve) => db.close(() => resolve()));
  }
}

/** Keys of the rows whose key or value mention `text` (a session id, a chat id). */
export async function rowsMentioning(file: string, text: string): Promise<string[]> {
  return (await storedRows(file)).filter((row) => row.key.includes(text) || row.value.includes(text)).map((row) => row.key);
}
