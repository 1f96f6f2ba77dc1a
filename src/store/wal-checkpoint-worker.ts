// The worker thread of the WAL checkpointer (wal-checkpointer.ts): its own connection to the SQLite file,
// a PASSIVE checkpoint every interval (TRUNCATE once the log is past its size limit), and a last one when
// told to stop.

import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

export interface CheckpointWorkerData {
  file: string;
  intervalMs: number;
  busyTimeoutMs: number;
  /** Past this size the log is emptied and truncated. */
  walLimitBytes: number;
}

/** What the worker tells its owner: it is ready, or a checkpoint failed. */
export type CheckpointWorkerMessage = { ready: true } | { error: string };

const port = parentPort;
if (!port) throw new Error('wal-checkpoint-worker.ts runs as a worker thread only');
const { file, intervalMs, busyTimeoutMs, walLimitBytes } = workerData as CheckpointWorkerData;
const db = new Database(file, { timeout: busyTimeoutMs });
const tell = (message: CheckpointWorkerMessage): void => port.postMessage(message);

function walBytes(): number {
  try {
    return fs.statSync(`${file}-wal`).size;
  } catch {
    return 0;
  }
}

function checkpoint(): void {
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
