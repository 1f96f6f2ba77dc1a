// The worker thread of the WAL checkpointer (wal-checkpointer.ts): its own connection to the SQLite file,
// a PASSIVE checkpoint every interval (TRUNCATE once the log is past its size limit), and a last one when
// told to stop. Plain JavaScript, the same file from src/ as from dist/, so that the thread never needs a
// TypeScript loader (one costs a thread far more CPU at its start than its checkpoints ever do).

import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const port = parentPort;
if (!port) throw new Error('wal-checkpoint-worker.mjs runs as a worker thread only');
/** @type {import('./wal-checkpointer.ts').CheckpointWorkerData} */
const { file, intervalMs, busyTimeoutMs, walLimitBytes } = workerData;
const db = new Database(file, { timeout: busyTimeoutMs });
/** @param {import('./wal-checkpointer.ts').CheckpointWorkerMessage} message */
const tell = (message) => port.postMessage(message);

function walBytes() {
  try {
    return fs.statSync(`${file}-wal`).size;
  } catch {
    return 0;
  }
}

function checkpoint() {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    if (walBytes() > walLimitBytes) db.pragma('wal_checkpoint(TRUNCATE)');
  } catch (err) {
    tell({ error: String(err) });
  }
}

const timer = setInterval(checkpoint, intervalMs);
port.on('message', () => {
  clearInterval(timer);
  checkpoint();
  db.close();
  port.close();
});
tell({ ready: true });
