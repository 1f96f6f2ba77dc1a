// The worker thread of the WAL checkpointer (wal-checkpointer.ts): its own connection to the SQLite file,
// a PASSIVE checkpoint every interval, and a last one when told to stop.

import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

export interface CheckpointWorkerData {
  file: string;
  intervalMs: number;
  busyTimeoutMs: number;
}

/** What the worker tells its owner: it is ready, or a checkpoint failed. */
export type CheckpointWorkerMessage = { ready: true } | { error: string };

const port = parentPort;
if (!port) throw new Error('wal-checkpoint-worker.ts runs as a worker thread only');
const { file, intervalMs, busyTimeoutMs } = workerData as CheckpointWorkerData;
const db = new Database(file, { timeout: busyTimeoutMs });
const tell = (message: CheckpointWorkerMessage): void => port.postMessage(message);

function checkpoint(): void {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
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
