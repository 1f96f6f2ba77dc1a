// Reads the embedded store's SQLite file directly, beside a running gateway, to see what it really keeps
// (keyv hides expired entries on reads; this does not).

import Database from 'better-sqlite3';

export interface StoredRow {
  key: string;
  value: string;
}

/** Every row the file keeps: values (keyv's JSON rows) and set members (the set's name, and the member as a value). */
export function storedRows(file: string): Promise<StoredRow[]> {
  const db = new Database(file, { readonly: true, timeout: 2000 });
  try {
    const members = "SELECT name AS key, json_object('value', member) AS value FROM members";
    return Promise.resolve(db.prepare<[], StoredRow>(`SELECT key, value FROM keyv UNION ALL ${members}`).all());
  } finally {
    db.close();
  }
}

/** Keys of the rows whose key or value mention `text` (a session id, a chat id). */
export async function rowsMentioning(file: string, text: string): Promise<string[]> {
  return (await storedRows(file)).filter((row) => row.key.includes(text) || row.value.includes(text)).map((row) => row.key);
}

/** Runs SQL on the file through a connection of its own, as another program would; returns that connection. */
export function otherConnection(file: string, busyTimeoutMs = 2000): Database.Database {
  return new Database(file, { timeout: busyTimeoutMs });
}
