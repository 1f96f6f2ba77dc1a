// Checkpoints of the embedded SQLite file's write-ahead log, run on a worker thread with a connection of
// its own instead of inside the gateway's commits. SQLite checkpoints when a commit finds the log long
// (every ~1,000 pages): that commit then copies the pages into the file and waits for the disk, and with
// better-sqlite3 it runs on the event loop, so one request in a few hundred held every other for 30 to
// 45 ms (2 kB rows, 7 per commit). Checkpointed here every interval, PASSIVE (never waiting for, nor
// holding up, the gateway's writes), the log is emptied into the file beside the event loop, and the
// next commit after a complete checkpoint starts the log over. Under writes that never pause, no
// passive checkpoint ever finds the log complete, so it would never start over and grow without bound:
// past a size limit the worker empties and truncates it (a TRUNCATE checkpoint, holding writes only for
// the few pages the last passive one had not copied yet).

import { Worker } from 'node:worker_threads';

/** What the worker thread is given. */
export interface CheckpointWorkerData {
  file: string;
  intervalMs: number;
  busyTimeoutMs: number;
  /** Past this size the log is emptied and truncated. */
  walLimitBytes: number;
}

/** What the worker tells its owner: it is ready, or a checkpoint failed. */
export type CheckpointWorkerMessage = { ready: true } | { error: string };

export interface Checkpointer {
  /** Runs a last checkpoint and closes the worker's connection. */
  stop(): Promise<void>;
}

/**
 * The worker module beside this one, plain JavaScript in src/ and dist/ alike. It takes none of the
 * process's flags: a TypeScript loader the process was started with (`--import tsx`: tests, `npm run dev`)
 * would be loaded into the thread again, for a module that needs none.
 */
function startWorker(workerData: CheckpointWorkerData): Worker {
  return new Worker(new URL('./wal-checkpoint-worker.mjs', import.meta.url), { workerData, execArgv: [] });
}

export function startCheckpointer(
  file: string,
  options: { intervalMs: number; busyTimeoutMs: number; walLimitBytes: number; onError: (err: Error) => void },
): Promise<Checkpointer> {
  const worker = startWorker({
    file,
    intervalMs: options.intervalMs,
    busyTimeoutMs: options.busyTimeoutMs,
    walLimitBytes: options.walLimitBytes,
  });
  // A gateway that is done must not be kept alive by its checkpoints.
  worker.unref();
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (message: CheckpointWorkerMessage) => {
      if ('error' in message) return options.onError(new Error(`checkpoint of ${file} failed: ${message.error}`));
      worker.off('error', reject);
      worker.on('error', (err) => options.onError(err));
      resolve({
        stop: async () => {
          // Held now: a process with nothing else left to do would otherwise exit before the worker has.
          worker.ref();
          worker.postMessage('stop');
          await exited;
        },
      });
    });
  });
}
