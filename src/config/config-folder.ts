// Reading one file of a config folder (services.d, endpoints.d) as only a config file may be read: a
// regular file, inside the folder, of a bounded size. A FIFO or device would block a libuv thread for
// good (pages, reloads and SIGTERM wait behind it); a link out of the folder would let anyone who can
// drop a link there make the gateway read, and report on, any file it may read.
// Links inside the folder are followed: a Kubernetes ConfigMap mount is `x.json -> ..data/x.json`,
// `..data -> ..<timestamp>/`. Refusal reasons never quote the file's content, nor a link's target.

import fs from 'node:fs';
import path from 'node:path';

/** Largest config file read; service and endpoint files are a few kB. */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

/** The file's text; `gone` when it does not exist (or is a link to nothing); else why it is not read. */
export type FolderRead = { ok: true; text: string } | { ok: false; gone: true } | { ok: false; gone: false; reason: string };

// O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer; O_NOFOLLOW: the path
// opened is the one already resolved and checked, never a link swapped in since.
const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW;

function refused(reason: string): FolderRead {
  return { ok: false, gone: false, reason };
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** `file` resolved, if it lies inside `dir` (both resolved, so a folder that is itself a link is fine). */
async function inside(dir: string, file: string): Promise<string | FolderRead> {
  let real: string;
  try {
    real = await fs.promises.realpath(file);
  } catch (err) {
    if (isMissing(err)) return { ok: false, gone: true };
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') return refused('is a link that loops; only regular files are read');
    throw err;
  }
  const realDir = await fs.promises.realpath(dir);
  return real.startsWith(realDir + path.sep)
    ? real
    : refused('is a link to a file outside its folder; only files inside the folder are read');
}

function checkStat(stat: fs.Stats): FolderRead | undefined {
  if (!stat.isFile()) return refused('is not a regular file (a FIFO, socket, device or folder); only regular files are read');
  if (stat.size > MAX_CONFIG_FILE_BYTES) return refused(`is larger than ${MAX_CONFIG_FILE_BYTES} bytes`);
  return undefined;
}

export async function readFolderFile(dir: string, file: string): Promise<FolderRead> {
  const real = await inside(dir, file);
  if (typeof real !== 'string') return real;
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(real, OPEN_FLAGS);
  } catch (err) {
    if (isMissing(err)) return { ok: false, gone: true };
    if ((err as NodeJS.ErrnoException).code === 'ELOOP')
      return refused('was replaced by a link while it was read; it is read again at its next change');
    throw err;
  }
  try {
    const wrong = checkStat(await handle.stat());
    if (wrong) return wrong;
    const buffer = Buffer.alloc(MAX_CONFIG_FILE_BYTES + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      // It grew while it was read.
      if (length > MAX_CONFIG_FILE_BYTES) return refused(`is larger than ${MAX_CONFIG_FILE_BYTES} bytes`);
    }
    return { ok: true, text: buffer.toString('utf8', 0, length) };
  } finally {
    await handle.close();
  }
}

/** The same rules, synchronously (`npm run validate`). */
export function readFolderFileSync(dir: string, file: string): FolderRead {
  let real: string;
  try {
    real = fs.realpathSync(file);
  } catch (err) {
    if (isMissing(err)) return { ok: false, gone: true };
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') return refused('is a link that loops; only regular files are read');
    throw err;
  }
  if (!real.startsWith(fs.realpathSync(dir) + path.sep)) {
    return refused('is a link to a file outside its folder; only files inside the folder are read');
  }
  let fd: number;
  try {
    fd = fs.openSync(real, OPEN_FLAGS);
  } catch (err) {
    if (isMissing(err)) return { ok: false, gone: true };
    throw err;
  }
  try {
    const wrong = checkStat(fs.fstatSync(fd));
    if (wrong) return wrong;
    const buffer = Buffer.alloc(MAX_CONFIG_FILE_BYTES + 1);
    let length = 0;
    for (;;) {
      const bytesRead = fs.readSync(fd, buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > MAX_CONFIG_FILE_BYTES) return refused(`is larger than ${MAX_CONFIG_FILE_BYTES} bytes`);
    }
    return { ok: true, text: buffer.toString('utf8', 0, length) };
  } finally {
    fs.closeSync(fd);
  }
}
